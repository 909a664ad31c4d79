"""Property tests: Theorems 1 and 2 on random equivariant models built by construction
(pyspec.strategies), each example beside its negative control (the same model, broken).

The Theorem 2 property runs the ``ci`` profile's 200 examples. The Theorem 1 properties cost ~0.3 s an
example (two full checks, with the v-form's nested derivatives) and are marked ``slow``: ``make test``
runs them at 50 examples each, ``make test-full`` at 200.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from pyspec import strategies
from pyspec.catalog import Instance
from tests.conftest import SLOW_EXAMPLES
from tests.helpers import broken, run


def _holds_and_control_flagged(case: Instance) -> None:
    report = run(case)
    assert report.holds, (case.eq.name, report.checks)
    if case.off_fixed is None:
        bad = run(broken(case), check_equivariance=False)
        flagged = [not c.holds and c.residual >= 1e-6 for c in bad.checks]
        assert all(flagged), (case.eq.name, bad.checks)
    else:
        off = case.__class__(eq=case.eq, loss=case.loss, a=case.a, theta=case.off_fixed, off_fixed=case.off_fixed)
        bad = run(off, check_hypotheses=False)
        assert all(not c.holds and c.residual >= 1e-6 for c in bad.checks), (case.eq.name, bad.checks)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.homogeneous_models())
def test_theorem1_homogeneous_models(case: Instance) -> None:
    _holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.linear_symmetries())
def test_theorem1_linear_symmetries(case: Instance) -> None:
    _holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.gl_reparameterizations())
def test_theorem1_gl_reparameterizations(case: Instance) -> None:
    _holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.last_layer_models())
def test_theorem1_last_layer_models(case: Instance) -> None:
    _holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.nonlinear_conjugations())
def test_theorem1_nonlinear_conjugations(case: Instance) -> None:
    _holds_and_control_flagged(case)


@given(strategies.discrete_symmetries())
def test_theorem2_discrete_symmetries(case: Instance) -> None:
    _holds_and_control_flagged(case)
