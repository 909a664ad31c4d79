"""Time of ``ps.conservation_laws`` against the number of parameters (issue: discovery at scale).

A two-layer ReLU MLP ``d → r → m`` (no bias) with ``N`` inputs, ``N·m ≈ 1.2 n``: its count is ``r``
(one law per hidden neuron) at every size, so each row also checks the answer. Sizes grow from
``n ≈ 10²`` until one run would exceed the budget (the next size is estimated from the last two
rows with the measured exponent). Writes ``benchmarks/results/discovery.json`` and
``benchmarks/DISCOVERY.md``.

Usage: ``python benchmarks/discovery.py [--budget 300] [--threads K] [--note "contended"]``
(``--threads`` sets ``OPENBLAS_NUM_THREADS`` before NumPy loads: on a machine shared with other
jobs, one BLAS thread avoids oversubscription; the default leaves OpenBLAS to use every core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

PARSER = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
PARSER.add_argument("--budget", type=float, default=300.0, help="largest time of one run, seconds")
PARSER.add_argument("--threads", type=int, default=None, help="OpenBLAS threads (default: all cores)")
PARSER.add_argument("--note", default="", help="conditions of the run, printed under the table")
PARSER.add_argument("--out", default=str(Path(__file__).parent), help="benchmarks folder")
ARGS = PARSER.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
if ARGS.threads:
    os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from pyspec.discovery import conservation_laws  # noqa: E402

SIZES = [(5, 10, 5), (10, 20, 10), (20, 40, 10), (25, 80, 20), (40, 100, 20), (50, 100, 50), (60, 140, 40),
         (100, 160, 25)]
"""(d, r, m) with n = r(d + m): 100, 400, 1200, 3600, 6000, 10000, 14000, 20000 (about 3 n² · 8 bytes of
memory at the peak: 11 GB at n = 20000)."""


def mlp(p, x, *, xp):
    return p["W2"] @ xp.relu(p["W1"] @ x)


def run_one(d: int, r: int, m: int) -> dict:
    rng = np.random.default_rng(0)
    theta = {"W1": rng.standard_normal((r, d)) / np.sqrt(d), "W2": rng.standard_normal((m, r)) / np.sqrt(r)}
    n = r * (d + m)
    inputs = rng.standard_normal((int(1.2 * n / m) + 5, d))
    start = time.perf_counter()
    result = conservation_laws(mlp, theta, inputs, precision=None)
    seconds = time.perf_counter() - start
    return {"d": d, "r": r, "m": m, "n": n, "inputs": int(inputs.shape[0]), "count": result.count,
            "expected": r, "ok": result.count == r, "gap": result.gap, "depth": result.depth,
            "failure_probability": result.failure_probability, "seconds": round(seconds, 2)}


def main() -> None:
    args = ARGS
    rows: list[dict] = []
    for d, r, m in SIZES:
        n = r * (d + m)
        if len(rows) >= 2:
            (n0, t0), (n1, t1) = [(x["n"], x["seconds"]) for x in rows[-2:]]
            exponent = np.log(t1 / t0) / np.log(n1 / n0) if t1 > t0 > 0 else 3.0
            if t1 * (n / n1) ** exponent > args.budget:
                break
        rows.append(run_one(d, r, m))
        print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
               "jax": jax.__version__, "numpy": np.__version__,
               "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "all cores"), "note": args.note}
    (out / "results" / "discovery.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")
    lines = [
        "# Discovery: time of `ps.conservation_laws` against n",
        "",
        "Two-layer ReLU MLP `d → r → m` without bias, `N` inputs with `N·m ≈ 1.2 n`; the count must be `r`.",
        f"Machine: {machine['cpus']} CPU cores ({machine['machine']}), JAX {machine['jax']}, NumPy {machine['numpy']}, "
        f"float64, OpenBLAS threads: {machine['blas_threads']}. Regenerate with `python benchmarks/discovery.py`.",
        *([f"Conditions: {args.note}."] if args.note else []),
        "",
        "| n | d → r → m | inputs | count (expected) | gap | depth | failure prob. | seconds |",
        "|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    for x in rows:
        lines.append(f"| {x['n']} | {x['d']} → {x['r']} → {x['m']} | {x['inputs']} | {x['count']} ({x['expected']}) "
                     f"| {x['gap']:.1e} | {x['depth']} | {x['failure_probability']:.0e} | {x['seconds']} |"
                     .replace("| 0e+00 |", "| 0 |"))
    lines += ["", "Cost, for `N·m ≤ 2n` rows: the per-input Jacobians (one jitted program per chunk of inputs, "
              "`O(Mn)`), one LU with partial pivoting of the `M × n` Jacobian (`n²(M − n/3)` flops, which "
              "dominates from n ≈ 3000; Householder QR only if the LU's growth exceeds 1e3), two steps of "
              "inverse subspace iteration through its triangular factors for the null space, checked against "
              "`J` itself, then `r + 10` random brackets of depth 2 (each a few Hessian-vector products). "
              "Failure probability: the randomized null space misses a null direction with probability at "
              "most `6·10⁻¹⁰` (Gaussian start with 10 extra vectors, Halko–Martinsson–Tropp 2011 Thm. 10.8); "
              "a Gaussian row sketch (only when `N·m > 2n`) adds the same bound."]
    (out / "DISCOVERY.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
