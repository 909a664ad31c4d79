"""Certified counterexamples (pyspec.counterexamples): each uncorrected statement is proved false at
its committed rational instance, each corrected identity is enclosed within 1e-40 of holding."""

from __future__ import annotations

import json

from fractions import Fraction

import pytest

pytest.importorskip("flint")

from pyspec.certify import CERTIFIED_BOUND  # noqa: E402
from pyspec.cli import main  # noqa: E402
from pyspec.counterexamples import COUNTEREXAMPLES_FILE, counterexamples, load_instances  # noqa: E402

NAMES = {"corollary1_without_kappa", "theorem2_without_blue_term", "corollary2_wrong_normalization"}


@pytest.fixture(scope="module")
def results():
    return {r.name: r for r in counterexamples()}


def test_every_correction_has_a_certified_counterexample(results) -> None:
    assert set(results) == NAMES
    for r in results.values():
        assert r.uncorrected.lower > 0.0, r.name  # the enclosure of the uncorrected residual excludes 0
        assert r.corrected.lower == 0.0 and r.corrected.upper <= CERTIFIED_BOUND, r.name
        assert r.corrected_check.residual_bound is not None and r.corrected_check.residual_bound <= CERTIFIED_BOUND
        assert r.certified


def test_the_uncorrected_residuals_are_large(results) -> None:
    """Not a rounding artefact: the violations are of order 1e-2 to 1 (exact values where known)."""
    assert results["corollary1_without_kappa"].uncorrected.lower == pytest.approx(81 / 64)  # |<∇L, θ>| = 2|ℓ′|f
    assert results["theorem2_without_blue_term"].uncorrected.lower > 0.1
    assert results["corollary2_wrong_normalization"].uncorrected.lower > 1e-3


def test_instances_are_exact_rationals() -> None:
    raw = json.loads(COUNTEREXAMPLES_FILE.read_text())
    assert set(raw) == NAMES
    parsed = load_instances()
    assert parsed["corollary1_without_kappa"]["target"] == float(Fraction(27, 16))


def _changed(tmp_path, value: str):
    """The committed file with Corollary 1's target replaced by ``value``."""
    changed = json.loads(COUNTEREXAMPLES_FILE.read_text())
    changed["corollary1_without_kappa"]["target"] = value
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    return path


def test_a_non_dyadic_rational_is_rejected(tmp_path) -> None:
    with pytest.raises(ValueError, match="not exactly representable"):
        load_instances(_changed(tmp_path, "1/3"))


def test_a_valid_instance_of_corollary1_is_not_a_counterexample(tmp_path) -> None:
    """Negative control: with a target for which κ ≠ 0, H θ ≠ 0 and the certificate refuses."""
    with pytest.raises(ArithmeticError, match="not certified"):
        counterexamples(_changed(tmp_path, "1"))


def test_cli(capsys) -> None:
    assert main(["counterexamples"]) == 0
    out = capsys.readouterr().out
    assert out.count("CERTIFIED") == 3 and "NOT CERTIFIED" not in out
