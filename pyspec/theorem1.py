"""Theorem 1 (continuous equivariance): eq. (12) and items 1, 2a, 2b (docs/theory.md#theorem-1).

At a good position ``(a, θ)`` with ``y = f(θ)``, ``G = ∇f(θ)``, ``g = ∇ℓ(y)``, ``K = ∇²ℓ(y)``,
``H = ∇²L(θ)``, ``γ = T_θ⁻ᵀ∇L`` and ``ζ = S_y⁻ᵀ g``:

* (12) ``G v = w``;
* item 1 ``∇Lᵀ v = gᵀ w``;
* item 2a ``H v = GᵀK w + Gᵀ[(ζ·S_ya) − (ζ·S_yy) w] + (γ·T_θθ) v − (γ·T_θa)``
  (green, green, blue, plain), and in the (v, w) form ``H v = Gᵀ(K w + (∂_y w)*g) − (∂_θ v)*∇L``;
* item 2b ``vᵀHv = wᵀKw + wᵀ(ζ·S_ya) − wᵀ(ζ·S_yy)w + vᵀ(γ·T_θθ)v − vᵀ(γ·T_θa)``, and
  ``vᵀHv = wᵀKw + wᵀ(∂_y w)*g − vᵀ(∂_θ v)*∇L``.

The (v, w) form differentiates ``θ' ↦ v(a, θ')`` and ``y' ↦ w(a, y')`` through the linear solves
that define them; the (T, S) form uses second derivatives of ``T`` and ``S``. They are computed
independently and must agree.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec import matrix_free
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.bulk import Judged, all_finite, equivariance_fails_at, equivariance_residuals, equivariance_squares
from pyspec.bulk import identity_arrays, scale_and_residual
from pyspec.cache import compile_program, is_compiled
from pyspec.characteristic import (
    GoodPositionReport, check_max_condition, default_max_condition, direction_along, nearby_batch, numerical_ranks,
    output_along, position_report, required_equivariance, solve_conditions,
)
from pyspec.checks import limited, require_finite_terms, tolerance, ulp_neighbours, with_rounding_noise
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.identities import (
    CONDITIONING, THEOREM1_IDS, Theorem1Sides, column_ratio, hessian_scale, hessian_scale_from_norms,
    identity_checks, identity_sides, kept_sides, natural_scales, squared_norms, summed_terms,
)
from pyspec.matrix_free.options import Method, check_method, select_method
from pyspec.reports import Theorem1Checks, Theorem1Report
from pyspec.smoothness import derivative_jumps, slopes, smoothness_steps
from pyspec.terms import Theorem1Arrays, Theorem1Contractions, Theorem1Terms
from pyspec.verdicts import escalate_report, second_route_theorem1

__all__ = [
    "Theorem1Inputs", "Theorem1Points", "Theorem1Report", "clear_report", "gauss_newton_probe", "judge_theorem1",
    "theorem1", "theorem1_checks", "theorem1_contractions", "theorem1_inputs", "theorem1_judged", "theorem1_points",
    "theorem1_points_program", "theorem1_report", "theorem1_terms",
]


THEOREM1_PRODUCERS = {
    "y": "the model f(theta)", "G": "the model's Jacobian df/dtheta", "g": "the loss's gradient",
    "K": "the loss's Hessian", "T_theta": "dT/dtheta (the derivative of T)", "S_y": "dS/dy (the derivative of S)",
    "v": "the solve v = (dT/dtheta)^-1 dT/da", "w": "the solve w = (dS/dy)^-1 dS/da",
    "grad_L": "the gradient of L = loss(f)", "Hv": "the Hessian of L = loss(f) (second derivatives of the model)",
    "Hu": "the Hessian of L = loss(f) (second derivatives of the model)",
    "gamma_Ttt_v": "the second derivatives of T", "gamma_Tta": "the second derivatives of T",
    "zeta_Syy_w": "the second derivatives of S", "zeta_Sya": "the second derivatives of S",
    "dv_star": "the derivative of v", "dw_star": "the derivative of w",
}  # fmt: skip
"""Who computed each quantity of :func:`theorem1_terms`, in the order of computation (a NaN is
attributed to the first producer whose output has one)."""


def theorem1_terms(problem: Problem, a: Array, theta: Array) -> Theorem1Terms:
    """Every quantity of Theorem 1 at ``(a, θ)`` for a bound problem (no hypothesis checks): the
    :class:`~pyspec.terms.Theorem1Terms` (``Hu``: ``H`` along the unit probe of :func:`_probe`)."""
    B = problem.backend
    T, S, f = problem.T, problem.S, problem.f

    def grad_loss(u: Array) -> Array:
        return B.jacobian(problem.loss, u)

    def grad_L(t: Array) -> Array:
        return B.jacobian(problem.L, t)

    y = f(theta)
    G = B.jacobian(f, theta)
    g = grad_loss(y)
    K = B.jacobian(grad_loss, y)
    grad = G.T @ g
    T_theta = B.jacobian(lambda t: T(a, t), theta)
    T_a = B.jacobian(lambda b: T(b, theta), a)
    S_y = B.jacobian(lambda u: S(a, u), y)
    S_a = B.jacobian(lambda b: S(b, y), a)
    v = B.solve(T_theta, T_a)
    w = B.solve(S_y, S_a)
    # H along v and along a fixed unit probe u; ‖Hu‖·√n estimates ‖H‖_F for the natural scale.
    xp = B.xp
    k = v.shape[1]
    H_vu = B.jvp(grad_L, theta, xp.concatenate([v, xp.reshape(_probe(B, problem.n), (problem.n, 1))], axis=1))[1]
    Hv = H_vu[:, :k]
    gamma = B.solve(T_theta.T, grad)
    zeta = B.solve(S_y.T, g)

    def gamma_T_grad(b: Array, t: Array) -> Array:
        return B.jacobian(lambda s: gamma @ T(b, s), t)

    def zeta_S_grad(b: Array, u: Array) -> Array:
        return B.jacobian(lambda s: zeta @ S(b, s), u)

    return Theorem1Terms(
        y=y, G=G, g=g, K=K, grad_L=grad, Hv=Hv, Hu=H_vu[:, k], v=v, w=w, gamma=gamma, zeta=zeta, T_theta=T_theta,
        S_y=S_y,
        gamma_Ttt_v=B.jvp(lambda t: gamma_T_grad(a, t), theta, v)[1],
        gamma_Tta=B.jacobian(lambda b: gamma_T_grad(b, theta), a),
        zeta_Syy_w=B.jvp(lambda u: zeta_S_grad(a, u), y, w)[1],
        zeta_Sya=B.jacobian(lambda b: zeta_S_grad(b, y), a),
        dv_star=B.jacobian(lambda t: direction_along(problem, a, t, grad), theta).T,
        dw_star=B.jacobian(lambda u: output_along(problem, a, u, g), y).T,
    )


def _probe(backend: Any, n: int) -> Array:
    """A fixed unit vector with entries of both signs (deterministic, exact in every precision)."""
    u = np.cos(np.arange(1, n + 1) * 2.399963)  # golden-angle phases: no zero or repeated pattern
    return backend.asarray(u / np.linalg.norm(u))


def gauss_newton_probe(backend: Any, q: Theorem1Terms) -> Array:
    """``GᵀKGu`` for the unit probe ``u`` of :func:`_probe`: the Gauss–Newton part of ``Hu``
    (:func:`pyspec.identities.hessian_scale`)."""
    return q.G.T @ (q.K @ (q.G @ _probe(backend, q.G.shape[1])))


def theorem1_checks(problem: Problem, q: Theorem1Terms, condition: float) -> Theorem1Checks:
    """The identity checks of Theorem 1 from the quantities of :func:`theorem1_terms`
    (:func:`pyspec.identities.identity_checks` on :func:`theorem1_contractions`).

    Natural scales (see :mod:`pyspec.checks`): ``‖G‖‖v‖`` for (12), ``‖∇L‖‖v‖ + ‖g‖‖w‖`` for item 1,
    ``‖H‖‖v‖`` for 2a and ``max(‖H‖‖v‖², ‖v‖‖Hv‖)`` for 2b. ``‖H‖`` is the magnitude at which ``H``
    is computed (:func:`pyspec.identities.hessian_scale`).
    """
    B = problem.backend
    norm_H = hessian_scale(B, problem.n, gauss_newton_probe(B, q), q.Hu, q.Hv, q.v)
    tol = tolerance(B, problem.n + problem.m + problem.k, condition)
    return identity_checks(B, theorem1_contractions(B, q), tol, B.to_float(B.norm(q.G)), norm_H)


def theorem1_contractions(backend: Any, q: Theorem1Terms,
                          norm: Callable[[Array], Any] | None = None) -> Theorem1Contractions:
    """:class:`~pyspec.terms.Theorem1Contractions` from the dense quantities, with item 2a's arrays.

    ``norm`` computes ``‖v‖``, ``‖∇L‖`` and ``‖Hv‖`` (default: the backend's norm as a float; a traced
    norm lets a compiled program form the record, :mod:`pyspec.batch`)."""
    B = backend
    nrm = norm if norm is not None else (lambda x: B.to_float(B.norm(x)))
    G, v, w = q.G, q.v, q.w
    Kw = q.K @ w
    arrays = Theorem1Arrays(
        v=v, grad_L=q.grad_L, Hv=q.Hv, green_K=G.T @ Kw, green_S=G.T @ (q.zeta_Sya - q.zeta_Syy_w),
        gamma_Ttt_v=q.gamma_Ttt_v, gamma_Tta=q.gamma_Tta, output=G.T @ (Kw + q.dw_star), dv_star=q.dv_star,
    )
    return Theorem1Contractions(
        w=w, g=q.g, Gv=G @ v, Kw=Kw, zeta_Sya=q.zeta_Sya, zeta_Syy_w=q.zeta_Syy_w, dw_star=q.dw_star,
        norm_v=nrm(v), norm_grad=nrm(q.grad_L), norm_Hv=nrm(q.Hv),
        grad_v=q.grad_L @ v, vHv=v.T @ q.Hv, v_blue=v.T @ q.gamma_Ttt_v, v_plain=v.T @ q.gamma_Tta,
        v_dv=v.T @ q.dv_star, arrays=arrays,
    )


class Theorem1Points(NamedTuple):
    """What Theorem 1 is judged by at each point, from :func:`theorem1_points` (stacked over points;
    :mod:`pyspec.bulk`)."""

    sides: Theorem1Sides
    """Both sides of each identity (:func:`~pyspec.identities.identity_sides`), kept in the checks."""
    rhs: tuple[Array, ...]
    """Each identity's terms summed (:func:`~pyspec.identities.summed_terms`)."""
    squares: tuple[Array, ...]
    """:func:`~pyspec.identities.squared_norms` of each identity."""
    scales: Array
    """:func:`~pyspec.bulk.scale_and_residual`'s scale of each identity (natural scales included)."""
    residuals: Array
    """:func:`~pyspec.bulk.scale_and_residual`'s residual of each identity."""
    finite: Array
    """Every quantity of :func:`theorem1_terms` is finite."""
    T_theta: Array
    S_y: Array
    T_a: Array
    slopes: tuple[Array, Array, Array]
    """The smoothness probe (:func:`~pyspec.smoothness.slopes`)."""
    equivariance: Array
    """:func:`~pyspec.bulk.equivariance_squares` at the point and its nearby points."""


class Theorem1Inputs(NamedTuple):
    """What one point's bulk judgement is computed from (:func:`theorem1_inputs`)."""

    q: Theorem1Terms
    T_a: Array
    slopes: tuple[Array, Array, Array]
    """The smoothness probe (:func:`~pyspec.smoothness.slopes`)."""
    equivariance: Array
    """:func:`~pyspec.bulk.equivariance_squares` at the point and its nearby points."""


def theorem1_inputs(problem: Problem, a: Array, theta: Array, near_a: Array, near_t: Array, step: Array,
                    z: Array) -> Theorem1Inputs:
    """The quantities of one point (``near_a``, ``near_t`` its nearby points from
    :func:`~pyspec.characteristic.nearby_batch`, ``step`` and ``z`` the smoothness probe's,
    :func:`~pyspec.smoothness.smoothness_steps`); traced."""
    return Theorem1Inputs(q=theorem1_terms(problem, a, theta), T_a=problem.backend.jacobian(
        lambda b: problem.T(b, theta), a), slopes=slopes(problem, theta, step, z),
        equivariance=equivariance_squares(problem, near_a, near_t))


def theorem1_judged(problem: Problem, inputs: Theorem1Inputs, xp: Any) -> Theorem1Points:
    """:class:`Theorem1Points` of one point from its :class:`Theorem1Inputs`, with the array module
    ``xp``: ``jnp`` inside the batch's compiled program, ``np`` on the host for a single check (whose
    program then compiles as fast as :func:`theorem1_report`'s three). The scales and residuals are
    those of :func:`theorem1_checks`, with the natural scales of :func:`~pyspec.identities.natural_scales`."""
    B, q = problem.backend, inputs.q

    def norm(x: Array) -> Array:
        return xp.sqrt(xp.vdot(x, x))

    c = theorem1_contractions(B, q, norm=norm)
    sides = identity_sides(c)
    gauss_newton_u = gauss_newton_probe(B, q)
    ratio = column_ratio(xp.sqrt(xp.sum(q.Hv**2, axis=0)), xp.sqrt(xp.sum(q.v**2, axis=0)), xp=xp)
    norm_H = hessian_scale_from_norms(problem.n, norm(gauss_newton_u), norm(q.Hu - gauss_newton_u), ratio,
                                      maximum=xp.maximum)
    natural = natural_scales(norm(q.G), norm_H, c.norm_v, c.norm_grad, norm(q.g), norm(q.w), c.norm_Hv,
                             maximum=xp.maximum).per_check()
    squares = tuple(squared_norms(side, xp=xp) for side in sides)
    scales, residuals = zip(*(scale_and_residual(sq, nat, xp=xp) for sq, nat in zip(squares, natural)))
    return Theorem1Points(
        sides=sides, rhs=tuple(summed_terms(kept_sides(side)[1]) for side in sides), squares=squares,
        scales=xp.stack(scales), residuals=xp.stack(residuals), finite=all_finite(q, xp=xp), T_theta=q.T_theta,
        S_y=q.S_y, T_a=inputs.T_a, slopes=inputs.slopes, equivariance=inputs.equivariance)


def theorem1_points(problem: Problem, a: Array, thetas: Array, near_a: Array, near_t: Array, steps: Array,
                    z: Array) -> Theorem1Points:
    """:class:`Theorem1Points` of each point, judged in the program (vmapped, stacked over the points)."""
    def one(t: Array, na: Array, nt: Array, h: Array) -> Theorem1Points:
        return theorem1_judged(problem, theorem1_inputs(problem, a, t, na, nt, h, z), jnp)

    return jax.vmap(one)(thetas, near_a, near_t, steps)


def theorem1_points_program(problem: Problem) -> Callable[..., Theorem1Points]:
    """:func:`theorem1_points` compiled for ``problem`` (cached: :mod:`pyspec.cache`; small results
    packed); its arguments are ``(a, thetas, near_a, near_t, steps, z)``."""
    return compile_program(problem, lambda b, t, na, nt, h, z: theorem1_points(problem, b, t, na, nt, h, z),
                           pack=True)


def judge_theorem1(problem: Problem, q: Theorem1Points, limit: float, check_equivariance: bool) -> Judged:
    """Judge every point of ``q`` at once with the formulas of :func:`theorem1_report` (:mod:`pyspec.bulk`)."""
    B = problem.backend
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        finite = (q.finite != 0) & np.isfinite(q.T_a).all(axis=(1, 2))  # to_host made the flags float64
        for matrix in (q.T_theta, q.S_y):
            finite &= np.isfinite(matrix).all(axis=(1, 2))
        cond_T = np.full(len(finite), np.inf)
        cond_S = np.ones(len(finite)) if problem.is_symmetry else np.full(len(finite), np.inf)
        rank = np.zeros(len(finite), dtype=int)
        cond_T[finite] = solve_conditions(B, q.T_theta[finite])
        if not problem.is_symmetry:
            cond_S[finite] = solve_conditions(B, q.S_y[finite])
        rank[finite] = numerical_ranks(B, problem.n, q.T_a[finite])
        condition = cond_T * cond_S
        clear = (finite & (cond_T <= limit) & (cond_S <= limit) & (rank >= problem.k)
                 & (derivative_jumps(*q.slopes) == 0.0))
        eq_residuals = equivariance_residuals(q.equivariance)
        if check_equivariance:
            clear &= (eq_residuals <= tolerance(B, problem.n + problem.m)).all(axis=1)
        tol = np.array([tolerance(B, problem.n + problem.m + problem.k, c) for c in condition.tolist()])
        judged = [identity_arrays(*arrays) for arrays in zip(q.sides, q.rhs, q.squares, q.scales.T, q.residuals.T)]
        for identity in judged:
            clear &= identity.holds(tol)

    lists = {"cond_T": cond_T.tolist(), "cond_S": cond_S.tolist(), "rank": rank.tolist(), "tol": tol.tolist(),
             "eq": eq_residuals.tolist()}

    def report(i: int) -> Theorem1Report:
        tol_i, cond_i = lists["tol"][i], lists["cond_T"][i] * lists["cond_S"][i]
        # theorem1_report's CONDITIONING band (pyspec.checks.limited), raised only where cond > 1
        resolution, why = (tol_i * cond_i, CONDITIONING) if tol_i * cond_i > tol_i else (0.0, "")
        checks = Theorem1Checks(*(j.check(B.name, identity, i, tol_i, resolution, why)
                                  for identity, j in zip(THEOREM1_IDS, judged)))
        position = GoodPositionReport(cond_T=lists["cond_T"][i], cond_S=lists["cond_S"][i], max_condition=limit,
                                      rank_T_a=lists["rank"][i], k=problem.k)
        return Theorem1Report(*checks, position=position,
                              equivariance_residual=max(lists["eq"][i]) if check_equivariance else None)

    return Judged(clear=clear, report=report)


def clear_report(problem: Problem, a: Array, theta: Array, max_condition: float | None) -> Theorem1Report | None:
    """The report of a point where Theorem 1 clearly holds, judged in bulk as a batch of one (one
    program for :func:`theorem1_inputs`, :func:`theorem1_judged` on the host, :func:`judge_theorem1`),
    or ``None``: then :func:`theorem1_report` must judge it (rounding noise, second route, named
    errors). Eq. (1) is checked (the single check's ``check_equivariance=True``).

    Before the program is first compiled for ``problem``, a point where eq. (1) visibly fails at
    ``(a, θ)`` itself (:func:`~pyspec.bulk.equivariance_fails_at`, no compilation) returns ``None`` at
    once: the careful path raises its :class:`~pyspec.errors.EquivarianceError` without compiling the
    bulk program (second derivatives included) for nothing."""
    def point_inputs(b: Array, t: Array, na: Array, nt: Array, h: Array, z_: Array) -> Theorem1Inputs:
        return theorem1_inputs(problem, b, t, na, nt, h, z_)

    if not is_compiled(problem, point_inputs) and equivariance_fails_at(problem, a, theta):
        return None
    B = problem.backend
    flat = B.to_numpy(theta)[None]
    near_a, near_t = nearby_batch(problem, a, flat)
    steps, z = smoothness_steps(flat)
    program = compile_program(problem, point_inputs, pack=True)
    inputs = B.to_host(program(a, flat[0], near_a[0], near_t[0], steps[0], z))
    with np.errstate(all="ignore"):  # a NaN or an infinity is judged by the finiteness flags, not warned of
        judged_point = theorem1_judged(problem, inputs, np)
    q = jax.tree_util.tree_map(lambda x: np.asarray(x, dtype=np.float64)[None], judged_point)
    limit = default_max_condition(B) if max_condition is None else max_condition
    judged = judge_theorem1(problem, q, limit, check_equivariance=True)
    return judged.report(0) if judged.clear[0] else None


def theorem1(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    theta: Any,
    *,
    precision: int | None = None,
    check_equivariance: bool = True,
    max_condition: float | None = None,
    jit: bool = True,
    method: Method = "auto",
    keep_arrays: bool = True,
    certify: bool = False,
    probes: int = 8,
    seed: int = 0,
) -> Theorem1Report:
    """Check Theorem 1 (eq. 12, items 1, 2a, 2b) at ``(a, θ)``.

    In compiled float64 on the dense path, with ``check_equivariance``, the point is first judged in
    bulk as a batch of one (:func:`clear_report`: one program, hypotheses included); only a point that
    does not clearly hold goes on to :func:`theorem1_report`, which measures rounding noise and takes
    a second route before any verdict other than ``holds``, and names a failed hypothesis.

    Parameters
    ----------
    eq : Equivariance
        The ``(T, S)``-equivariance of the model.
    loss : callable
        ``ℓ(y) -> scalar``.
    a, theta : array or pytree
        The transformation parameter and the parameters.
    precision : int, optional
        Decimal digits for the mpmath backend (exact derivatives); ``None`` for JAX float64.
    check_equivariance : bool
        Verify eq. (1) at and near ``(a, θ)`` first (default). Set ``False`` only to measure how an
        identity fails for a model that is *not* equivariant (a negative control).
    max_condition : float, optional
        Largest condition number of ``∂θT``, ``∂yS`` accepted as invertible (default ``eps^(-1/2)``).
    jit : bool
        Float64 only: compile the check with XLA (default); ``False`` is faster when many models of
        the same shapes are checked in one process (see :func:`pyspec.backends.get_backend`).
    method : {"auto", "dense", "matrix_free", "sketched"}
        ``"dense"`` forms ``G``, ``K``, ``∂θT``, ``∂yS`` (``O(n²)`` memory); ``"matrix_free"`` uses
        JVPs, VJPs, HVPs and iterative solves only (:mod:`pyspec.matrix_free`; float64 only);
        ``"sketched"`` estimates every residual from ``probes`` random probes at a cost independent of
        ``k`` (:mod:`pyspec.matrix_free.sketch`; float64 only; checks built from norms, probability bound
        in the module docstring). ``"auto"`` picks dense for ``n ≤`` :data:`pyspec.matrix_free.DENSE_MAX_N`
        or any ``precision``, else sketched for ``k ≥`` :data:`pyspec.matrix_free.SKETCH_MIN_K`, else
        matrix-free.
    keep_arrays : bool
        Matrix-free path only: ``False`` reduces item 2a (``n × k`` arrays) to norms and
        contractions on the device, one direction at a time: memory for ``v`` and one direction's terms
        instead of all ``8k`` ``n``-vectors of item 2a;
        ``hessian_action.lhs``, ``.rhs`` and ``.terms`` are then ``None`` (residuals, scales and
        ``term_norms`` are unchanged). The dense path always keeps them.
    certify : bool
        Compute in ball arithmetic at ``precision`` digits (:mod:`pyspec.backends.arb_backend`): each
        check then carries ``residual_bound`` (rigorous) and ``certified_nonzero``.
    probes, seed : int
        Sketched path only: Gaussian probes on each side and their seed
        (:class:`pyspec.matrix_free.sketch.SketchOptions`).

    Returns
    -------
    Theorem1Report

    Raises
    ------
    NotGoodPositionError, EquivarianceError, ShapeError, NonFiniteError
    ValueError
        For an unknown ``method``, or ``method="matrix_free"`` / ``"sketched"`` with a ``precision``.
    """
    check_method(method, precision)
    check_max_condition(max_condition)
    backend = get_backend(precision, jit=jit, certify=certify)
    with backend.context():
        problem, a_flat, theta_flat = bind(eq, loss, a, theta, backend)
        path = select_method(method, problem.n, precision, problem.k)
        if path == "sketched":
            return matrix_free.theorem1_report_sketched(problem, a_flat, theta_flat, check_equivariance, max_condition,
                                                        sketch=matrix_free.SketchOptions(probes=probes, seed=seed))
        if path == "matrix_free":
            return matrix_free.theorem1_report_mf(
                problem, a_flat, theta_flat, check_equivariance, max_condition, keep_arrays=keep_arrays
            )
        if check_equivariance and _compiled_float64(backend) and path == "dense":
            report = clear_report(problem, a_flat, theta_flat, max_condition)
            if report is not None:
                return report
        report = theorem1_report(problem, a_flat, theta_flat, check_equivariance, max_condition)
    return escalate_report(report, (eq.model, eq.T, eq.S, loss), precision, lambda digits: theorem1(
        eq, loss, a, theta, precision=digits, check_equivariance=check_equivariance, max_condition=max_condition,
        method="dense"))


def _compiled_float64(backend: Any) -> bool:
    """Whether ``backend`` compiles float64 programs (where :func:`clear_report` is tried first)."""
    return backend.name == "jax-float64" and getattr(backend, "jit", False)


def theorem1_report(
    problem: Problem, a: Array, theta: Array, check_equivariance: bool = True, max_condition: float | None = None
) -> Theorem1Report:
    """:func:`theorem1` for a bound problem."""
    position = position_report(problem, a, theta, max_condition)
    position.require()
    eq_residual = required_equivariance(problem, a, theta, check_equivariance)
    B = problem.backend
    terms = compile_program(problem, lambda a_, t_: theorem1_terms(problem, a_, t_))
    q = B.to_host(terms(a, theta))
    require_finite_terms(B, q._asdict(), THEOREM1_PRODUCERS)
    c = theorem1_checks(problem, q, position.condition).map(
        lambda x: limited(x, x.tolerance * position.condition, CONDITIONING))
    if any(x.residual > x.tolerance for x in c):  # measure the rounding noise (pyspec.checks)
        samples = [theorem1_checks(problem, B.to_host(terms(a_i, t_i)), position.condition)._asdict()
                   for a_i, t_i in ulp_neighbours(B, a, theta)]
        c = Theorem1Checks(**with_rounding_noise(B, c._asdict(), samples))
        c = second_route_theorem1(problem, theta, q, c)
    return Theorem1Report(**c._asdict(), position=position, equivariance_residual=eq_residual)
