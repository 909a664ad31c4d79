/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.ContDiff.Defs
import Mathlib.Analysis.Calculus.FDeriv.CompCLM
import Mathlib.Analysis.Calculus.FDeriv.Comp
import Mathlib.Analysis.Calculus.FDeriv.Linear
import Mathlib.LinearAlgebra.Basis.Defs
import Mathlib.Tactic.Abel

/-!
# Curried tensors and Lemma 1

Section 2 of Yang and Ziyin, *An Equivariance Toolbox for Learning Dynamics* (arXiv 2512.21447),
works with curried tensors: a tensor of shape `s ⊕ (d)` is a linear map from `ℝᵈ` to tensors of
shape `s`, so that applying a tensor consumes its last index first. Over abstract real normed
spaces a curried tensor is an iterated continuous linear map `E₁ →L[ℝ] E₂ →L[ℝ] … →L[ℝ] V`; every
shape is covered because `E →L[ℝ] F` is again a normed space. No type-level recursion on shapes is
used.

We define the `k`-th component composition `∘ₖ` (paper, Section 2) for `k = 1, 2, 3`:

* `compOne A B = A ∘ B` (`∘₁` is ordinary composition);
* `compTwo A B x = A x ∘₁ B`, so `compTwo A B x y = A x (B y)`;
* `compThree A B x = compTwo (A x) B`, so `compThree A B x y z = A x y (B z)`;

and `compOutput A B`, the tensor composition `A ∘ B` when `B` has two input slots
(`compOutput A B x y = A (B x y)`: `A` is applied to the final vector output of `B`).

## Main results

Lemma 1 of the paper (Appendix), items 1–5, and the Hessian chain rule, eq. (22):

* `EquivarianceToolbox.lemma1_comp`: `∘ₖ` composes `B` into the `k`-th curried argument
  (`k = 1, 2, 3`), together with the recursive description `compTwo_apply_eq_compOne`,
  `compThree_apply_eq_compTwo`.
* `EquivarianceToolbox.lemma1_tensor_comp`: the index formula of tensor composition,
  `(A ∘ B)(x) = ∑ₗ (B x)ₗ A(eₗ)` in any finite basis `e`; `lemma1_tensor_comp_two` is the
  same for `∘₂`; `lemma1_tensor_comp_assoc` is associativity.
* `EquivarianceToolbox.lemma1_grad`: a tensor, seen as a linear map, is its own derivative.
* `EquivarianceToolbox.lemma1_chain`: first-order chain rule `∇(F∘G) = (∇F∘G)∘∇G` and the
  second-order chain rule `∇²(F∘G) = (∇²F(G) ∘₂ ∇G) ∘ ∇G + ∇F(G) ∘ ∇²G` (eq. (22) when `F = ℓ`).
* `EquivarianceToolbox.lemma1_product`: product rule `∇(F ∘ G) = ∇F ∘₂ G + F ∘ ∇G`.

## Implementation notes

Derivatives are carried as `HasFDerivAt` data. Mathlib's convention for a second derivative is
`f'' δ u = ∂_δ ∂_u f`: the outer (last-taken) derivative direction is the first argument. This
matches the paper's rule that the gradient appends its index last and that tensors consume their
last index first. The `k`-th component compositions are defined with `ContinuousLinearMap.compL`
and `ContinuousLinearMap.flip`, in exactly the form in which `HasFDerivAt.clm_comp` states its
derivative, so that the product rule holds with no rewriting.

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv 2512.21447,
  Section 2 and Lemma 1 (Appendix), eq. (22).
-/

noncomputable section

open scoped Topology ContDiff

namespace EquivarianceToolbox

variable {D P V W X Y E : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup P] [NormedSpace ℝ P]
  [NormedAddCommGroup V] [NormedSpace ℝ V] [NormedAddCommGroup W] [NormedSpace ℝ W]
  [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
  [NormedAddCommGroup E] [NormedSpace ℝ E]

/-! ### Component compositions (paper, Section 2) -/

/-- The first component composition `A ∘₁ B = A ∘ B` of a curried tensor `A` (last argument in
`E`) with `B : D →L[ℝ] E` (paper, Section 2, definition of `∘ₖ` with `k = 1`). -/
def compOne (A : E →L[ℝ] V) (B : D →L[ℝ] E) : D →L[ℝ] V :=
  A ∘L B

/-- The second component composition `A ∘₂ B` (paper, Section 2): `(A ∘₂ B)(x) = A(x) ∘₁ B`, i.e.
`B` is composed into the second curried argument of `A`. Written as postcomposition with
`fun M => M ∘L B`, which is `(ContinuousLinearMap.compL ℝ D E V).flip B`. -/
def compTwo (A : X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) : X →L[ℝ] D →L[ℝ] V :=
  ((ContinuousLinearMap.compL ℝ D E V).flip B) ∘L A

/-- The third component composition `A ∘₃ B` (paper, Section 2): `(A ∘₃ B)(x) = A(x) ∘₂ B`, i.e.
`B` is composed into the third curried argument of `A`. -/
def compThree (A : Y →L[ℝ] X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) :
    Y →L[ℝ] X →L[ℝ] D →L[ℝ] V :=
  (ContinuousLinearMap.compL ℝ X (E →L[ℝ] V) (D →L[ℝ] V)
    ((ContinuousLinearMap.compL ℝ D E V).flip B)) ∘L A

/-- Tensor composition `A ∘ B` (paper, Section 2, "composition") when `B` has two input slots:
`A` is applied to the final vector output of `B`, `(A ∘ B)(x)(y) = A(B(x)(y))`. This is the term
`∇F(G(x)) ∘ ∇²G(x)` of the chain rule and `F(x) ∘ ∇G(x)` of the product rule (Lemma 1). -/
def compOutput (A : E →L[ℝ] V) (B : D →L[ℝ] X →L[ℝ] E) : D →L[ℝ] X →L[ℝ] V :=
  (ContinuousLinearMap.compL ℝ X E V A) ∘L B

/-- Evaluation of `A ∘₁ B` (Lemma 1, item 1, `k = 1`): `(A ∘₁ B)(x) = A(B(x))`. -/
theorem compOne_apply (A : E →L[ℝ] V) (B : D →L[ℝ] E) (x : D) :
    compOne A B x = A (B x) := by
  rw [compOne, ContinuousLinearMap.comp_apply]

/-- Evaluation of `A ∘₂ B` (Lemma 1, item 1, `k = 2`): `(A ∘₂ B)(x)(y) = A(x)(B(y))`. -/
theorem compTwo_apply (A : X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) (x : X) (y : D) :
    compTwo A B x y = A x (B y) := by
  simp only [compTwo, ContinuousLinearMap.comp_apply, ContinuousLinearMap.flip_apply,
    ContinuousLinearMap.compL_apply]

/-- Evaluation of `A ∘₃ B` (Lemma 1, item 1, `k = 3`): `(A ∘₃ B)(x)(y)(z) = A(x)(y)(B(z))`. -/
theorem compThree_apply (A : Y →L[ℝ] X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) (x : Y) (y : X)
    (z : D) : compThree A B x y z = A x y (B z) := by
  simp only [compThree, ContinuousLinearMap.comp_apply, ContinuousLinearMap.flip_apply,
    ContinuousLinearMap.compL_apply]

/-- Evaluation of the tensor composition `A ∘ B` for `B` with two input slots (paper, Section 2):
`(A ∘ B)(x)(y) = A(B(x)(y))`. -/
theorem compOutput_apply (A : E →L[ℝ] V) (B : D →L[ℝ] X →L[ℝ] E) (x : D) (y : X) :
    compOutput A B x y = A (B x y) := by
  simp only [compOutput, ContinuousLinearMap.comp_apply, ContinuousLinearMap.compL_apply]

/-- The recursive definition of `∘₂` (paper, Section 2): `(A ∘₂ B)(x) = A(x) ∘₁ B`. -/
theorem compTwo_apply_eq_compOne (A : X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) (x : X) :
    compTwo A B x = compOne (A x) B :=
  ContinuousLinearMap.ext fun y => by rw [compTwo_apply, compOne_apply]

/-- The recursive definition of `∘₃` (paper, Section 2): `(A ∘₃ B)(x) = A(x) ∘₂ B`. -/
theorem compThree_apply_eq_compTwo (A : Y →L[ℝ] X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) (x : Y) :
    compThree A B x = compTwo (A x) B :=
  ContinuousLinearMap.ext fun y => ContinuousLinearMap.ext fun z => by
    rw [compThree_apply, compTwo_apply]

/-! ### Lemma 1 -/

/-- **Lemma 1, item 1** (function composition). The `k`-th component composition composes `B`
into the `k`-th curried argument: `(A ∘₁ B)(x) = A(B(x))`,
`(A ∘₂ B)(x₁)(x₂) = A(x₁)(B(x₂))` and `(A ∘₃ B)(x₁)(x₂)(x₃) = A(x₁)(x₂)(B(x₃))`. -/
theorem lemma1_comp (A₁ : E →L[ℝ] V) (A₂ : X →L[ℝ] E →L[ℝ] V)
    (A₃ : Y →L[ℝ] X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) :
    (∀ x, compOne A₁ B x = A₁ (B x)) ∧
      (∀ x₁ x₂, compTwo A₂ B x₁ x₂ = A₂ x₁ (B x₂)) ∧
        (∀ x₁ x₂ x₃, compThree A₃ B x₁ x₂ x₃ = A₃ x₁ x₂ (B x₃)) :=
  ⟨fun x => compOne_apply A₁ B x, fun x₁ x₂ => compTwo_apply A₂ B x₁ x₂,
    fun x₁ x₂ x₃ => compThree_apply A₃ B x₁ x₂ x₃⟩

/-- **Lemma 1, item 2** (tensor composition, index formula). For tensors `A` of shape `s ⊕ (d)`
and `B` of shape `(d) ⊕ t`, the composite `A ∘ B` is the tensor
`(A ∘ B)[I, J] = ∑ₗ A[I, l] B[l, J]`: in any finite basis `e` of the contracted space,
`(A ∘ B)(x) = ∑ₗ (B x)ₗ • A(eₗ)`. -/
theorem lemma1_tensor_comp {ι : Type*} [Fintype ι] (b : Module.Basis ι ℝ E) (A : E →L[ℝ] V)
    (B : D →L[ℝ] E) (x : D) :
    compOne A B x = ∑ l, b.repr (B x) l • A (b l) := by
  have h : A (B x) = A (∑ l, b.repr (B x) l • b l) := by
    rw [Module.Basis.sum_repr]
  rw [compOne_apply, h, map_sum]
  simp only [ContinuousLinearMap.map_smul]

/-- **Lemma 1, item 2** for `∘₂` (index formula): `(A ∘₂ B)[I, J, K] = ∑ₗ A[I, l, K] B[l, J]`,
i.e. in any finite basis `e`, `(A ∘₂ B)(x)(y) = ∑ₗ (B y)ₗ • A(x)(eₗ)`. -/
theorem lemma1_tensor_comp_two {ι : Type*} [Fintype ι] (b : Module.Basis ι ℝ E)
    (A : X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) (x : X) (y : D) :
    compTwo A B x y = ∑ l, b.repr (B y) l • A x (b l) := by
  have h : A x (B y) = A x (∑ l, b.repr (B y) l • b l) := by
    rw [Module.Basis.sum_repr]
  rw [compTwo_apply, h, map_sum]
  simp only [ContinuousLinearMap.map_smul]

/-- **Lemma 1, item 2** (tensor composition is associative): `(A ∘ B) ∘ C = A ∘ (B ∘ C)`, so the
composite of tensors is again a tensor independent of bracketing. -/
theorem lemma1_tensor_comp_assoc (A : E →L[ℝ] V) (B : X →L[ℝ] E) (C : D →L[ℝ] X) :
    compOne (compOne A B) C = compOne A (compOne B C) :=
  ContinuousLinearMap.ext fun y => by simp only [compOne_apply]

/-- **Lemma 1, item 3** (gradient of a tensor). A tensor `A` of shape `s ⊕ (d)`, seen as the
linear map `x ↦ A(x)`, has `∇A(x) = A` for every `x`. -/
theorem lemma1_grad (A : D →L[ℝ] V) (x : D) : HasFDerivAt A A x ∧ fderiv ℝ A x = A :=
  ⟨A.hasFDerivAt, A.fderiv⟩

/-- **Lemma 1, item 4** (first-order chain rule): `∇(F ∘ G)(x) = ∇F(G(x)) ∘ ∇G(x)`. -/
theorem lemma1_chain_first_order {F : D → V} {g : P → D} {x : P} {F' : D →L[ℝ] V}
    {g' : P →L[ℝ] D} (hF : HasFDerivAt F F' (g x)) (hg : HasFDerivAt g g' x) :
    HasFDerivAt (F ∘ g) (compOne F' g') x :=
  hF.comp x hg

/-- **Lemma 1, item 4** (second-order chain rule; eq. (22) when `F = ℓ` and `G = f`): the
derivative at `x` of `y ↦ ∇F(G(y)) ∘ ∇G(y)` is
`(∇²F(G(x)) ∘₂ ∇G(x)) ∘ ∇G(x) + ∇F(G(x)) ∘ ∇²G(x)`. -/
theorem lemma1_chain_second_order {g : P → D} {x : P} {F' : D → D →L[ℝ] V}
    {F'' : D →L[ℝ] D →L[ℝ] V} {g' : P → P →L[ℝ] D} {g'' : P →L[ℝ] P →L[ℝ] D}
    (hg : HasFDerivAt g (g' x) x) (hF' : HasFDerivAt F' F'' (g x)) (hg' : HasFDerivAt g' g'' x) :
    HasFDerivAt (fun y => compOne (F' (g y)) (g' y))
      (compOne (compTwo F'' (g' x)) (g' x) + compOutput (F' (g x)) g'') x := by
  have h1 : HasFDerivAt (fun y => F' (g y)) (F'' ∘L g' x) x := hF'.comp x hg
  have h2 : HasFDerivAt (fun y => (F' (g y)).comp (g' y))
      ((ContinuousLinearMap.compL ℝ P D V (F' (g x))).comp g'' +
        ((ContinuousLinearMap.compL ℝ P D V).flip (g' x)).comp (F'' ∘L g' x)) x :=
    h1.clm_comp hg'
  have h3 : (ContinuousLinearMap.compL ℝ P D V (F' (g x))).comp g'' +
        ((ContinuousLinearMap.compL ℝ P D V).flip (g' x)).comp (F'' ∘L g' x) =
      compOne (compTwo F'' (g' x)) (g' x) + compOutput (F' (g x)) g'' := by
    refine ContinuousLinearMap.ext fun δ => ContinuousLinearMap.ext fun u => ?_
    simp only [add_apply, ContinuousLinearMap.comp_apply, ContinuousLinearMap.compL_apply,
      ContinuousLinearMap.flip_apply, compOne_apply, compTwo_apply, compOutput_apply]
    -- `F' (g x) (g'' δ u) + F'' (g' x δ) (g' x u) = F'' (g' x δ) (g' x u) + F' (g x) (g'' δ u)`
    first
      | exact add_comm _ _
      | abel
  exact h2.congr_fderiv h3

/-- **Lemma 1, item 4** (chain rule, both orders). If `F` and `G` are differentiable near `G(x)`
and `x` with derivatives `F'` and `G'`, and `F'`, `G'` are differentiable at `G(x)`, `x`, then
`∇(F ∘ G)(y) = ∇F(G(y)) ∘ ∇G(y)` for `y` near `x`, and the derivative of this map at `x` (that is,
`∇²(F ∘ G)(x)`) is `(∇²F(G(x)) ∘₂ ∇G(x)) ∘ ∇G(x) + ∇F(G(x)) ∘ ∇²G(x)`; with `F = ℓ`, `G = f`
this is the Hessian chain rule, eq. (22). -/
theorem lemma1_chain {F : D → V} {g : P → D} {x : P} {F' : D → D →L[ℝ] V}
    {F'' : D →L[ℝ] D →L[ℝ] V} {g' : P → P →L[ℝ] D} {g'' : P →L[ℝ] P →L[ℝ] D}
    (hF : ∀ᶠ z in 𝓝 (g x), HasFDerivAt F (F' z) z) (hg : ∀ᶠ y in 𝓝 x, HasFDerivAt g (g' y) y)
    (hF' : HasFDerivAt F' F'' (g x)) (hg' : HasFDerivAt g' g'' x) :
    (∀ᶠ y in 𝓝 x, HasFDerivAt (F ∘ g) (compOne (F' (g y)) (g' y)) y) ∧
      HasFDerivAt (fun y => compOne (F' (g y)) (g' y))
        (compOne (compTwo F'' (g' x)) (g' x) + compOutput (F' (g x)) g'') x := by
  have hgx : HasFDerivAt g (g' x) x := hg.self_of_nhds
  have hFg : ∀ᶠ y in 𝓝 x, HasFDerivAt F (F' (g y)) (g y) :=
    hgx.continuousAt.tendsto.eventually hF
  refine ⟨?_, lemma1_chain_second_order hgx hF' hg'⟩
  filter_upwards [hg, hFg] with y hy1 hy2
  exact lemma1_chain_first_order hy2 hy1

/-- **Lemma 1, item 5** (product rule). For `H(x) = F(x) ∘ G(x)`,
`∇H(x) = ∇F(x) ∘₂ G(x) + F(x) ∘ ∇G(x)`. -/
theorem lemma1_product {Fm : D → E →L[ℝ] V} {Gm : D → W →L[ℝ] E} {x : D}
    {F' : D →L[ℝ] E →L[ℝ] V} {G' : D →L[ℝ] W →L[ℝ] E} (hF : HasFDerivAt Fm F' x)
    (hG : HasFDerivAt Gm G' x) :
    HasFDerivAt (fun y => Fm y ∘L Gm y) (compTwo F' (Gm x) + compOutput (Fm x) G') x := by
  have h : HasFDerivAt (fun y => (Fm y).comp (Gm y))
      ((ContinuousLinearMap.compL ℝ W E V (Fm x)).comp G' +
        ((ContinuousLinearMap.compL ℝ W E V).flip (Gm x)).comp F') x :=
    hF.clm_comp hG
  have h' : (ContinuousLinearMap.compL ℝ W E V (Fm x)).comp G' +
        ((ContinuousLinearMap.compL ℝ W E V).flip (Gm x)).comp F' =
      compTwo F' (Gm x) + compOutput (Fm x) G' := by
    rw [compTwo, compOutput]
    exact add_comm _ _
  exact h.congr_fderiv h'

end EquivarianceToolbox
