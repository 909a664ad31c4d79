"""§5.4 (pyspec.stationary): H v = 0 and dim ker H ≥ rank v at stationary points of symmetric losses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import pyspec as ps
from pyspec import strategies
from pyspec.applications import APPLICATIONS
from pyspec.catalog import CATALOG, Instance
from tests.conftest import PROPERTY_EXAMPLES
from tests.helpers import XP64, on_duals, outcomes_hold_and_controls_flagged


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.gl_reparameterizations(stationary=True))
def test_null_space_properties(case: Instance) -> None:
    """Control: a nearby point that is not stationary (H v = −(∂θv)*∇L ≠ 0 there)."""
    with on_duals():
        outcomes_hold_and_controls_flagged(
            APPLICATIONS["symmetry_hessian_null_space"](case, None, ("symmetry_hessian_null_space",)))


def test_kernel_dimension_at_the_catalog_minimum() -> None:
    """GL(2) symmetry: rank v = 4; H = GᵀKG/N has rank ≤ mN = 6 of n = 16, so dim ker H ≥ 10."""
    instance = CATALOG["reparameterization_minimum"].build(0)
    report = ps.symmetry_hessian_null_space(instance.eq, instance.loss, instance.a(XP64), instance.theta(XP64),
                                            jit=False)
    assert report.holds
    assert report.details["rank_v"] == 4 and report.details["kernel_dimension"] >= 10


def test_a_point_that_is_not_stationary_is_a_named_error() -> None:
    instance = CATALOG["reparameterization_minimum"].build(0)
    with pytest.raises(ps.NotStationaryError, match="stationary"):
        ps.symmetry_hessian_null_space(instance.eq, instance.loss, instance.a(XP64),
                                       instance.args["off_stationary"](XP64))


def test_null_space_needs_a_symmetry() -> None:
    instance = CATALOG["last_layer_gl"].build(0)
    with pytest.raises(ValueError, match="symmetry"):
        ps.symmetry_hessian_null_space(instance.eq, instance.loss, instance.a(XP64), instance.theta(XP64))
