#!/usr/bin/env bash
# Build the Lean formalization when a Lean toolchain is available; say so loudly when it is not.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v lake >/dev/null 2>&1; then
  echo "== lake found: $(lake --version)"
  lake exe cache get
  lake build 2>&1 | tee lake-build.log
  echo "== lake build succeeded (log: lake-build.log)"
else
  cat <<'MSG'
==============================================================================
  LEAN PROOFS NOT COMPILED: `lake` is not on PATH on this machine.
  The Lean sources under lean/ were NOT checked by Lean's kernel in this run.
  To check them: install elan, then `lake exe cache get && lake build`
  (see README.md, section "Lean").
==============================================================================
MSG
fi
