"""Definition 1 (good position, equivariance on a neighbourhood) and Definition 2 (v and w).

``v(a, θ) = (∂θT)⁻¹ ∂aT`` (``n × k``) and ``w(a, y) = (∂yS)⁻¹ ∂aS`` (``m × k``), evaluated at
``y = f(θ)``. A *good position* is a pair ``(a, θ)`` where ``∂θT`` and ``∂yS`` are invertible; here
"invertible" is measured by the condition number *of the solve performed* (:func:`solve_condition`:
the largest 2-norm condition number of the matrix's independent blocks, 1 for a diagonal matrix)
against ``max_condition`` (default ``eps^(-1/2)``: half of the working digits survive the solves).

Hypothesis tolerances are derived like the identities' (:mod:`pyspec.checks`): eq. (1) involves no
solve, so its residual is compared with ``tolerance(n + m)`` and with the rounding noise measured at
inputs moved by a few ulps (:func:`equivariance_report`), not with a condition number.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import jax
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from pyspec.backends import get_backend
from pyspec.backends.base import Array, Backend
from pyspec.cache import compile_program
from pyspec.checks import NOISE_FACTOR, require_finite_terms, tolerance, ulp_neighbours
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import DegenerateError, EquivarianceError, InputError, NotGoodPositionError
from pyspec.smoothness import derivative_jump, slopes, smoothness_directions, warn_jump

__all__ = [
    "GoodPositionReport",
    "EquivarianceReport",
    "good_position",
    "check_equivariance",
    "characteristic_direction",
    "characteristic_output",
]

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


def solve_condition(backend: Backend, matrix: Array) -> float:
    """The condition number that governs a solve with ``matrix``: the largest :func:`condition_number`
    of its independent blocks (connected components of its sparsity pattern; LU with partial pivoting
    never mixes them). ``1`` for a diagonal or monomial matrix without zeros on it (one rounding per
    entry), ``inf`` for a singular one.
    """
    dense = backend.to_numpy(matrix)
    pattern = np.asarray(matrix != 0) if dense.dtype == object else dense != 0
    if dense.ndim != 2 or dense.shape[0] != dense.shape[1]:
        return condition_number(backend, matrix)
    n = dense.shape[0]
    if pattern.all():  # one block (the common dense case), without building the graph
        return condition_number(backend, matrix)
    if np.count_nonzero(pattern) == n and pattern.any(axis=0).all() and pattern.any(axis=1).all():
        return 1.0  # diagonal or monomial without zeros: n blocks of one entry
    rows, cols = np.nonzero(pattern)
    graph = csr_matrix((np.ones(rows.size), (rows, n + cols)), shape=(2 * n, 2 * n))
    count, label = connected_components(graph, directed=False)
    if count == 1:
        return condition_number(backend, matrix)
    worst = 1.0
    for block in range(count):
        r = np.flatnonzero(label[:n] == block)
        c = np.flatnonzero(label[n:] == block)
        if r.size != c.size:
            return float("inf")  # a zero row or column, or a rectangular block: singular
        if r.size > 1:
            worst = max(worst, condition_number(backend, matrix[np.ix_(r, c)]))
    return worst


def solve_conditions(backend: Backend, matrices: np.ndarray) -> np.ndarray:
    """:func:`solve_condition` of each matrix of a finite float64 stack ``(B, n, n)`` (the batched
    checks, :mod:`pyspec.batch`): fully dense matrices by one batched SVD (the same LAPACK routine,
    matrix by matrix, as :func:`condition_number`), diagonal or monomial ones are 1, any other pattern
    goes through :func:`solve_condition`."""
    n = matrices.shape[-1]
    pattern = matrices != 0
    full = pattern.all(axis=(1, 2))
    monomial = ((np.count_nonzero(pattern, axis=(1, 2)) == n) & pattern.any(axis=1).all(axis=1)
                & pattern.any(axis=2).all(axis=1))
    out = np.ones(len(matrices))
    if full.any():
        sv = np.linalg.svd(matrices[full], compute_uv=False)
        smax, smin = sv[:, 0], sv[:, -1]
        out[full] = np.where(smin == 0.0, np.inf, smax / np.where(smin == 0.0, 1.0, smin))
    for i in np.flatnonzero(~full & ~monomial):
        out[i] = solve_condition(backend, matrices[i])
    return out


def numerical_ranks(backend: Backend, n: int, T_a: np.ndarray) -> np.ndarray:
    """The numerical rank of each ``∂aT`` of a finite float64 stack ``(B, n, k)``: the singular values
    above ``tolerance(n)`` times the largest (0 when ``∂aT = 0``)."""
    sv = np.linalg.svd(T_a, compute_uv=False)
    if sv.shape[1] == 0:
        return np.zeros(len(T_a), dtype=int)
    top = sv[:, :1]
    return np.where(top[:, 0] > 0.0, np.sum(sv > tolerance(backend, n) * top, axis=1), 0)


@dataclasses.dataclass(frozen=True)
class GoodPositionReport:
    """Condition numbers of ``∂θT(a, θ)`` and ``∂yS(a, f(θ))`` (Definition 1).

    Attributes
    ----------
    cond_T, cond_S : float
        Condition numbers of the solves with them (:func:`solve_condition`; ``cond_S = 1`` for a
        symmetry).
    max_condition : float
        Largest condition number accepted as invertible.
    rank_T_a : int or None
        Numerical rank of ``∂aT`` (``None`` when not measured); below ``k``, ``T`` does not depend on
        every component of ``a`` and :meth:`require` raises :class:`DegenerateError`.
    k : int or None
        Number of entries of ``a``.
    jump : float
        Relative jump of the model's directional derivative between ``θ`` and nearby points (0 for a
        smooth model; see :data:`pyspec.smoothness.JUMP_RATIO`).
    """

    cond_T: float
    cond_S: float
    max_condition: float
    rank_T_a: int | None = None
    k: int | None = None
    jump: float = 0.0

    @property
    def nondifferentiable(self) -> bool:
        """Whether the model's derivatives jump next to ``θ`` (a kink: the identities need not hold)."""
        return self.jump > 0.0

    @property
    def ok(self) -> bool:
        """Whether both derivatives are invertible within ``max_condition``."""
        return self.cond_T <= self.max_condition and self.cond_S <= self.max_condition

    @property
    def condition(self) -> float:
        """``cond_T · cond_S``: the amplification of relative errors by the solves."""
        return self.cond_T * self.cond_S

    def require(self) -> None:
        """Raise :class:`NotGoodPositionError` unless :attr:`ok`, :class:`DegenerateError` when
        ``rank ∂aT < k``."""
        if self.rank_T_a is not None and self.k is not None and self.rank_T_a < self.k:
            raise DegenerateError(
                f"T does not depend on every component of a: rank of ∂aT is {self.rank_T_a} < k = {self.k} "
                "(v would have a zero column and the identities would hold vacuously)"
            )
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
    noise: float = 0.0

    @property
    def threshold(self) -> float:
        """The largest residual accepted: the tolerance or ``NOISE_FACTOR ×`` the measured rounding noise."""
        return max(self.tolerance, NOISE_FACTOR * self.noise)

    @property
    def holds(self) -> bool:
        """Whether every residual is within :attr:`threshold`."""
        return max(self.residuals) <= self.threshold

    def require(self, name: str) -> None:
        """Raise :class:`EquivarianceError` unless :attr:`holds`."""
        if not self.holds:
            worst = int(np.argmax(self.residuals))
            where = "at (a, theta)" if worst == 0 else f"at nearby point {worst}"
            raise EquivarianceError(
                f"{name}: equivariance f(T(a, theta)) = S(a, f(theta)) violated {where}: "
                f"relative residual {self.residuals[worst]:.3e} > tolerance {self.threshold:.1e}"
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


def check_max_condition(max_condition: float | None) -> None:
    """Raise :class:`InputError` unless ``max_condition`` is ``None`` or a number ``≥ 1`` (not NaN)."""
    if max_condition is not None and not (isinstance(max_condition, (int, float)) and max_condition >= 1.0):
        raise InputError(f"max_condition must be a number >= 1 (a condition number), got {max_condition!r}")


def position_report(problem: Problem, a: Array, theta: Array, max_condition: float | None = None) -> GoodPositionReport:
    """Good-position report for a bound problem: solve condition numbers of ``∂θT`` and ``∂yS``, the
    rank of ``∂aT``, and the smoothness probe (a jump of the model's derivative along a fixed
    direction between ``θ`` and ``θ ± h``; warns with :class:`NonDifferentiableWarning`)."""
    check_max_condition(max_condition)
    B = problem.backend
    limit = default_max_condition(B) if max_condition is None else max_condition
    step, z = smoothness_directions(B, theta)

    def derivatives(a_: Array, t_: Array, h: Array, z_: Array) -> tuple[Array, ...]:
        y = problem.f(t_)
        return (B.jacobian(lambda t: problem.T(a_, t), t_), B.jacobian(lambda u: problem.S(a_, u), y),
                B.jacobian(lambda b: problem.T(b, t_), a_)) + slopes(problem, t_, h, z_)

    T_theta, S_y, T_a, d0, d_plus, d_minus = B.to_host(compile_program(problem, derivatives)(a, theta, step, z))
    require_finite_terms(B, {"T_theta": T_theta, "T_a": T_a, "S_y": S_y}, {
        "T_theta": "dT/dtheta (the derivative of T)", "T_a": "dT/da (the derivative of T)",
        "S_y": "dS/dy (the derivative of S)"})
    cond_S = 1.0 if problem.is_symmetry else solve_condition(B, S_y)
    rank = int(numerical_ranks(B, problem.n, B.to_numpy(T_a)[None])[0])
    jump = warn_jump(problem, derivative_jump(B, d0, d_plus, d_minus))
    return GoodPositionReport(cond_T=solve_condition(B, T_theta), cond_S=cond_S, max_condition=limit,
                              rank_T_a=rank, k=problem.k, jump=jump)


def _nearby(problem: Problem, a: Array, theta: Array, vary_a: bool) -> list[tuple[Array, Array]]:
    """``(a, θ)`` and ``NEARBY_POINTS`` deterministic perturbations of relative size 1e-3."""
    B = problem.backend
    a, theta = B.to_host(a), B.to_host(theta)
    a64, th64 = B.to_numpy(a), B.to_numpy(theta)
    points = [(a, theta)]
    for z_th, z_a in _nearby_draws(th64.shape, a64.shape):
        dth = z_th * 1e-3 * max(float(np.sqrt(np.mean(th64**2))), 1e-3)
        da = z_a * 1e-3 * max(float(np.sqrt(np.mean(a64**2))), 1e-3)
        new_a = a + B.asarray(da) if vary_a else a
        points.append((new_a, theta + B.asarray(dth)))
    return points


def nearby_batch(problem: Problem, a: Array, thetas: np.ndarray,
                 vary_a: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_nearby` of each row of ``thetas`` (``B × n``, host), stacked: ``(B, P, k)`` and
    ``(B, P, n)`` arrays with ``P = NEARBY_POINTS + 1``, the same numbers as the per-point function
    (the same operations on the same draws; ``a`` is shared, so its moves are made once, and kept
    unless ``vary_a``)."""
    B = problem.backend
    a = B.to_host(a)
    a64 = B.to_numpy(a)
    thetas = np.asarray(thetas, dtype=np.result_type(a))
    draws = _nearby_draws((thetas.shape[1],), a64.shape)
    s_a = max(float(np.sqrt(np.mean(a64**2))), 1e-3)
    s_t = np.maximum(np.sqrt(np.mean(B.to_numpy(thetas) ** 2, axis=1)), 1e-3)[:, None]  # _nearby's, row by row
    near_a = np.stack([a] + [a + B.asarray(z_a * 1e-3 * s_a) if vary_a else a for _, z_a in draws])
    near_t = [thetas] + [thetas + B.asarray((z_th * 1e-3)[None, :] * s_t) for z_th, _ in draws]
    return np.broadcast_to(near_a, (len(thetas), *near_a.shape)), np.stack(near_t, axis=1)


@functools.lru_cache(maxsize=64)
def _nearby_draws(theta_shape: tuple[int, ...], a_shape: tuple[int, ...]) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The standard normal directions of :func:`_nearby` (seed 20251224, drawn ``θ`` then ``a`` per
    point), read-only: drawn once per shape, not at every check (a batch of 1000 points drew them 1000 times)."""
    rng = np.random.default_rng(20251224)
    draws = []
    for _ in range(NEARBY_POINTS):
        z_th, z_a = rng.standard_normal(theta_shape), rng.standard_normal(a_shape)
        z_th.flags.writeable = z_a.flags.writeable = False
        draws.append((z_th, z_a))
    return tuple(draws)


def _sides_at(problem: Problem, points: list[tuple[Array, Array]]) -> list[tuple[Array, Array]]:
    """Both sides of eq. (1) at each of ``points`` (host arrays), in *one* vmapped program where the
    backend compiles (a repeated check then dispatches one program for its nearby points, not one per
    point); point by point otherwise."""
    B = problem.backend
    if not getattr(B, "jit", False):
        return [B.to_host(equivariance_sides(problem, a_, t_)) for a_, t_ in points]
    program = compile_program(problem, lambda A, TH: jax.vmap(lambda b, t: equivariance_sides(problem, b, t))(A, TH))
    left, right = B.to_host(program(np.stack([p[0] for p in points]), np.stack([p[1] for p in points])))
    return list(zip(left, right))


def equivariance_report(problem: Problem, a: Array, theta: Array, condition: float = 1.0,
                        vary_a: bool = True) -> EquivarianceReport:
    """Residuals of eq. (1) at ``(a, θ)`` and nearby points, for a bound problem.

    Tolerance (derived like the identities', :mod:`pyspec.checks`): ``f(T(a, θ))`` and ``S(a, f(θ))``
    are evaluated without any solve, so ``tolerance(n + m)`` with no condition number (``condition`` is
    accepted for the callers' convenience and not used). When a residual exceeds it, the same program
    is re-run at inputs moved by a few ulps: a residual within ``NOISE_FACTOR ×`` that rounding noise
    (a model with internal cancellation) is accepted, since float64 cannot resolve it; a genuine
    violation is smooth and does not move.
    """
    del condition
    B = problem.backend
    residuals = []

    def difference(a_: Array, t_: Array) -> np.ndarray:  # one point (the rounding-noise re-runs)
        sides = compile_program(problem, lambda b, t: equivariance_sides(problem, b, t))
        left, right = B.to_host(sides(a_, t_))
        return B.to_numpy(left - right)

    tol = tolerance(B, problem.n + problem.m)
    noise = 0.0
    points = _nearby(problem, a, theta, vary_a)
    for (a_i, th_i), (left, right) in zip(points, _sides_at(problem, points)):
        scale = max(B.to_float(B.norm(left)), B.to_float(B.norm(right)))
        residual = 0.0 if scale == 0.0 else B.to_float(B.norm(left - right)) / scale
        residuals.append(residual)
        if residual > max(tol, NOISE_FACTOR * noise):
            diff = difference(a_i, th_i)  # the point's own program, like its moved copies
            for a_j, th_j in ulp_neighbours(B, a_i, th_i, move_a=vary_a):
                noise = max(noise, float(np.linalg.norm(difference(a_j, th_j) - diff)) / scale)
    return EquivarianceReport(residuals=tuple(residuals), tolerance=tol, noise=noise)


def required_equivariance(problem: Problem, a: Array, theta: Array, check: bool = True,
                          vary_a: bool = True) -> float | None:
    """Eq. (1) at and near ``(a, θ)`` (:func:`equivariance_report`), required unless ``check=False``:
    its worst residual, or ``None`` when not checked.

    Raises
    ------
    EquivarianceError
    """
    if not check:
        return None
    report = equivariance_report(problem, a, theta, vary_a=vary_a)
    report.require(problem.name)
    return max(report.residuals)


def equivariance_sides(problem: Problem, a: Array, theta: Array) -> tuple[Array, Array]:
    """Both sides of eq. (1), ``f(T(a, θ))`` and ``S(a, f(θ))``."""
    return problem.f(problem.T(a, theta)), problem.S(a, problem.f(theta))


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
        cond = solve_condition(B, T_theta)
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
        cond = solve_condition(backend, S_y)
        GoodPositionReport(cond_T=1.0, cond_S=cond, max_condition=default_max_condition(backend)).require()
        return backend.solve(S_y, S_a)
