"""Hypotheses of Theorem 1 on the matrix-free path: good position (Definition 1) without forming
``∂θT`` or ``∂yS``, smoothness of the model at ``θ``, and eq. (1) at and near ``(a, θ)``."""

from __future__ import annotations

from typing import Callable

import jax.numpy as jnp
import numpy as np

from pyspec import linalg
from pyspec.backends.base import Array
from pyspec.characteristic import GoodPositionReport, default_max_condition, required_equivariance
from pyspec.smoothness import check_smoothness
from pyspec.equivariance import Problem
from pyspec.matrix_free.operators import compile_mf, operators
from pyspec.matrix_free.options import SolverOptions
from pyspec.matrix_free.solvers import RowStructure, is_diagonal, row_structures

__all__ = ["condition_program", "position_report_mf", "checked_position_mf"]


def _exact_condition(structure: RowStructure) -> float:
    """Condition number of a diagonal Jacobian: ``max|c| / min|c|``."""
    d = np.abs(np.asarray(structure.inv_diag))
    return float(d.max() / d.min())


def condition_program(
    problem: Problem, structures: tuple[RowStructure, RowStructure], opts: SolverOptions
) -> Callable[[Array, Array], tuple[Array, Array]]:
    """Compiled ``(a, θ) ↦ (cond ∂θT, cond ∂yS)`` by Lanczos on ``AᵀA``
    (:func:`pyspec.linalg.condition_estimate`, a lower bound); ``nan`` for a diagonal Jacobian
    (exact: :func:`_exact_condition`) or a symmetry's ``S``, which are not estimated."""
    sT, sS = structures
    iters = opts.condition_iterations
    skip_S = is_diagonal(sS) or problem.is_symmetry

    def conds(a_: Array, t_: Array) -> tuple[Array, Array]:
        y = problem.f(t_)
        nan = jnp.asarray(jnp.nan)
        cond_T = nan if is_diagonal(sT) else linalg.condition_estimate(
            *operators(lambda t: problem.T(a_, t), t_), problem.n, num_iter=iters)
        cond_S = nan if skip_S else linalg.condition_estimate(
            *operators(lambda u: problem.S(a_, u), y), problem.m, num_iter=iters)
        return cond_T, cond_S

    return compile_mf(problem, conds, is_diagonal(sT), skip_S, iters)


def position_report_mf(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], opts: SolverOptions,
    max_condition: float | None = None,
) -> GoodPositionReport:
    """Good position (Definition 1) without forming ``∂θT`` or ``∂yS``: exact for diagonal Jacobians,
    else a Lanczos estimate (:func:`condition_program`); and the smoothness probe of the dense path
    (:func:`pyspec.smoothness.check_smoothness`, three JVPs of ``f``; warns at a kink)."""
    sT, sS = structures
    est_T, est_S = (float(x) for x in condition_program(problem, structures, opts)(a, theta))
    cond_T = _exact_condition(sT) if is_diagonal(sT) else est_T
    cond_S = 1.0 if problem.is_symmetry else (_exact_condition(sS) if is_diagonal(sS) else est_S)
    limit = default_max_condition(problem.backend) if max_condition is None else max_condition
    return GoodPositionReport(cond_T=cond_T, cond_S=cond_S, max_condition=limit, jump=check_smoothness(problem, theta))


def checked_position_mf(
    problem: Problem, a: Array, theta: Array, check_equivariance: bool = True, max_condition: float | None = None,
    opts: SolverOptions = SolverOptions(),
) -> tuple[tuple[RowStructure, RowStructure], GoodPositionReport, float | None]:
    """The row structures, the good position (:func:`position_report_mf`, required) and, unless
    ``check_equivariance=False``, eq. (1) at and near ``(a, θ)`` (required; its worst residual).

    Raises
    ------
    NotGoodPositionError, EquivarianceError
    """
    structures = row_structures(problem, a, theta)
    position = position_report_mf(problem, a, theta, structures, opts, max_condition)
    position.require()
    return structures, position, required_equivariance(problem, a, theta, check_equivariance)

