"""Theorem 1 matrix-free (docs/design.md#evaluation-paths): eq. (12), items 1, 2a, 2b from JVPs, VJPs,
HVPs and the solves of :mod:`pyspec.matrix_free.solvers`, one direction at a time.

Cost (``k`` directions, :func:`theorem1_terms_mf`): one linearization of ``θ ↦ (f(θ), ∇L(θ))`` (a
gradient's forward and backward pass) applied to the ``k + 1`` tangents ``v_j`` and ``u`` (the fixed
unit probe of the Hessian scale), one pullback of ``f`` applied to ``3k + 1`` cotangents, and work on
``T`` and ``S`` alone (solves, their second derivatives), which touches neither the model nor the data.
With ``keep_arrays=False`` each direction is reduced to norms and contractions on the device, so the
check holds ``v`` (``k`` vectors of size ``n``) and a fixed number of ``n``-vectors, not the ``8k`` of
item 2a's arrays. The identity checks are the dense path's (:func:`pyspec.identities.identity_checks`),
with the same natural scales.

Tolerance. An approximate solve with relative residual ``ρ`` has forward error at most ``κρ``
(``κ`` the condition number); ``v`` enters each identity at most quadratically, so the residual
moves by at most ``2κρ`` relative to the check's scale. The tolerance is therefore the dense one
plus ``SOLVE_SAFETY · κ · ρ``, with ``ρ`` the largest *measured* relative residual of the ``2k + 2`` solves
and, for GMRES, at least the requested ``tol`` (which bounds the unmeasured solves inside the
implicit derivatives of the (v, w) form).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec.backends.base import Array
from pyspec.checks import Norms, limited, tolerance
from pyspec.equivariance import Problem
from pyspec.identities import (
    CONDITIONING, Sides, action_terms, hessian_scale_from_norms, identity_checks, squared_norms,
)
from pyspec.matrix_free.operators import compile_mf, contracted_gradient, probe_vector, relative_residual
from pyspec.matrix_free.options import SOLVE_SAFETY, SolverOptions
from pyspec.matrix_free.position import checked_position_mf
from pyspec.matrix_free.solvers import RowStructure, S_solvers_at, T_solvers_at, is_iterative
from pyspec.matrix_free.verdicts import rounding_noise_mf, second_route_mf
from pyspec.reports import Theorem1Checks, Theorem1Report
from pyspec.terms import HessianProbe, MatrixFreeTheorem1Terms, Theorem1Arrays, Theorem1Contractions

__all__ = ["theorem1_terms_mf", "theorem1_program", "theorem1_checks_mf", "theorem1_report_mf", "solve_widening"]


ACTION_TERMS = ("green_K", "green_S", "blue", "plain")
"""Terms of item 2a in the (T, S) form (:func:`pyspec.identities.action_terms`)."""
ACTION_VW_TERMS = ("output", "direction")
"""Terms of item 2a in the (v, w) form."""


def theorem1_terms_mf(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], opts: SolverOptions,
    keep_arrays: bool = True,
) -> MatrixFreeTheorem1Terms:
    """Every contraction of Theorem 1, matrix-free, one direction at a time.

    The ``k`` columns of ``v`` and ``w`` are solved first (:func:`pyspec.matrix_free.solvers.solvers_at`);
    then a loop over the directions ``e_j`` computes, for column ``j``, ``Gv_j, Hv_j`` (the linearization of
    ``θ ↦ (f, ∇L)``), ``Kw_j``, ``ζ·S_ya e_j``, ``(ζ·S_yy)w_j``, ``(∂_y w_j)*g`` (``m``-vectors),
    ``(γ·T_θθ)v_j``, ``γ·T_θa e_j``, ``(∂_θ v_j)*∇L`` (the gradient of ``θ' ↦ ∇L·v_j(θ')`` through the
    solve) and three pullbacks ``Gᵀ(Kw_j)``, ``Gᵀ(ζ·S_ya e_j − (ζ·S_yy)w_j)``, ``Gᵀ(Kw_j + (∂_y w_j)*g)``.

    Each column is reduced on the device to what the checks need: the squared norms of both sides of
    item 2a, of their terms and of their difference (``action_sq``, ``action_vw_sq``), and the
    contractions ``vᵀHv``, ``vᵀ(γ·T_θθ)v``, ``vᵀ(γ·T_θa)``, ``vᵀ(∂_θv)*∇L`` (``k × k``): besides ``v``,
    memory for one direction's terms. With ``keep_arrays`` the ``n × k`` quantities
    (:class:`~pyspec.terms.Theorem1Arrays`) are returned as well, for the report. Also returned: the
    ``m × k`` arrays, the Hessian-scale and ``‖G‖`` estimates (:class:`~pyspec.terms.HessianProbe`) and
    ``solve_residual`` (largest relative residual of the ``2k + 2`` top-level solves). Traceable.
    """
    f, T, S, loss = problem.f, problem.T, problem.S, problem.loss
    sT, sS = structures
    grad_loss = jax.grad(loss)

    def f_and_grad(t: Array) -> tuple[Array, Array]:
        y_, pull_ = jax.vjp(f, t)
        return y_, pull_(grad_loss(y_))[0]

    (y, grad), lin = jax.linearize(f_and_grad, theta)
    _, pull = jax.vjp(f, theta)
    g = grad_loss(y)
    k = a.shape[0]
    E = jnp.eye(k, dtype=theta.dtype)

    def over_directions(fun: Callable, *xs: Array) -> Any:
        """``fun`` on each direction (rows of ``xs``) in turn, stacked: sequential ``lax.map``, which
        on CPU is also faster than ``vmap`` (batched pullbacks of ``f`` lay out poorly)."""
        return lax.map(lambda row: fun(*row), xs)

    T_solvers, S_solvers = T_solvers_at(problem, a, sT, opts), S_solvers_at(problem, a, sS, opts)

    def v_col(t: Array, e: Array) -> Array:
        return T_solvers(t)[2](jax.jvp(lambda b: T(b, t), (a,), (e,))[1])

    def w_col(x: Array, e: Array) -> Array:
        return S_solvers(x)[2](jax.jvp(lambda b: S(b, x), (a,), (e,))[1])

    Tmv, Trmv, T_solve, T_solve_t = T_solvers(theta)
    Smv, Srmv, S_solve, S_solve_t = S_solvers(y)

    def solve_columns(op: Callable, solve: Callable, fun: Callable, x: Array) -> tuple[Array, Array]:
        """Rows ``A⁻¹ ∂_a fun(a, x) e_j`` (``k × dim``) and their relative residuals."""

        def one(e: Array) -> tuple[Array, Array]:
            b = jax.jvp(lambda s: fun(s, x), (a,), (e,))[1]
            col = solve(b)
            return col, relative_residual(op, col, b)

        return over_directions(one, E)

    V, res_v = solve_columns(Tmv, T_solve, T, theta)  # rows v_j
    W, res_w = solve_columns(Smv, S_solve, S, y)
    gamma = T_solve_t(grad)
    zeta = S_solve_t(g)
    solve_residual = jnp.max(jnp.concatenate([
        res_v, res_w, jnp.stack([relative_residual(Trmv, gamma, grad), relative_residual(Srmv, zeta, g)])
    ]))  # fmt: skip

    def K(x: Array) -> Array:
        return jax.jvp(grad_loss, (y,), (x,))[1]

    gamma_T_grad, zeta_S_grad = contracted_gradient(gamma, T), contracted_gradient(zeta, S)

    blue_op = jax.linearize(lambda t: gamma_T_grad(a, t), theta)[1]
    zeta_Syy_op = jax.linearize(lambda x: zeta_S_grad(a, x), y)[1]

    def column(v_j: Array, w_j: Array, e: Array) -> _Column:
        Gv_j, Hv_j = lin(v_j)
        Kw_j = K(w_j)
        zeta_Sya_j = jax.jvp(lambda b: zeta_S_grad(b, y), (a,), (e,))[1]
        zeta_Syy_w_j = zeta_Syy_op(w_j)
        dw_j = jax.grad(lambda x: jnp.vdot(g, w_col(x, e)))(y)
        green_K, green_S, output = lax.map(lambda c: pull(c)[0], jnp.stack([Kw_j, zeta_Sya_j - zeta_Syy_w_j, Kw_j + dw_j]))
        big = Theorem1Arrays(
            v=v_j, grad_L=None, Hv=Hv_j, green_K=green_K, green_S=green_S, gamma_Ttt_v=blue_op(v_j),
            gamma_Tta=jax.jvp(lambda b: gamma_T_grad(b, theta), (a,), (e,))[1], output=output,
            dv_star=jax.grad(lambda t: jnp.vdot(grad, v_col(t, e)))(theta),
        )
        action_sq, action_vw_sq = _action_squares(big)
        return _Column(
            Gv=Gv_j, Kw=Kw_j, zeta_Sya=zeta_Sya_j, zeta_Syy_w=zeta_Syy_w_j, dw_star=dw_j,
            norm_v_sq=jnp.vdot(v_j, v_j), norm_Hv_sq=jnp.vdot(Hv_j, Hv_j), vHv=V @ big.Hv, v_blue=V @ big.gamma_Ttt_v,
            v_plain=V @ big.gamma_Tta, v_dv=V @ big.dv_star, action_sq=action_sq, action_vw_sq=action_vw_sq,
            arrays=big if keep_arrays else None,
        )

    cols = over_directions(column, V, W, E)  # stacked over j: (k, ...)
    u = probe_vector(problem.n)
    Gu, Hu = lin(u)
    GtKGu = pull(K(Gu))[0]
    norm_v, norm_Hv = jnp.sqrt(cols.norm_v_sq), jnp.sqrt(cols.norm_Hv_sq)

    def ratio(num: Array) -> Array:
        return jnp.max(jnp.where(norm_v > 0, num / jnp.where(norm_v > 0, norm_v, 1.0), 0.0))

    arrays = None
    if keep_arrays:
        arrays = jax.tree_util.tree_map(lambda x: x.T, cols.arrays)._replace(v=V.T, grad_L=grad)
    contractions = Theorem1Contractions(
        w=W.T, g=g, Gv=cols.Gv.T, Kw=cols.Kw.T, zeta_Sya=cols.zeta_Sya.T, zeta_Syy_w=cols.zeta_Syy_w.T,
        dw_star=cols.dw_star.T, norm_v=jnp.linalg.norm(norm_v), norm_grad=jnp.linalg.norm(grad),
        norm_Hv=jnp.linalg.norm(norm_Hv), grad_v=V @ grad, vHv=cols.vHv.T, v_blue=cols.v_blue.T,
        v_plain=cols.v_plain.T, v_dv=cols.v_dv.T, arrays=arrays,
    )
    probe = HessianProbe(
        norm_Gu=jnp.linalg.norm(Gu), norm_GtKGu=jnp.linalg.norm(GtKGu), norm_Hu_rest=jnp.linalg.norm(Hu - GtKGu),
        Hv_ratio=ratio(norm_Hv), Gv_ratio=ratio(jnp.linalg.norm(cols.Gv, axis=1)),
    )
    return MatrixFreeTheorem1Terms(
        contractions=contractions, action_sq=jnp.sum(cols.action_sq, axis=0),
        action_vw_sq=jnp.sum(cols.action_vw_sq, axis=0), probe=probe, solve_residual=solve_residual,
    )


class _Column(NamedTuple):
    """One direction ``j`` of :func:`theorem1_terms_mf`: its ``m``-vectors, the squared norms of
    ``v_j`` and ``Hv_j``, the ``k``-vectors ``Vᵀ(·)_j`` of item 2b, item 2a's squares and, when kept,
    its ``n``-vectors."""

    Gv: Array
    Kw: Array
    zeta_Sya: Array
    zeta_Syy_w: Array
    dw_star: Array
    norm_v_sq: Array
    norm_Hv_sq: Array
    vHv: Array
    v_blue: Array
    v_plain: Array
    v_dv: Array
    action_sq: Array
    action_vw_sq: Array
    arrays: Theorem1Arrays | None


def _action_squares(big: Theorem1Arrays) -> tuple[Array, Array]:
    """One column's item 2a in both forms reduced to the squared norms of ``lhs``, ``rhs``,
    ``lhs − rhs`` and each term (:func:`pyspec.identities.squared_norms`)."""
    ts, vw = action_terms(big)
    return squared_norms(Sides(big.Hv, ts)), squared_norms(Sides(big.Hv, vw))


def _action_norms(sq: np.ndarray, terms: tuple[str, ...]) -> Norms:
    """:class:`pyspec.checks.Norms` from the summed squares of :func:`_action_squares`."""
    root = np.sqrt(np.asarray(sq, dtype=np.float64))
    return Norms(lhs=float(root[0]), rhs=float(root[1]), difference=float(root[2]),
                 terms={t: float(x) for t, x in zip(terms, root[3:])})


def theorem1_report_mf(
    problem: Problem,
    a: Array,
    theta: Array,
    check_equivariance: bool = True,
    max_condition: float | None = None,
    opts: SolverOptions = SolverOptions(),
    keep_arrays: bool = True,
) -> Theorem1Report:
    """:func:`pyspec.theorem1` with ``method="matrix_free"`` for a bound (float64) problem, with the
    dense path's three-valued verdicts (:mod:`pyspec.matrix_free.verdicts`)."""
    structures, position, eq_residual = checked_position_mf(problem, a, theta, check_equivariance, max_condition, opts)
    B, condition = problem.backend, position.condition
    q = B.to_host(theorem1_program(problem, structures, opts, keep_arrays)(a, theta))
    c = theorem1_checks_mf(problem, q, condition, structures, opts).map(
        lambda x: limited(x, x.tolerance * condition, CONDITIONING))
    if any(x.residual > x.tolerance for x in c):  # what float64 resolves here (pyspec.matrix_free.verdicts)

        def checks_at(a_: Array, t_: Array, st: tuple[RowStructure, RowStructure]) -> Theorem1Checks:
            return theorem1_checks_mf(problem, B.to_host(theorem1_program(problem, st, opts)(a_, t_)), condition, st,
                                      opts)

        c = rounding_noise_mf(problem, a, theta, c, checks_at)
        c = second_route_mf(problem, a, theta, structures, opts, c)
    return Theorem1Report(**c._asdict(), position=position, equivariance_residual=eq_residual)


def theorem1_checks_mf(
    problem: Problem, q: MatrixFreeTheorem1Terms, condition: float, structures: tuple[RowStructure, RowStructure],
    opts: SolverOptions,
) -> Theorem1Checks:
    """The identity checks from :func:`theorem1_terms_mf`'s output (host side).

    Tolerance: the dense one plus ``SOLVE_SAFETY · κ · ρ`` (module docstring), ``ρ`` at least
    ``opts.tol`` when GMRES ran. ``‖G‖ ≈ max(√n ‖Gu‖, max_j ‖Gv_j‖/‖v_j‖)``, ``‖H‖`` as in
    :func:`pyspec.identities.hessian_scale`.
    """
    B, p = problem.backend, q.probe
    tol = tolerance(B, problem.n + problem.m + problem.k, condition) + solve_widening(
        problem, structures, opts, float(q.solve_residual), condition)
    norm_G = max(problem.n**0.5 * float(p.norm_Gu), float(p.Gv_ratio))
    norm_H = hessian_scale_from_norms(problem.n, float(p.norm_GtKGu), float(p.norm_Hu_rest), float(p.Hv_ratio))
    c = q.contractions._replace(action=_action_norms(q.action_sq, ACTION_TERMS),
                                action_vw=_action_norms(q.action_vw_sq, ACTION_VW_TERMS))
    return identity_checks(B, c, tol, norm_G, norm_H)


def theorem1_program(
    problem: Problem, structures: tuple[RowStructure, RowStructure], opts: SolverOptions, keep_arrays: bool = True
) -> Callable[[Array, Array], MatrixFreeTheorem1Terms]:
    """The compiled ``(a, θ) ↦`` :func:`theorem1_terms_mf` for the structures found at ``(a, θ)``."""

    static = [structure[3:] for structure in structures]  # leaves, span: fixed in the program

    def program(a_: Array, t_: Array, arrays_T: tuple[Array, Array, Array],
                arrays_S: tuple[Array, Array, Array]) -> MatrixFreeTheorem1Terms:
        sT, sS = RowStructure(*arrays_T, *static[0]), RowStructure(*arrays_S, *static[1])
        return theorem1_terms_mf(problem, a_, t_, (sT, sS), opts, keep_arrays)

    compiled = compile_mf(problem, program, tuple(static), opts, keep_arrays)
    return lambda a_, t_: compiled(a_, t_, tuple(structures[0][:3]), tuple(structures[1][:3]))


def solve_widening(problem: Problem, structures: tuple[RowStructure, RowStructure], opts: SolverOptions,
                   solve_residual: float, condition: float) -> float:
    """``SOLVE_SAFETY · κ · ρ`` (module docstring): ``ρ`` the measured ``solve_residual``, at least
    ``opts.tol`` when GMRES ran (``∂yS`` of a symmetry is never solved)."""
    sT, sS = structures
    iterative = is_iterative(sT, opts) or (is_iterative(sS, opts) and not problem.is_symmetry)
    return SOLVE_SAFETY * condition * max(solve_residual, opts.tol if iterative else 0.0)

