/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.Homogeneity
import Mathlib.Analysis.InnerProductSpace.Rayleigh

/-!
# The sharpness lower bound for homogeneous models

For a `p`-homogeneous model, eq. (4) gives the curvature along `θ`:
`θᵀ H θ = p² f(θ)ᵀ K f(θ) + p (p - 1) ⟨g, f(θ)⟩`. Dividing by `‖θ‖²` gives the Rayleigh quotient
of the Hessian at `θ`, and the largest eigenvalue of a symmetric operator is at least any of its
Rayleigh quotients. This is the sharpness lower bound of Section 5.1 of the paper.

## Main results

* `EquivarianceToolbox.rayleigh_le_eigenvalue`: for a symmetric operator `T` on a
  finite-dimensional real inner product space and `θ ≠ 0`, there is an eigenvalue `μ` of `T` with
  `⟪T θ, θ⟫ / ‖θ‖² ≤ μ` (`μ` is the supremum of the Rayleigh quotient, i.e. `λ_max`).
* `EquivarianceToolbox.sharpness_rayleigh_quotient`: `θᵀ H θ / ‖θ‖² =
  (p² ℓ''(f)(f, f) + p (p - 1) ℓ'(f)(f)) / ‖θ‖²`.
* `EquivarianceToolbox.sharpness_lower_bound`: if the operator `Hop` represents the Hessian
  (`⟪Hop x, y⟫ = L'' x y`), then `Hop` has an eigenvalue `μ ≥ (p² ℓ''(f)(f, f) +
  p (p - 1) ℓ'(f)(f)) / ‖θ‖²`; hence `λ_max(H) ≥` this bound.

## Implementation notes

The Hessian is the second derivative `L'' : E →L[ℝ] E →L[ℝ] ℝ` of `L = ℓ ∘ f`, with the
hypotheses of `homogeneity_hessian_action`. The bound needs an operator on a finite-dimensional
inner product space; it is supplied as `Hop : E →L[ℝ] E` with `⟪Hop x, y⟫ = L'' x y`, and its
symmetry follows from the symmetry of second derivatives
(`second_derivative_symmetric_of_eventually`). The
eigenvalue comes from `LinearMap.IsSymmetric.hasEigenvalue_iSup_of_finiteDimensional`; the
Rayleigh quotient at `θ` is below the supremum by `le_ciSup`, with boundedness by `‖T‖`
(`ContinuousLinearMap.rayleighQuotient_le_norm`). Over `ℝ`, `RCLike.re` is the identity
(`RCLike.re_to_real`), applied explicitly. All hypotheses on `f`, `ℓ` and `L` are local, with a
real degree `p`, as in `homogeneity_hessian_action`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 5.1 (eq. (4) and the sharpness lower bound).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

variable {E F : Type*}
  [NormedAddCommGroup E] [InnerProductSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- **Rayleigh quotient below `λ_max` (used for the sharpness bound of Section 5.1 of
arXiv:2512.21447).** For a symmetric operator `T` on a finite-dimensional real inner product
space and `θ ≠ 0`, some eigenvalue `μ` of `T` (the supremum of the Rayleigh quotient) satisfies
`⟪T θ, θ⟫ / ‖θ‖² ≤ μ`. -/
theorem rayleigh_le_eigenvalue [FiniteDimensional ℝ E] {T : E →L[ℝ] E}
    (hT : (T : E →ₗ[ℝ] E).IsSymmetric) {θ : E} (hθ : θ ≠ 0) :
    ∃ μ : ℝ, Module.End.HasEigenvalue (T : E →ₗ[ℝ] E) μ ∧ inner ℝ (T θ) θ / ‖θ‖ ^ 2 ≤ μ := by
  haveI : Nontrivial E := nontrivial_of_ne θ 0 hθ
  -- the Rayleigh quotient is bounded above by `‖T‖`
  have hbdd : BddAbove (Set.range fun x : {x : E // x ≠ 0} =>
      RCLike.re (inner ℝ ((T : E →ₗ[ℝ] E) x) (x : E)) / ‖(x : E)‖ ^ 2) := by
    refine ⟨‖T‖, ?_⟩
    rintro _ ⟨x, rfl⟩
    have h1 : |T.rayleighQuotient (x : E)| ≤ ‖T‖ := T.rayleighQuotient_le_norm (x : E)
    refine le_trans (le_of_eq ?_) ((le_abs_self _).trans h1)
    -- `re ⟪(T : E →ₗ[ℝ] E) x, x⟫ / ‖x‖² = T.rayleighQuotient x`
    first
      | (simp only [ContinuousLinearMap.rayleighQuotient,
          ContinuousLinearMap.reApplyInnerSelf_apply, ContinuousLinearMap.coe_coe]; done)
      | rfl
  refine ⟨⨆ x : {x : E // x ≠ 0},
      RCLike.re (inner ℝ ((T : E →ₗ[ℝ] E) x) (x : E)) / ‖(x : E)‖ ^ 2,
    hT.hasEigenvalue_iSup_of_finiteDimensional, ?_⟩
  refine le_trans (le_of_eq ?_) (le_ciSup hbdd ⟨θ, hθ⟩)
  -- over `ℝ`, `RCLike.re` is the identity (`RCLike.re_to_real`)
  first
    | (simp only [RCLike.re_to_real, ContinuousLinearMap.coe_coe]; done)
    | rfl

/-- **Rayleigh quotient along `θ` for a homogeneous model (Section 5.1 of arXiv:2512.21447).**
Under the hypotheses of `homogeneity_hessian_action`,
`θᵀ H θ / ‖θ‖² = (p² ℓ''(f θ)(f θ, f θ) + p (p - 1) ℓ'(f θ)(f θ)) / ‖θ‖²`. -/
theorem sharpness_rayleigh_quotient {ℓ : F → ℝ} {f : E → F} {ℓ' : F → F →L[ℝ] ℝ}
    {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    L'' θ θ / ‖θ‖ ^ 2 =
      (p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ)) / ‖θ‖ ^ 2 := by
  rw [homogeneity_hessian_quadratic hhom hℓ hℓ' hf hL hL']

/-- **Sharpness lower bound (Section 5.1 of arXiv:2512.21447).** Let `E` be a finite-dimensional
real inner product space, `f` `p`-homogeneous with the hypotheses of `homogeneity_hessian_action`,
and let `Hop : E →L[ℝ] E` represent the Hessian, `⟪Hop x, y⟫ = L'' x y`. If `θ ≠ 0`, then `Hop` has
an eigenvalue `μ` with `(p² ℓ''(f θ)(f θ, f θ) + p (p - 1) ℓ'(f θ)(f θ)) / ‖θ‖² ≤ μ`; in particular
`λ_max(H) ≥ θᵀ H θ / ‖θ‖²` equals this bound. -/
theorem sharpness_lower_bound [FiniteDimensional ℝ E] {ℓ : F → ℝ} {f : E → F}
    {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ} {Hop : E →L[ℝ] E}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hH : ∀ x y, inner ℝ (Hop x) y = L'' x y) (hθ : θ ≠ 0) :
    ∃ μ : ℝ, Module.End.HasEigenvalue (Hop : E →ₗ[ℝ] E) μ ∧
      (p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ)) / ‖θ‖ ^ 2 ≤ μ := by
  -- the representing operator is symmetric, by symmetry of the second derivative
  have hsymm : (Hop : E →ₗ[ℝ] E).IsSymmetric := by
    intro x y
    have hxy : inner ℝ (Hop x) y = inner ℝ x (Hop y) := by
      rw [hH x y, real_inner_comm, hH y x]
      exact second_derivative_symmetric_of_eventually hL hL' x y
    first
      | exact hxy
      | (rw [ContinuousLinearMap.coe_coe]; exact hxy)
  obtain ⟨μ, hμ, hle⟩ := rayleigh_le_eigenvalue hsymm hθ
  refine ⟨μ, hμ, ?_⟩
  have hval : (p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ)) /
      ‖θ‖ ^ 2 = inner ℝ (Hop θ) θ / ‖θ‖ ^ 2 := by
    rw [hH θ θ, homogeneity_hessian_quadratic hhom hℓ hℓ' hf hL hL']
  exact hval.le.trans hle

end EquivarianceToolbox
