"""Batched checks: Theorem 1 and Theorem 2 at ``B`` points of one model (docs/design.md#python-api: a
leading batch axis on ``θ``, per-point reports).

Batching is explicit, :func:`theorem1_batch` and :func:`theorem2_batch`, so that a leading axis is never
confused with a parameter pytree whose leaves happen to share a first dimension: every leaf of
``thetas`` carries the batch axis first, and ``thetas[i]`` (leaf by leaf) is the ``i``-th point.

:func:`theorem1_batch` evaluates every point in *one* vmapped, compiled program (the good-position
Jacobians, both sides of eq. (1) at each point and its nearby points, and every quantity of Theorem 1),
then judges each point on the host with the same functions as :func:`pyspec.theorem1`.
:func:`theorem2_batch` runs :func:`pyspec.theorem2`'s compiled programs point by point (each compiled
once, :mod:`pyspec.cache`). A point whose hypothesis check fails gets no report; its error, prefixed
with ``point i:``, is kept in :attr:`BatchReport.errors`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.characteristic import (
    default_max_condition,
    equivariance_from_sides,
    equivariance_sides,
    nearby_batch,
    position_from_jacobians,
)
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import PyspecError, ShapeError
from pyspec.terms import Theorem1Terms
from pyspec.theorem1 import Theorem1Report, theorem1_checks, theorem1_terms
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
        Of :class:`~pyspec.theorem1.Theorem1Report`.
    """
    first, flat, count = _points(thetas)
    backend = get_backend(None, jit=jit)
    problem, a_flat, _ = bind(eq, loss, a, first, backend)
    if flat.shape[1] != problem.n:
        raise ShapeError(f"thetas holds {flat.shape[1]} parameters per point, the model has {problem.n}")
    near_a, near_t = nearby_batch(problem, a_flat, flat)
    out = backend.to_host(compile_program(problem, lambda b, t, na, nt: _theorem1_points(problem, b, t, na, nt))(
        a_flat, flat, near_a, near_t))
    limit = default_max_condition(backend) if max_condition is None else max_condition
    reports: list[Theorem1Report | None] = []
    errors: list[PyspecError | None] = []
    for i in range(count):
        report, error = None, None
        try:
            report = _theorem1_point(problem, jax.tree_util.tree_map(lambda x: x[i], out), limit, check_equivariance)
        except PyspecError as caught:
            error = _named(caught, i)
        reports.append(report)
        errors.append(error)
    return BatchReport(reports=tuple(reports), errors=tuple(errors))


class _PointTerms(NamedTuple):
    """One point of :func:`theorem1_batch`: Theorem 1's quantities and its hypotheses' inputs."""

    terms: Theorem1Terms
    """:func:`~pyspec.theorem1.theorem1_terms`."""
    position_T: Array
    """``∂θT`` (good position)."""
    position_S: Array
    """``∂yS`` (good position)."""
    left: Array
    """``f(T(a', θ'))`` at the point and its nearby points (eq. 1)."""
    right: Array
    """``S(a', f(θ'))`` there."""


def _theorem1_points(problem: Problem, a: Array, thetas: Array, near_a: Array, near_t: Array) -> _PointTerms:
    """Per point: ``∂θT``, ``∂yS``, both sides of eq. (1) at the point and its nearby points, and
    :func:`~pyspec.theorem1.theorem1_terms` (vmapped over the points)."""
    B = problem.backend

    def one(t: Array, na: Array, nt: Array) -> _PointTerms:
        y = problem.f(t)
        left, right = jax.vmap(lambda b, s: equivariance_sides(problem, b, s))(na, nt)
        return _PointTerms(terms=theorem1_terms(problem, a, t), position_T=B.jacobian(lambda s: problem.T(a, s), t),
                           position_S=B.jacobian(lambda u: problem.S(a, u), y), left=left, right=right)

    return jax.vmap(one)(thetas, near_a, near_t)


def _theorem1_point(problem: Problem, q: _PointTerms, limit: float, check_equivariance: bool) -> Theorem1Report:
    """One point's report from its slice of :func:`_theorem1_points` (as :func:`pyspec.theorem1`)."""
    position = position_from_jacobians(problem, q.position_T, q.position_S, limit)
    position.require()
    eq_residual = None
    if check_equivariance:
        report = equivariance_from_sides(problem, list(zip(q.left, q.right)), position.condition)
        report.require(problem.name)
        eq_residual = max(report.residuals)
    c = theorem1_checks(problem, q.terms, position.condition)
    return Theorem1Report(**c._asdict(), position=position, equivariance_residual=eq_residual)


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
