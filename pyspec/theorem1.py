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

from typing import Any, Callable

import numpy as np

from pyspec import matrix_free
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.characteristic import (
    check_max_condition, direction_along, output_along, position_report, required_equivariance,
)
from pyspec.checks import limited, require_finite_terms, tolerance, ulp_neighbours, with_rounding_noise
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.identities import CONDITIONING, hessian_scale, identity_checks
from pyspec.matrix_free.options import Method, check_method, select_method
from pyspec.reports import Theorem1Checks, Theorem1Report
from pyspec.terms import Theorem1Arrays, Theorem1Contractions, Theorem1Terms
from pyspec.verdicts import escalate_report, second_route_theorem1

__all__ = [
    "Theorem1Report", "gauss_newton_probe", "theorem1", "theorem1_report", "theorem1_terms", "theorem1_checks",
    "theorem1_contractions",
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
        report = theorem1_report(problem, a_flat, theta_flat, check_equivariance, max_condition)
    return escalate_report(report, (eq.model, eq.T, eq.S, loss), precision, lambda digits: theorem1(
        eq, loss, a, theta, precision=digits, check_equivariance=check_equivariance, max_condition=max_condition,
        method="dense"))


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
