/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.ContDiff.Comp
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Tactic.LinearCombination
import EquivarianceToolbox.Definitions
import EquivarianceToolbox.Theorem1

/-!
# Theorem 2: discrete symmetry at fixed points

Theorem 2 of Yang and Ziyin, *An Equivariance Toolbox for Learning Dynamics* (arXiv 2512.21447),
over abstract real normed spaces. The transformation parameter `a` is fixed, `f (T a ϑ) = f ϑ`
for `ϑ` near `θ` (so `S = id`), and `θ ∈ Fix_a(T)`. Put `L = ℓ ∘ f` and `J = ∂θT(a, θ)`; `J` need
not be invertible.

## Main results

* `EquivarianceToolbox.theorem2_gradient`: item 1, `Jᵀ ∇L(θ) = ∇L(θ)`, i.e. `L' ∘ J = L'`
  (eq. (23) contracted with `∇ℓ`).
* `EquivarianceToolbox.theorem2_hessian`: item 2, `Jᵀ H J + (∇L·T_θθ) = H`, i.e.
  `L''(J x)(J y) + L'(T''(x)(y)) = L''(x)(y)` (from eq. (24)); the second term is the blue term.
* `EquivarianceToolbox.theorem2_hessian_linear`: for linear `T a = J`, `Jᵀ H J = H`
  (eq. (9) of Section 6).
* `fderiv` forms: `theorem2_gradient_fderiv`, `theorem2_hessian_fderiv` (under `ContDiffAt ℝ 2`).

## Implementation notes

The core statements carry derivatives as `HasFDerivAt` data; the Hessian statement
differentiates `ϑ ↦ ∇L(T ϑ) ∘ ∇T(ϑ) = ∇L(ϑ)` (valid near `θ`) at `θ` with
`HasFDerivAt.clm_comp` and identifies the two derivatives with `HasFDerivAt.unique`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv 2512.21447,
  Section 3, Theorem 2, eqs. (23)–(24); Section 6, eqs. (8)–(9).
-/

noncomputable section

open scoped Topology ContDiff

namespace EquivarianceToolbox

variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- Local invariance `f (τ ϑ) = f ϑ` near `θ` gives `L (τ ϑ) = L ϑ` near `θ` for `L = ℓ ∘ f`
(Theorem 2, hypothesis). -/
theorem comp_eventuallyEq_of_invariant {ℓ : F → ℝ} {f : E → F} {τ : E → E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, f (τ ϑ) = f ϑ) : (fun ϑ => (ℓ ∘ f) (τ ϑ)) =ᶠ[𝓝 θ] ℓ ∘ f := by
  filter_upwards [hinv] with ϑ hϑ
  show ℓ (f (τ ϑ)) = ℓ (f ϑ)
  rw [hϑ]

/-- Derivative of an invariance (Theorem 2, eq. (23) contracted with `∇ℓ`): if `L ∘ τ = L` near
`ϑ`, then `∇L(τ ϑ) ∘ ∇τ(ϑ) = ∇L(ϑ)`. -/
theorem fderiv_comp_of_invariant {L : E → ℝ} {τ : E → E} {ϑ : E} {A C : E →L[ℝ] ℝ}
    {B : E →L[ℝ] E} (hinv : (fun x => L (τ x)) =ᶠ[𝓝 ϑ] L) (hLτ : HasFDerivAt L A (τ ϑ))
    (hτ : HasFDerivAt τ B ϑ) (hL : HasFDerivAt L C ϑ) : A ∘L B = C := by
  have h1 : HasFDerivAt (fun x => L (τ x)) (A ∘L B) ϑ := hLτ.comp ϑ hτ
  exact h1.unique (hL.congr_of_eventuallyEq hinv)

/-- **Theorem 2, item 1**: at a fixed point `θ ∈ Fix_a(T)` of a local symmetry
(`f (T a ϑ) = f ϑ` near `θ`), `Jᵀ ∇L(θ) = ∇L(θ)`, i.e. `L' ∘ J = L'` with `J = ∂θT(a, θ)`. -/
theorem theorem2_gradient {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E →L[ℝ] ℝ} {J : E →L[ℝ] E} (hinv : ∀ᶠ ϑ in 𝓝 θ, f (T a ϑ) = f ϑ)
    (hfix : θ ∈ fixedPointSet T a) (hL : HasFDerivAt (ℓ ∘ f) L' θ)
    (hT : HasFDerivAt (T a) J θ) : L' ∘L J = L' := by
  have hfix' : T a θ = θ := hfix
  have hLT : HasFDerivAt (ℓ ∘ f) L' (T a θ) := by
    rw [hfix']
    exact hL
  exact fderiv_comp_of_invariant (L := ℓ ∘ f) (τ := T a)
    (comp_eventuallyEq_of_invariant (ℓ := ℓ) (τ := T a) hinv) hLT hT hL

/-- **Theorem 2, item 2, core** (for any map `τ` with a fixed point `θ` and `f ∘ τ = f` near
`θ`): `L''(J x)(J y) + L'(τ''(x)(y)) = L''(x)(y)` with `J = τ'(θ)`. -/
theorem hessian_fixed_point_core {ℓ : F → ℝ} {f : E → F} {τ : E → E} {θ : E}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} {T' : E → E →L[ℝ] E}
    {T'' : E →L[ℝ] E →L[ℝ] E} (hinv : ∀ᶠ ϑ in 𝓝 θ, f (τ ϑ) = f ϑ) (hfix : τ θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt τ (T' ϑ) ϑ) (hT' : HasFDerivAt T' T'' θ) (x y : E) :
    L'' (T' θ x) (T' θ y) + L' θ (T'' x y) = L'' x y := by
  have hTθ : HasFDerivAt τ (T' θ) θ := hT.self_of_nhds
  have hTc : Filter.Tendsto τ (𝓝 θ) (𝓝 θ) := by
    have h := hTθ.continuousAt.tendsto
    rw [hfix] at h
    exact h
  have hLT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' (τ ϑ)) (τ ϑ) := hTc.eventually hL
  -- eq. (23) contracted with `∇ℓ`, at every point near `θ`: `∇L(τ ϑ) ∘ τ'(ϑ) = ∇L(ϑ)`
  have hEq : (fun ϑ => L' (τ ϑ) ∘L T' ϑ) =ᶠ[𝓝 θ] L' := by
    filter_upwards [hinv.eventually_nhds, hLT, hT, hL] with ϑ h0 h1 h2 h3
    exact fderiv_comp_of_invariant (L := ℓ ∘ f) (comp_eventuallyEq_of_invariant (ℓ := ℓ) h0)
      h1 h2 h3
  have hL'T : HasFDerivAt L' L'' (τ θ) := by
    rw [hfix]
    exact hL'
  have h1 : HasFDerivAt (fun ϑ => L' (τ ϑ)) (L'' ∘L T' θ) θ := hL'T.comp θ hTθ
  have h2 : HasFDerivAt (fun ϑ => L' (τ ϑ) ∘L T' ϑ)
      ((ContinuousLinearMap.compL ℝ E E ℝ (L' (τ θ))).comp T'' +
        ((ContinuousLinearMap.compL ℝ E E ℝ).flip (T' θ)).comp (L'' ∘L T' θ)) θ :=
    h1.clm_comp hT'
  have hD := h2.unique (hL'.congr_of_eventuallyEq hEq)
  have hpt := DFunLike.congr_fun (DFunLike.congr_fun hD x) y
  simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.compL_apply,
    ContinuousLinearMap.flip_apply] at hpt
  -- hpt : L' (τ θ) (T'' x y) + L'' (T' θ x) (T' θ y) = L'' x y
  rw [hfix] at hpt
  linear_combination hpt

/-- **Theorem 2, item 2** (eq. (24) contracted with `∇ℓ`): at a fixed point `θ ∈ Fix_a(T)` of a
local symmetry, `Jᵀ H J + (∇L·T_θθ) = H`, i.e. `L''(J x)(J y) + L'(T''(x)(y)) = L''(x)(y)` with
`J = ∂θT(a, θ)` and `T''` the second `θ`-derivative of `T`. The term `L'(T''(x)(y))` is the blue
term; it vanishes for affine `T`. -/
theorem theorem2_hessian {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} {T' : E → E →L[ℝ] E}
    {T'' : E →L[ℝ] E →L[ℝ] E} (hinv : ∀ᶠ ϑ in 𝓝 θ, f (T a ϑ) = f ϑ)
    (hfix : θ ∈ fixedPointSet T a)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (T' ϑ) ϑ) (hT' : HasFDerivAt T' T'' θ) (x y : E) :
    L'' (T' θ x) (T' θ y) + L' θ (T'' x y) = L'' x y := by
  have hfix' : T a θ = θ := hfix
  exact hessian_fixed_point_core hinv hfix' hL hL' hT hT' x y

/-- **Theorem 2, item 2 for linear `T`** (eq. (9)): if `T a = J` is linear, `J θ = θ` and
`f (J ϑ) = f ϑ` near `θ`, then `Jᵀ H J = H`, i.e. `L''(J x)(J y) = L''(x)(y)`. -/
theorem theorem2_hessian_linear {ℓ : F → ℝ} {f : E → F} {J : E →L[ℝ] E} {θ : E}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} (hinv : ∀ᶠ ϑ in 𝓝 θ, f (J ϑ) = f ϑ)
    (hfix : J θ = θ) (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ)
    (hL' : HasFDerivAt L' L'' θ) (x y : E) : L'' (J x) (J y) = L'' x y := by
  have hT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (⇑J) J ϑ := Filter.Eventually.of_forall fun _ => J.hasFDerivAt
  have hT' : HasFDerivAt (fun _ : E => J) (0 : E →L[ℝ] E →L[ℝ] E) θ := hasFDerivAt_const J θ
  have h := hessian_fixed_point_core (τ := ⇑J) (T' := fun _ : E => J) hinv hfix hL hL' hT hT' x y
  simp only [zero_apply, map_zero, add_zero] at h
  exact h

/-- **Theorem 2, item 1** in `fderiv` form: `∇L(θ) ∘ ∂θT(a, θ) = ∇L(θ)` at a fixed point of a
local symmetry. -/
theorem theorem2_gradient_fderiv {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {a : G} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, f (T a ϑ) = f ϑ) (hfix : θ ∈ fixedPointSet T a)
    (hL : DifferentiableAt ℝ (ℓ ∘ f) θ) (hT : DifferentiableAt ℝ (T a) θ) :
    fderiv ℝ (ℓ ∘ f) θ ∘L fderiv ℝ (T a) θ = fderiv ℝ (ℓ ∘ f) θ :=
  theorem2_gradient hinv hfix hL.hasFDerivAt hT.hasFDerivAt

/-- **Theorem 2, item 2** in `fderiv` form (for `C²` loss and transformation):
`H(J x, J y) + ∇L(θ)(∂²θT(x, y)) = H(x, y)` with `H = fderiv ℝ (fderiv ℝ L) θ`,
`J = fderiv ℝ (T a) θ`. -/
theorem theorem2_hessian_fderiv {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {a : G} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, f (T a ϑ) = f ϑ) (hfix : θ ∈ fixedPointSet T a)
    (hL : ContDiffAt ℝ 2 (ℓ ∘ f) θ) (hT : ContDiffAt ℝ 2 (T a) θ) (x y : E) :
    fderiv ℝ (fderiv ℝ (ℓ ∘ f)) θ (fderiv ℝ (T a) θ x) (fderiv ℝ (T a) θ y)
      + fderiv ℝ (ℓ ∘ f) θ (fderiv ℝ (fderiv ℝ (T a)) θ x y)
      = fderiv ℝ (fderiv ℝ (ℓ ∘ f)) θ x y :=
  theorem2_hessian hinv hfix (eventually_hasFDerivAt_of_contDiffAt_two hL)
    (hasFDerivAt_fderiv_of_contDiffAt_two hL) (eventually_hasFDerivAt_of_contDiffAt_two hT)
    (hasFDerivAt_fderiv_of_contDiffAt_two hT) x y

end EquivarianceToolbox
