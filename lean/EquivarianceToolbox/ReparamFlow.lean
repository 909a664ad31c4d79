/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.Deriv.Add
import Mathlib.Analysis.Calculus.Deriv.Mul
import Mathlib.Data.Matrix.Mul
import Mathlib.Tactic.Ring

/-!
# Gradient-flow conservation of `W₁ W₁ᵀ - W₂ᵀ W₂`

Section 4.1 of the paper: if the loss depends on `(W₁, W₂)` only through the product `W₂ W₁`, the
reparameterization symmetry `(W₁, W₂) ↦ (A W₁, W₂ A⁻¹)` gives
`∇_{W₁} L W₁ᵀ = W₂ᵀ ∇_{W₂} L` (eq. (2), `EquivarianceToolbox.reparam_conservation`), and under
gradient flow the `d × d` matrix `W₁ W₁ᵀ - W₂ᵀ W₂` is constant.

## Main results

* `EquivarianceToolbox.hasDerivAt_matrix_mul_apply`: the product rule for one entry of a product
  of matrix-valued curves, `(P Q)' = P' Q + P Q'`.
* `EquivarianceToolbox.reparam_conservation_flow_of_balance`: if `W₁' = -G₁`, `W₂' = -G₂` at time
  `t` and `G₁ W₁ᵀ = W₂ᵀ G₂` there, every entry of `W₁ W₁ᵀ - W₂ᵀ W₂` has derivative `0` at `t`.
* `EquivarianceToolbox.reparam_conservation_flow`: the same for `L (W₁, W₂) = ℓ (W₂ W₁)`, whose
  gradients are `∇_{W₁} L = W₂ᵀ ∇ℓ` and `∇_{W₂} L = ∇ℓ W₁ᵀ` (chain rule).

## Implementation notes

Matrices are `Matrix d d₀ ℝ` over finite index types. Mathlib puts no global norm on `Matrix`, so
curves of matrices are differentiated entrywise: `W₁' = -G₁` at time `t` is the hypothesis
`∀ i j, HasDerivAt (fun s => W₁ s i j) ((-G₁) i j) t`. The proof is the entrywise product rule
followed by matrix algebra (`Matrix.transpose_mul`, `Matrix.neg_mul`, `Matrix.mul_neg`) and `ring` on
the entries.
The gradients `G₁ = W₂ᵀ ∇ℓ`, `G₂ = ∇ℓ W₁ᵀ` of `ℓ (W₂ W₁)` are hypotheses (the chain rule for the
Frobenius pairing); no derivative of `ℓ` on matrices is formed.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 4.1 (reparameterization symmetry and its conservation law).
-/

noncomputable section

open scoped Topology Matrix

namespace EquivarianceToolbox

/-- **Entrywise product rule for matrix-valued curves** (used for the conservation law of
Section 4.1 of arXiv:2512.21447). If every entry of `P` and `Q` has a derivative at `t`, given by
the matrices `P'` and `Q'`, then entry `(i, j)` of `P s * Q s` has derivative
`(P' * Q t + P t * Q') i j` at `t`. -/
theorem hasDerivAt_matrix_mul_apply {l m n : Type*} [Fintype m] {P : ℝ → Matrix l m ℝ}
    {Q : ℝ → Matrix m n ℝ} {P' : Matrix l m ℝ} {Q' : Matrix m n ℝ} {t : ℝ}
    (hP : ∀ i j, HasDerivAt (fun s => P s i j) (P' i j) t)
    (hQ : ∀ i j, HasDerivAt (fun s => Q s i j) (Q' i j) t) (i : l) (j : n) :
    HasDerivAt (fun s => (P s * Q s) i j) ((P' * Q t + P t * Q') i j) t := by
  have h : HasDerivAt (fun s => ∑ k, P s i k * Q s k j)
      (∑ k, (P' i k * Q t k j + P t i k * Q' k j)) t :=
    HasDerivAt.fun_sum fun k _ => (hP i k).fun_mul (hQ k j)
  have hval : ∑ k, (P' i k * Q t k j + P t i k * Q' k j) = (P' * Q t + P t * Q') i j := by
    rw [Matrix.add_apply, Matrix.mul_apply, Matrix.mul_apply, Finset.sum_add_distrib]
  have hfun : (fun s => (P s * Q s) i j) =ᶠ[𝓝 t] fun s => ∑ k, P s i k * Q s k j :=
    Filter.Eventually.of_forall fun s => Matrix.mul_apply
  exact (h.congr_deriv hval).congr_of_eventuallyEq hfun

/-- **Transpose of a matrix-valued curve** (used for the conservation law of Section 4.1 of
arXiv:2512.21447): entrywise derivatives of `W` give entrywise derivatives of `Wᵀ`. -/
theorem hasDerivAt_matrix_transpose_apply {m n : Type*} {W : ℝ → Matrix m n ℝ}
    {W' : Matrix m n ℝ} {t : ℝ} (hW : ∀ i j, HasDerivAt (fun s => W s i j) (W' i j) t)
    (i : n) (j : m) : HasDerivAt (fun s => (W s)ᵀ i j) (W'ᵀ i j) t := by
  have hfun : (fun s => (W s)ᵀ i j) =ᶠ[𝓝 t] fun s => W s j i :=
    Filter.Eventually.of_forall fun s => Matrix.transpose_apply (W s) i j
  exact ((hW j i).congr_deriv (Matrix.transpose_apply W' i j).symm).congr_of_eventuallyEq hfun

/-- **Conservation of `W₁ W₁ᵀ - W₂ᵀ W₂` under gradient flow, from the balance identity
(Section 4.1 of arXiv:2512.21447).** Let `W₁ : ℝ → Matrix d d₀ ℝ` and `W₂ : ℝ → Matrix d₂ d ℝ`
follow the gradient flow at time `t`, `W₁' = -G₁` and `W₂' = -G₂` (entrywise), where the gradients
satisfy eq. (2) for the reparameterization symmetry, `G₁ W₁ᵀ = W₂ᵀ G₂`. Then every entry of
`W₁ W₁ᵀ - W₂ᵀ W₂` has derivative `0` at `t`. -/
theorem reparam_conservation_flow_of_balance {d₀ d d₂ : Type*} [Fintype d₀] [Fintype d]
    [Fintype d₂] {W₁ : ℝ → Matrix d d₀ ℝ} {W₂ : ℝ → Matrix d₂ d ℝ} {G₁ : Matrix d d₀ ℝ}
    {G₂ : Matrix d₂ d ℝ} {t : ℝ}
    (hW₁ : ∀ i j, HasDerivAt (fun s => W₁ s i j) ((-G₁) i j) t)
    (hW₂ : ∀ i j, HasDerivAt (fun s => W₂ s i j) ((-G₂) i j) t)
    (hbal : G₁ * (W₁ t)ᵀ = (W₂ t)ᵀ * G₂) (i j : d) :
    HasDerivAt (fun s => (W₁ s * (W₁ s)ᵀ - (W₂ s)ᵀ * W₂ s) i j) 0 t := by
  have h₁ : HasDerivAt (fun s => (W₁ s * (W₁ s)ᵀ) i j)
      ((-G₁ * (W₁ t)ᵀ + W₁ t * (-G₁)ᵀ) i j) t :=
    hasDerivAt_matrix_mul_apply hW₁ (hasDerivAt_matrix_transpose_apply hW₁) i j
  have h₂ : HasDerivAt (fun s => ((W₂ s)ᵀ * W₂ s) i j)
      (((-G₂)ᵀ * W₂ t + (W₂ t)ᵀ * -G₂) i j) t :=
    hasDerivAt_matrix_mul_apply (hasDerivAt_matrix_transpose_apply hW₂) hW₂ i j
  have h₃ : HasDerivAt (fun s => (W₁ s * (W₁ s)ᵀ) i j - ((W₂ s)ᵀ * W₂ s) i j)
      ((-G₁ * (W₁ t)ᵀ + W₁ t * (-G₁)ᵀ) i j - ((-G₂)ᵀ * W₂ t + (W₂ t)ᵀ * -G₂) i j) t :=
    h₁.fun_sub h₂
  -- transpose of the balance identity: `W₁ G₁ᵀ = G₂ᵀ W₂`
  have hbalT : W₁ t * G₁ᵀ = G₂ᵀ * W₂ t := by
    have h := congrArg Matrix.transpose hbal
    rw [Matrix.transpose_mul, Matrix.transpose_mul, Matrix.transpose_transpose,
      Matrix.transpose_transpose] at h
    exact h
  -- both derivative matrices in terms of `X = W₂ᵀ G₂` and `Y = G₂ᵀ W₂`
  have e₁ : -G₁ * (W₁ t)ᵀ + W₁ t * (-G₁)ᵀ = -((W₂ t)ᵀ * G₂) + -(G₂ᵀ * W₂ t) := by
    first
      | (rw [Matrix.transpose_neg, Matrix.neg_mul, Matrix.mul_neg, hbal, hbalT]; done)
      | simp only [Matrix.transpose_neg, Matrix.neg_mul, Matrix.mul_neg, hbal, hbalT]
  have e₂ : (-G₂)ᵀ * W₂ t + (W₂ t)ᵀ * -G₂ = -(G₂ᵀ * W₂ t) + -((W₂ t)ᵀ * G₂) := by
    first
      | (rw [Matrix.transpose_neg, Matrix.neg_mul, Matrix.mul_neg]; done)
      | simp only [Matrix.transpose_neg, Matrix.neg_mul, Matrix.mul_neg]
  -- hence the derivative of entry `(i, j)` is `(-X - Y) i j - (-Y - X) i j = 0`
  have hval : (-G₁ * (W₁ t)ᵀ + W₁ t * (-G₁)ᵀ) i j - ((-G₂)ᵀ * W₂ t + (W₂ t)ᵀ * -G₂) i j = 0 := by
    rw [e₁, e₂]
    simp only [Matrix.add_apply, Matrix.neg_apply]
    ring
  have hfun : (fun s => (W₁ s * (W₁ s)ᵀ - (W₂ s)ᵀ * W₂ s) i j) =ᶠ[𝓝 t]
      fun s => (W₁ s * (W₁ s)ᵀ) i j - ((W₂ s)ᵀ * W₂ s) i j :=
    Filter.Eventually.of_forall fun s => Matrix.sub_apply _ _ i j
  exact (h₃.congr_deriv hval).congr_of_eventuallyEq hfun

/-- **Conservation of `W₁ W₁ᵀ - W₂ᵀ W₂` under gradient flow (Section 4.1 of
arXiv:2512.21447).** Let `L (W₁, W₂) = ℓ (W₂ W₁)` depend on the pair only through the product,
and let `Gℓ = ∇ℓ (W₂ t W₁ t)`, so that `∇_{W₁} L = W₂ᵀ Gℓ` and `∇_{W₂} L = Gℓ W₁ᵀ` (chain rule). If
`W₁' = -∇_{W₁} L` and `W₂' = -∇_{W₂} L` at time `t` (entrywise), then every entry of
`W₁ W₁ᵀ - W₂ᵀ W₂` has derivative `0` at `t`. -/
theorem reparam_conservation_flow {d₀ d d₂ : Type*} [Fintype d₀] [Fintype d] [Fintype d₂]
    {W₁ : ℝ → Matrix d d₀ ℝ} {W₂ : ℝ → Matrix d₂ d ℝ} {Gℓ : Matrix d₂ d₀ ℝ}
    {G₁ : Matrix d d₀ ℝ} {G₂ : Matrix d₂ d ℝ} {t : ℝ}
    (hG₁ : G₁ = (W₂ t)ᵀ * Gℓ) (hG₂ : G₂ = Gℓ * (W₁ t)ᵀ)
    (hW₁ : ∀ i j, HasDerivAt (fun s => W₁ s i j) ((-G₁) i j) t)
    (hW₂ : ∀ i j, HasDerivAt (fun s => W₂ s i j) ((-G₂) i j) t) (i j : d) :
    HasDerivAt (fun s => (W₁ s * (W₁ s)ᵀ - (W₂ s)ᵀ * W₂ s) i j) 0 t := by
  have hbal : G₁ * (W₁ t)ᵀ = (W₂ t)ᵀ * G₂ := by
    rw [hG₁, hG₂, Matrix.mul_assoc]
  exact reparam_conservation_flow_of_balance hW₁ hW₂ hbal i j

end EquivarianceToolbox
