"""Benchmark: seconds per Theorem 1 check at 50 digits, mpmath and certified (Arb balls,
``certify=True``), beside JAX float64, n = 10, 30, 100.

Model: the last-layer equivariance ``f(W, Φ) = W tanh(ΦX)``, ``T(A, θ) = (AW, Φ)``, ``S(A, Y) = AY``
(``k = m² = 4``), whose check has non-zero green and plain terms and both forms of item 2.
Run on one core: ``taskset -c 0 .venv/bin/python benchmarks/high_precision.py --out benchmarks/HIGH_PRECISION.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import numpy as np

import flint
import jax

import pyspec as ps
from pyspec.catalog.continuous import last_layer_parts
from pyspec.catalog.losses import softmax_cross_entropy

M, N_SAMPLES, D0 = 2, 3, 3


def last_layer_model(n_target: int, seed: int = 0) -> tuple[ps.Equivariance, Any, np.ndarray, np.ndarray, int]:
    """``W tanh(ΦX)`` with hidden width ``d`` chosen so that ``n = M·d + d·D0`` is close to ``n_target``."""
    d = max(1, round(n_target / (M + D0)))
    rng = np.random.default_rng(seed)
    _, model, T, S = last_layer_parts(rng.standard_normal((D0, N_SAMPLES)), M, d)
    n = M * d + d * D0
    eq = ps.Equivariance(model=model, T=T, S=S, name=f"last_layer_n{n}")
    A = np.eye(M) + 0.2 * rng.standard_normal((M, M))
    theta = rng.standard_normal(n) / np.sqrt(d)
    return eq, softmax_cross_entropy(rng.integers(0, M, N_SAMPLES), M), A, theta, n


def timed(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,30,100")
    parser.add_argument("--digits", type=int, default=50)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    rows = []
    for n_target in (int(s) for s in args.sizes.split(",")):
        eq, loss, A, theta, n = last_layer_model(n_target)
        start = time.perf_counter()
        report = ps.theorem1(eq, loss, A, theta)
        first64 = time.perf_counter() - start
        warm64 = timed(lambda: ps.theorem1(eq, loss, A, theta, jit=False), 3)
        hp = None

        def run_hp() -> None:
            nonlocal hp
            hp = ps.theorem1(eq, loss, A, theta, precision=args.digits)

        t_hp = timed(run_hp, 1)
        certified = None

        def run_certified() -> None:
            nonlocal certified
            certified = ps.theorem1(eq, loss, A, theta, precision=args.digits, certify=True)

        t_cert = timed(run_certified, 1)
        assert report.holds and hp is not None and hp.holds and certified is not None and certified.holds
        bound = max(c.residual_bound for c in certified.checks)
        rows.append((n, first64, warm64, t_hp, t_cert, max(c.residual for c in report.checks),
                     max(c.residual for c in hp.checks), bound))
        print(f"n={n:4d}  float64 first call {first64:6.2f} s (incl. XLA compile), warm {warm64:6.3f} s;  "
              f"{args.digits} digits {t_hp:6.2f} s, certified {t_cert:6.2f} s (ratio {t_cert / t_hp:.2f});  "
              f"residuals {rows[-1][5]:.1e} / {rows[-1][6]:.1e}, certified bound {bound:.1e}", flush=True)
    table = [
        f"# High-precision benchmark: one Theorem 1 check (k = {M * M}, m = {M * N_SAMPLES})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"jax {jax.__version__}; mpmath with gmpy2; python-flint {flint.__version__} (Arb); one process pinned to "
        "one core (`taskset -c 0`).",
        f"Command: `taskset -c 0 .venv/bin/python benchmarks/high_precision.py --sizes {args.sizes} --digits {args.digits}`.",
        "Best of 3 for the warm float64 time, one run at high precision; the check includes the hypothesis",
        "checks (equivariance at 4 points, condition numbers) and both forms of item 2. *Certified*: the same",
        "check in ball arithmetic (`certify=True`), with a rigorous bound on every residual; *ratio* is",
        "certified / mpmath time (target at n = 100: at most 1.5).",
        "",
        f"| n | float64, first call (s, incl. compile) | float64, warm (s, eager) | {args.digits} digits, mpmath (s) "
        f"| {args.digits} digits, certified (s) | ratio | worst float64 residual | worst {args.digits}-digit residual "
        "| worst certified bound |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    table += [f"| {n} | {a:.2f} | {b:.3f} | {c:.2f} | {d:.2f} | {d / c:.2f} | {r1:.1e} | {r2:.1e} | {r3:.1e} |"
              for n, a, b, c, d, r1, r2, r3 in rows]
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
