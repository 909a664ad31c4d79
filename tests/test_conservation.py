"""§4.1 (pyspec.conservation): eq. (2), the rescaling and reparameterization laws on random models, with
their negative controls (broken model, wrong charge) and named errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyspec as ps
from pyspec import strategies
from pyspec.applications import APPLICATIONS
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG, Instance
from pyspec.conservation import reparam_problem, reparam_report
from pyspec.report import perturbed
from tests.conftest import PROPERTY_EXAMPLES
from tests.helpers import XP64, on_duals, outcomes_hold_and_controls_flagged


@settings(max_examples=PROPERTY_EXAMPLES)
@given(st.one_of(strategies.rescaling_models(), strategies.gl_reparameterizations(), strategies.linear_symmetries()))
def test_symmetry_orthogonality_properties(case: Instance) -> None:
    with on_duals():
        outcomes_hold_and_controls_flagged(
            APPLICATIONS["symmetry_orthogonality"](case, None, ("symmetry_orthogonality",), jit=False))


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.rescaling_models())
def test_rescaling_properties(case: Instance) -> None:
    """Controls: the broken model (balance) and the charge ‖u‖² + ‖w‖² (flow)."""
    with on_duals():
        outcomes_hold_and_controls_flagged(
            APPLICATIONS["rescaling_conservation"](case, None, ("rescaling_conservation",), jit=False))


def _gram_sum(W1, W2, *, xp):
    return W1 @ W1.T + W2.T @ W2


@settings(max_examples=PROPERTY_EXAMPLES)
@given(strategies.gl_reparameterizations())
def test_reparam_properties(case: Instance) -> None:
    """Controls: the broken model (balance) and the charge W₁W₁ᵀ + W₂ᵀW₂ (flow)."""
    with on_duals():
        backend = get_backend(None, jit=False)
        shapes, layers = case.args["shapes"], case.args["layers"]
        problem, th = reparam_problem(case.eq.model, case.loss, case.theta(backend.xp), shapes, layers, backend)
        good = reparam_report(problem, th, shapes, layers)
        assert good.holds, good.checks
        for bad in (reparam_report(perturbed(problem, th), th, shapes, layers).balance,
                    reparam_report(problem, th, shapes, layers, _gram_sum).flow):
            assert not bad.holds and bad.residual >= 1e-6, bad


@pytest.mark.parametrize("precision", [None, 50])
def test_rescaling_on_the_catalog(precision) -> None:
    instance = CATALOG["neuron_rescaling"].build(0)
    xp = get_backend(precision).xp
    with get_backend(precision).context():
        theta = instance.theta(xp)
    report = ps.rescaling_conservation(instance.eq.model, instance.loss, theta, [(4, 3), (2, 4)],
                                       precision=precision, jit=False)
    assert report.holds and report.balance.lhs.shape == (4,)
    if precision:
        assert max(c.residual for c in report.checks) <= 1e-40


def test_a_model_without_the_symmetry_is_a_named_error() -> None:
    """tanh is not positively homogeneous: the rescaling of its hidden layer is not a symmetry."""
    instance = CATALOG["gl_reparameterization"].build(0)
    with pytest.raises(ps.EquivarianceError):
        ps.rescaling_conservation(instance.eq.model, instance.loss, instance.theta(XP64), [(3, 3), (4, 3), (2, 4)],
                                  layers=(1, 2), jit=False)


def test_layout_errors() -> None:
    instance = CATALOG["neuron_rescaling"].build(0)
    with pytest.raises(ps.ShapeError, match="hidden layer"):
        ps.rescaling_conservation(instance.eq.model, instance.loss, instance.theta(XP64), [(4, 3), (4, 2)], jit=False)
    with pytest.raises(ps.ShapeError, match="two different blocks"):
        ps.reparam_conservation(instance.eq.model, instance.loss, instance.theta(XP64), [(4, 3), (2, 4)],
                                layers=(0, 0), jit=False)


def test_symmetry_orthogonality_needs_a_symmetry() -> None:
    instance = CATALOG["last_layer_gl"].build(0)
    with pytest.raises(ValueError, match="symmetry"):
        ps.symmetry_orthogonality(instance.eq, instance.loss, instance.a(XP64), instance.theta(XP64), jit=False)


def test_rescaling_symmetry_is_the_papers_direction() -> None:
    """v = (u, −w)/a per unit (docs/theory.md#rescaling-symmetry), from Definition 2 on rescaling_symmetry."""
    instance = CATALOG["neuron_rescaling"].build(0)
    eq = ps.rescaling_symmetry(instance.eq.model, [(4, 3), (2, 4)])
    a, theta = np.array([1.0, 2.0, 0.5, 1.5]), np.asarray(instance.theta(XP64))
    v = np.asarray(ps.characteristic_direction(eq, a, theta))
    W1, W2 = theta[:12].reshape(4, 3), theta[12:].reshape(2, 4)
    expected = np.zeros((20, 4))
    for j in range(4):
        u = np.zeros((4, 3))
        u[j] = W1[j]
        w = np.zeros((2, 4))
        w[:, j] = -W2[:, j]
        expected[:, j] = np.concatenate([u.ravel(), w.ravel()]) / a[j]
    assert np.allclose(v, expected, rtol=1e-13, atol=1e-15)
