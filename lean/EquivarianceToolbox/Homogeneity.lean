/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.Deriv.Comp
import Mathlib.Analysis.Calculus.Deriv.Mul
import Mathlib.Analysis.Calculus.Deriv.Pow
import Mathlib.Analysis.SpecialFunctions.Pow.Deriv
import Mathlib.Analysis.Calculus.FDeriv.Comp
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Congr
import Mathlib.Analysis.Calculus.FDeriv.Mul
import Mathlib.Analysis.Calculus.FDeriv.Symmetric
import Mathlib.Topology.Order.OrderClosed
import Mathlib.Tactic.LinearCombination

/-!
# Homogeneity: the Euler relation and the Hessian along `θ`

A map `f : E → F` is `p`-homogeneous if `f (a • θ) = a ^ p • f θ` for all `a > 0`. This is the
equivariance `T (a, θ) = a • θ`, `S (a, y) = a ^ p • y` of the paper (Section 4.2), with
characteristic direction `v = θ / a` and characteristic output `w = p f(θ) / a`. At `a = 1`,
Theorem 1 gives the Euler relation, and its second-order version gives eqs. (3) and (4).

## Main results

* `EquivarianceToolbox.homogeneity_euler`: the Euler relation `f'(θ) θ = p • f(θ)`, assuming
  homogeneity only for `a` near `1`.
* `EquivarianceToolbox.homogeneity_euler_of_pos`: the same assuming homogeneity for all `a > 0`.
* `EquivarianceToolbox.homogeneity_euler_loss`: for the loss `L = ℓ ∘ f`,
  `L'(θ) θ = p * ℓ'(f θ) (f θ)`, i.e. `⟨∇L(θ), θ⟩ = p ⟨∇ℓ(f(θ)), f(θ)⟩` (Section 4.2).
* `EquivarianceToolbox.homogeneity_hessian_action`: eq. (3),
  `H θ = (p - 1) ∇L(θ) + p Gᵀ K f(θ)`, paired with an arbitrary direction `δ`.
* `EquivarianceToolbox.homogeneity_hessian_quadratic`: eq. (4),
  `θᵀ H θ = p² f(θ)ᵀ K f(θ) + p (p - 1) ⟨g, f(θ)⟩`.

## Implementation notes

The Euler relation is proved by one-variable calculus along the curve `a ↦ a • θ`: the chain rule
(`HasFDerivAt.comp_hasDerivAt_of_eq`) differentiates `a ↦ f (a • θ)` at `a = 1`, the power rule
(`Real.hasDerivAt_rpow_const`) differentiates `a ↦ a ^ p • f θ`, and `HasDerivAt.unique` compares them.
Eq. (3) differentiates the Euler relation `L' ϑ ϑ = p * ℓ' (f ϑ) (f ϑ)`, valid at every `ϑ` near
`θ`, in `ϑ` (`HasFDerivAt.clm_apply`), and uses the symmetry of the second derivative
(`second_derivative_symmetric_of_eventually`). All hypotheses are local (near `θ`, resp. near
`f θ`), so non-smooth homogeneous models such as ReLU networks are covered at every point where
they are smooth. The degree `p` is real and `a ^ p` is `Real.rpow` (`Real.hasDerivAt_rpow_const`
differentiates it); an integer degree is the case `p = (n : ℝ)`, with `Real.rpow_natCast`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 4.2 (Euler relation) and Section 5.1, eqs. (3) and (4).
-/

noncomputable section

open scoped Topology ContDiff

namespace EquivarianceToolbox

variable {E F : Type*}
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- **Euler relation (Section 4.2 of arXiv:2512.21447).** If `f (a • θ) = a ^ p • f θ` for all
`a` near `1` (real degree `p`, `a ^ p = Real.rpow a p`) and `f` has derivative `f'` at `θ`, then
`f' θ = p • f θ`. -/
theorem homogeneity_euler {f : E → F} {f' : E →L[ℝ] F} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ a in 𝓝 (1 : ℝ), f (a • θ) = a ^ p • f θ) (hf : HasFDerivAt f f' θ) :
    f' θ = p • f θ := by
  -- the curve `a ↦ a • θ` has velocity `1 • θ` at `a = 1`
  have hγ : HasDerivAt (fun a : ℝ => a • θ) ((1 : ℝ) • θ) 1 :=
    (hasDerivAt_id' (1 : ℝ)).smul_const θ
  -- chain rule for `a ↦ f (a • θ)` at `a = 1`
  have h1 : HasDerivAt (fun a : ℝ => f (a • θ)) (f' ((1 : ℝ) • θ)) 1 :=
    hf.comp_hasDerivAt_of_eq (1 : ℝ) hγ (one_smul ℝ θ).symm
  -- power rule for `a ↦ a ^ p • f θ` at `a = 1`
  have h2 : HasDerivAt (fun a : ℝ => a ^ p • f θ) ((p * (1 : ℝ) ^ (p - 1)) • f θ) 1 :=
    (Real.hasDerivAt_rpow_const (x := 1) (p := p) (Or.inl one_ne_zero)).smul_const (f θ)
  have hhom' : (fun a : ℝ => f (a • θ)) =ᶠ[𝓝 (1 : ℝ)] fun a : ℝ => a ^ p • f θ := hhom
  have key : f' ((1 : ℝ) • θ) = (p * (1 : ℝ) ^ (p - 1)) • f θ :=
    h1.unique (h2.congr_of_eventuallyEq hhom')
  rw [one_smul, Real.one_rpow, mul_one] at key
  exact key

/-- **Euler relation (Section 4.2 of arXiv:2512.21447), for `p`-homogeneity on `a > 0`.**
If `f (a • θ) = a ^ p • f θ` for all `a > 0` and `HasFDerivAt f f' θ`, then
`f' θ = p • f θ`. -/
theorem homogeneity_euler_of_pos {f : E → F} {f' : E →L[ℝ] F} {θ : E} {p : ℝ}
    (hhom : ∀ a : ℝ, 0 < a → f (a • θ) = a ^ p • f θ) (hf : HasFDerivAt f f' θ) :
    f' θ = p • f θ :=
  homogeneity_euler (f := f) (θ := θ) (p := p)
    (Filter.Eventually.mono (eventually_gt_nhds (zero_lt_one : (0 : ℝ) < 1)) fun a ha =>
      hhom a ha) hf

/-- **Euler relation for the loss (Section 4.2 of arXiv:2512.21447).** If `f` is
`p`-homogeneous near `a = 1`, `ℓ` has derivative `ℓ'` at `f θ`, `f` has derivative `f'` at `θ`,
and `L'` is the derivative of `L = ℓ ∘ f` at `θ`, then `L' θ = p * ℓ' (f θ)`, i.e.
`⟨∇L(θ), θ⟩ = p ⟨∇ℓ(f(θ)), f(θ)⟩`. -/
theorem homogeneity_euler_loss {ℓ : F → ℝ} {f : E → F} {ℓ' : F →L[ℝ] ℝ} {f' : E →L[ℝ] F}
    {L' : E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ a in 𝓝 (1 : ℝ), f (a • θ) = a ^ p • f θ)
    (hℓ : HasFDerivAt ℓ ℓ' (f θ)) (hf : HasFDerivAt f f' θ)
    (hL : HasFDerivAt (fun ϑ => ℓ (f ϑ)) L' θ) :
    L' θ = p * ℓ' (f θ) := by
  have hcomp : HasFDerivAt (fun ϑ => ℓ (f ϑ)) (ℓ' ∘L f') θ := HasFDerivAt.comp (f := f) θ hℓ hf
  have hL' : L' = ℓ' ∘L f' := hL.unique hcomp
  rw [hL', ContinuousLinearMap.comp_apply, homogeneity_euler hhom hf]
  -- `ℓ' (p • f θ) = p • ℓ' (f θ) = p * ℓ' (f θ)`
  first
    | rw [ContinuousLinearMap.map_smul, smul_eq_mul]
    | simp only [map_smul, smul_eq_mul]

/-- **Eq. (3) of arXiv:2512.21447 (Hessian action along `θ` for a homogeneous model).**
Every hypothesis is local: `f` is `p`-homogeneous (real `p`, `a` near `1`) at every `ϑ` near `θ`
and has derivative `f' ϑ` there; `ℓ` has derivative `ℓ' y` for `y` near `f θ` and second
derivative `ℓ''` at `f θ`; `L' ϑ` is the derivative of `L = ℓ ∘ f` for `ϑ` near `θ`, with
second derivative `L''` at `θ` (so a ReLU network at a point where it is smooth qualifies).
Then, for every direction `δ`, `L'' θ δ = (p - 1) * L' θ δ + p * ℓ'' (f' θ δ) (f θ)`, i.e.
`H θ = (p - 1) ∇L(θ) + p Gᵀ K f(θ)`. -/
theorem homogeneity_hessian_action {ℓ : F → ℝ} {f : E → F} {ℓ' : F → F →L[ℝ] ℝ}
    {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (δ : E) :
    L'' θ δ = (p - 1) * L' θ δ + p * ℓ'' (f' θ δ) (f θ) := by
  have hfθ : HasFDerivAt f (f' θ) θ := hf.self_of_nhds
  have hℓf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt ℓ (ℓ' (f ϑ)) (f ϑ) :=
    hfθ.continuousAt.tendsto.eventually hℓ
  -- the Euler relation for the loss holds at every point near `θ`
  have heuler : ∀ᶠ ϑ in 𝓝 θ, L' ϑ ϑ = p * ℓ' (f ϑ) (f ϑ) := by
    filter_upwards [hhom, hℓf, hf, hL] with ϑ h0 h1 h2 h3
    exact homogeneity_euler_loss h0 h1 h2 h3
  -- derivative of the left side `ϑ ↦ L' ϑ ϑ`
  have hB : HasFDerivAt (fun ϑ => L' ϑ ϑ)
      ((L' θ).comp (ContinuousLinearMap.id ℝ E) + L''.flip θ) θ :=
    hL'.clm_apply (hasFDerivAt_id θ)
  -- derivative of the right side `ϑ ↦ p * ℓ' (f ϑ) (f ϑ)`
  have hℓ'f : HasFDerivAt (fun ϑ => ℓ' (f ϑ)) (ℓ'' ∘L f' θ) θ :=
    HasFDerivAt.comp (f := f) θ hℓ' hfθ
  have hC₀ : HasFDerivAt (fun ϑ => ℓ' (f ϑ) (f ϑ))
      ((ℓ' (f θ)).comp (f' θ) + (ℓ'' ∘L f' θ).flip (f θ)) θ :=
    hℓ'f.clm_apply hfθ
  have hC : HasFDerivAt (fun ϑ => p * ℓ' (f ϑ) (f ϑ))
      (p • ((ℓ' (f θ)).comp (f' θ) + (ℓ'' ∘L f' θ).flip (f θ))) θ :=
    hC₀.const_mul p
  have hEq : (fun ϑ => L' ϑ ϑ) =ᶠ[𝓝 θ] fun ϑ => p * ℓ' (f ϑ) (f ϑ) := heuler
  have key := hB.unique (hC.congr_of_eventuallyEq hEq)
  -- evaluate at `δ`
  have h : L' θ δ + L'' δ θ = p * (ℓ' (f θ) (f' θ δ) + ℓ'' (f' θ δ) (f θ)) := by
    have h0 := DFunLike.congr_fun key δ
    simp only [add_apply, smul_apply, ContinuousLinearMap.comp_apply,
      ContinuousLinearMap.id_apply, ContinuousLinearMap.flip_apply, smul_eq_mul] at h0
    exact h0
  -- first-order chain rule: `L' θ = ℓ' (f θ) ∘L f' θ`
  have hchain : L' θ = ℓ' (f θ) ∘L f' θ :=
    hL.self_of_nhds.unique (HasFDerivAt.comp (f := f) θ hℓ.self_of_nhds hfθ)
  have hc : L' θ δ = ℓ' (f θ) (f' θ δ) := by
    rw [hchain, ContinuousLinearMap.comp_apply]
  -- symmetry of the second derivative (from the derivatives near `θ` only)
  have hsymm : L'' θ δ = L'' δ θ := second_derivative_symmetric_of_eventually hL hL' θ δ
  linear_combination h - p * hc + hsymm

/-- **Eq. (4) of arXiv:2512.21447 (curvature along `θ` for a homogeneous model).** Under the
(local) hypotheses of `homogeneity_hessian_action`,
`L'' θ θ = p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ)`, i.e.
`θᵀ H θ = p² f(θ)ᵀ K f(θ) + p (p - 1) ⟨g, f(θ)⟩`. -/
theorem homogeneity_hessian_quadratic {ℓ : F → ℝ} {f : E → F} {ℓ' : F → F →L[ℝ] ℝ}
    {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    L'' θ θ = p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ) := by
  have h3 := homogeneity_hessian_action hhom hℓ hℓ' hf hL hL' θ
  have he : f' θ θ = p • f θ := homogeneity_euler hhom.self_of_nhds hf.self_of_nhds
  have hl : L' θ θ = p * ℓ' (f θ) (f θ) :=
    homogeneity_euler_loss hhom.self_of_nhds hℓ.self_of_nhds hf.self_of_nhds hL.self_of_nhds
  have hK : ℓ'' (f' θ θ) (f θ) = p * ℓ'' (f θ) (f θ) := by
    rw [he]
    first
      | rw [ContinuousLinearMap.map_smul, smul_apply, smul_eq_mul]
      | simp only [map_smul, smul_apply, smul_eq_mul]
  rw [hl, hK] at h3
  -- `h3 : L'' θ θ = (p - 1) * (p * ℓ' (f θ) (f θ)) + p * (p * ℓ'' (f θ) (f θ))`
  linear_combination h3

end EquivarianceToolbox
