#!/usr/bin/env bash
# The whole test run: Lean build (when lake exists), then pytest with the `ci` Hypothesis profile on
# two worker processes (pytest-xdist; this machine size has 2 cores).
# Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/lean.sh
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
exec .venv/bin/python -m pytest -n 2 "$@"
