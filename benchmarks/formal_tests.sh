#!/usr/bin/env bash
# Cost of the Lean-statement tests (tests/test_formal.py: property tests, 50-digit evaluation, agreement
# with pyspec, mutation gate) as `make test` runs them: single process, then two xdist workers.
# Usage: bash benchmarks/formal_tests.sh [python]   (make test: 200 / 50 float64 models per first-order / Hessian
# claim, 2 at 50 digits; PYSPEC_FULL=1: 1000 / 250 and 10)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
export HYPOTHESIS_PROFILE=ci PYTHONPATH="$PWD"
for workers in 0 2; do
  start=$(date +%s.%N)
  if [ "$workers" = 0 ]; then "$PY" -m pytest tests/test_formal.py -q -p no:cacheprovider >/dev/null
  else "$PY" -m pytest tests/test_formal.py -q -p no:cacheprovider -n "$workers" >/dev/null; fi
  end=$(date +%s.%N)
  printf "tests/test_formal.py, %s: %.0f s wall\n" "$([ "$workers" = 0 ] && echo 'single process' || echo "$workers workers")" \
    "$(echo "$end - $start" | bc)"
done
