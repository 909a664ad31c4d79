/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.Deriv.Comp
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Mul
import Mathlib.Analysis.Calculus.FDeriv.Symmetric
import Mathlib.Analysis.InnerProductSpace.Symmetric
import Mathlib.Tactic.Ring

/-!
# Eq. (5): a quadratic Noether charge exists iff the generator is symmetric

Section 5.2 of the paper: for the symmetry `T (a, θ) = e^{a A} θ` the characteristic direction is
`v (θ) = A θ`. A function `Q` with `∇Q = v` is conserved by gradient flow, because
`dQ/dt = -⟨v, ∇L⟩ = 0` by eq. (2). Such a `Q` exists iff `A = Aᵀ`, and then `Q (θ) = ½ θᵀ A θ`
(eq. (5)).

## Main results

* `EquivarianceToolbox.exists_hasFDerivAt_eq_iff_symm`: for a bilinear `B : E →L[ℝ] E →L[ℝ] ℝ`,
  the covector field `θ ↦ B θ` is a derivative field (`∃ Q, ∀ θ, HasFDerivAt Q (B θ) θ`) iff `B`
  is symmetric.
* `EquivarianceToolbox.hasFDerivAt_half_quadratic`: for symmetric `B`, `Q θ = ½ B θ θ` has
  derivative `B θ` at every `θ`.
* `EquivarianceToolbox.noether_charge_iff_symmetric`: eq. (5) in a real inner product space: with
  `B x y = ⟪A x, y⟫` (the field `v (θ) = A θ` as covectors), a `Q` with `∇Q = A θ` exists iff `A`
  is symmetric.
* `EquivarianceToolbox.noether_charge_conserved`: for symmetric `A`, `Q (θ) = ½ ⟪A θ, θ⟫` has
  `dQ/dt = 0` along gradient flow at every time where eq. (2), `∇L(θ) ⬝ A θ = 0`, holds.

## Implementation notes

The forward direction is the symmetry of second derivatives
(`second_derivative_symmetric`): the derivative of the field `θ ↦ B θ` is `B` itself. The gradient
`∇Q = A θ` is stated through the Riesz form `Q' (θ) = ⟪A θ, ·⟫`, given as a bilinear map `B` with
`B x y = ⟪A x, y⟫`; the gradient flow is stated as in `EquivarianceToolbox.HomogeneityFlow`,
`⟪θ', x⟫ = -L' x` for all `x`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 5.2, eq. (5).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

section Bilinear

variable {E : Type*} [NormedAddCommGroup E] [NormedSpace ℝ E]

/-- **The quadratic form of a symmetric bilinear map** (eq. (5) of arXiv:2512.21447): if
`B x y = B y x`, then `Q θ = ½ B θ θ` has derivative `B θ` at every `θ`. -/
theorem hasFDerivAt_half_quadratic {B : E →L[ℝ] E →L[ℝ] ℝ} (hB : ∀ x y, B x y = B y x)
    (θ : E) : HasFDerivAt (fun ϑ => (1 / 2 : ℝ) * B ϑ ϑ) (B θ) θ := by
  have h₁ : HasFDerivAt (fun ϑ => B ϑ ϑ) ((B θ).comp (ContinuousLinearMap.id ℝ E) + B.flip θ) θ :=
    B.hasFDerivAt.clm_apply (hasFDerivAt_id θ)
  have h₂ : HasFDerivAt (fun ϑ => (1 / 2 : ℝ) * B ϑ ϑ)
      ((1 / 2 : ℝ) • ((B θ).comp (ContinuousLinearMap.id ℝ E) + B.flip θ)) θ :=
    h₁.const_mul (1 / 2 : ℝ)
  refine h₂.congr_fderiv (ContinuousLinearMap.ext fun δ => ?_)
  have hδ : ((1 / 2 : ℝ) • ((B θ).comp (ContinuousLinearMap.id ℝ E) + B.flip θ)) δ =
      (1 / 2 : ℝ) * (B θ δ + B δ θ) := by
    simp only [smul_apply, add_apply, ContinuousLinearMap.comp_apply,
      ContinuousLinearMap.id_apply, ContinuousLinearMap.flip_apply, smul_eq_mul]
  rw [hδ, hB δ θ]
  ring

/-- **Eq. (5) of arXiv:2512.21447, bilinear form.** The covector field `θ ↦ B θ` of a bilinear map
`B : E →L[ℝ] E →L[ℝ] ℝ` is the derivative field of some `Q : E → ℝ` iff `B` is symmetric; then
`Q θ = ½ B θ θ` is one (`hasFDerivAt_half_quadratic`). -/
theorem exists_hasFDerivAt_eq_iff_symm (B : E →L[ℝ] E →L[ℝ] ℝ) :
    (∃ Q : E → ℝ, ∀ θ, HasFDerivAt Q (B θ) θ) ↔ ∀ x y, B x y = B y x := by
  constructor
  · rintro ⟨Q, hQ⟩ x y
    exact second_derivative_symmetric (f' := fun θ => B θ) (f'' := B) hQ B.hasFDerivAt x y
  · intro hB
    exact ⟨fun θ => (1 / 2 : ℝ) * B θ θ, hasFDerivAt_half_quadratic hB⟩

end Bilinear

section InnerProduct

variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

/-- **Symmetric generator, bilinear form** (used for eq. (5) of arXiv:2512.21447): if
`B x y = ⟪A x, y⟫` and `A` is symmetric, then `B` is symmetric. -/
theorem symm_of_isSymmetric {A : E →L[ℝ] E} {B : E →L[ℝ] E →L[ℝ] ℝ}
    (hB : ∀ x y, B x y = inner ℝ (A x) y) (hA : (A : E →ₗ[ℝ] E).IsSymmetric) (x y : E) :
    B x y = B y x := by
  have h : inner ℝ (A x) y = inner ℝ x (A y) := hA x y
  rw [hB, hB, h]
  exact real_inner_comm (A y) x

/-- **Eq. (5) of arXiv:2512.21447 (a Noether charge exists iff the generator is symmetric).**
Let `A : E →L[ℝ] E` generate the symmetry `T (a, θ) = e^{a A} θ`, so that `v (θ) = A θ`, and let
`B x y = ⟪A x, y⟫` (the field `v` as covectors). Some `Q : E → ℝ` has `∇Q (θ) = A θ` at every `θ`
(`HasFDerivAt Q (B θ) θ`) iff `A` is symmetric; then `Q (θ) = ½ θᵀ A θ`. -/
theorem noether_charge_iff_symmetric (A : E →L[ℝ] E) (B : E →L[ℝ] E →L[ℝ] ℝ)
    (hB : ∀ x y, B x y = inner ℝ (A x) y) :
    (∃ Q : E → ℝ, ∀ θ, HasFDerivAt Q (B θ) θ) ↔ (A : E →ₗ[ℝ] E).IsSymmetric := by
  rw [exists_hasFDerivAt_eq_iff_symm]
  constructor
  · intro h x y
    show inner ℝ (A x) y = inner ℝ x (A y)
    rw [← hB, h x y, hB]
    exact real_inner_comm x (A y)
  · intro hA x y
    exact symm_of_isSymmetric hB hA x y

/-- **Eq. (5) of arXiv:2512.21447 (the charge is conserved by gradient flow).** For symmetric `A`
and `B x y = ⟪A x, y⟫`, let `θ` have velocity `θ'` at time `t` with `⟪θ', x⟫ = -L' x` for all `x`
(gradient flow, `L'` the derivative of the loss at `θ t`), and let eq. (2) hold there,
`L' (A (θ t)) = 0`. Then `Q (θ) = ½ ⟪A θ, θ⟫` has `d/dt Q (θ t) = 0`. -/
theorem noether_charge_conserved {A : E →L[ℝ] E} {B : E →L[ℝ] E →L[ℝ] ℝ}
    (hB : ∀ x y, B x y = inner ℝ (A x) y) (hA : (A : E →ₗ[ℝ] E).IsSymmetric)
    {L' : E →L[ℝ] ℝ} {θ : ℝ → E} {θ' : E} {t : ℝ} (hθ : HasDerivAt θ θ' t)
    (hflow : ∀ x, inner ℝ θ' x = -L' x) (horth : L' (A (θ t)) = 0) :
    HasDerivAt (fun s => (1 / 2 : ℝ) * B (θ s) (θ s)) 0 t := by
  have hQ : HasFDerivAt (fun ϑ => (1 / 2 : ℝ) * B ϑ ϑ) (B (θ t)) (θ t) :=
    hasFDerivAt_half_quadratic (symm_of_isSymmetric hB hA) (θ t)
  have h₁ : HasDerivAt (fun s => (1 / 2 : ℝ) * B (θ s) (θ s)) (B (θ t) θ') t :=
    hQ.comp_hasDerivAt t hθ
  have hval : B (θ t) θ' = 0 := by
    rw [hB, real_inner_comm, hflow, horth, neg_zero]
  exact h₁.congr_deriv hval

end InnerProduct

end EquivarianceToolbox
