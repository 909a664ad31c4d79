import Lake
open Lake DSL

/-! Lake configuration of the Lean part of `equivariance-toolbox`.

Mathlib is pinned to the tag `v4.31.0`, which is the commit
`fabf563a7c95a166b8d7b6efca11c8b4dc9d911f`. Sources live under `lean/`. -/

package «equivariance_toolbox» where
  leanOptions := #[
    ⟨`autoImplicit, false⟩,
    ⟨`relaxedAutoImplicit, false⟩
  ]

-- Mathlib tag v4.31.0 = commit fabf563a7c95a166b8d7b6efca11c8b4dc9d911f
require mathlib from git
  "https://github.com/leanprover-community/mathlib4" @ "v4.31.0"

@[default_target]
lean_lib «EquivarianceToolbox» where
  srcDir := "lean"
