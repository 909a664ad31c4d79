"""Backend selection and the JAX float64 backend (pyspec.backends)."""

from __future__ import annotations

import numpy as np
import pytest

from pyspec.backends import NAMESPACE_FUNCTIONS, Backend, get_backend
from pyspec.backends.jax_backend import JaxBackend


@pytest.mark.parametrize("bad", [10, 19, 2.5, "50", True])
def test_invalid_precision_is_rejected(bad) -> None:
    with pytest.raises(ValueError, match="precision"):
        get_backend(bad)


@pytest.mark.parametrize("precision", [None, 20, 60])
def test_backends_implement_the_protocol(precision) -> None:
    backend = get_backend(precision)
    assert isinstance(backend, Backend)
    for name in NAMESPACE_FUNCTIONS:
        assert callable(getattr(backend.xp, name)), name
    expected = 2.0**-53 if precision is None else 10.0**-precision
    assert backend.eps == pytest.approx(expected)


@pytest.mark.parametrize("jit", [True, False])
def test_jax_jvp_and_jacobian(jit) -> None:
    backend = JaxBackend(jit=jit)
    A = np.arange(6.0).reshape(2, 3)

    def fun(x):
        return backend.xp.tanh(A @ x)

    x = np.array([0.1, -0.2, 0.3])
    jac = np.asarray(backend.compile(lambda u: backend.jacobian(fun, u))(x))
    expected = (1 - np.tanh(A @ x) ** 2)[:, None] * A
    np.testing.assert_allclose(jac, expected, rtol=1e-14)
    value, tangents = backend.jvp(fun, x, np.eye(3)[:, :2])
    np.testing.assert_allclose(np.asarray(tangents), expected[:, :2], rtol=1e-14)
    assert np.asarray(value).shape == (2,)


def test_compiled_functions_are_cached_by_shape() -> None:
    backend = JaxBackend(jit=True)
    calls = []

    def fun(x):
        calls.append(1)  # runs once per trace
        return x * 2

    compiled = backend.compile(fun)
    compiled(np.ones(3))
    compiled(np.zeros(3))
    assert len(calls) == 1
    compiled(np.ones(4))
    assert len(calls) == 2


def test_host_side_helpers() -> None:
    backend = JaxBackend()
    assert backend.all_finite(np.ones(2)) and not backend.all_finite(np.array([1.0, np.nan]))
    assert backend.norm(np.array([3.0, 4.0])) == pytest.approx(5.0)
    np.testing.assert_allclose(backend.svdvals(np.diag([3.0, 1.0])), [3.0, 1.0])
