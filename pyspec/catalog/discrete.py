"""Discrete symmetries (Theorem 2, §6): mirror reflection, hidden-unit permutation, sign flip, and a
nonlinear involution with a non-zero blue term (docs/theory.md#theorem-2, docs/theory.md#discrete-linear-symmetry)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from pyspec.catalog.base import Entry, Instance, constant_point, orthonormal_columns, unpack
from pyspec.catalog.losses import softmax_cross_entropy, squared_error
from pyspec.equivariance import Equivariance

__all__ = ["ENTRIES", "LINEAR"]

LINEAR = ("discrete_linear_gradient", "discrete_linear_hessian")
"""The §6 ids that hold for every symmetry with linear ``T``."""

_NO_PARAMETER = np.zeros(1)
"""``a`` of a discrete symmetry: ``T(a, ·)`` is one fixed map, so ``a`` is an unused label."""


def _linear_instance(
    name: str,
    model: Callable[..., Any],
    M: Callable[[Any], Any],
    loss: Callable[..., Any],
    theta0: np.ndarray,
) -> Instance:
    """An involution ``θ ↦ M θ``; the fixed point is ``(θ₀ + Mθ₀)/2`` computed at working precision."""

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        return M(xp) @ theta

    def fixed(xp: Any) -> Any:
        t0 = xp.asarray(theta0)
        return (t0 + M(xp) @ t0) / 2

    return Instance(
        eq=Equivariance(model=model, T=T, name=name),
        loss=loss,
        a=constant_point(_NO_PARAMETER),
        theta=fixed,
        off_fixed=constant_point(theta0),
    )


def _mirror(seed: int) -> Instance:
    """f(θ) = F(θ) + F(Mθ) with the reflection M = I − 2OOᵀ, O ∈ ℝ^{7×2} orthonormal (Corollary 4)."""
    rng = np.random.default_rng(seed)
    n, r, h, m = 7, 2, 5, 3
    O0 = rng.standard_normal((n, r))
    C1, C2 = 0.6 * rng.standard_normal((h, n)), rng.standard_normal((m, h))

    def M(xp: Any) -> Any:
        O = orthonormal_columns(xp.asarray(O0), xp)
        return xp.eye(n) - 2 * (O @ O.T)

    def model(theta: Any, *, xp: Any) -> Any:
        return C2 @ xp.tanh(C1 @ theta) + C2 @ xp.tanh(C1 @ (M(xp) @ theta))

    instance = _linear_instance("mirror_symmetry", model, M, squared_error(rng.standard_normal(m)), rng.standard_normal(n))
    return dataclasses.replace(instance, args={"O": lambda xp: orthonormal_columns(xp.asarray(O0), xp)})


def _two_layer(rng: np.random.Generator, d0: int, h: int, m: int, N: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """W₂ tanh(W₁X) on flat parameters and a softmax cross-entropy loss."""
    shapes = [(h, d0), (m, h)]
    X = rng.standard_normal((d0, N))

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.ravel(W2 @ xp.tanh(W1 @ X))

    return model, softmax_cross_entropy(rng.integers(0, m, N), m)


def _permutation(seed: int) -> Instance:
    """Swap hidden units 0 and 1 of W₂ tanh(W₁X): fixed where the two units coincide (§6)."""
    rng = np.random.default_rng(seed)
    d0, h, m, N = 3, 4, 2, 5
    model, loss = _two_layer(rng, d0, h, m, N)
    perm = np.arange(h)
    perm[[0, 1]] = [1, 0]
    P1 = np.kron(np.eye(h)[perm], np.eye(d0))           # rows of W₁ (row-major flattening)
    P2 = np.kron(np.eye(m), np.eye(h)[perm])            # columns of W₂
    P = np.block([[P1, np.zeros((h * d0, m * h))], [np.zeros((m * h, h * d0)), P2]])
    theta0 = rng.standard_normal(int(P.shape[0]))
    return _linear_instance("hidden_permutation", model, lambda xp: xp.asarray(P), loss, theta0)


def _sign_flip(seed: int) -> Instance:
    """Flip the signs of hidden unit 2's incoming and outgoing weights (tanh is odd); fixed where
    they vanish (§6)."""
    rng = np.random.default_rng(seed)
    d0, h, m, N = 3, 4, 2, 5
    model, loss = _two_layer(rng, d0, h, m, N)
    W1_sign, W2_sign = np.ones((h, d0)), np.ones((m, h))
    W1_sign[2, :], W2_sign[:, 2] = -1.0, -1.0
    D = np.diag(np.concatenate([W1_sign.ravel(), W2_sign.ravel()]))
    return _linear_instance("sign_flip", model, lambda xp: xp.asarray(D), loss, rng.standard_normal(D.shape[0]))


def _nonlinear_involution(seed: int) -> Instance:
    """T(θ) = C⁻¹ asinh(M sinh(Cθ)) with a reflection M; f = F(sinh Cθ) + F(M sinh Cθ) (docs/theory.md#theorem-2).

    T is a nonlinear involution, so the blue term ∇L·T_θθ of Theorem 2 item 2 is non-zero.
    """
    rng = np.random.default_rng(seed)
    n, r, h, m = 6, 2, 5, 3
    O0 = rng.standard_normal((n, r))
    C = np.eye(n) + 0.3 * rng.standard_normal((n, n)) / np.sqrt(n)
    F1, F2 = 0.6 * rng.standard_normal((h, n)), rng.standard_normal((m, h))

    def M(xp: Any) -> Any:
        O = orthonormal_columns(xp.asarray(O0), xp)
        return xp.eye(n) - 2 * (O @ O.T)

    def model(theta: Any, *, xp: Any) -> Any:
        z = xp.sinh(C @ theta)
        return F2 @ xp.tanh(F1 @ z) + F2 @ xp.tanh(F1 @ (M(xp) @ z))

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        return xp.solve(xp.asarray(C), xp.asinh(M(xp) @ xp.sinh(C @ theta)))

    z0 = 0.8 * rng.standard_normal(n)

    def fixed(xp: Any) -> Any:
        z = xp.asarray(z0)
        return xp.solve(xp.asarray(C), xp.asinh((z + M(xp) @ z) / 2))

    return Instance(
        eq=Equivariance(model=model, T=T, name="nonlinear_involution"),
        loss=squared_error(rng.standard_normal(m)),
        a=constant_point(_NO_PARAMETER),
        theta=fixed,
        off_fixed=lambda xp: xp.solve(xp.asarray(C), xp.asinh(xp.asarray(z0))),
    )


ENTRIES: tuple[Entry, ...] = (
    Entry("mirror_symmetry", "F(θ) + F(Mθ), M = I − 2OOᵀ, r = 2, at Oᵀθ = 0 (Corollary 4)", "discrete", _mirror,
          LINEAR + ("corollary4_mirror",)),
    Entry("hidden_permutation", "W₂tanh(W₁X), swap of two hidden units, at coinciding units (§6)", "discrete", _permutation, LINEAR),
    Entry("sign_flip", "W₂tanh(W₁X), sign flip of one hidden unit, at its zero weights (§6)", "discrete", _sign_flip, LINEAR),
    Entry("nonlinear_involution", "C⁻¹asinh(M sinh Cθ), a nonlinear involution: blue term ≠ 0 (Theorem 2)", "discrete", _nonlinear_involution),
)
