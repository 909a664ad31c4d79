"""Corollary 2, §5.2 (pyspec.noether): Σv = 0, Tr(AΣ) = −½⟨∇TrΣ, v⟩, the Itô drift of Q = ½θᵀAθ and the
exact SGD step on random per-sample symmetric losses, with negative controls and named errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import pyspec as ps
from pyspec import strategies
from pyspec.applications import APPLICATIONS
from pyspec.catalog import CATALOG, Instance
from pyspec.catalog.base import broken, cayley_orthogonal
from pyspec.checks import compare
from pyspec.backends import get_backend
from tests.conftest import PROPERTY_EXAMPLES
from tests.helpers import XP64, on_duals, outcomes_hold_and_controls_flagged

PARTS = {"noise_null", "trace_identity", "ito_drift", "noether_flow", "sgd_step"}


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.noether_models())
def test_noether_properties(case: Instance) -> None:
    """Control: the per-sample losses broken (the symmetry holds for L at best, not per sample)."""
    with on_duals():
        outcomes = APPLICATIONS["corollary2_noether_flow"](case, None, ("corollary2_noether_flow",))
        assert {o.form for o in outcomes} == PARTS
        outcomes_hold_and_controls_flagged(outcomes)


def test_sde_normalization_controls() -> None:
    """docs/theory.md#corollary-2-noether-flow controls: the factor −σ² (instead of −σ²/2) and the opposite sign are flagged."""
    instance = CATALOG["noether_per_sample"].build(0)
    report = ps.corollary2_noether_flow(instance.eq.model, instance.args["generator"], instance.theta(XP64))
    check = report.noether_flow
    B = get_backend(None)
    for factor in (2.0, -1.0):
        wrong = compare(B, check.identity, check.lhs, {"t": factor * check.terms["trace_gradient"]}, check.tolerance)
        assert not wrong.holds and wrong.residual > 0.3, (factor, wrong)
    assert report.details["sigma2"] == 0.05 and report.details["trace_A_sigma"] > 0


def test_broken_per_sample_symmetry_is_a_named_error() -> None:
    instance = broken(CATALOG["noether_per_sample"].build(0))
    with pytest.raises(ps.EquivarianceError):
        ps.corollary2_noether_flow(instance.eq.model, instance.args["generator"], instance.theta(XP64))


def test_antisymmetric_generator_reports_only_the_general_identities() -> None:
    """Step 4 of the proof holds for any A; Q = ½θᵀAθ is a charge only for symmetric A (a note)."""
    rng = np.random.default_rng(3)
    n = 5
    U0 = rng.standard_normal((n, n))
    J = np.zeros((n, n))
    J[0, 1], J[1, 0] = -1.0, 1.0
    U = np.asarray(cayley_orthogonal(U0, XP64))
    A = U @ J @ U.T
    W = rng.standard_normal((3, n - 1))

    def sample_losses(theta, *, xp):  # each depends on θ through the rotation invariants only
        z = xp.asarray(U).T @ theta
        features = xp.concatenate([xp.stack([z[0] ** 2 + z[1] ** 2]), z[2:]])
        return xp.log1p(xp.exp(xp.asarray(W) @ features))

    report = ps.corollary2_noether_flow(sample_losses, A, rng.standard_normal(n))
    assert set(report.parts) == {"noise_null", "trace_identity"} and report.holds
    assert "not symmetric" in report.notes[0]


def test_high_precision() -> None:
    instance = CATALOG["noether_per_sample"].build(0)
    backend = get_backend(50)
    with backend.context():
        theta = instance.theta(backend.xp)
    report = ps.corollary2_noether_flow(instance.eq.model, instance.args["generator"], theta, precision=50)
    assert report.holds and set(report.parts) == PARTS
    assert max(c.residual for c in report.checks) <= 1e-40


def test_generator_shape_is_checked() -> None:
    instance = CATALOG["noether_per_sample"].build(0)
    with pytest.raises(ps.ShapeError, match="generator"):
        ps.corollary2_noether_flow(instance.eq.model, np.eye(3), instance.theta(XP64))
