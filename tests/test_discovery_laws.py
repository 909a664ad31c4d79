"""Quadratic conservation laws (pyspec.discovery.laws): found, complete, and conserved along RK4 flow."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

from pyspec.discovery import architecture
from pyspec.discovery.laws import find_conserved_quantities, gradient_flow_drift


@pytest.mark.parametrize("name", ["relu2", "linear2", "relu2_bias", "attention", "tanh2"])
def test_quadratic_laws_account_for_the_count(name):
    arch = architecture(name)
    model, theta, inputs = arch.build(0)
    found = find_conserved_quantities(model, theta, inputs, count=arch.known)
    assert found.independent == len(found.laws) == arch.known
    assert found.complete


@pytest.mark.parametrize("name", ["relu2", "linear2"])
def test_laws_are_conserved_by_gradient_flow(name):
    """RK4 gradient flow keeps every law found to 1e-8; ‖θ‖² (negative control) moves by O(1)."""
    model, theta, inputs = architecture(name).build(0)
    laws = find_conserved_quantities(model, theta, inputs).laws

    def total_norm(th):
        return sum(jnp.sum(w**2) for w in th.values())

    drift = gradient_flow_drift(model, theta, inputs, [*laws, total_norm], time=3.0, steps=3000)
    assert drift.drifts[:-1].max() <= 1e-8
    assert drift.drifts[-1] > 0.1 and drift.control > 0.1
    assert drift.loss[1] < drift.loss[0]


def test_a_non_conserved_quadratic_is_not_found():
    """Negative control: ‖W1‖² + ‖W2‖² is not in the span of the laws found for relu2."""
    import numpy as np

    model, theta, inputs = architecture("relu2").build(0)
    found = find_conserved_quantities(model, theta, inputs)
    family = found.laws[0].family
    u = np.zeros(family.size)
    for t in family.terms:
        if t.kind == "rows" and t.leaf == 0 or t.kind == "cols" and t.leaf == 1:
            p = t.shape[0]
            u[t.start : t.stop] = np.eye(p)[np.triu_indices(p)]
    basis = np.stack([law.coefficients for law in found.laws], axis=1)
    residual = u - basis @ (basis.T @ u)
    assert np.linalg.norm(residual) > 0.5 * np.linalg.norm(u)


def test_description_names_the_leaves():
    model, theta, inputs = architecture("relu2").build(0)
    text = find_conserved_quantities(model, theta, inputs).laws[0].describe()
    assert "['W1']" in text and "['W2']" in text
