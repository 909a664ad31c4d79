"""Theorem 1's identity checks from contractions with the ``k`` columns of ``v`` and ``w``, shared by
the dense (:mod:`pyspec.theorem1`) and matrix-free (:mod:`pyspec.matrix_free`) paths."""

from __future__ import annotations

from typing import Any

from pyspec.backends.base import Array
from pyspec.checks import IdentityCheck, compare, compare_norms

__all__ = ["CONTRACTION_KEYS", "hessian_scale", "hessian_scale_from_norms", "small_contractions", "identity_checks"]


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
