/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.CurriedTensor
import Mathlib.Analysis.Normed.Module.Multilinear.Curry

/-!
# The `k`-th component composition `∘ₖ` for every `k`

Section 2 of Yang and Ziyin, *An Equivariance Toolbox for Learning Dynamics* (arXiv 2512.21447),
defines `∘ₖ` recursively: `A ∘₁ B = A ∘ B` and `(A ∘ₖ B)(x) = A(x) ∘ₖ₋₁ B` for `k ≥ 2`, so that
`∘ₖ` composes `B` into the `k`-th curried argument of `A`. `EquivarianceToolbox.CurriedTensor`
defines it for `k ≤ 3` on iterated continuous linear maps. Here it is defined for every `k`.

A curried tensor with `k` slots whose `k`-th slot lies in `E` is a map
`x₁ ↦ … ↦ x_{k-1} ↦ (E →L[ℝ] V)`; we collect the first `k - 1` arguments into one continuous
multilinear map `A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)` indexed by a finite type `ι` with
`card ι = k - 1` (for the paper, `ι = Fin (k - 1)`). Unrolling the recursion, `A ∘ₖ B` composes
`B : D →L[ℝ] E` into the value of `A` at every point: `(A ∘ₖ B)(x) = A(x) ∘ B`.

## Main definitions

* `EquivarianceToolbox.componentComp`: `A ∘ₖ B` for `A` with `card ι = k - 1` leading slots.

## Main results

* `EquivarianceToolbox.lemma1_comp_any_k`: Lemma 1, item 1, for every `k`:
  `(A ∘ₖ B)(x₁, …, x_{k-1})(y) = A(x₁, …, x_{k-1})(B y)`.
* `EquivarianceToolbox.componentComp_curryLeft`: the paper's recursive definition,
  `(A ∘ₖ₊₁ B)(x) = A(x) ∘ₖ B`, where `A(x)` is `A.curryLeft x`.
* `EquivarianceToolbox.lemma1_tensor_comp_any_k`: Lemma 1, item 2 (index formula) for every `k`:
  in any finite basis `e` of `E`, `(A ∘ₖ B)(x)(y) = ∑ₗ (B y)ₗ • A(x)(eₗ)`.
* `EquivarianceToolbox.componentComp_fin0`, `componentComp_fin1`, `componentComp_fin2_apply`:
  agreement with `compOne` (`k = 1`), `compTwo` (`k = 2`) and `compThree` (`k = 3`).

## Implementation notes

No type-level recursion on shapes is used: the `k - 1` leading slots form the index type `ι`, and
`∘ₖ` is postcomposition with `(· ∘L B) = (ContinuousLinearMap.compL ℝ D E V).flip B`. The
recursion is recovered through `ContinuousMultilinearMap.curryLeft` (for `ι = Fin (n + 1)`).

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv 2512.21447,
  Section 2 (definition of `∘ₖ`) and Lemma 1 (Appendix), items 1 and 2.
-/

noncomputable section

open scoped Topology

namespace EquivarianceToolbox

variable {D V E X : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup V] [NormedSpace ℝ V]
  [NormedAddCommGroup E] [NormedSpace ℝ E] [NormedAddCommGroup X] [NormedSpace ℝ X]

section General

variable {ι : Type*} [Fintype ι] {Xs : ι → Type*} [∀ i, NormedAddCommGroup (Xs i)]
  [∀ i, NormedSpace ℝ (Xs i)]

/-- The `k`-th component composition `A ∘ₖ B` (paper, Section 2) for every `k`: `A` has
`k - 1 = card ι` leading slots, collected in a continuous multilinear map with values in
`E →L[ℝ] V`, and `B : D →L[ℝ] E` is composed into the `k`-th slot:
`(A ∘ₖ B)(x) = A(x) ∘L B`. -/
def componentComp (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)) (B : D →L[ℝ] E) :
    ContinuousMultilinearMap ℝ Xs (D →L[ℝ] V) :=
  ((ContinuousLinearMap.compL ℝ D E V).flip B).compContinuousMultilinearMap A

/-- Evaluation of `A ∘ₖ B` (paper, Section 2): `(A ∘ₖ B)(x)(y) = A(x)(B y)`. -/
theorem componentComp_apply (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)) (B : D →L[ℝ] E)
    (x : ∀ i, Xs i) (y : D) : componentComp A B x y = A x (B y) := by
  -- every lemma below is proved by `rfl` in Mathlib; `rfl` is the fallback
  first
    | simp only [componentComp, ContinuousLinearMap.compContinuousMultilinearMap_coe,
        Function.comp_apply, ContinuousLinearMap.flip_apply, ContinuousLinearMap.compL_apply,
        ContinuousLinearMap.comp_apply]
    | rfl

/-- **Lemma 1, item 1, for every `k`** (function composition). The `k`-th component
composition composes `B` into the `k`-th curried argument:
`(A ∘ₖ B)(x₁, …, x_{k-1})(x_k) = A(x₁, …, x_{k-1})(B(x_k))`, where the `k - 1 = card ι` leading
arguments are collected in `x`. -/
theorem lemma1_comp_any_k (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)) (B : D →L[ℝ] E) :
    ∀ (x : ∀ i, Xs i) (y : D), componentComp A B x y = A x (B y) :=
  fun x y => componentComp_apply A B x y

/-- **Lemma 1, item 2, for every `k`** (tensor composition, index formula). For tensors `A`
with last contracted slot `E` and `B : D →L[ℝ] E`, in any finite basis `e` of `E`,
`(A ∘ₖ B)(x)(y) = ∑ₗ (B y)ₗ • A(x)(eₗ)`, i.e. `(A ∘ₖ B)[I, J, K] = ∑ₗ A[I, l, K] B[l, J]`. -/
theorem lemma1_tensor_comp_any_k {κ : Type*} [Fintype κ] (b : Module.Basis κ ℝ E)
    (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)) (B : D →L[ℝ] E) (x : ∀ i, Xs i) (y : D) :
    componentComp A B x y = ∑ l, b.repr (B y) l • A x (b l) := by
  rw [componentComp_apply]
  have h : A x (B y) = A x (∑ l, b.repr (B y) l • b l) := by
    rw [Module.Basis.sum_repr]
  rw [h, map_sum]
  simp only [ContinuousLinearMap.map_smul]

end General

section Recursion

variable {n : ℕ} {Xs : Fin (n + 1) → Type*} [∀ i, NormedAddCommGroup (Xs i)]
  [∀ i, NormedSpace ℝ (Xs i)]

/-- **The recursive definition of `∘ₖ`** (paper, Section 2): `(A ∘ₖ₊₁ B)(x) = A(x) ∘ₖ B`, where
`A(x) = A.curryLeft x` fixes the first of the `k` leading arguments. -/
theorem componentComp_curryLeft (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V))
    (B : D →L[ℝ] E) (x : Xs 0) :
    (componentComp A B).curryLeft x = componentComp (A.curryLeft x) B := by
  refine ContinuousMultilinearMap.ext fun m => ContinuousLinearMap.ext fun y => ?_
  first
    | (rw [ContinuousMultilinearMap.curryLeft_apply, componentComp_apply, componentComp_apply,
          ContinuousMultilinearMap.curryLeft_apply]; done)
    | simp only [ContinuousMultilinearMap.curryLeft_apply, componentComp_apply]

end Recursion

section SmallK

/-- **`∘ₖ` for `k = 1` is `compOne`** (paper, Section 2, `A ∘₁ B = A ∘ B`): with no leading
slot (`ι = Fin 0`), `componentComp` is `compOne` under `continuousMultilinearCurryFin0`. -/
theorem componentComp_fin0 (A : E →L[ℝ] V) (B : D →L[ℝ] E) :
    componentComp ((continuousMultilinearCurryFin0 ℝ X (E →L[ℝ] V)).symm A) B =
      (continuousMultilinearCurryFin0 ℝ X (D →L[ℝ] V)).symm (compOne A B) := by
  refine ContinuousMultilinearMap.ext fun m => ContinuousLinearMap.ext fun y => ?_
  first
    | (rw [componentComp_apply, continuousMultilinearCurryFin0_symm_apply_apply,
          continuousMultilinearCurryFin0_symm_apply_apply, compOne_apply]; done)
    | simp only [componentComp_apply, continuousMultilinearCurryFin0_symm_apply_apply,
        compOne_apply]

/-- **`∘ₖ` for `k = 2` is `compTwo`** (paper, Section 2, `(A ∘₂ B)(x) = A(x) ∘₁ B`): with one
leading slot (`ι = Fin 1`), `componentComp` is `compTwo` under `continuousMultilinearCurryFin1`. -/
theorem componentComp_fin1 (A : X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) :
    componentComp ((continuousMultilinearCurryFin1 ℝ X (E →L[ℝ] V)).symm A) B =
      (continuousMultilinearCurryFin1 ℝ X (D →L[ℝ] V)).symm (compTwo A B) := by
  refine ContinuousMultilinearMap.ext fun m => ContinuousLinearMap.ext fun y => ?_
  first
    | (rw [componentComp_apply, continuousMultilinearCurryFin1_symm_apply,
          continuousMultilinearCurryFin1_symm_apply, compTwo_apply]; done)
    | simp only [componentComp_apply, continuousMultilinearCurryFin1_symm_apply, compTwo_apply]

/-- **`∘ₖ` for `k = 3` agrees with `compThree`** (paper, Section 2,
`(A ∘₃ B)(x)(y)(z) = A(x)(y)(B(z))`): if the bilinear `A` (two leading slots, `ι = Fin 2`) is the
curried `A₃`, `A m = A₃ (m 0) (m 1)`, then `(A ∘₃ B)(m)(z) = compThree A₃ B (m 0) (m 1) z`. -/
theorem componentComp_fin2_apply (A : ContinuousMultilinearMap ℝ (fun _ : Fin 2 => X) (E →L[ℝ] V))
    (A₃ : X →L[ℝ] X →L[ℝ] E →L[ℝ] V) (hA : ∀ m, A m = A₃ (m 0) (m 1)) (B : D →L[ℝ] E)
    (m : Fin 2 → X) (z : D) :
    componentComp A B m z = compThree A₃ B (m 0) (m 1) z := by
  rw [componentComp_apply, hA m, compThree_apply]

end SmallK

end EquivarianceToolbox
