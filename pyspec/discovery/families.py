"""Structured finite-dimensional families: quadratic functions and linear vector fields on pytrees.

Both are linear in a coefficient vector ``u``, organized by parameter leaf, so that the unknowns stay
few (a few hundred for an MLP of width 10) while covering the laws and symmetries of the literature:

* :func:`quadratic_family`: ``h_u(θ) = Σ_leaves ⟨A, W Wᵀ⟩ + ⟨B, WᵀW⟩ + ⟨b, W⟩`` with ``A``, ``B``
  symmetric (``W`` a leaf viewed as a ``p × q`` matrix; vectors are ``p × 1``). Per-neuron
  ``‖u_k‖² − ‖v_k‖²`` (with ``+ b_k²``), ``W₁W₁ᵀ − W₂ᵀW₂`` and ``W_QᵀW_Q − W_KᵀW_K`` are of this form.
* :func:`linear_field_family`: ``X_u(θ) = (L W + W R + c)`` per leaf, the per-leaf left/right matrix
  actions (and, with ``affine=True``, translations). Neuron rescalings, ``GL(r)``
  reparameterizations and, on a flat vector, every linear map are of this form.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Term", "Family", "quadratic_family", "linear_field_family", "as_matrix"]


class Term(NamedTuple):
    """One block of a family.

    Attributes
    ----------
    leaf : int
        Index of the parameter leaf (tree order).
    kind : str
        Quadratic: ``"rows"`` (``⟨A, WWᵀ⟩``), ``"cols"`` (``⟨B, WᵀW⟩``), ``"linear"`` (``⟨b, W⟩``).
        Fields: ``"left"`` (``L W``), ``"right"`` (``W R``), ``"shift"`` (``c``).
    shape : tuple of int
        Shape of the block's coefficient (``(p, p)`` symmetric blocks store ``p(p+1)/2`` numbers).
    start, stop : int
        Its slice of ``u``.
    """

    leaf: int
    kind: str
    shape: tuple[int, ...]
    start: int
    stop: int


class Family(NamedTuple):
    """A family linear in ``u``.

    Attributes
    ----------
    terms : tuple of Term
    size : int
        Number of coefficients.
    evaluate : callable
        Quadratic family: ``evaluate(u, leaves) -> h_u(θ)``; field family:
        ``evaluate(u, leaves) -> [X_u(θ) leaf by leaf]``.
    """

    terms: tuple[Term, ...]
    size: int
    evaluate: Callable[[Any, list[Any]], Any]


def as_matrix(shape: tuple[int, ...]) -> tuple[int, int]:
    """A leaf of ``shape`` as a ``p × q`` matrix: vectors are columns, scalars ``1 × 1``."""
    if len(shape) == 0:
        return 1, 1
    return int(shape[0]), int(np.prod(shape[1:])) if len(shape) > 1 else 1


def _symmetric(v: Any, p: int) -> Any:
    iu = np.triu_indices(p)
    upper = jnp.zeros((p, p), dtype=v.dtype).at[iu].set(v)
    return (upper + upper.T) / 2


def _layout(blocks: Sequence[tuple[int, str, tuple[int, ...], int]]) -> tuple[tuple[Term, ...], int]:
    terms, offset = [], 0
    for leaf, kind, shape, count in blocks:
        terms.append(Term(leaf, kind, shape, offset, offset + count))
        offset += count
    return tuple(terms), offset


def quadratic_family(shapes: tuple[tuple[int, ...], ...], *, linear: bool = True) -> Family:
    """Quadratic (and linear) functions of the leaves: see the module docstring."""
    blocks = []
    for i, shape in enumerate(shapes):
        p, q = as_matrix(shape)
        if p > 1 or q == 1:
            blocks.append((i, "rows", (p, p), p * (p + 1) // 2))
        if q > 1:
            blocks.append((i, "cols", (q, q), q * (q + 1) // 2))
        if linear:
            blocks.append((i, "linear", (p, q), p * q))
    terms, size = _layout(blocks)

    def evaluate(u: Any, leaves: list[Any]) -> Any:
        total: float | jax.Array = 0.0
        for t in terms:
            p, q = as_matrix(shapes[t.leaf])
            W = jnp.reshape(leaves[t.leaf], (p, q))
            c = u[t.start : t.stop]
            if t.kind == "rows":
                total = total + jnp.sum(_symmetric(c, p) * (W @ W.T))
            elif t.kind == "cols":
                total = total + jnp.sum(_symmetric(c, q) * (W.T @ W))
            else:
                total = total + jnp.sum(jnp.reshape(c, (p, q)) * W)
        return total

    return Family(terms, size, evaluate)


def linear_field_family(shapes: tuple[tuple[int, ...], ...], *, affine: bool = False) -> Family:
    """Per-leaf ``L W + W R`` (plus ``c`` when ``affine``): see the module docstring."""
    blocks = []
    for i, shape in enumerate(shapes):
        p, q = as_matrix(shape)
        blocks.append((i, "left", (p, p), p * p))
        if q > 1:
            blocks.append((i, "right", (q, q), q * q))
        if affine:
            blocks.append((i, "shift", (p, q), p * q))
    terms, size = _layout(blocks)

    def evaluate(u: Any, leaves: list[Any]) -> list[Any]:
        out = [jnp.zeros(as_matrix(s), dtype=u.dtype) for s in shapes]
        for t in terms:
            p, q = as_matrix(shapes[t.leaf])
            W = jnp.reshape(leaves[t.leaf], (p, q))
            c = u[t.start : t.stop]
            if t.kind == "left":
                out[t.leaf] = out[t.leaf] + jnp.reshape(c, (p, p)) @ W
            elif t.kind == "right":
                out[t.leaf] = out[t.leaf] + W @ jnp.reshape(c, (q, q))
            else:
                out[t.leaf] = out[t.leaf] + jnp.reshape(c, (p, q))
        return [jnp.reshape(o, s) for o, s in zip(out, shapes)]

    return Family(terms, size, evaluate)
