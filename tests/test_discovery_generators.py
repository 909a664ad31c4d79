"""Linear symmetry generators (pyspec.discovery.generators) and their uses: Theorem 1, eq. (5), §5.4."""

from __future__ import annotations

import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG
from pyspec.catalog.base import broken
from pyspec.discovery import architecture
from pyspec.discovery.generators import discover_symmetries
from pyspec.discovery.laws import gradient_flow_drift


@pytest.mark.parametrize("name, generators, charges", [
    ("relu2", 4, 4), ("linear2", 9, 6), ("attention", 8, 6), ("tanh2", 0, 0),
])
def test_generators_of_the_architectures(name, generators, charges):
    """Rescalings (4), GL(3) (9, of which 6 symmetric), GL(2) × GL(2) (8, 6 symmetric), none."""
    model, theta, inputs = architecture(name).build(0)
    found = discover_symmetries(model, theta, inputs)
    assert (found.count, len(found.charges())) == (generators, charges)


def _targets_loss(found, seed=0):
    y = np.asarray(found.flat.F(found.flat.t))
    target = y + 0.5 * np.random.default_rng(seed).standard_normal(y.shape)
    return lambda out, *, xp: 0.5 * xp.sum((out - target) ** 2)


def test_discovered_equivariance_passes_theorem1_and_a_wrong_one_is_caught():
    model, theta, inputs = architecture("linear2").build(0)
    found = discover_symmetries(model, theta, inputs)
    loss, t = _targets_loss(found), np.asarray(found.flat.t)
    report = ps.theorem1(found.equivariance(), loss, np.zeros(found.count), t)
    assert report.holds
    rng = np.random.default_rng(1)
    wrong = found._replace(matrices=found.matrices + 0.1 * rng.standard_normal(found.matrices.shape))
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(wrong.equivariance(), loss, np.zeros(found.count), t)


def test_charges_of_symmetric_generators_are_conserved():
    model, theta, inputs = architecture("linear2").build(0)
    found = discover_symmetries(model, theta, inputs)
    drift = gradient_flow_drift(model, theta, inputs, found.charges(), time=2.0, steps=2000)
    assert drift.drifts.max() <= 1e-8 and drift.control > 0.05


def test_null_space_bound_at_a_stationary_point():
    """§5.4: at a global minimum, H has at least rank[A_iθ] zero eigenvalues; off it, H A θ ≠ 0."""
    import jax
    import jax.numpy as jnp

    model, theta, inputs = architecture("linear2").build(0)
    found = discover_symmetries(model, theta, inputs)
    F, t = found.flat.F, found.flat.t
    y_star = F(t)
    H = np.asarray(jax.hessian(lambda s: 0.5 * jnp.sum((F(s) - y_star) ** 2))(t))
    bound = found.null_space_bound(theta)
    eig = np.abs(np.linalg.eigvalsh(H))
    assert bound == 9
    assert np.sum(eig < 1e-10 * eig.max()) >= bound
    assert np.linalg.norm(H @ found.directions(theta)) < 1e-10 * np.linalg.norm(H)
    shifted = y_star + 0.3
    H_off = np.asarray(jax.hessian(lambda s: 0.5 * jnp.sum((F(s) - shifted) ** 2))(t))
    assert np.linalg.norm(H_off @ found.directions(theta)) > 1e-3 * np.linalg.norm(H_off)


@pytest.mark.parametrize("name, family", [("rotation_expm", "linear"), ("softmax_translation", "affine")])
def test_catalog_symmetries_are_rediscovered_and_nothing_when_broken(name, family):
    xp = get_backend(None, jit=False).xp
    inst = CATALOG[name].build(0)
    theta, a = np.asarray(inst.theta(xp)), np.asarray(inst.a(xp))
    found = discover_symmetries(inst.eq.model, theta, family=family)
    v = np.asarray(ps.characteristic_direction(inst.eq, a, theta))
    Q, _ = np.linalg.qr(found.directions(theta))
    assert np.linalg.norm(v - Q @ (Q.T @ v)) <= 1e-10 * np.linalg.norm(v)
    assert discover_symmetries(broken(inst).eq.model, theta, family=family).count == 0


def test_unknown_family_is_named():
    model, theta, inputs = architecture("linear1").build(0)
    with pytest.raises(ValueError, match="family"):
        discover_symmetries(model, theta, inputs, family="quadratic")
