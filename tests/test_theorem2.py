"""Theorem 2 (discrete symmetry at fixed points) on the catalog, with negative controls."""

from __future__ import annotations

import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG
from pyspec.checks import compare
from tests.helpers import XP64, broken, run

DISCRETE = [name for name, e in CATALOG.items() if e.kind == "discrete"]
B = get_backend(None)


@pytest.mark.parametrize("name", DISCRETE)
def test_theorem2_holds_at_fixed_points(name) -> None:
    report = run(CATALOG[name].build(0))
    assert report.holds, report.checks
    assert report.fixed_point_residual <= 1e-15
    for check in report.checks:
        assert check.residual <= 1e-13


@pytest.mark.parametrize("name", DISCRETE)
def test_off_the_fixed_set_is_flagged(name) -> None:
    instance = CATALOG[name].build(0)
    off = instance.off_fixed(XP64)
    with pytest.raises(ps.NotFixedPointError, match="not a fixed point"):
        ps.theorem2(instance.eq, instance.loss, instance.a(XP64), off)
    report = ps.theorem2(instance.eq, instance.loss, instance.a(XP64), off, check_hypotheses=False)
    assert all(not c.holds and c.residual > 1e-6 for c in report.checks), report.checks


@pytest.mark.parametrize("name", DISCRETE)
def test_broken_symmetry_is_flagged(name) -> None:
    instance = broken(CATALOG[name].build(0))
    with pytest.raises(ps.EquivarianceError):
        run(instance)
    report = run(instance, check_hypotheses=False)
    assert any(not c.holds and c.residual > 1e-6 for c in report.checks), report.checks


def test_blue_term_is_needed_for_a_nonlinear_involution() -> None:
    report = run(CATALOG["nonlinear_involution"].build(0))
    h = report.hessian
    blue = np.linalg.norm(h.terms["blue"])
    assert blue > 0.05 * np.linalg.norm(h.lhs)  # docs/theory.md#theorem-2: the blue term is a few % of ‖H‖
    dropped = compare(B, h.identity, h.lhs, {"conjugated": h.terms["conjugated"]}, h.tolerance)
    assert not dropped.holds and dropped.residual > 1e-3


@pytest.mark.parametrize("name", ["mirror_symmetry", "hidden_permutation", "sign_flip"])
def test_blue_term_vanishes_for_linear_T(name) -> None:
    report = run(CATALOG[name].build(0))
    assert np.linalg.norm(report.hessian.terms["blue"]) == 0.0


def test_theorem2_requires_a_symmetry() -> None:
    last = CATALOG["last_layer_gl"].build(0)
    with pytest.raises(ValueError, match="symmetry"):
        ps.theorem2(last.eq, last.loss, last.a(XP64), last.theta(XP64))


def test_mirror_corollary4_structure() -> None:
    """At Oᵀθ = 0: ∇L ⟂ col O and H commutes with OOᵀ (docs/theory.md#corollary-4)."""
    instance = CATALOG["mirror_symmetry"].build(0)
    report = run(instance)
    theta = np.asarray(instance.theta(XP64))
    M = np.asarray(ps.backends.get_backend().jacobian(lambda t: instance.eq.T(None, t, xp=XP64), theta))
    P = (np.eye(7) - M) / 2  # OOᵀ
    grad = np.asarray(report.gradient.lhs)
    H = np.asarray(report.hessian.lhs)
    assert np.linalg.norm(P @ grad) <= 1e-14 * np.linalg.norm(grad)
    assert np.linalg.norm(H @ P - P @ H) <= 1e-14 * np.linalg.norm(H)
