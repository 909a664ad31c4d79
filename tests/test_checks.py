"""Residuals and tolerances (pyspec.checks)."""

from __future__ import annotations

import numpy as np
import pytest

from pyspec.backends import get_backend
from pyspec.checks import SAFETY, compare, tolerance
from pyspec.errors import NonFiniteError

B = get_backend(None)


def test_residual_is_relative_to_the_terms() -> None:
    lhs = np.array([1.0, 2.0])
    check = compare(B, "x", lhs, {"a": np.array([0.5, 1.0]), "b": np.array([0.5, 1.0 + 1e-9])}, 1e-12)
    assert check.residual == pytest.approx(1e-9 / np.linalg.norm(lhs), rel=1e-6)
    assert not check.holds  # 4e-10 > 1e-12: a wrong right side is flagged


def test_exact_identity_holds() -> None:
    lhs = np.array([1.0, -3.0])
    check = compare(B, "x", lhs, {"a": np.array([0.25, -1.0]), "b": np.array([0.75, -2.0])}, tolerance(B, 2))
    assert check.residual == 0.0 and check.holds and not check.trivial


def test_cancelling_terms_are_measured_against_their_size() -> None:
    big = np.array([1e8, 0.0])
    check = compare(B, "x", np.array([1e-3, 0.0]), {"a": big, "b": -big}, 1e-12)
    assert check.scale == pytest.approx(2e8)
    assert check.residual == pytest.approx(1e-3 / 2e8)


def test_natural_scale_when_both_sides_vanish() -> None:
    check = compare(B, "x", np.array([1e-17]), {"w": np.array([0.0])}, 1e-13, natural=1.0)
    assert check.residual == pytest.approx(1e-17) and check.holds
    without = compare(B, "x", np.array([1e-17]), {"w": np.array([0.0])}, 1e-13)
    assert without.residual == 1.0 and not without.holds  # negative control: no scale, no meaning


def test_all_zero_is_vacuous_not_holds() -> None:
    check = compare(B, "x", np.zeros(3), {"a": np.zeros(3)}, 1e-13)
    assert check.trivial and check.residual == 0.0
    assert check.verdict == "inconclusive" and check.holds is None and "vacuous" in check.reason


def test_tolerance_formula() -> None:
    assert tolerance(B, 10, 3.0) == pytest.approx(SAFETY * 10 * 3.0 * 2.0**-53)
    assert tolerance(B, 0, 0.5) == pytest.approx(SAFETY * 2.0**-53)  # dimension and κ floor at 1


def test_non_finite_sides_raise() -> None:
    with pytest.raises(NonFiniteError, match="lhs"):
        compare(B, "x", np.array([np.nan]), {"a": np.array([1.0])}, 1e-13)
    with pytest.raises(NonFiniteError, match="rhs"):
        compare(B, "x", np.array([1.0]), {"a": np.array([np.inf])}, 1e-13)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        compare(B, "x", np.zeros(2), {"a": np.zeros(3)}, 1e-13)


def test_sides_are_the_kept_arrays_and_a_norms_only_check_has_none() -> None:
    from pyspec.checks import Norms, compare_norms

    lhs = np.array([1.0, -3.0])
    check = compare(B, "x", lhs, {"a": np.array([0.25, -1.0]), "b": np.array([0.75, -2.0])}, tolerance(B, 2))
    kept_lhs, kept_rhs = check.sides()
    assert np.array_equal(kept_lhs, lhs) and np.array_equal(kept_rhs, lhs)  # rhs = a + b = lhs here
    norms_only = compare_norms(B, "x", Norms(lhs=1.0, rhs=1.0, terms={"a": 1.0}, difference=0.0), 1e-12)
    with pytest.raises(ValueError, match="norms only"):
        norms_only.sides()
