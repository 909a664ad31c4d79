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
from tests.helpers import holds_and_control_flagged


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.homogeneous_models())
def test_theorem1_homogeneous_models(case: Instance) -> None:
    holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.linear_symmetries())
def test_theorem1_linear_symmetries(case: Instance) -> None:
    holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.gl_reparameterizations())
def test_theorem1_gl_reparameterizations(case: Instance) -> None:
    holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.last_layer_models())
def test_theorem1_last_layer_models(case: Instance) -> None:
    holds_and_control_flagged(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES)
@given(strategies.nonlinear_conjugations())
def test_theorem1_nonlinear_conjugations(case: Instance) -> None:
    holds_and_control_flagged(case)


@given(strategies.discrete_symmetries())
def test_theorem2_discrete_symmetries(case: Instance) -> None:
    holds_and_control_flagged(case)


@settings(max_examples=10)
@given(strategies.equivariant_models() | strategies.discrete_symmetries())
def test_points_without_a_namespace_are_numpy(case: Instance) -> None:
    """``case.a(None)``, ``case.theta(None)`` (and ``off_fixed``, ``O``) give NumPy float64 arrays."""
    import numpy as np

    points = [case.a(None), case.theta(None)]
    points += [case.off_fixed(None)] if case.off_fixed is not None else []
    points += [case.args["O"](None)] if "O" in case.args else []
    assert all(isinstance(p, np.ndarray) and p.dtype == np.float64 for p in points)
