"""Fast XLA compilation for short-lived, compile-bound runs (``pyspec verify``, ``pyspec claims``, the tests).

A check compiles many small programs and runs each a few times, so XLA's backend (LLVM) optimisation
dominates its wall time. ``--xla_backend_optimization_level=0`` skips that optimisation; the programs are
the same, only their machine code is less tuned. Measured on 2 CPU cores (JAX 0.10.2):

- three compile-bound test files (sketch, matrix-free, symmetries; 94 tests): 393 s → 207 s;
- ``pyspec verify`` on the float64 catalog: 54.8 s → 40.2 s, all 127 rows' verdicts, ``holds`` and
  negative-control flags identical (residuals differ at the rounding level).

Results change only by rounding (no fast-math licence is involved): over the catalog, every quantity
of Theorem 1/2 compiled at level 0 is within 2.1 ulps of its scale of eager evaluation at the default
level, and within 16 ulps of the program compiled at the default level (both are tested:
``tests/test_compiled_equals_eager.py``).

Benchmarks (``pyspec bench``) keep XLA's default level: they measure the arithmetic of long runs.
"""

from __future__ import annotations

import os

__all__ = ["FAST_COMPILE_FLAG", "prefer_fast_compilation"]

FAST_COMPILE_FLAG = "--xla_backend_optimization_level=0"
"""The XLA flag that skips backend (LLVM) optimisation of compiled programs."""


def prefer_fast_compilation() -> bool:
    """Add :data:`FAST_COMPILE_FLAG` to ``XLA_FLAGS`` unless the user already chose a level.

    Call it before JAX creates its backend (its first computation): XLA reads ``XLA_FLAGS`` once.
    Processes started afterwards inherit it. Returns whether the flag was added.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" in flags:
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {FAST_COMPILE_FLAG}".strip()
    return True
