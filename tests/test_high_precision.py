"""High-precision reference path: the same checks at 30–100 digits with exact derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from pyspec import strategies
from pyspec.catalog import CATALOG, Instance
from tests.helpers import holds_and_control_flagged, run

HP_EXAMPLES = 25
"""Examples per high-precision property (each example costs ~0.1–1 s of mpmath arithmetic)."""


@pytest.mark.parametrize("digits", [30, 50, 100])
@pytest.mark.parametrize("name", ["nonlinear_homogeneous", "gl_reparameterization", "nonlinear_involution"])
def test_residual_scales_with_precision(name, digits) -> None:
    """At D digits every residual is ≤ 10^-(D-10): the identities are exact, not approximate."""
    report = run(CATALOG[name].build(0), precision=digits)
    assert report.holds
    for check in report.checks:
        assert check.residual <= 10.0 ** -(digits - 10), (digits, check)


def test_a_missing_term_is_visible_at_high_precision() -> None:
    """Negative control: a term of relative size 1e-20 (invisible in float64) breaks the 50-digit check."""
    from pyspec.checks import compare
    from pyspec.backends import get_backend

    report = run(CATALOG["nonlinear_last_layer"].build(0), precision=50)
    check = report.hessian_action
    backend = get_backend(50)
    with backend.context():
        shifted = {**check.terms, "tiny": check.lhs * backend.xp.asarray(1e-20)}
        wrong = compare(backend, check.identity, check.lhs, shifted, check.tolerance)
    assert not wrong.holds and 1e-21 < wrong.residual < 1e-19


def test_float64_and_high_precision_agree() -> None:
    instance = CATALOG["relu_mlp_homogeneous"].build(0)
    lo, hi = run(instance), run(instance, precision=50)
    for c64, chp in zip(lo.checks, hi.checks):
        lhs64 = np.asarray(c64.lhs, dtype=np.float64)
        lhshp = np.asarray(chp.lhs, dtype=object).astype(np.float64)
        assert np.linalg.norm(lhs64 - lhshp) <= 1e-12 * chp.scale


@settings(max_examples=HP_EXAMPLES)
@given(strategies.equivariant_models())
def test_high_precision_continuous_properties(case: Instance) -> None:
    holds_and_control_flagged(case, precision=50)


@settings(max_examples=HP_EXAMPLES)
@given(strategies.discrete_symmetries())
def test_high_precision_discrete_properties(case: Instance) -> None:
    holds_and_control_flagged(case, precision=50)
