/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.FDeriv.Comp
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Congr
import Mathlib.Analysis.Calculus.FDeriv.Const
import Mathlib.Analysis.Calculus.FDeriv.Linear
import Mathlib.Analysis.Calculus.FDeriv.Prod
import Mathlib.Analysis.Normed.Operator.Bilinear
import Mathlib.Topology.Constructions.SumProd

/-!
# Last-layer equivariance: curvature along `(B W, 0)`

The model `f (W, φ) = W (h φ)` has a linear last layer `W : F₀ →L[ℝ] F` on top of features
`h φ : F₀` (eq. (6) of the paper). It is equivariant under `T (A, (W, φ)) = (A W, φ)`,
`S (A, y) = A y`, with characteristic direction `v(A, θ)[B] = (A⁻¹ B W, 0)` and characteristic
output `w(A, y)[B] = A⁻¹ B y`. Corollary 3 (eq. (7)) says that the Hessian of the loss
`L (W, φ) = ℓ (W (h φ))` along these directions equals the Hessian of `ℓ` at `y = W (h φ)` along
the corresponding output directions: `vᵀ H v = wᵀ ∇²ℓ(y) w`.

## Main results

* `EquivarianceToolbox.corollary3_last_layer`: for all `B₁ B₂ : F →L[ℝ] F`,
  `L'' (B₁ ∘L W, 0) (B₂ ∘L W, 0) = ℓ'' (B₁ y) (B₂ y)` with `y = W (h φ)`. This is eq. (7) at
  `A = I`; since `A⁻¹ B` is again an arbitrary operator, it covers every good position.
* `EquivarianceToolbox.corollary3_last_layer_of_equiv`: eq. (7) at a good position
  `A : F ≃L[ℝ] F`, with `v[B] = (A⁻¹ B W, 0)` and `w[B] = A⁻¹ B y`.

## Implementation notes

The loss is a function `L : (F₀ →L[ℝ] F) × E₀ → ℝ` with `L (V, ψ) = ℓ (V (h ψ))`, given with its
derivative field `L'` and its second derivative `L''` at `(W, φ)` as data; `ℓ` likewise comes
with `ℓ'` and `ℓ''`. No differentiability of the features `h` is assumed beyond what the existence
of `L'` implies. The proof restricts `L` to the affine slice `V ↦ (V, φ)` (derivative
`ContinuousLinearMap.inl`), where it equals `ℓ ∘ ev` with `ev = ContinuousLinearMap.apply ℝ F (h φ)`
the evaluation at `h φ`. Both derivative fields along the slice, `L' (V, φ) ∘L inl` and
`ℓ' (ev V) ∘L ev`, agree for every `V` (`HasFDerivAt.unique`); differentiating them once more
(`HasFDerivAt.clm_comp` with a constant right factor) and comparing at `V = W` gives
`L'' (inl D₁) (inl D₂) = ℓ'' (D₁ (h φ)) (D₂ (h φ))`, then `Dᵢ = Bᵢ ∘L W`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 5.3, eq. (6), Corollary 3 and eq. (7).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

variable {E₀ F₀ F : Type*}
  [NormedAddCommGroup E₀] [NormedSpace ℝ E₀]
  [NormedAddCommGroup F₀] [NormedSpace ℝ F₀]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- Second-order chain rule through a map with constant derivative, used for Corollary 3
(eq. (7)) of arXiv:2512.21447. If `g` has derivative `A` at `x₀` and `Φ'` has derivative `Φ''`
at `g x₀`, then `x ↦ Φ' (g x) ∘L A` has derivative `D ↦ (Φ'' (A D)) ∘L A` at `x₀`, i.e.
`(compL.flip A) ∘L (Φ'' ∘L A)`. -/
theorem hasFDerivAt_comp_clm_comp_const {X Y Z : Type*}
    [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
    [NormedAddCommGroup Z] [NormedSpace ℝ Z]
    {g : X → Y} {A : X →L[ℝ] Y} {Φ' : Y → Y →L[ℝ] Z} {Φ'' : Y →L[ℝ] Y →L[ℝ] Z} {x₀ : X}
    (hg : HasFDerivAt g A x₀) (hΦ' : HasFDerivAt Φ' Φ'' (g x₀)) :
    HasFDerivAt (fun x => Φ' (g x) ∘L A)
      (((ContinuousLinearMap.compL ℝ X Y Z).flip A) ∘L (Φ'' ∘L A)) x₀ := by
  have h1 : HasFDerivAt (fun x => Φ' (g x)) (Φ'' ∘L A) x₀ := hΦ'.comp x₀ hg
  have h2 : HasFDerivAt (fun x => Φ' (g x) ∘L A)
      ((ContinuousLinearMap.compL ℝ X Y Z (Φ' (g x₀))).comp (0 : X →L[ℝ] X →L[ℝ] Y) +
        ((ContinuousLinearMap.compL ℝ X Y Z).flip A).comp (Φ'' ∘L A)) x₀ :=
    h1.clm_comp (hasFDerivAt_const (𝕜 := ℝ) A x₀)
  refine h2.congr_fderiv ?_
  rw [ContinuousLinearMap.comp_zero, zero_add]

/-- **Corollary 3 / eq. (7) of arXiv:2512.21447 (last-layer equivariance).**
Let `L (V, ψ) = ℓ (V (h ψ))` for all `V : F₀ →L[ℝ] F` and `ψ : E₀`. Let `ℓ' y` be the derivative
of `ℓ` at every `y` near `W (h φ)`, with second derivative `ℓ''` at `y = W (h φ)`, and let `L' q`
be the derivative of `L` at every `q` near `(W, φ)`, with second derivative `L''` at `(W, φ)`
(all smoothness is local, so ReLU features `h` are covered where they are smooth). Then for all
`B₁ B₂ : F →L[ℝ] F`, the Hessian of `L` along the directions `(B₁ ∘L W, 0)` and `(B₂ ∘L W, 0)`
equals the Hessian of `ℓ` along `B₁ y` and `B₂ y`:
`L'' (B₁ ∘L W, 0) (B₂ ∘L W, 0) = ℓ'' (B₁ (W (h φ))) (B₂ (W (h φ)))`. -/
theorem corollary3_last_layer {ℓ : F → ℝ} {h : E₀ → F₀} {L : (F₀ →L[ℝ] F) × E₀ → ℝ}
    {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : (F₀ →L[ℝ] F) × E₀ → (F₀ →L[ℝ] F) × E₀ →L[ℝ] ℝ}
    {L'' : (F₀ →L[ℝ] F) × E₀ →L[ℝ] (F₀ →L[ℝ] F) × E₀ →L[ℝ] ℝ}
    {W : F₀ →L[ℝ] F} {φ : E₀}
    (hLdef : ∀ (V : F₀ →L[ℝ] F) (ψ : E₀), L (V, ψ) = ℓ (V (h ψ)))
    (hℓ : ∀ᶠ y in 𝓝 (W (h φ)), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (W (h φ)))
    (hL : ∀ᶠ q in 𝓝 (W, φ), HasFDerivAt L (L' q) q) (hL' : HasFDerivAt L' L'' (W, φ))
    (B₁ B₂ : F →L[ℝ] F) :
    L'' (B₁ ∘L W, 0) (B₂ ∘L W, 0) = ℓ'' (B₁ (W (h φ))) (B₂ (W (h φ))) := by
  -- the slice `V ↦ L (V, φ)` equals `ℓ ∘ ev`, `ev` the evaluation at `h φ`
  have hpt : ∀ V : F₀ →L[ℝ] F, L (V, φ) = ℓ (ContinuousLinearMap.apply ℝ F (h φ) V) := by
    intro V
    rw [hLdef V φ, ContinuousLinearMap.apply_apply]
  -- along the slice, `(V, φ)` is near `(W, φ)` and `ev V = V (h φ)` is near `W (h φ)`
  have hLV : ∀ᶠ V in 𝓝 W, HasFDerivAt L (L' (V, φ)) (V, φ) :=
    ((Continuous.prodMk_left φ).tendsto W).eventually hL
  have hev : Filter.Tendsto (⇑(ContinuousLinearMap.apply ℝ F (h φ))) (𝓝 W) (𝓝 (W (h φ))) := by
    have h0 := (ContinuousLinearMap.apply ℝ F (h φ)).continuous.tendsto W
    rw [ContinuousLinearMap.apply_apply] at h0
    exact h0
  have hℓV : ∀ᶠ V in 𝓝 W, HasFDerivAt ℓ (ℓ' (ContinuousLinearMap.apply ℝ F (h φ) V))
      (ContinuousLinearMap.apply ℝ F (h φ) V) :=
    hev.eventually hℓ
  -- the two derivative fields along the slice agree near `W`
  have hfield : ∀ᶠ V in 𝓝 W,
      L' (V, φ) ∘L ContinuousLinearMap.inl ℝ (F₀ →L[ℝ] F) E₀ =
        ℓ' (ContinuousLinearMap.apply ℝ F (h φ) V) ∘L ContinuousLinearMap.apply ℝ F (h φ) := by
    filter_upwards [hLV, hℓV] with V hLq hℓq
    have h1 : HasFDerivAt (fun V' : F₀ →L[ℝ] F => L (V', φ))
        (L' (V, φ) ∘L ContinuousLinearMap.inl ℝ (F₀ →L[ℝ] F) E₀) V :=
      HasFDerivAt.comp (f := fun V' : F₀ →L[ℝ] F => (V', φ)) V hLq
        (hasFDerivAt_prodMk_left V φ)
    have h2 : HasFDerivAt (fun V' : F₀ →L[ℝ] F => ℓ (ContinuousLinearMap.apply ℝ F (h φ) V'))
        (ℓ' (ContinuousLinearMap.apply ℝ F (h φ) V) ∘L ContinuousLinearMap.apply ℝ F (h φ)) V :=
      HasFDerivAt.comp (f := ⇑(ContinuousLinearMap.apply ℝ F (h φ))) V hℓq
        (ContinuousLinearMap.apply ℝ F (h φ)).hasFDerivAt
    have h12 : (fun V' : F₀ →L[ℝ] F => L (V', φ)) =ᶠ[𝓝 V]
        fun V' : F₀ →L[ℝ] F => ℓ (ContinuousLinearMap.apply ℝ F (h φ) V') :=
      Filter.Eventually.of_forall hpt
    exact h1.unique (h2.congr_of_eventuallyEq h12)
  -- second derivatives of both fields at `W`
  have hA : HasFDerivAt
      (fun V : F₀ →L[ℝ] F => L' (V, φ) ∘L ContinuousLinearMap.inl ℝ (F₀ →L[ℝ] F) E₀)
      (((ContinuousLinearMap.compL ℝ (F₀ →L[ℝ] F) ((F₀ →L[ℝ] F) × E₀) ℝ).flip
          (ContinuousLinearMap.inl ℝ (F₀ →L[ℝ] F) E₀)) ∘L
        (L'' ∘L ContinuousLinearMap.inl ℝ (F₀ →L[ℝ] F) E₀)) W :=
    hasFDerivAt_comp_clm_comp_const (hasFDerivAt_prodMk_left W φ) hL'
  have hℓ'W : HasFDerivAt ℓ' ℓ'' (ContinuousLinearMap.apply ℝ F (h φ) W) := by
    rw [ContinuousLinearMap.apply_apply]
    exact hℓ'
  have hB : HasFDerivAt
      (fun V : F₀ →L[ℝ] F =>
        ℓ' (ContinuousLinearMap.apply ℝ F (h φ) V) ∘L ContinuousLinearMap.apply ℝ F (h φ))
      (((ContinuousLinearMap.compL ℝ (F₀ →L[ℝ] F) F ℝ).flip
          (ContinuousLinearMap.apply ℝ F (h φ))) ∘L
        (ℓ'' ∘L ContinuousLinearMap.apply ℝ F (h φ))) W :=
    hasFDerivAt_comp_clm_comp_const (ContinuousLinearMap.apply ℝ F (h φ)).hasFDerivAt hℓ'W
  have hEq : (fun V : F₀ →L[ℝ] F => L' (V, φ) ∘L ContinuousLinearMap.inl ℝ (F₀ →L[ℝ] F) E₀) =ᶠ[𝓝 W]
      fun V : F₀ →L[ℝ] F =>
        ℓ' (ContinuousLinearMap.apply ℝ F (h φ) V) ∘L ContinuousLinearMap.apply ℝ F (h φ) :=
    hfield
  have key := hA.unique (hB.congr_of_eventuallyEq hEq)
  have k := DFunLike.congr_fun (DFunLike.congr_fun key (B₁ ∘L W)) (B₂ ∘L W)
  simp only [ContinuousLinearMap.comp_apply, ContinuousLinearMap.flip_apply,
    ContinuousLinearMap.compL_apply, ContinuousLinearMap.inl_apply,
    ContinuousLinearMap.apply_apply] at k
  -- `k : L'' (B₁ ∘L W, 0) (B₂ ∘L W, 0) = ℓ'' (B₁ (W (h φ))) (B₂ (W (h φ)))`
  exact k

/-- **Corollary 3 / eq. (7) of arXiv:2512.21447 at a good position `A`.** With
`v[B] = (A⁻¹ B W, 0)` and `w[B] = A⁻¹ B y`, `y = W (h φ)`, for an invertible
`A : F ≃L[ℝ] F`: `vᵀ H v = wᵀ ∇²ℓ(y) w`, i.e.
`L'' ((A⁻¹ ∘L B₁) ∘L W, 0) ((A⁻¹ ∘L B₂) ∘L W, 0) = ℓ'' (A⁻¹ (B₁ y)) (A⁻¹ (B₂ y))`. -/
theorem corollary3_last_layer_of_equiv {ℓ : F → ℝ} {h : E₀ → F₀}
    {L : (F₀ →L[ℝ] F) × E₀ → ℝ}
    {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : (F₀ →L[ℝ] F) × E₀ → (F₀ →L[ℝ] F) × E₀ →L[ℝ] ℝ}
    {L'' : (F₀ →L[ℝ] F) × E₀ →L[ℝ] (F₀ →L[ℝ] F) × E₀ →L[ℝ] ℝ}
    {W : F₀ →L[ℝ] F} {φ : E₀}
    (hLdef : ∀ (V : F₀ →L[ℝ] F) (ψ : E₀), L (V, ψ) = ℓ (V (h ψ)))
    (hℓ : ∀ᶠ y in 𝓝 (W (h φ)), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (W (h φ)))
    (hL : ∀ᶠ q in 𝓝 (W, φ), HasFDerivAt L (L' q) q) (hL' : HasFDerivAt L' L'' (W, φ))
    (A : F ≃L[ℝ] F) (B₁ B₂ : F →L[ℝ] F) :
    L'' (((A.symm : F →L[ℝ] F) ∘L B₁) ∘L W, 0) (((A.symm : F →L[ℝ] F) ∘L B₂) ∘L W, 0) =
      ℓ'' (A.symm (B₁ (W (h φ)))) (A.symm (B₂ (W (h φ)))) := by
  have k := corollary3_last_layer hLdef hℓ hℓ' hL hL' ((A.symm : F →L[ℝ] F) ∘L B₁)
    ((A.symm : F →L[ℝ] F) ∘L B₂)
  -- k : L'' (…) (…) = ℓ'' ((↑A.symm ∘L B₁) (W (h φ))) ((↑A.symm ∘L B₂) (W (h φ)))
  rw [ContinuousLinearMap.comp_apply, ContinuousLinearMap.comp_apply,
    ContinuousLinearEquiv.coe_apply, ContinuousLinearEquiv.coe_apply] at k
  exact k

end EquivarianceToolbox
