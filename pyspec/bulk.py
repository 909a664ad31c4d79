"""Checks judged in bulk: every point of a batch at once (:mod:`pyspec.batch`), and a single
Theorem 1 check that clearly holds (:func:`pyspec.theorem1.theorem1`).

One compiled program (vmapped over the points) computes at every point the quantities of the theorem
and both sides of its identities, with the very functions of the single check
(:func:`pyspec.identities.identity_sides`, :func:`pyspec.theorem2.theorem2_sides`), the squared norms
each check is judged by (:func:`pyspec.identities.squared_norms`), and the inputs of its hypotheses
(``∂θT``, ``∂yS``, ``∂aT``, ``T(a, θ)``, the smoothness probe, eq. (1) at the point and its nearby
points). The host then judges all points at once, array by array, with the single check's formulas:
tolerances (:func:`~pyspec.checks.tolerance`), scales and residuals (:func:`scale_and_residual`, the
formula of :func:`~pyspec.checks.compare`), condition numbers, ranks, jumps. A point is *clear* when
every quantity is finite, every hypothesis holds within its tolerance and every identity's residual is
within its tolerance (none vacuous): its report is then built from these arrays, and equals the single
check's up to the rounding of the norms. Every other point must be checked alone (rounding noise,
second route, the named error).

This module holds what Theorem 1 and Theorem 2 share, and Theorem 2's program and judgement; Theorem
1's are :func:`pyspec.theorem1.theorem1_points` and :func:`pyspec.theorem1.judge_theorem1` (its single
check uses them).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends.base import Array
from pyspec.characteristic import equivariance_sides
from pyspec.checks import IdentityCheck, tolerance
from pyspec.equivariance import Problem
from pyspec.fixed_point import FIXED_POINT_CANCELLATION
from pyspec.identities import Sides, kept_sides, squared_norms, summed_terms
from pyspec.reports import Theorem2Report
from pyspec.smoothness import derivative_jumps, slopes
from pyspec.theorem2 import THEOREM2_IDS, theorem2_natural_scales, theorem2_sides

__all__ = [
    "IdentityArrays", "Judged", "Theorem2Points", "all_finite", "equivariance_fails_at", "equivariance_residuals",
    "equivariance_squares", "identity_arrays", "judge_theorem2", "scale_and_residual", "theorem2_points",
    "traced_norm",
]


class Judged(NamedTuple):
    """A batch judged at once: which points are clear, and the report of a clear point."""

    clear: np.ndarray
    """One flag per point (module docstring)."""
    report: Callable[[int], Any]
    """The report of clear point ``i`` (the single check's, up to the rounding of the norms)."""


def traced_norm(x: Array) -> Array:
    """``‖x‖`` inside a compiled program."""
    return jnp.sqrt(jnp.vdot(x, x))


def all_finite(tree: Any, xp: Any = jnp) -> Array:
    """Whether every entry of every leaf of ``tree`` is finite (traced; ``xp=np`` on the host)."""
    return xp.all(xp.stack([xp.all(xp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]))


def equivariance_squares(problem: Problem, near_a: Array, near_t: Array) -> Array:
    """``‖f(T(a', θ'))‖²``, ``‖S(a', f(θ'))‖²`` and ``‖f(T(a', θ')) − S(a', f(θ'))‖²`` at each of the
    points ``(near_a[p], near_t[p])`` (``P × 3``, traced)."""
    left, right = jax.vmap(lambda b, s: equivariance_sides(problem, b, s))(near_a, near_t)
    return jnp.stack([jax.vmap(jnp.vdot)(x, x) for x in (left, right, left - right)], axis=1)


def equivariance_residuals(squares: np.ndarray) -> np.ndarray:
    """:func:`pyspec.characteristic.equivariance_report`'s residuals from :func:`equivariance_squares`
    (``B × P``): ``‖left − right‖ / max(‖left‖, ‖right‖)``, 0 when both vanish."""
    left, right, difference = np.moveaxis(np.sqrt(squares), -1, 0)
    scale = np.maximum(left, right)
    return np.where(scale == 0.0, 0.0, difference / np.where(scale == 0.0, 1.0, scale))


def equivariance_fails_at(problem: Problem, a: Array, theta: Array) -> bool:
    """Whether eq. (1) visibly fails at ``(a, θ)`` itself: its residual (:func:`equivariance_residuals`)
    exceeds eq. (1)'s tolerance or is not finite. Computed by the problem's validation program
    (:attr:`~pyspec.equivariance.Problem.values`), already compiled by :func:`~pyspec.equivariance.bind`,
    run at ``θ`` and at ``T(a, θ)``: two dispatches, no compilation. ``False`` when the problem has no
    validation program. A routing decision only (the bulk attempt is skipped; the single check's careful
    path judges, rounding noise included): it never decides a verdict."""
    if problem.values is None:
        return False
    B = problem.backend
    _, moved, right, *_ = B.to_host(problem.values(a, theta))
    left = B.to_host(problem.values(a, np.asarray(moved, dtype=theta.dtype)))[0]
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    squares = np.array([[np.vdot(left, left), np.vdot(right, right), np.vdot(left - right, left - right)]])
    with np.errstate(invalid="ignore", over="ignore"):
        return not equivariance_residuals(squares)[0] <= tolerance(B, problem.n + problem.m)


def scale_and_residual(squares: Array, natural: Array, xp: Any = np) -> tuple[Array, Array]:
    """:func:`~pyspec.checks.compare`'s scale ``max(‖lhs‖, ‖rhs‖, Σ‖termᵢ‖, natural)`` and residual
    ``‖lhs − rhs‖ / scale`` from :func:`~pyspec.identities.squared_norms` (last axis), at one point or
    at every point of a batch; ``xp=jnp`` inside a compiled program. The operations (square roots,
    sums in :func:`~pyspec.checks.compare`'s order, maxima, one division) are correctly rounded in
    NumPy and XLA alike."""
    norms = xp.sqrt(squares)
    total = norms[..., 3]
    for i in range(4, squares.shape[-1]):
        total = total + norms[..., i]
    scale = xp.maximum(xp.maximum(xp.maximum(norms[..., 0], norms[..., 1]), total), natural)
    return scale, norms[..., 2] / xp.where(scale == 0.0, 1.0, scale)


class IdentityArrays(NamedTuple):
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


def identity_arrays(side: Sides, rhs: np.ndarray, squares: np.ndarray, scale: np.ndarray,
                    residual: np.ndarray) -> IdentityArrays:
    """:class:`IdentityArrays` of one identity at every point (``rhs``: its terms summed)."""
    lhs, terms = kept_sides(side)
    norms = np.sqrt(squares[:, 3:])
    return IdentityArrays(lhs=lhs, rhs=rhs, terms=terms,
                          term_norms={k: t.tolist() for k, t in zip(terms, norms.T)}, residual=residual,
                          scale=scale)


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
    """:func:`equivariance_squares` at the point and its nearby points (``a`` fixed)."""


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
            sides=sides, squares=tuple(squared_norms(side) for side in sides),
            norms=jnp.stack([traced_norm(grad), traced_norm(H)]), J=J, finite=all_finite((J, grad, H, blue)),
            fixed_point=jnp.stack([jnp.vdot(x, x) for x in (t, moved, moved - t)]),
            slopes=slopes(problem, t, h, z), equivariance=equivariance_squares(problem, na, nt))

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
        eq_residuals = equivariance_residuals(q.equivariance)
        if check_hypotheses:
            fp_tol = np.array([FIXED_POINT_CANCELLATION * tolerance(B, problem.n, s) for s in scale_J.tolist()])
            clear &= (fp <= fp_tol) & (eq_residuals <= tolerance(B, problem.n + problem.m)).all(axis=1)
        tol = np.array([tolerance(B, problem.n + problem.m, s**2) for s in scale_J.tolist()])
        natural = theorem2_natural_scales(scale_J, q.norms[:, 0], q.norms[:, 1])
        judged = [identity_arrays(side, summed_terms(kept_sides(side)[1]), squares,
                                  *scale_and_residual(squares, scale))
                  for side, squares, scale in zip(q.sides, q.squares, natural)]
        for identity in judged:
            clear &= identity.holds(tol)

    lists = {"tol": tol.tolist(), "fp": fp.tolist(), "eq": eq_residuals.tolist()}

    def report(i: int) -> Theorem2Report:
        gradient, hessian = (j.check(B.name, identity, i, lists["tol"][i]) for identity, j in zip(THEOREM2_IDS, judged))
        return Theorem2Report(gradient, hessian, fixed_point_residual=lists["fp"][i],
                              equivariance_residual=max(lists["eq"][i]) if check_hypotheses else None, jump=0.0)

    return Judged(clear=clear, report=report)
