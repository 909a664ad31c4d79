"""Real-size models with pytree parameters, scalable from 10⁴ to 10⁷ parameters (matrix-free path).

Not part of :data:`pyspec.catalog.CATALOG` (which ``pyspec verify`` runs at 50 digits): these are
JAX-only (no ``xp``) and meant for :func:`pyspec.theorem1` / :func:`pyspec.theorem2` with
``method="matrix_free"`` and for ``pyspec bench``.

* ``mlp``: ``f = W₄ relu(W₃ relu(W₂ W₁ X))`` with a factorized first layer ``W₂W₁``; bias-free, so
  degree-4 homogeneous (§4.2), per-layer ReLU rescaling ``(aW₃, W₄/a)`` (§4.1), ``GL(r)``
  reparameterization of the bottleneck ``(AW₁, W₂A⁻¹)`` on its first ``r`` units (§4.1), and last-layer
  ``GL(r)`` on the first ``r`` classes (§5.3).
* ``transformer``: one pre-activation-free transformer block on a token sequence (single-head
  attention, ReLU MLP with residuals) and a linear read-out of the mean token: attention logits depend
  on ``(W_Q, W_K)`` only through ``W_Q W_Kᵀ`` (``GL(r)`` on the first ``r`` head dimensions and the
  rescaling ``(aW_Q, W_K/a)``), and the read-out carries last-layer ``GL(r)``.

* ``mlp_gl8`` (``k = 64``) and ``attention`` (one head of ``d_k = 16``, ``GL(16)`` on ``(W_Q, W_K)``,
  ``k = 256``): the large-``k`` entries of the sketched check (:mod:`pyspec.matrix_free.sketch`).

``build(name, n, symmetry, seed)`` returns an :class:`~pyspec.catalog.Instance` with ``n`` close to
the requested size.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.catalog.base import Instance, PointFn
from pyspec.equivariance import Equivariance

__all__ = ["LargeEntry", "LARGE", "build", "parameter_count"]

R = 2
"""Size ``r`` of the ``GL(r)`` blocks: ``k = r² = 4`` directions."""


def _block(A: jax.Array, d: int) -> jax.Array:
    """``diag(A, I_{d−r})``."""
    r = A.shape[0]
    return jnp.eye(d, dtype=A.dtype).at[:r, :r].set(A)


def _cross_entropy(labels: np.ndarray, classes: int) -> Callable[[jax.Array], jax.Array]:
    onehot = jax.nn.one_hot(labels, classes, dtype=jnp.float64).T  # (classes, N)

    def loss(y: jax.Array) -> jax.Array:
        Z = jnp.reshape(y, (classes, labels.size))
        return jnp.mean(jax.nn.logsumexp(Z, axis=0) - jnp.sum(Z * onehot, axis=0))

    return loss


def _given(value: np.ndarray) -> PointFn:
    """``point(xp) = value`` for every ``xp``: the large entries are JAX-only (no namespace)."""
    return lambda xp: value


def _point(symmetry: str, rng: np.random.Generator) -> np.ndarray:
    if symmetry in ("homogeneity", "rescaling"):
        return np.array([1.3])
    return np.eye(R) + 0.3 * rng.standard_normal((R, R)) / np.sqrt(R)


# --- MLP --------------------------------------------------------------------------------------------


def _mlp_widths(n: int) -> tuple[int, int, int]:
    d0, c = 32, 10
    # n = d·d0 + d² (bottleneck pair) + d² + c·d
    d = int((-(d0 + c) + np.sqrt((d0 + c) ** 2 + 8 * n)) / 4)
    return d0, max(d, R + 1), c


def _relu_mlp4(X: jax.Array) -> Callable[[dict[str, jax.Array]], jax.Array]:
    """``θ ↦ vec(W₄ relu(W₃ relu(W₂W₁X)))`` on the dict ``θ`` of ``W1..W4``."""

    def model(p: dict[str, jax.Array]) -> jax.Array:
        h = jax.nn.relu(p["W2"] @ (p["W1"] @ X))
        return jnp.ravel(p["W4"] @ jax.nn.relu(p["W3"] @ h))

    return model


def _mlp(n: int, symmetry: str, seed: int, batch: int | None = None) -> Instance:
    rng = np.random.default_rng(seed)
    d0, d, c = _mlp_widths(n)
    N = 32 if batch is None else batch
    X = jnp.asarray(rng.standard_normal((d0, N)))

    model = _relu_mlp4(X)

    theta = {
        "W1": rng.standard_normal((d, d0)) / np.sqrt(d0),
        "W2": rng.standard_normal((d, d)) / np.sqrt(d),
        "W3": rng.standard_normal((d, d)) * np.sqrt(2 / d),
        "W4": rng.standard_normal((c, d)) * np.sqrt(2 / d),
    }
    S = None
    if symmetry == "homogeneity":
        T = lambda a, p: jax.tree_util.tree_map(lambda w: a[0] * w, p)  # noqa: E731
        S = lambda a, y: a[0] ** 4 * y  # noqa: E731
    elif symmetry == "rescaling":
        T = lambda a, p: p | {"W3": a[0] * p["W3"], "W4": p["W4"] / a[0]}  # noqa: E731
    elif symmetry == "reparameterization":
        T = lambda A, p: p | {"W1": _block(A, d) @ p["W1"], "W2": p["W2"] @ _block(jnp.linalg.inv(A), d)}  # noqa: E731
    elif symmetry == "last_layer":
        T = lambda A, p: p | {"W4": _block(A, c) @ p["W4"]}  # noqa: E731
        S = lambda A, y: jnp.ravel(_block(A, c) @ jnp.reshape(y, (c, N)))  # noqa: E731
    else:
        raise ValueError(f"mlp has no symmetry {symmetry!r}; choose one of {MLP_SYMMETRIES}")
    return Instance(
        eq=Equivariance(model=model, T=T, S=S, name=f"mlp_{symmetry}"),
        loss=_cross_entropy(rng.integers(0, c, N), c),
        a=_given(_point(symmetry, rng)),
        theta=lambda xp: theta,
    )


MLP_SYMMETRIES = ("homogeneity", "rescaling", "reparameterization", "last_layer")

# --- transformer block ------------------------------------------------------------------------------


def _transformer_widths(n: int) -> tuple[int, int, int]:
    c, tokens = 10, 16
    # n ≈ 4d² (Q, K, V, O) + 8d² (MLP with 4d hidden) + c·d
    d = int((-c + np.sqrt(c**2 + 48 * n)) / 24)
    return max(d, R + 1), c, tokens


def _attention_block(X: jax.Array, temperature: float) -> Callable[[dict[str, jax.Array]], jax.Array]:
    """One attention block (residual attention, residual ReLU MLP) on the token batch ``X``, then a linear
    head on the token mean: the model of the ``transformer`` and ``attention`` entries."""

    def model(p: dict[str, jax.Array]) -> jax.Array:
        q, k_, v = X @ p["WQ"], X @ p["WK"], X @ p["WV"]
        att = jax.nn.softmax(q @ jnp.swapaxes(k_, 1, 2) / temperature, axis=-1)
        h = X + (att @ v) @ p["WO"]
        h = h + jax.nn.relu(h @ p["W1"]) @ p["W2"]
        return jnp.ravel(p["head"] @ jnp.mean(h, axis=1).T)  # (c, batch)

    return model


def _transformer(n: int, symmetry: str, seed: int, batch: int | None = None) -> Instance:
    rng = np.random.default_rng(seed)
    d, c, tokens = _transformer_widths(n)
    batch = 4 if batch is None else batch
    X = jnp.asarray(rng.standard_normal((batch, tokens, d)))

    model = _attention_block(X, np.sqrt(d))

    s = 1 / np.sqrt(d)
    theta = {
        "WQ": rng.standard_normal((d, d)) * s, "WK": rng.standard_normal((d, d)) * s,
        "WV": rng.standard_normal((d, d)) * s, "WO": rng.standard_normal((d, d)) * s,
        "W1": rng.standard_normal((d, 4 * d)) * s, "W2": rng.standard_normal((4 * d, d)) * s / 2,
        "head": rng.standard_normal((c, d)) * s,
    }  # fmt: skip
    S = None
    if symmetry == "rescaling":
        T = lambda a, p: p | {"WQ": a[0] * p["WQ"], "WK": p["WK"] / a[0]}  # noqa: E731
    elif symmetry == "reparameterization":  # q kᵀ = (W_Q B)(W_K B⁻ᵀ)ᵀ
        T = lambda A, p: p | {"WQ": p["WQ"] @ _block(A, d), "WK": p["WK"] @ _block(jnp.linalg.inv(A).T, d)}  # noqa: E731
    elif symmetry == "last_layer":
        T = lambda A, p: p | {"head": _block(A, c) @ p["head"]}  # noqa: E731
        S = lambda A, y: jnp.ravel(_block(A, c) @ jnp.reshape(y, (c, batch)))  # noqa: E731
    else:
        raise ValueError(f"transformer has no symmetry {symmetry!r}; choose one of {TRANSFORMER_SYMMETRIES}")
    return Instance(
        eq=Equivariance(model=model, T=T, S=S, name=f"transformer_{symmetry}"),
        loss=_cross_entropy(rng.integers(0, c, batch), c),
        a=_given(_point(symmetry, rng)),
        theta=lambda xp: theta,
    )


TRANSFORMER_SYMMETRIES = ("rescaling", "reparameterization", "last_layer")

# --- large-k entries (pyspec.matrix_free.sketch): GL(r) with k = r² directions --------------------

MLP_GL = 8
"""``r`` of ``mlp_gl8``: ``GL(8)`` between the two bottleneck layers, ``k = 64``."""
HEAD_DIM = 16
"""``d_k`` of ``attention``: ``GL(d_k)`` on ``(W_Q, W_K)``, ``k = 256``."""


def _gl_point(r: int, rng: np.random.Generator) -> np.ndarray:
    return np.eye(r) + 0.3 * rng.standard_normal((r, r)) / np.sqrt(r)


def _mlp_gl_widths(n: int) -> tuple[int, int, int]:
    d0, c, r = 32, 10, MLP_GL
    # n = r·d0 + d·r (the rank-r pair W₂W₁) + d² + c·d
    b = r + c
    return d0, max(int((-b + np.sqrt(b * b + 4 * (n - r * d0))) / 2), r + 1), c


def _mlp_gl(n: int, symmetry: str, seed: int, batch: int | None = None) -> Instance:
    """``f = W₄ relu(W₃ relu(W₂ W₁ X))`` with an 8-unit linear bottleneck ``W₂W₁`` (``W₁ ∈ ℝ^{8×32}``,
    ``W₂ ∈ ℝ^{d×8}``): ``(W₁, W₂) ↦ (AW₁, W₂A⁻¹)`` is a ``GL(8)`` reparameterization between the two
    layers (``k = 64``); ``W₃`` holds most parameters."""
    if symmetry != "reparameterization":
        raise ValueError(f"mlp_gl8 has no symmetry {symmetry!r}; choose 'reparameterization'")
    rng = np.random.default_rng(seed)
    d0, d, c = _mlp_gl_widths(n)
    r = MLP_GL
    N = 32 if batch is None else batch
    X = jnp.asarray(rng.standard_normal((d0, N)))

    model = _relu_mlp4(X)

    theta = {
        "W1": rng.standard_normal((r, d0)) / np.sqrt(d0),
        "W2": rng.standard_normal((d, r)) / np.sqrt(r),
        "W3": rng.standard_normal((d, d)) * np.sqrt(2 / d),
        "W4": rng.standard_normal((c, d)) * np.sqrt(2 / d),
    }

    def T(A: jax.Array, p: dict[str, jax.Array]) -> dict[str, jax.Array]:
        return p | {"W1": A @ p["W1"], "W2": p["W2"] @ jnp.linalg.inv(A)}

    return Instance(
        eq=Equivariance(model=model, T=T, name="mlp_gl8_reparameterization"),
        loss=_cross_entropy(rng.integers(0, c, N), c),
        a=_given(_gl_point(r, rng)),
        theta=lambda xp: theta,
    )


def _attention_widths(n: int) -> tuple[int, int, int]:
    c, tokens = 10, 16
    # n = 4·d·d_k (Q, K, V, O) + 8d² (MLP with 4d hidden) + c·d
    b = 4 * HEAD_DIM + c
    return max(int((-b + np.sqrt(b * b + 32 * n)) / 16), HEAD_DIM), c, tokens


def _attention(n: int, symmetry: str, seed: int, batch: int | None = None) -> Instance:
    """One attention block with a single head of dimension ``d_k = 16`` (``W_Q, W_K, W_V ∈ ℝ^{d×16}``,
    ``W_O ∈ ℝ^{16×d}``), a ReLU MLP with residuals and a mean-token read-out: the logits depend on
    ``(W_Q, W_K)`` only through ``W_Q W_Kᵀ``, so ``(W_Q A, W_K A⁻ᵀ)`` is a ``GL(16)`` symmetry."""
    if symmetry != "reparameterization":
        raise ValueError(f"attention has no symmetry {symmetry!r}; choose 'reparameterization'")
    rng = np.random.default_rng(seed)
    d, c, tokens = _attention_widths(n)
    dk = HEAD_DIM
    batch = 4 if batch is None else batch
    X = jnp.asarray(rng.standard_normal((batch, tokens, d)))

    model = _attention_block(X, np.sqrt(dk))

    s = 1 / np.sqrt(d)
    theta = {
        "WQ": rng.standard_normal((d, dk)) * s, "WK": rng.standard_normal((d, dk)) * s,
        "WV": rng.standard_normal((d, dk)) * s, "WO": rng.standard_normal((dk, d)) / np.sqrt(dk),
        "W1": rng.standard_normal((d, 4 * d)) * s, "W2": rng.standard_normal((4 * d, d)) * s / 2,
        "head": rng.standard_normal((c, d)) * s,
    }  # fmt: skip

    def T(A: jax.Array, p: dict[str, jax.Array]) -> dict[str, jax.Array]:
        return p | {"WQ": p["WQ"] @ A, "WK": p["WK"] @ jnp.linalg.inv(A).T}

    return Instance(
        eq=Equivariance(model=model, T=T, name="attention_reparameterization"),
        loss=_cross_entropy(rng.integers(0, c, batch), c),
        a=_given(_gl_point(dk, rng)),
        theta=lambda xp: theta,
    )


@dataclasses.dataclass(frozen=True)
class LargeEntry:
    """A scalable model: ``build(n, symmetry, seed, batch) -> Instance`` with about ``n`` parameters
    (``batch``: samples, or sequences for the transformer; ``None`` for the default)."""

    name: str
    description: str
    symmetries: tuple[str, ...]
    build: Callable[[int, str, int, int | None], Instance]


LARGE: dict[str, LargeEntry] = {
    "mlp": LargeEntry("mlp", "W₄relu(W₃relu(W₂W₁X)), 32 inputs, 10 classes, batch 32 by default", MLP_SYMMETRIES, _mlp),
    "transformer": LargeEntry(
        "transformer", "one attention + MLP block, 16 tokens, batch 4 by default, mean-token read-out", TRANSFORMER_SYMMETRIES,
        _transformer,
    ),
    "mlp_gl8": LargeEntry(
        "mlp_gl8", "W₄relu(W₃relu(W₂W₁X)) with an 8-unit bottleneck W₂W₁ and GL(8) on it (k = 64), batch 32",
        ("reparameterization",), _mlp_gl,
    ),
    "attention": LargeEntry(
        "attention", "attention block, one head of d_k = 16 with GL(16) on (W_Q, W_K) (k = 256), 16 tokens, batch 4",
        ("reparameterization",), _attention,
    ),
}
"""The scalable entries by name."""


def build(name: str, n: int, symmetry: str, seed: int = 0, batch: int | None = None) -> Instance:
    """An instance of ``LARGE[name]`` with about ``n`` parameters carrying ``symmetry``, on ``batch``
    samples (default: 32 for the MLP, 4 sequences for the transformer)."""
    return LARGE[name].build(n, symmetry, seed, batch)


def parameter_count(instance: Instance) -> int:
    """The number of parameters ``n`` of an instance."""
    return sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(instance.theta(None)))

