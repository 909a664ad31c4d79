"""Binding equivariances to backends: pytrees, shape and finiteness errors (pyspec.equivariance)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.equivariance import bind

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))


def tree_model(theta, *, xp):
    return xp.ravel(xp.tanh(theta["W2"] @ (theta["W1"] @ X)))


def tree_T(A, theta, *, xp):
    return {"W1": A @ theta["W1"], "W2": theta["W2"] @ xp.inv(A)}


def loss(y, *, xp):
    return 0.5 * xp.sum(y * y)


TREE_EQ = ps.Equivariance(model=tree_model, T=tree_T, name="tree_reparameterization")
TREE_THETA = {"W1": rng.standard_normal((2, 3)), "W2": rng.standard_normal((2, 2))}
A = np.eye(2) + 0.2 * rng.standard_normal((2, 2))


def test_pytree_parameters_and_matrix_a() -> None:
    report = ps.theorem1(TREE_EQ, loss, A, TREE_THETA)
    assert report.holds
    v = ps.characteristic_direction(TREE_EQ, A, TREE_THETA)
    assert v.shape == (10, 4)  # n = 6 + 4 parameters, k = 2 × 2


def test_pytree_high_precision() -> None:
    report = ps.theorem1(TREE_EQ, loss, A, TREE_THETA, precision=30)
    assert report.holds and max(c.residual for c in report.checks) < 1e-20


def test_plain_jax_model_runs_in_float64_only() -> None:
    W = rng.standard_normal((2, 3))
    eq = ps.Equivariance(model=lambda th: W @ th, T=lambda a, th: jnp.exp(a[0]) * th,
                         S=lambda a, y: jnp.exp(a[0]) * y, name="plain_jax")
    assert ps.theorem1(eq, lambda y: jnp.sum(y**2), np.array([1.5]), rng.standard_normal(3)).holds
    with pytest.raises(TypeError, match="not backend-neutral"):
        ps.theorem1(eq, lambda y: jnp.sum(y**2), np.array([1.5]), rng.standard_normal(3), precision=30)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("model", lambda th, *, xp: xp.reshape(th[:4], (2, 2)), "model must return a 1-D"),
        ("T", lambda a, th, *, xp: th[:-1], "T returned shape"),
        ("S", lambda a, y, *, xp: y[:-1], r"S\(a, y\) returned shape"),
    ],
)
def test_shape_errors_name_the_function(field, bad, message) -> None:
    eq = ps.Equivariance(model=lambda th, *, xp: th * 2, T=lambda a, th, *, xp: a[0] * th,
                         S=lambda a, y, *, xp: a[0] * y)
    with pytest.raises(ps.ShapeError, match=message):
        ps.theorem1(eq.replace(**{field: bad}), loss, np.array([1.2]), np.ones(5))


def test_loss_must_be_scalar() -> None:
    eq = ps.Equivariance(model=lambda th, *, xp: th, T=lambda a, th, *, xp: th)
    with pytest.raises(ps.ShapeError, match="loss must return a scalar"):
        ps.theorem1(eq, lambda y, *, xp: y, np.zeros(1), np.ones(3))


def test_tree_T_structure_error() -> None:
    eq = TREE_EQ.replace(T=lambda A, th, *, xp: {"W1": th["W1"]})
    with pytest.raises(ps.ShapeError, match="structure"):
        ps.theorem1(eq, loss, A, TREE_THETA)


@pytest.mark.parametrize("where", ["theta", "a", "model", "T", "loss"])
def test_non_finite_values_are_errors(where) -> None:
    eq = ps.Equivariance(model=lambda th, *, xp: th, T=lambda a, th, *, xp: a[0] * th, S=lambda a, y, *, xp: a[0] * y)
    theta, a, ell = np.ones(3), np.array([1.5]), loss
    if where == "theta":
        theta = np.array([1.0, np.nan, 0.0])
    elif where == "a":
        a = np.array([np.inf])
    elif where == "model":
        eq = eq.replace(model=lambda th, *, xp: th / 0.0)
    elif where == "T":
        eq = eq.replace(T=lambda a, th, *, xp: th * np.inf)
    else:
        ell = lambda y, *, xp: xp.sum(xp.log(y - 5.0))  # noqa: E731  (log of negatives: NaN)
    with pytest.raises(ps.NonFiniteError):
        ps.theorem1(eq, ell, a, theta)


def test_bind_reports_dimensions() -> None:
    problem, a_flat, theta_flat = bind(TREE_EQ, loss, A, TREE_THETA, get_backend(None))
    assert (problem.n, problem.m, problem.k) == (10, 8, 4)
    assert a_flat.shape == (4,) and theta_flat.shape == (10,)
    assert problem.unflatten_theta(theta_flat)["W1"].shape == (2, 3)


def test_flat_T_and_leaf_T_agree_with_concatenation_and_transpose_exactly() -> None:
    """``Problem.T`` (joined by in-place updates, split by ``lax.split``) equals the plain concatenation
    of ``T``'s leaves, ``T_leaves`` equals those leaves, and the JVP and VJP of the flat ``T`` are the
    concatenated leaf derivatives (``∂θT`` is exact under the layout)."""
    rng = np.random.default_rng(2)
    theta = {"A": rng.standard_normal((3, 2)), "b": rng.standard_normal(4), "c": rng.standard_normal((2, 2))}

    def T(a, p):
        return {"A": a[0] * p["A"], "b": jnp.tanh(p["b"]) + a[1], "c": p["c"] @ p["c"]}

    eq = ps.Equivariance(model=lambda p: jnp.concatenate([jnp.ravel(p["A"]), p["b"]]), T=T, name="layout")
    problem, a, th = bind(eq, None, np.array([1.5, 0.2]), theta, get_backend(None))

    def reference(t):
        return jnp.concatenate([jnp.ravel(x) for x in jax.tree_util.tree_leaves(T(a, problem.unflatten_theta(t)))])

    assert np.array_equal(np.asarray(problem.T(a, th)), np.asarray(reference(th)))
    leaves = [th[o : o + s] for o, s in problem.theta_segments]
    assert np.array_equal(np.concatenate([np.asarray(x) for x in problem.T_leaves(a, leaves)]), np.asarray(reference(th)))
    u = jnp.asarray(rng.standard_normal(th.shape[0]))
    assert np.allclose(jax.jvp(lambda t: problem.T(a, t), (th,), (u,))[1], jax.jvp(reference, (th,), (u,))[1], rtol=0, atol=1e-15)
    assert np.allclose(jax.vjp(lambda t: problem.T(a, t), th)[1](u)[0], jax.vjp(reference, th)[1](u)[0], rtol=0, atol=1e-15)
