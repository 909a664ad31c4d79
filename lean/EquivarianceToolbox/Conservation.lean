/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.ContDiff.Operations
import Mathlib.Analysis.Calculus.Deriv.Add
import Mathlib.Analysis.Calculus.Deriv.Comp
import Mathlib.Analysis.Calculus.Deriv.Inv
import Mathlib.Analysis.Calculus.Deriv.Mul
import Mathlib.Analysis.Calculus.Deriv.Prod
import Mathlib.Analysis.Calculus.FDeriv.Mul
import Mathlib.Analysis.Calculus.FDeriv.Prod
import Mathlib.Analysis.InnerProductSpace.Calculus
import Mathlib.Analysis.Normed.Operator.Mul
import Mathlib.Analysis.Normed.Ring.Units
import Mathlib.Tactic.LinearCombination

/-!
# Conservation laws from rescaling and reparameterization symmetries

Section 4.1 of the paper applies eq. (2) (`∇L(θ)ᵀ v = 0` for a symmetry) to two symmetries of
neural networks.

* **Rescaling.** If `L (a • u, a⁻¹ • w) = L (u, w)` for `a > 0` (a hidden ReLU unit with incoming
  weights `u` and outgoing weights `w`), then `⟨∇_u L, u⟩ - ⟨∇_w L, w⟩ = 0`, and under gradient
  flow `‖u‖² - ‖w‖²` is constant.
* **Reparameterization.** If `L (A ∘ W₁, W₂ ∘ A⁻¹) = L (W₁, W₂)` for invertible `A` near the
  identity (the loss depends on `(W₁, W₂)` only through `W₂ ∘ W₁`), then
  `∇_{W₁} L W₁ᵀ = W₂ᵀ ∇_{W₂} L`.

## Main results

* `EquivarianceToolbox.rescaling_conservation`: for `L : E₁ × E₂ → ℝ` with derivative `D` at
  `(u, w)` and the rescaling invariance for `a` near `1`, `D (u, 0) - D (0, w) = 0`, i.e.
  `⟨∇_u L, u⟩ - ⟨∇_w L, w⟩ = 0` (`D (u, 0) = ∂_u L (u, w) u` and `D (0, w) = ∂_w L (u, w) w`).
* `EquivarianceToolbox.rescaling_conservation_flow`: the gradient-flow consequence. If
  `u' = -∇_u L` and `w' = -∇_w L` at time `t` (stated through inner products), then
  `d/dt (‖u t‖² - ‖w t‖²) = 0`.
* `EquivarianceToolbox.reparam_conservation`: for `L` on pairs of continuous linear maps
  `W₁ : E₀ →L[ℝ] E`, `W₂ : E →L[ℝ] F₀` with derivative `D` at `(W₁, W₂)`, invariant under
  `(W₁, W₂) ↦ (A ∘L W₁, W₂ ∘L A⁻¹)` for invertible `A` near `1`, one has
  `D (B ∘L W₁, 0) = D (0, W₂ ∘L B)` for every `B : E →L[ℝ] E`. With the Frobenius pairing this is
  `⟨∇_{W₁} L W₁ᵀ, B⟩ = ⟨W₂ᵀ ∇_{W₂} L, B⟩` for all `B`, i.e. `∇_{W₁} L W₁ᵀ = W₂ᵀ ∇_{W₂} L`.

## Implementation notes

All derivatives are data (`HasFDerivAt`, `HasDerivAt`). Partial derivatives are read off the
joint derivative `D` of `L` on the product space: `∂_u L (u, w) x = D (x, 0)` and
`∂_w L (u, w) y = D (0, y)`. The rescaling identity differentiates the constant function
`a ↦ L (a • u, a⁻¹ • w)` at `a = 1` along the curve `a ↦ (a • u, a⁻¹ • w)` (velocity `(u, -w)`).
The gradient flow is stated at one time `t` through `⟪u'(t), x⟫ = -∂_u L x` for all `x` (this is
`u' = -∇_u L` in a real inner product space), and `HasDerivAt.norm_sq` differentiates `‖u t‖²`.

For the reparameterization, the inverse of `A` is `Ring.inverse A` in the Banach algebra
`E →L[ℝ] E` (which needs `[CompleteSpace E]`); near `1` every `A` is a unit (`Units.isOpen`), so
the invariance hypothesis is only required for units. The derivative of `Ring.inverse` at `1` is
`B ↦ -(1 * B * 1) = -B` (`hasFDerivAt_ringInverse`). The conservation of `W₁ W₁ᵀ - W₂ᵀ W₂` under
gradient flow is not formalized here.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 4.1 (eq. (2), rescaling and reparameterization symmetries).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

section Rescaling

variable {E₁ E₂ : Type*}
  [NormedAddCommGroup E₁] [NormedSpace ℝ E₁]
  [NormedAddCommGroup E₂] [NormedSpace ℝ E₂]

/-- **Rescaling symmetry, first-order identity (Section 4.1 of arXiv:2512.21447).**
If `L (a • u, a⁻¹ • w) = L (u, w)` for `a` near `1` and `L` has derivative `D` at `(u, w)`, then
`D (u, 0) - D (0, w) = 0`, i.e. `⟨∇_u L, u⟩ - ⟨∇_w L, w⟩ = 0` (eq. (2) with `v = (u, -w)`). -/
theorem rescaling_conservation {L : E₁ × E₂ → ℝ} {D : E₁ × E₂ →L[ℝ] ℝ} {u : E₁} {w : E₂}
    (hinv : ∀ᶠ a in 𝓝 (1 : ℝ), L (a • u, a⁻¹ • w) = L (u, w))
    (hL : HasFDerivAt L D (u, w)) :
    D (u, 0) - D (0, w) = 0 := by
  -- the curve `a ↦ (a • u, a⁻¹ • w)` and its velocity at `a = 1`
  have h₁ : HasDerivAt (fun a : ℝ => a • u) ((1 : ℝ) • u) 1 :=
    (hasDerivAt_id' (1 : ℝ)).smul_const u
  have h₂ : HasDerivAt (fun a : ℝ => a⁻¹ • w) ((-((1 : ℝ) ^ 2)⁻¹) • w) 1 :=
    (hasDerivAt_inv (one_ne_zero : (1 : ℝ) ≠ 0)).smul_const w
  have hγ : HasDerivAt (fun a : ℝ => (a • u, a⁻¹ • w))
      ((1 : ℝ) • u, (-((1 : ℝ) ^ 2)⁻¹) • w) 1 :=
    h₁.prodMk h₂
  have hpt : (u, w) = ((1 : ℝ) • u, (1 : ℝ)⁻¹ • w) := by
    rw [one_smul, inv_one, one_smul]
  -- chain rule for `a ↦ L (a • u, a⁻¹ • w)` at `a = 1`
  have hcomp : HasDerivAt (fun a : ℝ => L (a • u, a⁻¹ • w))
      (D ((1 : ℝ) • u, (-((1 : ℝ) ^ 2)⁻¹) • w)) 1 :=
    hL.comp_hasDerivAt_of_eq 1 hγ hpt
  -- the same function is constant near `a = 1`
  have hinv' : (fun a : ℝ => L (a • u, a⁻¹ • w)) =ᶠ[𝓝 (1 : ℝ)] fun _ => L (u, w) := hinv
  have hconst : HasDerivAt (fun a : ℝ => L (a • u, a⁻¹ • w)) 0 1 :=
    (hasDerivAt_const (1 : ℝ) (L (u, w))).congr_of_eventuallyEq hinv'
  have key : D ((1 : ℝ) • u, (-((1 : ℝ) ^ 2)⁻¹) • w) = 0 := hcomp.unique hconst
  -- the velocity is `(u, 0) - (0, w)`
  have hv : ((1 : ℝ) • u, (-((1 : ℝ) ^ 2)⁻¹) • w) = (u, (0 : E₂)) - ((0 : E₁), w) := by
    rw [Prod.mk_sub_mk, sub_zero, zero_sub, one_smul, one_pow, inv_one, neg_smul, one_smul]
  rw [hv, ContinuousLinearMap.map_sub] at key
  exact key

end Rescaling

section RescalingFlow

variable {E₁ E₂ : Type*}
  [NormedAddCommGroup E₁] [InnerProductSpace ℝ E₁]
  [NormedAddCommGroup E₂] [InnerProductSpace ℝ E₂]

/-- **Rescaling symmetry, conservation law under gradient flow (Section 4.1 of
arXiv:2512.21447).** Let `L : E₁ × E₂ → ℝ` be invariant under `(u, w) ↦ (a • u, a⁻¹ • w)` for `a`
near `1` at the point `(u t, w t)`, with derivative `D` there. If the curves `u`, `w` have
velocities `u'`, `w'` at time `t` and follow the gradient flow, `⟪u', x⟫ = -D (x, 0)` and
`⟪w', y⟫ = -D (0, y)` (i.e. `u' = -∇_u L`, `w' = -∇_w L`), then
`d/dt (‖u t‖² - ‖w t‖²) = 0`. -/
theorem rescaling_conservation_flow {L : E₁ × E₂ → ℝ} {D : E₁ × E₂ →L[ℝ] ℝ}
    {u : ℝ → E₁} {w : ℝ → E₂} {u' : E₁} {w' : E₂} {t : ℝ}
    (hinv : ∀ᶠ a in 𝓝 (1 : ℝ), L (a • u t, a⁻¹ • w t) = L (u t, w t))
    (hL : HasFDerivAt L D (u t, w t)) (hu : HasDerivAt u u' t) (hw : HasDerivAt w w' t)
    (hflow_u : ∀ x : E₁, inner ℝ u' x = -D (x, 0))
    (hflow_w : ∀ y : E₂, inner ℝ w' y = -D (0, y)) :
    HasDerivAt (fun s => ‖u s‖ ^ 2 - ‖w s‖ ^ 2) 0 t := by
  have hU : HasDerivAt (fun s => ‖u s‖ ^ 2) (2 * inner ℝ (u t) u') t := hu.norm_sq
  have hW : HasDerivAt (fun s => ‖w s‖ ^ 2) (2 * inner ℝ (w t) w') t := hw.norm_sq
  have key : D (u t, 0) - D (0, w t) = 0 := rescaling_conservation hinv hL
  have e₁ : inner ℝ (u t) u' = -D (u t, 0) :=
    (real_inner_comm u' (u t)).trans (hflow_u (u t))
  have e₂ : inner ℝ (w t) w' = -D (0, w t) :=
    (real_inner_comm w' (w t)).trans (hflow_w (w t))
  have hval : 2 * inner ℝ (u t) u' - 2 * inner ℝ (w t) w' = 0 := by
    linear_combination 2 * e₁ - 2 * e₂ - 2 * key
  exact (hU.fun_sub hW).congr_deriv hval

end RescalingFlow

section Reparam

variable {E₀ E F₀ : Type*}
  [NormedAddCommGroup E₀] [NormedSpace ℝ E₀]
  [NormedAddCommGroup E] [NormedSpace ℝ E] [CompleteSpace E]
  [NormedAddCommGroup F₀] [NormedSpace ℝ F₀]

/-- **Reparameterization symmetry, first-order identity (Section 4.1 of arXiv:2512.21447).**
Let `L` be a function of `(W₁, W₂)` with `W₁ : E₀ →L[ℝ] E`, `W₂ : E →L[ℝ] F₀`, with derivative `D`
at `(W₁, W₂)`, and invariant under `(W₁, W₂) ↦ (A ∘L W₁, W₂ ∘L A⁻¹)` for every invertible `A`
near the identity (`A⁻¹ = Ring.inverse A`). Then for every `B : E →L[ℝ] E`,
`D (B ∘L W₁, 0) = D (0, W₂ ∘L B)`, i.e. `∇_{W₁} L W₁ᵀ = W₂ᵀ ∇_{W₂} L` (eq. (2) with
`v [B] = (B W₁, -W₂ B)`). -/
theorem reparam_conservation {L : (E₀ →L[ℝ] E) × (E →L[ℝ] F₀) → ℝ}
    {D : (E₀ →L[ℝ] E) × (E →L[ℝ] F₀) →L[ℝ] ℝ} {W₁ : E₀ →L[ℝ] E} {W₂ : E →L[ℝ] F₀}
    (hinv : ∀ᶠ A in 𝓝 (1 : E →L[ℝ] E), IsUnit A →
      L (A ∘L W₁, W₂ ∘L Ring.inverse A) = L (W₁, W₂))
    (hL : HasFDerivAt L D (W₁, W₂)) (B : E →L[ℝ] E) :
    D (B ∘L W₁, 0) = D (0, W₂ ∘L B) := by
  -- derivative of the inversion at the identity
  have hI : HasFDerivAt (Ring.inverse : (E →L[ℝ] E) → E →L[ℝ] E)
      (-ContinuousLinearMap.mulLeftRight ℝ (E →L[ℝ] E) 1 1) (1 : E →L[ℝ] E) := by
    -- at the unit `1`: `↑(1⁻¹) = 1` and `↑1 = 1`
    have h := hasFDerivAt_ringInverse (𝕜 := ℝ) (1 : (E →L[ℝ] E)ˣ)
    simp only [inv_one, Units.val_one] at h
    exact h
  -- `A ↦ W₂ ∘L A⁻¹`
  have hP₂ : HasFDerivAt
      (fun A : E →L[ℝ] E => ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse A))
      ((ContinuousLinearMap.compL ℝ E E F₀ W₂).comp
        (-ContinuousLinearMap.mulLeftRight ℝ (E →L[ℝ] E) 1 1)) (1 : E →L[ℝ] E) :=
    HasFDerivAt.comp (f := (Ring.inverse : (E →L[ℝ] E) → E →L[ℝ] E)) (1 : E →L[ℝ] E)
      (ContinuousLinearMap.compL ℝ E E F₀ W₂).hasFDerivAt hI
  -- `A ↦ (A ∘L W₁, W₂ ∘L A⁻¹)`
  have hP : HasFDerivAt
      (fun A : E →L[ℝ] E => ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ A,
        ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse A)))
      (((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁).prod
        ((ContinuousLinearMap.compL ℝ E E F₀ W₂).comp
          (-ContinuousLinearMap.mulLeftRight ℝ (E →L[ℝ] E) 1 1))) (1 : E →L[ℝ] E) :=
    ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁).hasFDerivAt.prodMk hP₂
  -- at `A = 1` the curve passes through `(W₁, W₂)`
  have hinv1 : Ring.inverse (1 : E →L[ℝ] E) = 1 := Ring.inverse_one (E →L[ℝ] E)  -- `M₀` is explicit
  have hc₁ : (1 : E →L[ℝ] E) ∘L W₁ = W₁ := by
    rw [ContinuousLinearMap.one_def, ContinuousLinearMap.id_comp]
  have hc₂ : W₂ ∘L (1 : E →L[ℝ] E) = W₂ := by
    rw [ContinuousLinearMap.one_def, ContinuousLinearMap.comp_id]
  have hpt : ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ (1 : E →L[ℝ] E),
      ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse (1 : E →L[ℝ] E))) = (W₁, W₂) := by
    rw [hinv1, ContinuousLinearMap.flip_apply, ContinuousLinearMap.compL_apply,
      ContinuousLinearMap.compL_apply, hc₁, hc₂]
  have hL' : HasFDerivAt L D ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ (1 : E →L[ℝ] E),
      ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse (1 : E →L[ℝ] E))) := by
    rw [hpt]
    exact hL
  -- chain rule; the inner map is passed by name, so that the point of `hL'` is compared with
  -- `(fun A => …) 1` by beta reduction instead of by higher-order unification of `?f 1`
  have hΦ : HasFDerivAt
      (fun A : E →L[ℝ] E => L ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ A,
        ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse A)))
      (D ∘L (((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁).prod
        ((ContinuousLinearMap.compL ℝ E E F₀ W₂).comp
          (-ContinuousLinearMap.mulLeftRight ℝ (E →L[ℝ] E) 1 1)))) (1 : E →L[ℝ] E) :=
    HasFDerivAt.comp (f := fun A : E →L[ℝ] E => ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ A,
        ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse A)))
      (1 : E →L[ℝ] E) hL' hP
  -- near `1` every `A` is a unit, so the composite is constant near `1`
  have hU₀ : {A : E →L[ℝ] E | IsUnit A} ∈ 𝓝 (1 : E →L[ℝ] E) :=
    IsOpen.mem_nhds Units.isOpen isUnit_one
  have hU : ∀ᶠ A in 𝓝 (1 : E →L[ℝ] E), IsUnit A := hU₀
  have hEv : (fun A : E →L[ℝ] E => L ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ A,
      ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse A))) =ᶠ[𝓝 (1 : E →L[ℝ] E)]
      fun _ => L (W₁, W₂) := by
    filter_upwards [hinv, hU] with A hA hAu
    rw [ContinuousLinearMap.flip_apply, ContinuousLinearMap.compL_apply,
      ContinuousLinearMap.compL_apply]
    exact hA hAu
  have hconst : HasFDerivAt
      (fun A : E →L[ℝ] E => L ((ContinuousLinearMap.compL ℝ E₀ E E).flip W₁ A,
        ContinuousLinearMap.compL ℝ E E F₀ W₂ (Ring.inverse A)))
      (0 : (E →L[ℝ] E) →L[ℝ] ℝ) (1 : E →L[ℝ] E) :=
    (hasFDerivAt_const (𝕜 := ℝ) (L (W₁, W₂)) (1 : E →L[ℝ] E)).congr_of_eventuallyEq hEv
  have key := hΦ.unique hconst
  -- evaluate at `B`: `D (B ∘L W₁, -(W₂ ∘L B)) = 0`
  have hB : D (B ∘L W₁, -(W₂ ∘L B)) = 0 := by
    have h0 := DFunLike.congr_fun key B
    -- `h0 : (D ∘L (… .prod …)) B = (0 : _ →L[ℝ] ℝ) B`; the simp set evaluates both sides, and
    -- `mulLeftRight ℝ _ 1 1 B = 1 * B * 1 = B`
    simp only [ContinuousLinearMap.comp_apply, ContinuousLinearMap.prod_apply,
      ContinuousLinearMap.flip_apply, ContinuousLinearMap.compL_apply, neg_apply,
      ContinuousLinearMap.mulLeftRight_apply, one_mul, mul_one, ContinuousLinearMap.comp_neg,
      zero_apply] at h0
    exact h0
  -- `D (B ∘L W₁, 0) - D (0, W₂ ∘L B) = D (B ∘L W₁, -(W₂ ∘L B))`, by linearity of `D`
  have hsub : D (B ∘L W₁, 0) - D (0, W₂ ∘L B) = D (B ∘L W₁, -(W₂ ∘L B)) := by
    have h1 := D.map_sub (B ∘L W₁, 0) (0, W₂ ∘L B)
    rw [Prod.mk_sub_mk, sub_zero, zero_sub] at h1
    exact h1.symm
  exact sub_eq_zero.mp (hsub.trans hB)

end Reparam

end EquivarianceToolbox
