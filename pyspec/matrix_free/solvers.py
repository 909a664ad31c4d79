"""Row structures of ``∂θT`` and ``∂yS`` and the solves ``A⁻¹b``, ``A⁻ᵀb`` built on them (docs/design.md#evaluation-paths).

Two random probes find the rows of the Jacobian that are diagonal (:class:`RowStructure`): they are
divided, and only the remaining ("active") rows are solved for, by LU when their block is small
(``SolverOptions.direct_max``) and by GMRES (:func:`pyspec.linalg.solve`) otherwise, with products that
touch only the parameter leaves holding them. Solves go through ``lax.custom_linear_solve``, so they are
differentiated implicitly.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec import linalg
from pyspec.backends.base import Array
from pyspec.equivariance import Problem
from pyspec.matrix_free.operators import compile_mf, operators, probe_key
from pyspec.matrix_free.options import DIAGONAL_ROW, SolverOptions

__all__ = ["RowStructure", "row_structures", "segments_of", "is_diagonal", "is_direct", "is_iterative", "solvers_at",
           "T_solvers_at", "S_solvers_at"]


class RowStructure(NamedTuple):
    """Which rows of a square Jacobian ``A`` (``∂θT`` or ``∂yS``) are diagonal, ``A_i = c_i e_iᵀ``.

    Found at the point of the check by :func:`row_structures` (two random probes,
    :func:`pyspec.linalg.diagonal_rows`). A symmetry's ``∂yS = I``, a homogeneity's ``∂θT = aI`` and
    a rescaling's ``∂θT = diag(c)`` are diagonal; a ``GL(r)`` action on ``r`` rows of one layer leaves
    every other row diagonal.

    Attributes
    ----------
    inv_diag : (n,) array
        ``1/c_i`` on the diagonal rows, ``0`` on the others.
    active : (p,) int array
        The other rows ("active"): the solve's only iterative part (:func:`_solver`).
    local : (p,) int array
        Their positions in the concatenation of the leaves that hold them.
    leaves : tuple of int
        Those leaves (of the parameter pytree for ``∂θT``; ``(0,)`` for ``∂yS``), static.
    span : int
        Their total size (the cost of one product with the active block), static.
    """

    inv_diag: jax.Array
    active: jax.Array
    local: jax.Array
    leaves: tuple[int, ...]
    span: int


def _structure(c: np.ndarray, diagonal: np.ndarray, segments: tuple[tuple[int, int], ...]) -> RowStructure:
    inv = np.where(diagonal, 1.0 / np.where(diagonal, c, 1.0), 0.0)
    active = np.flatnonzero(~diagonal)
    starts = np.array([o for o, _ in segments])
    owner = np.searchsorted(starts, active, side="right") - 1
    leaves = tuple(int(i) for i in np.unique(owner))
    before = {leaf: sum(segments[j][1] for j in leaves if j < leaf) for leaf in leaves}
    local = np.array([before[leaf] + i - segments[leaf][0] for i, leaf in zip(active, owner)], dtype=int)
    span = sum(segments[leaf][1] for leaf in leaves)
    return RowStructure(jnp.asarray(inv), jnp.asarray(active), jnp.asarray(local), leaves, span)


def segments_of(problem: Problem) -> tuple[tuple[int, int], ...]:
    return problem.theta_segments or ((0, problem.n),)


def row_structures(problem: Problem, a: Array, theta: Array) -> tuple[RowStructure, RowStructure]:
    """The :class:`RowStructure` of ``∂θT(a, θ)`` and of ``∂yS(a, f(θ))``."""

    def probes(a_: Array, t_: Array) -> tuple[Array, ...]:
        y = problem.f(t_)
        keys = jax.random.split(probe_key(), 4)
        T_op = jax.linearize(lambda t: problem.T(a_, t), t_)[1]
        S_op = jax.linearize(lambda u: problem.S(a_, u), y)[1]
        return (
            *linalg.diagonal_rows(T_op, *(jax.random.normal(kk, t_.shape) for kk in keys[:2]), tol=DIAGONAL_ROW),
            *linalg.diagonal_rows(S_op, *(jax.random.normal(kk, y.shape) for kk in keys[2:]), tol=DIAGONAL_ROW),
        )

    cT, dT, cS, dS = (np.asarray(x) for x in compile_mf(problem, probes)(a, theta))
    return _structure(cT, dT, segments_of(problem)), _structure(cS, dS, ((0, problem.m),))


def is_diagonal(structure: RowStructure) -> bool:
    """Whether every row is diagonal (no solve at all)."""
    return structure.active.shape[0] == 0


def is_direct(structure: RowStructure, opts: SolverOptions) -> bool:
    """Whether the active block is small enough for LU (``SolverOptions.direct_max``)."""
    return structure.active.shape[0] * structure.span <= opts.direct_max


def is_iterative(structure: RowStructure, opts: SolverOptions) -> bool:
    """Whether :func:`_solver` runs GMRES for this structure."""
    return not is_diagonal(structure) and not is_direct(structure, opts)


def _active_operators(
    fun_leaves: Callable[[list[Array]], list[Array]], segments: tuple[tuple[int, int], ...], x: Array,
    structure: RowStructure,
) -> tuple[Callable, Callable]:
    """``z ↦ (A z)_active`` and ``z ↦ (Aᵀz)_active`` for ``z`` on the active rows, ``A = ∂fun(x)``.

    ``fun`` is linearized as a function of the leaves holding active rows only (the other leaves are
    constants), so one product costs the size of those leaves, not ``n``.
    """
    parts = [x[o : o + size] for o, size in segments]
    leaves, local = structure.leaves, structure.local
    sizes = [segments[i][1] for i in leaves]

    def sub(z: Array) -> Array:
        ls, offset = list(parts), 0
        for leaf, size in zip(leaves, sizes):
            ls[leaf], offset = z[offset : offset + size], offset + size
        out = fun_leaves(ls)
        return jnp.concatenate([out[i] for i in leaves])

    mv, rmv = operators(sub, jnp.concatenate([parts[i] for i in leaves]))

    def scatter(z: Array) -> Array:
        return jnp.zeros(sum(sizes), z.dtype).at[local].set(z, unique_indices=True)

    return (lambda z: mv(scatter(z))[local]), (lambda z: rmv(scatter(z))[local])


def solvers_at(
    fun: Callable[[Array], Array], fun_leaves: Callable[[list[Array]], list[Array]],
    segments: tuple[tuple[int, int], ...], x: Array, structure: RowStructure, opts: SolverOptions,
) -> tuple[Callable, Callable, Callable, Callable]:
    """``A = ∂fun(x)``: its product, transposed product, and the two solvers of :func:`_solver`."""
    mv, rmv = operators(fun, x)
    p, n = structure.active.shape[0], x.shape[0]
    active = _active_operators(fun_leaves, segments, x, structure) if 0 < p < n else None
    return (mv, rmv, *_solver(mv, rmv, structure, opts, active))


def T_solvers_at(problem: Problem, a: Array, structure: RowStructure, opts: SolverOptions) -> Callable[[Array], tuple]:
    """``t ↦`` :func:`solvers_at` for ``∂θT(a, t)``, with products on the leaves holding active rows."""
    T_leaves = problem.T_leaves or (lambda b, ls: [problem.T(b, ls[0])])
    return lambda t: solvers_at(lambda s: problem.T(a, s), lambda ls: T_leaves(a, ls), segments_of(problem), t,
                                structure, opts)


def S_solvers_at(problem: Problem, a: Array, structure: RowStructure, opts: SolverOptions) -> Callable[[Array], tuple]:
    """``y ↦`` :func:`solvers_at` for ``∂yS(a, y)``."""
    return lambda x: solvers_at(lambda s: problem.S(a, s), lambda ls: [problem.S(a, ls[0])], ((0, problem.m),), x,
                                structure, opts)


def _solver(
    matvec: Callable, rmatvec: Callable, structure: RowStructure, opts: SolverOptions,
    active: tuple[Callable, Callable] | None,
) -> tuple[Callable, Callable]:
    """Solvers ``b ↦ A⁻¹b`` and ``b ↦ A⁻ᵀb`` (custom linear solves: implicitly differentiable).

    With ``D`` the diagonal rows and ``a`` the active ones (:class:`RowStructure`), ``A`` is
    ``[[D, 0], [Y, C]]`` up to a permutation, so ``x_D = b_D / c``, ``C x_a = b_a − (A x_D)_a`` and, for
    ``Aᵀ``, ``Cᵀ y_a = b_a``, ``y_D = (b_D − (Aᵀy_a)_D) / c``, with the products ``active``
    (:func:`_active_operators`). The active block is solved by LU when it is small
    (``SolverOptions.direct_max``), else by GMRES; nothing is solved when ``p = 0``.
    """
    d, idx = structure.inv_diag, structure.active
    n, p = d.shape[0], idx.shape[0]

    def gmres(op: Callable, b: Array) -> Array:
        if opts.fixed_cycles:
            return linalg.solve_fixed(op, b, iterations=opts.restart, cycles=opts.fixed_cycles).x
        return linalg.solve(op, b, tol=opts.tol, restart=opts.restart, maxiter=opts.maxiter).x

    if 0 < p < n and active is None:  # unreachable: solvers_at passes the products on the active rows then
        raise AssertionError("_solver: 0 < p < n needs the active products")
    C, Ct = (matvec, rmatvec) if p == n or active is None else active  # unused when p = 0
    if p == 0:
        inner = inner_t = None
    elif is_direct(structure, opts):  # the p × p block by p products, one LU for both directions
        lu = jax.scipy.linalg.lu_factor(jax.vmap(C, out_axes=1)(jnp.eye(p, dtype=d.dtype)))

        def inner(r: Array) -> Array:
            return jax.scipy.linalg.lu_solve(lu, r)

        def inner_t(r: Array) -> Array:
            return jax.scipy.linalg.lu_solve(lu, r, trans=1)

    else:
        inner, inner_t = (lambda r: gmres(C, r)), (lambda r: gmres(Ct, r))

    if p == 0:
        forward = transposed = lambda b: d * b  # noqa: E731
    elif p == n:
        forward, transposed = inner, inner_t
    else:

        def scatter(z: Array) -> Array:
            return jnp.zeros(n, z.dtype).at[idx].set(z, unique_indices=True)

        def forward(b: Array) -> Array:
            x = d * b
            return x + scatter(inner((b - matvec(x))[idx]))

        def transposed(b: Array) -> Array:
            y = scatter(inner_t(b[idx]))
            return y + d * (b - rmatvec(y))

    def solve(b: Array) -> Array:
        return lax.custom_linear_solve(matvec, b, lambda _, r: forward(r), lambda _, r: transposed(r))

    def solve_t(b: Array) -> Array:
        return lax.custom_linear_solve(rmatvec, b, lambda _, r: transposed(r), lambda _, r: forward(r))

    return solve, solve_t

