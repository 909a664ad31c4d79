"""Test configuration: float64 JAX and the Hypothesis profiles ``ci`` (default) and ``dev``."""

from __future__ import annotations

import os

import jax
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)
# Tests compile the same small programs in many places (catalog entries, strategies' shapes); XLA's
# on-disk cache shares those compilations between the test modules and the two xdist workers.
jax.config.update("jax_compilation_cache_dir", os.path.join(os.path.dirname(__file__), "..", ".pytest_cache", "jax"))
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

SLOW_EXAMPLES = 200 if os.environ.get("PYSPEC_FULL") == "1" else 50
"""Examples of the properties marked ``slow`` (each example runs Theorem 1 twice, ~0.3 s): 50 in the
default run (``make test``, kept under 10 minutes on 2 cores), 200 with ``make test-full``."""
