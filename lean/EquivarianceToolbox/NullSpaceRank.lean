/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.Symmetry
import Mathlib.LinearAlgebra.Dimension.Constructions
import Mathlib.LinearAlgebra.FiniteDimensional.Defs

/-!
# Section 5.4: `dim ker H ≥ rank v` at a stationary point

At a stationary point `θ*` of a loss with a continuous symmetry, `H v = 0`
(`EquivarianceToolbox.symmetry_hessian_null_space_clm`): every characteristic direction is in the
kernel of the Hessian. Hence the span of the characteristic directions, of dimension `rank v`, is
a subspace of `ker H`: `r` independent symmetry directions give at least `r` zero eigenvalues.

## Main results

* `EquivarianceToolbox.range_le_ker_of_comp_eq_zero`: `H ∘ v = 0` gives `range v ≤ ker H`.
* `EquivarianceToolbox.finrank_range_le_finrank_ker`: `H ∘ v = 0` gives
  `finrank (range v) ≤ finrank (ker H)` in finite dimension.
* `EquivarianceToolbox.symmetry_hessian_null_space_rank`: Section 5.4,
  `rank v(a, θ*) ≤ dim ker H(θ*)`, under the hypotheses of `symmetry_hessian_null_space_clm` (the
  symmetry near `(a, θ*)`, its partial derivatives and the defining equation of `v`).

## Implementation notes

The Hessian is the second derivative `L'' : E →L[ℝ] E →L[ℝ] F` (for a loss, `F = ℝ`, and `L'' x` is
the covector `H x`); its kernel is `LinearMap.ker (L'' : E →ₗ[ℝ] E →L[ℝ] F)`. The characteristic
direction at `θ*` is `v θ* : G →L[ℝ] E` (columns indexed by the transformation parameter); its
rank is `Module.finrank ℝ (LinearMap.range (v θ* : G →ₗ[ℝ] E))`, the dimension of the span of the
characteristic directions.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 5.4.
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- **Range of `v` inside the kernel of `H`** (Section 5.4 of arXiv:2512.21447): if
`H ∘L v = 0`, every characteristic direction `v g` is in `ker H`. -/
theorem range_le_ker_of_comp_eq_zero {H : E →L[ℝ] E →L[ℝ] F} {v : G →L[ℝ] E}
    (hHv : H ∘L v = 0) :
    LinearMap.range (v : G →ₗ[ℝ] E) ≤ LinearMap.ker (H : E →ₗ[ℝ] E →L[ℝ] F) := by
  intro x hx
  obtain ⟨g, rfl⟩ := LinearMap.mem_range.mp hx
  rw [LinearMap.mem_ker]
  have h := DFunLike.congr_fun hHv g
  rw [ContinuousLinearMap.comp_apply, zero_apply] at h
  -- `h : H (v g) = 0`; the goal is the same with `H`, `v` coerced to linear maps (`coe_coe`, `rfl`)
  first
    | exact h
    | simpa only [ContinuousLinearMap.coe_coe] using h

/-- **`rank v ≤ dim ker H`** (Section 5.4 of arXiv:2512.21447): in finite dimension, `H ∘L v = 0`
gives `finrank (range v) ≤ finrank (ker H)`. -/
theorem finrank_range_le_finrank_ker [FiniteDimensional ℝ E] {H : E →L[ℝ] E →L[ℝ] F}
    {v : G →L[ℝ] E} (hHv : H ∘L v = 0) :
    Module.finrank ℝ (LinearMap.range (v : G →ₗ[ℝ] E)) ≤
      Module.finrank ℝ (LinearMap.ker (H : E →ₗ[ℝ] E →L[ℝ] F)) :=
  Submodule.finrank_mono (range_le_ker_of_comp_eq_zero hHv)

/-- **Section 5.4 of arXiv:2512.21447 (`dim ker H ≥ rank v` at a stationary point).** Under the
hypotheses of `symmetry_hessian_null_space_clm` (the symmetry `L (T b ϑ) = L ϑ` near `(a, θ)`, `L'`
the derivative of `L` near `θ` with derivative `L''` at `θ`, the partial derivatives `Tθ`, `Ta` of
`T` and a differentiable characteristic direction `v` with `Tθ ϑ ∘L v ϑ = Ta ϑ` near `θ`, and
`L' θ = 0`), in finite dimension the span of the characteristic directions has dimension at most
that of the Hessian's kernel: `finrank (range (v θ)) ≤ finrank (ker L'')`. -/
theorem symmetry_hessian_null_space_rank [FiniteDimensional ℝ E] {L : E → F} {T : G → E → E}
    {a : G} {θ : E} {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F} {Tθ : E → E →L[ℝ] E}
    {Ta : E → G →L[ℝ] E} {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E}
    (hsymm : ∀ᶠ q in 𝓝 (a, θ), L (T q.1 q.2) = L q.2)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hLT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ) (hv : HasFDerivAt v v' θ) (hcrit : L' θ = 0) :
    Module.finrank ℝ (LinearMap.range (v θ : G →ₗ[ℝ] E)) ≤
      Module.finrank ℝ (LinearMap.ker (L'' : E →ₗ[ℝ] E →L[ℝ] F)) :=
  finrank_range_le_finrank_ker
    (symmetry_hessian_null_space_clm hsymm hL hL' hLT hTθ hTa hvdef hv hcrit)

end EquivarianceToolbox
