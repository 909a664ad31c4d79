"""Per-model cost of evaluating each claim's Lean statements (pyspec.formal), float64 on dual numbers
(the test backend) and, with ``--jax``, JAX float64 op by op (the backend before): mean seconds per
model over ``--models`` models after one warm-up model, negative control included.

Usage: python benchmarks/formal_per_model.py [--models 20] [--jax] [claim ...]
"""

from __future__ import annotations

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

from pyspec.backends import get_backend  # noqa: E402
from pyspec.formal import check  # noqa: E402
from pyspec.formal.registry import FORMAL, formal_claim  # noqa: E402


def per_model(claim: str, models: int) -> float:
    entry = formal_claim(claim)
    drawn = check.draw_models(entry, models + 1)
    check.evaluate_claim(entry, drawn[0])
    start = time.perf_counter()
    for model in drawn[1:]:
        check.evaluate_claim(entry, model)
    return (time.perf_counter() - start) / max(len(drawn) - 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("claims", nargs="*")
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--jax", action="store_true", help="also time JAX float64 op by op")
    args = parser.parse_args()
    print("| claim | order | dual float64 (s/model) |" + (" JAX op by op (s/model) |" if args.jax else ""))
    print("|---|---|---|" + ("---|" if args.jax else ""))
    for claim in args.claims or [e.claim for e in FORMAL]:
        dual = per_model(claim, args.models)
        row = f"| {claim} | {formal_claim(claim).order} | {dual:.3f} |"
        if args.jax:
            original = check.formal_backend
            check.formal_backend = lambda p=None: get_backend(p, jit=False)  # type: ignore[assignment]
            try:
                row += f" {per_model(claim, args.models):.3f} |"
            finally:
                check.formal_backend = original  # type: ignore[assignment]
        print(row, flush=True)


if __name__ == "__main__":
    main()
