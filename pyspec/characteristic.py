"""Definition 1 (good position, equivariance on a neighbourhood) and Definition 2 (v and w).

``v(a, θ) = (∂θT)⁻¹ ∂aT`` (``n × k``) and ``w(a, y) = (∂yS)⁻¹ ∂aS`` (``m × k``), evaluated at
``y = f(θ)``. A *good position* is a pair ``(a, θ)`` where ``∂θT`` and ``∂yS`` are invertible; here
"invertible" is measured by the 2-norm condition number against ``max_condition`` (default
``eps^(-1/2)``: half of the working digits survive the solves).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import Array, Backend
from pyspec.cache import compile_program
from pyspec.checks import tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import EquivarianceError, NotGoodPositionError

__all__ = [
    "GoodPositionReport",
    "EquivarianceReport",
    "good_position",
    "check_equivariance",
    "characteristic_direction",
    "characteristic_output",
]

EQUIVARIANCE_CANCELLATION = 1e3
"""Black-box evaluations of ``f(T(a, θ))`` and ``S(a, f(θ))`` may lose up to this factor to cancellation
inside the model; the equivariance tolerance is ``EQUIVARIANCE_CANCELLATION · tolerance(d, κ)``."""

NEARBY_POINTS = 3
"""Number of perturbed points, besides ``(a, θ)`` itself, at which the equivariance is tested."""


def default_max_condition(backend: Backend) -> float:
    """``eps^(-1/2)``: the largest condition number for which half the working digits survive."""
    return backend.eps**-0.5


FLOAT64_CONDITION_LIMIT = 1e8
"""Below this, a float64 SVD of the rounded matrix gives the condition number to ~1e-6 relative
accuracy (the rounding and the SVD's backward error perturb σ_min by ~n·2⁻⁵³·σ_max), which is all a
good-position test and a tolerance need; above it the backend's own SVD is used."""


def condition_number(backend: Backend, matrix: Array) -> float:
    """2-norm condition number ``σ_max / σ_min`` (``inf`` for a singular matrix).

    At high precision a float64 SVD is tried first (:data:`FLOAT64_CONDITION_LIMIT`); an mpmath SVD
    costs seconds at n = 60.
    """
    rounded = backend.to_numpy(matrix)
    if backend.eps < 2.0**-53 and np.all(np.isfinite(rounded)):
        sv = np.linalg.svd(rounded, compute_uv=False)
        if sv[-1] > 0.0 and sv[0] / sv[-1] < FLOAT64_CONDITION_LIMIT:
            return float(sv[0] / sv[-1])
    sv = backend.svdvals(matrix)
    smax, smin = backend.to_float(sv[0]), backend.to_float(sv[-1])
    if smin == 0.0:
        return float("inf")
    return smax / smin


@dataclasses.dataclass(frozen=True)
class GoodPositionReport:
    """Condition numbers of ``∂θT(a, θ)`` and ``∂yS(a, f(θ))`` (Definition 1).

    Attributes
    ----------
    cond_T, cond_S : float
        2-norm condition numbers (``cond_S = 1`` for a symmetry).
    max_condition : float
        Largest condition number accepted as invertible.
    """

    cond_T: float
    cond_S: float
    max_condition: float

    @property
    def ok(self) -> bool:
        """Whether both derivatives are invertible within ``max_condition``."""
        return self.cond_T <= self.max_condition and self.cond_S <= self.max_condition

    @property
    def condition(self) -> float:
        """``cond_T · cond_S``: the amplification of relative errors by the solves."""
        return self.cond_T * self.cond_S

    def require(self) -> None:
        """Raise :class:`NotGoodPositionError` unless :attr:`ok`."""
        if not self.ok:
            bad = []
            if self.cond_T > self.max_condition:
                bad.append(f"cond(∂θT) = {self.cond_T:.3e}")
            if self.cond_S > self.max_condition:
                bad.append(f"cond(∂yS) = {self.cond_S:.3e}")
            raise NotGoodPositionError(
                f"not a good position: {' and '.join(bad)} exceeds {self.max_condition:.1e} "
                "(the derivative is singular or too ill-conditioned to invert at this precision)"
            )


@dataclasses.dataclass(frozen=True)
class EquivarianceReport:
    """Relative residuals of ``f(T(a', θ')) = S(a', f(θ'))`` at ``(a, θ)`` and nearby points."""

    residuals: tuple[float, ...]
    tolerance: float

    @property
    def holds(self) -> bool:
        """Whether every residual is within tolerance."""
        return max(self.residuals) <= self.tolerance

    def require(self, name: str) -> None:
        """Raise :class:`EquivarianceError` unless :attr:`holds`."""
        if not self.holds:
            worst = int(np.argmax(self.residuals))
            where = "at (a, theta)" if worst == 0 else f"at nearby point {worst}"
            raise EquivarianceError(
                f"{name}: equivariance f(T(a, theta)) = S(a, f(theta)) violated {where}: "
                f"relative residual {self.residuals[worst]:.3e} > tolerance {self.tolerance:.1e}"
            )


def _derivatives_T(problem: Problem, a: Array, theta: Array) -> tuple[Array, Array]:
    B = problem.backend
    T_theta = B.jacobian(lambda t: problem.T(a, t), theta)
    T_a = B.jacobian(lambda b: problem.T(b, theta), a)
    return T_theta, T_a


def _derivatives_S(problem: Problem, a: Array, y: Array) -> tuple[Array, Array]:
    B = problem.backend
    S_y = B.jacobian(lambda u: problem.S(a, u), y)
    S_a = B.jacobian(lambda b: problem.S(b, y), a)
    return S_y, S_a


def position_report(problem: Problem, a: Array, theta: Array, max_condition: float | None = None) -> GoodPositionReport:
    """Good-position report for a bound problem."""
    B = problem.backend
    limit = default_max_condition(B) if max_condition is None else max_condition

    def derivatives(a_: Array, t_: Array) -> tuple[Array, Array]:
        y = problem.f(t_)
        return B.jacobian(lambda t: problem.T(a_, t), t_), B.jacobian(lambda u: problem.S(a_, u), y)

    T_theta, S_y = B.to_host(compile_program(problem, derivatives)(a, theta))
    return position_from_jacobians(problem, T_theta, S_y, limit)


def position_from_jacobians(problem: Problem, T_theta: Array, S_y: Array, limit: float) -> GoodPositionReport:
    """:func:`position_report` from ``∂θT`` and ``∂yS`` (host arrays) and the accepted condition number."""
    B = problem.backend
    cond_S = 1.0 if problem.is_symmetry else condition_number(B, S_y)
    return GoodPositionReport(cond_T=condition_number(B, T_theta), cond_S=cond_S, max_condition=limit)


def _nearby(problem: Problem, a: Array, theta: Array, vary_a: bool) -> list[tuple[Array, Array]]:
    """``(a, θ)`` and ``NEARBY_POINTS`` deterministic perturbations of relative size 1e-3."""
    B = problem.backend
    rng = np.random.default_rng(20251224)
    a, theta = B.to_host(a), B.to_host(theta)
    a64, th64 = B.to_numpy(a), B.to_numpy(theta)
    points = [(a, theta)]
    for _ in range(NEARBY_POINTS):
        dth = rng.standard_normal(th64.shape) * 1e-3 * max(float(np.sqrt(np.mean(th64**2))), 1e-3)
        da = rng.standard_normal(a64.shape) * 1e-3 * max(float(np.sqrt(np.mean(a64**2))), 1e-3)
        new_a = a + B.asarray(da) if vary_a else a
        points.append((new_a, theta + B.asarray(dth)))
    return points


def equivariance_report(problem: Problem, a: Array, theta: Array, condition: float, vary_a: bool = True) -> EquivarianceReport:
    """Residuals of eq. (1) at ``(a, θ)`` and nearby points, for a bound problem."""
    B = problem.backend
    sides = compile_program(problem, lambda a_, t_: equivariance_sides(problem, a_, t_))
    points = _nearby(problem, a, theta, vary_a)
    return equivariance_from_sides(problem, [B.to_host(sides(a_i, th_i)) for a_i, th_i in points], condition)


def equivariance_sides(problem: Problem, a: Array, theta: Array) -> tuple[Array, Array]:
    """Both sides of eq. (1), ``f(T(a, θ))`` and ``S(a, f(θ))``."""
    return problem.f(problem.T(a, theta)), problem.S(a, problem.f(theta))


def equivariance_from_sides(problem: Problem, sides: list[tuple[Array, Array]], condition: float) -> EquivarianceReport:
    """:func:`equivariance_report` from both sides of eq. (1) at each point (host arrays)."""
    B = problem.backend
    residuals = []
    for left, right in sides:
        scale = max(B.to_float(B.norm(left)), B.to_float(B.norm(right)))
        diff = B.to_float(B.norm(left - right))
        residuals.append(0.0 if scale == 0.0 else diff / scale)
    tol = EQUIVARIANCE_CANCELLATION * tolerance(B, problem.n + problem.m, condition)
    return EquivarianceReport(residuals=tuple(residuals), tolerance=tol)


def _public(
    eq: Equivariance, a: Any, theta: Any, precision: int | None, body: Callable[[Problem, Array, Array], Any]
) -> Any:
    backend = get_backend(precision)
    with backend.context():
        problem, a_flat, theta_flat = bind(eq, None, a, theta, backend)
        return body(problem, a_flat, theta_flat)


def good_position(eq: Equivariance, a: Any, theta: Any, *, precision: int | None = None,
                  max_condition: float | None = None) -> GoodPositionReport:
    """Whether ``(a, θ)`` is a good position (Definition 1): condition numbers of ``∂θT``, ``∂yS``.

    Parameters
    ----------
    eq : Equivariance
    a, theta : array or pytree
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for float64.
    max_condition : float, optional
        Largest condition number accepted (default ``eps^(-1/2)``).
    """
    return _public(eq, a, theta, precision, lambda P, a_, t_: position_report(P, a_, t_, max_condition))


def check_equivariance(eq: Equivariance, a: Any, theta: Any, *, precision: int | None = None) -> EquivarianceReport:
    """Residuals of eq. (1) at ``(a, θ)`` and at nearby points (hypothesis of Theorems 1 and 2)."""

    def body(P: Problem, a_: Array, t_: Array) -> EquivarianceReport:
        return equivariance_report(P, a_, t_, position_report(P, a_, t_).condition)

    return _public(eq, a, theta, precision, body)


def direction_of(problem: Problem, a: Array, theta: Array) -> Array:
    """``v(a, θ) = (∂θT)⁻¹ ∂aT`` for a bound problem (no checks)."""
    T_theta, T_a = _derivatives_T(problem, a, theta)
    return problem.backend.solve(T_theta, T_a)


def direction_along(problem: Problem, a: Array, theta: Array, c: Array) -> Array:
    """``cᵀ v(a, θ) = (∂θT⁻ᵀ c)ᵀ ∂aT`` (``k`` entries) for a fixed ``c ∈ ℝⁿ``.

    Its θ-derivative is ``(∂_θ v)*c``; one solve with one right-hand side instead of ``k`` keeps the
    nested differentiation cheap (at 50 digits and n = 100 it is the dominant cost of Theorem 1).
    """
    T_theta, T_a = _derivatives_T(problem, a, theta)
    return problem.backend.solve(T_theta.T, c) @ T_a


def output_along(problem: Problem, a: Array, y: Array, c: Array) -> Array:
    """``cᵀ w(a, y) = (∂yS⁻ᵀ c)ᵀ ∂aS`` for a fixed ``c ∈ ℝᵐ``; its y-derivative is ``(∂_y w)*c``."""
    S_y, S_a = _derivatives_S(problem, a, y)
    return problem.backend.solve(S_y.T, c) @ S_a


def output_of(problem: Problem, a: Array, y: Array) -> Array:
    """``w(a, y) = (∂yS)⁻¹ ∂aS`` for a bound problem (no checks)."""
    S_y, S_a = _derivatives_S(problem, a, y)
    return problem.backend.solve(S_y, S_a)


def characteristic_direction(eq: Equivariance, a: Any, theta: Any, *, precision: int | None = None) -> Array:
    """Characteristic direction ``v(a, θ) = (∂θT)⁻¹ ∂aT`` (Definition 2), an ``(n, k)`` array.

    Raises
    ------
    NotGoodPositionError
        If ``∂θT(a, θ)`` is singular or too ill-conditioned.
    """

    def body(P: Problem, a_: Array, t_: Array) -> Array:
        B = P.backend
        T_theta, T_a = _derivatives_T(P, a_, t_)
        cond = condition_number(B, T_theta)
        GoodPositionReport(cond_T=cond, cond_S=1.0, max_condition=default_max_condition(B)).require()
        return B.solve(T_theta, T_a)

    return _public(eq, a, theta, precision, body)


def characteristic_output(eq: Equivariance, a: Any, y: Any, *, precision: int | None = None) -> Array:
    """Characteristic output ``w(a, y) = (∂yS)⁻¹ ∂aS`` (Definition 2), an ``(m, k)`` array.

    For a symmetry (``S=None``) this is the zero ``(m, k)`` array.

    Raises
    ------
    NotGoodPositionError
        If ``∂yS(a, y)`` is singular or too ill-conditioned.
    """
    backend = get_backend(precision)
    with backend.context():
        probe = Equivariance(model=lambda th, *, xp: th, T=lambda b, th, *, xp: th, S=eq.S, name=eq.name)
        P, a_, y_ = bind(probe, None, a, y, backend)
        S_y, S_a = _derivatives_S(P, a_, y_)
        cond = condition_number(backend, S_y)
        GoodPositionReport(cond_T=1.0, cond_S=cond, max_condition=default_max_condition(backend)).require()
        return backend.solve(S_y, S_a)
