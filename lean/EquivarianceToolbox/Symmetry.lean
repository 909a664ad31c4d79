/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.FDeriv.Comp
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Congr
import Mathlib.Analysis.Calculus.FDeriv.Const
import Mathlib.Analysis.Calculus.FDeriv.Symmetric
import Mathlib.Topology.Constructions.SumProd

/-!
# Continuous symmetries: orthogonality of the gradient and the Hessian null space

Let `T : G → E → E` be a family of transformations of the parameter space `E`, indexed by a
transformation parameter `a : G`, and let `L : E → F` be invariant under it: `L (T a ϑ) = L ϑ`.
This is the special case `S = id` of the paper's Definition 1 (a *symmetry*). At a good position
`(a, θ)` the partial derivative `T_θ = ∂_θ T (a, θ)` is invertible and the characteristic
direction is `v = T_θ⁻¹ ∘ T_a`, where `T_a = ∂_a T (a, θ)`.

## Main results

* `EquivarianceToolbox.symmetry_orthogonality`: eq. (2) of the paper, `∇L(θ)ᵀ v(a, θ) = 0`,
  stated as `L' ∘L (T_θ⁻¹ ∘L T_a) = 0`.
* `EquivarianceToolbox.symmetry_orthogonality_of_forall`: the same with the invariance assumed
  for all `b` and `ϑ`.
* `EquivarianceToolbox.symmetry_orthogonality_of_comp`: eq. (2) for any `v` with `T_θ v = T_a`.
* `EquivarianceToolbox.symmetry_orthogonality_eventually`: eq. (2) at every `ϑ` near `θ`, from
  the symmetry near `(a, θ)`.
* `EquivarianceToolbox.hessian_null_space_of_orthogonal`: at a stationary point (`L' θ = 0`) of a
  function whose gradient is orthogonal to a differentiable field of directions `v` near `θ`, the
  Hessian kills `v`: `L'' (v θ g) δ = 0` and `L'' δ (v θ g) = 0`.
* `EquivarianceToolbox.symmetry_hessian_null_space`: Section 5.4 of the paper, from the symmetry:
  at a stationary point, `H v = 0` for the characteristic direction field `v`.
* `EquivarianceToolbox.symmetry_hessian_null_space_clm`: the same as the operator identity
  `L'' ∘L v θ = 0`, i.e. `H v = 0`.

## Implementation notes

All derivatives are data: `HasFDerivAt L L' θ` rather than `fderiv`. Invertibility of `T_θ` is
encoded by taking it as a continuous linear equivalence `Tθ : E ≃L[ℝ] E`; its inverse is
`Tθ.symm`. The invariance only needs to hold on neighbourhoods: for `ϑ` near `θ` at the fixed
parameter `a`, and for `b` near `a` at the fixed point `θ`. The output space `F` is an arbitrary
real normed space, so the results apply both to a loss (`F = ℝ`) and to a model output.

Equalities of derivatives are obtained from `HasFDerivAt.unique`; evaluation of continuous
linear maps uses the lemmas `ContinuousLinearMap.comp_apply`, `ContinuousLinearMap.compL_apply`,
`ContinuousLinearMap.flip_apply`, `add_apply` and `zero_apply`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  eq. (2) (Section 4.1) and Section 5.4.
-/

noncomputable section

open scoped Topology ContDiff

namespace EquivarianceToolbox

variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- **Eq. (2) of arXiv:2512.21447 (symmetry ⟹ gradient ⟂ characteristic direction).**
If `L (T a ϑ) = L ϑ` for `ϑ` near `θ` and `L (T b θ) = L θ` for `b` near `a`, and
`T_θ = ∂_θ T (a, θ)` is invertible (given as `Tθ : E ≃L[ℝ] E`) with `T_a = ∂_a T (a, θ)`, then
the derivative `L'` of `L` at `θ` vanishes on the characteristic direction
`v(a, θ) = T_θ⁻¹ ∘ T_a`: `L' ∘L (T_θ⁻¹ ∘L T_a) = 0`. Here `L₁'` is the derivative of `L` at the
transformed point `T a θ`. -/
theorem symmetry_orthogonality {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' L₁' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E} {Ta : G →L[ℝ] E}
    (hθ : ∀ᶠ ϑ in 𝓝 θ, L (T a ϑ) = L ϑ) (ha : ∀ᶠ b in 𝓝 a, L (T b θ) = L θ)
    (hL : HasFDerivAt L L' θ) (hLT : HasFDerivAt L L₁' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a) :
    L' ∘L ((Tθ.symm : E →L[ℝ] E) ∘L Ta) = 0 := by
  -- θ-derivative of `L (T a ϑ) = L ϑ`: `L₁' ∘ T_θ = L'`
  have e1 : L₁' ∘L (Tθ : E →L[ℝ] E) = L' := by
    have h1 : HasFDerivAt (fun ϑ => L (T a ϑ)) (L₁' ∘L (Tθ : E →L[ℝ] E)) θ :=
      HasFDerivAt.comp (f := T a) θ hLT hTθ
    have hθ' : (fun ϑ => L (T a ϑ)) =ᶠ[𝓝 θ] L := hθ
    exact h1.unique (hL.congr_of_eventuallyEq hθ')
  -- a-derivative of `L (T b θ) = L θ`: `L₁' ∘ T_a = 0`
  have e2 : L₁' ∘L Ta = 0 := by
    have h3 : HasFDerivAt (fun b => L (T b θ)) (L₁' ∘L Ta) a :=
      HasFDerivAt.comp (f := fun b => T b θ) a hLT hTa
    have ha' : (fun b => L (T b θ)) =ᶠ[𝓝 a] fun _ => L θ := ha
    have h4 : HasFDerivAt (fun b => L (T b θ)) (0 : G →L[ℝ] F) a :=
      HasFDerivAt.congr_of_eventuallyEq (hasFDerivAt_const (𝕜 := ℝ) (L θ) a) ha'
    exact h3.unique h4
  -- pointwise linear algebra
  refine ContinuousLinearMap.ext fun g => ?_
  -- k1 : L₁' (Ta g) = L' (Tθ.symm (Ta g)),  k2 : L₁' (Ta g) = 0
  have k1 := DFunLike.congr_fun e1 (Tθ.symm (Ta g))
  rw [ContinuousLinearMap.comp_apply, ContinuousLinearEquiv.coe_apply,
    ContinuousLinearEquiv.apply_symm_apply] at k1
  have k2 := DFunLike.congr_fun e2 g
  rw [ContinuousLinearMap.comp_apply, zero_apply] at k2
  rw [ContinuousLinearMap.comp_apply, ContinuousLinearMap.comp_apply,
    ContinuousLinearEquiv.coe_apply, zero_apply, ← k1]
  exact k2

/-- **Eq. (2) of arXiv:2512.21447, global form.** If `L (T b ϑ) = L ϑ` for all `b` and `ϑ`,
then `L' ∘L (T_θ⁻¹ ∘L T_a) = 0` at every good position `(a, θ)`. -/
theorem symmetry_orthogonality_of_forall {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' L₁' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E} {Ta : G →L[ℝ] E}
    (hsymm : ∀ b ϑ, L (T b ϑ) = L ϑ)
    (hL : HasFDerivAt L L' θ) (hLT : HasFDerivAt L L₁' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a) :
    L' ∘L ((Tθ.symm : E →L[ℝ] E) ∘L Ta) = 0 :=
  symmetry_orthogonality (L := L) (T := T) (a := a) (θ := θ)
    (Filter.Eventually.of_forall fun ϑ => hsymm a ϑ)
    (Filter.Eventually.of_forall fun b => hsymm b θ) hL hLT hTθ hTa

/-- **Eq. (2) of arXiv:2512.21447, for any solution `v` of `T_θ v = T_a`.** If
`L (T a ϑ) = L ϑ` for `ϑ` near `θ` and `L (T b θ) = L θ` for `b` near `a`, `L` has derivative
`L'` at `θ` and `L₁'` at `T a θ`, `T_θ = ∂_θ T (a, θ)`, `T_a = ∂_a T (a, θ)` and `T_θ ∘L v = T_a`,
then `L' ∘L v = 0`. No invertibility of `T_θ` is needed. -/
theorem symmetry_orthogonality_of_comp {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' L₁' : E →L[ℝ] F} {Tθ : E →L[ℝ] E} {Ta : G →L[ℝ] E} {v : G →L[ℝ] E}
    (hθ : ∀ᶠ ϑ in 𝓝 θ, L (T a ϑ) = L ϑ) (ha : ∀ᶠ b in 𝓝 a, L (T b θ) = L θ)
    (hL : HasFDerivAt L L' θ) (hLT : HasFDerivAt L L₁' (T a θ))
    (hTθ : HasFDerivAt (T a) Tθ θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a)
    (hv : Tθ ∘L v = Ta) :
    L' ∘L v = 0 := by
  -- θ-derivative of `L (T a ϑ) = L ϑ`: `L₁' ∘ T_θ = L'`
  have e1 : L₁' ∘L Tθ = L' := by
    have h1 : HasFDerivAt (fun ϑ => L (T a ϑ)) (L₁' ∘L Tθ) θ :=
      HasFDerivAt.comp (f := T a) θ hLT hTθ
    have hθ' : (fun ϑ => L (T a ϑ)) =ᶠ[𝓝 θ] L := hθ
    exact h1.unique (hL.congr_of_eventuallyEq hθ')
  -- a-derivative of `L (T b θ) = L θ`: `L₁' ∘ T_a = 0`
  have e2 : L₁' ∘L Ta = 0 := by
    have h3 : HasFDerivAt (fun b => L (T b θ)) (L₁' ∘L Ta) a :=
      HasFDerivAt.comp (f := fun b => T b θ) a hLT hTa
    have ha' : (fun b => L (T b θ)) =ᶠ[𝓝 a] fun _ => L θ := ha
    have h4 : HasFDerivAt (fun b => L (T b θ)) (0 : G →L[ℝ] F) a :=
      HasFDerivAt.congr_of_eventuallyEq (hasFDerivAt_const (𝕜 := ℝ) (L θ) a) ha'
    exact h3.unique h4
  rw [← e1, ContinuousLinearMap.comp_assoc, hv, e2]

/-- **Eq. (2) of arXiv:2512.21447 near `θ`, from the symmetry.** If `L (T b ϑ) = L ϑ` for all
`(b, ϑ)` near `(a, θ)`, and for every `ϑ` near `θ` the derivatives `L' ϑ` of `L` at `ϑ` and
`L' (T a ϑ)` at `T a ϑ`, `Tθ ϑ` of `T a` at `ϑ` and `Ta ϑ` of `b ↦ T b ϑ` at `a` exist, and
`v ϑ` solves `Tθ ϑ ∘L v ϑ = Ta ϑ` (e.g. `v ϑ = T_θ⁻¹ T_a` at good positions), then
`L' ϑ ∘L v ϑ = 0` for all `ϑ` near `θ`: the neighbourhood hypothesis of
`hessian_null_space_of_orthogonal`. -/
theorem symmetry_orthogonality_eventually {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E → E →L[ℝ] F} {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {v : E → G →L[ℝ] E}
    (hsymm : ∀ᶠ q in 𝓝 (a, θ), L (T q.1 q.2) = L q.2)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ)
    (hLT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ) :
    ∀ᶠ ϑ in 𝓝 θ, L' ϑ ∘L v ϑ = 0 := by
  -- the symmetry holds near `(a, ϑ)` for every `ϑ` near `θ`
  have hnb : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ q in 𝓝 (a, ϑ), L (T q.1 q.2) = L q.2 :=
    ((Continuous.prodMk_right a).tendsto θ).eventually hsymm.eventually_nhds
  filter_upwards [hnb, hL, hLT, hTθ, hTa, hvdef] with ϑ h0 h1 h2 h3 h4 h5
  -- its two slices through `(a, ϑ)`
  have hθ' : ∀ᶠ ϑ' in 𝓝 ϑ, L (T a ϑ') = L ϑ' :=
    ((Continuous.prodMk_right a).tendsto ϑ).eventually h0
  have ha' : ∀ᶠ b in 𝓝 a, L (T b ϑ) = L ϑ :=
    ((Continuous.prodMk_left ϑ).tendsto a).eventually h0
  exact symmetry_orthogonality_of_comp hθ' ha' h1 h2 h3 h4 h5

/-- **Section 5.4 of arXiv:2512.21447, core (gradient orthogonal to a field of directions).**
Let `L' ϑ` be the derivative of `L` at every `ϑ` near `θ`, with second derivative `L''` at `θ`.
Let `v : E → G →L[ℝ] E` be differentiable at `θ`, with `L' ϑ ∘L v ϑ = 0` for `ϑ` near `θ`. If
`θ` is stationary, `L' θ = 0`, then `H v = 0`: for all `g` and `δ`, `L'' (v θ g) δ = 0` and
`L'' δ (v θ g) = 0`. -/
theorem hessian_null_space_of_orthogonal {L : E → F} {L' : E → E →L[ℝ] F}
    {L'' : E →L[ℝ] E →L[ℝ] F} {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {θ : E}
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (horth : ∀ᶠ ϑ in 𝓝 θ, L' ϑ ∘L v ϑ = 0) (hcrit : L' θ = 0)
    (g : G) (δ : E) :
    L'' (v θ g) δ = 0 ∧ L'' δ (v θ g) = 0 := by
  -- derivative of `ϑ ↦ L' ϑ ∘L v ϑ` by the product rule
  have h1 : HasFDerivAt (fun ϑ => L' ϑ ∘L v ϑ)
      ((ContinuousLinearMap.compL ℝ G E F (L' θ)).comp v' +
        ((ContinuousLinearMap.compL ℝ G E F).flip (v θ)).comp L'') θ :=
    hL'.clm_comp hv
  -- the same function is `0` near `θ`
  have horth' : (fun ϑ => L' ϑ ∘L v ϑ) =ᶠ[𝓝 θ] fun _ => (0 : G →L[ℝ] F) := horth
  have h2 : HasFDerivAt (fun ϑ => L' ϑ ∘L v ϑ) (0 : E →L[ℝ] G →L[ℝ] F) θ :=
    HasFDerivAt.congr_of_eventuallyEq (hasFDerivAt_const (𝕜 := ℝ) (0 : G →L[ℝ] F) θ) horth'
  have key := h1.unique h2
  have h := DFunLike.congr_fun (DFunLike.congr_fun key δ) g
  simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.compL_apply,
    ContinuousLinearMap.flip_apply, hcrit, zero_apply, zero_add] at h
  -- `h : L'' δ (v θ g) = 0`
  refine ⟨?_, h⟩
  rw [second_derivative_symmetric_of_eventually hL hL' (v θ g) δ]
  exact h

/-- **Section 5.4 of arXiv:2512.21447 (symmetry directions at stationary points), from the
symmetry.** Let `L (T b ϑ) = L ϑ` for `(b, ϑ)` near `(a, θ)`, with the first derivatives of
`symmetry_orthogonality_eventually` near `θ`, the second derivative `L''` of `L'` at `θ`, and a
characteristic direction field `v` (`Tθ ϑ ∘L v ϑ = Ta ϑ` near `θ`) differentiable at `θ`. If `θ`
is stationary, `L' θ = 0`, then `H v = 0`: `L'' (v θ g) δ = 0` and `L'' δ (v θ g) = 0` for all
`g`, `δ`. -/
theorem symmetry_hessian_null_space {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F} {Tθ : E → E →L[ℝ] E}
    {Ta : E → G →L[ℝ] E} {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E}
    (hsymm : ∀ᶠ q in 𝓝 (a, θ), L (T q.1 q.2) = L q.2)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hLT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ) (hv : HasFDerivAt v v' θ) (hcrit : L' θ = 0)
    (g : G) (δ : E) :
    L'' (v θ g) δ = 0 ∧ L'' δ (v θ g) = 0 :=
  hessian_null_space_of_orthogonal hL hL' hv
    (symmetry_orthogonality_eventually hsymm hL hLT hTθ hTa hvdef) hcrit g δ

/-- **Section 5.4 of arXiv:2512.21447, operator form `H v = 0`.** Under the hypotheses of
`symmetry_hessian_null_space`, the Hessian composed with the characteristic direction vanishes:
`L'' ∘L v θ = 0`. -/
theorem symmetry_hessian_null_space_clm {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F} {Tθ : E → E →L[ℝ] E}
    {Ta : E → G →L[ℝ] E} {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E}
    (hsymm : ∀ᶠ q in 𝓝 (a, θ), L (T q.1 q.2) = L q.2)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hLT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ) (hv : HasFDerivAt v v' θ) (hcrit : L' θ = 0) :
    L'' ∘L v θ = 0 := by
  refine ContinuousLinearMap.ext fun g => ContinuousLinearMap.ext fun δ => ?_
  rw [ContinuousLinearMap.comp_apply, zero_apply, zero_apply]
  exact (symmetry_hessian_null_space hsymm hL hL' hLT hTθ hTa hvdef hv hcrit g δ).1

end EquivarianceToolbox
