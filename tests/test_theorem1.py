"""Theorem 1 (eq. 12, items 1, 2a, 2b) on the catalog, with negative controls (pyspec.theorem1)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyspec.catalog import CATALOG
from pyspec.checks import compare
from pyspec.backends import get_backend
from tests.helpers import XP64, broken, run

CONTINUOUS = [name for name, e in CATALOG.items() if e.kind == "continuous"]
B = get_backend(None)


@pytest.fixture(scope="module", params=CONTINUOUS)
def reports(request):
    """(report, negative-control report) for one catalog entry, computed once."""
    instance = CATALOG[request.param].build(0)
    good = run(instance, jit=True)
    bad = run(broken(instance), jit=True, check_equivariance=False)
    return request.param, good, bad


def test_every_identity_holds_to_round_off(reports) -> None:
    name, good, _ = reports
    assert good.holds, name
    for check in good.checks:
        assert check.residual <= 1e-13, (name, check)


def test_negative_control_flags_every_identity(reports) -> None:
    """The same checks on a model broken by 1e-2·tanh(Nθ) (not equivariant) all fail."""
    name, _, bad = reports
    for check in bad.checks:
        assert not check.holds and check.residual >= 1e-6, (name, check)


def test_both_forms_of_item2_agree(reports) -> None:
    name, good, _ = reports
    for ts, vw in ((good.hessian_action, good.hessian_action_vw), (good.hessian_quadratic, good.hessian_quadratic_vw)):
        agree = compare(B, "forms", ts.rhs, {"vw": vw.rhs}, ts.tolerance)
        assert agree.residual <= agree.tolerance, (name, agree)  # both may be exactly 0 (a symmetry)


def test_every_nonzero_term_is_needed(reports) -> None:
    """Dropping any non-zero term of the (T, S) form of item 2a breaks the identity."""
    name, good, _ = reports
    check = good.hessian_action
    for term, value in check.terms.items():
        if np.linalg.norm(value) > 0:
            rest = {k: v for k, v in check.terms.items() if k != term}
            assert not compare(B, check.identity, check.lhs, rest, check.tolerance).holds, (name, term)


# Which terms vanish (docs/theory.md#theorem-1): green for a symmetry (w = 0, S_ya = S_yy = 0), blue for T affine in θ.
VANISHING = {
    "relu_mlp_homogeneous": {"blue"},
    "polynomial_homogeneous": {"blue"},
    "neuron_rescaling": {"green_K", "green_S", "blue"},
    "gl_reparameterization": {"green_K", "green_S", "blue"},
    "softmax_translation": {"green_K", "green_S", "blue", "plain"},
    "rotation_expm": {"green_K", "green_S", "blue"},
    "last_layer_gl": {"blue"},
    "nonlinear_homogeneous": set(),
    "nonlinear_last_layer": set(),
    "nonlinear_reparameterization": {"green_K", "green_S"},
    "scalar_homogeneous": {"blue"},
    "noether_per_sample": {"green_K", "green_S", "blue"},
    "reparameterization_minimum": {"green_K", "green_S", "blue", "plain"},  # ∇L = 0: γ = 0
}


def test_terms_vanish_exactly_as_predicted(reports) -> None:
    name, good, _ = reports
    norms = {k: float(np.linalg.norm(v)) for k, v in good.hessian_action.terms.items()}
    scale = good.hessian_action.scale
    for term, value in norms.items():
        if term in VANISHING[name]:
            assert value <= 1e-14 * scale, (name, term, value)
        else:
            assert value > 1e-6 * scale, (name, term, value)


def test_every_catalog_entry_is_listed() -> None:
    assert set(VANISHING) == set(CONTINUOUS)


@pytest.mark.parametrize("perturb", [False, True])
def test_linear_symmetry_special_case(perturb) -> None:
    """T(a, θ) = exp(aA)θ, S = id: H Aθ = −Aᵀ∇L (docs/theory.md#theorem-1), computed directly with JAX."""
    instance = CATALOG["rotation_expm"].build(0)
    if perturb:
        instance = broken(instance)
    theta = jnp.asarray(instance.theta(XP64))

    def T(a, t):
        return instance.eq.T(a, t, xp=XP64)

    def L(t):
        return instance.loss(instance.eq.model(t, xp=XP64), xp=XP64)

    A = jax.jacfwd(lambda a: jax.jacfwd(lambda t: T(a, t))(theta))(jnp.zeros(1))[:, :, 0]
    lhs = jax.hessian(L)(theta) @ (A @ theta)
    rhs = -A.T @ jax.grad(L)(theta)
    residual = float(jnp.linalg.norm(lhs - rhs) / jnp.linalg.norm(rhs))
    assert (residual > 1e-4) if perturb else (residual < 1e-13)


def test_high_precision_catalog_entry() -> None:
    instance = CATALOG["nonlinear_last_layer"].build(0)
    report = run(instance, precision=50)
    assert report.holds and max(c.residual for c in report.checks) < 1e-45
    bad = run(broken(instance), precision=50, check_equivariance=False)
    assert all(not c.holds and c.residual > 1e-6 for c in bad.checks)
