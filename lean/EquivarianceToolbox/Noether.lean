/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Algebra.BigOperators.Ring.Finset
import Mathlib.Analysis.Calculus.Deriv.Add
import Mathlib.Analysis.Calculus.Deriv.Comp
import Mathlib.Analysis.Calculus.Deriv.Mul
import Mathlib.Analysis.InnerProductSpace.Calculus
import Mathlib.Tactic.Ring

/-!
# Corollary 2: the algebraic core of the Noether flow under stochastic gradient flow

Section 5.2 of the paper considers per-sample losses `ℓ_x` with a common symmetry
`T (a, θ) = e^{a A} θ` (`S = id`) and the stochastic gradient flow
`dθ = -∇L dt + √(2σ² Σ) dW`, where `Σ = E_x[∇ℓ_x ∇ℓ_xᵀ] - ∇L ∇Lᵀ` is the gradient-noise
covariance. Corollary 2 states that the charge `Q = ½ θᵀ A θ` (for symmetric `A`) obeys
`dQ/dt = σ² Tr(A Σ) = -(σ²/2) ⟨∇ Tr Σ, v⟩` with `v = A θ`. Its proof has an analytic step (Itô's
formula, `dQ = vᵀ dθ + ½ Tr(2σ² Σ A) dt`) and two algebraic steps:

1. `Σ v = 0`, from the per-sample orthogonality `⟨∇ℓ_x, v⟩ = 0` (eq. (2) per sample);
2. `⟨∇ Tr Σ, v⟩ = -2 Tr(A Σ)`, from the per-sample Hessian identity `∇²ℓ_x v = -Aᵀ ∇ℓ_x`
   (Theorem 1, item 2a, symmetry case).

This file formalizes the two algebraic steps for finitely many samples `x : Fin N` with uniform
weights `1 / N`. **Itô's formula and the stochastic differential equation are not formalized**;
neither is the derivation of the per-sample identities from the symmetry (they are hypotheses).

## Main definitions

For a family `G : Fin N → E` of per-sample gradients in a real inner product space:

* `EquivarianceToolbox.sampleMean G = (1/N) ∑ₓ G x` (the mean gradient `∇L`);
* `EquivarianceToolbox.noiseCov G u = (1/N) ∑ₓ ⟪G x, u⟫ G x - ⟪Ḡ, u⟫ Ḡ` (the operator `Σ`);
* `EquivarianceToolbox.noiseTrace G = (1/N) ∑ₓ ‖G x‖² - ‖Ḡ‖²` (`Tr Σ`, written out);
* `EquivarianceToolbox.noiseTraceComp A G = (1/N) ∑ₓ ⟪G x, A (G x)⟫ - ⟪Ḡ, A Ḡ⟫` (`Tr(A Σ)`,
  written out).

## Main results

* `EquivarianceToolbox.noiseCov_apply_eq_zero`: `Σ v = 0` if `⟪G x, v⟫ = 0` for every `x`.
* `EquivarianceToolbox.hasDerivAt_noiseTrace`: the derivative of `s ↦ Tr Σ(θ + s v)` at `s = 0`
  (i.e. `⟨∇ Tr Σ(θ), v⟩`) is `(1/N) ∑ₓ 2 ⟪gₓ, Hₓ v⟫ - 2 ⟪ḡ, (1/N) ∑ₓ Hₓ v⟫`.
* `EquivarianceToolbox.noise_trace_identity`: if `⟪Vₓ, u⟫ = -⟪Gₓ, A u⟫` for all `u` (i.e.
  `Vₓ = -Aᵀ Gₓ`), then that expression equals `-2 Tr(A Σ)`.
* `EquivarianceToolbox.corollary2_noether_flow`: Corollary 2 (algebraic core): `Σ v = 0` and
  `⟨∇ Tr Σ(θ), v⟩ = -2 Tr(A Σ(θ))`.

## Implementation notes

Traces are written as explicit sums, so no basis or finite-dimensionality is needed:
`Tr Σ = (1/N) ∑ₓ ‖gₓ‖² - ‖ḡ‖²` and `Tr(A Σ) = (1/N) ∑ₓ ⟪gₓ, A gₓ⟫ - ⟪ḡ, A ḡ⟫` are the traces of
`Σ = (1/N) ∑ₓ gₓ gₓᵀ - ḡ ḡᵀ` and `A Σ` in any orthonormal basis. The directional derivative
`⟨∇ Tr Σ(θ), v⟩` is stated as the derivative at `s = 0` of `s ↦ Tr Σ(θ + s • v)`, with the
per-sample gradient fields `g x : E → E` having derivatives `H x` (per-sample Hessians) at `θ`.
The identity `Hₓ v = -Aᵀ gₓ` is stated without adjoints as `⟪Hₓ v, u⟫ = -⟪gₓ, A u⟫` for all `u`.
As in the paper, step 2 holds for any `A`, symmetric or not.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv:2512.21447,
  Section 5.2 (eq. (5) and Corollary 2).
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

/-- **Mean gradient (Section 5.2 of arXiv:2512.21447).** `sampleMean G = (1/N) ∑ₓ G x`, the full
gradient `∇L = E_x ∇ℓ_x` for `N` equally weighted samples. -/
def sampleMean {N : ℕ} (G : Fin N → E) : E :=
  (N : ℝ)⁻¹ • ∑ x, G x

/-- **Gradient-noise covariance (Section 5.2 of arXiv:2512.21447).** The operator
`Σ u = (1/N) ∑ₓ ⟪G x, u⟫ G x - ⟪Ḡ, u⟫ Ḡ`, i.e. `Σ = E_x[∇ℓ_x ∇ℓ_xᵀ] - ∇L ∇Lᵀ`. -/
def noiseCov {N : ℕ} (G : Fin N → E) (u : E) : E :=
  (N : ℝ)⁻¹ • ∑ x, inner ℝ (G x) u • G x - inner ℝ (sampleMean G) u • sampleMean G

/-- **Trace of the noise covariance (Section 5.2 of arXiv:2512.21447).**
`Tr Σ = (1/N) ∑ₓ ‖G x‖² - ‖Ḡ‖²`. -/
def noiseTrace {N : ℕ} (G : Fin N → E) : ℝ :=
  (N : ℝ)⁻¹ * ∑ x, ‖G x‖ ^ 2 - ‖sampleMean G‖ ^ 2

/-- **`Tr(A Σ)` (Section 5.2 of arXiv:2512.21447).**
`Tr(A Σ) = (1/N) ∑ₓ ⟪G x, A (G x)⟫ - ⟪Ḡ, A Ḡ⟫`. -/
def noiseTraceComp {N : ℕ} (A : E →L[ℝ] E) (G : Fin N → E) : ℝ :=
  (N : ℝ)⁻¹ * ∑ x, inner ℝ (G x) (A (G x)) - inner ℝ (sampleMean G) (A (sampleMean G))

/-- **Auxiliary for Corollary 2 of arXiv:2512.21447.** `⟪Ḡ, y⟫ = (1/N) ∑ₓ ⟪G x, y⟫`. -/
theorem inner_sampleMean_left {N : ℕ} (G : Fin N → E) (y : E) :
    inner ℝ (sampleMean G) y = (N : ℝ)⁻¹ * ∑ x, inner ℝ (G x) y := by
  rw [sampleMean, real_inner_smul_left, sum_inner]

/-- **Auxiliary for Corollary 2 of arXiv:2512.21447.** `⟪y, Ḡ⟫ = (1/N) ∑ₓ ⟪y, G x⟫`. -/
theorem inner_sampleMean_right {N : ℕ} (y : E) (G : Fin N → E) :
    inner ℝ y (sampleMean G) = (N : ℝ)⁻¹ * ∑ x, inner ℝ y (G x) := by
  rw [sampleMean, real_inner_smul_right, inner_sum]

/-- **Corollary 2 of arXiv:2512.21447, step 1 (`Σ v = 0`).** If every per-sample gradient is
orthogonal to `v`, `⟪G x, v⟫ = 0`, then the noise covariance kills `v`: `Σ v = 0`. -/
theorem noiseCov_apply_eq_zero {N : ℕ} {G : Fin N → E} {v : E}
    (horth : ∀ x, inner ℝ (G x) v = 0) : noiseCov G v = 0 := by
  have h₀ : ∑ x, inner ℝ (G x) v = 0 := Finset.sum_eq_zero fun x _ => horth x
  have hmean : inner ℝ (sampleMean G) v = 0 := by
    rw [inner_sampleMean_left, h₀, mul_zero]
  have hsum : ∑ x, inner ℝ (G x) v • G x = 0 :=
    Finset.sum_eq_zero fun x _ => by rw [horth x, zero_smul]
  rw [noiseCov, hmean, zero_smul, sub_zero, hsum, smul_zero]

/-- **Corollary 2 of arXiv:2512.21447, derivative of `Tr Σ` along `v`.** Let the per-sample
gradient fields `g x : E → E` have derivatives `H x` at `θ` (the per-sample Hessians). Then the
derivative at `s = 0` of `s ↦ Tr Σ(θ + s • v)`, i.e. `⟨∇ Tr Σ(θ), v⟩`, is
`(1/N) ∑ₓ 2 ⟪gₓ(θ), Hₓ v⟫ - 2 ⟪ḡ(θ), (1/N) ∑ₓ Hₓ v⟫`. -/
theorem hasDerivAt_noiseTrace {N : ℕ} {g : Fin N → E → E} {H : Fin N → E →L[ℝ] E} {θ v : E}
    (hg : ∀ x, HasFDerivAt (g x) (H x) θ) :
    HasDerivAt (fun s : ℝ => noiseTrace (fun x => g x (θ + s • v)))
      ((N : ℝ)⁻¹ * ∑ x, 2 * inner ℝ (g x θ) (H x v)
        - 2 * inner ℝ (sampleMean fun x => g x θ) (sampleMean fun x => H x v)) 0 := by
  -- the line `s ↦ θ + s • v`
  have hc : HasDerivAt (fun s : ℝ => θ + s • v) v 0 :=
    (((hasDerivAt_id' (0 : ℝ)).smul_const v).const_add θ).congr_deriv (one_smul ℝ v)
  have e : θ + (0 : ℝ) • v = θ := by
    rw [zero_smul, add_zero]
  -- per-sample gradients along the line
  have hgx : ∀ x, HasDerivAt (fun s : ℝ => g x (θ + s • v)) (H x v) 0 := fun x =>
    (hg x).comp_hasDerivAt_of_eq 0 hc e.symm
  have hnx : ∀ x, HasDerivAt (fun s : ℝ => ‖g x (θ + s • v)‖ ^ 2)
      (2 * inner ℝ (g x θ) (H x v)) 0 := fun x =>
    (hgx x).norm_sq.congr_deriv (by rw [e])
  -- the first term `(1/N) ∑ₓ ‖gₓ‖²`
  have hS : HasDerivAt (fun s : ℝ => (N : ℝ)⁻¹ * ∑ x, ‖g x (θ + s • v)‖ ^ 2)
      ((N : ℝ)⁻¹ * ∑ x, 2 * inner ℝ (g x θ) (H x v)) 0 :=
    (HasDerivAt.fun_sum (u := Finset.univ) fun x _ => hnx x).const_mul (N : ℝ)⁻¹
  -- the mean gradient and its squared norm
  have hM : HasDerivAt (fun s : ℝ => (N : ℝ)⁻¹ • ∑ x, g x (θ + s • v))
      ((N : ℝ)⁻¹ • ∑ x, H x v) 0 :=
    (HasDerivAt.fun_sum (u := Finset.univ) fun x _ => hgx x).fun_const_smul (N : ℝ)⁻¹
  have hM2 : HasDerivAt (fun s : ℝ => ‖(N : ℝ)⁻¹ • ∑ x, g x (θ + s • v)‖ ^ 2)
      (2 * inner ℝ ((N : ℝ)⁻¹ • ∑ x, g x θ) ((N : ℝ)⁻¹ • ∑ x, H x v)) 0 :=
    hM.norm_sq.congr_deriv (by rw [e])
  -- `noiseTrace` and `sampleMean` unfold by definition
  exact hS.fun_sub hM2

/-- **Corollary 2 of arXiv:2512.21447, step 2 (`⟨∇ Tr Σ, v⟩ = -2 Tr(A Σ)`), algebraic part.**
If `⟪V x, u⟫ = -⟪G x, A u⟫` for every sample `x` and every `u` (i.e. `Hₓ v = -Aᵀ gₓ` with
`V x = Hₓ v`), then `(1/N) ∑ₓ 2 ⟪G x, V x⟫ - 2 ⟪Ḡ, V̄⟫ = -2 Tr(A Σ)`. -/
theorem noise_trace_identity {N : ℕ} (A : E →L[ℝ] E) (G V : Fin N → E)
    (hV : ∀ x u, inner ℝ (V x) u = -inner ℝ (G x) (A u)) :
    (N : ℝ)⁻¹ * ∑ x, 2 * inner ℝ (G x) (V x) - 2 * inner ℝ (sampleMean G) (sampleMean V)
      = -2 * noiseTraceComp A G := by
  have F₁ : ∀ x, inner ℝ (G x) (V x) = -inner ℝ (G x) (A (G x)) := fun x =>
    (real_inner_comm (V x) (G x)).trans (hV x (G x))
  have S₁ : ∑ x, 2 * inner ℝ (G x) (V x) = 2 * ∑ x, -inner ℝ (G x) (A (G x)) := by
    rw [Finset.mul_sum]
    exact Finset.sum_congr rfl fun x _ => by rw [F₁ x]
  have F₂ : ∀ x, inner ℝ (sampleMean G) (V x) = -inner ℝ (G x) (A (sampleMean G)) := fun x =>
    (real_inner_comm (V x) (sampleMean G)).trans (hV x (sampleMean G))
  have S₂ : inner ℝ (sampleMean G) (sampleMean V) =
      (N : ℝ)⁻¹ * ∑ x, -inner ℝ (G x) (A (sampleMean G)) := by
    rw [inner_sampleMean_right]
    exact congrArg (fun r : ℝ => (N : ℝ)⁻¹ * r) (Finset.sum_congr rfl fun x _ => F₂ x)
  have S₃ : inner ℝ (sampleMean G) (A (sampleMean G)) =
      (N : ℝ)⁻¹ * ∑ x, inner ℝ (G x) (A (sampleMean G)) :=
    inner_sampleMean_left G (A (sampleMean G))
  rw [S₁, S₂, Finset.sum_neg_distrib, Finset.sum_neg_distrib, noiseTraceComp, S₃]
  ring

/-- **Corollary 2 of arXiv:2512.21447 (Noether flow), algebraic core.** Let the per-sample
gradient fields `g x : E → E` (`N` equally weighted samples) have derivatives `H x` at `θ`, and
let `v` and `A` satisfy the per-sample symmetry identities `⟪gₓ(θ), v⟫ = 0` (eq. (2)) and
`⟪Hₓ v, u⟫ = -⟪gₓ(θ), A u⟫` for all `u` (`Hₓ v = -Aᵀ gₓ`, Theorem 1 item 2a with `v = A θ`).
Then `Σ(θ) v = 0` and `⟨∇ Tr Σ(θ), v⟩ = -2 Tr(A Σ(θ))`, the latter stated as the derivative at
`s = 0` of `s ↦ Tr Σ(θ + s • v)`. With Itô's formula (not formalized) this gives
`dQ/dt = σ² Tr(A Σ) = -(σ²/2) ⟨∇ Tr Σ, v⟩` for `Q = ½ θᵀ A θ`. -/
theorem corollary2_noether_flow {N : ℕ} {g : Fin N → E → E} {H : Fin N → E →L[ℝ] E}
    {A : E →L[ℝ] E} {θ v : E}
    (hg : ∀ x, HasFDerivAt (g x) (H x) θ)
    (horth : ∀ x, inner ℝ (g x θ) v = 0)
    (hhess : ∀ x u, inner ℝ (H x v) u = -inner ℝ (g x θ) (A u)) :
    noiseCov (fun x => g x θ) v = 0 ∧
      HasDerivAt (fun s : ℝ => noiseTrace (fun x => g x (θ + s • v)))
        (-2 * noiseTraceComp A (fun x => g x θ)) 0 := by
  refine ⟨noiseCov_apply_eq_zero horth, ?_⟩
  have hval := noise_trace_identity A (fun x => g x θ) (fun x => H x v) hhess
  exact (hasDerivAt_noiseTrace (v := v) hg).congr_deriv hval

end EquivarianceToolbox
