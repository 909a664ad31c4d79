"""Theorem 1's identity checks from contractions with the ``k`` columns of ``v`` and ``w``, shared by
the dense (:mod:`pyspec.theorem1`) and matrix-free (:mod:`pyspec.matrix_free`) paths."""

from __future__ import annotations

from typing import Any

from pyspec.backends.base import Array
from pyspec.checks import compare, compare_norms
from pyspec.reports import Theorem1Checks
from pyspec.terms import Theorem1Contractions

__all__ = ["hessian_scale", "hessian_scale_from_norms", "identity_checks"]


def hessian_scale(backend: Any, n: int, gauss_newton_u: Array, Hu: Array, Hv: Array, v: Array) -> float:
    """The magnitude at which ``H`` is computed: ``√n (‖GᵀKGu‖ + ‖Hu − GᵀKGu‖)`` for the unit probe
    ``u`` of :func:`pyspec.theorem1._probe` (the two parts of eq. 22, which may cancel), and at least
    ``‖Hv_b‖ / ‖v_b‖`` for every column of ``v`` (:func:`hessian_scale_from_norms`)."""
    B = backend

    def nrm(x: Array) -> float:
        return B.to_float(B.norm(x))

    ratio = max((nrm(Hv[:, b]) / nrm(v[:, b]) for b in range(v.shape[1]) if nrm(v[:, b]) > 0.0), default=0.0)
    return hessian_scale_from_norms(n, nrm(gauss_newton_u), nrm(Hu - gauss_newton_u), ratio)


def hessian_scale_from_norms(n: int, norm_gauss_newton_u: float, norm_rest_u: float, column_ratio: float) -> float:
    """:func:`hessian_scale` from ``‖GᵀKGu‖``, ``‖Hu − GᵀKGu‖`` and ``max_b ‖Hv_b‖ / ‖v_b‖``."""
    return max(n**0.5 * (norm_gauss_newton_u + norm_rest_u), column_ratio)


def identity_checks(backend: Any, c: Theorem1Contractions, tol: float, norm_G: float, norm_H: float) -> Theorem1Checks:
    """Theorem 1's checks from contractions with the ``k`` columns of ``v`` and ``w`` only, shared by
    the dense and the matrix-free paths.

    Item 2a is judged from ``c.arrays`` (dense), or from the :class:`~pyspec.checks.Norms` accumulated
    on the device (``c.action``, ``c.action_vw``; matrix-free), with the arrays attached when they were
    kept (else the two item 2a checks carry none). ``norm_G`` and ``norm_H`` are the magnitudes of
    ``G`` and ``H`` in the natural scales (:func:`pyspec.theorem1.theorem1_checks`): ``‖G‖‖v‖`` for
    (12), ``‖∇L‖‖v‖ + ‖g‖‖w‖`` for item 1, ``‖H‖‖v‖`` for 2a and ``max(‖H‖‖v‖², ‖v‖‖Hv‖)`` for 2b.
    """
    B = backend
    w, arrays = c.w, c.arrays

    def nrm(x: Array) -> float:
        return B.to_float(B.norm(x))

    norm_v = c.norm_v
    scale_12 = norm_G * norm_v
    scale_1 = c.norm_grad * norm_v + nrm(c.g) * nrm(w)
    scale_2a = norm_H * norm_v
    scale_2b = max(norm_H * norm_v**2, norm_v * c.norm_Hv)
    wKw = w.T @ c.Kw
    Hv = ts = vw = None
    if arrays is not None:
        Hv = arrays.Hv
        ts = {"green_K": arrays.green_K, "green_S": arrays.green_S, "blue": arrays.gamma_Ttt_v,
              "plain": -arrays.gamma_Tta}
        vw = {"output": arrays.output, "direction": -arrays.dv_star}
    if c.action is not None and c.action_vw is not None:  # matrix-free: norms from the device
        action = compare_norms(B, "theorem1_hessian_action", c.action, tol, scale_2a, Hv, ts)
        action_vw = compare_norms(B, "theorem1_hessian_action", c.action_vw, tol, scale_2a, Hv, vw)
    else:
        action = compare(B, "theorem1_hessian_action", Hv, ts, tol, scale_2a)
        action_vw = compare(B, "theorem1_hessian_action", Hv, vw, tol, scale_2a)
    quadratic_ts = {"green_K": wKw, "green_Sya": w.T @ c.zeta_Sya, "green_Syy": -(w.T @ c.zeta_Syy_w),
                    "blue": c.v_blue, "plain": -c.v_plain}
    quadratic_vw = {"output": wKw + w.T @ c.dw_star, "direction": -c.v_dv}
    return Theorem1Checks(
        key_identity=compare(B, "theorem1_key_identity", c.Gv, {"w": w}, tol, scale_12),
        first_order=compare(B, "theorem1_first_order", c.grad_v, {"g_w": c.g @ w}, tol, scale_1),
        hessian_action=action,
        hessian_action_vw=action_vw,
        hessian_quadratic=compare(B, "theorem1_hessian_quadratic", c.vHv, quadratic_ts, tol, scale_2b),
        hessian_quadratic_vw=compare(B, "theorem1_hessian_quadratic", c.vHv, quadratic_vw, tol, scale_2b),
    )
