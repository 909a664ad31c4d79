"""§6 (pyspec.discrete): eqs. (8)–(9) and Corollary 4 at fixed points of random linear discrete
symmetries, with the off-fixed-set controls and named errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import pyspec as ps
from pyspec import strategies
from pyspec.applications import APPLICATIONS
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG, Instance
from pyspec.catalog.losses import squared_error
from pyspec.discrete import linear_map, linear_reports
from pyspec.equivariance import Equivariance, bind
from tests.conftest import PROPERTY_EXAMPLES
from tests.helpers import XP64, on_duals, outcomes_hold_and_controls_flagged

LINEAR = ("discrete_linear_gradient", "discrete_linear_hessian")


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.discrete_symmetries())
def test_discrete_linear_properties(case: Instance) -> None:
    with on_duals():
        outcomes_hold_and_controls_flagged(APPLICATIONS["discrete_linear_gradient"](case, None, LINEAR))


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.discrete_symmetries(kinds=("reflection",)))
def test_mirror_properties(case: Instance) -> None:
    with on_duals():
        outcomes_hold_and_controls_flagged(APPLICATIONS["corollary4_mirror"](case, None, ("corollary4_mirror",)))


def test_nonlinear_T_is_rejected() -> None:
    instance = CATALOG["nonlinear_involution"].build(0)
    with pytest.raises(ValueError, match="not linear"):
        ps.discrete_linear_gradient(instance.eq, instance.loss, instance.a(XP64), instance.theta(XP64))


def test_off_the_fixed_set_is_a_named_error() -> None:
    instance = CATALOG["mirror_symmetry"].build(0)
    with pytest.raises(ps.NotFixedPointError):
        ps.discrete_linear_hessian(instance.eq, instance.loss, instance.a(XP64), instance.off_fixed(XP64))
    with pytest.raises(ps.NotFixedPointError, match="mirror"):
        ps.corollary4_mirror(instance.eq.model, instance.loss, instance.args["O"], instance.off_fixed(XP64))


def test_mirror_frame_must_be_orthonormal() -> None:
    instance = CATALOG["mirror_symmetry"].build(0)
    O = 2 * np.asarray(instance.args["O"](XP64))
    with pytest.raises(ValueError, match="orthonormal"):
        ps.corollary4_mirror(instance.eq.model, instance.loss, O, instance.theta(XP64))


def test_non_orthogonal_involution_has_no_commutation() -> None:
    """(9) holds for M = S diag(±1) S⁻¹, which is not orthogonal; HM = MH is then not claimed (a note)."""
    rng = np.random.default_rng(5)
    n = 4
    S = np.eye(n) + 0.5 * rng.standard_normal((n, n))
    M = S @ np.diag([1.0, 1.0, -1.0, 1.0]) @ np.linalg.inv(S)
    C = rng.standard_normal((3, n))

    def model(theta, *, xp):
        return xp.tanh(C @ theta) + xp.tanh(C @ (M @ theta))

    eq = Equivariance(model=model, T=lambda a, th, *, xp: M @ th)
    theta0 = rng.standard_normal(n)
    B = get_backend(None)
    problem, a, th = bind(eq, squared_error(rng.standard_normal(3)), np.zeros(1), (theta0 + M @ theta0) / 2, B)
    # M is exact only to float64 rounding: the fixed point is M-fixed to ~1e-16 relative
    report = linear_reports(problem, th, linear_map(problem, a, th, check=True))["discrete_linear_hessian"]
    assert report.holds and set(report.parts) == {"conjugation"}
    assert "not orthogonal" in report.notes[0]
