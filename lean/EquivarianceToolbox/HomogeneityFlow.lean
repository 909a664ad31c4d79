/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.Homogeneity
import Mathlib.Analysis.InnerProductSpace.Calculus
import Mathlib.Tactic.LinearCombination
import Mathlib.Tactic.Ring

/-!
# Homogeneity: norm growth under gradient flow and Corollary 1

Consequences of `p`-homogeneity `f (a • θ) = a ^ p • f θ` (Section 4.2 and Section 5.1 of the
paper), built on `EquivarianceToolbox.Homogeneity`.

## Main results

* `EquivarianceToolbox.homogeneity_norm_growth`: under gradient flow `θ' = -∇L(θ)` in a real
  inner product space, `d/dt ‖θ t‖² = -2 p ℓ'(f θ)(f θ)` (Section 4.2).
* `EquivarianceToolbox.corollary1_gradient_in_hessian_range`: Corollary 1 (i), division-free form,
  for a scalar output `f : E → ℝ` and `ℓ : ℝ → ℝ`: `ℓ'(f) • Hθ = κ • ∇L(θ)` with
  `κ = (p - 1) ℓ'(f) + p f ℓ''(f)` (`EquivarianceToolbox.homogeneityKappa`).
* `EquivarianceToolbox.corollary1_gradient_eq_smul_hessian`: Corollary 1 (ii) in the corrected
  form: if `κ ≠ 0` then `∇L(θ) = c • Hθ` with `c = ℓ'(f) / κ`.
* `EquivarianceToolbox.corollary1_gradient_orthogonal_hessian_kernel`: if `κ ≠ 0`, then `∇L(θ)`
  vanishes on `ker H`, i.e. `∇L ⟂ ker H`.

## Implementation notes

Derivatives are data, with the local hypotheses of `homogeneity_hessian_action`: `ℓ' y` is the
derivative of `ℓ` at `y` near `f θ`, `ℓ''` the derivative of `ℓ'` at `f θ`, `L' ϑ` the derivative
of `L = ℓ ∘ f` at `ϑ` near `θ` and `L''` the derivative of `L'` at `θ`; homogeneity (of real
degree `p`) is assumed only near `θ`, so ReLU networks are covered where they are smooth. The Hessian applied to `θ` is the
covector `L'' θ = (δ ↦ θᵀ H δ)`, and the gradient is the covector `L' θ`; identities between them
are identities in `E →L[ℝ] ℝ`, so no inner product is needed for Corollary 1. For `m = 1` the
scalar derivatives are `ℓ'(f θ) = ℓ' (f θ) 1` and `ℓ''(f θ) = ℓ'' 1 1`; a continuous linear map
`φ : ℝ →L[ℝ] ℝ` satisfies `φ x = x * φ 1` (`EquivarianceToolbox.clm_real_apply_eq_mul`).
The gradient flow is stated at one time `t`: `⟪θ'(t), x⟫ = -L'(x)` for every `x`, where `L'` is
the derivative of `L` at `θ t`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 4.2 (norm growth) and Section 5.1 (eq. (3), Corollary 1).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

section NormGrowth

variable {E F : Type*}
  [NormedAddCommGroup E] [InnerProductSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- **Norm growth under gradient flow (Section 4.2 of arXiv:2512.21447).** Let `f` be
`p`-homogeneous near `a = 1` at the point `θ t`, and let `L = ℓ ∘ f` have derivative `L'` at
`θ t`. If the curve `θ` has velocity `θ'` at time `t` and follows the gradient flow,
`⟪θ', x⟫ = -L' x` for all `x` (i.e. `θ' = -∇L(θ t)`), then
`d/dt ‖θ t‖² = -2 p ℓ'(f (θ t)) (f (θ t))`. -/
theorem homogeneity_norm_growth {ℓ : F → ℝ} {f : E → F} {ℓ' : F →L[ℝ] ℝ} {f' : E →L[ℝ] F}
    {L' : E →L[ℝ] ℝ} {θ : ℝ → E} {θ' : E} {t : ℝ} {p : ℝ}
    (hhom : ∀ᶠ a in 𝓝 (1 : ℝ), f (a • θ t) = a ^ p • f (θ t))
    (hℓ : HasFDerivAt ℓ ℓ' (f (θ t))) (hf : HasFDerivAt f f' (θ t))
    (hL : HasFDerivAt (fun ϑ => ℓ (f ϑ)) L' (θ t)) (hθ : HasDerivAt θ θ' t)
    (hflow : ∀ x : E, inner ℝ θ' x = -L' x) :
    HasDerivAt (fun s => ‖θ s‖ ^ 2) (-2 * p * ℓ' (f (θ t))) t := by
  have h₁ : HasDerivAt (fun s => ‖θ s‖ ^ 2) (2 * inner ℝ (θ t) θ') t := hθ.norm_sq
  have heuler : L' (θ t) = p * ℓ' (f (θ t)) := homogeneity_euler_loss hhom hℓ hf hL
  have hin : inner ℝ (θ t) θ' = -L' (θ t) := (real_inner_comm θ' (θ t)).trans (hflow (θ t))
  have hval : 2 * inner ℝ (θ t) θ' = -2 * p * ℓ' (f (θ t)) := by
    rw [hin, heuler]
    ring
  exact h₁.congr_deriv hval

end NormGrowth

section Corollary1

variable {E : Type*} [NormedAddCommGroup E] [NormedSpace ℝ E]

/-- **The factor `κ` of Corollary 1 (Section 5.1 of arXiv:2512.21447).** For a `p`-homogeneous
scalar model with value `y = f θ`, `d₁ = ℓ'(y)` and `d₂ = ℓ''(y)`,
`κ = (p - 1) d₁ + p y d₂`, so that `Hθ = κ ∇f(θ)`. -/
def homogeneityKappa (p y d₁ d₂ : ℝ) : ℝ :=
  (p - 1) * d₁ + p * y * d₂

/-- **Auxiliary for Corollary 1 of arXiv:2512.21447 (scalar derivatives).** A continuous linear
map `φ : ℝ →L[ℝ] ℝ` is multiplication by `φ 1`: `φ x = x * φ 1`. -/
theorem clm_real_apply_eq_mul (φ : ℝ →L[ℝ] ℝ) (x : ℝ) : φ x = x * φ 1 := by
  have h : φ (x • (1 : ℝ)) = x • φ 1 := φ.map_smul x 1
  simp only [smul_eq_mul, mul_one] at h
  exact h

/-- **Corollary 1 (i) of arXiv:2512.21447, division-free form (`m = 1`).** For a
`p`-homogeneous `f : E → ℝ` and `ℓ : ℝ → ℝ`, with the derivative data of
`homogeneity_hessian_action`,
`ℓ'(f θ) • Hθ = κ • ∇L(θ)` with `κ = (p - 1) ℓ'(f θ) + p f(θ) ℓ''(f θ)`, stated as
`ℓ' (f θ) 1 • L'' θ = homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1) • L' θ`. -/
theorem corollary1_gradient_in_hessian_range {ℓ : ℝ → ℝ} {f : E → ℝ} {ℓ' : ℝ → ℝ →L[ℝ] ℝ}
    {ℓ'' : ℝ →L[ℝ] ℝ →L[ℝ] ℝ} {f' : E → E →L[ℝ] ℝ} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    ℓ' (f θ) 1 • L'' θ = homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1) • L' θ := by
  refine ContinuousLinearMap.ext fun δ => ?_
  -- eq. (3) paired with `δ`
  have h₃ : L'' θ δ = (p - 1) * L' θ δ + p * ℓ'' (f' θ δ) (f θ) :=
    homogeneity_hessian_action hhom hℓ hℓ' hf hL hL' δ
  -- first-order chain rule, in scalar form
  have hchain : L' θ = ℓ' (f θ) ∘L f' θ :=
    hL.self_of_nhds.unique (HasFDerivAt.comp (f := f) θ hℓ.self_of_nhds hf.self_of_nhds)
  have hc : L' θ δ = f' θ δ * ℓ' (f θ) 1 := by
    rw [hchain, ContinuousLinearMap.comp_apply]
    exact clm_real_apply_eq_mul (ℓ' (f θ)) (f' θ δ)
  -- the second derivative of `ℓ` in scalar form
  have hK₁ : ℓ'' (f' θ δ) = f' θ δ • ℓ'' 1 := by
    have h : ℓ'' (f' θ δ • (1 : ℝ)) = f' θ δ • ℓ'' 1 := ℓ''.map_smul (f' θ δ) 1
    simp only [smul_eq_mul, mul_one] at h
    exact h
  have hK₂ : ℓ'' (f' θ δ) (f θ) = f' θ δ * ℓ'' 1 (f θ) := by
    rw [hK₁, smul_apply, smul_eq_mul]
  have hK₃ : ℓ'' 1 (f θ) = f θ * ℓ'' 1 1 := clm_real_apply_eq_mul (ℓ'' 1) (f θ)
  simp only [smul_apply, smul_eq_mul]
  rw [homogeneityKappa, h₃, hK₂, hK₃, hc]
  ring

/-- **Corollary 1 (ii) of arXiv:2512.21447, corrected form (`m = 1`).** Under the hypotheses of
`corollary1_gradient_in_hessian_range`, if `κ = (p - 1) ℓ'(f θ) + p f(θ) ℓ''(f θ) ≠ 0`, then
`∇L(θ) = c • Hθ` with `c = ℓ'(f θ) / κ`. (Without `κ ≠ 0` the statement fails; see MATH.md §6.) -/
theorem corollary1_gradient_eq_smul_hessian {ℓ : ℝ → ℝ} {f : E → ℝ} {ℓ' : ℝ → ℝ →L[ℝ] ℝ}
    {ℓ'' : ℝ →L[ℝ] ℝ →L[ℝ] ℝ} {f' : E → E →L[ℝ] ℝ} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hκ : homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1) ≠ 0) :
    L' θ = (ℓ' (f θ) 1 / homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1)) • L'' θ := by
  have h := corollary1_gradient_in_hessian_range hhom hℓ hℓ' hf hL hL'
  refine ContinuousLinearMap.ext fun δ => ?_
  have hδ : ℓ' (f θ) 1 * L'' θ δ =
      homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1) * L' θ δ := by
    have h₀ := DFunLike.congr_fun h δ
    simp only [smul_apply, smul_eq_mul] at h₀
    exact h₀
  simp only [smul_apply, smul_eq_mul]
  rw [div_mul_eq_mul_div, eq_div_iff hκ]
  linear_combination -hδ

/-- **Corollary 1 (ii) of arXiv:2512.21447, `∇L ⟂ ker H` (`m = 1`).** Under the hypotheses of
`corollary1_gradient_eq_smul_hessian` (in particular `κ ≠ 0`), if `H δ = 0` (i.e. `L'' δ = 0`),
then `∇L(θ) ⬝ δ = 0`. -/
theorem corollary1_gradient_orthogonal_hessian_kernel {ℓ : ℝ → ℝ} {f : E → ℝ}
    {ℓ' : ℝ → ℝ →L[ℝ] ℝ} {ℓ'' : ℝ →L[ℝ] ℝ →L[ℝ] ℝ} {f' : E → E →L[ℝ] ℝ}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hκ : homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1) ≠ 0) {δ : E} (hδ : L'' δ = 0) :
    L' θ δ = 0 := by
  have h := corollary1_gradient_eq_smul_hessian hhom hℓ hℓ' hf hL hL' hκ
  have hs : L'' θ δ = L'' δ θ := second_derivative_symmetric_of_eventually hL hL' θ δ
  have h₀ : L'' δ θ = 0 := by
    rw [hδ, zero_apply]
  rw [h, smul_apply, hs, h₀, smul_zero]

end Corollary1

end EquivarianceToolbox
