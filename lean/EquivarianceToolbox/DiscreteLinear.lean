/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Algebra.GroupWithZero.Action.Units
import Mathlib.Analysis.Calculus.FDeriv.Comp
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Congr
import Mathlib.Analysis.Calculus.FDeriv.Const
import Mathlib.Analysis.Calculus.FDeriv.Linear

/-!
# Discrete symmetries with a linear action

Let `M : E →L[ℝ] E` be a continuous linear map with `L (M ϑ) = L ϑ` for all `ϑ` (a discrete
symmetry `T (a, θ) = M θ` with `S = id`, Section 6 of the paper), and let `θ` be a fixed point,
`M θ = θ`. Then the gradient is `M`-invariant and the Hessian is `M`-conjugation invariant. For a
mirror `M = id - 2 P`, where `P` is a projection (`P ∘L P = P`, e.g. `P = O Oᵀ` with `Oᵀ O = I`),
this gives Corollary 4: at a point with `P θ = 0`, the gradient vanishes on `range P` and the
Hessian has no blocks coupling `range P` and `ker P`.

## Main results

* `EquivarianceToolbox.discrete_linear_gradient`: eq. (8), `Mᵀ ∇L(θ) = ∇L(θ)`, stated as
  `L' ∘L M = L'`.
* `EquivarianceToolbox.discrete_linear_hessian`: eq. (9), `Mᵀ H M = H`, stated as
  `L'' (M x) (M y) = L'' x y`.
* `EquivarianceToolbox.corollary4_mirror`: Corollary 4. Item 1: `L' θ ∘L P = 0` (the gradient is
  orthogonal to `col O = range P`). Item 2: `L'' (P x) (y - P y) = 0` and
  `L'' (x - P x) (P y) = 0`, i.e. `(I - OOᵀ) H O = 0` and `Oᵀ H (I - OOᵀ) = 0`.

## Implementation notes

The symmetry is used in the form "the two functions `ϑ ↦ L (M ϑ)` and `L` are equal", so their
derivatives agree (`HasFDerivAt.unique`). The symmetry and the derivatives are only assumed
near `θ` (so a ReLU network at a point where it is smooth qualifies). At every `ϑ` near the fixed
point this gives `L' (M ϑ) ∘L M = L' ϑ` (`M ϑ` stays near `θ` by continuity); differentiating this identity of `E →L[ℝ] F`-valued functions once more
(`HasFDerivAt.clm_comp` with the constant function `M`) and evaluating at the fixed point gives
eq. (9). The mirror is described by a projection `P` and the pointwise identity
`M u = u - 2 • P u`; no orthogonality of `P` is needed for the statements proved here. The
output space `F` is an arbitrary real normed space.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 6, eqs. (8) and (9), and Corollary 4.
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

variable {E F : Type*}
  [NormedAddCommGroup E] [NormedAddCommGroup F] [NormedSpace ℝ E] [NormedSpace ℝ F]

/-- **Eq. (8) of arXiv:2512.21447 (gradient invariance at a fixed point of a linear symmetry).**
If `L (M ϑ) = L ϑ` for `ϑ` near `θ`, `M θ = θ` and `HasFDerivAt L L' θ`, then `L' ∘L M = L'`,
i.e. `Mᵀ ∇L(θ) = ∇L(θ)`. -/
theorem discrete_linear_gradient {L : E → F} {L' : E →L[ℝ] F} {M : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ) (hL : HasFDerivAt L L' θ) :
    L' ∘L M = L' := by
  have hLM : HasFDerivAt L L' (M θ) := by
    rw [hfix]
    exact hL
  have h1 : HasFDerivAt (fun ϑ => L (M ϑ)) (L' ∘L M) θ :=
    HasFDerivAt.comp (f := ⇑M) θ hLM M.hasFDerivAt
  have h2 : (fun ϑ => L (M ϑ)) =ᶠ[𝓝 θ] L := hinv
  exact h1.unique (hL.congr_of_eventuallyEq h2)

/-- **Eq. (9) of arXiv:2512.21447 (Hessian conjugation invariance at a fixed point).**
If `L (M ϑ) = L ϑ` for `ϑ` near `θ`, `M θ = θ`, `L' ϑ` is the derivative of `L` at every `ϑ`
near `θ` and `L''` is the derivative of `L'` at `θ`, then `L'' (M x) (M y) = L'' x y` for all
`x y`, i.e. `Mᵀ H M = H`. -/
theorem discrete_linear_hessian {L : E → F} {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F}
    {M : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) (x y : E) :
    L'' (M x) (M y) = L'' x y := by
  -- `M ϑ` stays near `θ` when `ϑ` is near `θ`
  have hMt : Filter.Tendsto (⇑M) (𝓝 θ) (𝓝 θ) := by
    have h := M.continuous.tendsto θ
    rw [hfix] at h
    exact h
  have hLM : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' (M ϑ)) (M ϑ) := hMt.eventually hL
  -- first-order identity near `θ`: `L' (M ϑ) ∘L M = L' ϑ`
  have hgrad : ∀ᶠ ϑ in 𝓝 θ, L' (M ϑ) ∘L M = L' ϑ := by
    filter_upwards [hinv.eventually_nhds, hLM, hL] with ϑ h0 h1 h2
    have h3 : HasFDerivAt (fun u => L (M u)) (L' (M ϑ) ∘L M) ϑ :=
      HasFDerivAt.comp (f := ⇑M) ϑ h1 M.hasFDerivAt
    have h4 : (fun u => L (M u)) =ᶠ[𝓝 ϑ] L := h0
    exact h3.unique (h2.congr_of_eventuallyEq h4)
  -- differentiate `ϑ ↦ L' (M ϑ) ∘L M` at the fixed point
  have hL'M : HasFDerivAt L' L'' (M θ) := by
    rw [hfix]
    exact hL'
  have h3 : HasFDerivAt (fun u => L' (M u) ∘L M)
      ((ContinuousLinearMap.compL ℝ E E F (L' (M θ))).comp (0 : E →L[ℝ] E →L[ℝ] E) +
        ((ContinuousLinearMap.compL ℝ E E F).flip M).comp (L'' ∘L M)) θ :=
    (HasFDerivAt.comp (f := ⇑M) θ hL'M M.hasFDerivAt).clm_comp
      (hasFDerivAt_const (𝕜 := ℝ) M θ)
  have hEq : (fun u => L' (M u) ∘L M) =ᶠ[𝓝 θ] L' := hgrad
  have h4 : HasFDerivAt (fun u => L' (M u) ∘L M) L'' θ := hL'.congr_of_eventuallyEq hEq
  have key := h3.unique h4
  have h5 := DFunLike.congr_fun (DFunLike.congr_fun key x) y
  simp only [ContinuousLinearMap.comp_zero, zero_add, add_apply, ContinuousLinearMap.comp_apply,
    ContinuousLinearMap.flip_apply, ContinuousLinearMap.compL_apply, zero_apply,
    map_zero] at h5
  -- `h5 : L'' (M x) (M y) = L'' x y`
  exact h5

/-- In a real vector space, `-a = a` forces `a = 0` (used for the mirror, Corollary 4 of
arXiv:2512.21447). -/
private theorem mirror_eq_zero_of_neg_eq_self {a : F} (h : -a = a) : a = 0 := by
  have h2 : (2 : ℝ) • a = 0 := by
    rw [two_smul ℝ a]
    exact neg_eq_iff_add_eq_zero.mp h
  calc a = (2 : ℝ)⁻¹ • (2 : ℝ) • a := (inv_smul_smul₀ (two_ne_zero : (2 : ℝ) ≠ 0) a).symm
    _ = 0 := by rw [h2, smul_zero]

/-- **Corollary 4 of arXiv:2512.21447 (mirror symmetry).** Let `P : E →L[ℝ] E` be a projection
(`P ∘L P = P`; for the paper, `P = O Oᵀ` with `Oᵀ O = I`) and `M u = u - 2 • P u` the
corresponding mirror. If `L (M ϑ) = L ϑ` for `ϑ` near `θ`, `L' ϑ` is the derivative of `L` at
every `ϑ` near `θ`, `L''` the derivative of `L'` at `θ`, and `P θ = 0` (i.e. `Oᵀ θ = 0`), then
1. `L' θ ∘L P = 0`: the gradient is orthogonal to `range P = col O`;
2. for all `x y`, `L'' (P x) (y - P y) = 0` and `L'' (x - P x) (P y) = 0`: the Hessian has no
   block between `range P` and `ker P`, i.e. `(I - OOᵀ) H O = 0` and `Oᵀ H (I - OOᵀ) = 0`. -/
theorem corollary4_mirror {L : E → F} {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F}
    {M P : E →L[ℝ] E} {θ : E}
    (hP : P ∘L P = P) (hM : ∀ u, M u = u - (2 : ℝ) • P u)
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hθ : P θ = 0)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    L' θ ∘L P = 0 ∧ ∀ x y, L'' (P x) (y - P y) = 0 ∧ L'' (x - P x) (P y) = 0 := by
  have hPP : ∀ u, P (P u) = P u := fun u => DFunLike.congr_fun hP u
  -- `θ` is a fixed point of the mirror
  have hfix : M θ = θ := by
    rw [hM, hθ, smul_zero, sub_zero]
  -- the mirror flips `range P`
  have hneg : ∀ u, M (P u) = -P u := by
    intro u
    rw [hM, hPP, two_smul ℝ (P u), sub_add_cancel_left]
  -- the mirror fixes `ker P`, which contains every `u - P u`
  have hQ : ∀ u, P (u - P u) = 0 := by
    intro u
    rw [ContinuousLinearMap.map_sub, hPP, sub_self]
  have hQfix : ∀ u, M (u - P u) = u - P u := by
    intro u
    rw [hM, hQ, smul_zero, sub_zero]
  have hgrad : L' θ ∘L M = L' θ :=
    discrete_linear_gradient (L := L) (θ := θ) hinv hfix hL.self_of_nhds
  refine ⟨ContinuousLinearMap.ext fun x => ?_, fun x y => ⟨?_, ?_⟩⟩
  · -- item 1
    have k := DFunLike.congr_fun hgrad (P x)
    rw [ContinuousLinearMap.comp_apply, hneg, ContinuousLinearMap.map_neg] at k
    -- k : -L' θ (P x) = L' θ (P x)
    rw [ContinuousLinearMap.comp_apply, zero_apply]
    exact mirror_eq_zero_of_neg_eq_self k
  · -- item 2, block `range P × ker P`
    have k := discrete_linear_hessian hinv hfix hL hL' (P x) (y - P y)
    rw [hneg, hQfix, ContinuousLinearMap.map_neg, neg_apply] at k
    exact mirror_eq_zero_of_neg_eq_self k
  · -- item 2, block `ker P × range P`
    have k := discrete_linear_hessian hinv hfix hL hL' (x - P x) (P y)
    rw [hQfix, hneg, ContinuousLinearMap.map_neg] at k
    exact mirror_eq_zero_of_neg_eq_self k

end EquivarianceToolbox
