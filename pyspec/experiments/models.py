"""Small models on flat float64 parameter vectors, and their data.

Parameters are one flat vector of consecutive row-major blocks (the layout of
:func:`pyspec.catalog.unpack` and :mod:`pyspec.conservation`), so that the experiments and the
pointwise checks of :mod:`pyspec` see the same ``θ``.
"""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Shapes",
    "size",
    "split",
    "init",
    "relu_two_layer",
    "tanh_reparam",
    "relu_mlp",
    "mean_squared",
    "softmax_cross_entropy",
]

Shapes = Sequence[tuple[int, int]]


def size(shapes: Shapes) -> int:
    """Number of parameters of the layout."""
    return int(sum(a * b for a, b in shapes))


def split(theta: jax.Array, shapes: Shapes) -> list[jax.Array]:
    """The blocks of a flat parameter vector."""
    out, offset = [], 0
    for a, b in shapes:
        out.append(jnp.reshape(theta[offset : offset + a * b], (a, b)))
        offset += a * b
    return out


def init(rng: np.random.Generator, shapes: Shapes, gain: float = 1.0) -> np.ndarray:
    """Gaussian blocks with variance ``gain² / fan_in`` (``fan_in`` = number of columns)."""
    return np.concatenate([rng.normal(size=a * b) * gain / np.sqrt(b) for a, b in shapes])


def relu_two_layer(theta: jax.Array, X: jax.Array, shapes: Shapes) -> jax.Array:
    """``W relu(U X)`` with blocks ``U`` (``h × d₀``) and ``W`` (``c × h``): one rescaling symmetry per
    hidden neuron (§4.1)."""
    U, W = split(theta, shapes)
    return W @ jax.nn.relu(U @ X)


def tanh_reparam(theta: jax.Array, X: jax.Array, shapes: Shapes) -> jax.Array:
    """``W₃ tanh(W₂W₁X)``: depends on ``(W₁, W₂)`` only through ``W₂W₁`` (GL(d) symmetry, §4.1)."""
    W1, W2, W3 = split(theta, shapes)
    return W3 @ jnp.tanh(W2 @ (W1 @ X))


def relu_mlp(theta: jax.Array, X: jax.Array, shapes: Shapes) -> jax.Array:
    """Bias-free ReLU MLP; positively homogeneous of degree ``len(shapes)`` in ``θ`` (§4.2)."""
    blocks = split(theta, shapes)
    z = X
    for W in blocks[:-1]:
        z = jax.nn.relu(W @ z)
    return blocks[-1] @ z


def mean_squared(y: jax.Array, target: jax.Array) -> jax.Array:
    """``½ mean (y − target)²``."""
    return 0.5 * jnp.mean((y - target) ** 2)


def softmax_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Per-sample ``−log softmax(logits[:, n])[labels[n]]`` for ``logits`` of shape ``(m, N)``."""
    logp = jax.nn.log_softmax(logits, axis=0)
    return -jnp.take_along_axis(logp, labels[None, :], axis=0)[0]
