"""A small sample of the independent random-model generator (tests.random_models) in the default
run: no false alarm on valid models, and violations of relative size 1e-6 are caught (the ≥ 10⁴-model
job is ``benchmarks/verdicts.py``)."""

from __future__ import annotations

import warnings

import pytest

import pyspec as ps
from tests.random_models import FAMILIES, draw, violated


def _check(case):
    check = ps.theorem2 if case.discrete else ps.theorem1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ps.NonDifferentiableWarning)
        return check(case.eq, case.loss, case.a, case.theta)


@pytest.mark.parametrize("family", FAMILIES)
def test_valid_random_model_is_never_a_false_alarm(family) -> None:
    case = draw(FAMILIES.index(family) + 7, family=family)
    report = _check(case)  # a hypothesis error here would be a false alarm too
    assert report.verdict != "fails", (case.family, case.loss_name, report.reason)


@pytest.mark.parametrize("family", FAMILIES)
def test_violation_of_1e_6_is_caught(family) -> None:
    case = violated(draw(FAMILIES.index(family) + 7, family=family), 1e-6, seed=3)
    try:
        report = _check(case)
    except (ps.EquivarianceError, ps.NotFixedPointError):
        return
    assert report.verdict == "fails", (case.family, case.loss_name, report.reason)
