"""Property tests: Theorems 1 and 2 on random equivariant models built by construction
(pyspec.strategies), each example beside its negative control (the same model, broken).

Every example is a new model, so the properties run on float64 dual numbers
(:func:`pyspec.backends.dual_float64`: the same check code and IEEE arithmetic, ~10–50 ms an example,
where JAX pays a compilation per new model or per operation). JAX itself is held to the same
properties, and to the dual numbers' residuals, on a fixed sample of each strategy
(:func:`test_jax_agrees_with_duals`).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from pyspec import strategies
from pyspec.backends import dual_float64
from pyspec.catalog import Instance
from pyspec.catalog.base import broken
from tests.conftest import AGREEMENT_EXAMPLES, PROPERTY_EXAMPLES
from tests.helpers import holds_and_control_flagged, off_fixed_instance, run

THEOREM1_STRATEGIES = {
    "homogeneous": strategies.homogeneous_models,
    "linear_symmetry": strategies.linear_symmetries,
    "gl_reparameterization": strategies.gl_reparameterizations,
    "last_layer": strategies.last_layer_models,
    "nonlinear_conjugation": strategies.nonlinear_conjugations,
}


@pytest.mark.parametrize("family", sorted(THEOREM1_STRATEGIES))
def test_theorem1_random_models(family: str) -> None:
    @settings(max_examples=PROPERTY_EXAMPLES)
    @given(THEOREM1_STRATEGIES[family]())
    def holds(case: Instance) -> None:
        with dual_float64():
            holds_and_control_flagged(case)

    holds()


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.discrete_symmetries())
def test_theorem2_discrete_symmetries(case: Instance) -> None:
    with dual_float64():
        holds_and_control_flagged(case)


@pytest.mark.parametrize("family", sorted(THEOREM1_STRATEGIES) + ["discrete"])
def test_jax_agrees_with_duals(family: str) -> None:
    """On a fixed sample of each strategy, JAX (compiled, pyspec's default path) passes the same
    property, and its residuals agree with the dual numbers' to the check's tolerance (both are float64
    rounding of the same quantities: a residual is ~1e-16 of the terms, the tolerance ~1e-13 of them).
    JAX flags the negative control too. Compiled, because each example is a new model that compiles
    anyway: the six samples took 30 s against 45 s op by op (two workers; the op-by-op path is held to
    the compiled one by ``tests/test_compiled_equals_eager.py``)."""
    strategy = strategies.discrete_symmetries() if family == "discrete" else THEOREM1_STRATEGIES[family]()

    @settings(max_examples=AGREEMENT_EXAMPLES)
    @given(strategy)
    def agree(case: Instance) -> None:
        jax_report = run(case, jit=True)
        with dual_float64():
            dual_report = run(case)
        assert jax_report.holds and dual_report.holds, (jax_report.checks, dual_report.checks)
        for j, d in zip(jax_report.checks, dual_report.checks, strict=True):
            assert abs(j.tolerance - d.tolerance) <= 1e-6 * j.tolerance, (j, d)
            assert abs(j.residual - d.residual) <= j.tolerance, (j, d)
        if case.off_fixed is None:
            control = run(broken(case), jit=True, check_equivariance=False)
        else:
            control = run(off_fixed_instance(case), jit=True, check_hypotheses=False)
        assert not any(c.holds for c in control.checks), control.checks

    agree()


@settings(max_examples=1)
@given(strategies.homogeneous_models())
def test_duals_refuse_the_jax_only_methods(case: Instance) -> None:
    for method in ("matrix_free", "sketched"):
        with dual_float64(), pytest.raises(ValueError, match="JAX float64 only"):
            run(case, method=method)


@settings(max_examples=10)
@given(strategies.equivariant_models() | strategies.discrete_symmetries())
def test_points_without_a_namespace_are_numpy(case: Instance) -> None:
    """``case.a(None)``, ``case.theta(None)`` (and ``off_fixed``, ``O``) give NumPy float64 arrays."""
    import numpy as np

    points = [case.a(None), case.theta(None)]
    points += [case.off_fixed(None)] if case.off_fixed is not None else []
    points += [case.args["O"](None)] if "O" in case.args else []
    assert all(isinstance(p, np.ndarray) and p.dtype == np.float64 for p in points)
