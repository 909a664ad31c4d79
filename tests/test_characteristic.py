"""Definitions 1–2: characteristic direction and output, good positions, the equivariance check."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG
from pyspec.characteristic import equivariance_report
from pyspec.equivariance import bind
from tests.helpers import XP64, broken

POLY = CATALOG["polynomial_homogeneous"].build(0)
LAST = CATALOG["last_layer_gl"].build(0)


def test_homogeneity_v_and_w_closed_forms() -> None:
    """T = aθ, S = a³y: v = θ/a and w = 3 f(θ)/a (docs/theory.md#homogeneity)."""
    a, theta = POLY.a(XP64), POLY.theta(XP64)
    v = ps.characteristic_direction(POLY.eq, a, theta)
    np.testing.assert_allclose(v[:, 0], theta / a[0], rtol=1e-14)
    y = np.asarray(POLY.eq.model(theta, xp=XP64))
    w = ps.characteristic_output(POLY.eq, a, y)
    np.testing.assert_allclose(w[:, 0], 3 * y / a[0], rtol=1e-14)


def test_last_layer_v_and_w_closed_forms() -> None:
    """v(A, θ)[B] = (A⁻¹BW, 0) and w(A, y)[B] = A⁻¹By (docs/theory.md#corollary-3-last-layer)."""
    A, theta = LAST.a(XP64), LAST.theta(XP64)
    m, d, N = 3, 4, 5
    W = theta[: m * d].reshape(m, d)
    y = np.asarray(LAST.eq.model(theta, xp=XP64))
    v = ps.characteristic_direction(LAST.eq, A, theta)
    w = ps.characteristic_output(LAST.eq, A, y)
    Ainv = np.linalg.inv(A)
    for b in range(m * m):
        B = np.zeros(m * m)
        B[b] = 1.0
        B = B.reshape(m, m)
        np.testing.assert_allclose(v[: m * d, b], (Ainv @ B @ W).ravel(), atol=1e-14)
        np.testing.assert_allclose(v[m * d :, b], 0.0, atol=1e-15)
        np.testing.assert_allclose(w[:, b], (Ainv @ B @ y.reshape(m, N)).ravel(), atol=1e-14)


def test_symmetry_has_zero_characteristic_output() -> None:
    rescale = CATALOG["neuron_rescaling"].build(0)
    w = ps.characteristic_output(rescale.eq, rescale.a(XP64), np.ones(10))
    assert w.shape == (10, 4) and np.all(np.asarray(w) == 0.0)


def test_good_position_report() -> None:
    report = ps.good_position(LAST.eq, LAST.a(XP64), LAST.theta(XP64))
    assert report.ok and report.cond_T == pytest.approx(report.cond_S) and report.cond_T > 1.0


def test_not_a_good_position_homogeneity_at_zero() -> None:
    """a = 0 makes ∂θT = 0·I singular (docs/theory.md#homogeneity: good iff a ≠ 0)."""
    with pytest.raises(ps.NotGoodPositionError, match=r"cond\(∂θT\)"):
        ps.theorem1(POLY.eq, POLY.loss, np.array([0.0]), POLY.theta(XP64))
    assert not ps.good_position(POLY.eq, np.array([0.0]), POLY.theta(XP64)).ok
    with pytest.raises(ps.NotGoodPositionError):
        ps.characteristic_direction(POLY.eq, np.array([0.0]), POLY.theta(XP64))


def test_not_a_good_position_singular_output_map() -> None:
    singular = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ps.NotGoodPositionError, match=r"cond\(∂yS\)"):
        ps.theorem1(LAST.eq, LAST.loss, singular, LAST.theta(XP64))
    with pytest.raises(ps.NotGoodPositionError):
        ps.characteristic_output(LAST.eq, singular, np.ones(15))


def test_equivariance_check_passes_and_flags_broken_model() -> None:
    good = ps.check_equivariance(POLY.eq, POLY.a(XP64), POLY.theta(XP64))
    assert good.holds and len(good.residuals) == 4 and max(good.residuals) < 1e-14
    bad_instance = broken(POLY)
    bad = ps.check_equivariance(bad_instance.eq, POLY.a(XP64), POLY.theta(XP64))
    assert not bad.holds and max(bad.residuals) > 1e-4
    with pytest.raises(ps.EquivarianceError, match="relative residual"):
        ps.theorem1(bad_instance.eq, POLY.loss, POLY.a(XP64), POLY.theta(XP64))


def test_nearby_points_in_one_program_agree_with_point_by_point() -> None:
    """Compiled, eq. (1) at the point and its nearby points is one vmapped program; op by op it is
    evaluated point by point. The residuals agree, for a model that holds (rounding: within the
    check's own tolerance) and for a broken one (1e-10 relative of residuals ~1e-3)."""
    for inst in (POLY, broken(POLY)):
        compiled, eager = (equivariance_report(*bind(inst.eq, None, POLY.a(XP64), POLY.theta(XP64),
                                                     get_backend(None, jit=jit))) for jit in (True, False))
        assert len(compiled.residuals) == len(eager.residuals) == 4
        np.testing.assert_allclose(compiled.residuals, eager.residuals, rtol=1e-10, atol=compiled.tolerance)
        assert compiled.holds == eager.holds == (inst is POLY)


def test_equivariance_residual_within_rounding_noise_is_accepted_and_a_violation_is_not() -> None:
    """``y₁ = Σ ±10⁸ θᵢ²`` cancels to ~10⁻⁸ of its terms, so eq. (1) (``T = aθ``, ``S = a²y``) misses the
    tolerance by rounding alone (~10⁻⁹ relative): the re-runs at ulp-moved inputs measure that noise
    and accept it. The same model plus a smooth violation ~10⁴ times that size is rejected."""
    n = 40
    signs = np.where(np.arange(n) % 2 == 0, 1e8, -1e8)
    theta = 1.0 + 1e-9 * np.random.default_rng(0).standard_normal(n)
    a = np.array([1.3])

    def model(th):
        return jnp.array([jnp.sum(signs * th**2), jnp.sum(th**2)])

    def violated(th):
        return model(th) + jnp.array([0.0, 1e-3 * th[0]])

    report = ps.check_equivariance(ps.Equivariance(model=model, T=lambda b, th: b[0] * th,
                                                   S=lambda b, y: b[0] ** 2 * y, name="cancelling"), a, theta)
    assert max(report.residuals) > report.tolerance and report.noise > 0.0 and report.holds
    control = ps.check_equivariance(ps.Equivariance(model=violated, T=lambda b, th: b[0] * th,
                                                    S=lambda b, y: b[0] ** 2 * y, name="violated"), a, theta)
    assert not control.holds and max(control.residuals) > 1e3 * max(report.residuals)


def test_equivariance_only_at_the_point_is_rejected() -> None:
    """A model equivariant at θ but not nearby fails the neighbourhood check."""
    theta0 = POLY.theta(XP64)
    eq = POLY.eq.replace(
        model=lambda th, *, xp: POLY.eq.model(th, xp=xp) + 0.1 * xp.sum((th - theta0) ** 2),
        name="equivariant_at_one_point",
    )
    report = ps.check_equivariance(eq, np.array([1.0]), theta0)
    assert report.residuals[0] == 0.0 and not report.holds
