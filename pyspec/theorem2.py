"""Theorem 2 (discrete symmetry at fixed points), docs/theory.md#theorem-2.

For a symmetry ``f(T(a, θ')) = f(θ')`` near ``θ`` with ``a`` fixed, at ``θ ∈ Fix_a(T)`` and with
``J = ∂θT(a, θ)`` (not necessarily invertible):

1. ``Jᵀ∇L(θ) = ∇L(θ)``;
2. ``JᵀHJ + (∇L·T_θθ) = H``, where the blue term ``(∇L·T_θθ)[j, l] = Σ_r ∂_rL ∂²T_r/∂θ_j∂θ_l``
   vanishes for affine ``T``.
"""

from __future__ import annotations

from typing import Any, Callable

from pyspec import matrix_free
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.checks import compare, limited, require_finite_terms, tolerance, ulp_neighbours, with_rounding_noise
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.fixed_point import fixed_point_residual, theorem2_hypotheses
from pyspec.identities import Sides, Terms, kept_sides
from pyspec.matrix_free.options import Method, check_method, select_method
from pyspec.reports import Theorem2Checks, Theorem2Report
from pyspec.smoothness import check_smoothness
from pyspec.verdicts import escalate_report, second_route_theorem2

__all__ = [
    "THEOREM2_IDS", "Theorem2Report", "theorem2", "theorem2_natural_scales", "theorem2_report", "theorem2_sides",
    "fixed_point_residual",
]

THEOREM2_PRODUCERS = {
    "J": "dT/dtheta (the derivative of T)",
    "grad": "the gradient of L = loss(f) (model's Jacobian or loss's gradient)",
    "H": "the Hessian of L = loss(f)", "blue": "the second derivatives of T (contracted with the gradient of L)",
}  # fmt: skip
"""Who computed each quantity of Theorem 2, in the order of computation."""


THEOREM2_IDS = ("theorem2_gradient", "theorem2_hessian")
"""The paper-item ids of Theorem 2's checks, in the order of :class:`~pyspec.reports.Theorem2Checks`."""


def theorem2_sides(J: Array, grad: Array, H: Array, blue: Array) -> tuple[Sides, Sides]:
    """Both sides of item 1, ``Jᵀ∇L = ∇L``, and of item 2, ``H = JᵀHJ + (∇L·T_θθ)`` (array operations
    only: the same function runs on the host and in a compiled, vmapped program, :mod:`pyspec.bulk`)."""
    return (Sides(J.T @ grad, Terms(grad_L=grad)), Sides(H, Terms(conjugated=J.T @ H @ J, blue=blue)))


def theorem2_natural_scales(scale_J: Any, norm_grad: Any, norm_H: Any) -> tuple[Any, Any]:
    """The natural scales (:mod:`pyspec.checks`) of items 1 and 2: ``‖J‖‖∇L‖`` and ``‖J‖²‖H‖`` (floats,
    or arrays of one per point)."""
    return scale_J * norm_grad, scale_J**2 * norm_H


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
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: Theorem 2 is about a symmetry; construct the Equivariance with S=None")
    check_method(method, precision)
    backend = get_backend(precision, jit=jit, certify=certify)
    with backend.context():
        problem, a_flat, theta_flat = bind(eq, loss, a, theta, backend)
        if select_method(method, problem.n, precision, problem.k) in ("matrix_free", "sketched"):
            return matrix_free.theorem2_report_mf(problem, a_flat, theta_flat, check_hypotheses, probes)
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
    fp, eq_residual = theorem2_hypotheses(problem, a, theta, scale_J, check_hypotheses)

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

    def checks(J_: Array, grad_: Array, H_: Array, blue_: Array) -> Theorem2Checks:
        sides = theorem2_sides(J_, grad_, H_, blue_)
        scales = theorem2_natural_scales(scale_J, B.to_float(B.norm(grad_)), B.to_float(B.norm(H_)))
        return Theorem2Checks(*(compare(B, identity, *kept_sides(side), tol, scale)
                                for identity, side, scale in zip(THEOREM2_IDS, sides, scales)))

    c = checks(J, grad, H, blue)
    if any(x.residual > x.tolerance for x in c):
        moved = [checks(J, *B.to_host(program(a, t_i)))._asdict() for _, t_i in ulp_neighbours(B, a, theta, False)]
        c = Theorem2Checks(**with_rounding_noise(B, c._asdict(), moved))
        c = second_route_theorem2(problem, theta, J, grad, H, c)
        if fp > 0.0 and check_hypotheses:
            c = _offset_effect(problem, program, a, theta, J, c)
    jump = check_smoothness(problem, theta)
    return Theorem2Report(*c, fixed_point_residual=fp, equivariance_residual=eq_residual, jump=jump)


def _offset_effect(problem: Problem, program: Any, a: Array, theta: Array, J: Array,
                   c: Theorem2Checks) -> Theorem2Checks:
    """Raise each check's resolution by what the (accepted, rounding-level) offset ``T(a, θ) − θ`` does
    to it. Differentiating ``L(T(a, θ)) = L(θ)`` gives, at every ``θ``, ``Jᵀ∇L(Tθ) = ∇L(θ)`` and
    ``JᵀH(Tθ)J + (∇L(Tθ)·T_θθ) = H(θ)``; Theorem 2 evaluates the left sides at ``θ`` instead of ``Tθ``, so
    the offset moves item 1 by ``Jᵀ(∇L(Tθ) − ∇L(θ))`` and item 2 by the analogous difference."""
    B = problem.backend
    moved = B.to_host(B.compile(problem.T)(a, theta))
    grad, H, blue = B.to_host(program(a, theta))
    grad_m, H_m, blue_m = B.to_host(program(a, moved))
    effects = (B.to_float(B.norm(J.T @ (grad_m - grad))),  # item 1, item 2: the order of Theorem2Checks
               B.to_float(B.norm(J.T @ (H_m - H) @ J + (blue_m - blue))))
    return Theorem2Checks(*(limited(check, 2.0 * effect / check.scale if check.scale else 0.0,
                                    f"theta is within rounding of the fixed set (|T(a,theta) - theta| > 0), which "
                                    f"moves this identity by {effect / check.scale if check.scale else 0.0:.1e}")
                            for check, effect in zip(c, effects)))
