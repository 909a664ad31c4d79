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


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((40, 30), (30, 20)), ((30,), (30, 50)), ((50, 30), (30,)),
                                    ((3, 20, 30), (30, 10)), ((2, 0), (0, 3)), ((64, 0), (0, 32))])
def test_products_sum_in_numpy_object_order(shapes) -> None:
    """Small and large products (below and above VECTORISED_MATMUL_PRODUCTS) give NumPy ``object``
    matmul's result bit for bit: the same products and sums in the same order (entries spread over 16
    orders of magnitude, so another order of summation rounds differently somewhere). Below the threshold
    this checks the dispatch (and float zeros for an empty contraction, where ``object`` matmul gives 0)."""
    from pyspec.backends.float_dual_backend import VECTORISED_MATMUL_PRODUCTS, _matmul

    rng = np.random.default_rng(sum(map(sum, shapes)))
    spread = lambda s: rng.standard_normal(s) * 10.0 ** rng.integers(-8, 8, s)  # noqa: E731 - cancellation
    a, b = spread(shapes[0]).astype(object), spread(shapes[1]).astype(object)
    got, want = np.asarray(_matmul(a, b), dtype=object), np.asarray(a @ b, dtype=object)
    assert got.shape == want.shape
    assert [float(x) for x in got.ravel()] == [float(x) for x in want.ravel()]
    assert all(type(x) is float for x in got.ravel())
    if a.size * (b.shape[-1] if b.ndim > 1 else 1) >= VECTORISED_MATMUL_PRODUCTS and a.shape[-1] >= 20:
        # negative control: the same comparison flags the same sums taken in reverse order
        af, bf = np.asarray(a, float), np.asarray(b, float)
        af, bf = (af[None] if af.ndim == 1 else af), (bf[:, None] if bf.ndim == 1 else bf)
        reverse = af[..., :, -1:] * bf[..., -1:, :]
        for k in range(af.shape[-1] - 2, -1, -1):
            reverse = reverse + af[..., :, k : k + 1] * bf[..., k : k + 1, :]
        assert [float(x) for x in reverse.ravel()] != [float(x) for x in want.ravel()]


def test_products_follow_ieee_on_overflow() -> None:
    from pyspec.backends.float_dual_backend import _matmul

    big = np.full((40, 40), 1e308).astype(object)
    out = _matmul(big, big)
    assert all(x == math.inf for x in out.ravel()) and out.dtype == object
    mixed = np.full((40, 40), 1.0).astype(object)
    mixed[0, 0] = math.inf
    zero = np.zeros((40, 40)).astype(object)
    assert math.isnan(_matmul(mixed, zero)[0, 0]) and _matmul(mixed, zero)[1, 1] == 0.0


def test_float_arrays_enter_exactly_as_python_floats() -> None:
    from pyspec.backends.duals import asarray

    with Float64DualBackend().context():
        for dtype in (np.float16, np.float32, np.float64):
            x = np.array([0.1, -2.5e-3, 7.0], dtype=dtype)
            got = asarray(x)
            assert got.dtype == object and all(type(v) is float for v in got)
            assert [v for v in got] == [float(v) for v in x]
        assert asarray(np.float64(0.1)).shape == () and asarray(np.arange(3)).tolist() == [0.0, 1.0, 2.0]


def test_use_field_nests_and_restores() -> None:
    """``use_field`` activates its field inside the block and restores the outer one on exit, also when
    the block raises, when one context object is entered twice, and when the field is already active;
    the control: inside another field's block, the active field is that other field."""
    from pyspec.backends.duals import current_field, use_field
    from pyspec.backends.float_dual_backend import FLOAT64_FIELD
    from pyspec.backends.mp_backend import MP_FIELD

    outer = current_field()
    ctx = use_field(FLOAT64_FIELD)
    with ctx:
        assert current_field() is FLOAT64_FIELD
        with ctx, use_field(FLOAT64_FIELD):
            assert current_field() is FLOAT64_FIELD
        assert current_field() is FLOAT64_FIELD
        with use_field(MP_FIELD):
            assert current_field() is MP_FIELD
        with pytest.raises(RuntimeError), use_field(MP_FIELD):
            raise RuntimeError
        assert current_field() is FLOAT64_FIELD
    assert current_field() is outer
