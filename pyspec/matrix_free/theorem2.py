"""Theorem 2 matrix-free: item 1 exactly, item 2 on random probe directions (docs/design.md#evaluation-paths)."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from pyspec import linalg
from pyspec.backends.base import Array
from pyspec.smoothness import check_smoothness
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Problem
from pyspec.fixed_point import theorem2_hypotheses
from pyspec.matrix_free.operators import compile_mf, operators, probe_directions
from pyspec.matrix_free.options import SolverOptions
from pyspec.reports import Theorem2Report
from pyspec.terms import Theorem2ProbeTerms

__all__ = ["theorem2_terms_mf", "theorem2_report_mf"]


def theorem2_terms_mf(problem: Problem, a: Array, theta: Array, Z: Array) -> Theorem2ProbeTerms:
    """``∇L``, ``Jᵀ∇L``, ``HZ``, ``JᵀHJZ``, ``(∇L·T_θθ)Z`` for probes ``Z`` (``n × p``), matrix-free."""
    grad, hvp = jax.linearize(jax.grad(problem.L), theta)
    J, Jt = operators(lambda t: problem.T(a, t), theta)

    def cols(op: Callable, X: Array) -> Array:
        return jax.vmap(op, in_axes=1, out_axes=1)(X)

    blue_op = jax.linearize(jax.grad(lambda t: jnp.vdot(grad, problem.T(a, t))), theta)[1]
    return Theorem2ProbeTerms(grad_L=grad, Jt_grad=Jt(grad), HZ=cols(hvp, Z), JtHJZ=cols(Jt, cols(hvp, cols(J, Z))),
                              blue=cols(blue_op, Z))


def theorem2_report_mf(
    problem: Problem,
    a: Array,
    theta: Array,
    check_hypotheses: bool = True,
    probes: int = 8,
    seed: int = 0,
    opts: SolverOptions = SolverOptions(),
) -> Theorem2Report:
    """:func:`pyspec.theorem2` with ``method="matrix_free"`` for a bound (float64) problem.

    Item 1 is checked exactly. Item 2, an ``n × n`` identity ``D = H − JᵀHJ − (∇L·T_θθ) = 0``, is
    checked on ``p = probes`` random unit directions ``Z`` (:func:`probe_directions`): ``lhs = HZ``,
    terms ``JᵀHJZ`` and ``(∇L·T_θθ)Z``.

    Guarantee: each probe is ``z = ξ/‖ξ‖`` with ``ξ ~ N(0, Iₙ)``, so ``‖Dz‖ ≥ ‖D‖₂ |⟨u₁, ξ⟩| / ‖ξ‖``
    with ``u₁`` the top right singular vector of ``D`` and ``⟨u₁, ξ⟩ ~ N(0, 1)``. Since
    ``P(|N(0, 1)| ≤ t) ≤ t √(2/π)``, a non-zero ``D`` gives ``‖Dz_j‖ ≤ t ‖D‖₂ / ‖ξ_j‖`` on *every*
    probe with probability at most ``(0.8 t)^p`` (``t = 10⁻³``, ``p = 8``: below ``10⁻²⁴``). With
    ``‖ξ‖ ≈ √n`` and ``‖Hz‖ ≈ ‖H‖_F / √n``, the probe residual of a violation is of the order of
    ``‖D‖ / ‖H‖_F``, the dense path's residual.
    """
    B = problem.backend
    n = problem.n

    def norm_J(a_: Array, t_: Array) -> Array:
        J, Jt = operators(lambda t: problem.T(a_, t), t_)
        lo, hi = linalg.lanczos_extremes(lambda x: Jt(J(x)), n, num_iter=opts.condition_iterations)
        return jnp.sqrt(jnp.maximum(hi, 0.0))

    scale_J = max(float(compile_mf(problem, norm_J, opts.condition_iterations)(a, theta)), 1.0)
    fp, eq_residual = theorem2_hypotheses(problem, a, theta, scale_J, check_hypotheses)
    Z = probe_directions(n, probes, seed)
    q = B.to_host(compile_mf(problem, lambda a_, t_, z_: theorem2_terms_mf(problem, a_, t_, z_))(a, theta, Z))
    tol = tolerance(B, n + problem.m, scale_J**2)
    norm_grad = B.to_float(B.norm(q.grad_L))
    gradient = compare(B, "theorem2_gradient", q.Jt_grad, {"grad_L": q.grad_L}, tol, scale_J * norm_grad)
    hessian = compare(B, "theorem2_hessian", q.HZ, {"conjugated": q.JtHJZ, "blue": q.blue}, tol,
                      scale_J**2 * B.to_float(B.norm(q.HZ)))
    return Theorem2Report(gradient=gradient, hessian=hessian, fixed_point_residual=fp, equivariance_residual=eq_residual,
                          jump=check_smoothness(problem, theta))
