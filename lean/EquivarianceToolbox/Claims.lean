/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.ComponentComp
import EquivarianceToolbox.Conservation
import EquivarianceToolbox.CurriedTensor
import EquivarianceToolbox.Definitions
import EquivarianceToolbox.DiscreteCommute
import EquivarianceToolbox.DiscreteLinear
import EquivarianceToolbox.Homogeneity
import EquivarianceToolbox.HomogeneityFlow
import EquivarianceToolbox.LastLayer
import EquivarianceToolbox.LastLayerSoftmax
import EquivarianceToolbox.Noether
import EquivarianceToolbox.NoetherCharge
import EquivarianceToolbox.NullSpaceRank
import EquivarianceToolbox.ReparamFlow
import EquivarianceToolbox.Sharpness
import EquivarianceToolbox.Symmetry
import EquivarianceToolbox.Theorem1
import EquivarianceToolbox.Theorem2

/-!
# Statement guard: one `example` per registered claim

Each `example` below restates, verbatim, the canonical form of one entry of the claims registry
(`pyspec/claims.py`: id, paper item) and is closed by the theorem of the same name applied to its
explicit hypotheses. If a theorem's statement changes (a hypothesis strengthened or added, a
conclusion weakened), the corresponding `example` no longer elaborates and `lake build` fails: the
registry, this file and the theorem have to be updated together. `tests/test_lean.py` checks that
every registered claim has exactly one `example` here, closed by its own theorem, and that it restates
the theorem's current statement.

Each `example` sits in its own `section` with the `variable` declarations in force at the theorem.
-/

noncomputable section

open scoped Topology ContDiff Matrix

namespace EquivarianceToolbox

section
variable {D P V W X Y E : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup P] [NormedSpace ℝ P]
  [NormedAddCommGroup V] [NormedSpace ℝ V] [NormedAddCommGroup W] [NormedSpace ℝ W]
  [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
  [NormedAddCommGroup E] [NormedSpace ℝ E]

-- claim: lemma1_comp (Lemma 1.1; CurriedTensor)
example (A₁ : E →L[ℝ] V) (A₂ : X →L[ℝ] E →L[ℝ] V)
    (A₃ : Y →L[ℝ] X →L[ℝ] E →L[ℝ] V) (B : D →L[ℝ] E) :
    (∀ x, compOne A₁ B x = A₁ (B x)) ∧
      (∀ x₁ x₂, compTwo A₂ B x₁ x₂ = A₂ x₁ (B x₂)) ∧
        (∀ x₁ x₂ x₃, compThree A₃ B x₁ x₂ x₃ = A₃ x₁ x₂ (B x₃)) :=
  lemma1_comp A₁ A₂ A₃ B

end

section
variable {D P V W X Y E : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup P] [NormedSpace ℝ P]
  [NormedAddCommGroup V] [NormedSpace ℝ V] [NormedAddCommGroup W] [NormedSpace ℝ W]
  [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
  [NormedAddCommGroup E] [NormedSpace ℝ E]

-- claim: lemma1_tensor_comp (Lemma 1.2; CurriedTensor)
example {ι : Type*} [Fintype ι] (b : Module.Basis ι ℝ E) (A : E →L[ℝ] V)
    (B : D →L[ℝ] E) (x : D) :
    compOne A B x = ∑ l, b.repr (B x) l • A (b l) :=
  lemma1_tensor_comp b A B x

end

section
variable {D P V W X Y E : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup P] [NormedSpace ℝ P]
  [NormedAddCommGroup V] [NormedSpace ℝ V] [NormedAddCommGroup W] [NormedSpace ℝ W]
  [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
  [NormedAddCommGroup E] [NormedSpace ℝ E]

-- claim: lemma1_grad (Lemma 1.3; CurriedTensor)
example (A : D →L[ℝ] V) (x : D) : HasFDerivAt A A x ∧ fderiv ℝ A x = A :=
  lemma1_grad A x

end

section
variable {D P V W X Y E : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup P] [NormedSpace ℝ P]
  [NormedAddCommGroup V] [NormedSpace ℝ V] [NormedAddCommGroup W] [NormedSpace ℝ W]
  [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
  [NormedAddCommGroup E] [NormedSpace ℝ E]

-- claim: lemma1_chain (Lemma 1.4, eq. (22); CurriedTensor)
example {F : D → V} {g : P → D} {x : P} {F' : D → D →L[ℝ] V}
    {F'' : D →L[ℝ] D →L[ℝ] V} {g' : P → P →L[ℝ] D} {g'' : P →L[ℝ] P →L[ℝ] D}
    (hF : ∀ᶠ z in 𝓝 (g x), HasFDerivAt F (F' z) z) (hg : ∀ᶠ y in 𝓝 x, HasFDerivAt g (g' y) y)
    (hF' : HasFDerivAt F' F'' (g x)) (hg' : HasFDerivAt g' g'' x) :
    (∀ᶠ y in 𝓝 x, HasFDerivAt (F ∘ g) (compOne (F' (g y)) (g' y)) y) ∧
      HasFDerivAt (fun y => compOne (F' (g y)) (g' y))
        (compOne (compTwo F'' (g' x)) (g' x) + compOutput (F' (g x)) g'') x :=
  lemma1_chain hF hg hF' hg'

end

section
variable {D P V W X Y E : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup P] [NormedSpace ℝ P]
  [NormedAddCommGroup V] [NormedSpace ℝ V] [NormedAddCommGroup W] [NormedSpace ℝ W]
  [NormedAddCommGroup X] [NormedSpace ℝ X] [NormedAddCommGroup Y] [NormedSpace ℝ Y]
  [NormedAddCommGroup E] [NormedSpace ℝ E]

-- claim: lemma1_product (Lemma 1.5; CurriedTensor)
example {Fm : D → E →L[ℝ] V} {Gm : D → W →L[ℝ] E} {x : D}
    {F' : D →L[ℝ] E →L[ℝ] V} {G' : D →L[ℝ] W →L[ℝ] E} (hF : HasFDerivAt Fm F' x)
    (hG : HasFDerivAt Gm G' x) :
    HasFDerivAt (fun y => Fm y ∘L Gm y) (compTwo F' (Gm x) + compOutput (Fm x) G') x :=
  lemma1_product hF hG

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: theorem1_key_identity (Theorem 1, eq. (12); Theorem1)
example {f : E → F} {T : G → E → E} {S : G → F → F} {a : G} {θ : E}
    {f' fT' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E} {Ta : G →L[ℝ] E} {Sy : F ≃L[ℝ] F} {Sa : G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : HasFDerivAt f f' θ) (hfT : HasFDerivAt f fT' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a)
    (hSy : HasFDerivAt (S a) (Sy : F →L[ℝ] F) (f θ))
    (hSa : HasFDerivAt (fun b => S b (f θ)) Sa a) :
    f' ∘L (((ContinuousLinearEquiv.symm Tθ) : E →L[ℝ] E) ∘L Ta) = ((ContinuousLinearEquiv.symm Sy) : F →L[ℝ] F) ∘L Sa :=
  theorem1_key_identity hequiv hf hfT hTθ hTa hSy hSa

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: theorem1_first_order (Theorem 1.1; Theorem1)
example {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F} {a : G}
    {θ : E} {L' : E →L[ℝ] ℝ} {ℓ' : F →L[ℝ] ℝ} {f' fT' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E}
    {Ta : G →L[ℝ] E} {Sy : F ≃L[ℝ] F} {Sa : G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hL : HasFDerivAt (ℓ ∘ f) L' θ) (hℓ : HasFDerivAt ℓ ℓ' (f θ))
    (hf : HasFDerivAt f f' θ) (hfT : HasFDerivAt f fT' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a)
    (hSy : HasFDerivAt (S a) (Sy : F →L[ℝ] F) (f θ))
    (hSa : HasFDerivAt (fun b => S b (f θ)) Sa a) :
    L' ∘L (((ContinuousLinearEquiv.symm Tθ) : E →L[ℝ] E) ∘L Ta) = ℓ' ∘L (((ContinuousLinearEquiv.symm Sy) : F →L[ℝ] F) ∘L Sa) :=
  theorem1_first_order hequiv hL hℓ hf hfT hTθ hTa hSy hSa

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: theorem1_hessian_action (Theorem 1.2a; Theorem1)
example {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} {f' : E → E →L[ℝ] F} {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ}
    {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F}
    {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {w : F → G →L[ℝ] F}
    {w' : F →L[ℝ] G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ)) (δ : E) (g : G) :
    L'' (v θ g) δ = ℓ'' (f' θ δ) (w (f θ) g) + ℓ' (f θ) (w' (f' θ δ) g) - L' θ (v' δ g) :=
  theorem1_hessian_action hequiv hf hfT hTθ hTa hSy hSa hSinj hvdef hwdef hℓ hℓ' hL hL' hv hw δ g

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: theorem1_hessian_quadratic (Theorem 1.2b; Theorem1)
example {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {S : G → F → F}
    {a : G} {θ : E} {f' : E → E →L[ℝ] F} {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ}
    {Tθ : E → E →L[ℝ] E} {Ta : E → G →L[ℝ] E} {Sy : F → F →L[ℝ] F} {Sa : F → G →L[ℝ] F}
    {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E} {w : F → G →L[ℝ] F}
    {w' : F →L[ℝ] G →L[ℝ] F}
    (hequiv : IsEquivariantAt f T S a θ)
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hfT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hSy : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (S a) (Sy y) y)
    (hSa : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt (fun b => S b y) (Sa y) a)
    (hSinj : ∀ᶠ y in 𝓝 (f θ), Function.Injective (Sy y))
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ)
    (hwdef : ∀ᶠ y in 𝓝 (f θ), Sy y ∘L w y = Sa y)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hv : HasFDerivAt v v' θ) (hw : HasFDerivAt w w' (f θ)) (g₁ g₂ : G) :
    L'' (v θ g₁) (v θ g₂) = ℓ'' (w (f θ) g₁) (w (f θ) g₂) + ℓ' (f θ) (w' (w (f θ) g₁) g₂)
      - L' θ (v' (v θ g₁) g₂) :=
  theorem1_hessian_quadratic hequiv hf hfT hTθ hTa hSy hSa hSinj hvdef hwdef hℓ hℓ' hL hL' hv hw g₁ g₂

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: theorem2_gradient (Theorem 2.1; Theorem2)
example {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E →L[ℝ] ℝ} {J : E →L[ℝ] E} (hinv : ∀ᶠ ϑ in 𝓝 θ, f (T a ϑ) = f ϑ)
    (hfix : θ ∈ fixedPointSet T a) (hL : HasFDerivAt (ℓ ∘ f) L' θ)
    (hT : HasFDerivAt (T a) J θ) : L' ∘L J = L' :=
  theorem2_gradient hinv hfix hL hT

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: theorem2_hessian (Theorem 2.2; Theorem2)
example {ℓ : F → ℝ} {f : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} {T' : E → E →L[ℝ] E}
    {T'' : E →L[ℝ] E →L[ℝ] E} (hinv : ∀ᶠ ϑ in 𝓝 θ, f (T a ϑ) = f ϑ)
    (hfix : θ ∈ fixedPointSet T a)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (ℓ ∘ f) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (T' ϑ) ϑ) (hT' : HasFDerivAt T' T'' θ) (x y : E) :
    L'' (T' θ x) (T' θ y) + L' θ (T'' x y) = L'' x y :=
  theorem2_hessian hinv hfix hL hL' hT hT' x y

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: symmetry_orthogonality (eq. (2), §4; Symmetry)
example {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' L₁' : E →L[ℝ] F} {Tθ : E ≃L[ℝ] E} {Ta : G →L[ℝ] E}
    (hθ : ∀ᶠ ϑ in 𝓝 θ, L (T a ϑ) = L ϑ) (ha : ∀ᶠ b in 𝓝 a, L (T b θ) = L θ)
    (hL : HasFDerivAt L L' θ) (hLT : HasFDerivAt L L₁' (T a θ))
    (hTθ : HasFDerivAt (T a) (Tθ : E →L[ℝ] E) θ) (hTa : HasFDerivAt (fun b => T b θ) Ta a) :
    L' ∘L (((ContinuousLinearEquiv.symm Tθ) : E →L[ℝ] E) ∘L Ta) = 0 :=
  symmetry_orthogonality hθ ha hL hLT hTθ hTa

end

section
variable {E₁ E₂ : Type*}
  [NormedAddCommGroup E₁] [NormedSpace ℝ E₁]
  [NormedAddCommGroup E₂] [NormedSpace ℝ E₂]

-- claim: rescaling_conservation (§4.1 rescaling; Conservation)
example {L : E₁ × E₂ → ℝ} {D : E₁ × E₂ →L[ℝ] ℝ} {u : E₁} {w : E₂}
    (hinv : ∀ᶠ a in 𝓝 (1 : ℝ), L (a • u, a⁻¹ • w) = L (u, w))
    (hL : HasFDerivAt L D (u, w)) :
    D (u, 0) - D (0, w) = 0 :=
  rescaling_conservation hinv hL

end

section
variable {E₀ E F₀ : Type*}
  [NormedAddCommGroup E₀] [NormedSpace ℝ E₀]
  [NormedAddCommGroup E] [NormedSpace ℝ E] [CompleteSpace E]
  [NormedAddCommGroup F₀] [NormedSpace ℝ F₀]

-- claim: reparam_conservation (§4.1 reparameterization; Conservation)
example {L : (E₀ →L[ℝ] E) × (E →L[ℝ] F₀) → ℝ}
    {D : (E₀ →L[ℝ] E) × (E →L[ℝ] F₀) →L[ℝ] ℝ} {W₁ : E₀ →L[ℝ] E} {W₂ : E →L[ℝ] F₀}
    (hinv : ∀ᶠ A in 𝓝 (1 : E →L[ℝ] E), IsUnit A →
      L (A ∘L W₁, W₂ ∘L Ring.inverse A) = L (W₁, W₂))
    (hL : HasFDerivAt L D (W₁, W₂)) (B : E →L[ℝ] E) :
    D (B ∘L W₁, 0) = D (0, W₂ ∘L B) :=
  reparam_conservation hinv hL B

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: homogeneity_euler (§4.2 Euler relation; Homogeneity)
example {f : E → F} {f' : E →L[ℝ] F} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ a in 𝓝 (1 : ℝ), f (a • θ) = a ^ p • f θ) (hf : HasFDerivAt f f' θ) :
    f' θ = p • f θ :=
  homogeneity_euler hhom hf

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [InnerProductSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: homogeneity_norm_growth (§4.2 norm growth; HomogeneityFlow)
example {ℓ : F → ℝ} {f : E → F} {ℓ' : F →L[ℝ] ℝ} {f' : E →L[ℝ] F}
    {L' : E →L[ℝ] ℝ} {θ : ℝ → E} {θ' : E} {t : ℝ} {p : ℝ}
    (hhom : ∀ᶠ a in 𝓝 (1 : ℝ), f (a • θ t) = a ^ p • f (θ t))
    (hℓ : HasFDerivAt ℓ ℓ' (f (θ t))) (hf : HasFDerivAt f f' (θ t))
    (hL : HasFDerivAt (fun ϑ => ℓ (f ϑ)) L' (θ t)) (hθ : HasDerivAt θ θ' t)
    (hflow : ∀ x : E, inner ℝ θ' x = -L' x) :
    HasDerivAt (fun s => ‖θ s‖ ^ 2) (-2 * p * ℓ' (f (θ t))) t :=
  homogeneity_norm_growth hhom hℓ hf hL hθ hflow

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: homogeneity_hessian_action (eq. (3), §5.1; Homogeneity)
example {ℓ : F → ℝ} {f : E → F} {ℓ' : F → F →L[ℝ] ℝ}
    {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (δ : E) :
    L'' θ δ = (p - 1) * L' θ δ + p * ℓ'' (f' θ δ) (f θ) :=
  homogeneity_hessian_action hhom hℓ hℓ' hf hL hL' δ

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: homogeneity_hessian_quadratic (eq. (4), §5.1; Homogeneity)
example {ℓ : F → ℝ} {f : E → F} {ℓ' : F → F →L[ℝ] ℝ}
    {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    L'' θ θ = p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ) :=
  homogeneity_hessian_quadratic hhom hℓ hℓ' hf hL hL'

end

section
variable {E : Type*} [NormedAddCommGroup E] [NormedSpace ℝ E]

-- claim: corollary1_gradient_in_hessian_range (Corollary 1 (m = 1, κ ≠ 0 [C]); HomogeneityFlow)
example {ℓ : ℝ → ℝ} {f : E → ℝ} {ℓ' : ℝ → ℝ →L[ℝ] ℝ}
    {ℓ'' : ℝ →L[ℝ] ℝ →L[ℝ] ℝ} {f' : E → E →L[ℝ] ℝ} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    ℓ' (f θ) 1 • L'' θ = homogeneityKappa p (f θ) (ℓ' (f θ) 1) (ℓ'' 1 1) • L' θ :=
  corollary1_gradient_in_hessian_range hhom hℓ hℓ' hf hL hL'

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [InnerProductSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: sharpness_lower_bound (§5.1 sharpness bound; Sharpness)
example [FiniteDimensional ℝ E] {ℓ : F → ℝ} {f : E → F}
    {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ} {f' : E → E →L[ℝ] F}
    {L' : E → E →L[ℝ] ℝ} {L'' : E →L[ℝ] E →L[ℝ] ℝ} {θ : E} {p : ℝ} {Hop : E →L[ℝ] E}
    (hhom : ∀ᶠ ϑ in 𝓝 θ, ∀ᶠ a in 𝓝 (1 : ℝ), f (a • ϑ) = a ^ p • f ϑ)
    (hℓ : ∀ᶠ y in 𝓝 (f θ), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (f θ))
    (hf : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt f (f' ϑ) ϑ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun x => ℓ (f x)) (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hH : ∀ x y, inner ℝ (Hop x) y = L'' x y) (hθ : θ ≠ 0) :
    ∃ μ : ℝ, Module.End.HasEigenvalue (Hop : E →ₗ[ℝ] E) μ ∧
      (p ^ 2 * ℓ'' (f θ) (f θ) + p * (p - 1) * ℓ' (f θ) (f θ)) / ‖θ‖ ^ 2 ≤ μ :=
  sharpness_lower_bound hhom hℓ hℓ' hf hL hL' hH hθ

end

section
variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

-- claim: corollary2_noether_flow (Corollary 2, §5.2; Noether)
example {N : ℕ} {ℓ : Fin N → E → ℝ} {ℓ' : Fin N → E → E →L[ℝ] ℝ}
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
          (-2 * noiseTraceComp A (fun x => g x θ)) 0 :=
  corollary2_noether_flow hsym hT0 hTgen hℓ hℓ' hgrad hg

end

section
variable {E₀ F₀ F : Type*}
  [NormedAddCommGroup E₀] [NormedSpace ℝ E₀]
  [NormedAddCommGroup F₀] [NormedSpace ℝ F₀]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: corollary3_last_layer (Corollary 3, eq. (7); LastLayer)
example {ℓ : F → ℝ} {h : E₀ → F₀} {L : (F₀ →L[ℝ] F) × E₀ → ℝ}
    {ℓ' : F → F →L[ℝ] ℝ} {ℓ'' : F →L[ℝ] F →L[ℝ] ℝ}
    {L' : (F₀ →L[ℝ] F) × E₀ → (F₀ →L[ℝ] F) × E₀ →L[ℝ] ℝ}
    {L'' : (F₀ →L[ℝ] F) × E₀ →L[ℝ] (F₀ →L[ℝ] F) × E₀ →L[ℝ] ℝ}
    {W : F₀ →L[ℝ] F} {φ : E₀}
    (hLdef : ∀ (V : F₀ →L[ℝ] F) (ψ : E₀), L (V, ψ) = ℓ (V (h ψ)))
    (hℓ : ∀ᶠ y in 𝓝 (W (h φ)), HasFDerivAt ℓ (ℓ' y) y) (hℓ' : HasFDerivAt ℓ' ℓ'' (W (h φ)))
    (hL : ∀ᶠ q in 𝓝 (W, φ), HasFDerivAt L (L' q) q) (hL' : HasFDerivAt L' L'' (W, φ))
    (B₁ B₂ : F →L[ℝ] F) :
    L'' (B₁ ∘L W, 0) (B₂ ∘L W, 0) = ℓ'' (B₁ (W (h φ))) (B₂ (W (h φ))) :=
  corollary3_last_layer hLdef hℓ hℓ' hL hL' B₁ B₂

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: symmetry_hessian_null_space (§5.4; Symmetry)
example {L : E → F} {T : G → E → E} {a : G} {θ : E}
    {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F} {Tθ : E → E →L[ℝ] E}
    {Ta : E → G →L[ℝ] E} {v : E → G →L[ℝ] E} {v' : E →L[ℝ] G →L[ℝ] E}
    (hsymm : ∀ᶠ q in 𝓝 (a, θ), L (T q.1 q.2) = L q.2)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hLT : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' (T a ϑ)) (T a ϑ))
    (hTθ : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (T a) (Tθ ϑ) ϑ)
    (hTa : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt (fun b => T b ϑ) (Ta ϑ) a)
    (hvdef : ∀ᶠ ϑ in 𝓝 θ, Tθ ϑ ∘L v ϑ = Ta ϑ) (hv : HasFDerivAt v v' θ) (hcrit : L' θ = 0)
    (g : G) (δ : E) :
    L'' (v θ g) δ = 0 ∧ L'' δ (v θ g) = 0 :=
  symmetry_hessian_null_space hsymm hL hL' hLT hTθ hTa hvdef hv hcrit g δ

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedAddCommGroup F] [NormedSpace ℝ E] [NormedSpace ℝ F]

-- claim: discrete_linear_gradient (eq. (8), §6; DiscreteLinear)
example {L : E → F} {L' : E →L[ℝ] F} {M : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ) (hL : HasFDerivAt L L' θ) :
    L' ∘L M = L' :=
  discrete_linear_gradient hinv hfix hL

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedAddCommGroup F] [NormedSpace ℝ E] [NormedSpace ℝ F]

-- claim: discrete_linear_hessian (eq. (9), §6; DiscreteLinear)
example {L : E → F} {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F}
    {M : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) (x y : E) :
    L'' (M x) (M y) = L'' x y :=
  discrete_linear_hessian hinv hfix hL hL' x y

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedAddCommGroup F] [NormedSpace ℝ E] [NormedSpace ℝ F]

-- claim: corollary4_mirror (Corollary 4, §6; DiscreteLinear)
example {L : E → F} {L' : E → E →L[ℝ] F} {L'' : E →L[ℝ] E →L[ℝ] F}
    {M P : E →L[ℝ] E} {θ : E}
    (hP : P ∘L P = P) (hM : ∀ u, M u = u - (2 : ℝ) • P u)
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hθ : P θ = 0)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) :
    L' θ ∘L P = 0 ∧ ∀ x y, L'' (P x) (y - P y) = 0 ∧ L'' (x - P x) (P y) = 0 :=
  corollary4_mirror hP hM hinv hθ hL hL'

end

section
variable {D V E X : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup V] [NormedSpace ℝ V]
  [NormedAddCommGroup E] [NormedSpace ℝ E] [NormedAddCommGroup X] [NormedSpace ℝ X]
variable {ι : Type*} [Fintype ι] {Xs : ι → Type*} [∀ i, NormedAddCommGroup (Xs i)]
  [∀ i, NormedSpace ℝ (Xs i)]

-- claim: lemma1_comp_any_k (Lemma 1.1, every k; ComponentComp)
example (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)) (B : D →L[ℝ] E) :
    ∀ (x : ∀ i, Xs i) (y : D), componentComp A B x y = A x (B y) :=
  lemma1_comp_any_k A B

end

section
variable {D V E X : Type*}
  [NormedAddCommGroup D] [NormedSpace ℝ D] [NormedAddCommGroup V] [NormedSpace ℝ V]
  [NormedAddCommGroup E] [NormedSpace ℝ E] [NormedAddCommGroup X] [NormedSpace ℝ X]
variable {ι : Type*} [Fintype ι] {Xs : ι → Type*} [∀ i, NormedAddCommGroup (Xs i)]
  [∀ i, NormedSpace ℝ (Xs i)]

-- claim: lemma1_tensor_comp_any_k (Lemma 1.2, every k; ComponentComp)
example {κ : Type*} [Fintype κ] (b : Module.Basis κ ℝ E)
    (A : ContinuousMultilinearMap ℝ Xs (E →L[ℝ] V)) (B : D →L[ℝ] E) (x : ∀ i, Xs i) (y : D) :
    componentComp A B x y = ∑ l, b.repr (B y) l • A x (b l) :=
  lemma1_tensor_comp_any_k b A B x y

end

section

-- claim: reparam_conservation_flow (§4.1 reparameterization, flow; ReparamFlow)
example {d₀ d d₂ : Type*} [Fintype d₀] [Fintype d] [Fintype d₂]
    {W₁ : ℝ → Matrix d d₀ ℝ} {W₂ : ℝ → Matrix d₂ d ℝ} {Gℓ : Matrix d₂ d₀ ℝ}
    {G₁ : Matrix d d₀ ℝ} {G₂ : Matrix d₂ d ℝ} {t : ℝ}
    (hG₁ : G₁ = (W₂ t)ᵀ * Gℓ) (hG₂ : G₂ = Gℓ * (W₁ t)ᵀ)
    (hW₁ : ∀ i j, HasDerivAt (fun s => W₁ s i j) ((-G₁) i j) t)
    (hW₂ : ∀ i j, HasDerivAt (fun s => W₂ s i j) ((-G₂) i j) t) (i j : d) :
    HasDerivAt (fun s => (W₁ s * (W₁ s)ᵀ - (W₂ s)ᵀ * W₂ s) i j) 0 t :=
  reparam_conservation_flow hG₁ hG₂ hW₁ hW₂ i j

end

section
variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

-- claim: noether_charge_iff_symmetric (eq. (5), §5.2; NoetherCharge)
example (A : E →L[ℝ] E) (B : E →L[ℝ] E →L[ℝ] ℝ)
    (hB : ∀ x y, B x y = inner ℝ (A x) y) :
    (∃ Q : E → ℝ, ∀ θ, HasFDerivAt Q (B θ) θ) ↔ (A : E →ₗ[ℝ] E).IsSymmetric :=
  noether_charge_iff_symmetric A B hB

end

section
variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

-- claim: noether_charge_conserved (eq. (5), §5.2, flow; NoetherCharge)
example {A : E →L[ℝ] E} {B : E →L[ℝ] E →L[ℝ] ℝ}
    (hB : ∀ x y, B x y = inner ℝ (A x) y) (hA : (A : E →ₗ[ℝ] E).IsSymmetric)
    {L : E → ℝ} {L' : E →L[ℝ] ℝ} {T : ℝ → E → E} {θ : ℝ → E} {θ' : E} {t : ℝ}
    (hsym : ∀ᶠ s in 𝓝 (0 : ℝ), L (T s (θ t)) = L (θ t)) (hT0 : T 0 (θ t) = θ t)
    (hTgen : HasDerivAt (fun s => T s (θ t)) (A (θ t)) 0) (hL : HasFDerivAt L L' (θ t))
    (hθ : HasDerivAt θ θ' t) (hflow : ∀ x, inner ℝ θ' x = -L' x) :
    HasDerivAt (fun s => (1 / 2 : ℝ) * B (θ s) (θ s)) 0 t :=
  noether_charge_conserved hB hA hsym hT0 hTgen hL hθ hflow

end

section
variable {G E F : Type*}
  [NormedAddCommGroup G] [NormedSpace ℝ G]
  [NormedAddCommGroup E] [NormedSpace ℝ E]
  [NormedAddCommGroup F] [NormedSpace ℝ F]

-- claim: symmetry_hessian_null_space_rank (§5.4, dimension; NullSpaceRank)
example [FiniteDimensional ℝ E] {L : E → F} {T : G → E → E}
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
  symmetry_hessian_null_space_rank hsymm hL hL' hLT hTθ hTa hvdef hv hcrit

end

section
variable {E₀ F₀ ι : Type*} [Fintype ι]
  [NormedAddCommGroup E₀] [NormedSpace ℝ E₀]
  [NormedAddCommGroup F₀] [NormedSpace ℝ F₀]

-- claim: corollary3_softmax_variance (Corollary 3, softmax cross-entropy; LastLayerSoftmax)
example [Nonempty ι] {ℓ : (ι → ℝ) → ℝ} {h : E₀ → F₀}
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
    L'' (B ∘L W, 0) (B ∘L W, 0) = softmaxVariance (softmax (W (h φ))) (B (W (h φ))) :=
  corollary3_softmax_variance hLdef hℓ hℓ' hL hL' hK B

end

section
variable {E : Type*} [NormedAddCommGroup E] [InnerProductSpace ℝ E]

-- claim: discrete_linear_hessian_commute (§6, orthogonal M; DiscreteCommute)
example {L : E → ℝ} {L' : E → E →L[ℝ] ℝ}
    {L'' : E →L[ℝ] E →L[ℝ] ℝ} {M Hop : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ)
    (hH : ∀ x y, inner ℝ (Hop x) y = L'' x y)
    (horth : ∀ x y, inner ℝ (M x) (M y) = inner ℝ x y) (hsurj : Function.Surjective M) :
    Hop ∘L M = M ∘L Hop :=
  discrete_linear_hessian_commute hinv hfix hL hL' hH horth hsurj

end

section
variable {E F : Type*}
  [NormedAddCommGroup E] [NormedAddCommGroup F] [NormedSpace ℝ E] [NormedSpace ℝ F]

-- claim: discrete_linear_hessian_block (§6, block structure; DiscreteCommute)
example {L : E → F} {L' : E → E →L[ℝ] F}
    {L'' : E →L[ℝ] E →L[ℝ] F} {M : E →L[ℝ] E} {θ : E}
    (hinv : ∀ᶠ ϑ in 𝓝 θ, L (M ϑ) = L ϑ) (hfix : M θ = θ)
    (hL : ∀ᶠ ϑ in 𝓝 θ, HasFDerivAt L (L' ϑ) ϑ) (hL' : HasFDerivAt L' L'' θ) {x y : E}
    (hx : M x = x) (hy : M y = -y) :
    L'' x y = 0 ∧ L'' y x = 0 :=
  discrete_linear_hessian_block hinv hfix hL hL' hx hy

end
end EquivarianceToolbox
