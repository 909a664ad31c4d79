"""Parameter containers as the user holds them (pyspec.adapters): Equinox, Flax NNX module and State,
linen variables, plain pytrees; errors name the leaf by key path."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import pyspec as ps
from pyspec.adapters import TreeView, parse_path, path_name
from tests.framework_models import EqxMLP, NnxMLP, inputs, linen_mlp, squared_loss

X = inputs((4, 2))
LOSS = squared_loss(inputs((4, 3), seed=2))


def _scale_all(a, tree):
    view = TreeView(tree)
    return view.rebuild([a[0] * x for x in view.arrays(tree)])


def _homogeneous(model, degree):
    return ps.Equivariance(model=model, T=_scale_all, S=lambda a, y: a[0] ** degree * y, name="homogeneity")


def test_equinox_module_is_partitioned():
    mlp = EqxMLP((2, 4, 3), bias=False)  # holds jax.nn.relu (a custom_jvp) as a leaf
    view = TreeView(mlp)
    assert view.kind == "equinox" and view.names == ("layers[0].weight", "layers[1].weight")
    eq = _homogeneous(lambda m: jax.vmap(m)(X).ravel(), 2)
    assert ps.theorem1(eq, LOSS, np.array([1.3]), mlp).holds
    broken = _homogeneous(lambda m: jax.vmap(m)(X).ravel(), 3)  # wrong degree: negative control
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(broken, LOSS, np.array([1.3]), mlp)


def test_nnx_module_and_state_keep_param_wrappers():
    model = NnxMLP((2, 4, 4, 3), bias=False)
    graph, state = nnx.split(model)
    view = TreeView(state)
    assert view.names == ("l1.kernel", "l2.kernel", "l3.kernel")
    rebuilt = view.rebuild([2.0 * x for x in view.arrays(state)])
    assert isinstance(rebuilt["l1"]["kernel"], nnx.Param)
    np.testing.assert_allclose(rebuilt["l1"]["kernel"][...], 2.0 * state["l1"]["kernel"][...])
    for theta, f in ((model, lambda m: m(X).ravel()), (state, lambda s: nnx.merge(graph, s)(X).ravel())):
        assert ps.theorem1(_homogeneous(f, 3), LOSS, np.array([0.8]), theta).holds


def test_linen_variables():
    model, variables = linen_mlp((2, 4, 3))
    view = TreeView(variables)
    assert view.kind == "linen" and view.names[0] == "params.Dense_0.bias"
    eq = ps.symmetries.rescaling(variables, "params.Dense_0", "params.Dense_1").equivariance(
        lambda v: model.apply(v, X).ravel())
    assert ps.theorem1(eq, LOSS, np.exp(0.1 * np.arange(4)), variables).holds


def test_non_array_leaf_of_a_plain_pytree_is_named():
    theta = {"w": np.ones((2, 2)), "act": jax.nn.relu}
    eq = ps.Equivariance(model=lambda t: t["w"].ravel(), T=lambda a, t: t)
    with pytest.raises(ps.ShapeError, match=r"leaf 'act' is a custom_jvp"):
        ps.check_equivariance(eq, np.zeros(1), theta)


def test_wrong_leaf_shape_is_named_by_key_path():
    mlp = EqxMLP((2, 4, 3))

    def T(a, m):
        return eqx.tree_at(lambda q: q.layers[1].bias, m, jnp.zeros(5))

    eq = ps.Equivariance(model=lambda m: jax.vmap(m)(X).ravel(), T=T)
    with pytest.raises(ps.ShapeError, match=r"'layers\[1\]\.bias' of shape \(5,\), expected \(3,\)"):
        ps.check_equivariance(eq, np.zeros(1), mlp)


def test_structure_difference_shows_only_the_first_node():
    model = NnxMLP((2, 4, 4, 3))
    graph, state = nnx.split(model)

    def T(a, s):  # drops l2: the first differing node is l2.bias
        return {"l1": s["l1"], "l3": s["l3"]}

    eq = ps.Equivariance(model=lambda s: nnx.merge(graph, s)(X).ravel(), T=T)
    with pytest.raises(ps.ShapeError) as err:
        ps.check_equivariance(eq, np.zeros(1), state)
    message = str(err.value)
    assert "expected 'l2.bias', got 'l3.bias'" in message and len(message) < 200


def test_plain_pytree_T_errors_name_the_leaf():
    theta = {"a": np.ones(3), "b": np.ones((2, 2))}
    eq = ps.Equivariance(model=lambda t: jnp.concatenate([t["a"], t["b"].ravel()]),
                         T=lambda a, t: {"a": t["a"], "b": t["b"][0]})
    with pytest.raises(ps.ShapeError, match=r"'b' of shape \(2,\), expected \(2, 2\)"):
        ps.check_equivariance(eq, np.zeros(1), theta)


def test_path_round_trip():
    assert parse_path("layers[0].weight") == ("layers", 0, "weight")
    assert parse_path("params/Dense_0/kernel") == ("params", "Dense_0", "kernel")
    assert path_name(("layers", 0, "weight")) == "layers[0].weight"


def test_import_pyspec_does_not_import_frameworks():
    import subprocess
    import sys

    code = "import sys, pyspec; print(any(m.split('.')[0] in ('equinox', 'flax') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_matrix_free_path_on_an_equinox_module():
    mlp = EqxMLP((2, 4, 3, 3), jax.nn.relu, True)
    s = ps.symmetries.rescaling(mlp, 0, 1)
    f = lambda m: jax.vmap(m)(X[:, :2]).ravel()  # noqa: E731
    loss = squared_loss(inputs((4, 3), seed=2))
    assert ps.theorem1(s.equivariance(f), loss, s.a, mlp, method="matrix_free").holds
