"""Batched checks: Theorem 1 and Theorem 2 at ``B`` points of one model (docs/design.md#python-api: a
leading batch axis on ``θ``, per-point reports).

Batching is explicit, :func:`theorem1_batch` and :func:`theorem2_batch`, so that a leading axis is never
confused with a parameter pytree whose leaves happen to share a first dimension: every leaf of
``thetas`` carries the batch axis first, and ``thetas[i]`` (leaf by leaf) is the ``i``-th point.

:func:`theorem1_batch` evaluates every point in *one* vmapped, compiled program: the quantities of
Theorem 1 and both sides of its identities (:func:`pyspec.identities.identity_sides`, the functions of
:func:`pyspec.theorem1`), the norms each check is judged by (:func:`pyspec.identities.squared_norms`),
the hypotheses' inputs (``∂θT``, ``∂yS``, ``∂aT``, the smoothness probe, eq. (1) at each point and its
nearby points). The host then judges all points at once, array by array, with the single check's
formulas (tolerances, scales, residuals, condition numbers, ranks, jumps); a point that clearly holds
gets its report built from these arrays, and any other point (a failed hypothesis, a residual above its
tolerance, a non-finite quantity) is checked again by :func:`pyspec.theorem1.theorem1_report` alone,
which measures the rounding noise and takes the second route before it says ``fails``, so its verdict
and its error are the single-point check's.
:func:`theorem2_batch` runs :func:`pyspec.theorem2`'s compiled programs point by point (each compiled
once, :mod:`pyspec.cache`). A point whose hypothesis check fails gets no report; its error, prefixed
with ``point i:``, is kept in :attr:`BatchReport.errors`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.characteristic import (
    GoodPositionReport, check_max_condition, default_max_condition, equivariance_sides, nearby_batch,
    numerical_ranks, solve_conditions,
)
from pyspec.checks import IdentityCheck, tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import PyspecError, ShapeError
from pyspec.identities import (
    CONDITIONING, THEOREM1_IDS, Sides, Theorem1Sides, column_ratio, hessian_scale_from_norms, identity_sides,
    natural_scales, squared_norms,
)
from pyspec.smoothness import derivative_jumps, slopes, smoothness_steps
from pyspec.theorem1 import Theorem1Report, _probe, theorem1_contractions, theorem1_report, theorem1_terms
from pyspec.theorem2 import Theorem2Report, theorem2_report

__all__ = ["BatchReport", "theorem1_batch", "theorem2_batch"]


@dataclasses.dataclass(frozen=True)
class BatchReport:
    """Per-point reports of a batched check.

    Attributes
    ----------
    reports : tuple
        ``reports[i]``: the :class:`~pyspec.theorem1.Theorem1Report` (or ``Theorem2Report``) of point
        ``i``, ``None`` when its hypothesis check failed.
    errors : tuple
        ``errors[i]``: the :class:`~pyspec.errors.PyspecError` of point ``i`` (its message starts with
        ``point i:``), ``None`` when the hypotheses hold.
    """

    reports: tuple[Any, ...]
    errors: tuple[PyspecError | None, ...]

    def __len__(self) -> int:
        return len(self.reports)

    @property
    def failing(self) -> tuple[int, ...]:
        """Indices of the points whose hypothesis check failed or whose identities do not all hold."""
        return tuple(i for i, (r, e) in enumerate(zip(self.reports, self.errors)) if e is not None or not r.holds)

    @property
    def holds(self) -> bool:
        """Whether every point satisfies the hypotheses and every identity holds."""
        return not self.failing

    def require(self) -> None:
        """Raise the first point's hypothesis error, if any."""
        for error in self.errors:
            if error is not None:
                raise error


def _points(thetas: Any) -> tuple[Any, np.ndarray, int]:
    """The first point (a pytree like one ``θ``), the flat ``(B, n)`` points and ``B``."""
    leaves, treedef = jax.tree_util.tree_flatten(thetas)
    if not leaves:
        raise ShapeError("thetas has no array leaves")
    arrays = [np.asarray(leaf) for leaf in leaves]
    sizes = {a.shape[0] if a.ndim else None for a in arrays}
    if len(sizes) != 1 or None in sizes or 0 in sizes:
        raise ShapeError(
            "batched checks need a leading batch axis of the same length B >= 1 on every leaf of thetas, "
            f"got leading sizes {sorted(str(s) for s in sizes)}"
        )
    first = jax.tree_util.tree_unflatten(treedef, [a[0] for a in arrays])
    flat = np.concatenate([np.reshape(a, (a.shape[0], -1)) for a in arrays], axis=1)
    return first, flat, arrays[0].shape[0]


def _named(error: PyspecError, index: int) -> PyspecError:
    return type(error)(f"point {index}: {error}")


def theorem1_batch(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    thetas: Any,
    *,
    check_equivariance: bool = True,
    max_condition: float | None = None,
    jit: bool = True,
) -> BatchReport:
    """:func:`pyspec.theorem1` at ``B`` points ``thetas[i]`` with one ``a``, in one vmapped program.

    Every point is judged at once from norms computed in the program (module docstring); a point that
    does not clearly hold is checked again by the single-point check, whose report it gets.

    Parameters
    ----------
    eq, loss, a
        As in :func:`pyspec.theorem1` (float64, dense path).
    thetas : array or pytree
        Every leaf has a leading batch axis of length ``B``.
    check_equivariance, max_condition, jit
        As in :func:`pyspec.theorem1`; the hypothesis checks run per point.

    Returns
    -------
    BatchReport
        Of :class:`~pyspec.theorem1.Theorem1Report` (not escalated to 50 digits: an inconclusive
        point says so; :func:`pyspec.theorem1` at that point escalates).
    """
    check_max_condition(max_condition)
    first, flat, count = _points(thetas)
    backend = get_backend(None, jit=jit)
    problem, a_flat, _ = bind(eq, loss, a, first, backend)
    if flat.shape[1] != problem.n:
        raise ShapeError(f"thetas holds {flat.shape[1]} parameters per point, the model has {problem.n}")
    near_a, near_t = nearby_batch(problem, a_flat, flat)
    steps, z = smoothness_steps(flat)
    program = compile_program(problem, lambda b, t, na, nt, h, z_: _theorem1_points(problem, b, t, na, nt, h, z_))
    out = backend.to_host(program(a_flat, flat, near_a, near_t, steps, z))
    limit = default_max_condition(backend) if max_condition is None else max_condition
    judged = _judge(problem, out, limit, check_equivariance)
    reports: list[Theorem1Report | None] = []
    errors: list[PyspecError | None] = []
    for i in range(count):
        report, error = None, None
        try:
            if judged.clear[i]:
                report = judged.report(i)
            else:  # the single-point check: rounding noise, the second route, its own errors
                report = theorem1_report(problem, a_flat, backend.asarray(flat[i]), check_equivariance, max_condition)
        except PyspecError as caught:
            error = _named(caught, i)
        reports.append(report)
        errors.append(error)
    return BatchReport(reports=tuple(reports), errors=tuple(errors))


class _PointQuantities(NamedTuple):
    """What :func:`theorem1_batch` judges a point by, from its compiled program (stacked over points)."""

    sides: Theorem1Sides
    """Both sides of each identity (:func:`~pyspec.identities.identity_sides`), kept in the checks."""
    squares: tuple[Array, ...]
    """:func:`~pyspec.identities.squared_norms` of each identity."""
    norms: Array
    """``‖G‖, ‖v‖, ‖∇L‖, ‖g‖, ‖w‖, ‖Hv‖, ‖GᵀKGu‖, ‖Hu − GᵀKGu‖`` (:data:`_NORMS`)."""
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
    """``‖f(T(a', θ'))‖², ‖S(a', f(θ'))‖²`` and the squared norm of their difference at the point and
    its nearby points (``P × 3``)."""


_NORMS = ("G", "v", "grad_L", "g", "w", "Hv", "gauss_newton_u", "rest_u")
"""The order of :attr:`_PointQuantities.norms`."""


def _norm(x: Array) -> Array:
    return jnp.sqrt(jnp.vdot(x, x))


def _theorem1_points(problem: Problem, a: Array, thetas: Array, near_a: Array, near_t: Array, steps: Array,
                     z: Array) -> _PointQuantities:
    """:class:`_PointQuantities` of each point (vmapped over the points)."""
    B = problem.backend

    def one(t: Array, na: Array, nt: Array, h: Array) -> _PointQuantities:
        q = theorem1_terms(problem, a, t)
        c = theorem1_contractions(B, q, norm=_norm)
        sides = identity_sides(c)
        gauss_newton_u = q.G.T @ (q.K @ (q.G @ _probe(B, problem.n)))
        norms = jnp.stack([_norm(q.G), c.norm_v, c.norm_grad, _norm(q.g), _norm(q.w), c.norm_Hv,
                           _norm(gauss_newton_u), _norm(q.Hu - gauss_newton_u)])
        columns = jnp.stack([jnp.sqrt(jnp.sum(q.Hv**2, axis=0)), jnp.sqrt(jnp.sum(q.v**2, axis=0))])
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(q)]))
        left, right = jax.vmap(lambda b, s: equivariance_sides(problem, b, s))(na, nt)
        sq = jnp.stack([jax.vmap(jnp.vdot)(x, x) for x in (left, right, left - right)], axis=1)
        return _PointQuantities(
            sides=sides, squares=tuple(squared_norms(side) for side in sides), norms=norms, columns=columns,
            finite=finite, T_theta=q.T_theta, S_y=q.S_y, T_a=B.jacobian(lambda b: problem.T(b, t), a),
            slopes=slopes(problem, t, h, z), equivariance=sq)

    return jax.vmap(one)(thetas, near_a, near_t, steps)


class _Judged(NamedTuple):
    """The batch judged at once: which points clearly hold, and what their reports are built from."""

    clear: np.ndarray
    """Finite, a good position of full rank ``∂aT``, smooth, eq. (1) within its tolerance at every
    nearby point, and every identity within its tolerance (no check vacuous)."""
    report: Callable[[int], Theorem1Report]
    """The report of a clear point (the single-point check's, up to the rounding of the norms)."""


def _judge(problem: Problem, q: _PointQuantities, limit: float, check_equivariance: bool) -> _Judged:
    """Judge every point of ``q`` at once with the formulas of :func:`pyspec.theorem1` (the tolerances
    of :func:`~pyspec.checks.tolerance`, the residuals and scales of :func:`~pyspec.checks.compare`)."""
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
        jump = derivative_jumps(*q.slopes)
        clear = finite & (cond_T <= limit) & (cond_S <= limit) & (rank >= problem.k) & (jump == 0.0)

        left, right, difference = np.moveaxis(np.sqrt(q.equivariance), -1, 0)
        eq_scale = np.maximum(left, right)
        eq_residuals = np.where(eq_scale == 0.0, 0.0, difference / np.where(eq_scale == 0.0, 1.0, eq_scale))
        eq_tolerance = tolerance(B, problem.n + problem.m)
        if check_equivariance:
            clear &= (eq_residuals <= eq_tolerance).all(axis=1)

        tol = np.array([tolerance(B, problem.n + problem.m + problem.k, c) for c in condition.tolist()])
        norm = dict(zip(_NORMS, np.moveaxis(q.norms, -1, 0)))
        norm_H = hessian_scale_from_norms(problem.n, norm["gauss_newton_u"], norm["rest_u"],
                                          column_ratio(q.columns[:, 0], q.columns[:, 1]), maximum=np.maximum)
        natural = natural_scales(norm["G"], norm_H, norm["v"], norm["grad_L"], norm["g"], norm["w"], norm["Hv"],
                                 maximum=np.maximum).per_check()
        judged = [_judge_identity(side, squares, scale) for side, squares, scale in zip(q.sides, q.squares, natural)]
        for j in judged:
            clear &= np.isfinite(j.scale) & np.isfinite(j.residual) & (j.scale > 0.0) & (j.residual <= tol)

    lists = {"cond_T": cond_T.tolist(), "cond_S": cond_S.tolist(), "rank": rank.tolist(), "tol": tol.tolist(),
             "eq": eq_residuals.tolist()}

    def report(i: int) -> Theorem1Report:
        tol_i, cond_i = lists["tol"][i], lists["cond_T"][i] * lists["cond_S"][i]
        resolution, why = (tol_i * cond_i, CONDITIONING) if tol_i * cond_i > tol_i else (0.0, "")
        checks = [j.check(B.name, identity, i, tol_i, resolution, why) for identity, j in zip(THEOREM1_IDS, judged)]
        position = GoodPositionReport(cond_T=lists["cond_T"][i], cond_S=lists["cond_S"][i], max_condition=limit,
                                      rank_T_a=lists["rank"][i], k=problem.k)
        return Theorem1Report(*checks, position=position,
                              equivariance_residual=max(lists["eq"][i]) if check_equivariance else None)

    return _Judged(clear=clear, report=report)


class _Identity(NamedTuple):
    """One identity judged at every point: the arrays its checks carry and their residuals."""

    lhs: np.ndarray
    rhs: np.ndarray
    terms: dict[str, np.ndarray]
    term_norms: dict[str, list[float]]
    residual: np.ndarray
    scale: np.ndarray

    def check(self, backend: str, identity: str, i: int, tol: float, resolution: float, why: str) -> IdentityCheck:
        """Point ``i``'s :class:`~pyspec.checks.IdentityCheck` (a clear point: not trivial)."""
        return IdentityCheck(
            identity=identity, lhs=self.lhs[i], rhs=self.rhs[i], terms={k: t[i] for k, t in self.terms.items()},
            term_norms={k: t[i] for k, t in self.term_norms.items()}, residual=float(self.residual[i]),
            tolerance=tol, scale=float(self.scale[i]), trivial=False, backend=backend, resolution=resolution,
            limit=why,
        )


def _judge_identity(side: Sides, squares: np.ndarray, natural: np.ndarray) -> _Identity:
    """:func:`~pyspec.checks.compare`'s scale and residual at every point, from :func:`squared_norms`."""
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


def theorem2_batch(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    thetas: Any,
    *,
    check_hypotheses: bool = True,
    jit: bool = True,
) -> BatchReport:
    """:func:`pyspec.theorem2` at ``B`` fixed points ``thetas[i]`` of ``T(a, ·)`` (leading batch axis
    on every leaf), each judged as by :func:`pyspec.theorem2` with its programs compiled once.

    Returns
    -------
    BatchReport
        Of :class:`~pyspec.theorem2.Theorem2Report`.
    """
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: Theorem 2 is about a symmetry; construct the Equivariance with S=None")
    first, flat, count = _points(thetas)
    backend = get_backend(None, jit=jit)
    problem, a_flat, _ = bind(eq, loss, a, first, backend)
    if flat.shape[1] != problem.n:
        raise ShapeError(f"thetas holds {flat.shape[1]} parameters per point, the model has {problem.n}")
    reports: list[Theorem2Report | None] = []
    errors: list[PyspecError | None] = []
    for i in range(count):
        report, error = None, None
        try:
            report = theorem2_report(problem, a_flat, backend.asarray(flat[i]), check_hypotheses)
        except PyspecError as caught:
            error = _named(caught, i)
        reports.append(report)
        errors.append(error)
    return BatchReport(reports=tuple(reports), errors=tuple(errors))
