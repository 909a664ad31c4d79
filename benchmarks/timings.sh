#!/usr/bin/env bash
# Wall-clock time of the README's long commands (`make verify`'s job and `pyspec figures`), printed as
# a Markdown table with the machine's load, so the README's "~N min" can be refreshed on a quiet machine:
#   bash benchmarks/timings.sh            # uses .venv (run `make verify` once first to create it)
#   PYTHON=python bash benchmarks/timings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
out="$(mktemp -d)"
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
run() {  # run NAME COMMAND...: time one command, keep its output under $out
    local name="$1"; shift
    local before; before="$(load)"
    local start; start="$(date +%s.%N)"
    "$@" > "$out/$name.out" 2> "$out/$name.err"
    local end; end="$(date +%s.%N)"
    printf '| `%s` | %s | %s | %s |\n' "$*" "$("$PY" -c "print(round($end - $start))")" "$before" "$(load)"
}
echo "Machine: $(nproc) CPU cores, $(uname -m), Python $("$PY" -c 'import platform; print(platform.python_version())')"
echo
echo "| command | wall (s) | load before | load after |"
echo "|---|---:|---:|---:|"
run verify "$PY" -m pyspec verify --precision 50
run figures "$PY" -m pyspec figures --out "$out/figures"
echo
echo "Outputs: $out"
