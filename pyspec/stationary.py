"""§5.4: symmetry directions are in the Hessian's null space at stationary points (docs/theory.md#stationary-points).

For a symmetry (``S = id``) at a good position ``(a, θ*)`` with ``∇L(θ*) = 0``, Theorem 1 item 2a with
``w = 0`` gives ``H(θ*) v(a, θ*) = 0``; hence ``dim ker H(θ*) ≥ rank v(a, θ*)``.
"""

from __future__ import annotations

from typing import Any, Callable

from pyspec.application_verdicts import three_valued
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.certify import certifiable
from pyspec.cache import compile_program
from pyspec.characteristic import direction_of
from pyspec.checks import tolerance
from pyspec.equivariance import Equivariance, Problem
from pyspec.errors import NotStationaryError
from pyspec.report import Report, bind_checked, loss_terms, norm, vanishes

__all__ = ["symmetry_hessian_null_space", "null_space_report"]


def null_space_report(problem: Problem, a: Array, theta: Array, condition: float, check_stationary: bool = True) -> Report:
    """:func:`symmetry_hessian_null_space` for a bound problem (position and symmetry already checked)."""
    B = problem.backend
    q = loss_terms(problem, theta)
    v = B.to_host(compile_program(problem, lambda a_, t_: direction_of(problem, a_, t_))(a, theta))
    tol = tolerance(B, problem.n + problem.m + problem.k, condition)
    grad, H = q.grad_L, q.H
    # ∇L = Gᵀg is at rounding level when g is, and g at rounding level of y is ~ eps‖K‖‖y‖
    grad_scale = norm(B, q.G) * (norm(B, q.g) + norm(B, q.K) * norm(B, q.y))
    stationarity = norm(B, grad) / grad_scale if grad_scale > 0 else 0.0
    if check_stationary and stationarity > tol:
        raise NotStationaryError(
            f"{problem.name}: §5.4 needs a stationary point, but |grad L| / (|G| (|g| + |K| |y|)) = "
            f"{stationarity:.3e} > {tol:.1e}"
        )
    norm_H = norm(B, H)
    singular = B.svdvals(v)
    rank = sum(B.to_float(s) > B.eps**0.5 * B.to_float(singular[0]) for s in singular)
    magnitudes = sorted((abs(x) for x in B.eigvalsh(H)), key=B.to_float)
    smallest = B.asarray(magnitudes[:rank])
    parts = {
        "null_action": vanishes(B, "symmetry_hessian_null_space", H @ v, tol, norm_H * norm(B, v)),
        # the rank(v) smallest |eigenvalues| of H vanish: dim ker H ≥ rank v
        "kernel_dimension": vanishes(B, "symmetry_hessian_null_space", smallest, tol, norm_H),
    }
    kernel = sum(B.to_float(m) <= tol * norm_H for m in magnitudes)
    details = {"rank_v": rank, "kernel_dimension": kernel, "stationarity": stationarity}
    return Report("symmetry_hessian_null_space", parts, details)


@certifiable
@three_valued
def symmetry_hessian_null_space(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    theta: Any,
    *,
    precision: int | None = None,
    check_hypotheses: bool = True,
    jit: bool = True, certify: bool = False,
) -> Report:
    """§5.4: at a stationary point of a symmetric loss, ``H v = 0`` and ``dim ker H ≥ rank v``.

    Parts: ``null_action`` (``H(θ*) v(a, θ*) = 0``, ``n × k``) and ``kernel_dimension`` (the
    ``rank v`` smallest ``|λ_i(H)|`` vanish, relative to ``‖H‖``). ``details`` has ``rank_v``,
    ``kernel_dimension`` (eigenvalues within tolerance of 0) and ``stationarity``
    (``‖∇L‖ / (‖G‖(‖g‖ + ‖K‖‖y‖))``).

    Parameters
    ----------
    eq : Equivariance
        A symmetry (``S=None``).
    loss : callable
    a, theta : array or pytree
        A good position with ``∇L(θ) = 0``.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_hypotheses : bool
        Verify the symmetry near ``(a, θ)`` and ``∇L(θ) = 0`` first (default); ``False`` for negative
        controls (at a non-stationary point ``H v = −(∂_θv)*∇L ≠ 0`` in general).
    jit : bool
        Float64 only: compile with XLA (default).

    Raises
    ------
    NotStationaryError, NotGoodPositionError, EquivarianceError, ShapeError, NonFiniteError, ValueError
    """
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: §5.4 is about a symmetry; construct the Equivariance with S=None")
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, a_flat, th, condition = bind_checked(eq, loss, a, theta, backend, check_hypotheses)
        return null_space_report(problem, a_flat, th, condition, check_hypotheses)
