"""Sketched Theorem 1 (Freivalds-style): every identity's residual from ``p`` random probes, at a cost
independent of the number ``k`` of directions (docs/theory.md#sketched-checks).

The exact matrix-free check (:mod:`pyspec.matrix_free.theorem1`) forms item 2a's ``n × k`` residual
``D = Hv − [GᵀKw + Gᵀ((ζ·S_ya) − (ζ·S_yy)w) + (γ·T_θθ)v − (γ·T_θa)]`` column by column: ``k`` HVPs and
``3k`` pullbacks of the model. The sketch estimates ``‖D‖_F`` from ``uᵀD`` for Gaussian probes
``u ∈ ℝⁿ`` instead, every term contracted through a product the ``k`` directions share:

* ``uᵀHv_j = (Hu)ᵀv_j`` and ``uᵀGᵀx_j = (Gu)ᵀx_j``: one tangent ``u`` of the linearization of
  ``θ ↦ (f, ∇L)`` gives ``(Gu, Hu)`` for all ``j`` (``H``, ``K``, ``γ·T_θθ``, ``ζ·S_yy`` are symmetric);
* ``Vᵀx = (∂_aT)ᵀ(∂_θT)⁻ᵀx`` (one transposed solve and one pullback of ``a ↦ T(a, θ)``): ``v`` itself
  (``n × k``) is never formed;
* ``uᵀ(γ·T_θa) = ∂_a[γᵀ∂_θT(a, θ)u]`` and ``uᵀ(∂_θv)*∇L = ∂_θ[V(θ)ᵀ∇L][u]`` (through the solve): ``T``-side
  work only.

Eq. (12) (``m × k``) and item 2b (``k × k``) are sketched from the right with Gaussian ``s ∈ ℝᵏ``:
``x = Vs`` (one solve) is one more tangent, giving ``GVs − Ws`` and ``Vᵀ(HVs) − …``. The ``m``-space
quantities ``w``, ``Kw``, ``ζ·S_ya``, ``(ζ·S_yy)w``, ``(∂_y w)*g`` (``m × k``) are formed exactly (``S``-side
work, no model pass), and so is item 1 (``Vᵀ∇L = (∂_aT)ᵀγ``). Model passes: one linearization, ``2p + 1``
tangents and one pullback, whatever ``k``.

Probability bound. For a fixed matrix ``R`` and ``p`` independent probes ``u_l ~ N(0, I)``, the estimate
``F̂² = (1/p) Σ_l ‖Rᵀu_l‖²`` of ``‖R‖_F² = Σ_i σ_i²`` is ``Σ_i σ_i² χ²_{p,i}/p`` (independent ``χ²_p``).
Its Laplace transform is at most the rank-one one (``log(1 + c x)`` is concave, ``−log(1 − c x)``
convex, both vanishing at 0), so Chernoff's bound gives, whatever the rank of ``R``,

    P(F̂ ≤ t‖R‖_F) ≤ β_p(t)  (t < 1),   P(F̂ ≥ s‖R‖_F) ≤ β_p(s)  (s > 1),   β_p(x) = (x² e^{1−x²})^{p/2}

(:func:`miss_probability`). A sketched check reports ``D̂ / ŝ``: the scale formula of
:mod:`pyspec.checks`, ``max(‖lhs‖, ‖rhs‖, Σ‖term‖, natural)``, on ``N ≤ 9`` sketched Frobenius norms
(``‖lhs‖``, ``‖rhs‖``, each term's, and ``‖v‖``, ``‖Hv‖`` in the natural scale; the magnitudes ``‖G‖``,
``‖H‖`` are the exact path's, from its fixed unit probe, with column ratios ``‖HVs‖/‖Vs‖ ≤ ‖H‖₂``). Let
``ρ = ‖D‖ / σ`` be the residual with the true norms in that formula; ``σ`` is over-reported by at most
``s²`` unless some norm is over-reported by ``s`` (item 2b's natural scale multiplies two sketched norms).
So if ``ρ > (s²/t) · tolerance``, the sketch reports at most ``tolerance`` (``"holds"``) only if
``D̂ ≤ t‖D‖`` or some norm of the scale is over-reported by ``s``: probability at most
``β_p(t) + N β_p(s)``, at the defaults (``p = 8``, ``t = 1/10``, ``s = 3``, :data:`SKETCH_GAP`
``= s²/t = 90``) below ``5.2·10⁻⁷ + 9 · 8.3·10⁻¹¹ < 6·10⁻⁷`` per identity. Conversely a residual at
most the tolerance is reported above ``SKETCH_GAP ×`` tolerance only if ``D̂ ≥ s‖D‖`` or a norm of the
scale is under-reported by ``√(t/s)``: probability at most ``β_p(s) + 2N β_p(√(t/s))`` (about ``10⁻³``
at the defaults: a false alarm, not a missed violation). Hence the verdicts: ``"holds"`` when
``residual ≤ tolerance`` (the exact rule); ``"fails"`` only above the
resolution ``SKETCH_GAP × tolerance`` (:func:`pyspec.checks.limited`); ``"inconclusive"`` between.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec.backends.base import Array
from pyspec.checks import IdentityCheck, Norms, compare, compare_norms, limited, tolerance
from pyspec.equivariance import Problem
from pyspec.identities import hessian_scale_from_norms
from pyspec.matrix_free.operators import compile_mf, contracted_gradient, probe_vector, relative_residual
from pyspec.matrix_free.options import SolverOptions
from pyspec.matrix_free.position import checked_position_mf
from pyspec.matrix_free.solvers import RowStructure, segments_of, solvers_at
from pyspec.matrix_free.theorem1 import solve_widening
from pyspec.reports import Theorem1Checks, Theorem1Report
from pyspec.terms import HessianProbe

__all__ = [
    "SKETCH_GAP", "MISS_T", "OVERSHOOT_S", "SketchOptions", "SketchTerms", "miss_probability", "sketch_bound",
    "probes_of", "KeyedProbes", "dense_probes", "Restriction", "restriction", "theorem1_sketch_terms",
    "theorem1_sketch_program", "theorem1_sketch_checks",
    "theorem1_report_sketched",
]

MISS_T = 0.1
"""``t`` of the module's bound: the difference's norm is under-reported by ``1/t`` with probability
at most :func:`miss_probability` ``(p, t)``."""
OVERSHOOT_S = 3.0
"""``s`` of the module's bound: a norm of the scale is over-reported by ``s``."""
SKETCH_GAP = OVERSHOOT_S**2 / MISS_T
"""A sketched residual above the tolerance decides ``"fails"`` only above ``SKETCH_GAP × tolerance``
(``s²/t``: the scale of item 2b is a product of two sketched norms)."""


def miss_probability(p: int, x: float) -> float:
    """``β_p(x) = (x² e^{1−x²})^{p/2}``: the probability that ``p`` Gaussian probes report a Frobenius
    norm below ``x`` times the true one (``x < 1``) or above it (``x > 1``), whatever the matrix's rank
    (module docstring); ``1`` at ``x = 1``."""
    if p < 1 or x <= 0.0:
        raise ValueError(f"need p >= 1 probes and x > 0, got p={p}, x={x}")
    return math.exp(0.5 * p * (2.0 * math.log(x) + 1.0 - x * x))


def sketch_bound(p: int, norms: int = 9) -> float:
    """``β_p(t) + N β_p(s)`` at :data:`MISS_T`, :data:`OVERSHOOT_S`: the probability that a check whose
    residual (true norms) exceeds ``SKETCH_GAP × tolerance`` is reported as holding (module docstring)."""
    return miss_probability(p, MISS_T) + norms * miss_probability(p, OVERSHOOT_S)


@dataclasses.dataclass(frozen=True)
class SketchOptions:
    """Settings of the sketch.

    Attributes
    ----------
    probes : int
        ``p``: Gaussian probes on each side (``u ∈ ℝⁿ`` for item 2a, ``s ∈ ℝᵏ`` for eq. 12 and item 2b).
    seed : int
        Seed of the probes (the bound holds for each seed; a check can be repeated with others).
    batch : int
        Probes evaluated together (``vmap``) in each step of the on-device loop over probes: memory of
        ``batch`` probes' ``n``-vectors; on an accelerator a larger batch fills the device.
    restrict : bool
        Run the ``T``-side work on the leaves ``T`` moves only (:func:`restriction`), when they can be
        identified; ``False`` always works on all of ``θ``.
    """

    probes: int = 8
    seed: int = 0
    batch: int = 1
    restrict: bool = True


class SketchTerms(NamedTuple):
    """What :func:`theorem1_sketch_terms` returns (a pytree; sums of squares over the probes).

    Attributes
    ----------
    key_sq : (4,) array
        Eq. (12) from the right probes: ``Σ_l ‖·‖²`` of ``GVs``, ``Ws`` (rhs), their difference, ``Ws`` (term).
    first_lhs, first_rhs : (k,) arrays
        Item 1, exact: ``Vᵀ∇L = (∂_aT)ᵀγ`` and ``Wᵀg``.
    action_sq : (7,) array
        Item 2a (T, S) form from the left probes: lhs, rhs, difference, green_K, green_S, blue, plain.
    action_vw_sq : (5,) array
        Item 2a (v, w) form: lhs, rhs, difference, output, direction.
    quadratic_sq : (8,) array
        Item 2b (T, S) form from the right probes: lhs, rhs, difference, green_K, green_Sya, green_Syy,
        blue, plain.
    quadratic_vw_sq : (5,) array
        Item 2b (v, w) form: lhs, rhs, difference, output, direction.
    norm_v_sq, norm_Hv_sq : arrays
        ``Σ_l ‖Vs_l‖²`` and ``Σ_l ‖HVs_l‖²`` (estimates of ``p‖v‖_F²``, ``p‖Hv‖_F²``).
    norm_w, norm_g, norm_grad : arrays
        ``‖w‖_F``, ``‖g‖``, ``‖∇L‖`` (exact).
    probe : HessianProbe
        The exact path's magnitudes of ``G`` and ``H`` at its fixed unit probe, with the column ratios
        over the sketched columns ``Vs_l`` (``max_l ‖HVs_l‖/‖Vs_l‖ ≤ ‖H‖₂``, the same for ``G``).
    solve_residual : array
        Largest measured relative residual of the solves.
    """

    key_sq: Array
    first_lhs: Array
    first_rhs: Array
    action_sq: Array
    action_vw_sq: Array
    quadratic_sq: Array
    quadratic_vw_sq: Array
    norm_v_sq: Array
    norm_Hv_sq: Array
    norm_w: Array
    norm_g: Array
    norm_grad: Array
    probe: HessianProbe
    solve_residual: Array


def _squares(lhs: Array, terms: tuple[Array, ...]) -> Array:
    """``‖lhs‖², ‖rhs‖², ‖lhs − rhs‖², ‖term_i‖²`` with ``rhs = Σ terms`` in order (as
    :func:`pyspec.checks.compare`)."""
    rhs = terms[0]
    for t in terms[1:]:
        rhs = rhs + t
    return jnp.stack([jnp.vdot(x, x) for x in (lhs, rhs, lhs - rhs, *terms)])


class Restriction(NamedTuple):
    """The parameter leaves ``T`` moves (static): ``T(a, ·)`` is the identity on every other leaf and its
    output on these leaves depends on these leaves only, so ``∂θT = diag(I, C)``, ``v``, ``γ·T_θθ``,
    ``γ·T_θa`` and ``(∂_θv)*∇L`` vanish off them, and every ``T``-side product of the sketch runs on
    their concatenation ``θ_T`` (``span`` entries) instead of all ``n`` (:func:`restriction`)."""

    leaves: tuple[int, ...]
    segments: tuple[tuple[int, int], ...]
    """The ``(offset, size)`` of those leaves in ``θ``."""


class KeyedProbes(NamedTuple):
    """``count`` left probes ``u_l = N(0, I)`` drawn from ``fold_in(key, l)`` inside the loop over probes
    (so no ``p × n`` array is held); ``count`` is static."""

    key: Array
    count: int  # type: ignore[assignment]  # shadows the method tuple.count (fine at run time; public name)


def restriction(
    problem: Problem, a: Array, theta: Array, structure: RowStructure
) -> tuple[Restriction | None, RowStructure]:
    """The leaves ``T`` moves at ``(a, θ)`` and the :class:`RowStructure` of ``∂θT`` on them (host side).

    Found by two tangents of ``T`` on the leaves: a leaf is left alone when ``T`` returns it bit for bit
    with a random tangent passed through unchanged; the others must not see a tangent on it. ``None``
    (and ``structure`` unchanged) when that fails, or when ``T`` moves every leaf."""
    segments = segments_of(problem)
    if problem.T_leaves is None or len(segments) < 2:
        return None, structure
    parts = [theta[o : o + size] for o, size in segments]
    keys = jax.random.split(jax.random.PRNGKey(7), len(parts) + 1)
    tl = [jax.random.normal(kk, part.shape, dtype=part.dtype) for kk, part in zip(keys, parts)]
    ta = jax.random.normal(keys[-1], a.shape, dtype=a.dtype)
    out, dout = jax.jvp(problem.T_leaves, (a, parts), (ta, tl))
    still = [i for i in range(len(parts))
             if np.array_equal(np.asarray(out[i]), np.asarray(parts[i]))
             and np.array_equal(np.asarray(dout[i]), np.asarray(tl[i]))]
    moved = tuple(i for i in range(len(parts)) if i not in still)
    if not moved or len(moved) == len(parts) or not set(structure.leaves) <= set(moved):
        return None, structure
    only_still = [t if i in still else jnp.zeros_like(t) for i, t in enumerate(tl)]
    _, d2 = jax.jvp(problem.T_leaves, (a, parts), (jnp.zeros_like(a), only_still))
    if any(np.any(np.asarray(d2[i]) != 0) for i in moved):
        return None, structure
    seg = tuple(segments[i] for i in moved)
    idx = np.concatenate([np.arange(o, o + size) for o, size in seg])
    inv = np.asarray(structure.inv_diag)[idx]
    starts = np.array([o for o, _ in seg])
    sub_start = np.concatenate([[0], np.cumsum([size for _, size in seg])[:-1]])
    act = np.asarray(structure.active)
    owner = np.searchsorted(starts, act, side="right") - 1
    active = sub_start[owner] + act - starts[owner]
    sub = RowStructure(jnp.asarray(inv), jnp.asarray(active, dtype=structure.active.dtype), structure.local,
                       tuple(moved.index(i) for i in structure.leaves), structure.span)
    return Restriction(moved, seg), sub


def theorem1_sketch_terms(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], opts: SolverOptions,
    U: Array | KeyedProbes, P: Array, batch: int = 1, restrict: Restriction | None = None,
) -> SketchTerms:
    """Theorem 1's sketched contractions (module docstring) for left probes ``U`` (``p × n``, or drawn
    in the loop: :class:`KeyedProbes`) and right probes ``P`` (``p × k``), probes evaluated ``batch`` at a
    time (``lax.map`` over ``vmap``-ed
    batches: no host round trip). With ``restrict`` (:func:`restriction`; ``structures[0]`` is then
    the structure on the moved leaves) the ``T``-side work runs on ``θ_T`` only. Traceable."""
    f, S = problem.f, problem.S
    sT, sS = structures
    n = problem.n
    if restrict is None:
        T, sub_segments = problem.T, segments_of(problem)
        T_leaves_sub = problem.T_leaves or (lambda b, ls: [problem.T(b, ls[0])])

        def gather(x: Array) -> Array:
            return x

        def scatter(z: Array) -> Array:
            return z

        theta_T = theta
    else:
        T_leaves = problem.T_leaves
        if T_leaves is None:  # unreachable: restriction() finds a Restriction only for a problem with T_leaves
            raise AssertionError("a restriction needs T_leaves")
        full_parts = [theta[o : o + size] for o, size in segments_of(problem)]
        sizes = [size for _, size in restrict.segments]
        sub_segments = tuple((int(o), size) for o, size in zip(np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes))

        def gather(x: Array) -> Array:
            return jnp.concatenate([x[o : o + size] for o, size in restrict.segments])

        def scatter(z: Array) -> Array:
            out = jnp.zeros(n, z.dtype)
            for (o, size), (so, _) in zip(restrict.segments, sub_segments):
                out = lax.dynamic_update_slice(out, z[so : so + size], (o,))
            return out

        def T_leaves_sub(b: Array, ls: list[Array]) -> list[Array]:
            full = list(full_parts)
            for i, leaf in zip(restrict.leaves, ls):
                full[i] = leaf
            out = T_leaves(b, full)
            return [jnp.ravel(out[i]) for i in restrict.leaves]

        def T(b: Array, z: Array) -> Array:
            return jnp.concatenate(T_leaves_sub(b, [z[o : o + size] for o, size in sub_segments]))

        theta_T = gather(theta)
    grad_loss = jax.grad(problem.loss)

    def f_and_grad(t: Array) -> tuple[Array, Array]:
        y_, pull_ = jax.vjp(f, t)
        return y_, pull_(grad_loss(y_))[0]

    (y, grad), lin = jax.linearize(f_and_grad, theta)
    pull = jax.vjp(f, theta)[1]
    g = grad_loss(y)
    k = a.shape[0]

    def T_solvers(t: Array) -> tuple[Callable, ...]:
        return solvers_at(lambda s: T(a, s), lambda ls: T_leaves_sub(a, ls), sub_segments, t, sT, opts)

    def S_solvers(x: Array) -> tuple[Callable, ...]:
        return solvers_at(lambda s: S(a, s), lambda ls: [S(a, ls[0])], ((0, problem.m),), x, sS, opts)

    Tmv, Trmv, T_solve, T_solve_t = T_solvers(theta_T)
    Smv, Srmv, S_solve, S_solve_t = S_solvers(y)
    T_a_pull = jax.vjp(lambda b: T(b, theta_T), a)[1]

    def Vt(*xs: Array) -> tuple[Array, ...]:
        """``Vᵀx = (∂_aT)ᵀ(∂_θT)⁻ᵀx`` (``k``) for each ``x`` (one batched solve) and the largest relative
        residual of the solves."""
        X = jnp.stack(xs)
        X = jax.vmap(gather)(X)
        Z = jax.vmap(T_solve_t)(X)
        out = jax.vmap(lambda z: T_a_pull(z)[0])(Z)
        return (*out, jnp.max(jax.vmap(lambda z, x: relative_residual(Trmv, z, x))(Z, X)))

    def Vt_at(t: Array, x: Array) -> Array:
        """``V(t)ᵀx`` with ``V`` solved at ``t`` (differentiable in ``t`` through the solve)."""
        z = T_solvers(t)[3](x)
        return jax.vjp(lambda b: T(b, t), a)[1](z)[0]

    def V_col(t: Array, s: Array) -> Array:
        return T_solvers(t)[2](jax.jvp(lambda b: T(b, t), (a,), (s,))[1])

    def W_of(x: Array) -> Array:
        """``w`` at ``x`` (``m × k``), ``k`` solves in ``m``-space."""
        solve = S_solvers(x)[2]
        columns = jax.vmap(lambda e: solve(jax.jvp(lambda b: S(b, x), (a,), (e,))[1]), out_axes=1)
        return columns(jnp.eye(k, dtype=a.dtype))

    grad_T = gather(grad)
    gamma = T_solve_t(grad_T)  # on θ_T (γ = ∇L off it)
    zeta = S_solve_t(g)
    res = [relative_residual(Trmv, gamma, grad_T), relative_residual(Srmv, zeta, g)]

    def K(x: Array) -> Array:
        return jax.jvp(grad_loss, (y,), (x,))[1]

    gamma_T_grad, zeta_S_grad = contracted_gradient(gamma, T), contracted_gradient(zeta, S)

    blue_op = jax.linearize(lambda t: gamma_T_grad(a, t), theta_T)[1]
    plain_op = jax.linearize(lambda b: gamma_T_grad(b, theta_T), a)[1]  # s ↦ (γ·T_θa)s
    zeta_Syy_op = jax.linearize(lambda x: zeta_S_grad(a, x), y)[1]

    # m-space quantities (m × k), exact: S-side work only, none for a symmetry (w = 0)
    if problem.is_symmetry:
        W = Kw = zeta_Sya = zeta_Syy_w = dw_star = jnp.zeros((problem.m, k), dtype=theta.dtype)
    else:
        W = W_of(y)
        res.append(jnp.max(jax.vmap(lambda w, e: relative_residual(
            Smv, w, jax.jvp(lambda b: S(b, y), (a,), (e,))[1]), in_axes=(1, 0))(W, jnp.eye(k, dtype=a.dtype))))
        Kw = jax.vmap(K, in_axes=1, out_axes=1)(W)
        zeta_Sya = jax.jacfwd(lambda b: zeta_S_grad(b, y))(a)
        zeta_Syy_w = jax.vmap(zeta_Syy_op, in_axes=1, out_axes=1)(W)
        dw_star = jax.jacrev(lambda x: W_of(x).T @ g)(y).T  # column j: ∇_y(gᵀw_j)
    green_S = zeta_Sya - zeta_Syy_w
    first_lhs = T_a_pull(gamma)[0]  # Vᵀ∇L

    def probes(fun: Callable, xs: Array) -> Any:
        return lax.map(fun, xs, batch_size=min(batch, xs.shape[0]))

    def left(u: Array) -> tuple[Array, Array, Array]:  # item 2a: uᵀD for all k directions
        Gu, Hu = lin(u)
        u_T = gather(u)
        lhs, blue, r1 = Vt(Hu, scatter(blue_op(u_T)))
        plain = jax.grad(lambda b: jnp.vdot(u_T, gamma_T_grad(b, theta_T)))(a)
        direction = jax.jvp(lambda t: Vt_at(t, grad_T), (theta_T,), (u_T,))[1]
        ts = _squares(lhs, (Kw.T @ Gu, green_S.T @ Gu, blue, -plain))
        vw = _squares(lhs, ((Kw + dw_star).T @ Gu, -direction))
        return ts, vw, r1

    def right(s: Array) -> tuple[Array, ...]:  # eq. (12) and item 2b: R s
        b = jax.jvp(lambda c: T(c, theta_T), (a,), (s,))[1]
        x_T = T_solve(b)
        x = scatter(x_T)
        Gx, Hx = lin(x)
        Ws = W @ s
        dv_s = jax.grad(lambda t: jnp.vdot(grad_T, V_col(t, s)))(theta_T)  # (∂_θv)*∇L s, through the solve
        lhs, blue, plain, dv, r1 = Vt(Hx, *(scatter(z) for z in (blue_op(x_T), plain_op(s), dv_s)))
        ts = _squares(lhs, (W.T @ (Kw @ s), W.T @ (zeta_Sya @ s), -(W.T @ (zeta_Syy_w @ s)), blue, -plain))
        vw = _squares(lhs, (W.T @ ((Kw + dw_star) @ s), -dv))
        nx = jnp.linalg.norm(x)
        safe = jnp.where(nx > 0, nx, 1.0)
        ratios = jnp.stack([jnp.where(nx > 0, jnp.linalg.norm(Hx) / safe, 0.0),
                            jnp.where(nx > 0, jnp.linalg.norm(Gx) / safe, 0.0)])
        resid = jnp.maximum(relative_residual(Tmv, x_T, b), r1)
        return _squares(Gx, (Ws,)), ts, vw, jnp.vdot(x, x), jnp.vdot(Hx, Hx), ratios, resid

    if isinstance(U, KeyedProbes):  # u_l drawn inside the loop: no p × n array
        act, act_vw, r_left = probes(lambda l: left(jax.random.normal(
            jax.random.fold_in(U.key, l), (n,), dtype=theta.dtype)), jnp.arange(U.count))
    else:
        act, act_vw, r_left = probes(left, U)
    key, quad, quad_vw, v_sq, Hv_sq, ratios, r_right = probes(right, P)
    u0 = probe_vector(problem.n)
    Gu0, Hu0 = lin(u0)
    GtKGu0 = pull(K(Gu0))[0]
    return SketchTerms(
        key_sq=key.sum(0), first_lhs=first_lhs, first_rhs=W.T @ g, action_sq=act.sum(0), action_vw_sq=act_vw.sum(0),
        quadratic_sq=quad.sum(0), quadratic_vw_sq=quad_vw.sum(0), norm_v_sq=v_sq.sum(), norm_Hv_sq=Hv_sq.sum(),
        norm_w=jnp.linalg.norm(W), norm_g=jnp.linalg.norm(g), norm_grad=jnp.linalg.norm(grad),
        probe=HessianProbe(norm_Gu=jnp.linalg.norm(Gu0), norm_GtKGu=jnp.linalg.norm(GtKGu0),
                           norm_Hu_rest=jnp.linalg.norm(Hu0 - GtKGu0), Hv_ratio=ratios[:, 0].max(),
                           Gv_ratio=ratios[:, 1].max()),
        solve_residual=jnp.max(jnp.stack([*res, r_left.max(), r_right.max()])),
    )  # fmt: skip


def probes_of(key: Array, n: int, k: int, p: int) -> tuple[KeyedProbes, Array]:
    """Left (:class:`KeyedProbes`, ``p`` in ``ℝⁿ``) and right (``p × k``) standard Gaussian probes from a
    PRNG key; ``dense_probes`` gives the left ones as an array."""
    left, right = jax.random.split(key)
    return KeyedProbes(left, p), jax.random.normal(right, (p, k), dtype=jnp.float64)


def dense_probes(probes: KeyedProbes, n: int) -> Array:
    """The ``p × n`` array of :class:`KeyedProbes` (tests)."""
    return jnp.stack([jax.random.normal(jax.random.fold_in(probes.key, l), (n,), dtype=jnp.float64)
                      for l in range(probes.count)])


def theorem1_sketch_program(
    problem: Problem, structures: tuple[RowStructure, RowStructure], opts: SolverOptions, sketch: SketchOptions
) -> Callable[[Array, Array], SketchTerms]:
    """The compiled ``(a, θ) ↦`` :func:`theorem1_sketch_terms` with the probes of ``sketch`` (drawn in
    the program from the seed, a run-time argument: an ``n × p`` constant would be embedded in the
    executable, and another seed needs no new compilation)."""
    p, batch = sketch.probes, sketch.batch
    found: list[tuple[Restriction | None, RowStructure]] = []  # the moved leaves, found at the first call

    def run(a_: Array, t_: Array) -> SketchTerms:
        if not found:
            found.append(restriction(problem, a_, t_, structures[0]) if sketch.restrict else (None, structures[0]))
        restrict, sT_sub = found[0]
        static = [sT_sub[3:], structures[1][3:]]

        def program(a_: Array, t_: Array, key: Array, arrays_T: tuple[Array, Array, Array],
                    arrays_S: tuple[Array, Array, Array]) -> SketchTerms:
            sT, sS = RowStructure(*arrays_T, *static[0]), RowStructure(*arrays_S, *static[1])
            U, P = probes_of(key, problem.n, a_.shape[0], p)
            return theorem1_sketch_terms(problem, a_, t_, (sT, sS), opts, U, P, batch, restrict)

        compiled = compile_mf(problem, program, tuple(static), opts, p, batch, restrict)
        return compiled(a_, t_, jax.random.PRNGKey(sketch.seed), tuple(sT_sub[:3]), tuple(structures[1][:3]))

    return run


def _norms(sq: np.ndarray, p: int, names: tuple[str, ...]) -> Norms:
    root = np.sqrt(np.asarray(sq, dtype=np.float64) / p)
    return Norms(lhs=float(root[0]), rhs=float(root[1]), difference=float(root[2]),
                 terms={t: float(x) for t, x in zip(names, root[3:])})


def _sketched(check: IdentityCheck, p: int) -> IdentityCheck:
    why = (f"sketch: {p} Gaussian probes under-report a residual by 1/{MISS_T:g} or over-report the scale by "
           f"{OVERSHOOT_S:g} with probability < {sketch_bound(p):.1e} (pyspec.sketch)")
    return limited(check, SKETCH_GAP * check.tolerance, why)


def theorem1_sketch_checks(
    problem: Problem, q: SketchTerms, condition: float, structures: tuple[RowStructure, RowStructure],
    opts: SolverOptions, p: int,
) -> Theorem1Checks:
    """The six checks of :class:`pyspec.reports.Theorem1Report` from :func:`theorem1_sketch_terms`
    (host side): the exact path's tolerance (with the solves' widening,
    :func:`pyspec.matrix_free.theorem1.solve_widening`) and natural scales, residuals from the sketched
    norms, resolution ``SKETCH_GAP × tolerance`` for the sketched identities (item 1 is exact)."""
    B, pr = problem.backend, q.probe
    tol = tolerance(B, problem.n + problem.m + problem.k, condition) + solve_widening(
        problem, structures, opts, float(q.solve_residual), condition)
    norm_G = max(problem.n**0.5 * float(pr.norm_Gu), float(pr.Gv_ratio))
    norm_H = hessian_scale_from_norms(problem.n, float(pr.norm_GtKGu), float(pr.norm_Hu_rest), float(pr.Hv_ratio))
    norm_v, norm_Hv = (float(np.sqrt(float(x) / p)) for x in (q.norm_v_sq, q.norm_Hv_sq))
    scale_2b = max(norm_H * norm_v**2, norm_v * norm_Hv)

    def sketched(identity: str, sq: Array, names: tuple[str, ...], natural: float) -> IdentityCheck:
        return _sketched(compare_norms(B, identity, _norms(sq, p, names), tol, natural), p)

    first = compare(B, "theorem1_first_order", np.asarray(q.first_lhs), {"g_w": np.asarray(q.first_rhs)}, tol,
                    float(q.norm_grad) * norm_v + float(q.norm_g) * float(q.norm_w))
    return Theorem1Checks(
        key_identity=sketched("theorem1_key_identity", q.key_sq, ("w",), norm_G * norm_v),
        first_order=first,
        hessian_action=sketched("theorem1_hessian_action", q.action_sq, ("green_K", "green_S", "blue", "plain"),
                                norm_H * norm_v),
        hessian_action_vw=sketched("theorem1_hessian_action", q.action_vw_sq, ("output", "direction"), norm_H * norm_v),
        hessian_quadratic=sketched("theorem1_hessian_quadratic", q.quadratic_sq,
                                   ("green_K", "green_Sya", "green_Syy", "blue", "plain"), scale_2b),
        hessian_quadratic_vw=sketched("theorem1_hessian_quadratic", q.quadratic_vw_sq, ("output", "direction"),
                                      scale_2b),
    )


def theorem1_report_sketched(
    problem: Problem,
    a: Array,
    theta: Array,
    check_equivariance: bool = True,
    max_condition: float | None = None,
    opts: SolverOptions = SolverOptions(),
    sketch: SketchOptions = SketchOptions(),
) -> Theorem1Report:
    """:func:`pyspec.theorem1` with ``method="sketched"`` for a bound (float64) problem: the hypotheses
    as the matrix-free path (:func:`pyspec.matrix_free.position.checked_position_mf`), the identities
    sketched. Every check but item 1 is built from norms (``lhs``, ``rhs``, ``terms`` are ``None``)."""
    if sketch.probes < 1 or sketch.batch < 1:
        raise ValueError(f"need probes >= 1 and batch >= 1, got probes={sketch.probes}, batch={sketch.batch}")
    structures, position, eq_residual = checked_position_mf(problem, a, theta, check_equivariance, max_condition, opts)
    q = jax.device_get(theorem1_sketch_program(problem, structures, opts, sketch)(a, theta))
    c = theorem1_sketch_checks(problem, q, position.condition, structures, opts, sketch.probes)
    return Theorem1Report(**c._asdict(), position=position, equivariance_residual=eq_residual)
