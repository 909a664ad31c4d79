"""Batched checks: Theorem 1 and Theorem 2 at ``B`` points of one model (docs/design.md#python-api: a
leading batch axis on ``θ``, per-point reports).

Batching is explicit, :func:`theorem1_batch` and :func:`theorem2_batch`, so that a leading axis is never
confused with a parameter pytree whose leaves happen to share a first dimension: every leaf of
``thetas`` carries the batch axis first, and ``thetas[i]`` (leaf by leaf) is the ``i``-th point.

:func:`theorem1_batch` and :func:`theorem2_batch` evaluate every point in *one* vmapped, compiled
program and judge all points at once on the host (:mod:`pyspec.bulk`: the single check's functions
and formulas, array by array; :func:`pyspec.theorem1.theorem1` judges a single point so first). A
point that clearly holds gets its report built from those arrays; any other point (a failed
hypothesis, a residual above its tolerance, a non-finite quantity) is checked again alone by
:func:`pyspec.theorem1.theorem1_report` or :func:`pyspec.theorem2.theorem2_report`, which measure the
rounding noise and take the second route before they say ``fails``: its verdict and its error are the
single check's. A point whose hypothesis check fails gets no report; its error,
prefixed with ``point i:``, is kept in :attr:`BatchReport.errors`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import Array, Backend
from pyspec.bulk import Judged, judge_theorem2, theorem2_points
from pyspec.cache import compile_program
from pyspec.characteristic import check_max_condition, default_max_condition, nearby_batch
from pyspec.checks import HOLDS, Verdict
from pyspec.equivariance import Equivariance, bind
from pyspec.errors import PyspecError, ShapeError
from pyspec.smoothness import smoothness_steps
from pyspec.theorem1 import judge_theorem1, theorem1_points_program, theorem1_report
from pyspec.theorem2 import theorem2_report

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
        """Indices of the points whose hypothesis check failed or where an identity fails."""
        return tuple(i for i, (r, e) in enumerate(zip(self.reports, self.errors))
                     if e is not None or r.verdict == "fails")

    @property
    def inconclusive(self) -> tuple[int, ...]:
        """Indices of the points that float64 could not decide (no identity fails, one is inconclusive,
        or the point is not smooth): :func:`pyspec.theorem1` or :func:`pyspec.theorem2` at such a point
        escalates to 50 digits where it can."""
        return tuple(i for i, (r, e) in enumerate(zip(self.reports, self.errors))
                     if e is None and r.verdict == "inconclusive")

    @property
    def verdict(self) -> Verdict:
        """``"fails"`` if a point fails (or its hypotheses do), else ``"inconclusive"`` if a point is,
        else ``"holds"``."""
        return "fails" if self.failing else "inconclusive" if self.inconclusive else "holds"

    @property
    def holds(self) -> bool | None:
        """``True`` if every point satisfies the hypotheses and every identity holds, ``False`` if a
        point fails, ``None`` if the rest is undecided (:attr:`inconclusive`)."""
        return HOLDS[self.verdict]

    def require(self) -> None:
        """Raise the first point's hypothesis error, if any."""
        for error in self.errors:
            if error is not None:
                raise error


def _points(thetas: Any) -> tuple[Any, np.ndarray]:
    """The first point (a pytree like one ``θ``) and the flat ``(B, n)`` points."""
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
    return first, flat


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
    first, flat = _points(thetas)
    backend = get_backend(None, jit=jit)
    problem, a_flat, _ = bind(eq, loss, a, first, backend)
    if flat.shape[1] != problem.n:
        raise ShapeError(f"thetas holds {flat.shape[1]} parameters per point, the model has {problem.n}")
    near_a, near_t = nearby_batch(problem, a_flat, flat)
    steps, z = smoothness_steps(flat)
    program = theorem1_points_program(problem)
    limit = default_max_condition(backend) if max_condition is None else max_condition
    judged = judge_theorem1(problem, backend.to_host(program(a_flat, flat, near_a, near_t, steps, z)), limit,
                            check_equivariance)
    return _reports(backend, judged, flat, lambda theta: theorem1_report(problem, a_flat, theta, check_equivariance,
                                                                         max_condition))


def _reports(backend: Backend, judged: Judged, flat: np.ndarray, alone: Callable[[Array], Any]) -> BatchReport:
    """Each clear point's report from the bulk judgement; every other point ``i`` checked alone by
    ``alone(θ_i)`` (the single check: rounding noise, the second route, its named error)."""
    reports: list[Any] = []
    errors: list[PyspecError | None] = []
    for i in range(len(flat)):
        report, error = None, None
        try:
            report = judged.report(i) if judged.clear[i] else alone(backend.asarray(flat[i]))
        except PyspecError as caught:
            error = _named(caught, i)
        reports.append(report)
        errors.append(error)
    return BatchReport(reports=tuple(reports), errors=tuple(errors))


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
    on every leaf), in one vmapped program, judged as :func:`theorem1_batch` judges its points.

    Returns
    -------
    BatchReport
        Of :class:`~pyspec.theorem2.Theorem2Report` (not escalated to 50 digits).
    """
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: Theorem 2 is about a symmetry; construct the Equivariance with S=None")
    first, flat = _points(thetas)
    backend = get_backend(None, jit=jit)
    problem, a_flat, _ = bind(eq, loss, a, first, backend)
    if flat.shape[1] != problem.n:
        raise ShapeError(f"thetas holds {flat.shape[1]} parameters per point, the model has {problem.n}")
    near_a, near_t = nearby_batch(problem, a_flat, flat, vary_a=False)
    steps, z = smoothness_steps(flat)
    program = compile_program(problem, lambda b, t, na, nt, h, z_: theorem2_points(problem, b, t, na, nt, h, z_),
                              pack=True)
    judged = judge_theorem2(problem, backend.to_host(program(a_flat, flat, near_a, near_t, steps, z)),
                            check_hypotheses)
    return _reports(backend, judged, flat, lambda theta: theorem2_report(problem, a_flat, theta, check_hypotheses))
