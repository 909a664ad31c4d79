"""Matrix-free Theorems 1 and 2 (docs/design.md#evaluation-paths): JVPs, VJPs, HVPs and iterative solves only.

No ``n × n``, ``m × m`` or ``n × m`` matrix is formed: every quantity is a product of an operator
(``G``, ``Gᵀ``, ``H``, ``∂θT``, ``∂yS`` and their transposes, second derivatives of ``T``, ``S``
contracted with ``γ``, ``ζ``) with the ``k`` columns of ``v`` and ``w`` (Theorem 1) or with ``p``
probe directions (Theorem 2). The identity checks are the dense path's
(:func:`pyspec.theorem1.identity_checks`), with the same natural scales.

Cost of Theorem 1 (``k`` directions, :func:`theorem1_terms_mf`): one linearization of
``θ ↦ (f(θ), ∇L(θ))`` (a gradient's forward and backward pass) applied to the ``k + 1`` tangents
``v_j`` and ``u`` (the fixed unit probe of the Hessian scale), one pullback of ``f`` applied to
``3k + 1`` cotangents, and work on ``T`` and ``S`` alone (solves, their second derivatives), which
touches neither the model nor the data. Directions are processed one at a time; with
``keep_arrays=False`` each is reduced to norms and contractions on the device, so the check holds
``v`` (``k`` vectors of size ``n``) and a fixed number of ``n``-vectors, not the ``8k`` of item 2a's
arrays.

Solves (``v = ∂θT⁻¹ ∂aT``, ``γ = ∂θT⁻ᵀ∇L``, ``w = ∂yS⁻¹ ∂aS``, ``ζ = ∂yS⁻ᵀ g``) go through
``lax.custom_linear_solve``, so ``(∂θv)*∇L`` and ``(∂y w)*g`` are differentiated implicitly. Two
random probes find the rows of the Jacobian that are diagonal (:class:`RowStructure`): they are
divided, and only the remaining ("active") rows are solved for, by LU when their block is small
(``SolverOptions.direct_max``) and by GMRES (:func:`pyspec.linalg.solve`) otherwise, with products that touch
only the parameter leaves holding them. A homogeneity or rescaling (``∂θT`` diagonal) needs no
solve; a ``GL(r)`` action on one layer solves on the ``r`` rows it mixes.

Tolerance. An approximate solve with relative residual ``ρ`` has forward error at most ``κρ``
(``κ`` the condition number); ``v`` enters each identity at most quadratically, so the residual
moves by at most ``2κρ`` relative to the check's scale. The tolerance is therefore the dense one
plus ``SOLVE_SAFETY · κ · ρ``, with ``ρ`` the largest *measured* relative residual of the ``2k + 2`` solves
and, for GMRES, at least the requested ``tol`` (which bounds the unmeasured solves inside the
implicit derivatives of the (v, w) form).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec import linalg
from pyspec.backends.base import Array
from pyspec.backends.jax_backend import ahead_of_time, compile_options
from pyspec.cache import cached, program_key
from pyspec.characteristic import GoodPositionReport, default_max_condition, equivariance_report
from pyspec.checks import IdentityCheck, Norms, compare, tolerance
from pyspec.equivariance import Problem

__all__ = [
    "METHODS",
    "Method",
    "DENSE_MAX_N",
    "check_method",
    "select_method",
    "SolverOptions",
    "SOLVE_SAFETY",
    "DIAGONAL_ROW",
    "RowStructure",
    "row_structures",
    "probe_directions",
    "position_report_mf",
    "theorem1_terms_mf",
    "theorem1_checks_mf",
    "theorem1_program",
    "theorem1_report_mf",
    "theorem2_report_mf",
    "checked_position_mf",
    "last_layer_terms_mf",
    "homogeneity_terms_mf",
    "extreme_eigenvalue",
]

Method = Literal["auto", "dense", "matrix_free"]
"""The ``method=`` argument: ``"dense"`` forms Jacobians and Hessians, ``"matrix_free"`` uses JVPs, VJPs,
HVPs and structured or iterative solves only, ``"auto"`` picks by size (:func:`select_method`)."""

METHODS: tuple[Method, ...] = ("auto", "dense", "matrix_free")
"""Evaluation paths of :func:`pyspec.theorem1` and :func:`pyspec.theorem2`."""

DENSE_MAX_N = 1000
"""``method="auto"`` is dense up to this many parameters. The dense path forms several ``n × n``
matrices (``∂θT``, ``γ·T_θθ``, the Jacobian of ``θ' ↦ ∇Lᵀv(θ')``) by ``n`` forward tangents and
factorizes ``∂θT``: ``O(n²)`` memory and ``O(n³)`` time, against ``O(k)`` HVPs plus ``T``-only work for
the matrix-free path. At ``n ≈ 1000`` the dense check takes about 0.2 s and 160 MiB, at ``n ≈ 10⁴``
24 s and 10 GiB against 6 ms and 2 MiB matrix-free (``benchmarks/RESULTS.md``)."""

SOLVE_SAFETY = 4.0
"""Factor on ``κ ρ`` in the tolerance (module docstring: ``v`` enters at most quadratically)."""

DIAGONAL_ROW = 1e3 * np.finfo(np.float64).eps
"""Relative mismatch below which a row of ``∂θT`` (``∂yS``) is taken to be diagonal
(:func:`pyspec.linalg.diagonal_rows`). A coupling this weak that is missed shows in the measured
solve residual, which enters the tolerance."""


@dataclasses.dataclass(frozen=True)
class SolverOptions:
    """Iterative-solve and spectrum-estimate settings of the matrix-free path.

    Attributes
    ----------
    tol : float
        GMRES relative-residual target.
    restart, maxiter : int
        GMRES Krylov dimension per cycle (memory ``(restart + 1) · n``) and number of cycles.
    condition_iterations : int
        Lanczos steps on ``AᵀA`` for the condition-number estimate (a lower bound; exact when it
        reaches the dimension) and for ``‖J‖₂`` in Theorem 2.
    direct_max : int
        The active block ``C`` (``p × p``, :class:`RowStructure`) is formed by ``p`` products and
        LU-factorized when ``p`` times the size of the leaves holding it is at most this (32 MiB of
        products by default: ``∂yS`` of a last-layer action, any ``∂θT`` of a small model), an exact
        solve with no iteration; larger blocks use GMRES. ``0`` forces GMRES.
    """

    tol: float = 1e-13
    restart: int = 20
    maxiter: int = 50
    condition_iterations: int = 30
    direct_max: int = 2**22


def check_method(method: Method, precision: int | None) -> None:
    """Raise ``ValueError`` for an unknown method or a matrix-free request at high precision."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if method == "matrix_free" and precision is not None:
        raise ValueError(
            f"method='matrix_free' runs in JAX float64 only (iterative solves and HVPs have no mpmath "
            f"version); got precision={precision}: use method='dense' (or 'auto') for {precision} digits"
        )


def select_method(method: Method, n: int, precision: int | None) -> Method:
    """``"dense"`` or ``"matrix_free"``: ``method`` itself, or for ``"auto"`` dense when ``precision``
    is set or ``n ≤`` :data:`DENSE_MAX_N`."""
    check_method(method, precision)
    if method != "auto":
        return method
    return "dense" if precision is not None or n <= DENSE_MAX_N else "matrix_free"


def _compile(problem: Problem, fun: Callable[..., Any], *static: Any) -> Callable[..., Any]:
    """``fun`` compiled (always: even for a backend with ``jit=False``) with
    :func:`pyspec.backends.jax_backend.compile_options`, from the program cache
    (:func:`pyspec.cache.program_key`; ``static``: every value ``fun`` closes over besides ``problem``)."""
    return cached(program_key(problem.key, fun, *static), lambda: ahead_of_time(fun, compile_options()))


def _probe_key() -> jax.Array:
    return jax.random.PRNGKey(20251224)


def probe_directions(n: int, p: int, seed: int = 0) -> jax.Array:
    """``p`` random unit directions in ``ℝⁿ`` (``n × p``; standard Gaussian, normalized columns)."""
    Z = jax.random.normal(jax.random.PRNGKey(seed), (p, n), dtype=jnp.float64)
    return (Z / jnp.linalg.norm(Z, axis=1, keepdims=True)).T


# --- linear operators of T and S -------------------------------------------------------------------


def _operators(fun: Callable[[Array], Array], x: Array) -> tuple[Callable, Callable]:
    """``u ↦ ∂fu`` and ``u ↦ ∂fᵀu`` at ``x`` (one linearization, its transpose)."""
    _, jvp = jax.linearize(fun, x)
    vjp = jax.linear_transpose(jvp, x)
    return jvp, lambda u: vjp(u)[0]


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


def _segments(problem: Problem) -> tuple[tuple[int, int], ...]:
    return problem.theta_segments or ((0, problem.n),)


def row_structures(problem: Problem, a: Array, theta: Array) -> tuple[RowStructure, RowStructure]:
    """The :class:`RowStructure` of ``∂θT(a, θ)`` and of ``∂yS(a, f(θ))``."""

    def probes(a_: Array, t_: Array) -> tuple[Array, ...]:
        y = problem.f(t_)
        keys = jax.random.split(_probe_key(), 4)
        T_op = jax.linearize(lambda t: problem.T(a_, t), t_)[1]
        S_op = jax.linearize(lambda u: problem.S(a_, u), y)[1]
        return (
            *linalg.diagonal_rows(T_op, *(jax.random.normal(kk, t_.shape) for kk in keys[:2]), tol=DIAGONAL_ROW),
            *linalg.diagonal_rows(S_op, *(jax.random.normal(kk, y.shape) for kk in keys[2:]), tol=DIAGONAL_ROW),
        )

    cT, dT, cS, dS = (np.asarray(x) for x in _compile(problem, probes)(a, theta))
    return _structure(cT, dT, _segments(problem)), _structure(cS, dS, ((0, problem.m),))


def _is_diagonal(structure: RowStructure) -> bool:
    return structure.active.shape[0] == 0


def _direct(structure: RowStructure, opts: SolverOptions) -> bool:
    return structure.active.shape[0] * structure.span <= opts.direct_max


def _iterative(structure: RowStructure, opts: SolverOptions) -> bool:
    """Whether :func:`_solver` runs GMRES for this structure."""
    return not _is_diagonal(structure) and not _direct(structure, opts)


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

    mv, rmv = _operators(sub, jnp.concatenate([parts[i] for i in leaves]))

    def scatter(z: Array) -> Array:
        return jnp.zeros(sum(sizes), z.dtype).at[local].set(z, unique_indices=True)

    return (lambda z: mv(scatter(z))[local]), (lambda z: rmv(scatter(z))[local])


def _solvers_at(
    fun: Callable[[Array], Array], fun_leaves: Callable[[list[Array]], list[Array]],
    segments: tuple[tuple[int, int], ...], x: Array, structure: RowStructure, opts: SolverOptions,
) -> tuple[Callable, Callable, Callable, Callable]:
    """``A = ∂fun(x)``: its product, transposed product, and the two solvers of :func:`_solver`."""
    mv, rmv = _operators(fun, x)
    p, n = structure.active.shape[0], x.shape[0]
    active = _active_operators(fun_leaves, segments, x, structure) if 0 < p < n else None
    return (mv, rmv, *_solver(mv, rmv, structure, opts, active))


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
        return linalg.solve(op, b, tol=opts.tol, restart=opts.restart, maxiter=opts.maxiter).x

    C, Ct = (matvec, rmatvec) if p == n else active if p else (None, None)
    if p == 0:
        inner = inner_t = None
    elif _direct(structure, opts):  # the p × p block by p products, one LU for both directions
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


def _relative_residual(matvec: Callable, x: Array, b: Array) -> Array:
    """``‖A x − b‖ / ‖b‖`` (``0`` for ``b = 0``)."""
    nb = jnp.linalg.norm(b)
    return jnp.where(nb > 0, jnp.linalg.norm(matvec(x) - b) / jnp.where(nb > 0, nb, 1.0), 0.0)


# --- Theorem 1 --------------------------------------------------------------------------------------

ACTION_TERMS = ("green_K", "green_S", "blue", "plain")
"""Terms of item 2a in the (T, S) form (:func:`pyspec.theorem1.identity_checks`)."""
ACTION_VW_TERMS = ("output", "direction")
"""Terms of item 2a in the (v, w) form."""


def theorem1_terms_mf(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], opts: SolverOptions,
    keep_arrays: bool = True,
) -> dict[str, Array]:
    """Every contraction of Theorem 1, matrix-free, one direction at a time.

    The ``k`` columns of ``v`` and ``w`` are solved first (:func:`_solver`); then a loop over the
    directions ``e_j`` computes, for column ``j``, ``Gv_j, Hv_j`` (the linearization of
    ``θ ↦ (f, ∇L)``), ``Kw_j``, ``ζ·S_ya e_j``, ``(ζ·S_yy)w_j``, ``(∂_y w_j)*g`` (``m``-vectors),
    ``(γ·T_θθ)v_j``, ``γ·T_θa e_j``, ``(∂_θ v_j)*∇L`` (the gradient of ``θ' ↦ ∇L·v_j(θ')`` through the
    solve) and three pullbacks ``Gᵀ(Kw_j)``, ``Gᵀ(ζ·S_ya e_j − (ζ·S_yy)w_j)``, ``Gᵀ(Kw_j + (∂_y w_j)*g)``.

    Each column is reduced on the device to what the checks need: the squared norms of both sides of
    item 2a, of their terms and of their difference (``action_sq``, ``action_vw_sq``), and the
    contractions ``vᵀHv``, ``vᵀ(γ·T_θθ)v``, ``vᵀ(γ·T_θa)``, ``vᵀ(∂_θv)*∇L`` (``k × k``): besides ``v``,
    memory for one direction's terms. With ``keep_arrays`` the ``n × k`` quantities
    (:data:`pyspec.theorem1.CONTRACTION_KEYS`) and ``∇L`` are returned as well, for the report.
    Also returned: the ``m × k`` arrays, the Hessian-scale and ``‖G‖`` estimates (``norm_GtKGu``,
    ``norm_Hu_rest``, ``Hv_ratio``, ``Gv_ratio``, ``norm_Gu``) and
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

    def T_solvers(t: Array) -> tuple[Callable, ...]:
        T_leaves = problem.T_leaves or (lambda b, ls: [T(b, ls[0])])
        return _solvers_at(lambda s: T(a, s), lambda ls: T_leaves(a, ls), _segments(problem), t, sT, opts)

    def S_solvers(x: Array) -> tuple[Callable, ...]:
        return _solvers_at(lambda s: S(a, s), lambda ls: [S(a, ls[0])], ((0, problem.m),), x, sS, opts)

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
            return col, _relative_residual(op, col, b)

        return over_directions(one, E)

    V, res_v = solve_columns(Tmv, T_solve, T, theta)  # rows v_j
    W, res_w = solve_columns(Smv, S_solve, S, y)
    gamma = T_solve_t(grad)
    zeta = S_solve_t(g)
    solve_residual = jnp.max(jnp.concatenate([
        res_v, res_w, jnp.stack([_relative_residual(Trmv, gamma, grad), _relative_residual(Srmv, zeta, g)])
    ]))  # fmt: skip

    def K(x: Array) -> Array:
        return jax.jvp(grad_loss, (y,), (x,))[1]

    def gamma_T_grad(b: Array, t: Array) -> Array:
        return jax.grad(lambda s: jnp.vdot(gamma, T(b, s)))(t)

    def zeta_S_grad(b: Array, x: Array) -> Array:
        return jax.grad(lambda s: jnp.vdot(zeta, S(b, s)))(x)

    blue_op = jax.linearize(lambda t: gamma_T_grad(a, t), theta)[1]
    zeta_Syy_op = jax.linearize(lambda x: zeta_S_grad(a, x), y)[1]

    def column(v_j: Array, w_j: Array, e: Array) -> dict[str, Array]:
        Gv_j, Hv_j = lin(v_j)
        Kw_j = K(w_j)
        zeta_Sya_j = jax.jvp(lambda b: zeta_S_grad(b, y), (a,), (e,))[1]
        zeta_Syy_w_j = zeta_Syy_op(w_j)
        dw_j = jax.grad(lambda x: jnp.vdot(g, w_col(x, e)))(y)
        green_K, green_S, output = lax.map(lambda c: pull(c)[0], jnp.stack([Kw_j, zeta_Sya_j - zeta_Syy_w_j, Kw_j + dw_j]))
        big = {
            "Hv": Hv_j, "green_K": green_K, "green_S": green_S, "gamma_Ttt_v": blue_op(v_j),
            "gamma_Tta": jax.jvp(lambda b: gamma_T_grad(b, theta), (a,), (e,))[1], "output": output,
            "dv_star": jax.grad(lambda t: jnp.vdot(grad, v_col(t, e)))(theta),
        }  # fmt: skip
        small = {"Gv": Gv_j, "Kw": Kw_j, "zeta_Sya": zeta_Sya_j, "zeta_Syy_w": zeta_Syy_w_j, "dw_star": dw_j,
                 "norm_v_sq": jnp.vdot(v_j, v_j), "norm_Hv_sq": jnp.vdot(Hv_j, Hv_j)}
        return small | _column_summary(V, big) | (big if keep_arrays else {})

    cols = over_directions(column, V, W, E)  # stacked over j: (k, ...)
    u = _probe_vector(problem.n)
    Gu, Hu = lin(u)
    GtKGu = pull(K(Gu))[0]
    norm_v, norm_Hv = jnp.sqrt(cols["norm_v_sq"]), jnp.sqrt(cols["norm_Hv_sq"])

    def ratio(num: Array) -> Array:
        return jnp.max(jnp.where(norm_v > 0, num / jnp.where(norm_v > 0, norm_v, 1.0), 0.0))

    out = {key: cols[key].T for key in ("Gv", "Kw", "zeta_Sya", "zeta_Syy_w", "dw_star", "vHv", "v_blue", "v_plain", "v_dv")}
    out |= {"action_sq": jnp.sum(cols["action_sq"], axis=0), "action_vw_sq": jnp.sum(cols["action_vw_sq"], axis=0)}
    if keep_arrays:
        out |= {key: cols[key].T for key in BIG_KEYS} | {"v": V.T, "grad_L": grad}
    return out | {
        "w": W.T, "g": g, "grad_v": V @ grad, "norm_grad": jnp.linalg.norm(grad),
        "norm_v": jnp.linalg.norm(norm_v), "norm_Hv": jnp.linalg.norm(norm_Hv), "Hv_ratio": ratio(norm_Hv),
        "Gv_ratio": ratio(jnp.linalg.norm(cols["Gv"], axis=1)), "norm_Gu": jnp.linalg.norm(Gu),
        "norm_GtKGu": jnp.linalg.norm(GtKGu), "norm_Hu_rest": jnp.linalg.norm(Hu - GtKGu),
        "solve_residual": solve_residual,
    }  # fmt: skip


BIG_KEYS = ("Hv", "green_K", "green_S", "gamma_Ttt_v", "gamma_Tta", "output", "dv_star")
"""The ``n × k`` contractions :func:`theorem1_terms_mf` returns with ``keep_arrays``."""


def _column_summary(V: Array, big: dict[str, Array]) -> dict[str, Array]:
    """One column's item 2a reduced to squared norms (both forms) and its contractions with ``v``."""
    ts = {"green_K": big["green_K"], "green_S": big["green_S"], "blue": big["gamma_Ttt_v"], "plain": -big["gamma_Tta"]}
    vw = {"output": big["output"], "direction": -big["dv_star"]}
    out = {}
    for form, terms in (("action", ts), ("action_vw", vw)):
        rhs = sum(terms.values())  # the order of :func:`pyspec.checks.compare`
        sq = {"lhs": big["Hv"], "rhs": rhs, "difference": big["Hv"] - rhs} | terms
        out[f"{form}_sq"] = jnp.stack([jnp.vdot(x, x) for x in sq.values()])
    return out | {"vHv": V @ big["Hv"], "v_blue": V @ big["gamma_Ttt_v"], "v_plain": V @ big["gamma_Tta"],
                  "v_dv": V @ big["dv_star"]}


def _action_norms(sq: np.ndarray, terms: tuple[str, ...]) -> Norms:
    """:class:`pyspec.checks.Norms` from the summed squares of :func:`_column_summary`."""
    root = np.sqrt(np.asarray(sq, dtype=np.float64))
    return Norms(lhs=float(root[0]), rhs=float(root[1]), difference=float(root[2]),
                 terms={t: float(x) for t, x in zip(terms, root[3:])})


def _probe_vector(n: int) -> Array:
    """The dense path's unit probe (:func:`pyspec.theorem1._probe`), computed in the program (an
    ``n``-sized constant would be embedded in the executable)."""
    u = jnp.cos(jnp.arange(1, n + 1, dtype=jnp.float64) * 2.399963)
    return u / jnp.linalg.norm(u)


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
    skip_S = _is_diagonal(sS) or problem.is_symmetry

    def conds(a_: Array, t_: Array) -> tuple[Array, Array]:
        y = problem.f(t_)
        nan = jnp.asarray(jnp.nan)
        cond_T = nan if _is_diagonal(sT) else linalg.condition_estimate(
            *_operators(lambda t: problem.T(a_, t), t_), problem.n, num_iter=iters)
        cond_S = nan if skip_S else linalg.condition_estimate(
            *_operators(lambda u: problem.S(a_, u), y), problem.m, num_iter=iters)
        return cond_T, cond_S

    return _compile(problem, conds, _is_diagonal(sT), skip_S, iters)


def position_report_mf(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], opts: SolverOptions,
    max_condition: float | None = None,
) -> GoodPositionReport:
    """Good position (Definition 1) without forming ``∂θT`` or ``∂yS``: exact for diagonal Jacobians,
    else a Lanczos estimate (:func:`condition_program`)."""
    sT, sS = structures
    est_T, est_S = (float(x) for x in condition_program(problem, structures, opts)(a, theta))
    cond_T = _exact_condition(sT) if _is_diagonal(sT) else est_T
    cond_S = 1.0 if problem.is_symmetry else (_exact_condition(sS) if _is_diagonal(sS) else est_S)
    limit = default_max_condition(problem.backend) if max_condition is None else max_condition
    return GoodPositionReport(cond_T=cond_T, cond_S=cond_S, max_condition=limit)


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
    eq_residual = None
    if check_equivariance:
        report = equivariance_report(problem, a, theta, position.condition)
        report.require(problem.name)
        eq_residual = max(report.residuals)
    return structures, position, eq_residual


def theorem1_report_mf(
    problem: Problem,
    a: Array,
    theta: Array,
    check_equivariance: bool = True,
    max_condition: float | None = None,
    opts: SolverOptions = SolverOptions(),
    keep_arrays: bool = True,
) -> Any:
    """:func:`pyspec.theorem1` with ``method="matrix_free"`` for a bound (float64) problem."""
    from pyspec.theorem1 import Theorem1Report

    structures, position, eq_residual = checked_position_mf(problem, a, theta, check_equivariance, max_condition, opts)
    q = problem.backend.to_host(theorem1_program(problem, structures, opts, keep_arrays)(a, theta))
    c = theorem1_checks_mf(problem, q, position.condition, structures, opts)
    return Theorem1Report(
        key_identity=c["theorem1_key_identity"],
        first_order=c["theorem1_first_order"],
        hessian_action=c["theorem1_hessian_action"],
        hessian_action_vw=c["theorem1_hessian_action_vw"],
        hessian_quadratic=c["theorem1_hessian_quadratic"],
        hessian_quadratic_vw=c["theorem1_hessian_quadratic_vw"],
        position=position,
        equivariance_residual=eq_residual,
    )


def theorem1_checks_mf(
    problem: Problem, q: dict[str, Array], condition: float, structures: tuple[RowStructure, RowStructure],
    opts: SolverOptions,
) -> dict[str, IdentityCheck]:
    """The identity checks from :func:`theorem1_terms_mf`'s output (host side).

    Tolerance: the dense one plus ``SOLVE_SAFETY · κ · ρ`` (module docstring), ``ρ`` at least
    ``opts.tol`` when GMRES ran. ``‖G‖ ≈ max(√n ‖Gu‖, max_j ‖Gv_j‖/‖v_j‖)``, ``‖H‖`` as in
    :func:`pyspec.theorem1.hessian_scale`.
    """
    from pyspec.theorem1 import hessian_scale_from_norms, identity_checks

    B = problem.backend
    sT, sS = structures
    iterative = _iterative(sT, opts) or (_iterative(sS, opts) and not problem.is_symmetry)
    rho = max(float(q["solve_residual"]), opts.tol if iterative else 0.0)
    tol = tolerance(B, problem.n + problem.m + problem.k, condition) + SOLVE_SAFETY * condition * rho
    norm_G = max(problem.n**0.5 * float(q["norm_Gu"]), float(q["Gv_ratio"]))
    norm_H = hessian_scale_from_norms(problem.n, float(q["norm_GtKGu"]), float(q["norm_Hu_rest"]), float(q["Hv_ratio"]))
    if "action_sq" in q:
        q = q | {"action_norms": _action_norms(q["action_sq"], ACTION_TERMS),
                 "action_vw_norms": _action_norms(q["action_vw_sq"], ACTION_VW_TERMS)}
    return identity_checks(B, q, tol, norm_G, norm_H)


def theorem1_program(
    problem: Problem, structures: tuple[RowStructure, RowStructure], opts: SolverOptions, keep_arrays: bool = True
) -> Callable[[Array, Array], dict[str, Array]]:
    """The compiled ``(a, θ) ↦`` :func:`theorem1_terms_mf` for the structures found at ``(a, θ)``."""

    static = [structure[3:] for structure in structures]  # leaves, span: fixed in the program

    def program(a_: Array, t_: Array, arrays_T: tuple, arrays_S: tuple) -> dict[str, Array]:
        sT, sS = RowStructure(*arrays_T, *static[0]), RowStructure(*arrays_S, *static[1])
        return theorem1_terms_mf(problem, a_, t_, (sT, sS), opts, keep_arrays)

    compiled = _compile(problem, program, tuple(static), opts, keep_arrays)
    return lambda a_, t_: compiled(a_, t_, tuple(structures[0][:3]), tuple(structures[1][:3]))


# --- Section 5.3: last layer ------------------------------------------------------------------------


def last_layer_terms_mf(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], condition: float,
    opts: SolverOptions = SolverOptions(),
) -> dict[str, Any]:
    """What Corollary 3 needs, from the reduced matrix-free Theorem 1 program (:func:`theorem1_program`,
    ``keep_arrays=False``): ``vᵀHv``, ``w``, ``Kw``, ``y``, the magnitudes ``‖v‖``, ``‖H‖``
    (:func:`pyspec.theorem1.hessian_scale_from_norms`), ``‖K‖ ≈ max_b ‖Kw_b‖/‖w_b‖``, and the
    tolerance widening ``SOLVE_SAFETY · κ · ρ`` of :func:`theorem1_checks_mf`."""
    from pyspec.theorem1 import hessian_scale_from_norms

    B = problem.backend
    q = B.to_host(theorem1_program(problem, structures, opts, keep_arrays=False)(a, theta))
    w, Kw = np.asarray(q["w"]), np.asarray(q["Kw"])
    norms_w = np.linalg.norm(w, axis=0)
    norm_K = float(np.max(np.linalg.norm(Kw, axis=0)[norms_w > 0] / norms_w[norms_w > 0], initial=0.0))
    iterative = _iterative(structures[0], opts) or _iterative(structures[1], opts)
    rho = max(float(q["solve_residual"]), opts.tol if iterative else 0.0)
    return {
        "vHv": q["vHv"], "w": q["w"], "Kw": q["Kw"], "y": B.to_host(_compile(problem, problem.f)(theta)),
        "norm_v": float(q["norm_v"]), "norm_K": norm_K, "solve_widening": SOLVE_SAFETY * condition * rho,
        "norm_H": hessian_scale_from_norms(problem.n, float(q["norm_GtKGu"]), float(q["norm_Hu_rest"]),
                                           float(q["Hv_ratio"])),
    }  # fmt: skip


# --- Section 5.1: homogeneity ----------------------------------------------------------------------


def homogeneity_terms_mf(problem: Problem, theta: Array) -> dict[str, Array]:
    """The quantities of :func:`pyspec.homogeneity.homogeneous_problem`, matrix-free: ``y, g, ∇L``,
    ``Hθ`` (the linearization of ``θ ↦ (f, ∇L)`` along ``θ``), ``GᵀKy`` (one pullback), ``yᵀKy``,
    ``ℓ″`` for ``m = 1``, and ``‖G‖ ≈ max(√n ‖Gu‖, ‖Gθ‖/‖θ‖)``, ``‖H‖`` as
    :func:`pyspec.theorem1.hessian_scale_from_norms` (``u`` the fixed unit probe)."""
    from pyspec.theorem1 import hessian_scale_from_norms

    grad_loss = jax.grad(problem.loss)

    def terms(t: Array) -> dict[str, Array]:
        def f_and_grad(s: Array) -> tuple[Array, Array]:
            y_, pull_ = jax.vjp(problem.f, s)
            return y_, pull_(grad_loss(y_))[0]

        (y, grad), lin = jax.linearize(f_and_grad, t)
        pull = jax.vjp(problem.f, t)[1]
        g = grad_loss(y)

        def K(x: Array) -> Array:
            return jax.jvp(grad_loss, (y,), (x,))[1]

        Ky = K(y)
        u = _probe_vector(problem.n)
        (G_theta, H_theta), (Gu, Hu) = lin(t), lin(u)
        GtKGu = pull(K(Gu))[0]
        out = {"y": y, "g": g, "grad_L": grad, "H_theta": H_theta, "GtKy": pull(Ky)[0], "yKy": jnp.vdot(y, Ky),
               "norm_Gu": jnp.linalg.norm(Gu), "norm_G_theta": jnp.linalg.norm(G_theta),
               "norm_GtKGu": jnp.linalg.norm(GtKGu), "norm_Hu_rest": jnp.linalg.norm(Hu - GtKGu)}
        if problem.m == 1:
            out["K00"] = K(jnp.ones_like(y))[0]
        return out

    q = problem.backend.to_host(_compile(problem, terms)(theta))
    n, norm_theta = problem.n, float(np.linalg.norm(np.asarray(theta)))
    norm_H = hessian_scale_from_norms(n, float(q.pop("norm_GtKGu")), float(q.pop("norm_Hu_rest")),
                                      float(np.linalg.norm(q["H_theta"])) / norm_theta if norm_theta else 0.0)
    norm_G = max(n**0.5 * float(q.pop("norm_Gu")), float(q.pop("norm_G_theta")) / norm_theta if norm_theta else 0.0)
    return q | {"norm_G": norm_G, "norm_H": norm_H}


def extreme_eigenvalue(problem: Problem, theta: Array, extreme: str = "max", num_iter: int = 50) -> float:
    """``λ_max(H)`` (or ``λ_min`` for ``extreme="min"``) by Lanczos on Hessian-vector products started
    from ``θ/‖θ‖`` (:func:`pyspec.linalg.lanczos_max_eigenvalue`, on ``−H`` for the minimum).

    The largest Ritz value never decreases from its first, ``θᵀHθ/‖θ‖²``, and never exceeds
    ``λ_max``: a certified lower bound on ``λ_max`` that is at least the Rayleigh quotient of ``θ``.
    """
    sign = 1.0 if extreme == "max" else -1.0

    def top(t: Array) -> Array:
        hvp = jax.linearize(jax.grad(problem.L), t)[1]
        return linalg.lanczos_max_eigenvalue(lambda x: sign * hvp(x), problem.n, num_iter=num_iter, v0=t).eigenvalue

    return sign * float(_compile(problem, top, sign, num_iter)(theta))


# --- Theorem 2 --------------------------------------------------------------------------------------


def theorem2_terms_mf(problem: Problem, a: Array, theta: Array, Z: Array) -> dict[str, Array]:
    """``∇L``, ``Jᵀ∇L``, ``HZ``, ``JᵀHJZ``, ``(∇L·T_θθ)Z`` for probes ``Z`` (``n × p``), matrix-free."""
    grad, hvp = jax.linearize(jax.grad(problem.L), theta)
    J, Jt = _operators(lambda t: problem.T(a, t), theta)

    def cols(op: Callable, X: Array) -> Array:
        return jax.vmap(op, in_axes=1, out_axes=1)(X)

    blue_op = jax.linearize(jax.grad(lambda t: jnp.vdot(grad, problem.T(a, t))), theta)[1]
    return {
        "grad_L": grad,
        "Jt_grad": Jt(grad),
        "HZ": cols(hvp, Z),
        "JtHJZ": cols(Jt, cols(hvp, cols(J, Z))),
        "blue": cols(blue_op, Z),
    }


def theorem2_report_mf(
    problem: Problem,
    a: Array,
    theta: Array,
    check_hypotheses: bool = True,
    probes: int = 8,
    seed: int = 0,
    opts: SolverOptions = SolverOptions(),
) -> Any:
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
    from pyspec.errors import NotFixedPointError
    from pyspec.theorem2 import FIXED_POINT_CANCELLATION, Theorem2Report, fixed_point_residual

    B = problem.backend
    n = problem.n

    def norm_J(a_: Array, t_: Array) -> Array:
        J, Jt = _operators(lambda t: problem.T(a_, t), t_)
        lo, hi = linalg.lanczos_extremes(lambda x: Jt(J(x)), n, num_iter=opts.condition_iterations)
        return jnp.sqrt(jnp.maximum(hi, 0.0))

    scale_J = max(float(_compile(problem, norm_J, opts.condition_iterations)(a, theta)), 1.0)
    fp = fixed_point_residual(problem, a, theta)
    eq_residual = None
    if check_hypotheses:
        fp_tol = FIXED_POINT_CANCELLATION * tolerance(B, n, scale_J)
        if fp > fp_tol:
            raise NotFixedPointError(
                f"{problem.name}: theta is not a fixed point of T(a, .): "
                f"|T(a, theta) - theta| / |theta| = {fp:.3e} > {fp_tol:.1e}"
            )
        report = equivariance_report(problem, a, theta, scale_J, vary_a=False)
        report.require(problem.name)
        eq_residual = max(report.residuals)
    Z = probe_directions(n, probes, seed)
    q = B.to_host(_compile(problem, lambda a_, t_, z_: theorem2_terms_mf(problem, a_, t_, z_))(a, theta, Z))
    tol = tolerance(B, n + problem.m, scale_J**2)
    norm_grad = B.to_float(B.norm(q["grad_L"]))
    gradient = compare(B, "theorem2_gradient", q["Jt_grad"], {"grad_L": q["grad_L"]}, tol, scale_J * norm_grad)
    hessian = compare(
        B, "theorem2_hessian", q["HZ"], {"conjugated": q["JtHJZ"], "blue": q["blue"]}, tol,
        scale_J**2 * B.to_float(B.norm(q["HZ"])),
    )
    return Theorem2Report(gradient=gradient, hessian=hessian, fixed_point_residual=fp, equivariance_residual=eq_residual)
