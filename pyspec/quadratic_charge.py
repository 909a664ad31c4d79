"""Eq. (5), §5.2: a quadratic Noether charge exists iff the generator is symmetric (docs/theory.md#corollary-2-noether-flow).

For the symmetry ``T(a, θ) = e^{aA}θ`` the characteristic direction is ``v(θ) = Aθ``. A function ``Q``
with ``∇Q = v`` exists iff the Jacobian ``∂v/∂θ = A`` is symmetric, and then ``Q(θ) = ½θᵀAθ``; it is
conserved by gradient flow, ``dQ/dt = −⟨Aθ, ∇L⟩ = 0``, whenever eq. (2) holds. Lean:
``EquivarianceToolbox.noether_charge_iff_symmetric`` and ``noether_charge_conserved``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from pyspec.application_verdicts import three_valued
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.checks import compare, tolerance
from pyspec.errors import ShapeError
from pyspec.report import Report, norm, vanishes

__all__ = ["noether_charge_iff_symmetric", "noether_charge_conserved"]


def _generator(generator: Any, theta: Any) -> tuple[np.ndarray, np.ndarray]:
    A, th = np.asarray(generator, dtype=np.float64), np.ravel(np.asarray(theta, dtype=np.float64))
    if A.ndim != 2 or A.shape != (th.size, th.size):
        raise ShapeError(f"the generator A must be n x n with n = {th.size} parameters, got shape {A.shape}")
    return A, th


@three_valued
def noether_charge_iff_symmetric(generator: Any, theta: Any, *, precision: int | None = None) -> Report:
    """Eq. (5): ``Q(θ) = ½θᵀAθ`` has ``∇Q = Aθ``, and ``v(θ) = Aθ`` is a gradient field, iff ``A = Aᵀ``.

    Parts: ``gradient`` (``∇Q(θ) = Aθ`` by automatic differentiation, natural scale ``‖A‖‖θ‖``) and
    ``integrability`` (the Jacobian of ``v`` equals its transpose, the condition for some ``Q`` with
    ``∇Q = v`` to exist; natural scale ``‖A‖``). Both hold for a symmetric ``A`` and both fail for a
    non-symmetric one (the negative control of the "only if").

    Parameters
    ----------
    generator : array (n, n)
        ``A``.
    theta : array (n,)
        The point.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.

    Raises
    ------
    ShapeError
        When ``A`` is not ``n × n``.
    """
    A_host, th_host = _generator(generator, theta)
    backend = get_backend(precision, jit=False)
    with backend.context():
        A, th = backend.asarray(A_host), backend.asarray(th_host)

        def charge(t: Array) -> Array:
            return (t @ (A @ t)) / 2

        def field(t: Array) -> Array:
            return A @ t

        grad_Q = backend.to_host(backend.jacobian(charge, th))
        J = backend.to_host(backend.jacobian(field, th))
        v = backend.to_host(A @ th)
        tol = tolerance(backend, th_host.size)
        scale = norm(backend, A)
        parts = {
            "gradient": compare(backend, "noether_charge_iff_symmetric", grad_Q, {"A_theta": v}, tol,
                                scale * norm(backend, th)),
            "integrability": compare(backend, "noether_charge_iff_symmetric", J, {"J_transpose": J.T}, tol, scale),
        }
        return Report("noether_charge_iff_symmetric", parts, {"symmetric": bool(np.array_equal(A_host, A_host.T))})


@three_valued
def noether_charge_conserved(loss: Callable[..., Array], generator: Any, theta: Any, *,
                             precision: int | None = None) -> Report:
    """Eq. (5): under gradient flow ``θ̇ = −∇L``, ``dQ/dt = −⟨Aθ, ∇L(θ)⟩ = 0`` for ``Q = ½θᵀAθ``.

    Part ``flow``: ``d/dt Q(θ_t) = ∇Q·(−∇L)`` computed from the derivatives of ``Q`` and ``L`` (natural
    scale ``‖A‖‖θ‖‖∇L‖``). It vanishes when ``L`` is invariant under ``e^{aA}`` (eq. (2)); a loss without
    the symmetry is the negative control.

    Parameters
    ----------
    loss : callable
        ``loss(theta, *, xp) -> scalar``: the loss ``L``.
    generator : array (n, n)
        A symmetric ``A``.
    theta : array (n,)
    precision : int, optional

    Raises
    ------
    ShapeError
        When ``A`` is not ``n × n``.
    ValueError
        When ``A`` is not symmetric (then ``½θᵀAθ`` is not a charge: :func:`noether_charge_iff_symmetric`).
    """
    A_host, th_host = _generator(generator, theta)
    if not np.array_equal(A_host, A_host.T):
        raise ValueError("A is not symmetric: Q = theta^T A theta / 2 has grad Q != A theta, so it is not a charge")
    backend = get_backend(precision, jit=False)
    xp = backend.xp
    with backend.context():
        A, th = backend.asarray(A_host), backend.asarray(th_host)
        grad_L = backend.to_host(backend.jacobian(lambda t: loss(t, xp=xp), th))
        grad_Q = backend.to_host(backend.jacobian(lambda t: (t @ (A @ t)) / 2, th))
        rate = -(grad_Q @ grad_L)
        natural = norm(backend, A) * norm(backend, th) * norm(backend, grad_L)
        tol = tolerance(backend, th_host.size)
        return Report("noether_charge_conserved",
                      {"flow": vanishes(backend, "noether_charge_conserved", rate, tol, natural)})
