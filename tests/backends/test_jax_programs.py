"""Compiled programs of the JAX backend (pyspec.backends.jax_backend.ahead_of_time): a packed
program's small floating-point results come back in one host array, unchanged; ``accepts_xp`` is remembered per
code object; ``xp.asarray`` copies a caller's NumPy array."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyspec.backends.base import accepts_xp
from pyspec.backends.jax_backend import PACKED_MAX, JaxBackend, ahead_of_time, compile_options


def _results(x):
    return {"matrix": jnp.outer(x, x), "scalar": jnp.sum(jnp.sin(x)), "flag": jnp.all(x > 0),
            "count": jnp.sum(x > 0), "pair": (jnp.cos(x), jnp.exp(x[:2])), "constant": 0.25}


def test_small_results_come_back_packed_and_unchanged() -> None:
    """The packed program returns the tree of the plain ``jax.jit`` one, entry for entry: floating
    results as NumPy arrays of their shapes (bit for bit), other dtypes as they were. No two results
    share a value, so a segment read at the wrong offset or in the wrong shape would be seen."""
    x = np.linspace(-1.0, 2.0, 7)
    packed, plain = ahead_of_time(_results, compile_options(), pack=True)(x), jax.jit(_results)(x)
    assert jax.tree_util.tree_structure(packed) == jax.tree_util.tree_structure(plain)
    for got, want in zip(jax.tree_util.tree_leaves(packed), jax.tree_util.tree_leaves(plain)):
        assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
        assert np.array_equal(np.asarray(got), np.asarray(want))
    assert isinstance(packed["matrix"], np.ndarray) and isinstance(packed["pair"][1], np.ndarray)
    assert isinstance(packed["flag"], jax.Array)
    unpacked = ahead_of_time(_results, compile_options())(x)  # the default: results as compiled
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree_util.tree_leaves(unpacked))


def test_large_results_stay_device_arrays() -> None:
    x = np.ones(PACKED_MAX)
    out = ahead_of_time(lambda t: (t * 2.0, t + 1.0), compile_options(), pack=True)(x)
    assert all(isinstance(o, jax.Array) for o in out)
    assert np.array_equal(np.asarray(out[0]), 2.0 * x)


def test_accepts_xp_is_read_per_code_object() -> None:
    """Closures made at one definition site share an answer; a wrapper with ``__wrapped__`` or a
    ``partial`` is read from its signature each time."""
    def make(neutral):
        return (lambda y, *, xp: y) if neutral else (lambda y: y)

    assert accepts_xp(make(True)) and accepts_xp(make(True))
    assert not accepts_xp(make(False))
    assert accepts_xp(lambda y, **kw: y)

    @functools.wraps(make(True))
    def wrapper(y):
        return y

    assert accepts_xp(wrapper)  # read from the signature: inspect follows __wrapped__
    assert not accepts_xp(functools.partial(lambda y, z: y, z=1))


def test_asarray_copies_the_callers_array() -> None:
    theta = np.ones(64)
    moved = JaxBackend().xp.asarray(theta)
    theta[0] = 5.0
    assert float(moved[0]) == 1.0
    assert JaxBackend().xp.asarray(np.arange(3)).dtype == jnp.float64


@pytest.mark.parametrize("n", [1, 3])
def test_a_single_result_is_returned_as_compiled(n: int) -> None:
    out = ahead_of_time(lambda t: jnp.sum(t), compile_options(), pack=True)(np.ones(n))
    assert float(out) == n
