"""Eq. (5) (pyspec.quadratic_charge): a quadratic Noether charge exists iff the generator is symmetric,
and it is conserved by gradient flow; float64 and 50 digits, with negative controls."""

from __future__ import annotations

import numpy as np
import pytest

from pyspec.errors import ShapeError
from pyspec.quadratic_charge import noether_charge_conserved, noether_charge_iff_symmetric

rng = np.random.default_rng(11)
D = 3
RESCALING = np.diag([1.0] * D + [-1.0] * D)
"""The generator of ``(u, w) ↦ (eᵃu, e⁻ᵃw)``: symmetric, with charge ``½(‖u‖² − ‖w‖²)``."""


def _invariant_loss(t, *, xp):
    """Depends on ``(u, w)`` only through ``⟨u, w⟩``: invariant under ``e^{aA}`` for ``A = RESCALING``."""
    s = t[:D] @ t[D:]
    return xp.tanh(s) + s**2


def _broken_loss(t, *, xp):
    """Not invariant: ``0.3‖u‖²`` grows as ``e^{2a}``, so the charge drifts at ``dQ/dt = −0.6‖u‖²``, away
    from zero wherever ``u ≠ 0`` (a break ``0.3 Σuᵢ`` drifts at ``−0.3 Σuᵢ``, which a random point can
    make arbitrarily small: at one point of the shared generator the residual was 5e-4)."""
    return _invariant_loss(t, xp=xp) + 0.3 * xp.sum(t[:D] ** 2)


@pytest.mark.parametrize("precision", [None, 50])
def test_symmetric_generator_has_a_charge(precision) -> None:
    S = rng.standard_normal((5, 5))
    for A in (S + S.T, RESCALING[:5, :5]):
        report = noether_charge_iff_symmetric(A, rng.standard_normal(5), precision=precision)
        assert report.holds and report.details["symmetric"], report
        if precision is not None:
            assert max(c.residual for c in report.checks) <= 10.0 ** -(precision - 10)


@pytest.mark.parametrize("precision", [None, 50])
def test_non_symmetric_generator_has_none(precision) -> None:
    """Negative control (docs/theory.md#corollary-2-noether-flow, "a non-symmetric generator"): both parts fail for A ≠ Aᵀ."""
    A = rng.standard_normal((4, 4))
    report = noether_charge_iff_symmetric(A, rng.standard_normal(4), precision=precision)
    assert not report.details["symmetric"]
    assert not report.gradient.holds and report.gradient.residual > 1e-3
    assert not report.integrability.holds and report.integrability.residual > 1e-3


@pytest.mark.parametrize("precision", [None, 50])
def test_charge_is_conserved_by_gradient_flow(precision) -> None:
    """Its own point (not the shared generator's, which depends on the order of the tests); over 200
    random points the control's residual was ≥ 2.6e-3."""
    theta = np.random.default_rng(5).standard_normal(2 * D)
    report = noether_charge_conserved(_invariant_loss, RESCALING, theta, precision=precision)
    assert report.holds, report
    bad = noether_charge_conserved(_broken_loss, RESCALING, theta, precision=precision)
    assert not bad.holds and bad.flow.residual > 1e-3


def test_bad_generators_are_named_errors() -> None:
    with pytest.raises(ShapeError, match="n x n"):
        noether_charge_iff_symmetric(np.eye(3), np.zeros(4))
    with pytest.raises(ValueError, match="not symmetric"):
        noether_charge_conserved(_invariant_loss, np.triu(np.ones((2 * D, 2 * D))), np.ones(2 * D))
