"""Ready-made symmetries (pyspec.symmetries) on Equinox and Flax models: Theorem 1 or 2 holds, the
conservation laws hold, and every check flags its negative control."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen

import pyspec as ps
from pyspec import symmetries as sym
from pyspec.adapters import TreeView
from tests.framework_models import (
    EqxBlock,
    EqxMLP,
    NnxBlock,
    NnxMLP,
    cross_entropy,
    inputs,
    leaky,
    linen_mlp,
    squared_loss,
)

X = inputs((5, 2))
SEQ = inputs((3, 4, 2), seed=3)  # 3 sequences of 4 tokens
MSE = squared_loss(inputs((5, 3), seed=2))


def eqx_f(m):
    return jax.vmap(m)(X).ravel()


def nnx_f(m):
    return m(X).ravel()


def block_f(m):
    return (jax.vmap(m)(SEQ) if isinstance(m, EqxBlock) else m(SEQ)).ravel()


def breaking(f, scale=0.05):
    """``f + scale·sin(Σ θ)``: no symmetry of this module survives (negative control)."""

    def g(theta):
        total = sum(jnp.sum(x) for x in TreeView(theta).arrays(theta))
        return f(theta) + scale * jnp.sin(total + jnp.arange(f(theta).size))

    return g


def _theorem1_and_control(s, f, loss, theta, identities=True):
    """Theorem 1 holds; on the broken model the same check raises EquivarianceError and, with the
    hypothesis check off, its identities fail (``identities=False`` skips that second, slower run)."""
    assert ps.theorem1(s.equivariance(f), loss, s.a, theta).holds
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(s.equivariance(breaking(f)), loss, s.a, theta)
    if identities:
        assert not ps.theorem1(s.equivariance(breaking(f)), loss, s.a, theta, check_equivariance=False).holds


MLPS = {
    "equinox": (lambda act, bias: EqxMLP((2, 4, 3, 3), act, bias), eqx_f, ("layers[0]", "layers[1]", "layers[2]")),
    "nnx": (lambda act, bias: NnxMLP((2, 4, 3, 3), act, bias), nnx_f, ("l1", "l2", "l3")),
}


@pytest.mark.parametrize("framework", MLPS)
def test_homogeneity(framework):
    make, f, names = MLPS[framework]
    theta = make(jax.nn.relu, False)
    s = sym.homogeneity(theta, names)
    assert s.name == "homogeneity (degree 3)"
    _theorem1_and_control(s, f, MSE, theta)
    with pytest.raises(ps.EquivarianceError):  # tanh is not homogeneous
        ps.check_equivariance(s.equivariance(f), s.a, make(jnp.tanh, False)).require("tanh")


def test_homogeneity_with_biases():
    theta = EqxMLP((2, 4, 3, 3), jax.nn.relu, True)
    assert ps.theorem1(sym.homogeneity(theta, [0, 1, 2]).equivariance(eqx_f), MSE, np.array([1.3]), theta).holds


@pytest.mark.parametrize("framework", MLPS)
def test_rescaling_with_bias_and_its_conservation_law(framework):
    make, f, names = MLPS[framework]
    theta = make(leaky, True)
    s = sym.rescaling(theta, names[0], names[1])
    assert s.k == 4
    _theorem1_and_control(s, f, MSE, theta)
    law = ps.rescaling_conservation(f, MSE, theta, layers=names[:2])
    assert law.holds and law.balance.lhs.shape == (4,)
    tanh = make(jnp.tanh, True)
    with pytest.raises(ps.EquivarianceError):
        ps.rescaling_conservation(f, MSE, tanh, layers=names[:2])
    assert not ps.rescaling_conservation(f, MSE, tanh, layers=names[:2], check_symmetry=False).holds


def test_rescaling_by_getter_and_position():
    theta = EqxMLP((2, 4, 3, 3), leaky, True)
    a = sym.rescaling(theta, lambda m: m.layers[1], lambda m: m.layers[2].weight)
    b = sym.rescaling(theta, 1, 2)
    assert a.name == "rescaling layers[1] -> layers[2].weight"  # a weight leaf: the layer without its bias
    assert b.name == "rescaling layers[1] -> layers[2]"


def test_reparameterization_between_linear_maps_linen():
    # no nonlinearity: GL(3) between Dense_1 (4 -> 3) and Dense_2 acts faithfully (GL(4) through the
    # 2 -> 4 layer would have directions that move nothing, which the checks refuse: DegenerateError)
    model, variables = linen_mlp((2, 4, 3, 3), activation=lambda z: z)
    f = lambda v: model.apply(v, X).ravel()  # noqa: E731
    s = sym.reparameterization(variables, "params.Dense_1", "params.Dense_2")
    _theorem1_and_control(s, f, MSE, variables)
    assert ps.reparam_conservation(f, MSE, variables, layers=("params.Dense_1", "params.Dense_2")).holds
    relu_model, relu_vars = linen_mlp((2, 4, 3, 3))
    # a ReLU between: only the diagonal part survives; θ sits next to a kink, which is said too
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ps.EquivarianceError):
            relu = s.equivariance(lambda v: relu_model.apply(v, X).ravel())
            ps.check_equivariance(relu, s.a, relu_vars).require("relu")
    assert any(issubclass(w.category, ps.NonDifferentiableWarning) and "kink" in str(w.message) for w in caught)


@pytest.mark.parametrize("framework", MLPS)
def test_last_layer_and_softmax_translation(framework):
    make, f, names = MLPS[framework]
    theta = make(jnp.tanh, True)
    loss = cross_entropy(np.arange(5) % 3, 3)
    _theorem1_and_control(sym.last_layer(theta, names[2]), f, loss, theta)
    _theorem1_and_control(sym.softmax_translation(theta, names[2]), f, loss, theta, identities=False)
    with pytest.raises(ps.EquivarianceError):  # not the last layer
        ps.check_equivariance(sym.softmax_translation(theta, names[1]).equivariance(f),
                              np.array([0.7]), theta).require("hidden")


SMALL = dict(d=3, dk=2, dv=2, m=2)  # a small block: n = 56
BLOCKS = {"equinox": lambda **kw: EqxBlock(**(SMALL | kw)), "nnx": lambda **kw: NnxBlock(**(SMALL | kw))}


@pytest.mark.parametrize("framework", BLOCKS)
def test_attention_symmetries(framework):
    block = BLOCKS[framework]()
    loss = cross_entropy(np.arange(3) % 2, 2)
    _theorem1_and_control(sym.attention_qk(block, "query", "key"), block_f, loss, block)
    vo = sym.attention_vo(block, "value", "out")
    assert vo.k == 4
    _theorem1_and_control(vo, block_f, loss, block, identities=False)
    with pytest.raises(ps.EquivarianceError):
        ps.check_equivariance(sym.rescaling(block, "embed", "query").equivariance(block_f),
                              np.exp(0.1 * np.arange(3)), block).require("embed")


@pytest.mark.parametrize("framework", BLOCKS)
def test_layer_norm_scale_invariance(framework):
    block = BLOCKS[framework]()
    loss = cross_entropy(np.arange(3) % 2, 2)
    s = sym.norm_scale(block, "embed")
    _theorem1_and_control(s, block_f, loss, block, identities=framework == "nnx")
    law = ps.symmetry_orthogonality(s.equivariance(block_f), loss, s.a, block)
    assert law.holds
    gated = BLOCKS[framework](gate=0.3)  # one scalar parameter breaks it
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(s.equivariance(block_f), loss, s.a, gated)
    with pytest.raises(ps.EquivarianceError):  # LayerNorm is not invariant per unit
        ps.theorem1(sym.norm_scale(block, "embed", per_unit=True).equivariance(block_f), loss, np.exp(
            0.1 * np.arange(3)), block)


class LinenBatchNormNet(linen.Module):
    """``Dense_1 relu(BatchNorm(Dense_0 x))`` with batch statistics (training mode, no affine part)."""

    float32_reductions: bool = False

    @linen.compact
    def __call__(self, x):
        z = linen.Dense(4, param_dtype=jnp.float64)(x)
        z = linen.BatchNorm(use_running_average=False, use_scale=False, use_bias=False, epsilon=0.0,
                            param_dtype=jnp.float64, force_float32_reductions=self.float32_reductions)(z)
        return linen.Dense(3, param_dtype=jnp.float64)(jax.nn.relu(z))


def test_batch_norm_per_unit_scale_invariance_linen():
    net = LinenBatchNormNet()
    variables = net.init(jax.random.PRNGKey(0), jnp.zeros((5, 2)))  # batch_stats: static, not parameters
    f = lambda v: net.apply(v, X, mutable=["batch_stats"])[0].ravel()  # noqa: E731
    s = sym.norm_scale(variables, "params.Dense_0", per_unit=True)
    assert s.k == 4
    _theorem1_and_control(s, f, MSE, variables)
    with pytest.raises(ps.EquivarianceError):  # Dense_1 feeds no normalization
        ps.check_equivariance(sym.norm_scale(variables, "params.Dense_1").equivariance(f), np.array([1.3]),
                              variables).require("Dense_1")
    default = LinenBatchNormNet(float32_reductions=True)  # Flax's default reduces batch statistics in float32
    g = lambda v: default.apply(v, X, mutable=["batch_stats"])[0].ravel()  # noqa: E731
    with pytest.raises(ps.PrecisionError, match="float32.*normalization.py"):
        ps.theorem1(s.equivariance(g), MSE, s.a, default.init(jax.random.PRNGKey(0), jnp.zeros((5, 2))))


def test_batch_norm_per_unit_scale_invariance_equinox():
    theta = EqxMLP((2, 4, 3), jax.nn.relu, True)

    def f(m):  # layers[0] -> batch normalization over the 5 samples -> ReLU -> layers[1]
        z = jax.vmap(m.layers[0])(X)
        z = (z - z.mean(0)) / jnp.sqrt(z.var(0))
        return jax.vmap(m.layers[1])(jax.nn.relu(z)).ravel()

    _theorem1_and_control(sym.norm_scale(theta, "layers[0]", per_unit=True), f, MSE, theta, identities=False)


@pytest.mark.parametrize("framework", MLPS)
@pytest.mark.parametrize("kind", ["permutation", "sign_flip"])
def test_discrete_symmetries_at_fixed_points(framework, kind):
    make, f, names = MLPS[framework]
    theta = make(jnp.tanh, True)
    s = getattr(sym, kind)(theta, names[0], names[1])
    fixed = sym.fixed_point(s, theta)
    r = ps.theorem2(s.equivariance(f), MSE, s.a, fixed)
    assert r.holds
    with pytest.raises(ps.NotFixedPointError):
        ps.theorem2(s.equivariance(f), MSE, s.a, theta)
    assert not ps.theorem2(s.equivariance(f), MSE, s.a, theta, check_hypotheses=False).holds
    if kind == "sign_flip":  # ReLU is not odd: the symmetry fails near the fixed point
        with pytest.raises(ps.EquivarianceError):
            ps.theorem2(s.equivariance(f), MSE, s.a, sym.fixed_point(s, make(jax.nn.relu, True)))


def test_bad_addresses_are_named():
    theta = EqxMLP((2, 4, 3, 3))
    with pytest.raises(ps.ShapeError, match="no array leaf 'layers\\[7\\]'"):
        sym.rescaling(theta, "layers[7]", "layers[1]")
    with pytest.raises(ps.ShapeError, match="do not meet"):
        sym.rescaling(theta, "layers[0]", "layers[2]")
    with pytest.raises(ValueError, match="two different units"):
        sym.permutation(theta, 0, 1, units=(1, 1))
