"""Precision guard (pyspec.precision): float32/bfloat16 anywhere inside the model, T, S or the loss is
a named PrecisionError in a float64 check; precision="float32" checks float32 models at float32's
round-off and still flags the negative controls."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec import symmetries as sym
from tests.framework_models import NnxMLP, inputs, squared_loss

X = inputs((5, 2))
LOSS = squared_loss(inputs((5, 3), seed=2))
A = np.array([1.3])


def _homogeneous(model, degree=2):
    return ps.Equivariance(model=model, T=lambda a, th: a[0] * th, S=lambda a, y: a[0] ** degree * y)


def _f64_model(th):
    W1, W2 = th[:8].reshape(4, 2), th[8:].reshape(3, 4)
    return (W2 @ jax.nn.relu(W1 @ X.T)).ravel()


THETA = inputs((20,), seed=4)


def test_internal_float32_round_trip_is_caught():
    def model(th):  # casts to float32 and back: the output dtype alone would not show it
        return _f64_model(th.astype(jnp.float32)).astype(jnp.float64)

    with pytest.raises(ps.PrecisionError, match=r"the model computes in float32.*test_precision\.py.*To fix"):
        ps.theorem1(_homogeneous(model), LOSS, A, THETA)


@pytest.mark.parametrize("where", ["T", "S", "loss"])
def test_low_precision_in_T_S_or_loss_is_caught(where):
    eq = _homogeneous(_f64_model)
    loss = LOSS
    if where == "T":
        eq = eq.replace(T=lambda a, th: (a[0].astype(jnp.bfloat16) * th.astype(jnp.bfloat16)).astype(jnp.float64))
    elif where == "S":
        eq = eq.replace(S=lambda a, y: (a[0] ** 2 * y.astype(jnp.float32)).astype(jnp.float64))
    else:
        loss = lambda y: LOSS(y.astype(jnp.float32)).astype(jnp.float64)  # noqa: E731
    role = {"T": "transformation T", "S": "output transformation S", "loss": "loss"}[where]
    with pytest.raises(ps.PrecisionError, match=f"the {role} computes in"):
        ps.theorem1(eq, loss, A, THETA)


def test_flax_float32_model_is_a_precision_error_not_an_equivariance_error():
    model = NnxMLP((2, 4, 3, 3), bias=False, dtype=jnp.float32)
    s = sym.homogeneity(model, ["l1", "l2", "l3"])
    with pytest.raises(ps.PrecisionError, match="dtype=jnp.float64"):
        ps.theorem1(s.equivariance(lambda m: m(X).ravel()), LOSS, s.a, model)


def test_x64_off_is_a_precision_error():
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ps.PrecisionError, match="jax_enable_x64"):
            ps.theorem1(_homogeneous(_f64_model), LOSS, A, THETA)
    finally:
        jax.config.update("jax_enable_x64", True)


def test_float32_mode_holds_at_float32_round_off_and_flags_controls():
    model = NnxMLP((2, 4, 3, 3), bias=False, dtype=jnp.float32)
    f = lambda m: m(X.astype(np.float32)).ravel()  # noqa: E731
    s = sym.homogeneity(model, ["l1", "l2", "l3"])
    r = ps.theorem1(s.equivariance(f), LOSS, s.a, model, precision="float32")
    assert r.holds and r.key_identity.backend == "jax-float32"
    assert 1e-8 < r.hessian_action.tolerance < 1e-3  # float32's unit round-off, not float64's
    wrong = s._replace(T=sym.homogeneity(model, ["l1", "l2"]).T)  # scales two layers, claims degree 3
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(wrong.equivariance(f), LOSS, wrong.a, model, precision="float32")
    assert not ps.theorem1(wrong.equivariance(f), LOSS, wrong.a, model, precision="float32",
                           check_equivariance=False).holds


def test_bfloat16_is_refused_even_in_float32_mode():
    def model(th):
        return _f64_model(th.astype(jnp.bfloat16)).astype(jnp.float32)

    with pytest.raises(ps.PrecisionError, match="bfloat16"):
        ps.theorem1(_homogeneous(model), LOSS, A, THETA, precision="float32")
