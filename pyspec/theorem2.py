"""Theorem 2 (discrete symmetry at fixed points), docs/theory.md#theorem-2.

For a symmetry ``f(T(a, θ')) = f(θ')`` near ``θ`` with ``a`` fixed, at ``θ ∈ Fix_a(T)`` and with
``J = ∂θT(a, θ)`` (not necessarily invertible):

1. ``Jᵀ∇L(θ) = ∇L(θ)``;
2. ``JᵀHJ + (∇L·T_θθ) = H``, where the blue term ``(∇L·T_θθ)[j, l] = Σ_r ∂_rL ∂²T_r/∂θ_j∂θ_l``
   vanishes for affine ``T``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.characteristic import equivariance_report
from pyspec.checks import IdentityCheck, compare, tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import NotFixedPointError

if TYPE_CHECKING:
    from pyspec.matrix_free import Method

__all__ = ["Theorem2Report", "theorem2", "fixed_point_residual"]

FIXED_POINT_CANCELLATION = 1e3
"""``T(a, θ) − θ`` is a difference of evaluated quantities; the fixed-point tolerance is this factor
times ``tolerance(n, cond(J))`` relative to ``‖θ‖``."""


@dataclasses.dataclass(frozen=True)
class Theorem2Report:
    """Theorem 2 at one fixed point.

    Attributes
    ----------
    gradient : IdentityCheck
        item 1, ``Jᵀ∇L = ∇L``.
    hessian : IdentityCheck
        item 2 as ``H = JᵀHJ + (∇L·T_θθ)``: ``lhs`` is ``H``, ``terms`` are ``conjugated`` (``JᵀHJ``)
        and ``blue``.
    fixed_point_residual : float
        ``‖T(a, θ) − θ‖ / ‖θ‖``.
    equivariance_residual : float or None
        Worst residual of the symmetry at and near ``θ`` (``None`` when not checked).
    """

    gradient: IdentityCheck
    hessian: IdentityCheck
    fixed_point_residual: float
    equivariance_residual: float | None

    @property
    def checks(self) -> tuple[IdentityCheck, ...]:
        """Every identity check of the report."""
        return (self.gradient, self.hessian)

    @property
    def holds(self) -> bool:
        """Whether both identities hold."""
        return all(c.holds for c in self.checks)


def fixed_point_residual(problem: Problem, a: Array, theta: Array) -> float:
    """``‖T(a, θ) − θ‖ / max(‖θ‖, ‖T(a, θ)‖)`` (0 when both vanish)."""
    B = problem.backend
    moved = B.to_host(compile_program(problem, problem.T)(a, theta))
    scale = max(B.to_float(B.norm(theta)), B.to_float(B.norm(moved)))
    return 0.0 if scale == 0.0 else B.to_float(B.norm(moved - theta)) / scale


def theorem2(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    theta: Any,
    *,
    precision: int | None = None,
    check_hypotheses: bool = True,
    jit: bool = True,
    method: Method = "auto",
    probes: int = 8,
    certify: bool = False,
) -> Theorem2Report:
    """Check Theorem 2 (items 1 and 2) at a fixed point ``θ`` of ``T(a, ·)``.

    Parameters
    ----------
    eq : Equivariance
        A symmetry (``S=None``): ``f(T(a, θ')) = f(θ')`` near ``θ``.
    loss : callable
        ``ℓ(y) -> scalar``.
    a, theta : array or pytree
        The (fixed) transformation parameter and a point of ``Fix_a(T)``.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_hypotheses : bool
        Verify the symmetry near ``θ`` and ``T(a, θ) = θ`` first (default). ``False`` only for
        negative controls.
    jit : bool
        Float64 only: compile with XLA (default); see :func:`pyspec.backends.get_backend`.
    method : {"auto", "dense", "matrix_free"}
        As in :func:`pyspec.theorem1`. Matrix-free checks item 1 exactly and item 2 on ``probes``
        random directions (``hessian.lhs`` is then ``HZ``, ``n × probes``; the probabilistic
        guarantee is in :func:`pyspec.matrix_free.theorem2_report_mf`).
    probes : int
        Number of probe directions of the matrix-free item 2.
    certify : bool
        Ball arithmetic at ``precision`` digits: each check carries ``residual_bound`` and
        ``certified_nonzero`` (see :func:`pyspec.theorem1`).

    Raises
    ------
    NotFixedPointError, EquivarianceError, ShapeError, NonFiniteError, ValueError
    """
    from pyspec.matrix_free import check_method, select_method, theorem2_report_mf

    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: Theorem 2 is about a symmetry; construct the Equivariance with S=None")
    check_method(method, precision)
    backend = get_backend(precision, jit=jit, certify=certify)
    with backend.context():
        problem, a_flat, theta_flat = bind(eq, loss, a, theta, backend)
        if select_method(method, problem.n, precision) == "matrix_free":
            return theorem2_report_mf(problem, a_flat, theta_flat, check_hypotheses, probes)
        return theorem2_report(problem, a_flat, theta_flat, check_hypotheses)


def theorem2_report(problem: Problem, a: Array, theta: Array, check_hypotheses: bool = True) -> Theorem2Report:
    """:func:`theorem2` for a bound problem."""
    B = problem.backend
    T = problem.T
    J = B.to_host(compile_program(problem, lambda a_, t_: B.jacobian(lambda t: T(a_, t), t_))(a, theta))
    # J need not be invertible: no solve is involved, only products with J, whose rounding scales
    # with ‖J‖₂ (1 for permutations, reflections and sign flips).
    scale_J = max(B.to_float(B.svdvals(J)[0]), 1.0)
    n = problem.n
    fp = fixed_point_residual(problem, a, theta)
    eq_residual = None
    if check_hypotheses:
        fp_tol = FIXED_POINT_CANCELLATION * tolerance(B, n, scale_J)
        if fp > fp_tol:
            raise NotFixedPointError(
                f"{problem.name}: theta is not a fixed point of T(a, .): "
                f"|T(a, theta) - theta| / |theta| = {fp:.3e} > {fp_tol:.1e}"
            )
        report = equivariance_report(problem, a, theta, scale_J, vary_a=False)
        report.require(problem.name)
        eq_residual = max(report.residuals)

    def grad_L(t: Array) -> Array:
        return B.jacobian(problem.L, t)

    def quantities(a_: Array, t_: Array) -> tuple[Array, Array, Array]:
        grad = grad_L(t_)
        H = B.jacobian(grad_L, t_)
        blue = B.jacobian(lambda t: B.jacobian(lambda s: grad @ T(a_, s), t), t_)
        return grad, H, blue

    grad, H, blue = B.to_host(compile_program(problem, quantities)(a, theta))
    tol = tolerance(B, n + problem.m, scale_J**2)
    # natural scales: ‖J‖‖∇L‖ and ‖J‖²‖H‖ (see pyspec.checks)
    norm_grad, norm_H = B.to_float(B.norm(grad)), B.to_float(B.norm(H))
    gradient = compare(B, "theorem2_gradient", J.T @ grad, {"grad_L": grad}, tol, scale_J * norm_grad)
    hessian = compare(B, "theorem2_hessian", H, {"conjugated": J.T @ H @ J, "blue": blue}, tol, scale_J**2 * norm_H)
    return Theorem2Report(gradient=gradient, hessian=hessian, fixed_point_residual=fp, equivariance_residual=eq_residual)
