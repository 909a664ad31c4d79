/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.DiscreteLinear
import Mathlib.Analysis.InnerProductSpace.Basic

/-!
# Section 6: `H M = M H` and the block structure of the Hessian

Eq. (9) of the paper, `Mᵀ H M = H` at a fixed point of a linear symmetry `θ ↦ M θ`
(`EquivarianceToolbox.discrete_linear_hessian`), has two consequences (Section 6):

* if `M` is orthogonal, `Mᵀ = M⁻¹` and eq. (9) reads `H M = M H`: the Hessian commutes with the
  symmetry and leaves every eigenspace of `M` invariant;
* the Hessian has no block between the fixed space `ker (M - I)` and the flipped space
  `ker (M + I)`: `H (x, y) = 0` whenever `M x = x` and `M y = -y`. For an orthogonal involution
  these two spaces span `E`, so `H` is block-diagonal in `ker (M - I) ⊕ ker (M + I)`.

## Main results

* `EquivarianceToolbox.hessian_block_of_conj`: conjugation invariance `H (M x) (M y) = H x y`
  gives `H x y = 0 = H y x` for `M x = x`, `M y = -y`.
* `EquivarianceToolbox.commute_of_conj_invariant`: for an operator `Hop` on a real inner product
  space, `⟪Hop (M x), M y⟫ = ⟪Hop x, y⟫` with `M` orthogonal (inner-product preserving and
  surjective) gives `Hop ∘L M = M ∘L Hop`.
* `EquivarianceToolbox.discrete_linear_hessian_block`: the block structure at a fixed point of a
  linear symmetry.
* `EquivarianceToolbox.discrete_linear_hessian_commute`: `H M = M H` at a fixed point of an
  orthogonal linear symmetry, for the operator `Hop` representing the Hessian
  (`⟪Hop x, y⟫ = L'' x y`).

## Implementation notes

The Hessian is the second derivative `L'' : E →L[ℝ] E →L[ℝ] F` as in
`EquivarianceToolbox.DiscreteLinear`; the commutation needs an operator, so it is stated for
`Hop : E →L[ℝ] E` with `⟪Hop x, y⟫ = L'' x y` on a real inner product space (as in
`EquivarianceToolbox.Sharpness`). Orthogonality of `M` is `⟪M x, M y⟫ = ⟪x, y⟫` together with
surjectivity (automatic in finite dimension, but not assumed here).

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 6, eq. (9) and the remarks after it.
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

section Block

variable {E F : Type*}
  [NormedAddCommGroup E] [NormedAddCommGroup F] [NormedSpace ℝ E] [NormedSpace ℝ F]

/-- In a real vector space, `-a = a` forces `a = 0` (used for the block structure of Section 6 of
arXiv:2512.21447). -/
private theorem block_eq_zero_of_neg_eq_self {a : F} (h : -a = a) : a = 0 := by
  have h2 : (2 : ℝ) • a = 0 := by
    rw [two_smul ℝ a]
    exact neg_eq_iff_add_eq_zero.mp h
  calc a = (2 : ℝ)⁻¹ • (2 : ℝ) • a := (inv_smul_smul₀ (two_ne_zero : (2 : ℝ) ≠ 0) a).symm
    _ = 0 := by rw [h2, smul_zero]

/-- **Block structure from conjugation invariance** (Section 6 of arXiv:2512.21447). If
`H (M x) (M y) = H x y` for all `x y`, then `H` vanishes between the fixed space and the flipped
space of `M`: for `M x = x` and `M y = -y`, `H x y = 0` and `H y x = 0`. -/
theorem hessian_block_of_conj {H : E →L[ℝ] E →L[ℝ] F} {M : E →L[ℝ] E}
    (hconj : ∀ x y, H (M x) (M y) = H x y) {x y : E} (hx : M x = x) (hy : M y = -y) :
    H x y = 0 ∧ H y x = 0 := by
  have h₁ := hconj x y
  rw [hx, hy, ContinuousLinearMap.map_neg] at h₁
  have h₂ := hconj y x
  rw [hy, hx, ContinuousLinearMap.map_neg, neg_apply] at h₂
  exact ⟨block_eq_zero_of_neg_eq_self h₁, block_eq_zero_of_neg_eq_self h₂⟩

/-- **Section 6 of arXiv:2512.21447 (block structure of the Hessian at a fixed point).** Under
the hypotheses of `discrete_linear_hessian` (`L (M ϑ) = L ϑ` near `θ`, `M θ = θ`, `L'` the
derivative of `L` near `θ`, `L''` its derivative at `θ`), the Hessian has no block between `ker (M - I)` and
`ker (M + I)`: if `M x = x` and `M y = -y`, then `L'' x y = 0` and `L'' y x = 0`. -/
theorem discrete_linear_hessian_block {L : E → F} {L' : E → E →L[ℝ] F}
    {L'' : E →L[ℝ] E →L[ℝ] F} {M : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) {x y : E}
    (hx : M x = x) (hy : M y = -y) :
    L'' x y = 0 ∧ L'' y x = 0 :=
  hessian_block_of_conj (fun u w => discrete_linear_hessian hinv hfix hL hL' u w) hx hy

end Block

section Commute

variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

/-- **Commutation from conjugation invariance** (Section 6 of arXiv:2512.21447). If
`⟪Hop (M x), M y⟫ = ⟪Hop x, y⟫` for all `x y` (i.e. `Mᵀ Hop M = Hop`) and `M` is orthogonal
(`⟪M x, M y⟫ = ⟪x, y⟫` and `M` surjective), then `Hop ∘L M = M ∘L Hop`. -/
theorem commute_of_conj_invariant {Hop M : E →L[ℝ] E}
    (hconj : ∀ x y, inner ℝ (Hop (M x)) (M y) = inner ℝ (Hop x) y)
    (horth : ∀ x y, inner ℝ (M x) (M y) = inner ℝ x y) (hsurj : Function.Surjective M) :
    Hop ∘L M = M ∘L Hop := by
  refine ContinuousLinearMap.ext fun x => ?_
  rw [ContinuousLinearMap.comp_apply, ContinuousLinearMap.comp_apply]
  refine ext_inner_right ℝ fun w => ?_
  obtain ⟨y, rfl⟩ := hsurj w
  rw [hconj, horth]

/-- **Section 6 of arXiv:2512.21447 (`H M = M H` for an orthogonal linear symmetry).** Under the
hypotheses of `discrete_linear_hessian`, let `M` be orthogonal (`⟪M x, M y⟫ = ⟪x, y⟫`, `M`
surjective) and let `Hop : E →L[ℝ] E` represent the Hessian, `⟪Hop x, y⟫ = L'' x y`. Then
`Hop ∘L M = M ∘L Hop`. -/
theorem discrete_linear_hessian_commute {L : E → ℝ} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {M Hop : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hH : ∀ x y, inner ℝ (Hop x) y = L'' x y)
    (horth : ∀ x y, inner ℝ (M x) (M y) = inner ℝ x y) (hsurj : Function.Surjective M) :
    Hop ∘L M = M ∘L Hop := by
  refine commute_of_conj_invariant (fun x y => ?_) horth hsurj
  rw [hH, hH]
  exact discrete_linear_hessian hinv hfix hL hL' x y

end Commute

end EquivarianceToolbox
