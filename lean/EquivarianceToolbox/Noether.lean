/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Algebra.BigOperators.Ring.Finset
import Mathlib.Analysis.Calculus.Deriv.Add
import Mathlib.Analysis.Calculus.Deriv.Comp
import Mathlib.Analysis.Calculus.Deriv.Mul
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Const
import Mathlib.Analysis.Calculus.FDeriv.Symmetric
import Mathlib.Analysis.InnerProductSpace.Calculus
import Mathlib.Analysis.InnerProductSpace.LinearMap
import Mathlib.Tactic.LinearCombination
import Mathlib.Tactic.Ring

/-!
# Corollary 2: the Noether flow under stochastic gradient flow, from the symmetry

Section 5.2 of the paper considers per-sample losses `ℓ_x` with a common symmetry
`T (a, θ) = e^{a A} θ` (`S = id`) and the stochastic gradient flow
`dθ = -∇L dt + √(2σ² Σ) dW`, where `Σ = E_x[∇ℓ_x ∇ℓ_xᵀ] - ∇L ∇Lᵀ` is the gradient-noise
covariance. Corollary 2 states that the charge `Q = ½ θᵀ A θ` (for symmetric `A`) obeys
`dQ/dt = σ² Tr(A Σ) = -(σ²/2) ⟨∇ Tr Σ, v⟩` with `v = A θ`. Its proof has an analytic step (Itô's
formula, `dQ = vᵀ dθ + ½ Tr(2σ² Σ A) dt`) and two algebraic steps:

1. `Σ v = 0`, from the per-sample orthogonality `⟨∇ℓ_x, v⟩ = 0` (eq. (2) per sample);
2. `⟨∇ Tr Σ, v⟩ = -2 Tr(A Σ)`, from the per-sample Hessian identity `∇²ℓ_x v = -Aᵀ ∇ℓ_x`
   (Theorem 1, item 2a, symmetry case).

This file formalizes, for finitely many samples `x : Fin N` with uniform weights `1 / N`, the
derivation of the per-sample identities from the symmetry (`generator_orthogonality`,
`generator_gradient_hessian`) and the two algebraic steps (`noise_covariance_identities`);
`corollary2_noether_flow` chains them. The symmetry is a one-parameter family `T s` with
`T 0 = id` and orbit velocity `A ϑ` at `s = 0` (`T s = e^{s A}` is the paper's case), assumed only
near `θ`. **Itô's formula and the stochastic differential equation are not formalized.**

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
* `EquivarianceToolbox.noise_covariance_identities`: from the per-sample identities,
  `Σ v = 0` and `⟨∇ Tr Σ(θ), v⟩ = -2 Tr(A Σ(θ))`.
* `EquivarianceToolbox.generator_orthogonality`, `EquivarianceToolbox.generator_gradient_hessian`:
  the per-sample identities `⟨∇ℓ_x, A θ⟩ = 0` and `∇²ℓ_x (A θ) = -Aᵀ ∇ℓ_x` from the symmetry.
* `EquivarianceToolbox.corollary2_noether_flow`: Corollary 2 from the symmetry:
  `⟨∇L(θ), v⟩ = 0`, `Σ v = 0` and `⟨∇ Tr Σ(θ), v⟩ = -2 Tr(A Σ(θ))` with `v = A θ`.

## Implementation notes

Traces are written as explicit sums, so no basis or finite-dimensionality is needed:
`Tr Σ = (1/N) ∑ₓ ‖gₓ‖² - ‖ḡ‖²` and `Tr(A Σ) = (1/N) ∑ₓ ⟪gₓ, A gₓ⟫ - ⟪ḡ, A ḡ⟫` are the traces of
`Σ = (1/N) ∑ₓ gₓ gₓᵀ - ḡ ḡᵀ` and `A Σ` in any orthonormal basis. The directional derivative
`⟨∇ Tr Σ(θ), v⟩` is stated as the derivative at `s = 0` of `s ↦ Tr Σ(θ + s • v)`, with the
per-sample gradient fields `g x : E → E` having derivatives `H x` (per-sample Hessians) at `θ`.
The identity `Hₓ v = -Aᵀ gₓ` is stated without adjoints as `⟪Hₓ v, u⟫ = -⟪gₓ, A u⟫` for all `u`.
As in the paper, step 2 holds for any `A`, symmetric or not. The gradient `gₓ` is tied to the
derivative `ℓₓ'` by `⟪gₓ ϑ, u⟫ = ℓₓ' ϑ u`; the Hessian identity uses the symmetry of the second
derivative (`second_derivative_symmetric_of_eventually`) and `innerSL` to differentiate
`ϑ ↦ ⟪u, gₓ ϑ⟫`.

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
  -- `noiseTrace` and `sampleMean` unfold by definition (second alternative: unfold them first)
  first
    | exact hS.fun_sub hM2
    | (simp only [noiseTrace, sampleMean]; exact hS.fun_sub hM2)

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

/-- **Corollary 2 of arXiv:2512.21447, noise-covariance identities (algebraic core).** Let the
per-sample gradient fields `g x : E → E` (`N` equally weighted samples) have derivatives `H x` at
`θ`, and let `v` and `A` satisfy the per-sample identities `⟪gₓ(θ), v⟫ = 0` (eq. (2)) and
`⟪Hₓ v, u⟫ = -⟪gₓ(θ), A u⟫` for all `u` (`Hₓ v = -Aᵀ gₓ`). Then `Σ(θ) v = 0` and
`⟨∇ Tr Σ(θ), v⟩ = -2 Tr(A Σ(θ))`, the latter stated as the derivative at `s = 0` of
`s ↦ Tr Σ(θ + s • v)`. `corollary2_noether_flow` derives both identities from the symmetry. -/
theorem noise_covariance_identities {N : ℕ} {g : Fin N → E → E} {H : Fin N → E →L[ℝ] E}
    {A : E →L[ℝ] E} {θ v : E}
    (hg : ∀ x, HasFDerivAt (g x) (H x) θ)
    (horth : ∀ x, inner ℝ (g x θ) v = 0)
    (hhess : ∀ x u, inner ℝ (H x v) u = -inner ℝ (g x θ) (A u)) :
    noiseCov (fun x => g x θ) v = 0 ∧
      HasDerivAt (fun s : ℝ => noiseTrace (fun x => g x (θ + s • v)))
        (-2 * noiseTraceComp A (fun x => g x θ)) 0 := by
  refine ⟨noiseCov_apply_eq_zero (G := fun x => g x θ) horth, ?_⟩
  have hval := noise_trace_identity A (fun x => g x θ) (fun x => H x v) hhess
  exact (hasDerivAt_noiseTrace (v := v) hg).congr_deriv hval

/-- **Corollary 2 of arXiv:2512.21447, first-order identity from a one-parameter symmetry.**
If `ℓ (T s ϑ) = ℓ ϑ` for `s` near `0`, `T 0 ϑ = ϑ`, the orbit `s ↦ T s ϑ` has velocity `A ϑ` at
`s = 0` (for `T s = e^{s A}`: the generator `A`), and `ℓ` has derivative `D` at `ϑ`, then
`D (A ϑ) = 0` (eq. (2) with `v = A ϑ`). -/
theorem generator_orthogonality {ℓ : E → ℝ} {T : ℝ → E → E} {A : E →L[ℝ] E} {ϑ : E}
    {D : E →L[ℝ] ℝ} (hsym : ∀ᶠ s in 𝓝 (0 : ℝ), ℓ (T s ϑ) = ℓ ϑ) (hT0 : T 0 ϑ = ϑ)
    (hTgen : HasDerivAt (fun s => T s ϑ) (A ϑ) 0) (hℓ : HasFDerivAt ℓ D ϑ) :
    D (A ϑ) = 0 := by
  -- chain rule along the orbit
  have h1 : HasDerivAt (fun s => ℓ (T s ϑ)) (D (A ϑ)) 0 :=
    hℓ.comp_hasDerivAt_of_eq (0 : ℝ) hTgen hT0.symm
  -- the same function is constant near `0`
  have hsym' : (fun s => ℓ (T s ϑ)) =ᶠ[𝓝 (0 : ℝ)] fun _ => ℓ ϑ := hsym
  have h2 : HasDerivAt (fun s => ℓ (T s ϑ)) 0 0 :=
    (hasDerivAt_const (x := (0 : ℝ)) (c := ℓ ϑ)).congr_of_eventuallyEq hsym'
  exact h1.unique h2

/-- **Corollary 2 of arXiv:2512.21447, per-sample identities from the symmetry.** Let
`ℓ (T s ϑ) = ℓ ϑ` for `ϑ` near `θ` and `s` near `0`, with `T 0 ϑ = ϑ` and orbit velocity `A ϑ`
at `s = 0`. Let `ℓ' ϑ` be the derivative of `ℓ` at `ϑ` near `θ`, `ℓ''` that of `ℓ'` at `θ`, and
`g ϑ` the gradient (`⟪g ϑ, u⟫ = ℓ' ϑ u`) near `θ`, with derivative `H` (the Hessian) at `θ`.
Then `⟪g θ, A θ⟫ = 0` (eq. (2)) and `⟪H (A θ), u⟫ = -⟪g θ, A u⟫` for all `u`, i.e.
`H v = -Aᵀ ∇ℓ` with `v = A θ` (Theorem 1, item 2a, symmetry case). -/
theorem generator_gradient_hessian {ℓ : E → ℝ} {ℓ' : E → E →L[ℝ] ℝ}
    {ℓ'' : E →L[ℝ] E →L[ℝ] ℝ} {g : E → E} {H : E →L[ℝ] E} {T : ℝ → E → E} {A : E →L[ℝ] E}
    {θ : E}
    (hsym : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ s in 𝓝 (0 : ℝ), ℓ (T s ϑ) = ℓ ϑ)
    (hT0 : ∀ᶠ ϑ in 𝓝 θ, T 0 ϑ = ϑ)
    (hTgen : ∀ᶠ ϑ in 𝓝 θ, HasDerivAt (fun s => T s ϑ) (A ϑ) 0)
    (hℓ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt ℓ (ℓ' ϑ) ϑ) (hℓ' : HasFDerivAt ℓ' ℓ'' θ)
    (hgrad : ∀ᶠ ϑ in 𝓝 θ, ∀ u, inner ℝ (g ϑ) u = ℓ' ϑ u) (hg : HasFDerivAt g H θ) :
    inner ℝ (g θ) (A θ) = 0 ∧ ∀ u, inner ℝ (H (A θ)) u = -inner ℝ (g θ) (A u) := by
  -- eq. (2) at every point near `θ`: `ℓ' ϑ (A ϑ) = 0`
  have horth : ∀ᶠ ϑ in 𝓝 θ, ℓ' ϑ (A ϑ) = 0 := by
    filter_upwards [hsym, hT0, hTgen, hℓ] with ϑ h0 h1 h2 h3
    exact generator_orthogonality h0 h1 h2 h3
  -- its derivative at `θ`: `ℓ' θ (A u) + ℓ'' u (A θ) = 0`
  have hD : HasFDerivAt (fun ϑ => ℓ' ϑ (A ϑ)) ((ℓ' θ).comp A + ℓ''.flip (A θ)) θ :=
    hℓ'.clm_apply A.hasFDerivAt
  have hz : (fun ϑ => ℓ' ϑ (A ϑ)) =ᶠ[𝓝 θ] fun _ => (0 : ℝ) := horth
  have hD0 : HasFDerivAt (fun ϑ => ℓ' ϑ (A ϑ)) (0 : E →L[ℝ] ℝ) θ :=
    (hasFDerivAt_const (𝕜 := ℝ) (0 : ℝ) θ).congr_of_eventuallyEq hz
  have key := hD.unique hD0
  -- the Hessian as the derivative of the gradient: `⟪u, H w⟫ = ℓ'' w u`
  have hH : ∀ u w, inner ℝ u (H w) = ℓ'' w u := by
    intro u w
    have hI : HasFDerivAt (fun ϑ => innerSL ℝ u (g ϑ)) ((innerSL ℝ u).comp H) θ :=
      HasFDerivAt.comp (f := g) θ (innerSL ℝ u).hasFDerivAt hg
    have hJ : HasFDerivAt (fun ϑ => ℓ' ϑ u) ((ℓ' θ).comp (0 : E →L[ℝ] E) + ℓ''.flip u) θ :=
      hℓ'.clm_apply (hasFDerivAt_const (𝕜 := ℝ) u θ)
    have hIJ : (fun ϑ => innerSL ℝ u (g ϑ)) =ᶠ[𝓝 θ] fun ϑ => ℓ' ϑ u := by
      filter_upwards [hgrad] with ϑ hϑ
      show innerSL ℝ u (g ϑ) = ℓ' ϑ u
      rw [innerSL_apply_apply, real_inner_comm]
      exact hϑ u
    have key2 := hI.unique (hJ.congr_of_eventuallyEq hIJ)
    have k2 := DFunLike.congr_fun key2 w
    simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.flip_apply,
      zero_apply, map_zero, zero_add, innerSL_apply_apply] at k2
    exact k2
  refine ⟨?_, fun u => ?_⟩
  · rw [hgrad.self_of_nhds (A θ)]
    exact horth.self_of_nhds
  · have k := DFunLike.congr_fun key u
    simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.flip_apply,
      zero_apply] at k
    -- k : ℓ' θ (A u) + ℓ'' u (A θ) = 0
    have hs : ℓ'' u (A θ) = ℓ'' (A θ) u := second_derivative_symmetric_of_eventually hℓ hℓ' u (A θ)
    have hc : inner ℝ (H (A θ)) u = inner ℝ u (H (A θ)) := real_inner_comm u (H (A θ))
    have hg0 : inner ℝ (g θ) (A u) = ℓ' θ (A u) := hgrad.self_of_nhds (A u)
    linear_combination hc + hH u (A θ) - hs + k + hg0

/-- **Corollary 2 of arXiv:2512.21447 (Noether flow under SGD noise), from the symmetry.** Let
the per-sample losses `ℓ x` (`N` equally weighted samples) share the symmetry
`ℓ x (T s ϑ) = ℓ x ϑ` for `ϑ` near `θ` and `s` near `0`, where `T 0 = id` near `θ` and the orbit
`s ↦ T s ϑ` has velocity `A ϑ` at `s = 0` (for `T s ϑ = e^{s A} ϑ`). Let `ℓ' x ϑ` be the
derivative of `ℓ x` near `θ`, `ℓ'' x` that of `ℓ' x` at `θ`, `g x ϑ` the per-sample gradient
(`⟪g x ϑ, u⟫ = ℓ' x ϑ u`) near `θ` and `H x` its derivative at `θ`. With `v = A θ`:
1. `⟨∇L(θ), v⟩ = 0` (the drift of `Q = ½ θᵀ A θ` under gradient flow vanishes, `A` symmetric);
2. `Σ(θ) v = 0`;
3. `⟨∇ Tr Σ(θ), v⟩ = -2 Tr(A Σ(θ))`, as the derivative at `s = 0` of `s ↦ Tr Σ(θ + s • v)`.
With Itô's formula (not formalized) this gives `dQ/dt = σ² Tr(A Σ) = -(σ²/2) ⟨∇ Tr Σ, v⟩`. -/
theorem corollary2_noether_flow {N : ℕ} {ℓ : Fin N → E → ℝ} {ℓ' : Fin N → E → E →L[ℝ] ℝ}
    {ℓ'' : Fin N → E →L[ℝ] E →L[ℝ] ℝ} {g : Fin N → E → E} {H : Fin N → E →L[ℝ] E}
    {T : ℝ → E → E} {A : E →L[ℝ] E} {θ : E}
    (hsym : ∀ x, ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ s in 𝓝 (0 : ℝ), ℓ x (T s ϑ) = ℓ x ϑ)
    (hT0 : ∀ᶠ ϑ in 𝓝 θ, T 0 ϑ = ϑ)
    (hTgen : ∀ᶠ ϑ in 𝓝 θ, HasDerivAt (fun s => T s ϑ) (A ϑ) 0)
    (hℓ : ∀ x, ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ x) (ℓ' x ϑ) ϑ)
    (hℓ' : ∀ x, HasFDerivAt (ℓ' x) (ℓ'' x) θ)
    (hgrad : ∀ x, ∀ᶠ ϑ in 𝓝 θ, ∀ u, inner ℝ (g x ϑ) u = ℓ' x ϑ u)
    (hg : ∀ x, HasFDerivAt (g x) (H x) θ) :
    inner ℝ (sampleMean fun x => g x θ) (A θ) = 0 ∧
      noiseCov (fun x => g x θ) (A θ) = 0 ∧
        HasDerivAt (fun s : ℝ => noiseTrace (fun x => g x (θ + s • A θ)))
          (-2 * noiseTraceComp A (fun x => g x θ)) 0 := by
  have hid : ∀ x, inner ℝ (g x θ) (A θ) = 0 ∧
      ∀ u, inner ℝ (H x (A θ)) u = -inner ℝ (g x θ) (A u) := fun x =>
    generator_gradient_hessian (hsym x) hT0 hTgen (hℓ x) (hℓ' x) (hgrad x) (hg x)
  have horth : ∀ x, inner ℝ (g x θ) (A θ) = 0 := fun x => (hid x).1
  have hhess : ∀ x u, inner ℝ (H x (A θ)) u = -inner ℝ (g x θ) (A u) := fun x => (hid x).2
  have h₀ : ∑ x, inner ℝ (g x θ) (A θ) = 0 := Finset.sum_eq_zero fun x _ => horth x
  have hmean : inner ℝ (sampleMean fun x => g x θ) (A θ) = 0 := by
    rw [inner_sampleMean_left, h₀, mul_zero]
  exact ⟨hmean, noise_covariance_identities hg horth hhess⟩

end EquivarianceToolbox
