#!/usr/bin/env bash
# Non-blank lines between the "--- the check" and "--- end" markers: before (this folder) and after
# (examples/). Run from the repository root.
set -euo pipefail
count() { sed -n '/--- the check/,/--- end/p' "$1" | grep -v -- '---' | grep -cv '^\s*$'; }
for name in equinox_mlp flax_nnx_mlp; do
  echo "$name: before $(count benchmarks/frameworks_before/$name.py) lines, after $(count examples/$name.py) lines"
done
