"""§4.2 and §5.1 (pyspec.homogeneity): Euler relation, norm growth, eqs. (3)–(4), Corollary 1 and the
sharpness bound on random homogeneous models, with their negative controls and named errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import pyspec as ps
from pyspec import strategies
from pyspec.applications import APPLICATIONS
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG, Instance
from pyspec.catalog.losses import exponential, squared_error
from pyspec.homogeneity import REPORTS
from tests.conftest import PROPERTY_EXAMPLES
from tests.helpers import XP64, on_duals, outcomes_hold_and_controls_flagged


ALL_M = ("homogeneity_euler", "homogeneity_norm_growth", "homogeneity_hessian_action",
         "homogeneity_hessian_quadratic", "sharpness_lower_bound")


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.homogeneous_models())
def test_homogeneity_properties(case: Instance) -> None:
    """Every id valid for any output dimension; controls: degree p + 1, and λ_min for the bound."""
    with on_duals():
        outcomes_hold_and_controls_flagged(APPLICATIONS["homogeneity_euler"](case, None, ALL_M))


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.scalar_homogeneous_models())
def test_corollary1_properties(case: Instance) -> None:
    with on_duals():
        outcomes = APPLICATIONS["corollary1_gradient_in_hessian_range"](
            case, None, ("corollary1_gradient_in_hessian_range",))
        outcomes_hold_and_controls_flagged(outcomes)


def _square_of_linear(x: np.ndarray):
    def model(theta, *, xp):
        return xp.reshape(xp.sum(theta * x) ** 2, (1,))

    return model


@pytest.mark.parametrize("precision", [None, 50])
def test_corollary1_counterexample_kappa_zero(precision) -> None:
    """docs/theory.md#corollary-1-correction: p = 2, f = (xᵀθ)², ℓ = e^{−y}, xᵀθ = 1/√2: κ = 0 and H = 0 but ∇L ≠ 0, so no c
    with ∇L = cHθ exists; the division-free form still holds."""
    x = np.array([0.6, -1.1, 0.8])
    backend = get_backend(precision)
    with backend.context():
        xs = backend.xp.asarray(x)
        theta = xs / (backend.xp.sum(xs * xs) * backend.xp.sqrt(backend.xp.asarray(2.0)))  # xᵀθ = 1/√2
    report = ps.corollary1_gradient_in_hessian_range(_square_of_linear(x), exponential(np.ones(1)), theta, 2,
                                                     precision=precision)
    assert report.holds and set(report.parts) == {"division_free"}
    assert report.details["c"] is None and "no c" in report.notes[0]
    assert abs(report.details["kappa"]) <= 1e-15
    check = report.division_free
    assert np.linalg.norm(np.asarray(check.lhs, dtype=float)) <= 1e-14  # ℓ′Hθ = 0 = κ∇L


def test_corollary1_needs_a_scalar_output() -> None:
    instance = CATALOG["polynomial_homogeneous"].build(0)
    with pytest.raises(ps.ShapeError, match="m = 1"):
        ps.corollary1_gradient_in_hessian_range(instance.eq.model, instance.loss, instance.theta(XP64), 3)


def test_a_bias_breaks_homogeneity() -> None:
    """Negative control of docs/theory.md#corollary-1: a model with a bias is not homogeneous (named error), and with the
    check off Corollary 1 fails."""
    instance = CATALOG["scalar_homogeneous"].build(0)

    def biased(theta, *, xp):
        return instance.eq.model(theta, xp=xp) + 0.3

    theta = instance.theta(XP64)
    with pytest.raises(ps.EquivarianceError, match="not homogeneous"):
        ps.corollary1_gradient_in_hessian_range(biased, instance.loss, theta, 3)
    report = ps.corollary1_gradient_in_hessian_range(biased, instance.loss, theta, 3, check_homogeneity=False,
                                                     jit=False)
    assert not report.division_free.holds and report.division_free.residual > 1e-3


def test_wrong_degree_is_a_named_error() -> None:
    instance = CATALOG["polynomial_homogeneous"].build(0)
    with pytest.raises(ps.EquivarianceError):
        ps.homogeneity_euler(instance.eq.model, instance.loss, instance.theta(XP64), 4)


def test_norm_grows_for_a_margin_loss() -> None:
    """m = 1, exponential loss, f > 0: d‖θ‖²/dt = 2p f e^{−f} > 0 (§4.2)."""
    instance = CATALOG["scalar_homogeneous"].build(0)
    theta = instance.theta(XP64)
    report = ps.homogeneity_norm_growth(instance.eq.model, instance.loss, theta, 3)
    f = float(instance.eq.model(theta, xp=XP64)[0])
    assert report.holds and f > 0
    assert report.details["rate"] == pytest.approx(2 * 3 * f * np.exp(-f), rel=1e-13)


def test_sharpness_bound_needs_nonzero_theta() -> None:
    with pytest.raises(ValueError, match="theta != 0"):
        ps.sharpness_lower_bound(lambda t, *, xp: xp.reshape(xp.sum(t * t) ** 1.5, (1,)),
                                 squared_error(np.ones(1)), np.zeros(3), 3, check_homogeneity=False)


def test_every_homogeneity_id_has_a_report() -> None:
    assert set(REPORTS) == set(ALL_M) | {"corollary1_gradient_in_hessian_range"}
