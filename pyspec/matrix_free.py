"""Matrix-free Theorems 1 and 2 (DESIGN.md §4): JVPs, VJPs, HVPs and iterative solves only.

No ``n × n``, ``m × m`` or ``n × m`` matrix is formed: every quantity is a product of an operator
(``G``, ``Gᵀ``, ``H``, ``∂θT``, ``∂yS`` and their transposes, second derivatives of ``T``, ``S``
contracted with ``γ``, ``ζ``) with the ``k`` columns of ``v`` and ``w`` (Theorem 1) or with ``p``
probe directions (Theorem 2). The identity checks are the dense path's
(:func:`pyspec.theorem1.identity_checks`), with the same natural scales.

Cost of Theorem 1 (``k`` directions): one linearization of ``θ ↦ (f(θ), ∇L(θ))`` (a gradient's
forward and backward pass) whose linear map is applied to the ``k + 1`` tangents ``[v | u]`` (``u``
the fixed unit probe of the Hessian scale), one pullback of ``f`` applied to ``3k + 1`` cotangents,
and operations on ``T`` and ``S`` alone (solves, their second derivatives), which touch neither the
model nor the data.

Solves (``v = ∂θT⁻¹ ∂aT``, ``γ = ∂θT⁻ᵀ∇L``, ``w = ∂yS⁻¹ ∂aS``, ``ζ = ∂yS⁻ᵀ g``) go through
``lax.custom_linear_solve``, so ``(∂θv)*∇L`` and ``(∂y w)*g`` are differentiated implicitly.
When ``∂θT = cI`` (e.g. ``T = aθ``; detected by a random probe, :func:`pyspec.linalg.scalar_operator`)
the solve is a division; otherwise it is GMRES (:func:`pyspec.linalg.solve`).

Tolerance. An approximate solve with relative residual ``ρ`` has forward error at most ``κρ``
(``κ`` the condition number); ``v`` enters each identity at most quadratically, so the residual
moves by at most ``2κρ`` relative to the check's scale. The tolerance is therefore the dense one
plus ``SOLVE_SAFETY · κ · ρ``, with ``ρ`` the largest *measured* relative residual of the four solves
and, for GMRES, at least the requested ``tol`` (which bounds the unmeasured solves inside the
implicit derivatives of the (v, w) form).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec import linalg
from pyspec.backends.base import Array
from pyspec.characteristic import GoodPositionReport, default_max_condition, equivariance_report
from pyspec.checks import IdentityCheck, compare, tolerance
from pyspec.equivariance import Problem

__all__ = [
    "METHODS",
    "DENSE_MAX_N",
    "check_method",
    "select_method",
    "SolverOptions",
    "SOLVE_SAFETY",
    "SCALAR_OPERATOR",
    "probe_directions",
    "position_report_mf",
    "theorem1_terms_mf",
    "theorem1_report_mf",
    "theorem2_report_mf",
]

METHODS = ("auto", "dense", "matrix_free")
"""Evaluation paths of :func:`pyspec.theorem1` and :func:`pyspec.theorem2`."""

DENSE_MAX_N = 1000
"""``method="auto"`` is dense up to this many parameters. The dense path forms several ``n × n``
matrices (``∂θT``, ``γ·T_θθ``, the Jacobian of ``θ' ↦ ∇Lᵀv(θ')``) by ``n`` forward tangents and
factorizes ``∂θT``: ``O(n²)`` memory and ``O(n³)`` time, against ``O(k)`` HVPs plus ``T``-only work for
the matrix-free path. At ``n = 1000`` the dense path still takes about a second and tens of MB (see
``benchmarks/RESULTS.md``); beyond, its cost grows cubically while the matrix-free one grows linearly."""

SOLVE_SAFETY = 4.0
"""Factor on ``κ ρ`` in the tolerance (module docstring: ``v`` enters at most quadratically)."""

SCALAR_OPERATOR = 1e3 * np.finfo(np.float64).eps
"""``∂θT`` (``∂yS``) is taken to be ``cI`` when ``‖Au − cu‖ / ‖Au‖`` is below this for a random ``u``."""


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
    """

    tol: float = 1e-13
    restart: int = 20
    maxiter: int = 50
    condition_iterations: int = 30


def check_method(method: str, precision: int | None) -> None:
    """Raise ``ValueError`` for an unknown method or a matrix-free request at high precision."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if method == "matrix_free" and precision is not None:
        raise ValueError(
            f"method='matrix_free' runs in JAX float64 only (iterative solves and HVPs have no mpmath "
            f"version); got precision={precision}: use method='dense' (or 'auto') for {precision} digits"
        )


def select_method(method: str, n: int, precision: int | None) -> str:
    """``"dense"`` or ``"matrix_free"``: ``method`` itself, or for ``"auto"`` dense when ``precision``
    is set or ``n ≤`` :data:`DENSE_MAX_N`."""
    check_method(method, precision)
    if method != "auto":
        return method
    return "dense" if precision is not None or n <= DENSE_MAX_N else "matrix_free"


FAST_COMPILE_MAX_N = 100_000
"""Up to this ``n`` the programs are compiled with the backend's fast-compile options (compile time
dominates there, see :mod:`pyspec.backends.jax_backend`); above it with XLA's full optimization."""


def _compile(problem: Problem, fun: Callable[..., Any]) -> Callable[..., Any]:
    return problem.backend.compile(fun) if problem.n <= FAST_COMPILE_MAX_N else jax.jit(fun)


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


def _scalar_tests(problem: Problem, a: Array, theta: Array) -> tuple[float | None, float | None]:
    """``c`` when ``∂θT = cI`` (resp. ``∂yS = cI``), else ``None`` (random-probe test)."""

    def tests(a_: Array, t_: Array) -> tuple[Array, ...]:
        y = problem.f(t_)
        kt, ks = jax.random.split(_probe_key())
        T_op = jax.linearize(lambda t: problem.T(a_, t), t_)[1]
        S_op = jax.linearize(lambda u: problem.S(a_, u), y)[1]
        return (*linalg.scalar_operator(T_op, jax.random.normal(kt, t_.shape)),
                *linalg.scalar_operator(S_op, jax.random.normal(ks, y.shape)))

    cT, rT, cS, rS = (float(x) for x in _compile(problem, tests)(a, theta))
    return (cT if rT <= SCALAR_OPERATOR and cT != 0.0 else None), (cS if rS <= SCALAR_OPERATOR and cS != 0.0 else None)


def _solver(matvec: Callable, rmatvec: Callable, scalar: Array | None, opts: SolverOptions) -> tuple[Callable, Callable]:
    """Solvers ``b ↦ A⁻¹b`` and ``b ↦ A⁻ᵀb`` (custom linear solves: implicitly differentiable)."""
    if scalar is not None:

        def divide(_: Callable, b: Array) -> Array:
            return b / scalar

        def forward(b: Array) -> Array:
            return lax.custom_linear_solve(matvec, b, divide, divide)

        def transposed(b: Array) -> Array:
            return lax.custom_linear_solve(rmatvec, b, divide, divide)

        return forward, transposed
    kwargs = dict(tol=opts.tol, restart=opts.restart, maxiter=opts.maxiter)
    return (lambda b: linalg.solve(matvec, b, **kwargs).x), (lambda b: linalg.solve(rmatvec, b, **kwargs).x)


def _columns(solve: Callable, B: Array) -> Array:
    """Solve for each column of ``B``, one after another (memory of one solve)."""
    return lax.map(solve, B.T).T


def _relative_residual(matvec: Callable, X: Array, B: Array) -> Array:
    """``max_b ‖A x_b − b_b‖ / ‖b_b‖`` over the columns."""
    R = jax.vmap(matvec, in_axes=1, out_axes=1)(X) - B
    nb = jnp.linalg.norm(B, axis=0)
    return jnp.max(jnp.where(nb > 0, jnp.linalg.norm(R, axis=0) / jnp.where(nb > 0, nb, 1.0), 0.0), initial=0.0)


# --- Theorem 1 --------------------------------------------------------------------------------------


def theorem1_terms_mf(
    problem: Problem, a: Array, theta: Array, cT: Array | None, cS: Array | None, opts: SolverOptions
) -> dict[str, Array]:
    """Every contraction of Theorem 1 (:data:`pyspec.theorem1.CONTRACTION_KEYS`), matrix-free.

    Also returns ``Hu``, ``GtKGu`` (the Hessian-scale probe), ``Gu`` and ``solve_residual`` (largest
    relative residual of the four solves). ``cT``/``cS``: the scalar of ``∂θT = cI``/``∂yS = cI``, or
    ``None`` for GMRES. Traceable: call it under :func:`jax.jit`.
    """
    f, T, S, loss = problem.f, problem.T, problem.S, problem.loss
    grad_loss = jax.grad(loss)

    def f_and_grad(t: Array) -> tuple[Array, Array]:
        y_, pull_ = jax.vjp(f, t)
        return y_, pull_(grad_loss(y_))[0]

    (y, grad), lin = jax.linearize(f_and_grad, theta)
    _, pull = jax.vjp(f, theta)
    g = grad_loss(y)

    def T_of(t: Array) -> tuple[Callable, Callable, Array]:
        mv, rmv = _operators(lambda s: T(a, s), t)
        return mv, rmv, jax.jacfwd(lambda b: T(b, t))(a)

    def S_of(u: Array) -> tuple[Callable, Callable, Array]:
        mv, rmv = _operators(lambda s: S(a, s), u)
        return mv, rmv, jax.jacfwd(lambda b: S(b, u))(a)

    def v_of(t: Array) -> Array:
        mv, rmv, T_a = T_of(t)
        return _columns(_solver(mv, rmv, cT, opts)[0], T_a)

    def w_of(u: Array) -> Array:
        mv, rmv, S_a = S_of(u)
        return _columns(_solver(mv, rmv, cS, opts)[0], S_a)

    Tmv, Trmv, T_a = T_of(theta)
    Smv, Srmv, S_a = S_of(y)
    T_solve, T_solve_t = _solver(Tmv, Trmv, cT, opts)
    S_solve, S_solve_t = _solver(Smv, Srmv, cS, opts)
    v = _columns(T_solve, T_a)
    w = _columns(S_solve, S_a)
    gamma = T_solve_t(grad)
    zeta = S_solve_t(g)
    solve_residual = jnp.max(jnp.stack([
        _relative_residual(Tmv, v, T_a),
        _relative_residual(Smv, w, S_a),
        _relative_residual(Trmv, gamma[:, None], grad[:, None]),
        _relative_residual(Srmv, zeta[:, None], g[:, None]),
    ]))

    # (G, H) along [v | u]: one linearization, k + 1 tangents
    u = jnp.asarray(_probe_vector(problem.n))
    Gx, Hx = jax.vmap(lin, in_axes=1, out_axes=1)(jnp.concatenate([v, u[:, None]], axis=1))
    k = v.shape[1]
    Gv, Hv, Gu, Hu = Gx[:, :k], Hx[:, :k], Gx[:, k], Hx[:, k]

    def K(x: Array) -> Array:
        return jax.jvp(grad_loss, (y,), (x,))[1]

    Kw = jax.vmap(K, in_axes=1, out_axes=1)(w)

    # second derivatives of T and S contracted with γ and ζ (no model evaluation)
    def gamma_T_grad(b: Array, t: Array) -> Array:
        return jax.grad(lambda s: jnp.vdot(gamma, T(b, s)))(t)

    def zeta_S_grad(b: Array, x: Array) -> Array:
        return jax.grad(lambda s: jnp.vdot(zeta, S(b, s)))(x)

    def along(fun: Callable[[Array], Array], x: Array, V: Array) -> Array:
        _, lin_ = jax.linearize(fun, x)
        return jax.vmap(lin_, in_axes=1, out_axes=1)(V)

    gamma_Ttt_v = along(lambda t: gamma_T_grad(a, t), theta, v)
    gamma_Tta = jax.jacfwd(lambda b: gamma_T_grad(b, theta))(a)
    zeta_Syy_w = along(lambda x: zeta_S_grad(a, x), y, w)
    zeta_Sya = jax.jacfwd(lambda b: zeta_S_grad(b, y))(a)
    # (v, w) form: differentiate ∇Lᵀv(a, θ') and gᵀw(a, y') through the solves (reverse mode, k rows)
    dv_star = _jacobian_rows(lambda t: grad @ v_of(t), theta, k).T
    dw_star = _jacobian_rows(lambda x: g @ w_of(x), y, k).T

    # Gᵀ on 3k + 1 cotangents: one pullback
    cot = jnp.concatenate([Kw, zeta_Sya - zeta_Syy_w, Kw + dw_star, K(Gu)[:, None]], axis=1)
    Gt = jax.vmap(lambda c: pull(c)[0], in_axes=1, out_axes=1)(cot)
    return {
        "v": v, "w": w, "g": g, "grad_L": grad, "Gv": Gv, "Kw": Kw, "Hv": Hv,
        "green_K": Gt[:, :k], "green_S": Gt[:, k : 2 * k], "output": Gt[:, 2 * k : 3 * k],
        "gamma_Ttt_v": gamma_Ttt_v, "gamma_Tta": gamma_Tta, "dv_star": dv_star,
        "zeta_Sya": zeta_Sya, "zeta_Syy_w": zeta_Syy_w, "dw_star": dw_star,
        "Gu": Gu, "Hu": Hu, "GtKGu": Gt[:, 3 * k], "solve_residual": solve_residual,
    }  # fmt: skip


def _jacobian_rows(fun: Callable[[Array], Array], x: Array, k: int) -> Array:
    """Jacobian (``k × n``) of ``fun: ℝⁿ → ℝᵏ`` by ``k`` sequential VJPs (memory of one)."""
    _, pull = jax.vjp(fun, x)
    return lax.map(lambda e: pull(e)[0], jnp.eye(k, dtype=x.dtype))


def _probe_vector(n: int) -> np.ndarray:
    """The dense path's unit probe (:func:`pyspec.theorem1._probe`), as NumPy."""
    u = np.cos(np.arange(1, n + 1) * 2.399963)
    return u / np.linalg.norm(u)


def condition_program(
    problem: Problem, scalars: tuple[float | None, float | None], opts: SolverOptions
) -> Callable[[Array, Array], tuple[Array, Array]]:
    """Compiled ``(a, θ) ↦ (cond ∂θT, cond ∂yS)``: 1 for ``cI`` or a symmetry's ``S``, else the
    Lanczos estimate on ``AᵀA`` (:func:`pyspec.linalg.condition_estimate`, a lower bound)."""
    cT, cS = scalars
    iters = opts.condition_iterations

    def conds(a_: Array, t_: Array) -> tuple[Array, Array]:
        y = problem.f(t_)
        one = jnp.asarray(1.0)
        cond_T = one if cT is not None else linalg.condition_estimate(
            *_operators(lambda t: problem.T(a_, t), t_), problem.n, num_iter=iters)
        cond_S = one if (cS is not None or problem.is_symmetry) else linalg.condition_estimate(
            *_operators(lambda u: problem.S(a_, u), y), problem.m, num_iter=iters)
        return cond_T, cond_S

    return _compile(problem, conds)


def position_report_mf(
    problem: Problem, a: Array, theta: Array, scalars: tuple[float | None, float | None], opts: SolverOptions,
    max_condition: float | None = None,
) -> GoodPositionReport:
    """Good position (Definition 1) without forming ``∂θT`` or ``∂yS`` (:func:`condition_program`)."""
    cond_T, cond_S = (float(x) for x in condition_program(problem, scalars, opts)(a, theta))
    limit = default_max_condition(problem.backend) if max_condition is None else max_condition
    return GoodPositionReport(cond_T=cond_T, cond_S=cond_S, max_condition=limit)


def theorem1_report_mf(
    problem: Problem,
    a: Array,
    theta: Array,
    check_equivariance: bool = True,
    max_condition: float | None = None,
    opts: SolverOptions = SolverOptions(),
) -> Any:
    """:func:`pyspec.theorem1` with ``method="matrix_free"`` for a bound (float64) problem."""
    from pyspec.theorem1 import Theorem1Report, hessian_scale, identity_checks

    B = problem.backend
    scalars = _scalar_tests(problem, a, theta)
    position = position_report_mf(problem, a, theta, scalars, opts, max_condition)
    position.require()
    eq_residual = None
    if check_equivariance:
        report = equivariance_report(problem, a, theta, position.condition)
        report.require(problem.name)
        eq_residual = max(report.residuals)
    q = theorem1_program(problem, scalars, opts)(a, theta)
    q = B.to_host(q)
    condition = position.condition
    iterative = scalars[0] is None or (scalars[1] is None and not problem.is_symmetry)
    rho = max(float(q["solve_residual"]), opts.tol if iterative else 0.0)
    tol = tolerance(B, problem.n + problem.m + problem.k, condition) + SOLVE_SAFETY * condition * rho
    norm_G = max(problem.n**0.5 * B.to_float(B.norm(q["Gu"])), _column_ratio(B, q["Gv"], q["v"]))
    norm_H = hessian_scale(B, problem.n, q["GtKGu"], q["Hu"], q["Hv"], q["v"])
    c = identity_checks(B, q, tol, norm_G, norm_H)
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


def theorem1_program(
    problem: Problem, scalars: tuple[float | None, float | None], opts: SolverOptions
) -> Callable[[Array, Array], dict[str, Array]]:
    """The compiled ``(a, θ) ↦`` :func:`theorem1_terms_mf` for the scalar tests' outcome."""
    cT, cS = scalars
    return _compile(problem, lambda a_, t_: theorem1_terms_mf(problem, a_, t_, cT, cS, opts))


def _column_ratio(B: Any, AX: Array, X: Array) -> float:
    """``max_b ‖A x_b‖ / ‖x_b‖``: a lower bound on ``‖A‖₂``."""
    best = 0.0
    for b in range(X.shape[1]):
        nx = B.to_float(B.norm(X[:, b]))
        if nx > 0.0:
            best = max(best, B.to_float(B.norm(AX[:, b])) / nx)
    return best


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

    scale_J = max(float(_compile(problem, norm_J)(a, theta)), 1.0)
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
