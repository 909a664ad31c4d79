#!/usr/bin/env bash
# Regenerates the sketched-check table of benchmarks/RESULTS.md (`pyspec bench --suite sketch`: grad, HVP,
# exact and sketched Theorem 1 for k = 4, 64, 256 at n = 1e6, 1e7; one subprocess per measurement).
# Usage: bash benchmarks/sketch.sh OUTDIR [PYTHON] [REPEATS]   (about 15 minutes on 2 CPU cores, REPEATS=1)
set -euo pipefail
out=$1
py=${2:-.venv/bin/python}
repeats=${3:-1}
export PYTHONUNBUFFERED=1
"$py" -m pyspec bench --suite sketch --sizes 1e6,1e7 --repeats "$repeats" --out "$out"
