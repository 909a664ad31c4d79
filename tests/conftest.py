"""Test configuration: float64 JAX and the Hypothesis profiles ``ci`` (default) and ``dev``."""

from __future__ import annotations

import os

import jax
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)
# Tests compile the same small programs in many places (catalog entries, the JAX samples of the
# properties, the operations of each new closure, identical programs of different closures); XLA's
# on-disk cache serves them within a worker (without it `make test` took 27 min instead of ~18). One
# directory per xdist worker: with a shared one, a worker once died of a segmentation fault while
# reading an entry, and the cache writes entries without a lock (the other worker may have been
# writing it). Sharing measured no faster (90.7 s against 85.6 s for tests/test_strategies.py) and
# the cache's file lock (jax_compilation_cache_max_size) 2.4x slower.
jax.config.update("jax_compilation_cache_dir", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "jax",
                                                          os.environ.get("PYTEST_XDIST_WORKER", "main")))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

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
"""Examples per strategy checked by JAX as well and compared with the dual numbers (~3 s an example op
by op: a new model compiles its operations again)."""
