"""Corollary 3, eq. (7) (pyspec.last_layer): vᵀHv = wᵀ∇²ℓ w and the softmax variance form on random
last-layer models, with negative controls."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyspec as ps
from pyspec import strategies
from pyspec.applications import APPLICATIONS
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG, Instance
from pyspec.checks import compare, tolerance
from tests.conftest import PROPERTY_EXAMPLES
from tests.helpers import XP64, on_duals, outcomes_hold_and_controls_flagged


@settings(max_examples=PROPERTY_EXAMPLES)
@given(st.booleans().flatmap(lambda softmax: strategies.last_layer_models(softmax=softmax)))
def test_last_layer_properties(case: Instance) -> None:
    """Control: the model broken (no longer last-layer equivariant)."""
    with on_duals():
        outcomes = APPLICATIONS["corollary3_last_layer"](case, None, ("corollary3_last_layer",))
        assert {o.form for o in outcomes} == ({"quadratic", "softmax_variance"} if case.args else {"quadratic"})
        outcomes_hold_and_controls_flagged(outcomes)


def test_a_direction_with_a_feature_component_is_flagged() -> None:
    """docs/theory.md#corollary-3-last-layer control: (BW, φ′) with φ′ ≠ 0 in place of (BW, 0) breaks eq. (7)."""
    instance = CATALOG["last_layer_gl"].build(0)
    a, theta = instance.a(XP64), jnp.asarray(instance.theta(XP64))
    report = ps.corollary3_last_layer(instance.eq, instance.loss, a, theta)
    assert report.holds
    v = np.array(ps.characteristic_direction(instance.eq, a, theta))
    v[12:] += 0.3 * np.random.default_rng(0).standard_normal((12, v.shape[1]))  # Φ-block component

    def L(t):
        return instance.loss(instance.eq.model(t, xp=XP64), xp=XP64)

    H = np.asarray(jax.hessian(L)(theta))
    B = get_backend(None)
    wrong = compare(B, "corollary3_last_layer", v.T @ H @ v, {"output_curvature": report.quadratic.rhs},
                    tolerance(B, 24 + 15 + 9))
    assert not wrong.holds and wrong.residual > 1e-3


def test_variance_form_needs_classes_dividing_m() -> None:
    instance = CATALOG["last_layer_gl"].build(0)
    with pytest.raises(ValueError, match="classes"):
        ps.corollary3_last_layer(instance.eq, instance.loss, instance.a(XP64), instance.theta(XP64),
                                 softmax_classes=4)


def test_a_broken_model_is_a_named_error() -> None:
    from pyspec.catalog.base import broken

    instance = broken(CATALOG["last_layer_gl"].build(0))
    with pytest.raises(ps.EquivarianceError):
        ps.corollary3_last_layer(instance.eq, instance.loss, instance.a(XP64), instance.theta(XP64))
