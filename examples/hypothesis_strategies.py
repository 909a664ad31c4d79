"""Property tests of your own code with pyspec's Hypothesis strategies.

A strategy draws an ``Instance``: ``case.eq`` and ``case.loss`` go straight into a check; the point is
``case.a(xp)``, ``case.theta(xp)`` in a backend's namespace (``xp=None`` gives NumPy float64 arrays);
``pyspec.catalog.base.broken(case)`` is its negative control. Here a user-written function, the
``‖∇L‖``-weighted sum of Theorem 1's first-order identity, is tested on random equivariant models.
Every example is a new model: inside ``ps.backends.dual_float64()`` pyspec's float64 checks run on dual
numbers, ~10–50 ms a model, where JAX would compile each new model's operations again (~1–3 s).
Run: ``python examples/hypothesis_strategies.py`` (or collect ``test_*`` with pytest).
"""

import jax
import numpy as np
from hypothesis import given, settings

import pyspec as ps
from pyspec.catalog.base import broken
from pyspec.strategies import homogeneous_models

jax.config.update("jax_enable_x64", True)


def euler_gap(case):
    """My own function under test: |⟨∇L, θ⟩ − p·⟨∇ℓ, y⟩| for a p-homogeneous model (Euler)."""
    xp = ps.backends.get_backend().xp
    theta = case.theta(xp)
    f = lambda t: case.eq.model(t, xp=xp)  # noqa: E731
    L = lambda t: case.loss(f(t), xp=xp)  # noqa: E731
    g = jax.grad(L)(theta)
    dl = jax.grad(lambda y: case.loss(y, xp=xp))(f(theta))
    return abs(float(g @ theta - case.args["degree"] * (dl @ f(theta)))), float(np.linalg.norm(g) * np.linalg.norm(theta))


@settings(max_examples=5, deadline=None, derandomize=True, database=None)
@given(homogeneous_models(degrees=(2, 3)))
def test_my_euler_gap_vanishes_and_theorem1_agrees(case):
    a, theta = case.a(None), case.theta(None)  # NumPy float64 arrays
    gap, scale = euler_gap(case)
    assert gap <= 1e-12 * max(scale, 1.0)
    with ps.backends.dual_float64():  # a new model per example: no compilation (module docstring)
        assert ps.theorem1(case.eq, case.loss, a, theta).holds
        control = broken(case)  # the same model, equivariance broken: the check must flag it
        assert not ps.theorem1(control.eq, control.loss, a, theta, check_equivariance=False).holds


if __name__ == "__main__":
    test_my_euler_gap_vanishes_and_theorem1_agrees()
    print("property held on every drawn model")
