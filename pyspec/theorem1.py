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

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.characteristic import (
    GoodPositionReport, check_max_condition, direction_along, equivariance_report, output_along, position_report,
)
from pyspec.checks import (
    IdentityCheck, Verdict, combine_verdicts, compare, compare_norms, limited, require_finite_terms, tolerance,
    ulp_neighbours, with_rounding_noise,
)
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.verdicts import escalate_report, second_route_theorem1

if TYPE_CHECKING:
    from pyspec.sketch import Path as Method

__all__ = ["Theorem1Report", "theorem1", "theorem1_terms", "theorem1_checks"]


@dataclasses.dataclass(frozen=True)
class Theorem1Report:
    """Theorem 1 at one good position.

    Attributes
    ----------
    key_identity : IdentityCheck
        eq. (12), ``G v = w``.
    first_order : IdentityCheck
        item 1, ``∇Lᵀv = gᵀw`` (``k`` entries).
    hessian_action : IdentityCheck
        item 2a in the (T, S) form; ``terms`` are ``green_K``, ``green_S``, ``blue``, ``plain``.
    hessian_action_vw : IdentityCheck
        item 2a in the (v, w) form; ``terms`` are ``output`` (``Gᵀ(Kw + (∂_y w)*g)``) and ``direction``.
    hessian_quadratic : IdentityCheck
        item 2b in the (T, S) form (``k × k``).
    hessian_quadratic_vw : IdentityCheck
        item 2b in the (v, w) form.
    position : GoodPositionReport
    equivariance_residual : float or None
        Worst residual of eq. (1) at and near ``(a, θ)`` (``None`` when not checked).
    nondifferentiable : bool
        The model's derivatives jump next to ``θ`` (``position.jump``): the verdict is at best
        inconclusive.
    escalated : bool
        Inconclusive float64 checks were recomputed at 50 digits (:attr:`IdentityCheck.escalated`).
    """

    key_identity: IdentityCheck
    first_order: IdentityCheck
    hessian_action: IdentityCheck
    hessian_action_vw: IdentityCheck
    hessian_quadratic: IdentityCheck
    hessian_quadratic_vw: IdentityCheck
    position: GoodPositionReport
    equivariance_residual: float | None
    escalated: bool = False

    @property
    def nondifferentiable(self) -> bool:
        """Whether the model is evaluated at (or next to) a non-differentiable point."""
        return self.position.nondifferentiable

    @property
    def checks(self) -> tuple[IdentityCheck, ...]:
        """Every identity check of the report."""
        return (
            self.key_identity,
            self.first_order,
            self.hessian_action,
            self.hessian_action_vw,
            self.hessian_quadratic,
            self.hessian_quadratic_vw,
        )

    @property
    def verdict(self) -> Verdict:
        """``"fails"`` if an identity fails, ``"inconclusive"`` if one is (or the point is not smooth),
        else ``"holds"`` (:func:`pyspec.checks.combine_verdicts`)."""
        return combine_verdicts(self.checks, _smoothness_note(self.position))[0]

    @property
    def reason(self) -> str | None:
        """Why the verdict is not ``"holds"``."""
        return combine_verdicts(self.checks, _smoothness_note(self.position))[1]

    @property
    def holds(self) -> bool | None:
        """``True`` if every identity holds, ``False`` if one fails, ``None`` if inconclusive."""
        return {"holds": True, "fails": False, "inconclusive": None}[self.verdict]


CONDITIONING = ("conditioning: dT/dtheta and dT/da are themselves computed from T, which may invert a matrix as "
                "ill-conditioned as dT/dtheta (a GL family's V A^-1), so their relative error may already be "
                "kappa*eps, which the solve amplifies by kappa again: rounding explains residuals up to kappa x tolerance")
"""Why a Theorem 1 residual up to ``κ × tolerance`` (``κ = cond_T · cond_S`` of the solves) is
inconclusive rather than failed (``κ = 1`` for diagonal solves: no such band)."""


def _smoothness_note(position: GoodPositionReport) -> tuple[str, ...]:
    if not position.nondifferentiable:
        return ()
    return (f"non-differentiable point: the model's derivative jumps by {position.jump:.1e} next to theta",)


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


def theorem1_terms(problem: Problem, a: Array, theta: Array) -> dict[str, Array]:
    """Every quantity of Theorem 1 at ``(a, θ)`` for a bound problem (no hypothesis checks).

    Returns a dict with ``y, G, g, K, grad_L, Hv, Hu, v, w, gamma, zeta, T_theta, S_y`` (``Hu``: ``H``
    along the unit probe of :func:`_probe`) and the
    contractions ``gamma_Ttt_v = (γ·T_θθ)v``, ``gamma_Tta = γ·T_θa``, ``zeta_Syy_w = (ζ·S_yy)w``,
    ``zeta_Sya = ζ·S_ya``, ``dv_star = (∂_θv)*∇L`` and ``dw_star = (∂_yw)*g``.
    """
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

    return {
        "y": y,
        "G": G,
        "g": g,
        "K": K,
        "grad_L": grad,
        "Hv": Hv,
        "Hu": H_vu[:, k],
        "v": v,
        "w": w,
        "gamma": gamma,
        "zeta": zeta,
        "T_theta": T_theta,
        "S_y": S_y,
        "gamma_Ttt_v": B.jvp(lambda t: gamma_T_grad(a, t), theta, v)[1],
        "gamma_Tta": B.jacobian(lambda b: gamma_T_grad(b, theta), a),
        "zeta_Syy_w": B.jvp(lambda u: zeta_S_grad(a, u), y, w)[1],
        "zeta_Sya": B.jacobian(lambda b: zeta_S_grad(b, y), a),
        "dv_star": B.jacobian(lambda t: direction_along(problem, a, t, grad), theta).T,
        "dw_star": B.jacobian(lambda u: output_along(problem, a, u, g), y).T,
    }


def _probe(backend: Any, n: int) -> Array:
    """A fixed unit vector with entries of both signs (deterministic, exact in every precision)."""
    u = np.cos(np.arange(1, n + 1) * 2.399963)  # golden-angle phases: no zero or repeated pattern
    return backend.asarray(u / np.linalg.norm(u))


def theorem1_checks(problem: Problem, q: dict[str, Array], condition: float) -> dict[str, IdentityCheck]:
    """The identity checks of Theorem 1 from the quantities of :func:`theorem1_terms`.

    Natural scales (see :mod:`pyspec.checks`): ``‖G‖‖v‖`` for (12), ``‖∇L‖‖v‖ + ‖g‖‖w‖`` for item 1,
    ``‖H‖‖v‖`` for 2a and ``max(‖H‖‖v‖², ‖v‖‖Hv‖)`` for 2b. ``‖H‖`` is the magnitude at which ``H``
    is computed (:func:`hessian_scale`).
    """
    B = problem.backend
    G, K, w = q["G"], q["K"], q["w"]
    Kw = K @ w
    c = {
        "Gv": G @ q["v"],
        "Kw": Kw,
        "green_K": G.T @ Kw,
        "green_S": G.T @ (q["zeta_Sya"] - q["zeta_Syy_w"]),
        "output": G.T @ (Kw + q["dw_star"]),
    }
    c |= {key: q[key] for key in CONTRACTION_KEYS if key not in c}
    gauss_newton_u = G.T @ (K @ (G @ _probe(B, problem.n)))
    norm_H = hessian_scale(B, problem.n, gauss_newton_u, q["Hu"], q["Hv"], q["v"])
    tol = tolerance(B, problem.n + problem.m + problem.k, condition)
    return identity_checks(B, c, tol, B.to_float(B.norm(G)), norm_H)


CONTRACTION_KEYS = (
    "v", "w", "g", "grad_L", "Gv", "Kw", "Hv", "green_K", "green_S", "gamma_Ttt_v", "gamma_Tta", "output",
    "dv_star", "zeta_Sya", "zeta_Syy_w", "dw_star",
)
"""What :func:`identity_checks` needs: ``v, w``; ``g, ∇L``; ``Gv, Kw`` (``m × k``); ``Hv``, ``GᵀKw``,
``Gᵀ(ζ·S_ya − (ζ·S_yy)w)``, ``(γ·T_θθ)v``, ``γ·T_θa``, ``Gᵀ(Kw + (∂_y w)*g)``, ``(∂_θ v)*∇L``
(``n × k``); ``ζ·S_ya``, ``(ζ·S_yy)w``, ``(∂_y w)*g`` (``m × k``). No ``n × n`` or ``m × m`` matrix."""


def hessian_scale(backend: Any, n: int, gauss_newton_u: Array, Hu: Array, Hv: Array, v: Array) -> float:
    """The magnitude at which ``H`` is computed: ``√n (‖GᵀKGu‖ + ‖Hu − GᵀKGu‖)`` for the unit probe
    ``u`` of :func:`_probe` (the two parts of eq. 22, which may cancel), and at least
    ``‖Hv_b‖ / ‖v_b‖`` for every column of ``v`` (:func:`hessian_scale_from_norms`)."""
    B = backend

    def nrm(x: Array) -> float:
        return B.to_float(B.norm(x))

    ratio = max((nrm(Hv[:, b]) / nrm(v[:, b]) for b in range(v.shape[1]) if nrm(v[:, b]) > 0.0), default=0.0)
    return hessian_scale_from_norms(n, nrm(gauss_newton_u), nrm(Hu - gauss_newton_u), ratio)


def hessian_scale_from_norms(n: int, norm_gauss_newton_u: float, norm_rest_u: float, column_ratio: float) -> float:
    """:func:`hessian_scale` from ``‖GᵀKGu‖``, ``‖Hu − GᵀKGu‖`` and ``max_b ‖Hv_b‖ / ‖v_b‖``."""
    return max(n**0.5 * (norm_gauss_newton_u + norm_rest_u), column_ratio)


def small_contractions(backend: Any, c: dict[str, Array]) -> dict[str, Any]:
    """The ``k``-sized contractions of the ``n × k`` quantities that :func:`identity_checks` needs:
    ``‖v‖``, ``‖∇L‖``, ``‖Hv‖``, ``∇Lᵀv``, ``vᵀHv``, ``vᵀ(γ·T_θθ)v``, ``vᵀ(γ·T_θa)``, ``vᵀ(∂_θv)*∇L``
    (the matrix-free path with ``keep_arrays=False`` computes them on the device)."""
    B = backend
    v = c["v"]
    return {
        "norm_v": B.to_float(B.norm(v)), "norm_grad": B.to_float(B.norm(c["grad_L"])),
        "norm_Hv": B.to_float(B.norm(c["Hv"])), "grad_v": c["grad_L"] @ v, "vHv": v.T @ c["Hv"],
        "v_blue": v.T @ c["gamma_Ttt_v"], "v_plain": v.T @ c["gamma_Tta"], "v_dv": v.T @ c["dv_star"],
    }  # fmt: skip


def identity_checks(backend: Any, c: dict[str, Any], tol: float, norm_G: float, norm_H: float) -> dict[str, IdentityCheck]:
    """Theorem 1's checks from contractions with the ``k`` columns of ``v`` and ``w`` only, shared by
    the dense and the matrix-free paths.

    ``c`` holds the ``m``-space quantities ``w, g, Gv, Kw, ζ·S_ya, (ζ·S_yy)w, (∂_y w)*g`` and the
    ``n × k`` arrays of :data:`CONTRACTION_KEYS` (dense path), or, from the matrix-free path, their
    :func:`small_contractions` and the :class:`~pyspec.checks.Norms` of item 2a (``action_norms``,
    ``action_vw_norms``) computed on the device, with the arrays when they were kept (else the two
    item 2a checks carry none).
    ``norm_G`` and ``norm_H`` are the magnitudes of ``G`` and ``H`` in the natural scales
    (:func:`theorem1_checks`).
    """
    B = backend
    s = c if "vHv" in c else small_contractions(B, c)
    w = c["w"]

    def nrm(x: Array) -> float:
        return B.to_float(B.norm(x))

    norm_v = s["norm_v"]
    scale_12 = norm_G * norm_v
    scale_1 = s["norm_grad"] * norm_v + nrm(c["g"]) * nrm(w)
    scale_2a = norm_H * norm_v
    scale_2b = max(norm_H * norm_v**2, norm_v * s["norm_Hv"])
    wKw = w.T @ c["Kw"]
    ts = vw = None
    if "Hv" in c:
        ts = {"green_K": c["green_K"], "green_S": c["green_S"], "blue": c["gamma_Ttt_v"], "plain": -c["gamma_Tta"]}
        vw = {"output": c["output"], "direction": -c["dv_star"]}
    if "action_norms" in c:  # matrix-free: norms from the device, arrays attached when kept
        action = compare_norms(B, "theorem1_hessian_action", c["action_norms"], tol, scale_2a, c.get("Hv"), ts)
        action_vw = compare_norms(B, "theorem1_hessian_action", c["action_vw_norms"], tol, scale_2a, c.get("Hv"), vw)
    else:
        action = compare(B, "theorem1_hessian_action", c["Hv"], ts, tol, scale_2a)
        action_vw = compare(B, "theorem1_hessian_action", c["Hv"], vw, tol, scale_2a)
    return {
        "theorem1_key_identity": compare(B, "theorem1_key_identity", c["Gv"], {"w": w}, tol, scale_12),
        "theorem1_first_order": compare(B, "theorem1_first_order", s["grad_v"], {"g_w": c["g"] @ w}, tol, scale_1),
        "theorem1_hessian_action": action,
        "theorem1_hessian_action_vw": action_vw,
        "theorem1_hessian_quadratic": compare(
            B,
            "theorem1_hessian_quadratic",
            s["vHv"],
            {
                "green_K": wKw,
                "green_Sya": w.T @ c["zeta_Sya"],
                "green_Syy": -(w.T @ c["zeta_Syy_w"]),
                "blue": s["v_blue"],
                "plain": -s["v_plain"],
            },
            tol,
            scale_2b,
        ),
        "theorem1_hessian_quadratic_vw": compare(
            B,
            "theorem1_hessian_quadratic",
            s["vHv"],
            {"output": wKw + w.T @ c["dw_star"], "direction": -s["v_dv"]},
            tol,
            scale_2b,
        ),
    }


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
        ``k`` (:mod:`pyspec.sketch`; float64 only, checks built from norms, probability bound in the
        module docstring). ``"auto"`` picks dense for ``n ≤`` :data:`pyspec.matrix_free.DENSE_MAX_N` or
        any ``precision``, else sketched for ``k ≥`` :data:`pyspec.sketch.SKETCH_MIN_K`, else matrix-free.
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
        Sketched path only: Gaussian probes on each side and their seed (:class:`pyspec.sketch.SketchOptions`).

    Returns
    -------
    Theorem1Report

    Raises
    ------
    NotGoodPositionError, EquivarianceError, ShapeError, NonFiniteError
    ValueError
        For an unknown ``method``, or ``method="matrix_free"`` with a ``precision``.
    """
    from pyspec.matrix_free import theorem1_report_mf
    from pyspec.sketch import SketchOptions, check_path, select_path, theorem1_report_sketched

    check_path(method, precision)
    check_max_condition(max_condition)
    backend = get_backend(precision, jit=jit, certify=certify)
    with backend.context():
        problem, a_flat, theta_flat = bind(eq, loss, a, theta, backend)
        path = select_path(method, problem.n, problem.k, precision)
        if path == "sketched":
            return theorem1_report_sketched(problem, a_flat, theta_flat, check_equivariance, max_condition,
                                            sketch=SketchOptions(probes=probes, seed=seed))
        if path == "matrix_free":
            return theorem1_report_mf(
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
    eq_residual = None
    if check_equivariance:
        report = equivariance_report(problem, a, theta, position.condition)
        report.require(problem.name)
        eq_residual = max(report.residuals)
    B = problem.backend
    terms = compile_program(problem, lambda a_, t_: theorem1_terms(problem, a_, t_))
    q = B.to_host(terms(a, theta))
    require_finite_terms(B, q, THEOREM1_PRODUCERS)
    c = {key: limited(x, x.tolerance * position.condition, CONDITIONING)
         for key, x in theorem1_checks(problem, q, position.condition).items()}
    if any(x.residual > x.tolerance for x in c.values()):  # measure the rounding noise (pyspec.checks)
        samples = [theorem1_checks(problem, B.to_host(terms(a_i, t_i)), position.condition)
                   for a_i, t_i in ulp_neighbours(B, a, theta)]
        c = with_rounding_noise(B, c, samples)
        c = second_route_theorem1(problem, theta, q, c)
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
