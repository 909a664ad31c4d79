"""Theorems 1 and 2 judged in bulk: every point of a batch at once (:mod:`pyspec.batch`).

One vmapped, compiled program computes at every point the quantities of the theorem and both sides
of its identities, with the very functions of the single check (:func:`pyspec.identities.identity_sides`,
:func:`pyspec.theorem2.theorem2_sides`), the squared norms each check is judged by
(:func:`pyspec.identities.squared_norms`), and the inputs of its hypotheses (``∂θT``, ``∂yS``, ``∂aT``,
``T(a, θ)``, the smoothness probe, eq. (1) at the point and its nearby points). The host then judges
all points at once, array by array, with the single check's formulas: tolerances
(:func:`~pyspec.checks.tolerance`), scales and residuals (:func:`~pyspec.checks.compare`), condition
numbers, ranks, jumps. A point is *clear* when every quantity is finite, every hypothesis holds within
its tolerance and every identity's residual is within its tolerance (none vacuous): its report is
then built from these arrays, and equals the single check's up to the rounding of the norms. Every
other point must be checked alone (rounding noise, second route, the named error).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends.base import Array
from pyspec.characteristic import GoodPositionReport, equivariance_sides, numerical_ranks, solve_conditions
from pyspec.checks import IdentityCheck, tolerance
from pyspec.equivariance import Problem
from pyspec.fixed_point import FIXED_POINT_CANCELLATION
from pyspec.identities import (
    CONDITIONING, THEOREM1_IDS, Sides, Theorem1Sides, column_ratio, hessian_scale_from_norms, identity_sides,
    natural_scales, squared_norms,
)
from pyspec.reports import Theorem1Report, Theorem2Report
from pyspec.smoothness import derivative_jumps, slopes
from pyspec.theorem1 import gauss_newton_probe, theorem1_contractions, theorem1_terms
from pyspec.theorem2 import THEOREM2_IDS, theorem2_natural_scales, theorem2_sides

__all__ = [
    "Judged", "THEOREM1_NORMS", "Theorem1Points", "Theorem2Points", "judge_theorem1", "judge_theorem2",
    "theorem1_points", "theorem2_points",
]


class Judged(NamedTuple):
    """A batch judged at once: which points are clear, and the report of a clear point."""

    clear: np.ndarray
    """One flag per point (module docstring)."""
    report: Callable[[int], Any]
    """The report of clear point ``i`` (the single check's, up to the rounding of the norms)."""


def _norm(x: Array) -> Array:
    return jnp.sqrt(jnp.vdot(x, x))


def _all_finite(tree: Any) -> Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]))


def _equivariance_squares(problem: Problem, near_a: Array, near_t: Array) -> Array:
    """``‖f(T(a', θ'))‖²``, ``‖S(a', f(θ'))‖²`` and ``‖f(T(a', θ')) − S(a', f(θ'))‖²`` at each of the
    points ``(near_a[p], near_t[p])`` (``P × 3``)."""
    left, right = jax.vmap(lambda b, s: equivariance_sides(problem, b, s))(near_a, near_t)
    return jnp.stack([jax.vmap(jnp.vdot)(x, x) for x in (left, right, left - right)], axis=1)


def _equivariance_residuals(squares: np.ndarray) -> np.ndarray:
    """:func:`pyspec.characteristic.equivariance_report`'s residuals from :func:`_equivariance_squares`
    (``B × P``): ``‖left − right‖ / max(‖left‖, ‖right‖)``, 0 when both vanish."""
    left, right, difference = np.moveaxis(np.sqrt(squares), -1, 0)
    scale = np.maximum(left, right)
    return np.where(scale == 0.0, 0.0, difference / np.where(scale == 0.0, 1.0, scale))


class _Identity(NamedTuple):
    """One identity judged at every point: the arrays its checks carry, their scales and residuals."""

    lhs: np.ndarray
    rhs: np.ndarray
    terms: dict[str, np.ndarray]
    term_norms: dict[str, list[float]]
    residual: np.ndarray
    scale: np.ndarray

    def holds(self, tol: np.ndarray) -> np.ndarray:
        """Finite, not vacuous and within ``tol``, at each point."""
        return np.isfinite(self.scale) & np.isfinite(self.residual) & (self.scale > 0.0) & (self.residual <= tol)

    def check(self, backend: str, identity: str, i: int, tol: float, resolution: float = 0.0,
              why: str = "") -> IdentityCheck:
        """Point ``i``'s :class:`~pyspec.checks.IdentityCheck` (a clear point: not trivial)."""
        return IdentityCheck(
            identity=identity, lhs=self.lhs[i], rhs=self.rhs[i], terms={k: t[i] for k, t in self.terms.items()},
            term_norms={k: t[i] for k, t in self.term_norms.items()}, residual=float(self.residual[i]),
            tolerance=tol, scale=float(self.scale[i]), trivial=False, backend=backend, resolution=resolution,
            limit=why,
        )


def _judge_identity(side: Sides, squares: np.ndarray, natural: np.ndarray) -> _Identity:
    """:func:`~pyspec.checks.compare`'s scale and residual at every point, from :func:`squared_norms`."""
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.sqrt(squares)
        lhs, rhs, difference, terms = norms[:, 0], norms[:, 1], norms[:, 2], norms[:, 3:]
        total = np.zeros(len(norms))
        for column in terms.T:  # summed in the order of compare's sum()
            total = total + column
        scale = np.maximum(np.maximum(np.maximum(lhs, rhs), total), natural)
        residual = difference / np.where(scale == 0.0, 1.0, scale)
        names = list(side.terms)
        rhs_array = side.terms[names[0]]
        for name in names[1:]:
            rhs_array = rhs_array + side.terms[name]
    return _Identity(lhs=side.lhs, rhs=rhs_array, terms=side.terms,
                     term_norms={k: t.tolist() for k, t in zip(names, terms.T)}, residual=residual, scale=scale)


# --- Theorem 1 -------------------------------------------------------------------------------------


class Theorem1Points(NamedTuple):
    """What Theorem 1 is judged by at each point, from :func:`theorem1_points` (stacked over points)."""

    sides: Theorem1Sides
    """Both sides of each identity (:func:`~pyspec.identities.identity_sides`), kept in the checks."""
    squares: tuple[Array, ...]
    """:func:`~pyspec.identities.squared_norms` of each identity."""
    norms: Array
    """``‖G‖, ‖v‖, ‖∇L‖, ‖g‖, ‖w‖, ‖Hv‖, ‖GᵀKGu‖, ‖Hu − GᵀKGu‖`` (:data:`THEOREM1_NORMS`)."""
    columns: Array
    """``‖Hv_b‖`` and ``‖v_b‖`` of each column (``2 × k``)."""
    finite: Array
    """Every quantity of :func:`~pyspec.theorem1.theorem1_terms` is finite."""
    T_theta: Array
    S_y: Array
    T_a: Array
    slopes: tuple[Array, Array, Array]
    """The smoothness probe (:func:`~pyspec.smoothness.slopes`)."""
    equivariance: Array
    """:func:`_equivariance_squares` at the point and its nearby points."""


THEOREM1_NORMS = ("G", "v", "grad_L", "g", "w", "Hv", "gauss_newton_u", "rest_u")
"""The order of :attr:`Theorem1Points.norms`."""


def theorem1_points(problem: Problem, a: Array, thetas: Array, near_a: Array, near_t: Array, steps: Array,
                    z: Array) -> Theorem1Points:
    """:class:`Theorem1Points` of each point (vmapped over the points; ``steps`` and ``z`` are the
    smoothness probe's, :func:`pyspec.smoothness.smoothness_steps`)."""
    B = problem.backend

    def one(t: Array, na: Array, nt: Array, h: Array) -> Theorem1Points:
        q = theorem1_terms(problem, a, t)
        c = theorem1_contractions(B, q, norm=_norm)
        sides = identity_sides(c)
        gauss_newton_u = gauss_newton_probe(B, q)
        norms = jnp.stack([_norm(q.G), c.norm_v, c.norm_grad, _norm(q.g), _norm(q.w), c.norm_Hv,
                           _norm(gauss_newton_u), _norm(q.Hu - gauss_newton_u)])
        columns = jnp.stack([jnp.sqrt(jnp.sum(q.Hv**2, axis=0)), jnp.sqrt(jnp.sum(q.v**2, axis=0))])
        return Theorem1Points(
            sides=sides, squares=tuple(squared_norms(side) for side in sides), norms=norms, columns=columns,
            finite=_all_finite(q), T_theta=q.T_theta, S_y=q.S_y, T_a=B.jacobian(lambda b: problem.T(b, t), a),
            slopes=slopes(problem, t, h, z), equivariance=_equivariance_squares(problem, na, nt))

    return jax.vmap(one)(thetas, near_a, near_t, steps)


def judge_theorem1(problem: Problem, q: Theorem1Points, limit: float, check_equivariance: bool) -> Judged:
    """Judge every point of ``q`` at once with the formulas of :func:`pyspec.theorem1.theorem1_report`."""
    B = problem.backend
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        finite = (q.finite != 0) & np.isfinite(q.T_a).all(axis=(1, 2))  # to_host made the flags float64
        for matrix in (q.T_theta, q.S_y):
            finite &= np.isfinite(matrix).all(axis=(1, 2))
        cond_T = np.full(len(finite), np.inf)
        cond_S = np.ones(len(finite)) if problem.is_symmetry else np.full(len(finite), np.inf)
        rank = np.zeros(len(finite), dtype=int)
        cond_T[finite] = solve_conditions(B, q.T_theta[finite])
        if not problem.is_symmetry:
            cond_S[finite] = solve_conditions(B, q.S_y[finite])
        rank[finite] = numerical_ranks(B, problem.n, q.T_a[finite])
        condition = cond_T * cond_S
        clear = (finite & (cond_T <= limit) & (cond_S <= limit) & (rank >= problem.k)
                 & (derivative_jumps(*q.slopes) == 0.0))
        eq_residuals = _equivariance_residuals(q.equivariance)
        if check_equivariance:
            clear &= (eq_residuals <= tolerance(B, problem.n + problem.m)).all(axis=1)

        tol = np.array([tolerance(B, problem.n + problem.m + problem.k, c) for c in condition.tolist()])
        norm = dict(zip(THEOREM1_NORMS, np.moveaxis(q.norms, -1, 0)))
        norm_H = hessian_scale_from_norms(problem.n, norm["gauss_newton_u"], norm["rest_u"],
                                          column_ratio(q.columns[:, 0], q.columns[:, 1]), maximum=np.maximum)
        natural = natural_scales(norm["G"], norm_H, norm["v"], norm["grad_L"], norm["g"], norm["w"], norm["Hv"],
                                 maximum=np.maximum).per_check()
        judged = [_judge_identity(side, squares, scale) for side, squares, scale in zip(q.sides, q.squares, natural)]
        for identity in judged:
            clear &= identity.holds(tol)

    lists = {"cond_T": cond_T.tolist(), "cond_S": cond_S.tolist(), "rank": rank.tolist(), "tol": tol.tolist(),
             "eq": eq_residuals.tolist()}

    def report(i: int) -> Theorem1Report:
        tol_i, cond_i = lists["tol"][i], lists["cond_T"][i] * lists["cond_S"][i]
        # theorem1_report's CONDITIONING band (pyspec.checks.limited), raised only where cond > 1
        resolution, why = (tol_i * cond_i, CONDITIONING) if tol_i * cond_i > tol_i else (0.0, "")
        checks = [j.check(B.name, identity, i, tol_i, resolution, why) for identity, j in zip(THEOREM1_IDS, judged)]
        position = GoodPositionReport(cond_T=lists["cond_T"][i], cond_S=lists["cond_S"][i], max_condition=limit,
                                      rank_T_a=lists["rank"][i], k=problem.k)
        return Theorem1Report(*checks, position=position,
                              equivariance_residual=max(lists["eq"][i]) if check_equivariance else None)

    return Judged(clear=clear, report=report)


# --- Theorem 2 -------------------------------------------------------------------------------------


class Theorem2Points(NamedTuple):
    """What Theorem 2 is judged by at each point, from :func:`theorem2_points` (stacked over points)."""

    sides: tuple[Sides, Sides]
    """Both sides of items 1 and 2 (:func:`~pyspec.theorem2.theorem2_sides`), kept in the checks."""
    squares: tuple[Array, Array]
    """:func:`~pyspec.identities.squared_norms` of each item."""
    norms: Array
    """``‖∇L‖`` and ``‖H‖``."""
    J: Array
    """``∂θT`` (its largest singular value scales the tolerance)."""
    finite: Array
    """``J``, ``∇L``, ``H`` and the blue term are finite."""
    fixed_point: Array
    """``‖θ‖², ‖T(a, θ)‖², ‖T(a, θ) − θ‖²``."""
    slopes: tuple[Array, Array, Array]
    """The smoothness probe (:func:`~pyspec.smoothness.slopes`)."""
    equivariance: Array
    """:func:`_equivariance_squares` at the point and its nearby points (``a`` fixed)."""


def theorem2_points(problem: Problem, a: Array, thetas: Array, near_a: Array, near_t: Array, steps: Array,
                    z: Array) -> Theorem2Points:
    """:class:`Theorem2Points` of each point, with the quantities of
    :func:`pyspec.theorem2.theorem2_report` (vmapped over the points)."""
    B = problem.backend

    def grad_L(t: Array) -> Array:
        return B.jacobian(problem.L, t)

    def one(t: Array, na: Array, nt: Array, h: Array) -> Theorem2Points:
        J = B.jacobian(lambda s: problem.T(a, s), t)
        grad = grad_L(t)
        H = B.jacobian(grad_L, t)
        blue = B.jacobian(lambda u: B.jacobian(lambda s: grad @ problem.T(a, s), u), t)
        sides = theorem2_sides(J, grad, H, blue)
        moved = problem.T(a, t)
        return Theorem2Points(
            sides=sides, squares=tuple(squared_norms(side) for side in sides),  # type: ignore[arg-type]
            norms=jnp.stack([_norm(grad), _norm(H)]), J=J, finite=_all_finite((J, grad, H, blue)),
            fixed_point=jnp.stack([jnp.vdot(x, x) for x in (t, moved, moved - t)]),
            slopes=slopes(problem, t, h, z), equivariance=_equivariance_squares(problem, na, nt))

    return jax.vmap(one)(thetas, near_a, near_t, steps)


def judge_theorem2(problem: Problem, q: Theorem2Points, check_hypotheses: bool) -> Judged:
    """Judge every point of ``q`` at once with the formulas of :func:`pyspec.theorem2.theorem2_report`
    and :func:`pyspec.fixed_point.theorem2_hypotheses`."""
    B = problem.backend
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        clear = (q.finite != 0) & np.isfinite(q.J).all(axis=(1, 2)) & (derivative_jumps(*q.slopes) == 0.0)
        scale_J = np.ones(len(clear))
        if clear.any():
            scale_J[clear] = np.maximum(np.linalg.svd(q.J[clear], compute_uv=False)[:, 0], 1.0)
        theta, moved, offset = np.moveaxis(np.sqrt(q.fixed_point), -1, 0)
        fp_scale = np.maximum(theta, moved)
        fp = np.where(fp_scale == 0.0, 0.0, offset / np.where(fp_scale == 0.0, 1.0, fp_scale))
        eq_residuals = _equivariance_residuals(q.equivariance)
        if check_hypotheses:
            fp_tol = np.array([FIXED_POINT_CANCELLATION * tolerance(B, problem.n, s) for s in scale_J.tolist()])
            clear &= (fp <= fp_tol) & (eq_residuals <= tolerance(B, problem.n + problem.m)).all(axis=1)
        tol = np.array([tolerance(B, problem.n + problem.m, s**2) for s in scale_J.tolist()])
        natural = theorem2_natural_scales(scale_J, q.norms[:, 0], q.norms[:, 1])
        judged = [_judge_identity(side, squares, scale) for side, squares, scale in zip(q.sides, q.squares, natural)]
        for identity in judged:
            clear &= identity.holds(tol)

    lists = {"tol": tol.tolist(), "fp": fp.tolist(), "eq": eq_residuals.tolist()}

    def report(i: int) -> Theorem2Report:
        checks = [j.check(B.name, identity, i, lists["tol"][i]) for identity, j in zip(THEOREM2_IDS, judged)]
        return Theorem2Report(*checks, fixed_point_residual=lists["fp"][i],
                              equivariance_residual=max(lists["eq"][i]) if check_hypotheses else None, jump=0.0)

    return Judged(clear=clear, report=report)
