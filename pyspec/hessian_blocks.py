"""§6: the block structure of the Hessian at a fixed point of a linear involution (docs/theory.md#discrete-linear-symmetry).

For ``T(a, θ) = Mθ`` with ``M² = I`` and ``θ ∈ ker(M − I)``, eq. (9) ``MᵀHM = H`` gives
``H(x, y) = 0`` whenever ``Mx = x`` and ``My = −y``: no Hessian block couples the fixed space
``ker(M − I) = range P₊`` and the flipped space ``ker(M + I) = range P₋``, with the projectors
``P± = (I ± M)/2`` (exact at working precision). Lean: ``EquivarianceToolbox.discrete_linear_hessian_block``.
"""

from __future__ import annotations

from typing import Any, Callable

from pyspec.application_verdicts import three_valued
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.checks import tolerance
from pyspec.discrete import linear_map
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.report import Report, loss_terms, norm, vanishes

__all__ = ["discrete_linear_hessian_block", "block_report"]


def block_report(problem: Problem, theta: Array, M: Array) -> Report:
    """Parts ``fixed_flipped`` (``P₊ᵀHP₋ = 0``) and ``flipped_fixed`` (``P₋ᵀHP₊ = 0``) at ``θ``.

    Raises
    ------
    ValueError
        When ``M`` is not an involution (``M² ≠ I`` beyond rounding).
    """
    B = problem.backend
    n = problem.n
    eye = B.xp.eye(n)
    scale = max(B.to_float(B.svdvals(M)[0]), 1.0)
    tol = tolerance(B, problem.n + problem.m, scale**2)
    if norm(B, M @ M - eye) > tol * scale**2 * n:
        raise ValueError(f"{problem.name}: M is not an involution (M^2 != I); the +-1 eigenspaces do not span")
    H = loss_terms(problem, theta).H
    plus, minus = (eye + M) / 2, (eye - M) / 2
    natural = norm(B, H) * norm(B, plus) * norm(B, minus)
    return Report("discrete_linear_hessian_block", {
        "fixed_flipped": vanishes(B, "discrete_linear_hessian_block", plus.T @ H @ minus, tol, natural),
        "flipped_fixed": vanishes(B, "discrete_linear_hessian_block", minus.T @ H @ plus, tol, natural),
    })


@three_valued
def discrete_linear_hessian_block(eq: Equivariance, loss: Callable[..., Array], a: Any, theta: Any, *,
                                  precision: int | None = None, check_hypotheses: bool = True,
                                  jit: bool = True) -> Report:
    """§6: ``H(x, y) = 0`` for ``Mx = x``, ``My = −y`` at ``θ ∈ ker(M − I)`` of a linear involution.

    Parameters
    ----------
    eq : Equivariance
        A symmetry (``S=None``) with ``T(a, θ) = M_a θ`` linear in ``θ`` and ``M² = I``.
    loss : callable
    a : array or pytree
        The (fixed) transformation parameter.
    theta : array or pytree
        A point of ``Fix = ker(M − I)``.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_hypotheses : bool
        Verify that ``T(a, ·)`` is linear, ``Mθ = θ`` and the symmetry near ``θ`` first (default);
        ``False`` for negative controls.
    jit : bool
        Float64 only: compile with XLA (default).

    Raises
    ------
    NotFixedPointError, EquivarianceError, ShapeError, NonFiniteError, ValueError
        ``ValueError`` also when ``T(a, ·)`` is not linear or ``M`` is not an involution.
    """
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: §6 is about a symmetry; construct the Equivariance with S=None")
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, a_flat, th = bind(eq, loss, a, theta, backend)
        M = linear_map(problem, a_flat, th, check_hypotheses)
        return block_report(problem, th, M)
