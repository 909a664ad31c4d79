"""Float64 on dual numbers (pyspec.backends.float_dual_backend): derivatives agree with JAX's to
float64 round-off, nest for Hessians, and IEEE edge cases match JAX's (nan/inf, not exceptions)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyspec.backends import get_backend
from pyspec.backends.float_dual_backend import Float64DualBackend


def _model(theta, *, xp):
    A = xp.reshape(theta[:6], (2, 3))
    z = A @ xp.tanh(theta[3:6] * theta[:3]) + xp.sin(theta[:2])
    return xp.sum(xp.softplus(z)) + xp.log1p(xp.square(theta[0])) + xp.sum(xp.expm(0.3 * xp.outer(z, z)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derivatives_agree_with_jax(seed: int) -> None:
    theta = np.random.default_rng(seed).standard_normal(6)
    dual, jx = Float64DualBackend(), get_backend(None, jit=False)
    with dual.context():
        g = dual.to_numpy(dual.jacobian(lambda t: _model(t, xp=dual.xp), theta))
        H = dual.to_numpy(dual.jacobian(lambda t: dual.jacobian(lambda s: _model(s, xp=dual.xp), t), theta))
    g_ref = np.asarray(jx.jacobian(lambda t: _model(t, xp=jx.xp), theta))
    H_ref = np.asarray(jax.hessian(lambda t: _model(t, xp=jx.xp))(jnp.asarray(theta)))
    # both are float64 evaluations of the same chain rule: they agree to a few hundred ulps of the scale
    assert np.linalg.norm(g - g_ref) <= 1e-13 * np.linalg.norm(g_ref)
    assert np.linalg.norm(H - H_ref) <= 1e-12 * np.linalg.norm(H_ref)
    # negative control: a perturbed Hessian is not accepted by the same comparison
    assert np.linalg.norm(H + 1e-9 - H_ref) > 1e-12 * np.linalg.norm(H_ref)


def test_values_are_float64_and_edges_follow_ieee() -> None:
    b = Float64DualBackend()
    with b.context(), np.errstate(all="ignore"):
        xp = b.xp
        x = xp.asarray(np.array([-1.0, 0.0, 1000.0]))
        assert math.isnan(b.to_numpy(xp.log(x))[0]) and b.to_numpy(xp.log(x))[1] == -math.inf
        assert b.to_numpy(xp.exp(x))[2] == math.inf and math.isnan(b.to_numpy(xp.sqrt(x))[0])
        assert not b.all_finite(xp.exp(x)) and b.all_finite(xp.tanh(x))
        assert b.to_float(xp.sum(xp.asarray(np.array([0.1, 0.2])))) == 0.1 + 0.2
    assert b.eps == 2.0**-53 and b.digits == 15
    assert np.allclose(b.svdvals(np.diag([3.0, 1.0])), [3.0, 1.0])
    with pytest.raises(np.linalg.LinAlgError):
        with b.context():
            b.xp.solve(b.xp.asarray(np.zeros((2, 2))), b.xp.asarray(np.ones(2)))
