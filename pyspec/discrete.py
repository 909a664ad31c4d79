"""§6: discrete symmetry with linear ``T`` — eqs. (8)–(9) and Corollary 4 (docs/theory.md#discrete-linear-symmetry).

For ``f(Mθ) = f(θ)`` and ``θ ∈ Fix = ker(M − I)``: (8) ``Mᵀ∇L(θ) = ∇L(θ)`` and (9) ``MᵀHM = H``.
When ``M`` is orthogonal, (9) is equivalent to ``HM = MH``. Corollary 4: for the reflection
``M = I − 2OOᵀ`` (``OᵀO = I_r``) and ``Oᵀθ = 0``: ``Oᵀ∇L = 0``, ``(I − OOᵀ)HO = 0`` and ``[H, OOᵀ] = 0``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from pyspec.application_verdicts import three_valued
from pyspec.backends import get_backend
from pyspec.backends.base import Array, Backend
from pyspec.certify import certifiable
from pyspec.cache import compile_program
from pyspec.characteristic import equivariance_report
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import NotFixedPointError
from pyspec.fixed_point import FIXED_POINT_CANCELLATION, fixed_point_residual
from pyspec.report import Report, loss_terms, norm, vanishes

__all__ = [
    "discrete_linear_gradient",
    "discrete_linear_hessian",
    "corollary4_mirror",
    "linear_map",
    "linear_reports",
    "mirror_problem",
    "mirror_report",
]

LINEARITY_PROBE_SEED = 20251224
"""Seed of the random point ``x`` at which ``T(a, x) = Mx`` is tested (besides ``θ``)."""


def _require_symmetry(problem: Problem, a: Array, theta: Array, scale: float) -> None:
    equivariance_report(problem, a, theta, scale, vary_a=False).require(problem.name)


def linear_map(problem: Problem, a: Array, theta: Array, check: bool) -> Array:
    """``M = ∂θT(a, θ)``; with ``check``, require ``T(a, x) = Mx`` at ``x = θ`` and a random ``x``,
    ``θ ∈ Fix`` and the symmetry near ``θ``."""
    B = problem.backend
    M = B.to_host(compile_program(problem, lambda a_, t_: B.jacobian(lambda t: problem.T(a_, t), t_))(a, theta))
    if not check:
        return M
    scale = max(B.to_float(B.svdvals(M)[0]), 1.0)
    tol = tolerance(B, problem.n, scale)
    probe = B.asarray(np.random.default_rng(LINEARITY_PROBE_SEED).standard_normal(problem.n))
    for x in (theta, probe):
        moved = B.to_host(compile_program(problem, problem.T)(a, x))
        if norm(B, moved - M @ x) > FIXED_POINT_CANCELLATION * tol * scale * norm(B, x):
            raise ValueError(f"{problem.name}: T(a, .) is not linear (T(a, x) != dT x); use pyspec.theorem2")
    residual = fixed_point_residual(problem, a, theta)
    if residual > FIXED_POINT_CANCELLATION * tol:
        raise NotFixedPointError(
            f"{problem.name}: theta is not in Fix = ker(M - I): |M theta - theta| / |theta| = {residual:.3e} > "
            f"{FIXED_POINT_CANCELLATION * tol:.1e}"
        )
    _require_symmetry(problem, a, theta, scale)
    return M


def linear_reports(problem: Problem, theta: Array, M: Array) -> dict[str, Report]:
    """(8) and (9) by id (``discrete_linear_gradient``, ``discrete_linear_hessian``) at ``θ``."""
    B = problem.backend
    q = loss_terms(problem, theta)
    scale = max(B.to_float(B.svdvals(M)[0]), 1.0)
    tol = tolerance(B, problem.n + problem.m, scale**2)
    grad, H = q.grad_L, q.H
    gradient = compare(B, "discrete_linear_gradient", M.T @ grad, {"grad_L": grad}, tol, scale * norm(B, grad))
    parts = {"conjugation": compare(B, "discrete_linear_hessian", M.T @ H @ M, {"H": H}, tol, scale**2 * norm(B, H))}
    orthogonal = norm(B, M.T @ M - B.xp.eye(problem.n)) <= tol * scale**2
    notes: tuple[str, ...] = ()
    if orthogonal:
        parts["commutation"] = compare(B, "discrete_linear_hessian", H @ M, {"MH": M @ H}, tol, scale * norm(B, H))
    else:
        notes = ("M is not orthogonal: (9) does not imply HM = MH (docs/theory.md#discrete-linear-symmetry)",)
    return {
        "discrete_linear_gradient": Report("discrete_linear_gradient", {"gradient": gradient}),
        "discrete_linear_hessian": Report("discrete_linear_hessian", parts, {"orthogonal": orthogonal}, notes),
    }


def _linear_public(eq: Equivariance, loss: Callable[..., Array], a: Any, theta: Any, precision: int | None,
                   check_hypotheses: bool, jit: bool, identity: str) -> Report:
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: eqs. (8)-(9) are about a symmetry; construct the Equivariance with S=None")
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, a_flat, th = bind(eq, loss, a, theta, backend)
        M = linear_map(problem, a_flat, th, check_hypotheses)
        return linear_reports(problem, th, M)[identity]


_LINEAR_PARAMETERS = """
    Parameters
    ----------
    eq : Equivariance
        A symmetry (``S=None``) with ``T(a, θ) = M_a θ`` linear in ``θ``.
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
        ``ValueError`` also when ``T(a, ·)`` is not linear (use :func:`pyspec.theorem2`).
"""


@certifiable
@three_valued
def discrete_linear_gradient(eq: Equivariance, loss: Callable[..., Array], a: Any, theta: Any, *,
                             precision: int | None = None, check_hypotheses: bool = True, jit: bool = True,
                             certify: bool = False) -> Report:
    """Eq. (8) of §6: ``Mᵀ∇L(θ) = ∇L(θ)`` at ``θ ∈ ker(M − I)`` (part ``gradient``).
    """
    return _linear_public(eq, loss, a, theta, precision, check_hypotheses, jit, "discrete_linear_gradient")


@certifiable
@three_valued
def discrete_linear_hessian(eq: Equivariance, loss: Callable[..., Array], a: Any, theta: Any, *,
                            precision: int | None = None, check_hypotheses: bool = True, jit: bool = True,
                            certify: bool = False) -> Report:
    """Eq. (9) of §6: ``MᵀHM = H`` at ``θ ∈ ker(M − I)`` (part ``conjugation``), and ``HM = MH``
    when ``M`` is orthogonal (part ``commutation``; otherwise a note, as (9) does not imply it).
    """
    return _linear_public(eq, loss, a, theta, precision, check_hypotheses, jit, "discrete_linear_hessian")


discrete_linear_gradient.__doc__ = (discrete_linear_gradient.__doc__ or "").rstrip() + "\n" + _LINEAR_PARAMETERS
discrete_linear_hessian.__doc__ = (discrete_linear_hessian.__doc__ or "").rstrip() + "\n" + _LINEAR_PARAMETERS


def _frame(O: Any, backend: Backend) -> Array:
    """``O`` as a backend array: a callable ``O(xp)`` (exact at working precision) or an array."""
    return O(backend.xp) if callable(O) else backend.asarray(O)


def mirror_report(problem: Problem, theta: Array, O: Array) -> Report:
    """:func:`corollary4_mirror` for a bound problem."""
    B = problem.backend
    q = loss_terms(problem, theta)
    grad, H = q.grad_L, q.H
    P = O @ O.T
    tol = tolerance(B, problem.n + problem.m)
    norm_H = norm(B, H)
    parts = {
        "gradient": vanishes(B, "corollary4_mirror", O.T @ grad, tol, norm(B, grad)),
        "invariant_subspaces": vanishes(B, "corollary4_mirror", H @ O - P @ (H @ O), tol, norm_H),
        "commutation": compare(B, "corollary4_mirror", H @ P, {"PH": P @ H}, tol, norm_H * norm(B, P)),
    }
    return Report("corollary4_mirror", parts)


def mirror_problem(model: Callable[..., Array], loss: Callable[..., Array], O: Any, theta: Any, backend: Backend,
                   check: bool = True) -> tuple[Problem, Array, Array]:
    """Bind ``model`` with the reflection ``θ ↦ θ − 2O(Oᵀθ)``; with ``check``, require ``OᵀO = I``
    (``ValueError``), ``Oᵀθ = 0`` (:class:`NotFixedPointError`) and the symmetry near ``θ``.

    Returns
    -------
    problem, theta_flat, O
    """
    frame = _frame(O, backend)
    if frame.ndim != 2:
        raise ValueError(f"O must be an n x r matrix, got shape {frame.shape}")
    r = frame.shape[1]

    def T(a: Array, th: Array, *, xp: Any) -> Array:
        return th - 2 * (frame @ (frame.T @ th))

    eq = Equivariance(model=model, T=T, name=f"{getattr(model, '__name__', 'model')} (mirror, r = {r})")
    problem, a_flat, th = bind(eq, loss, np.zeros(1), theta, backend)
    if check:
        tol = tolerance(backend, problem.n)
        defect = norm(backend, frame.T @ frame - backend.xp.eye(r))
        if defect > tol:
            raise ValueError(f"O must have orthonormal columns: |O^T O - I| = {defect:.3e} > {tol:.1e}")
        offset = norm(backend, frame.T @ th) / max(norm(backend, th), np.finfo(float).tiny)
        if offset > FIXED_POINT_CANCELLATION * tol:
            raise NotFixedPointError(
                f"{eq.name}: theta is not on the mirror: |O^T theta| / |theta| = {offset:.3e} > "
                f"{FIXED_POINT_CANCELLATION * tol:.1e}"
            )
        _require_symmetry(problem, a_flat, th, 1.0)
    return problem, th, frame


@certifiable
@three_valued
def corollary4_mirror(
    model: Callable[..., Array],
    loss: Callable[..., Array],
    O: Any,
    theta: Any,
    *,
    precision: int | None = None,
    check_hypotheses: bool = True,
    jit: bool = True, certify: bool = False,
) -> Report:
    """Corollary 4 of §6 (mirror symmetry): for ``f(Mθ) = f(θ)`` with ``M = I − 2OOᵀ`` and ``Oᵀθ = 0``.

    Parts: ``gradient`` (``Oᵀ∇L = 0``: ``∇L ⟂ col O``), ``invariant_subspaces``
    (``(I − OOᵀ)HO = 0``, i.e. ``H col O ⊆ col O``; its transpose ``OᵀH(I − OOᵀ) = 0`` gives
    ``H (col O)^⊥ ⊆ (col O)^⊥``) and ``commutation`` (``[H, OOᵀ] = 0``).

    Parameters
    ----------
    model : callable
        ``f(theta) -> y`` on a flat parameter vector, invariant under the reflection ``M``.
    loss : callable
    O : array or callable
        ``n × r`` with orthonormal columns, or ``O(xp)`` computing it at working precision (so that
        ``OᵀO = I`` holds at every precision, e.g. :func:`pyspec.catalog.orthonormal_columns`).
    theta : array
        A point with ``Oᵀθ = 0``.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_hypotheses : bool
        Verify ``OᵀO = I`` (``ValueError``), ``Oᵀθ = 0`` (``NotFixedPointError``) and the symmetry near
        ``θ`` first (default); ``False`` for negative controls.
    jit : bool
        Float64 only: compile with XLA (default).

    Raises
    ------
    NotFixedPointError, EquivarianceError, ShapeError, NonFiniteError, ValueError
    """
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, th, frame = mirror_problem(model, loss, O, theta, backend, check_hypotheses)
        return mirror_report(problem, th, frame)
