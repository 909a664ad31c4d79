"""Curried tensors and the k-th component composition (Section 2, Lemma 1; docs/theory.md#curried-tensors).

A tensor of shape ``(s₁, …, s_r)`` is an array ``A[i₁, …, i_r]``; applying it to a vector consumes its
**last** index: ``A(x)[i₁..i_{r−1}] = Σ_j A[i₁..i_{r−1}, j] x_j``. Gradients append the derivative index
last (``∇F(x)[I, j] = ∂F[I]/∂x_j``, the convention of ``jax.jacfwd``). The k-th component composition
contracts the k-th index *counted from the right*::

    (A ∘_k B)[I, J, K] = Σ_l A[I, l, K] B[l, J],   |K| = k − 1.

The ``lemma1_*`` functions evaluate Lemma 1's items on given tensors and maps and return
:class:`~pyspec.checks.IdentityCheck` reports, in float64 or at any precision.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import Array, Backend
from pyspec.checks import IdentityCheck, compare, tolerance

__all__ = [
    "apply",
    "comp",
    "lemma1_comp",
    "lemma1_tensor_comp",
    "lemma1_grad",
    "lemma1_chain",
    "lemma1_product",
]


def apply(A: Array, x: Array) -> Array:
    """``A(x)``: contract the last index of ``A`` with the vector ``x``."""
    return np.tensordot(A, x, axes=([A.ndim - 1], [0]))


def comp(A: Array, B: Array, k: int = 1) -> Array:
    """``A ∘_k B``: contract the k-th index of ``A`` from the right with the first index of ``B``.

    Parameters
    ----------
    A : array of shape ``(s₁, …, s_r)``
    B : array of shape ``(s_{r−k+1},) + t``
    k : int, ``1 <= k <= r``

    Returns
    -------
    array of shape ``(s₁..s_{r−k}) + t + (s_{r−k+2}..s_r)``
    """
    r = A.ndim
    if not 1 <= k <= r:
        raise ValueError(f"comp: k = {k} must satisfy 1 <= k <= A.ndim = {r}")
    axis = r - k
    if A.shape[axis] != B.shape[0]:
        raise ValueError(f"comp: A's index {k} from the right has length {A.shape[axis]}, B's first has {B.shape[0]}")
    out = np.tensordot(A, B, axes=([axis], [0]))  # axes: I, K, J
    n_i, n_k, n_j = axis, k - 1, B.ndim - 1
    order = list(range(n_i)) + list(range(n_i + n_k, n_i + n_k + n_j)) + list(range(n_i, n_i + n_k))
    return np.transpose(out, order)


def _comp_recursive(A: Array, B: Array, k: int) -> Array:
    """``A ∘_k B`` by the paper's recursion ``(A ∘_k B)(x) = A(x) ∘_{k−1} B``, ``∘₁ = ∘``."""
    if k == 1:
        return np.tensordot(A, B, axes=([A.ndim - 1], [0]))
    columns = [_comp_recursive(apply(A, e), B, k - 1) for e in np.eye(A.shape[-1])]
    return np.stack(columns, axis=-1)


def _host(backend: Backend, x: Array) -> Array:
    return np.asarray(backend.to_host(x), dtype=object if backend.name.startswith("mpmath") else np.float64)


def _report(backend: Backend, identity: str, lhs: Array, terms: dict[str, Array], size: int) -> IdentityCheck:
    return compare(backend, identity, lhs, terms, tolerance(backend, size))


def lemma1_comp(A: Any, B: Any, xs: Sequence[Any], *, precision: int | None = None) -> IdentityCheck:
    """Lemma 1.1: ``(A ∘_k B)(x₁)…(x_k) = A(x₁)…(x_{k−1})(B(x_k))`` with ``k = len(xs)``."""
    backend = get_backend(precision)
    with backend.context():
        A_, B_ = _host(backend, backend.asarray(A)), _host(backend, backend.asarray(B))
        vectors = [_host(backend, backend.asarray(x)) for x in xs]
        k = len(vectors)
        lhs = comp(A_, B_, k)
        for x in vectors:
            lhs = apply(lhs, x)
        rhs = A_
        for x in vectors[:-1]:
            rhs = apply(rhs, x)
        rhs = apply(rhs, apply(B_, vectors[-1]))
        return _report(backend, "lemma1_comp", lhs, {"A_B": rhs}, A_.size + B_.size)


def lemma1_tensor_comp(A: Any, B: Any, k: int, *, precision: int | None = None) -> IdentityCheck:
    """Lemma 1.2: the index formula of ``A ∘_k B`` equals the recursive definition, with the shape
    ``(s₁..s_{r−k}) + t + (s_{r−k+2}..s_r)``."""
    backend = get_backend(precision)
    with backend.context():
        A_, B_ = _host(backend, backend.asarray(A)), _host(backend, backend.asarray(B))
        lhs = comp(A_, B_, k)
        expected = A_.shape[: A_.ndim - k] + B_.shape[1:] + A_.shape[A_.ndim - k + 1 :]
        if lhs.shape != expected:
            raise AssertionError(f"comp shape {lhs.shape} != {expected}")
        return _report(backend, "lemma1_tensor_comp", lhs, {"recursive": _comp_recursive(A_, B_, k)}, A_.size + B_.size)


def lemma1_grad(A: Any, x: Any, *, precision: int | None = None) -> IdentityCheck:
    """Lemma 1.3: a tensor ``A``, seen as the linear map ``x ↦ A(x)``, has ``∇A(x) = A``."""
    backend = get_backend(precision)
    with backend.context():
        A_ = backend.asarray(A)
        jac = _host(backend, backend.jacobian(lambda u: _linear(backend, A_, u), backend.asarray(x)))
        return _report(backend, "lemma1_grad", jac, {"A": _host(backend, A_)}, int(np.size(A_)))


def _linear(backend: Backend, A: Array, u: Array) -> Array:
    """``A(u)`` with the backend's namespace (so that it can be differentiated)."""
    xp = backend.xp
    rows = xp.reshape(A, (-1, A.shape[-1])) if A.ndim > 1 else xp.reshape(A, (1, A.shape[0]))
    out = rows @ u
    return xp.reshape(out, A.shape[:-1]) if A.ndim > 1 else out[0]


def lemma1_chain(
    F: Callable[..., Array], G: Callable[..., Array], x: Any, *, precision: int | None = None
) -> tuple[IdentityCheck, IdentityCheck]:
    """Lemma 1.4 at first and second order, for backend-neutral ``F: ℝᵈ → 𝕋^s``, ``G: ℝᵖ → ℝᵈ``:

    ``∇(F∘G)(x) = ∇F(G(x)) ∘ ∇G(x)`` and
    ``∇²(F∘G)(x) = (∇²F(G(x)) ∘₂ ∇G(x)) ∘ ∇G(x) + ∇F(G(x)) ∘ ∇²G(x)``.
    """
    backend = get_backend(precision)
    xp, jac = backend.xp, backend.jacobian
    with backend.context():
        x_ = backend.asarray(x)

        def FG(u: Array) -> Array:
            return F(G(u, xp=xp), xp=xp)

        def Ff(u: Array) -> Array:
            return F(u, xp=xp)

        def Gf(u: Array) -> Array:
            return G(u, xp=xp)

        g = Gf(x_)
        dF, dG = _host(backend, jac(Ff, g)), _host(backend, jac(Gf, x_))
        d2F = _host(backend, jac(lambda u: jac(Ff, u), g))
        d2G = _host(backend, jac(lambda u: jac(Gf, u), x_))
        first = _report(backend, "lemma1_chain", _host(backend, jac(FG, x_)), {"dF_dG": comp(dF, dG)}, dF.size + dG.size)
        second = _report(
            backend,
            "lemma1_chain",
            _host(backend, jac(lambda u: jac(FG, u), x_)),
            {"d2F_dG_dG": comp(comp(d2F, dG, 2), dG), "dF_d2G": comp(dF, d2G)},
            d2F.size + d2G.size,
        )
        return first, second


def lemma1_product(
    F: Callable[..., Array], G: Callable[..., Array], x: Any, *, precision: int | None = None
) -> IdentityCheck:
    """Lemma 1.5: for ``H(x) = F(x) ∘ G(x)``, ``∇H(x) = ∇F(x) ∘₂ G(x) + F(x) ∘ ∇G(x)``.

    ``F(x)`` has shape ``s + (q,)`` and ``G(x)`` shape ``(q,) + t``; both are backend-neutral.
    """
    backend = get_backend(precision)
    xp, jac = backend.xp, backend.jacobian
    with backend.context():
        x_ = backend.asarray(x)

        def H(u: Array) -> Array:
            Fu, Gu = F(u, xp=xp), G(u, xp=xp)
            return xp.reshape(xp.reshape(Fu, (-1, Fu.shape[-1])) @ xp.reshape(Gu, (Gu.shape[0], -1)),
                              Fu.shape[:-1] + Gu.shape[1:])

        Fx, Gx = _host(backend, F(x_, xp=xp)), _host(backend, G(x_, xp=xp))
        dF = _host(backend, jac(lambda u: F(u, xp=xp), x_))
        dG = _host(backend, jac(lambda u: G(u, xp=xp), x_))
        return _report(
            backend,
            "lemma1_product",
            _host(backend, jac(H, x_)),
            {"dF_G": comp(dF, Gx, 2), "F_dG": comp(Fx, dG)},
            dF.size + dG.size,
        )
