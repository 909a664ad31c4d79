#!/usr/bin/env bash
# Regenerates the matrix-free tables of benchmarks/RESULTS.md (`pyspec bench`, one subprocess per
# measurement). Usage: bash benchmarks/matrix_free.sh LABEL OUTDIR [PYTHON]
#   LABEL cpu: n = 1e4..1e7 with the dense path at 1e4, batch 32; then batch 512 at 1e6, 1e7.
#   LABEL gpu: n = 1e5..1e7, batch 32; then batch 512 at 1e7 (fits one 10-minute device call).
# Each configuration writes OUTDIR/LABEL_batchB/{RESULTS.md,results.json}.
set -euo pipefail
label=$1
out=$2
py=${3:-.venv/bin/python}
export PYTHONUNBUFFERED=1
if [ "$label" = gpu ]; then
  export XLA_PYTHON_CLIENT_PREALLOCATE=false  # the allocator's peak is then the program's own
  timeout 330 "$py" -m pyspec bench --sizes 1e5,1e6,1e7 --dense-limit 0 --out "$out/gpu_batch32" || echo "exit $?"
  timeout 150 "$py" -m pyspec bench --sizes 1e7 --batch 512 --dense-limit 0 --out "$out/gpu_batch512" || echo "exit $?"
else
  "$py" -m pyspec bench --sizes 1e4,1e5,1e6,1e7 --out "$out/${label}_batch32"
  "$py" -m pyspec bench --sizes 1e6,1e7 --batch 512 --dense-limit 0 --out "$out/${label}_batch512"
fi
