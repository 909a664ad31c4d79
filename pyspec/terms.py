"""Typed records of the quantities that cross modules: NamedTuples, hence JAX pytrees (a compiled
program returns them, :meth:`~pyspec.backends.base.Backend.to_host` maps over them, ``vmap`` stacks
them), shared by the dense and matrix-free paths.

Notation (docs/theory.md#theorem-1): ``y = f(θ)``, ``G = ∇f(θ)`` (``m × n``), ``g = ∇ℓ(y)``,
``K = ∇²ℓ(y)``, ``H = ∇²L(θ)``, ``v = T_θ⁻¹T_a`` and ``w = S_y⁻¹S_a`` (``n × k``, ``m × k``,
Definition 2), ``γ = T_θ⁻ᵀ∇L``, ``ζ = S_y⁻ᵀg``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pyspec.backends.base import Array
from pyspec.checks import Norms

__all__ = [
    "LossTerms", "Theorem1Terms", "Theorem1Arrays", "Theorem1Contractions", "HessianProbe",
    "MatrixFreeTheorem1Terms", "Theorem2ProbeTerms", "HomogeneityTerms", "LastLayerTerms",
]


class LossTerms(NamedTuple):
    """The loss's quantities at ``θ``, dense (:func:`pyspec.report.loss_terms`)."""

    y: Array
    """``f(θ)`` (``m``)."""
    G: Array
    """``∇f(θ)`` (``m × n``)."""
    g: Array
    """``∇ℓ(y)`` (``m``)."""
    K: Array
    """``∇²ℓ(y)`` (``m × m``)."""
    grad_L: Array
    """``∇L(θ)``, differentiated from ``L = ℓ∘f`` itself (``n``)."""
    H: Array
    """``∇²L(θ)`` (``n × n``)."""
    HV: Array | None = None
    """``H V`` by Hessian-vector products for a given ``V`` (``n × p``), else ``None``."""


class Theorem1Terms(NamedTuple):
    """Every quantity of Theorem 1 at ``(a, θ)``, dense (:func:`pyspec.theorem1.theorem1_terms`)."""

    y: Array
    """``f(θ)``."""
    G: Array
    """``∇f(θ)``, eq. (12)'s operator."""
    g: Array
    """``∇ℓ(y)``, item 1's right side ``gᵀw``."""
    K: Array
    """``∇²ℓ(y)``, item 2a's green term ``GᵀKw``."""
    grad_L: Array
    """``∇L(θ)``, item 1's left side ``∇Lᵀv``."""
    Hv: Array
    """``Hv`` (``n × k``), item 2a's left side."""
    Hu: Array
    """``Hu`` for the fixed unit probe ``u`` (the magnitude of ``H``, :func:`pyspec.identities.hessian_scale`)."""
    v: Array
    """Characteristic direction ``v = T_θ⁻¹T_a`` (Definition 2, ``n × k``)."""
    w: Array
    """Characteristic output ``w = S_y⁻¹S_a`` (Definition 2, ``m × k``)."""
    gamma: Array
    """``γ = T_θ⁻ᵀ∇L`` (item 2a's blue and plain terms)."""
    zeta: Array
    """``ζ = S_y⁻ᵀg`` (item 2a's green ``S`` terms)."""
    T_theta: Array
    """``∂θT(a, θ)`` (``n × n``)."""
    S_y: Array
    """``∂yS(a, y)`` (``m × m``)."""
    gamma_Ttt_v: Array
    """``(γ·T_θθ)v``, item 2a's blue term."""
    gamma_Tta: Array
    """``γ·T_θa``, item 2a's plain term (with a minus sign)."""
    zeta_Syy_w: Array
    """``(ζ·S_yy)w``, in item 2a's green term ``Gᵀ[(ζ·S_ya) − (ζ·S_yy)w]``."""
    zeta_Sya: Array
    """``ζ·S_ya``, in the same green term."""
    dv_star: Array
    """``(∂_θv)*∇L``, item 2a's (v, w) form, direction term."""
    dw_star: Array
    """``(∂_yw)*g``, item 2a's (v, w) form, in the output term ``Gᵀ(Kw + (∂_yw)*g)``."""


class Theorem1Arrays(NamedTuple):
    """The ``n × k`` quantities of item 2a (dense path; matrix-free with ``keep_arrays``)."""

    v: Array
    """Characteristic direction (Definition 2)."""
    grad_L: Array
    """``∇L(θ)`` (``n``)."""
    Hv: Array
    """Item 2a's left side."""
    green_K: Array
    """``GᵀKw``."""
    green_S: Array
    """``Gᵀ[(ζ·S_ya) − (ζ·S_yy)w]``."""
    gamma_Ttt_v: Array
    """``(γ·T_θθ)v`` (blue)."""
    gamma_Tta: Array
    """``γ·T_θa`` (plain, subtracted)."""
    output: Array
    """``Gᵀ(Kw + (∂_yw)*g)``, the (v, w) form's output term."""
    dv_star: Array
    """``(∂_θv)*∇L``, the (v, w) form's direction term (subtracted)."""


class Theorem1Contractions(NamedTuple):
    """What Theorem 1's identity checks need (:func:`pyspec.identities.identity_checks`): quantities
    in the output space and contractions with the ``k`` columns of ``v``; no ``n × n`` or ``m × m``
    matrix. Built by both paths."""

    w: Array
    """Characteristic output (``m × k``): eq. (12)'s right side."""
    g: Array
    """``∇ℓ(y)``: item 1's right side is ``gᵀw``."""
    Gv: Array
    """``Gv`` (``m × k``): eq. (12)'s left side."""
    Kw: Array
    """``Kw`` (``m × k``): item 2b's green term ``wᵀKw``."""
    zeta_Sya: Array
    """``ζ·S_ya`` (``m × k``): item 2b's ``wᵀ(ζ·S_ya)``."""
    zeta_Syy_w: Array
    """``(ζ·S_yy)w`` (``m × k``): item 2b's ``wᵀ(ζ·S_yy)w``."""
    dw_star: Array
    """``(∂_yw)*g`` (``m × k``): item 2b's (v, w) form ``wᵀ(∂_yw)*g``."""
    norm_v: Any
    """``‖v‖`` (Frobenius): the natural scales."""
    norm_grad: Any
    """``‖∇L‖``: item 1's natural scale."""
    norm_Hv: Any
    """``‖Hv‖``: item 2b's natural scale."""
    grad_v: Array
    """``∇Lᵀv`` (``k``): item 1's left side."""
    vHv: Array
    """``vᵀHv`` (``k × k``): item 2b's left side."""
    v_blue: Array
    """``vᵀ(γ·T_θθ)v``: item 2b's blue term."""
    v_plain: Array
    """``vᵀ(γ·T_θa)``: item 2b's plain term (subtracted)."""
    v_dv: Array
    """``vᵀ(∂_θv)*∇L``: item 2b's (v, w) form, direction term (subtracted)."""
    arrays: Theorem1Arrays | None = None
    """Item 2a's ``n × k`` arrays when kept (``None`` on the reduced matrix-free path)."""
    action: Norms | None = None
    """Item 2a's norms in the (T, S) form, accumulated on the device (matrix-free), else ``None``."""
    action_vw: Norms | None = None
    """Item 2a's norms in the (v, w) form (matrix-free), else ``None``."""


class HessianProbe(NamedTuple):
    """Matrix-free magnitudes of ``G`` and ``H`` from the fixed unit probe ``u`` and the columns of ``v``
    (:func:`pyspec.identities.hessian_scale_from_norms`)."""

    norm_Gu: Array
    """``‖Gu‖``: ``‖G‖ ≈ max(√n ‖Gu‖, Gv_ratio)``."""
    norm_GtKGu: Array
    """``‖GᵀKGu‖``, the Gauss–Newton part of ``Hu`` (eq. 22)."""
    norm_Hu_rest: Array
    """``‖Hu − GᵀKGu‖``, the rest of ``Hu``."""
    Hv_ratio: Array
    """``max_j ‖Hv_j‖ / ‖v_j‖``."""
    Gv_ratio: Array
    """``max_j ‖Gv_j‖ / ‖v_j‖``."""


class MatrixFreeTheorem1Terms(NamedTuple):
    """The output of the matrix-free Theorem 1 program (:func:`pyspec.matrix_free.theorem1.theorem1_terms_mf`)."""

    contractions: Theorem1Contractions
    """With ``action`` and ``action_vw`` still ``None`` (host side: from the squares below)."""
    action_sq: Array
    """Item 2a (T, S) form, summed over the directions: ``‖lhs‖², ‖rhs‖², ‖lhs − rhs‖²`` and each term's."""
    action_vw_sq: Array
    """The same for the (v, w) form."""
    probe: HessianProbe
    """The magnitudes of ``G`` and ``H``."""
    solve_residual: Array
    """Largest relative residual of the ``2k + 2`` top-level solves."""


class Theorem2ProbeTerms(NamedTuple):
    """Theorem 2 on probe directions ``Z`` (``n × p``), matrix-free (:func:`pyspec.matrix_free.theorem2.theorem2_terms_mf`)."""

    grad_L: Array
    """``∇L(θ)``: item 1's right side."""
    Jt_grad: Array
    """``Jᵀ∇L``: item 1's left side."""
    HZ: Array
    """``HZ``: item 2's left side on the probes."""
    JtHJZ: Array
    """``JᵀHJZ``: item 2's conjugated term."""
    blue: Array
    """``(∇L·T_θθ)Z``: item 2's blue term."""


class HomogeneityTerms(NamedTuple):
    """What the §4.2/§5.1 reports need (:func:`pyspec.homogeneity.homogeneous_problem`)."""

    y: Array
    """``f(θ)``."""
    g: Array
    """``∇ℓ(y)``: Euler relation ``⟨∇L, θ⟩ = p⟨g, y⟩``."""
    grad_L: Array
    """``∇L(θ)``."""
    H_theta: Array
    """``Hθ``: eq. (3)'s left side (one HVP)."""
    GtKy: Array
    """``GᵀKy``: eq. (3)'s output-curvature term."""
    yKy: Array
    """``yᵀKy``: eq. (4)'s output-curvature term."""
    norm_G: float
    """``‖G‖`` (Frobenius, or the matrix-free probe estimate)."""
    norm_H: float
    """``‖H‖`` (Frobenius, or the matrix-free probe estimate)."""
    K00: Array | None = None
    """``ℓ″`` for a scalar output (Corollary 1), else ``None``."""
    H: Array | None = None
    """The dense ``H`` (sharpness bound by a symmetric eigensolver); ``None`` matrix-free (Lanczos)."""


class LastLayerTerms(NamedTuple):
    """What Corollary 3, eq. (7), needs (:func:`pyspec.last_layer.last_layer_terms`, and matrix-free)."""

    vHv: Array
    """``vᵀHv`` (``k × k``): eq. (7)'s left side."""
    w: Array
    """Characteristic output (``m × k``)."""
    Kw: Array
    """``∇²ℓ(y) w``: eq. (7)'s right side is ``wᵀKw``."""
    y: Array
    """``f(θ)`` (the softmax covariance form)."""
    norm_v: float
    """``‖v‖``."""
    norm_H: float
    """``‖H‖``."""
    norm_K: float
    """``‖K‖``."""
    solve_widening: float
    """Tolerance added for approximate solves (0 on the dense path)."""
