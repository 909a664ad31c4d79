/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.ContDiff.Comp
import Mathlib.Analysis.Calculus.FDeriv.Symmetric
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Tactic.LinearCombination
import EquivarianceToolbox.Definitions

/-!
# Theorem 1: continuous equivariance

Theorem 1 of Yang and Ziyin, *An Equivariance Toolbox for Learning Dynamics* (arXiv 2512.21447),
over abstract real normed spaces: `G` (transformation parameters `a`), `E` (parameters `θ`),
`F` (outputs `y`). The model is `f : E → F`, the loss `ℓ : F → ℝ`, `L = ℓ ∘ f`, and
`f (T b ϑ) = S b (f ϑ)` holds for `(b, ϑ)` near `(a, θ)`.

Write `v = T_θ⁻¹ T_a` (characteristic direction) and `w = S_y⁻¹ S_a` (characteristic output,
evaluated at `y = f θ`), `∇L`, `H = ∇²L`, `g = ∇ℓ(f θ)`, `K = ∇²ℓ(f θ)`.

## Main results

* `EquivarianceToolbox.theorem1_key_identity`: eq. (12), `∇f(θ) ∘ v = w` (from (10) and (11)).
* `EquivarianceToolbox.theorem1_key_identity_eventually`: eq. (12) on a neighbourhood of `θ`.
* `EquivarianceToolbox.theorem1_first_order`: item 1, `∇L·v = ∇ℓ·w` (eq. (13)), and its `fderiv`
  form `EquivarianceToolbox.theorem1_first_order_fderiv` at a good position.
* `EquivarianceToolbox.theorem1_hessian_action`: item 2a in the `(v, w)` form,
  `H(v g, δ) = K(∇f δ, w g) + g((∂_y w)(∇f δ) g) - ∇L((∂_θ v)(δ) g)`.
* `EquivarianceToolbox.theorem1_hessian_quadratic`: item 2b in the `(v, w)` form,
  `vᵀ H v = wᵀ K w + wᵀ (∂_y w) * g - vᵀ (∂_θ v) * ∇L`.
* `EquivarianceToolbox.theorem1_contract_dv`: `(∂_θ v) * ∇L = (γ·T_θa) - (γ·T_θθ) v`, with
  `γ = T_θ⁻ᵀ ∇L`, obtained by differentiating `T_θ v = T_a`; the same lemma with `S` gives
  `(∂_y w) * g = (ζ·S_ya) - (ζ·S_yy) w`, `ζ = S_y⁻ᵀ g`.
* `EquivarianceToolbox.theorem1_hessian_action_TS` and
  `EquivarianceToolbox.theorem1_hessian_quadratic_TS`: items 2a and 2b in the `(T, S)` form,
  with the green terms (`S_ya`, `S_yy`) and the blue term (`T_θθ`).

## Implementation notes

All core statements carry derivatives as `HasFDerivAt` data (as in
`Mathlib.Analysis.Calculus.FDeriv.Symmetric`): `f'`, `ℓ'`, `L'` are first derivatives near the
base point, `ℓ''`, `L''`, `v'`, `w'` are derivatives at the base point. Mathlib's convention is
`L'' δ u = ∂_δ ∂_u L`. The characteristic direction is given as any `v` with `T_θ ∘ v = T_a` near
`θ` (equivalently `v = T_θ⁻¹ T_a` when `T_θ` is invertible), and likewise `w` with
`S_y ∘ w = S_a` near `f θ`, together with the injectivity of `S_y` there; this is the good-position
hypothesis in the form the proof uses. Equalities of derivatives come from `HasFDerivAt.unique`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv 2512.21447,
  Section 3, Theorem 1, eqs. (10)–(19) and (22).
-/

noncomputable section

open scoped Topology ContDiff

namespace EquivarianceToolbox

variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-! ### Slices of a neighbourhood of `(a, θ)` -/

/-- A property that holds near `(a, θ)` holds at `(a, ϑ)` for `ϑ` near `θ` (used to restrict
eq. (1) to the parameter slice, Theorem 1). -/
theorem eventually_slice_snd {P : G × E → Prop} {a : G} {θ : E}
    (h : ∀ᶠ p in 𝓝 (a, θ), P p) : ∀ᶠ ϑ in 𝓝 θ, P (a, ϑ) :=
  ((Continuous.prodMk_right a).tendsto θ).eventually h

/-- A property that holds near `(a, θ)` holds at `(b, θ)` for `b` near `a` (used to restrict
eq. (1) to the transformation slice, Theorem 1). -/
theorem eventually_slice_fst {P : G × E → Prop} {a : G} {θ : E}
    (h : ∀ᶠ p in 𝓝 (a, θ), P p) : ∀ᶠ b in 𝓝 a, P (b, θ) :=
  ((Continuous.prodMk_left θ).tendsto a).eventually h

/-- Eq. (1) near `(a, θ)` gives `f (T a ϑ) = S a (f ϑ)` for `ϑ` near `θ`: the identity whose
`θ`-derivative is eq. (10). -/
theorem IsEquivariantAt.eventuallyEq_param {f : E → F} {T : G → E → E} {S : G → F → F} {a : G}
    {θ : E} (h : IsEquivariantAt f T S a θ) :
    (fun ϑ => f (T a ϑ)) =ᶠ[𝓝 θ] fun ϑ => S a (f ϑ) := by
  have h' : ∀ᶠ p in 𝓝 (a, θ), f (T p.1 p.2) = S p.1 (f p.2) := h
  exact eventually_slice_snd (P := fun p : G × E => f (T p.1 p.2) = S p.1 (f p.2)) h'

/-- Eq. (1) near `(a, θ)` gives `f (T b θ) = S b (f θ)` for `b` near `a`: the identity whose
`a`-derivative is eq. (11). -/
theorem IsEquivariantAt.eventuallyEq_transform {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} (h : IsEquivariantAt f T S a θ) :
    (fun b => f (T b θ)) =ᶠ[𝓝 a] fun b => S b (f θ) := by
  have h' : ∀ᶠ p in 𝓝 (a, θ), f (T p.1 p.2) = S p.1 (f p.2) := h
  exact eventually_slice_fst (P := fun p : G × E => f (T p.1 p.2) = S p.1 (f p.2)) h'

/-- Eq. (1) near `(a, θ)` implies eq. (1) near `(a, ϑ)` for every `ϑ` near `θ` (MATH §2, [I]:
equivariance on a neighbourhood is what makes eq. (12) hold near `θ`). -/
theorem IsEquivariantAt.eventually_param {f : E → F} {T : G → E → E} {S : G → F → F} {a : G}
    {θ : E} (h : IsEquivariantAt f T S a θ) : ∀ᶠ ϑ in 𝓝 θ, IsEquivariantAt f T S a ϑ := by
  have h' : ∀ᶠ p in 𝓝 (a, θ), f (T p.1 p.2) = S p.1 (f p.2) := h
  exact eventually_slice_snd
    (P := fun p : G × E => ∀ᶠ q in 𝓝 p, f (T q.1 q.2) = S q.1 (f q.2)) h'.eventually_nhds

/-! ### `C²` maps carry `HasFDerivAt` data -/

/-- A `C²` map has derivatives near the base point (used for the `fderiv` forms of Theorems 1
and 2). -/
theorem eventually_hasFDerivAt_of_contDiffAt_two {X Y : Type*} [NormedAddCommGroup X]
    [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y] {φ : X → Y} {x : X}
    (h : ContDiffAt ℝ 2 φ x) : ∀ᶠ y in 𝓝 x, HasFDerivAt φ (fderiv ℝ φ y) y := by
  filter_upwards [h.eventually (by simp)] with y hy
  exact (hy.differentiableAt two_ne_zero).hasFDerivAt

/-- A `C²` map has a differentiable derivative at the base point (used for the `fderiv` forms
of Theorems 1 and 2). -/
theorem hasFDerivAt_fderiv_of_contDiffAt_two {X Y : Type*} [NormedAddCommGroup X]
    [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y] {φ : X → Y} {x : X}
    (h : ContDiffAt ℝ 2 φ x) : HasFDerivAt (fderiv ℝ φ) (fderiv ℝ (fderiv ℝ φ) x) x :=
  ((h.fderiv_right (m := 1) le_rfl).differentiableAt one_ne_zero).hasFDerivAt

/-! ### Eq. (12) and item 1 -/

/-- **Theorem 1, eq. (12)**, linear-algebra form. Differentiating eq. (1) in `θ` gives (10),
`∇f(Tθ) T_θ = S_y ∇f(θ)`, and in `a` gives (11), `∇f(Tθ) T_a = S_a`. Hence for any `v` with
`T_θ v = T_a` and `w` with `S_y w = S_a`, and `S_y` injective, `∇f(θ) v = w`. -/
theorem key_identity_of_comp {f : E → F} {T : G → E → E} {S : G → F → F} {a : G} {θ : E}
    {f' fT' : E →L[ℝ] F} {Tθ : E →L[ℝ] E} {Ta : G →L[ℝ] E} {Sy : F →L[ℝ] F} {Sa : G →L[ℝ] F}
    {v : G →L[ℝ] E} {w : G →L[ℝ] F}
    (hθ : (fun ϑ => f (T a ϑ)) =ᶠ[𝓝 θ] fun ϑ => S a (f ϑ))
    (ha : (fun b => f (T b θ)) =ᶠ[𝓝 a] fun b => S b (f θ))
    (hf : HasFDerivAt f f' θ) (hfT : HasFDerivAt f fT' (T a θ))
    (hTθ : HasFDerivAt (T a) Tθ θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a)
    (hSy : HasFDerivAt (S a) Sy (f θ)) (hSa : HasFDerivAt (fun b => S b (f θ)) Sa a)
    (hv : Tθ ∘L v = Ta) (hw : Sy ∘L w = Sa) (hinj : Function.Injective Sy) :
    f' ∘L v = w := by
  -- eq. (10): the `θ`-derivative of `f (T a ϑ) = S a (f ϑ)`
  have e1 : fT' ∘L Tθ = Sy ∘L f' := by
    have h1 : HasFDerivAt (fun ϑ => f (T a ϑ)) (fT' ∘L Tθ) θ :=
      HasFDerivAt.comp (f := T a) θ hfT hTθ
    have h2 : HasFDerivAt (fun ϑ => S a (f ϑ)) (Sy ∘L f') θ := HasFDerivAt.comp (f := f) θ hSy hf
    exact h1.unique (h2.congr_of_eventuallyEq hθ)
  -- eq. (11): the `a`-derivative of `f (T b θ) = S b (f θ)`
  have e2 : fT' ∘L Ta = Sa := by
    have h3 : HasFDerivAt (fun b => f (T b θ)) (fT' ∘L Ta) a :=
      HasFDerivAt.comp (f := fun b => T b θ) a hfT hTa
    exact h3.unique (hSa.congr_of_eventuallyEq ha)
  refine ContinuousLinearMap.ext fun g => ?_
  apply hinj
  have k1 := DFunLike.congr_fun e1 (v g)
  have k2 := DFunLike.congr_fun hv g
  have k3 := DFunLike.congr_fun e2 g
  have k4 := DFunLike.congr_fun hw g
  rw [ContinuousLinearMap.comp_apply, ContinuousLinearMap.comp_apply] at k1
  rw [ContinuousLinearMap.comp_apply] at k2
  rw [ContinuousLinearMap.comp_apply] at k3
  rw [ContinuousLinearMap.comp_apply] at k4
  rw [ContinuousLinearMap.comp_apply]
  -- k1 : fT' (Tθ (v g)) = Sy (f' (v g)),  k2 : Tθ (v g) = Ta g
  -- k3 : fT' (Ta g) = Sa g,                k4 : Sy (w g) = Sa g
  rw [← k1, k2, k3, ← k4]

/-- **Theorem 1, eq. (12)** at a good position: with `T_θ` and `S_y` continuous linear
equivalences, `∇f(θ) ∘ (T_θ⁻¹ ∘ T_a) = S_y⁻¹ ∘ S_a`, i.e. `G v = w`. -/
theorem theorem1_key_identity {f : E → F} {T : G → E → E} {S : G → F → F} {a : G} {θ : E}
    {f' fT' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E} {Ta : G →L[ℝ] E} {Sy : F ≃L[ℝ] F} {Sa : G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : HasFDerivAt f f' θ) (hfT : HasFDerivAt f fT' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a)
    (hSy : HasFDerivAt (S a) (Sy : F →L[ℝ] F) (f θ))
    (hSa : HasFDerivAt (fun b => S b (f θ)) Sa a) :
    f' ∘L ((Tθ.symm : E →L[ℝ] E) ∘L Ta) = (Sy.symm : F →L[ℝ] F) ∘L Sa := by
  have hv : (Tθ : E →L[ℝ] E) ∘L ((Tθ.symm : E →L[ℝ] E) ∘L Ta) = Ta := by
    refine ContinuousLinearMap.ext fun g => ?_
    first
      | exact Tθ.apply_symm_apply (Ta g)
      | rw [ContinuousLinearMap.comp_apply, ContinuousLinearMap.comp_apply,
          ContinuousLinearEquiv.coe_apply, ContinuousLinearEquiv.coe_apply,
          ContinuousLinearEquiv.apply_symm_apply]
  have hw : (Sy : F →L[ℝ] F) ∘L ((Sy.symm : F →L[ℝ] F) ∘L Sa) = Sa := by
    refine ContinuousLinearMap.ext fun g => ?_
    first
      | exact Sy.apply_symm_apply (Sa g)
      | rw [ContinuousLinearMap.comp_apply, ContinuousLinearMap.comp_apply,
          ContinuousLinearEquiv.coe_apply, ContinuousLinearEquiv.coe_apply,
          ContinuousLinearEquiv.apply_symm_apply]
  have hinj : Function.Injective (Sy : F →L[ℝ] F) := by
    first
      | exact Sy.injective
      | (rw [ContinuousLinearEquiv.coe_coe]; exact Sy.injective)
      | (intro x y hxy
         rw [ContinuousLinearEquiv.coe_apply, ContinuousLinearEquiv.coe_apply] at hxy
         exact Sy.injective hxy)
  exact key_identity_of_comp hequiv.eventuallyEq_param hequiv.eventuallyEq_transform hf hfT hTθ
    hTa hSy hSa hv hw hinj

/-- **Theorem 1, item 1** (eq. (13)): at a good position, `∇L(θ)ᵀ v = ∇ℓ(f θ)ᵀ w`, i.e.
`L' ∘ (T_θ⁻¹ ∘ T_a) = ℓ' ∘ (S_y⁻¹ ∘ S_a)` where `L'` is the derivative of `L = ℓ ∘ f` at `θ`. -/
theorem theorem1_first_order {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F} {a : G}
    {θ : E} {L' : E →L[ℝ] ℝ} {ℓ' : F →L[ℝ] ℝ} {f' fT' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E}
    {Ta : G →L[ℝ] E} {Sy : F ≃L[ℝ] F} {Sa : G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hL : HasFDerivAt (ℓ ∘ f) L' θ) (hℓ : HasFDerivAt ℓ ℓ' (f θ))
    (hf : HasFDerivAt f f' θ) (hfT : HasFDerivAt f fT' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a)
    (hSy : HasFDerivAt (S a) (Sy : F →L[ℝ] F) (f θ))
    (hSa : HasFDerivAt (fun b => S b (f θ)) Sa a) :
    L' ∘L ((Tθ.symm : E →L[ℝ] E) ∘L Ta) = ℓ' ∘L ((Sy.symm : F →L[ℝ] F) ∘L Sa) := by
  have hL' : L' = ℓ' ∘L f' := hL.unique (HasFDerivAt.comp (f := f) θ hℓ hf)
  rw [hL', ContinuousLinearMap.comp_assoc,
    theorem1_key_identity hequiv hf hfT hTθ hTa hSy hSa]

/-- **Theorem 1, item 1** in `fderiv` form (eq. (13)): at a good position `(a, θ)`,
`∇L(θ) ∘ v(a, θ) = ∇ℓ(f θ) ∘ w(a, f θ)` with `v = charDirection T a θ` and
`w = charOutput S a (f θ)`. -/
theorem theorem1_first_order_fderiv {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} (hequiv : IsEquivariantAt f T S a θ) (hgood : IsGoodPosition f T S a θ)
    (hℓ : DifferentiableAt ℝ ℓ (f θ)) (hf : DifferentiableAt ℝ f θ)
    (hfT : DifferentiableAt ℝ f (T a θ)) (hTθ : DifferentiableAt ℝ (T a) θ)
    (hTa : DifferentiableAt ℝ (fun b => T b θ) a) (hSy : DifferentiableAt ℝ (S a) (f θ))
    (hSa : DifferentiableAt ℝ (fun b => S b (f θ)) a) :
    fderiv ℝ (ℓ ∘ f) θ ∘L charDirection T a θ = fderiv ℝ ℓ (f θ) ∘L charOutput S a (f θ) := by
  obtain ⟨⟨eT, heT⟩, ⟨eS, heS⟩⟩ := hgood
  have hTθ' : HasFDerivAt (T a) (eT : E →L[ℝ] E) θ := hTθ.hasFDerivAt.congr_fderiv heT.symm
  have hSy' : HasFDerivAt (S a) (eS : F →L[ℝ] F) (f θ) := hSy.hasFDerivAt.congr_fderiv heS.symm
  rw [charDirection_eq_of_equiv (T := T) (a := a) (θ := θ) eT heT,
    charOutput_eq_of_equiv (S := S) (a := a) (y := f θ) eS heS]
  exact theorem1_first_order hequiv (hℓ.comp θ hf).hasFDerivAt hℓ.hasFDerivAt hf.hasFDerivAt
    hfT.hasFDerivAt hTθ' hTa.hasFDerivAt hSy' hSa.hasFDerivAt

/-- **Theorem 1, eq. (12) on a neighbourhood**: if eq. (1) holds near `(a, θ)`, the derivatives
exist near `θ` (resp. near `f θ`), `T_θ ∘ v = T_a` near `θ`, and `S_y ∘ w = S_a` with `S_y`
injective near `f θ`, then `∇f(ϑ) ∘ v(ϑ) = w(f ϑ)` for all `ϑ` near `θ`. -/
theorem theorem1_key_identity_eventually {f : E → F} {T : G → E → E} {S : G → F → F} {a : G}
    {θ : E} {f' : E → E →L[ℝ] F} {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E}
    {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F} {v : E → G →L[ℝ] E} {w : F → G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y) :
    ∀ᶠ ϑ in 𝓝 θ, f' ϑ ∘L v ϑ = w (f ϑ) := by
  have hfc : Filter.Tendsto f (𝓝 θ) (𝓝 (f θ)) := hf.self_of_nhds.continuousAt.tendsto
  have hSy' : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (S a) (Sy (f ϑ)) (f ϑ) := hfc.eventually hSy
  have hSa' : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => S b (f ϑ)) (Sa (f ϑ)) a :=
    hfc.eventually hSa
  have hSinj' : ∀ᶠ ϑ in 𝓝 θ, Function.Injective (Sy (f ϑ)) := hfc.eventually hSinj
  have hwdef' : ∀ᶠ ϑ in 𝓝 θ, Sy (f ϑ) ∘L w (f ϑ) = Sa (f ϑ) := hfc.eventually hwdef
  filter_upwards [hequiv.eventually_param, hf, hfT, hTθ, hTa, hSy', hSa', hSinj', hvdef, hwdef']
    with ϑ h0 h1 h2 h3 h4 h5 h6 h7 h8 h9
  exact key_identity_of_comp h0.eventuallyEq_param h0.eventuallyEq_transform h1 h2 h3 h4 h5 h6
    h8 h9 h7

/-! ### Item 2: the `(v, w)` form -/

/-- **Theorem 1, item 2a, core computation** (`(v, w)` form, without symmetry of `∇²L`).
Differentiating `∇L(ϑ) ∘ v(ϑ) = ∇ℓ(f ϑ) ∘ w(f ϑ)` (eq. (12) composed with `∇ℓ`) at `θ` gives
`L''(δ)(v g) = ℓ''(∇f δ)(w g) + ℓ'((∂_y w)(∇f δ) g) - L'((∂_θ v)(δ) g)`. -/
theorem hessian_action_core {ℓ : F → ℝ} {f : E → F} {θ : E} {f' : E → E →L[ℝ] F}
    {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E}
    {w : F → G →L[ℝ] F} {w' : F →L[ℝ] G →L[ℝ] F}
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ))
    (hid : ∀ᶠ ϑ in 𝓝 θ, f' ϑ ∘L v ϑ = w (f ϑ)) (δ : E) (g : G) :
    L'' δ (v θ g) = ℓ'' (f' θ δ) (w (f θ) g) + ℓ' (f θ) (w' (f' θ δ) g) - L' θ (v' δ g) := by
  have hfθ : HasFDerivAt f (f' θ) θ := hf.self_of_nhds
  have hfc : Filter.Tendsto f (𝓝 θ) (𝓝 (f θ)) := hfθ.continuousAt.tendsto
  have hℓf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt ℓ (ℓ' (f ϑ)) (f ϑ) := hfc.eventually hℓ
  -- `∇L(ϑ) ∘ v(ϑ) = ∇ℓ(f ϑ) ∘ w(f ϑ)` near `θ`
  have hEq : (fun ϑ => L' ϑ ∘L v ϑ) =ᶠ[𝓝 θ] fun ϑ => ℓ' (f ϑ) ∘L w (f ϑ) := by
    filter_upwards [hf, hℓf, hL, hid] with ϑ h1 h2 h3 h4
    have h5 : L' ϑ = ℓ' (f ϑ) ∘L f' ϑ := h3.unique (HasFDerivAt.comp (f := f) ϑ h2 h1)
    rw [h5, ContinuousLinearMap.comp_assoc, h4]
  -- derivative of the left side (product rule, Lemma 1 item 5)
  have hLHS : HasFDerivAt (fun ϑ => L' ϑ ∘L v ϑ)
      ((ContinuousLinearMap.compL ℝ G E ℝ (L' θ)).comp v' +
        ((ContinuousLinearMap.compL ℝ G E ℝ).flip (v θ)).comp L'') θ :=
    hL'.clm_comp hv
  -- derivative of the right side (product rule and chain rule, Lemma 1 items 4, 5)
  have hM : HasFDerivAt (fun y => ℓ' y ∘L w y)
      ((ContinuousLinearMap.compL ℝ G F ℝ (ℓ' (f θ))).comp w' +
        ((ContinuousLinearMap.compL ℝ G F ℝ).flip (w (f θ))).comp ℓ'') (f θ) :=
    hℓ'.clm_comp hw
  have hRHS : HasFDerivAt (fun ϑ => ℓ' (f ϑ) ∘L w (f ϑ))
      (((ContinuousLinearMap.compL ℝ G F ℝ (ℓ' (f θ))).comp w' +
        ((ContinuousLinearMap.compL ℝ G F ℝ).flip (w (f θ))).comp ℓ'') ∘L f' θ) θ :=
    HasFDerivAt.comp (f := f) θ hM hfθ
  have hD := hLHS.unique (hRHS.congr_of_eventuallyEq hEq)
  have hpt := DFunLike.congr_fun (DFunLike.congr_fun hD δ) g
  simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.compL_apply,
    ContinuousLinearMap.flip_apply] at hpt
  -- hpt : L' θ (v' δ g) + L'' δ (v θ g) = ℓ' (f θ) (w' (f' θ δ) g) + ℓ'' (f' θ δ) (w (f θ) g)
  linear_combination hpt

/-- **Theorem 1, item 2a** (Hessian action along `v`, `(v, w)` form):
`H v = Gᵀ(K w + (∂_y w) * g) - (∂_θ v) * ∇L`; tested against a direction `δ` and a column `g`,
`L''(v g)(δ) = ℓ''(∇f δ)(w g) + ℓ'((∂_y w)(∇f δ) g) - L'((∂_θ v)(δ) g)`. Hypotheses: eq. (1)
near `(a, θ)`, first derivatives near the base points, second derivatives at them, `v` solving
`T_θ v = T_a` near `θ` and `w` solving `S_y w = S_a` with `S_y` injective near `f θ`. -/
theorem theorem1_hessian_action {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} {f' : E → E →L[ℝ] F} {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ}
    {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F}
    {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {w : F → G →L[ℝ] F}
    {w' : F →L[ℝ] G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ)) (δ : E) (g : G) :
    L'' (v θ g) δ = ℓ'' (f' θ δ) (w (f θ) g) + ℓ' (f θ) (w' (f' θ δ) g) - L' θ (v' δ g) := by
  have hid : ∀ᶠ ϑ in 𝓝 θ, f' ϑ ∘L v ϑ = w (f ϑ) :=
    theorem1_key_identity_eventually hequiv hf hfT hTθ hTa hSy hSa hSinj hvdef hwdef
  rw [second_derivative_symmetric_of_eventually hL hL' (v θ g) δ]
  exact hessian_action_core hf hℓ hℓ' hL hL' hv hw hid δ g

/-- **Theorem 1, item 2b** (quadratic form along `v`, `(v, w)` form):
`vᵀ H v = wᵀ K w + wᵀ (∂_y w) * g - vᵀ (∂_θ v) * ∇L`; entry `(c, b)` (columns `g₁`, `g₂`) reads
`L''(v g₁)(v g₂) = ℓ''(w g₁)(w g₂) + ℓ'((∂_y w)(w g₁) g₂) - L'((∂_θ v)(v g₁) g₂)`. -/
theorem theorem1_hessian_quadratic {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} {f' : E → E →L[ℝ] F} {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ}
    {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F}
    {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {w : F → G →L[ℝ] F}
    {w' : F →L[ℝ] G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ)) (g₁ g₂ : G) :
    L'' (v θ g₁) (v θ g₂) = ℓ'' (w (f θ) g₁) (w (f θ) g₂) + ℓ' (f θ) (w' (w (f θ) g₁) g₂)
      - L' θ (v' (v θ g₁) g₂) := by
  have hid : ∀ᶠ ϑ in 𝓝 θ, f' ϑ ∘L v ϑ = w (f ϑ) :=
    theorem1_key_identity_eventually hequiv hf hfT hTθ hTa hSy hSa hSinj hvdef hwdef
  have hcore := hessian_action_core hf hℓ hℓ' hL hL' hv hw hid (v θ g₁) g₂
  have k := DFunLike.congr_fun hid.self_of_nhds g₁
  rw [ContinuousLinearMap.comp_apply] at k
  -- k : f' θ (v θ g₁) = w (f θ) g₁  (eq. (12) at `θ`)
  rw [k] at hcore
  exact hcore

/-! ### Item 2: the `(T, S)` form -/

/-- Differentiating `A(x) ∘ u(x) = B(x)` (valid near `x`) at `x`, in direction `δ` and applied
to `g`: `A(x)(u'(δ) g) = B'(δ) g - A'(δ)(u(x) g)` (Theorem 1, proof of the `(T, S)` form: the
derivative of `T_θ v = T_a` and of `S_y w = S_a`). -/
theorem apply_fderiv_of_comp_eq {X Y : Type*} [NormedAddCommGroup X] [NormedSpace ℝ X]
    [NormedAddCommGroup Y] [NormedSpace ℝ Y] {A : X → Y →L[ℝ] Y} {A' : X →L[ℝ] Y →L[ℝ] Y}
    {u : X → G →L[ℝ] Y} {u' : X →L[ℝ] G →L[ℝ] Y} {B : X → G →L[ℝ] Y}
    {B' : X →L[ℝ] G →L[ℝ] Y} {x : X} (hA : HasFDerivAt A A' x) (hu : HasFDerivAt u u' x)
    (hB : HasFDerivAt B B' x) (h : ∀ᶠ y in 𝓝 x, A y ∘L u y = B y) (δ : X) (g : G) :
    A x (u' δ g) = B' δ g - A' δ (u x g) := by
  have hAu : HasFDerivAt (fun y => A y ∘L u y)
      ((ContinuousLinearMap.compL ℝ G Y Y (A x)).comp u' +
        ((ContinuousLinearMap.compL ℝ G Y Y).flip (u x)).comp A') x :=
    hA.clm_comp hu
  have hD := hAu.unique (hB.congr_of_eventuallyEq h)
  have hpt := DFunLike.congr_fun (DFunLike.congr_fun hD δ) g
  simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.compL_apply,
    ContinuousLinearMap.flip_apply] at hpt
  -- hpt : A x (u' δ g) + A' δ (u x g) = B' δ g
  exact eq_sub_of_add_eq hpt

/-- Contraction of the derivative of `u = A⁻¹ B` with a covector `Λ` (Theorem 1, `(T, S)` form):
if `A(x) ∘ u(x) = B(x)` near `x` and `Ainv` is a left inverse of `A(x)`, then
`Λ(u'(δ) g) = (Λ ∘ Ainv)(B'(δ) g) - (Λ ∘ Ainv)(A'(δ)(u(x) g))`. With `A = T_θ`, `B = T_a`,
`Λ = ∇L` this is `(∂_θ v) * ∇L = (γ·T_θa) - (γ·T_θθ) v` with `γ = T_θ⁻ᵀ ∇L`; with `A = S_y`,
`B = S_a`, `Λ = g` it is `(∂_y w) * g = (ζ·S_ya) - (ζ·S_yy) w` with `ζ = S_y⁻ᵀ g`. -/
theorem theorem1_contract_dv {X Y : Type*} [NormedAddCommGroup X] [NormedSpace ℝ X]
    [NormedAddCommGroup Y] [NormedSpace ℝ Y] {A : X → Y →L[ℝ] Y} {A' : X →L[ℝ] Y →L[ℝ] Y}
    {u : X → G →L[ℝ] Y} {u' : X →L[ℝ] G →L[ℝ] Y} {B : X → G →L[ℝ] Y}
    {B' : X →L[ℝ] G →L[ℝ] Y} {x : X} {Ainv : Y →L[ℝ] Y} (hA : HasFDerivAt A A' x)
    (hu : HasFDerivAt u u' x) (hB : HasFDerivAt B B' x) (h : ∀ᶠ y in 𝓝 x, A y ∘L u y = B y)
    (hinv : Ainv ∘L A x = ContinuousLinearMap.id ℝ Y) (Λ : Y →L[ℝ] ℝ) (δ : X) (g : G) :
    Λ (u' δ g) = (Λ ∘L Ainv) (B' δ g) - (Λ ∘L Ainv) (A' δ (u x g)) := by
  have h1 : A x (u' δ g) = B' δ g - A' δ (u x g) := apply_fderiv_of_comp_eq hA hu hB h δ g
  have h2 : u' δ g = Ainv (A x (u' δ g)) := by
    have k := DFunLike.congr_fun hinv (u' δ g)
    simp only [ContinuousLinearMap.comp_apply, ContinuousLinearMap.id_apply] at k
    exact k.symm
  rw [h2, h1]
  simp only [ContinuousLinearMap.comp_apply, map_sub]

/-- **Theorem 1, item 2a** in the `(T, S)` form:
`H v = GᵀK w + Gᵀ[(ζ·S_ya) - (ζ·S_yy) w] + (γ·T_θθ) v - (γ·T_θa)` with `γ = T_θ⁻ᵀ ∇L` and
`ζ = S_y⁻ᵀ g`. The `S_ya`, `S_yy` terms are green, the `T_θθ` term is blue. Here `Tθθ` and `Tθa`
are the `θ`-derivatives of `ϑ ↦ T_θ(a, ϑ)` and `ϑ ↦ T_a(a, ϑ)`, `Syy` and `Sya` those of
`y ↦ S_y(a, y)` and `y ↦ S_a(a, y)`, and `Tθinv`, `Syinv` are left inverses of `T_θ`, `S_y`. -/
theorem theorem1_hessian_action_TS {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} {f' : E → E →L[ℝ] F} {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ}
    {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F}
    {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {w : F → G →L[ℝ] F}
    {w' : F →L[ℝ] G →L[ℝ] F} {Tθθ : E →L[ℝ] E →L[ℝ] E} {Tθa : E →L[ℝ] G →L[ℝ] E}
    {Syy : F →L[ℝ] F →L[ℝ] F} {Sya : F →L[ℝ] G →L[ℝ] F} {Tθinv : E →L[ℝ] E}
    {Syinv : F →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ))
    (hTθ' : HasFDerivAt Tθ Tθθ θ) (hTa' : HasFDerivAt Ta Tθa θ)
    (hSy' : HasFDerivAt Sy Syy (f θ)) (hSa' : HasFDerivAt Sa Sya (f θ))
    (hTinv : Tθinv ∘L Tθ θ = ContinuousLinearMap.id ℝ E)
    (hSinv : Syinv ∘L Sy (f θ) = ContinuousLinearMap.id ℝ F) (δ : E) (g : G) :
    L'' (v θ g) δ = ℓ'' (f' θ δ) (w (f θ) g)
      + ((ℓ' (f θ) ∘L Syinv) (Sya (f' θ δ) g)
        - (ℓ' (f θ) ∘L Syinv) (Syy (f' θ δ) (w (f θ) g)))
      + (L' θ ∘L Tθinv) (Tθθ δ (v θ g)) - (L' θ ∘L Tθinv) (Tθa δ g) := by
  have h1 := theorem1_hessian_action hequiv hf hfT hTθ hTa hSy hSa hSinj hvdef hwdef hℓ hℓ' hL
    hL' hv hw δ g
  have h2 := theorem1_contract_dv hTθ' hv hTa' hvdef hTinv
    (L' θ) δ g
  have h3 := theorem1_contract_dv hSy' hw hSa' hwdef hSinv
    (ℓ' (f θ)) (f' θ δ) g
  linear_combination h1 - h2 + h3

/-- **Theorem 1, item 2b** in the `(T, S)` form:
`vᵀH v = wᵀK w + wᵀ(ζ·S_ya) - wᵀ(ζ·S_yy) w + vᵀ(γ·T_θθ) v - vᵀ(γ·T_θa)` with
`γ = T_θ⁻ᵀ ∇L`, `ζ = S_y⁻ᵀ g`; entry `(c, b)` pairs the columns `g₁`, `g₂`. -/
theorem theorem1_hessian_quadratic_TS {ℓ : F → ℝ} {f : E → F} {T : G → E → E}
    {S : G → F → F} {a : G} {θ : E} {f' : E → E →L[ℝ] F} {ℓ' : F → F →L[ℝ] ℝ}
    {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ}
    {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F}
    {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {w : F → G →L[ℝ] F}
    {w' : F →L[ℝ] G →L[ℝ] F} {Tθθ : E →L[ℝ] E →L[ℝ] E} {Tθa : E →L[ℝ] G →L[ℝ] E}
    {Syy : F →L[ℝ] F →L[ℝ] F} {Sya : F →L[ℝ] G →L[ℝ] F} {Tθinv : E →L[ℝ] E}
    {Syinv : F →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ))
    (hTθ' : HasFDerivAt Tθ Tθθ θ) (hTa' : HasFDerivAt Ta Tθa θ)
    (hSy' : HasFDerivAt Sy Syy (f θ)) (hSa' : HasFDerivAt Sa Sya (f θ))
    (hTinv : Tθinv ∘L Tθ θ = ContinuousLinearMap.id ℝ E)
    (hSinv : Syinv ∘L Sy (f θ) = ContinuousLinearMap.id ℝ F) (g₁ g₂ : G) :
    L'' (v θ g₁) (v θ g₂) = ℓ'' (w (f θ) g₁) (w (f θ) g₂)
      + ((ℓ' (f θ) ∘L Syinv) (Sya (w (f θ) g₁) g₂)
        - (ℓ' (f θ) ∘L Syinv) (Syy (w (f θ) g₁) (w (f θ) g₂)))
      + (L' θ ∘L Tθinv) (Tθθ (v θ g₁) (v θ g₂)) - (L' θ ∘L Tθinv) (Tθa (v θ g₁) g₂) := by
  have h1 := theorem1_hessian_quadratic hequiv hf hfT hTθ hTa hSy hSa hSinj hvdef hwdef hℓ hℓ'
    hL hL' hv hw g₁ g₂
  have h2 := theorem1_contract_dv hTθ' hv hTa' hvdef hTinv
    (L' θ) (v θ g₁) g₂
  have h3 := theorem1_contract_dv hSy' hw hSa' hwdef hSinv
    (ℓ' (f θ)) (w (f θ) g₁) g₂
  linear_combination h1 - h2 + h3

/-! ### Item 2 in `fderiv` form -/

/-- **Theorem 1, item 2a** in `fderiv` form (`(v, w)` form, with `H = ∇²L(θ)` the second
`fderiv` of `L = ℓ ∘ f`, `v = charDirection T a`, `w = charOutput S a`):
`H(v g, δ) = ∇²ℓ(∇f δ, w g) + ∇ℓ((∂_y w)(∇f δ) g) - ∇L((∂_θ v)(δ) g)`. Hypotheses (all local):
eq. (1) near `(a, θ)`; `f` and `ℓ` of class `C²` at `θ`, `f θ`; `f` differentiable near `T a θ`;
`T a` and the `a`-slices `b ↦ T b ϑ` differentiable for `ϑ` near `θ`, `S a` and `b ↦ S b y` for
`y` near `f θ`; `(a, ϑ)` good for `ϑ` near `θ` and `∂yS` invertible near `f θ`; `v` and `w`
differentiable at `θ`, `f θ`. -/
theorem theorem1_hessian_action_fderiv {ℓ : F → ℝ} {f : E → F} {T : G → E → E}
    {S : G → F → F} {a : G} {θ : E} (hequiv : IsEquivariantAt f T S a θ)
    (hf2 : ContDiffAt ℝ 2 f θ) (hℓ2 : ContDiffAt ℝ 2 ℓ (f θ))
    (hfT : ∀ᶠ y in 𝓝 (T a θ), DifferentiableAt ℝ f y)
    (hT : ∀ᶠ ϑ in 𝓝 θ, DifferentiableAt ℝ (T a) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, DifferentiableAt ℝ (fun b => T b ϑ) a)
    (hS : ∀ᶠ y in 𝓝 (f θ), DifferentiableAt ℝ (S a) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), DifferentiableAt ℝ (fun b => S b y) a)
    (hTinv : ∀ᶠ ϑ in 𝓝 θ, (fderiv ℝ (T a) ϑ).IsInvertible)
    (hSinv : ∀ᶠ y in 𝓝 (f θ), (fderiv ℝ (S a) y).IsInvertible)
    (hv : DifferentiableAt ℝ (charDirection T a) θ)
    (hw : DifferentiableAt ℝ (charOutput S a) (f θ)) (δ : E) (g : G) :
    fderiv ℝ (fderiv ℝ (ℓ ∘ f)) θ (charDirection T a θ g) δ =
      fderiv ℝ (fderiv ℝ ℓ) (f θ) (fderiv ℝ f θ δ) (charOutput S a (f θ) g)
        + fderiv ℝ ℓ (f θ) (fderiv ℝ (charOutput S a) (f θ) (fderiv ℝ f θ δ) g)
        - fderiv ℝ (ℓ ∘ f) θ (fderiv ℝ (charDirection T a) θ δ g) := by
  have hL2 : ContDiffAt ℝ 2 (ℓ ∘ f) θ := hℓ2.comp θ hf2
  -- `T a ϑ` stays near `T a θ` when `ϑ` is near `θ`
  have hTc : Filter.Tendsto (T a) (𝓝 θ) (𝓝 (T a θ)) := hT.self_of_nhds.continuousAt.tendsto
  have h1 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (fderiv ℝ f ϑ) ϑ :=
    eventually_hasFDerivAt_of_contDiffAt_two hf2
  have h2 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (fderiv ℝ f (T a ϑ)) (T a ϑ) :=
    (hTc.eventually hfT).mono fun ϑ (hϑ : DifferentiableAt ℝ f (T a ϑ)) => hϑ.hasFDerivAt
  have h3 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (fderiv ℝ (T a) ϑ) ϑ :=
    hT.mono fun ϑ (hϑ : DifferentiableAt ℝ (T a) ϑ) => hϑ.hasFDerivAt
  have h4 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (fderiv ℝ (fun b => T b ϑ) a) a :=
    hTa.mono fun ϑ (hϑ : DifferentiableAt ℝ (fun b => T b ϑ) a) => hϑ.hasFDerivAt
  have h5 : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (fderiv ℝ (S a) y) y :=
    hS.mono fun y (hy : DifferentiableAt ℝ (S a) y) => hy.hasFDerivAt
  have h6 : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (fderiv ℝ (fun b => S b y) a) a :=
    hSa.mono fun y (hy : DifferentiableAt ℝ (fun b => S b y) a) => hy.hasFDerivAt
  have h7 : ∀ᶠ y in 𝓝 (f θ), Function.Injective (fderiv ℝ (S a) y) := by
    filter_upwards [hSinv] with y hy
    exact hy.injective
  have h8 : ∀ᶠ ϑ in 𝓝 θ,
      fderiv ℝ (T a) ϑ ∘L charDirection T a ϑ = fderiv ℝ (fun b => T b ϑ) a := by
    filter_upwards [hTinv] with ϑ hϑ
    exact fderiv_comp_charDirection hϑ
  have h9 : ∀ᶠ y in 𝓝 (f θ),
      fderiv ℝ (S a) y ∘L charOutput S a y = fderiv ℝ (fun b => S b y) a := by
    filter_upwards [hSinv] with y hy
    exact fderiv_comp_charOutput hy
  exact theorem1_hessian_action (Tθ := fderiv ℝ (T a))
    (Ta := fun ϑ => fderiv ℝ (fun b => T b ϑ) a) (Sy := fderiv ℝ (S a))
    (Sa := fun y => fderiv ℝ (fun b => S b y) a) (v := charDirection T a)
    (w := charOutput S a) hequiv h1 h2 h3 h4 h5 h6 h7 h8 h9
    (eventually_hasFDerivAt_of_contDiffAt_two hℓ2) (hasFDerivAt_fderiv_of_contDiffAt_two hℓ2)
    (eventually_hasFDerivAt_of_contDiffAt_two hL2) (hasFDerivAt_fderiv_of_contDiffAt_two hL2)
    hv.hasFDerivAt hw.hasFDerivAt δ g

/-- **Theorem 1, item 2b** in `fderiv` form (`(v, w)` form): with `H = ∇²L(θ)`, `K = ∇²ℓ(f θ)`,
`v = charDirection T a θ`, `w = charOutput S a (f θ)`,
`H(v g₁, v g₂) = K(w g₁, w g₂) + ∇ℓ((∂_y w)(w g₁) g₂) - ∇L((∂_θ v)(v g₁) g₂)`, under the
hypotheses of `theorem1_hessian_action_fderiv`. -/
theorem theorem1_hessian_quadratic_fderiv {ℓ : F → ℝ} {f : E → F} {T : G → E → E}
    {S : G → F → F} {a : G} {θ : E} (hequiv : IsEquivariantAt f T S a θ)
    (hf2 : ContDiffAt ℝ 2 f θ) (hℓ2 : ContDiffAt ℝ 2 ℓ (f θ))
    (hfT : ∀ᶠ y in 𝓝 (T a θ), DifferentiableAt ℝ f y)
    (hT : ∀ᶠ ϑ in 𝓝 θ, DifferentiableAt ℝ (T a) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, DifferentiableAt ℝ (fun b => T b ϑ) a)
    (hS : ∀ᶠ y in 𝓝 (f θ), DifferentiableAt ℝ (S a) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), DifferentiableAt ℝ (fun b => S b y) a)
    (hTinv : ∀ᶠ ϑ in 𝓝 θ, (fderiv ℝ (T a) ϑ).IsInvertible)
    (hSinv : ∀ᶠ y in 𝓝 (f θ), (fderiv ℝ (S a) y).IsInvertible)
    (hv : DifferentiableAt ℝ (charDirection T a) θ)
    (hw : DifferentiableAt ℝ (charOutput S a) (f θ)) (g₁ g₂ : G) :
    fderiv ℝ (fderiv ℝ (ℓ ∘ f)) θ (charDirection T a θ g₁) (charDirection T a θ g₂) =
      fderiv ℝ (fderiv ℝ ℓ) (f θ) (charOutput S a (f θ) g₁) (charOutput S a (f θ) g₂)
        + fderiv ℝ ℓ (f θ) (fderiv ℝ (charOutput S a) (f θ) (charOutput S a (f θ) g₁) g₂)
        - fderiv ℝ (ℓ ∘ f) θ (fderiv ℝ (charDirection T a) θ (charDirection T a θ g₁) g₂) := by
  have hL2 : ContDiffAt ℝ 2 (ℓ ∘ f) θ := hℓ2.comp θ hf2
  -- `T a ϑ` stays near `T a θ` when `ϑ` is near `θ`
  have hTc : Filter.Tendsto (T a) (𝓝 θ) (𝓝 (T a θ)) := hT.self_of_nhds.continuousAt.tendsto
  have h1 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (fderiv ℝ f ϑ) ϑ :=
    eventually_hasFDerivAt_of_contDiffAt_two hf2
  have h2 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (fderiv ℝ f (T a ϑ)) (T a ϑ) :=
    (hTc.eventually hfT).mono fun ϑ (hϑ : DifferentiableAt ℝ f (T a ϑ)) => hϑ.hasFDerivAt
  have h3 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (fderiv ℝ (T a) ϑ) ϑ :=
    hT.mono fun ϑ (hϑ : DifferentiableAt ℝ (T a) ϑ) => hϑ.hasFDerivAt
  have h4 : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (fderiv ℝ (fun b => T b ϑ) a) a :=
    hTa.mono fun ϑ (hϑ : DifferentiableAt ℝ (fun b => T b ϑ) a) => hϑ.hasFDerivAt
  have h5 : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (fderiv ℝ (S a) y) y :=
    hS.mono fun y (hy : DifferentiableAt ℝ (S a) y) => hy.hasFDerivAt
  have h6 : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (fderiv ℝ (fun b => S b y) a) a :=
    hSa.mono fun y (hy : DifferentiableAt ℝ (fun b => S b y) a) => hy.hasFDerivAt
  have h7 : ∀ᶠ y in 𝓝 (f θ), Function.Injective (fderiv ℝ (S a) y) := by
    filter_upwards [hSinv] with y hy
    exact hy.injective
  have h8 : ∀ᶠ ϑ in 𝓝 θ,
      fderiv ℝ (T a) ϑ ∘L charDirection T a ϑ = fderiv ℝ (fun b => T b ϑ) a := by
    filter_upwards [hTinv] with ϑ hϑ
    exact fderiv_comp_charDirection hϑ
  have h9 : ∀ᶠ y in 𝓝 (f θ),
      fderiv ℝ (S a) y ∘L charOutput S a y = fderiv ℝ (fun b => S b y) a := by
    filter_upwards [hSinv] with y hy
    exact fderiv_comp_charOutput hy
  exact theorem1_hessian_quadratic (Tθ := fderiv ℝ (T a))
    (Ta := fun ϑ => fderiv ℝ (fun b => T b ϑ) a) (Sy := fderiv ℝ (S a))
    (Sa := fun y => fderiv ℝ (fun b => S b y) a) (v := charDirection T a)
    (w := charOutput S a) hequiv h1 h2 h3 h4 h5 h6 h7 h8 h9
    (eventually_hasFDerivAt_of_contDiffAt_two hℓ2) (hasFDerivAt_fderiv_of_contDiffAt_two hℓ2)
    (eventually_hasFDerivAt_of_contDiffAt_two hL2) (hasFDerivAt_fderiv_of_contDiffAt_two hL2)
    hv.hasFDerivAt hw.hasFDerivAt g₁ g₂

end EquivarianceToolbox
