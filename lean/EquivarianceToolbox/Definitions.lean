/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import Mathlib.Analysis.Calculus.ContDiff.Defs
import Mathlib.Analysis.Calculus.FDeriv.Basic
import Mathlib.Analysis.Calculus.FDeriv.Const
import Mathlib.Topology.Algebra.Module.Equiv

/-!
# Equivariance, good positions, characteristic directions, fixed-point sets

Definitions 1–3 of Yang and Ziyin, *An Equivariance Toolbox for Learning Dynamics*
(arXiv 2512.21447), Section 3, over abstract real normed spaces: `G` is the space of
transformation parameters `a`, `E` the parameter space (`θ`), `F` the output space (`y`).
The model is `f : E → F`, the transformation of parameters is `T : G → E → E` and the
transformation of outputs is `S : G → F → F`.

## Main definitions

* `EquivarianceToolbox.IsEquivariant f T S`: eq. (1), `f (T a θ) = S a (f θ)` for all `a`, `θ`
  (Definition 1).
* `EquivarianceToolbox.IsEquivariantAt f T S a θ`: eq. (1) for all `(b, ϑ)` near `(a, θ)`; all
  results are local (MATH §2, [I]).
* `EquivarianceToolbox.IsSymmetry f T`: the special case `S a y = y` (Definition 1).
* `EquivarianceToolbox.IsGoodPosition f T S a θ`: `∂θT(a, θ)` and `∂yS(a, f θ)` are invertible
  (Definition 1).
* `EquivarianceToolbox.charDirection T a θ = (∂θT)⁻¹ ∘ ∂aT` and
  `EquivarianceToolbox.charOutput S a y = (∂yS)⁻¹ ∘ ∂aS` (Definition 2).
* `EquivarianceToolbox.fixedPointSet T a = {θ | T a θ = θ}` and
  `EquivarianceToolbox.IsFixedPointSet T a Θ` (Definition 3).

## Main results

* `IsEquivariant.isEquivariantAt`: global equivariance implies local equivariance.
* `fderiv_comp_charDirection`, `fderiv_comp_charOutput`: `∂θT ∘ v = ∂aT` and `∂yS ∘ w = ∂aS` at
  good positions; `charDirection_eq_of_equiv`, `charOutput_eq_of_equiv` express `v`, `w` through a
  continuous linear equivalence.
* `charOutput_id`: for a symmetry (`S = id`) the characteristic output vanishes, `w = 0`.
* `mem_fixedPointSet_linear_iff`: for linear `T a θ = M θ`, `Fix_a(T) = ker (M - I)`.

## Implementation notes

Partial derivatives are `fderiv` of the curried slices: `∂θT(a, θ) = fderiv ℝ (T a) θ` and
`∂aT(a, θ) = fderiv ℝ (fun b => T b θ) a`. Invertibility is `ContinuousLinearMap.IsInvertible`,
and the inverse is `ContinuousLinearMap.inverse` (which is `0` at non-invertible maps, so `v` and
`w` are only meaningful at good positions).

## References

* Y. Yang and L. Ziyin, *An Equivariance Toolbox for Learning Dynamics*, arXiv 2512.21447,
  Section 3, Definitions 1–3, eq. (1).
-/

noncomputable section

open scoped Topology ContDiff

namespace EquivarianceToolbox

variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

/-- **Definition 1**, eq. (1): `f` has a `(T, S)`-equivariance if `f (T a θ) = S a (f θ)` for
every transformation parameter `a` and every parameter `θ`. -/
def IsEquivariant (f : E → F) (T : G → E → E) (S : G → F → F) : Prop :=
  ∀ a θ, f (T a θ) = S a (f θ)

/-- **Definition 1**, local form of eq. (1): `f (T b ϑ) = S b (f ϑ)` for all `(b, ϑ)` in a
neighbourhood of `(a, θ)`. Every result of Theorem 1 only needs this (MATH §2, [I]). -/
def IsEquivariantAt (f : E → F) (T : G → E → E) (S : G → F → F) (a : G) (θ : E) : Prop :=
  ∀ᶠ p in 𝓝 (a, θ), f (T p.1 p.2) = S p.1 (f p.2)

/-- **Definition 1** (symmetry): `T` is a symmetry of `f` if `f (T a θ) = f θ` for all `a`, `θ`,
i.e. `f` is `(T, S)`-equivariant with `S a y = y`. -/
def IsSymmetry (f : E → F) (T : G → E → E) : Prop :=
  IsEquivariant f T fun _ y => y

/-- **Definition 1** (good position): `(a, θ)` is a good position if `∂θT(a, θ)` and
`∂yS(a, f θ)` are invertible. -/
def IsGoodPosition (f : E → F) (T : G → E → E) (S : G → F → F) (a : G) (θ : E) : Prop :=
  (fderiv ℝ (T a) θ).IsInvertible ∧ (fderiv ℝ (S a) (f θ)).IsInvertible

/-- **Definition 2** (characteristic direction): `v(a, θ) = (∂θT(a, θ))⁻¹ ∘ ∂aT(a, θ)`, an
element of `G →L[ℝ] E` (the `n × k` matrix `T_θ⁻¹ T_a`). -/
def charDirection (T : G → E → E) (a : G) (θ : E) : G →L[ℝ] E :=
  (fderiv ℝ (T a) θ).inverse ∘L fderiv ℝ (fun b => T b θ) a

/-- **Definition 2** (characteristic output): `w(a, y) = (∂yS(a, y))⁻¹ ∘ ∂aS(a, y)`, an element of
`G →L[ℝ] F` (the `m × k` matrix `S_y⁻¹ S_a`). -/
def charOutput (S : G → F → F) (a : G) (y : F) : G →L[ℝ] F :=
  (fderiv ℝ (S a) y).inverse ∘L fderiv ℝ (fun b => S b y) a

/-- **Definition 3** (the fixed-point set `Fix_a(T)`): the set of all `θ` with `T a θ = θ`. -/
def fixedPointSet (T : G → E → E) (a : G) : Set E :=
  {θ | T a θ = θ}

/-- **Definition 3** (fixed-point set): `Θ` is a fixed-point set of `T` at `a` if `T a θ = θ` for
every `θ ∈ Θ`. -/
def IsFixedPointSet (T : G → E → E) (a : G) (Θ : Set E) : Prop :=
  ∀ θ ∈ Θ, T a θ = θ

/-- **Definition 1**: global equivariance (eq. (1) for all `a`, `θ`) implies equivariance near
every point. -/
theorem IsEquivariant.isEquivariantAt {f : E → F} {T : G → E → E} {S : G → F → F}
    (h : IsEquivariant f T S) (a : G) (θ : E) : IsEquivariantAt f T S a θ := by
  show ∀ᶠ p in 𝓝 (a, θ), f (T p.1 p.2) = S p.1 (f p.2)
  exact Filter.Eventually.of_forall fun p : G × E => h p.1 p.2

/-- **Definition 3**: membership in `Fix_a(T)` is `T a θ = θ`. -/
theorem mem_fixedPointSet_iff (T : G → E → E) (a : G) (θ : E) :
    θ ∈ fixedPointSet T a ↔ T a θ = θ :=
  Iff.rfl

/-- **Definition 3**: `Fix_a(T)` is the union of all fixed-point sets of `T` at `a`: a set is a
fixed-point set if and only if it is contained in `Fix_a(T)`. -/
theorem isFixedPointSet_iff_subset (T : G → E → E) (a : G) (Θ : Set E) :
    IsFixedPointSet T a Θ ↔ Θ ⊆ fixedPointSet T a :=
  Iff.rfl

/-- **Definition 3** for linear `T a θ = M θ`: `θ ∈ Fix_a(T)` if and only if `(M - I) θ = 0`,
i.e. `Fix_a(T) = ker (M - I)`. -/
theorem mem_fixedPointSet_linear_iff (M : E →L[ℝ] E) (a : G) (θ : E) :
    θ ∈ fixedPointSet (fun (_ : G) (ϑ : E) => M ϑ) a ↔
      (M - ContinuousLinearMap.id ℝ E) θ = 0 := by
  show M θ = θ ↔ (M - ContinuousLinearMap.id ℝ E) θ = 0
  rw [sub_apply, ContinuousLinearMap.id_apply, sub_eq_zero]

/-- **Definition 2**: at an invertible `∂θT = e`, the characteristic direction is
`v = e⁻¹ ∘ ∂aT`. -/
theorem charDirection_eq_of_equiv {T : G → E → E} {a : G} {θ : E} (e : E ≃L[ℝ] E)
    (he : (e : E →L[ℝ] E) = fderiv ℝ (T a) θ) :
    charDirection T a θ = (e.symm : E →L[ℝ] E) ∘L fderiv ℝ (fun b => T b θ) a := by
  rw [charDirection, ← he, ContinuousLinearMap.inverse_equiv]

/-- **Definition 2**: at an invertible `∂yS = e`, the characteristic output is
`w = e⁻¹ ∘ ∂aS`. -/
theorem charOutput_eq_of_equiv {S : G → F → F} {a : G} {y : F} (e : F ≃L[ℝ] F)
    (he : (e : F →L[ℝ] F) = fderiv ℝ (S a) y) :
    charOutput S a y = (e.symm : F →L[ℝ] F) ∘L fderiv ℝ (fun b => S b y) a := by
  rw [charOutput, ← he, ContinuousLinearMap.inverse_equiv]

/-- **Definition 2**: at a good position the characteristic direction solves
`∂θT ∘ v = ∂aT` (the defining equation `T_θ v = T_a`). -/
theorem fderiv_comp_charDirection {T : G → E → E} {a : G} {θ : E}
    (h : (fderiv ℝ (T a) θ).IsInvertible) :
    fderiv ℝ (T a) θ ∘L charDirection T a θ = fderiv ℝ (fun b => T b θ) a := by
  rw [charDirection, ← ContinuousLinearMap.comp_assoc, h.self_comp_inverse,
    ContinuousLinearMap.id_comp]

/-- **Definition 2**: at a good position the characteristic output solves
`∂yS ∘ w = ∂aS` (the defining equation `S_y w = S_a`). -/
theorem fderiv_comp_charOutput {S : G → F → F} {a : G} {y : F}
    (h : (fderiv ℝ (S a) y).IsInvertible) :
    fderiv ℝ (S a) y ∘L charOutput S a y = fderiv ℝ (fun b => S b y) a := by
  rw [charOutput, ← ContinuousLinearMap.comp_assoc, h.self_comp_inverse,
    ContinuousLinearMap.id_comp]

/-- **Definition 2** for a symmetry: with `S a y = y` the characteristic output is `w = 0`
(so the green terms of Theorem 1 vanish). -/
theorem charOutput_id (a : G) (y : F) : charOutput (fun (_ : G) (z : F) => z) a y = 0 := by
  show (fderiv ℝ (fun z : F => z) y).inverse ∘L fderiv ℝ (fun _ : G => y) a = 0
  rw [fderiv_const_apply, ContinuousLinearMap.comp_zero]

end EquivarianceToolbox
