"""Fast XLA compilation for short-lived, compile-bound runs (``pyspec verify``, ``pyspec claims``, the tests).

A check compiles many small programs and runs each a few times (eager evaluation compiles every
operation once per shape), so XLA's compilation dominates its wall time. Three XLA:CPU flags cut it; the
programs are the same, only their machine code is less tuned:

- ``--xla_backend_optimization_level=0`` skips backend (LLVM) optimisation. Three compile-bound test
  files (sketch, matrix-free, symmetries; 94 tests): 393 s → 207 s; ``pyspec verify`` on the float64
  catalog: 54.8 s → 40.2 s, all 127 rows' verdicts, ``holds`` and control flags identical.
- ``--xla_cpu_use_fusion_emitters=false`` emits fusions with XLA's LLVM IR emitters instead of the
  MLIR fusion emitters, whose pipeline costs ~12 ms a compilation even for one elementwise operation
  (21 → 9 ms a trivial eager operation, 47 → 25 ms a small Hessian; with the first flag). The checks'
  own compiled programs use these emitters already (:data:`pyspec.backends.jax_backend.CPU_COPY_EMITTERS`);
  the flag extends them to eager operations and other programs. ``test_formal.py`` and
  ``test_sketch.py`` (220 tests): 266 s → 214 s.
- ``--xla_cpu_parallel_codegen_split_count=1`` compiles each program's LLVM module whole, on the
  calling thread. By default XLA:CPU splits it into up to 32 parts, writes each as bitcode and compiles
  them on a thread pool: on a busy core (one compiling process per core, as here) that is pure overhead.
  With the two flags above, XLA's backend compile time of 8 Theorem 1 checks of new models on one core:
  3.18 → 2.46 s; ``test_symmetries.py`` and ``test_sketch.py`` (48 tests, 2 workers): 156 → 137 s.
  At level 0 the machine code is the same, only scheduled differently; at a level the user chooses,
  one whole module can only give LLVM more to inline across (tested against the defaults below).

Results change only by rounding (no fast-math licence is involved): over the catalog, every quantity
of Theorem 1/2 compiled with these flags is within a few ulps of its scale of eager evaluation and of the
program compiled with XLA's defaults (both are tested: ``tests/test_compiled_equals_eager.py``).
Elementwise functions keep their accuracy: tanh ≤ 5 ulps (6 at the defaults), exp, expm1 and sinh
unchanged, against 40-digit mpmath.

Benchmarks (``pyspec bench``) keep XLA's defaults: they measure the arithmetic of long runs.
"""

from __future__ import annotations

import os

__all__ = ["FAST_COMPILE_FLAGS", "prefer_fast_compilation"]

FAST_COMPILE_FLAGS = (
    "--xla_backend_optimization_level=0",
    "--xla_cpu_use_fusion_emitters=false",
    "--xla_cpu_parallel_codegen_split_count=1",
)
"""The XLA flags of fast compilation: no backend (LLVM) optimisation, LLVM IR fusion emitters, one
code-generation part per program."""


def _option(flag: str) -> str:
    return flag.removeprefix("--").split("=", 1)[0]


def prefer_fast_compilation() -> tuple[str, ...]:
    """Add each of :data:`FAST_COMPILE_FLAGS` to ``XLA_FLAGS`` unless the user already set its option.

    Call it before JAX creates its backend (its first computation): XLA reads ``XLA_FLAGS`` once.
    Processes started afterwards inherit it. Returns the flags that were added.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    added = tuple(flag for flag in FAST_COMPILE_FLAGS if _option(flag) not in flags)
    if added:
        os.environ["XLA_FLAGS"] = " ".join((flags, *added)).strip()
    return added
