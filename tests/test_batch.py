"""Batched checks (pyspec.batch): per-point reports equal the single-point checks, a failing point is
named by its index, one program serves every batch of the same shapes."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.cache import cache_info
from pyspec.characteristic import NEARBY_POINTS, _nearby, nearby_batch
from pyspec.equivariance import bind

rng = np.random.default_rng(11)


def cubic(theta):
    """Homogeneous of degree 2 (``f(aθ) = a²f(θ)``) except where ``θ₀ > 1``."""
    return jnp.concatenate([theta**2, jnp.maximum(theta[:1] - 1.0, 0.0) ** 3])


EQ = ps.Equivariance(model=cubic, T=lambda a, th: a[0] * th, S=lambda a, y: a[0] ** 2 * y, name="square")
A = np.array([1.2])


def loss(y):
    return jnp.sum(jnp.cosh(y - 0.5))


def _good_points(count: int) -> np.ndarray:
    return rng.uniform(-0.9, 0.5, size=(count, 4))


def test_batch_reports_equal_single_point_reports() -> None:
    thetas = _good_points(3)
    batch = ps.theorem1_batch(EQ, loss, A, thetas)
    assert batch.holds and len(batch) == 3 and batch.failing == ()
    for i, report in enumerate(batch.reports):
        single = ps.theorem1(EQ, loss, A, thetas[i])
        for b, s in zip(report.checks, single.checks):
            assert b.identity == s.identity and b.tolerance == s.tolerance
            assert np.linalg.norm(np.asarray(b.lhs) - np.asarray(s.lhs)) <= 1e-14 * s.scale
        assert report.position.cond_T == pytest.approx(single.position.cond_T)


def test_batch_nearby_points_are_the_single_checks_points() -> None:
    """The batch moves every point to its nearby points at once, with the same numbers as the
    single-point check (its eq. (1) residuals are then those of ``ps.theorem1`` at each point); a
    point 10 times another gets moves 10 times larger (its own scale, not the first point's)."""
    thetas = _good_points(5)
    thetas[3] = 10.0 * thetas[0]
    problem, a, _ = bind(EQ, loss, A, thetas[0], get_backend(None))
    near_a, near_t = nearby_batch(problem, a, thetas)
    assert near_a.shape == (5, NEARBY_POINTS + 1, 1) and near_t.shape == (5, NEARBY_POINTS + 1, 4)
    for i, theta in enumerate(thetas):
        points = _nearby(problem, a, theta, vary_a=True)
        np.testing.assert_array_equal(near_a[i], np.stack([p[0] for p in points]))
        np.testing.assert_array_equal(near_t[i], np.stack([p[1] for p in points]))
    # the moves are read back as (θ + d) − θ: exact to the rounding of θ + d, an ulp of θ
    ulp = np.finfo(np.float64).eps * np.max(np.abs(thetas[3]))
    np.testing.assert_allclose(near_t[3] - thetas[3], 10.0 * (near_t[0] - thetas[0]), rtol=0.0, atol=2 * ulp)


def test_failing_point_is_named_by_index() -> None:
    thetas = _good_points(4)
    thetas[2, 0] = 2.0  # the model is not homogeneous there
    batch = ps.theorem1_batch(EQ, loss, A, thetas)
    assert batch.failing == (2,) and not batch.holds
    assert batch.reports[2] is None and str(batch.errors[2]).startswith("point 2:")
    assert isinstance(batch.errors[2], ps.EquivarianceError)
    with pytest.raises(ps.EquivarianceError, match="point 2"):
        batch.require()
    control = ps.theorem1_batch(EQ, loss, A, thetas, check_equivariance=False)  # the identities flag it too
    assert control.failing == (2,)
    assert all(not c.holds for c in control.reports[2].checks if c.identity != "theorem1_first_order")


def test_one_program_for_every_batch_of_the_same_shapes() -> None:
    ps.theorem1_batch(EQ, loss, A, _good_points(5))
    misses = cache_info().misses
    assert ps.theorem1_batch(EQ, loss, A * 1.1, _good_points(5)).holds
    assert cache_info().misses == misses


def test_pytree_batch() -> None:
    thetas = {"u": _good_points(2)[:, :2], "w": _good_points(2)[:, :2]}
    eq = ps.Equivariance(model=lambda th: cubic(jnp.concatenate([th["u"], th["w"]])),
                         T=lambda a, th: {k: a[0] * v for k, v in th.items()}, S=lambda a, y: a[0] ** 2 * y)
    assert ps.theorem1_batch(eq, loss, A, thetas).holds


def test_leading_axes_must_agree() -> None:
    with pytest.raises(ps.ShapeError, match="leading batch axis"):
        ps.theorem1_batch(EQ, loss, A, {"u": np.zeros((2, 2)), "w": np.zeros((3, 2))})


def test_theorem2_batch_names_the_point_off_the_fixed_set() -> None:
    eq = ps.Equivariance(model=lambda th: jnp.tanh(th * th) + th[::-1] ** 2, T=lambda a, th: -th, name="sign_flip")
    thetas = np.zeros((3, 4))
    thetas[1, 2] = 0.3
    batch = ps.theorem2_batch(eq, loss, np.zeros(1), thetas)
    assert batch.failing == (1,) and isinstance(batch.errors[1], ps.NotFixedPointError)
    assert str(batch.errors[1]).startswith("point 1:")
    assert batch.reports[0].holds and batch.reports[2].holds
