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
from pyspec.characteristic import check_smoothness, equivariance_report
from pyspec.checks import (
    IdentityCheck, Verdict, combine_verdicts, compare, limited, require_finite_terms, tolerance, ulp_neighbours,
    with_rounding_noise,
)
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import NotFixedPointError
from pyspec.verdicts import escalate_report, second_route_theorem2

if TYPE_CHECKING:
    from pyspec.sketch import Path as Method

__all__ = ["Theorem2Report", "theorem2", "fixed_point_residual"]

FIXED_POINT_CANCELLATION = 1.0
"""Factor on ``tolerance(n, ‖J‖)`` in the fixed-point test ``‖T(a, θ) − θ‖ / ‖θ‖``: evaluating ``T`` is
a sum of at most ``n`` rounded products (no solve), the same model as every identity's tolerance. A
point accepted this way is within rounding of the fixed set; what that offset does to each identity is
measured (``Jᵀ(∇L(Tθ) − ∇L(θ))`` and the Hessian's analogue) and enters the identity's resolution, so an
accepted point is never rejected by an identity because it is not fixed."""

THEOREM2_PRODUCERS = {
    "J": "dT/dtheta (the derivative of T)",
    "grad": "the gradient of L = loss(f) (model's Jacobian or loss's gradient)",
    "H": "the Hessian of L = loss(f)", "blue": "the second derivatives of T (contracted with the gradient of L)",
}  # fmt: skip
"""Who computed each quantity of Theorem 2, in the order of computation."""


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
    jump : float
        Relative jump of the model's derivative next to ``θ`` (0 when smooth; a non-zero jump makes
        the verdict at best inconclusive).
    escalated : bool
        Inconclusive float64 checks were recomputed at 50 digits.
    """

    gradient: IdentityCheck
    hessian: IdentityCheck
    fixed_point_residual: float
    equivariance_residual: float | None
    jump: float = 0.0
    escalated: bool = False

    @property
    def nondifferentiable(self) -> bool:
        """Whether the model is evaluated at (or next to) a non-differentiable point."""
        return self.jump > 0.0

    def _extra(self) -> tuple[str, ...]:
        if not self.jump:
            return ()
        return (f"non-differentiable point: the model's derivative jumps by {self.jump:.1e} next to theta",)

    @property
    def verdict(self) -> Verdict:
        """``"fails"``, ``"inconclusive"`` or ``"holds"`` (:func:`pyspec.checks.combine_verdicts`)."""
        return combine_verdicts(self.checks, self._extra())[0]

    @property
    def reason(self) -> str | None:
        """Why the verdict is not ``"holds"``."""
        return combine_verdicts(self.checks, self._extra())[1]

    @property
    def checks(self) -> tuple[IdentityCheck, ...]:
        """Every identity check of the report."""
        return (self.gradient, self.hessian)

    @property
    def holds(self) -> bool | None:
        """``True`` if both identities hold, ``False`` if one fails, ``None`` if inconclusive."""
        return {"holds": True, "fails": False, "inconclusive": None}[self.verdict]


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
    method : {"auto", "dense", "matrix_free", "sketched"}
        As in :func:`pyspec.theorem1`. Matrix-free checks item 1 exactly and item 2 on ``probes``
        random directions (``hessian.lhs`` is then ``HZ``, ``n × probes``; the probabilistic
        guarantee is in :func:`pyspec.matrix_free.theorem2_report_mf`). That is already a sketch of
        item 2 (``O(probes)`` HVPs; Theorem 2 has no ``k``), so ``"sketched"`` runs the same check.
    probes : int
        Number of probe directions of the matrix-free item 2.
    certify : bool
        Ball arithmetic at ``precision`` digits: each check carries ``residual_bound`` and
        ``certified_nonzero`` (see :func:`pyspec.theorem1`).

    Raises
    ------
    NotFixedPointError, EquivarianceError, ShapeError, NonFiniteError, ValueError
    """
    from pyspec.matrix_free import theorem2_report_mf
    from pyspec.sketch import check_path, select_path

    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: Theorem 2 is about a symmetry; construct the Equivariance with S=None")
    check_path(method, precision)
    backend = get_backend(precision, jit=jit, certify=certify)
    with backend.context():
        problem, a_flat, theta_flat = bind(eq, loss, a, theta, backend)
        if select_path(method, problem.n, problem.k, precision) in ("matrix_free", "sketched"):
            return theorem2_report_mf(problem, a_flat, theta_flat, check_hypotheses, probes)
        report = theorem2_report(problem, a_flat, theta_flat, check_hypotheses)
    return escalate_report(report, (eq.model, eq.T, loss), precision, lambda digits: theorem2(
        eq, loss, a, theta, precision=digits, check_hypotheses=check_hypotheses, method="dense"))


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

    program = compile_program(problem, quantities)
    grad, H, blue = B.to_host(program(a, theta))
    require_finite_terms(B, {"J": J, "grad": grad, "H": H, "blue": blue}, THEOREM2_PRODUCERS)
    tol = tolerance(B, n + problem.m, scale_J**2)

    def checks(J_: Array, grad_: Array, H_: Array, blue_: Array) -> dict[str, IdentityCheck]:
        # natural scales: ‖J‖‖∇L‖ and ‖J‖²‖H‖ (see pyspec.checks)
        norm_grad, norm_H = B.to_float(B.norm(grad_)), B.to_float(B.norm(H_))
        return {
            "gradient": compare(B, "theorem2_gradient", J_.T @ grad_, {"grad_L": grad_}, tol, scale_J * norm_grad),
            "hessian": compare(B, "theorem2_hessian", H_, {"conjugated": J_.T @ H_ @ J_, "blue": blue_}, tol,
                               scale_J**2 * norm_H),
        }

    c = checks(J, grad, H, blue)
    if any(x.residual > x.tolerance for x in c.values()):
        moved = [checks(J, *B.to_host(program(a, t_i))) for _, t_i in ulp_neighbours(B, a, theta, False)]
        c = with_rounding_noise(B, c, moved)
        c = second_route_theorem2(problem, theta, J, grad, H, c)
        if fp > 0.0 and check_hypotheses:
            c = _offset_effect(problem, program, a, theta, J, c)
    jump = check_smoothness(problem, theta)
    return Theorem2Report(gradient=c["gradient"], hessian=c["hessian"], fixed_point_residual=fp,
                          equivariance_residual=eq_residual, jump=jump)


def _offset_effect(problem: Problem, program: Any, a: Array, theta: Array, J: Array,
                   c: dict[str, IdentityCheck]) -> dict[str, IdentityCheck]:
    """Raise each check's resolution by what the (accepted, rounding-level) offset ``T(a, θ) − θ`` does
    to it. Differentiating ``L(T(a, θ)) = L(θ)`` gives, at every ``θ``, ``Jᵀ∇L(Tθ) = ∇L(θ)`` and
    ``JᵀH(Tθ)J + (∇L(Tθ)·T_θθ) = H(θ)``; Theorem 2 evaluates the left sides at ``θ`` instead of ``Tθ``, so
    the offset moves item 1 by ``Jᵀ(∇L(Tθ) − ∇L(θ))`` and item 2 by the analogous difference."""
    B = problem.backend
    moved = B.to_host(B.compile(problem.T)(a, theta))
    grad, H, blue = B.to_host(program(a, theta))
    grad_m, H_m, blue_m = B.to_host(program(a, moved))
    effects = {
        "gradient": B.to_float(B.norm(J.T @ (grad_m - grad))),
        "hessian": B.to_float(B.norm(J.T @ (H_m - H) @ J + (blue_m - blue))),
    }
    return {name: limited(check, 2.0 * effects[name] / check.scale if check.scale else 0.0,
                          f"theta is within rounding of the fixed set (|T(a,theta) - theta| > 0), which moves "
                          f"this identity by {effects[name] / check.scale if check.scale else 0.0:.1e}")
            for name, check in c.items()}
