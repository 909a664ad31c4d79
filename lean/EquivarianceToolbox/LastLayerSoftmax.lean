/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.LastLayer
import Mathlib.Algebra.BigOperators.Field
import Mathlib.Algebra.BigOperators.Ring.Finset
import Mathlib.Algebra.Order.BigOperators.Group.Finset
import Mathlib.Analysis.Complex.Exponential
import Mathlib.Tactic.Ring

/-!
# Corollary 3 for softmax cross-entropy: curvature is a variance

For the softmax cross-entropy `ℓ (y) = -log p_c (y)`, `p = softmax y`, the Hessian is
`∇²ℓ (y) = diag p - p pᵀ`. Corollary 3 (eq. (7)) then reads
`(B W, 0)ᵀ H (B W, 0) = Var_{j ∼ p} [(B y)_j] = ∑ⱼ pⱼ zⱼ² - (∑ⱼ pⱼ zⱼ)²` with `z = B y`
(Section 5.3 of the paper).

## Main definitions

* `EquivarianceToolbox.softmaxHessianForm`: `(u, w) ↦ uᵀ (diag p - p pᵀ) w`.
* `EquivarianceToolbox.softmaxVariance`: `Var_{j ∼ p} [z_j] = ∑ⱼ pⱼ (zⱼ - ∑ᵢ pᵢ zᵢ)²`.
* `EquivarianceToolbox.softmax`: `softmax y j = exp yⱼ / ∑ᵢ exp yᵢ`.

## Main results

* `EquivarianceToolbox.softmaxHessianForm_self_eq_variance`: for `∑ⱼ pⱼ = 1`,
  `zᵀ (diag p - p pᵀ) z = Var_{j ∼ p} [z_j]`.
* `EquivarianceToolbox.sum_softmax`: `∑ⱼ softmax y j = 1` (for a nonempty class index).
* `EquivarianceToolbox.corollary3_softmax_variance`: Corollary 3 with the softmax cross-entropy
  Hessian `diag p - p pᵀ`, `p = softmax y`: `L'' (B ∘L W, 0) (B ∘L W, 0) = Var_{j ∼ p} [(B y)_j]`,
  `y = W (h φ)`.

## Implementation notes

Outputs live in `ι → ℝ` for a finite class index `ι`. The Hessian of `ℓ` at `y` enters as the
hypothesis `ℓ'' u w = softmaxHessianForm (softmax y) u w`; the derivation of `diag p - p pᵀ` from
`ℓ (y) = log ∑ᵢ exp yᵢ - y_c` itself is not formalized here. All other hypotheses are those of `EquivarianceToolbox.corollary3_last_layer`.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 5.3, Corollary 3 and the softmax cross-entropy example after eq. (7).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

section Variance

variable {ι : Type*} [Fintype ι]

/-- The quadratic form of the softmax cross-entropy Hessian `diag p - p pᵀ` (Section 5.3 of
arXiv:2512.21447): `uᵀ (diag p - p pᵀ) w = ∑ⱼ pⱼ uⱼ wⱼ - (∑ⱼ pⱼ uⱼ) (∑ⱼ pⱼ wⱼ)`. -/
def softmaxHessianForm (p u w : ι → ℝ) : ℝ :=
  ∑ j, p j * u j * w j - (∑ j, p j * u j) * (∑ j, p j * w j)

/-- The variance of `z` under the distribution `p` (Section 5.3 of arXiv:2512.21447):
`Var_{j ∼ p} [z_j] = ∑ⱼ pⱼ (zⱼ - ∑ᵢ pᵢ zᵢ)²`. -/
def softmaxVariance (p z : ι → ℝ) : ℝ :=
  ∑ j, p j * (z j - ∑ i, p i * z i) ^ 2

/-- The softmax of `y` (Section 5.3 of arXiv:2512.21447): `softmax y j = exp yⱼ / ∑ᵢ exp yᵢ`. -/
def softmax (y : ι → ℝ) (j : ι) : ℝ :=
  Real.exp (y j) / ∑ i, Real.exp (y i)

/-- **The softmax is a probability vector** (Section 5.3 of arXiv:2512.21447): for a nonempty
class index, `∑ⱼ softmax y j = 1`. -/
theorem sum_softmax [Nonempty ι] (y : ι → ℝ) : ∑ j, softmax y j = 1 := by
  have hS : (∑ i, Real.exp (y i)) ≠ 0 :=
    (Finset.sum_pos (fun i _ => Real.exp_pos (y i)) Finset.univ_nonempty).ne'
  show ∑ j, Real.exp (y j) / ∑ i, Real.exp (y i) = 1
  rw [← Finset.sum_div, div_self hS]

/-- **The softmax Hessian form is a variance** (Section 5.3 of arXiv:2512.21447): if
`∑ⱼ pⱼ = 1`, then `zᵀ (diag p - p pᵀ) z = Var_{j ∼ p} [z_j]`. -/
theorem softmaxHessianForm_self_eq_variance (p z : ι → ℝ) (hp : ∑ j, p j = 1) :
    softmaxHessianForm p z z = softmaxVariance p z := by
  have h₁ : ∀ μ : ℝ, ∑ j, p j * (z j - μ) ^ 2 =
      ∑ j, p j * z j * z j - 2 * μ * ∑ j, p j * z j + μ ^ 2 * ∑ j, p j := by
    intro μ
    have hterm : ∑ j, p j * (z j - μ) ^ 2 =
        ∑ j, (p j * z j * z j - 2 * μ * (p j * z j) + μ ^ 2 * p j) :=
      Finset.sum_congr rfl fun j _ => by ring
    first
      | (rw [hterm, Finset.sum_add_distrib, Finset.sum_sub_distrib, ← Finset.mul_sum,
          ← Finset.mul_sum]; done)
      | (rw [Finset.mul_sum, Finset.mul_sum, ← Finset.sum_sub_distrib, ← Finset.sum_add_distrib]
         exact hterm)
  rw [softmaxHessianForm, softmaxVariance, h₁, hp]
  ring

end Variance

section LastLayer

variable {E₀ F₀ ι : Type*} [Fintype ι]
  [NormedAddCommGroup E₀] [NormedSpace ℝ E₀]
  [NormedAddCommGroup F₀] [NormedSpace ℝ F₀]

/-- **Corollary 3 / eq. (7) of arXiv:2512.21447 for softmax cross-entropy (variance form).** Under
the hypotheses of `corollary3_last_layer` with outputs in `ι → ℝ` (a nonempty class index), if the
Hessian of `ℓ` at `y = W (h φ)` is the softmax cross-entropy Hessian `diag p - p pᵀ` with
`p = softmax y`, then for every `B`, `L'' (B ∘L W, 0) (B ∘L W, 0) = Var_{j ∼ p} [(B y)_j]`. -/
theorem corollary3_softmax_variance [Nonempty ι] {ℓ : (ι → ℝ) → ℝ} {h : E₀ → F₀}
    {L : (F₀ →L[ℝ] (ι → ℝ)) × E₀ → ℝ}
    {ℓ' : (ι → ℝ) → (ι → ℝ) →L[ℝ] ℝ} {ℓ'' : (ι → ℝ) →L[ℝ] (ι → ℝ) →L[ℝ] ℝ}
    {L' : (F₀ →L[ℝ] (ι → ℝ)) × E₀ → (F₀ →L[ℝ] (ι → ℝ)) × E₀ →L[ℝ] ℝ}
    {L'' : (F₀ →L[ℝ] (ι → ℝ)) × E₀ →L[ℝ] (F₀ →L[ℝ] (ι → ℝ)) × E₀ →L[ℝ] ℝ}
    {W : F₀ →L[ℝ] (ι → ℝ)} {φ : E₀}
    (hLdef : ∀ (V : F₀ →L[ℝ] (ι → ℝ)) (ψ : E₀), L (V, ψ) = ℓ (V (h ψ)))
    (hℓ : ∀ᶠ y in 𝓝 (W (h φ)), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (W (h φ)))
    (hL : ∀ᶠ q in 𝓝 (W, φ), HasFDerivAt L (L' q) q) (hL' : HasFDerivAt L' L'' (W, φ))
    (hK : ∀ u w, ℓ'' u w = softmaxHessianForm (softmax (W (h φ))) u w)
    (B : (ι → ℝ) →L[ℝ] (ι → ℝ)) :
    L'' (B ∘L W, 0) (B ∘L W, 0) = softmaxVariance (softmax (W (h φ))) (B (W (h φ))) := by
  rw [corollary3_last_layer hLdef hℓ hℓ' hL hL' B B, hK]
  exact softmaxHessianForm_self_eq_variance _ (B (W (h φ))) (sum_softmax (W (h φ)))

end LastLayer

end EquivarianceToolbox
