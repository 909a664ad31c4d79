"""Three-valued verdicts of the matrix-free Theorem 1 (docs/theory.md#residuals-and-tolerances): what
float64 can resolve at the point, measured as on the dense path (:mod:`pyspec.verdicts`).

A residual above its tolerance is ``"inconclusive"`` rather than ``"fails"`` when it lies within
the resolution measured at the point, which is raised (:func:`pyspec.checks.limited`) by

* the conditioning band ``κ × tolerance`` (:data:`pyspec.identities.CONDITIONING`);
* the rounding noise (:func:`rounding_noise_mf`): the same program at inputs moved by a few ulps;
* a second differentiation route (:func:`second_route_mf`): ``Hv`` by reverse-over-reverse against
  the program's forward-over-reverse.

The two measurements run only when a residual exceeds its tolerance, as on the dense path. The
smoothness probe is part of the hypotheses (:func:`pyspec.matrix_free.position.checked_position_mf`).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

from pyspec.backends.base import Array
from pyspec.checks import IdentityCheck, limited, ulp_neighbours, with_rounding_noise
from pyspec.equivariance import Problem
from pyspec.matrix_free.operators import compile_mf
from pyspec.matrix_free.options import SolverOptions
from pyspec.matrix_free.solvers import RowStructure, T_solvers_at, row_structures
from pyspec.reports import Theorem1Checks
from pyspec.verdicts import route_limited

__all__ = ["rounding_noise_mf", "second_route_mf"]

ChecksAt = Callable[[Array, Array, tuple[RowStructure, RowStructure]], Theorem1Checks]
"""``(a, θ, structures) ↦`` Theorem 1's checks with item 2a's arrays kept (for ``lhs − rhs``)."""


def rounding_noise_mf(problem: Problem, a: Array, theta: Array, checks: Theorem1Checks,
                      checks_at: ChecksAt) -> Theorem1Checks:
    """``checks`` with their resolution raised to ``NOISE_FACTOR ×`` the rounding noise of ``lhs − rhs``
    (:func:`pyspec.checks.with_rounding_noise`) measured at :func:`pyspec.checks.ulp_neighbours`.

    ``checks_at`` recomputes the checks with item 2a's arrays (a reduced report has only their norms,
    and a difference of norms bounds the noise only from below), row structures found anew at each
    moved point; the resolution is then carried over to ``checks``.
    """
    B = problem.backend
    # judged against the checks' own tolerance and resolution, with no limit recorded yet
    base = Theorem1Checks(*(dataclasses.replace(b, tolerance=c.tolerance, resolution=c.resolution, limit="")
                            for b, c in zip(checks_at(a, theta, row_structures(problem, a, theta)), checks)))
    samples = [checks_at(a_i, t_i, row_structures(problem, a_i, t_i))._asdict()
               for a_i, t_i in ulp_neighbours(B, a, theta)]
    noisy = Theorem1Checks(**with_rounding_noise(B, base._asdict(), samples))
    return Theorem1Checks(*(_carry(check, measured) for check, measured in zip(checks, noisy)))


def _carry(check: IdentityCheck, measured: IdentityCheck) -> IdentityCheck:
    """``check`` with the resolution that ``measured`` (the same identity at the same point, no other
    limit) found, and its reason."""
    return limited(check, measured.resolution, measured.limit) if measured.limit else check


def second_route_mf(problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure],
                    opts: SolverOptions, checks: Theorem1Checks) -> Theorem1Checks:
    """``checks`` with items 2a and 2b limited by ``ROUTE_FACTOR ×`` the disagreement between ``Hv``
    computed forward-over-reverse (as the program) and reverse-over-reverse
    (:func:`pyspec.verdicts.route_limited`): ``‖Hv₂ − Hv‖`` and ``‖vᵀ(Hv₂ − Hv)‖``, on the device."""
    sT = structures[0]
    static = sT[3:]

    def deltas(a_: Array, t_: Array, arrays_T: tuple[Array, Array, Array]) -> tuple[Array, Array]:
        solve = T_solvers_at(problem, a_, RowStructure(*arrays_T, *static), opts)(t_)[2]
        grad_L = jax.grad(problem.L)
        hvp = jax.linearize(grad_L, t_)[1]

        def one(e: Array) -> tuple[Array, Array]:
            v = solve(jax.jvp(lambda b: problem.T(b, t_), (a_,), (e,))[1])
            return v, jax.grad(lambda t: jnp.vdot(grad_L(t), v))(t_) - hvp(v)

        V, D = lax.map(one, jnp.eye(a_.shape[0], dtype=t_.dtype))
        return jnp.linalg.norm(D), jnp.linalg.norm(V @ D.T)

    d_action, d_quadratic = compile_mf(problem, deltas, static, opts)(a, theta, tuple(sT[:3]))
    return route_limited(checks, {"theorem1_hessian_action": float(d_action),
                                  "theorem1_hessian_quadratic": float(d_quadratic)})
