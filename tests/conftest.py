"""Test configuration: float64 JAX and the Hypothesis profiles ``ci`` (default) and ``dev``."""

from __future__ import annotations

import os

from pyspec.backends.xla_flags import prefer_fast_compilation

# The suite is compile-bound (thousands of small programs, each run a few times): skipping XLA's backend
# optimisation halves the time of its compile-heavy files (pyspec/backends/xla_flags.py). Set before JAX
# creates its backend; the user's own XLA_FLAGS level wins.
prefer_fast_compilation()

import jax  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

jax.config.update("jax_enable_x64", True)
# No persistent (on-disk) XLA compilation cache, although it made `make test` ~1.5x faster: on this
# JAX (0.10.2, CPU) it crashed an xdist worker with a segmentation fault twice in test_sketch.py, once
# reading an entry (shared directory) and once writing one (one directory per worker), the class of
# crash of jax-ml/jax#28908. A test run that dies is worse than a slower one.

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PROPERTY_EXAMPLES = 1000 if os.environ.get("PYSPEC_FULL") == "1" else 200
"""Examples of each Theorem 1/2 property on random models (``tests/test_strategies.py``, float64 dual
numbers, ~20–50 ms an example with its negative control): 200 in the default run (``make test``),
1000 with ``make test-full``."""

AGREEMENT_EXAMPLES = 20 if os.environ.get("PYSPEC_FULL") == "1" else 3
"""Examples per strategy checked by JAX as well (compiled, the default path) and compared with the dual
numbers (~3 s an example with its control: a new model compiles its programs again)."""
