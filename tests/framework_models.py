"""Small Equinox, Flax NNX and Flax linen models (float64) for the tests of adapters, symmetries and
the audit: MLPs of any widths and activation, and a one-block transformer."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from flax import linen, nnx

F64 = jnp.float64


def leaky(z: Any) -> Any:
    """Leaky ReLU with slope 1/10 (positively homogeneous)."""
    return jnp.maximum(z, 0.1 * z)


class EqxMLP(eqx.Module):
    """``W_L σ(… σ(W_1 x + b_1) …) + b_L`` on one sample."""

    layers: list
    activation: Callable = eqx.field(static=True)

    def __init__(self, sizes: Sequence[int], activation: Callable = jax.nn.relu, bias: bool = True, seed: int = 0):
        keys = jax.random.split(jax.random.PRNGKey(seed), len(sizes) - 1)
        self.layers = [eqx.nn.Linear(i, o, use_bias=bias, key=k, dtype=F64) for i, o, k in zip(sizes, sizes[1:], keys)]
        self.activation = activation

    def __call__(self, x: Any) -> Any:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


class NnxMLP(nnx.Module):
    """Three ``nnx.Linear`` layers ``l1, l2, l3`` on a batch."""

    def __init__(self, sizes: Sequence[int], activation: Callable = jax.nn.relu, bias: bool = True, seed: int = 0,
                 dtype: Any = None):
        rngs = nnx.Rngs(seed)
        kw = dict(use_bias=bias, rngs=rngs, param_dtype=F64 if dtype is None else dtype, dtype=dtype)
        self.l1 = nnx.Linear(sizes[0], sizes[1], **kw)
        self.l2 = nnx.Linear(sizes[1], sizes[2], **kw)
        self.l3 = nnx.Linear(sizes[2], sizes[3], **kw)
        self.activation = activation

    def __call__(self, x: Any) -> Any:
        return self.l3(self.activation(self.l2(self.activation(self.l1(x)))))


class LinenMLP(linen.Module):
    """``Dense_0 … Dense_{L−1}`` with the activation between."""

    sizes: Sequence[int]
    activation: Callable = jax.nn.relu

    @linen.compact
    def __call__(self, x: Any) -> Any:
        for width in self.sizes[1:-1]:
            x = self.activation(linen.Dense(width, param_dtype=F64)(x))
        return linen.Dense(self.sizes[-1], param_dtype=F64)(x)


def linen_mlp(sizes: Sequence[int], activation: Callable = jax.nn.relu, seed: int = 0) -> tuple[LinenMLP, Any]:
    """A linen MLP and its variables."""
    model = LinenMLP(tuple(sizes), activation)
    return model, model.init(jax.random.PRNGKey(seed), jnp.zeros((1, sizes[0]), F64))


def _attention(h: Any, q: Any, k: Any, v: Any) -> Any:
    scores = jnp.einsum("...td,...sd->...ts", q, k) / jnp.sqrt(q.shape[-1])
    return jnp.einsum("...ts,...sd->...td", jax.nn.softmax(scores, axis=-1), v)


class EqxBlock(eqx.Module):
    """One pre-norm attention block on one sequence ``(tokens, d_in)``: ``h = LN(embed(x))`` (LayerNorm
    with ``eps = 0``), ``h + out(attention(query h, key h, value h))``, mean over tokens, ``head``.
    ``gate`` (when present) adds ``gate · embed(x)`` after the norm: one scalar that breaks the scale
    invariance of ``embed``."""

    embed: eqx.nn.Linear
    norm: eqx.nn.LayerNorm
    query: eqx.nn.Linear
    key: eqx.nn.Linear
    value: eqx.nn.Linear
    out: eqx.nn.Linear
    head: eqx.nn.Linear
    gate: Any

    def __init__(self, d_in: int = 2, d: int = 4, dk: int = 3, dv: int = 5, m: int = 6, gate: float | None = None,
                 seed: int = 0):
        k = jax.random.split(jax.random.PRNGKey(seed), 6)
        self.embed = eqx.nn.Linear(d_in, d, key=k[0], dtype=F64)
        self.norm = eqx.nn.LayerNorm(d, eps=0.0, dtype=F64)
        self.query = eqx.nn.Linear(d, dk, key=k[1], dtype=F64)
        self.key = eqx.nn.Linear(d, dk, key=k[2], dtype=F64)
        self.value = eqx.nn.Linear(d, dv, key=k[3], dtype=F64)
        self.out = eqx.nn.Linear(dv, d, key=k[4], dtype=F64)
        self.head = eqx.nn.Linear(d, m, key=k[5], dtype=F64)
        self.gate = None if gate is None else jnp.asarray(gate, F64)

    def __call__(self, x: Any) -> Any:
        e = jax.vmap(self.embed)(x)
        h = jax.vmap(self.norm)(e) + (0.0 if self.gate is None else self.gate * e)
        q, k, v = jax.vmap(self.query)(h), jax.vmap(self.key)(h), jax.vmap(self.value)(h)
        h = h + jax.vmap(self.out)(_attention(h, q, k, v))
        return self.head(jnp.mean(h, axis=0))


class NnxBlock(nnx.Module):
    """:class:`EqxBlock` in Flax NNX, on a batch of sequences ``(batch, tokens, d_in)``."""

    def __init__(self, d_in: int = 2, d: int = 4, dk: int = 3, dv: int = 5, m: int = 6, gate: float | None = None,
                 seed: int = 0):
        rngs = nnx.Rngs(seed)  # random biases: a generic point (zero biases lower the rank of GL_v's v)
        kw = dict(rngs=rngs, param_dtype=F64, bias_init=nnx.initializers.normal(0.5))
        self.embed = nnx.Linear(d_in, d, **kw)
        self.norm = nnx.LayerNorm(d, epsilon=0.0, rngs=rngs, param_dtype=F64)
        self.query = nnx.Linear(d, dk, **kw)
        self.key = nnx.Linear(d, dk, **kw)
        self.value = nnx.Linear(d, dv, **kw)
        self.out = nnx.Linear(dv, d, **kw)
        self.head = nnx.Linear(d, m, **kw)
        self.gate = None if gate is None else nnx.Param(jnp.asarray(gate, F64))

    def __call__(self, x: Any) -> Any:
        e = self.embed(x)
        h = self.norm(e) + (0.0 if self.gate is None else self.gate[...] * e)
        h = h + self.out(_attention(h, self.query(h), self.key(h), self.value(h)))
        return self.head(jnp.mean(h, axis=-2))


def inputs(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """Standard normal float64 inputs."""
    return np.random.default_rng(seed).standard_normal(shape)


def squared_loss(target: np.ndarray) -> Callable[[Any], Any]:
    """``½ mean (y − target)²`` on the flat output."""
    t = np.ravel(target)
    return lambda y: 0.5 * jnp.mean((jnp.ravel(y) - t) ** 2)


def cross_entropy(labels: np.ndarray, classes: int) -> Callable[[Any], Any]:
    """Mean softmax cross-entropy of logits ``(samples, classes)`` (any leading shape, flattened)."""
    labels = np.asarray(labels)

    def loss(logits: Any) -> Any:
        z = jnp.reshape(logits, (-1, classes))
        return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(z.shape[0]), labels])

    return loss
