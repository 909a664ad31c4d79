/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
import EquivarianceToolbox.CurriedTensor
import EquivarianceToolbox.Definitions
import EquivarianceToolbox.Theorem1
import EquivarianceToolbox.Theorem2
import EquivarianceToolbox.Symmetry
import EquivarianceToolbox.Homogeneity
import EquivarianceToolbox.DiscreteLinear
import EquivarianceToolbox.LastLayer
import EquivarianceToolbox.Conservation
import EquivarianceToolbox.HomogeneityFlow
import EquivarianceToolbox.Sharpness
import EquivarianceToolbox.Noether
import EquivarianceToolbox.ComponentComp
import EquivarianceToolbox.ReparamFlow
import EquivarianceToolbox.NoetherCharge
import EquivarianceToolbox.NullSpaceRank
import EquivarianceToolbox.LastLayerSoftmax
import EquivarianceToolbox.DiscreteCommute
import EquivarianceToolbox.Claims

/-!
# Equivariance toolbox

Lean 4 formalization of the calculus in Yang and Ziyin, *An Equivariance Toolbox for Learning
Dynamics* (arXiv 2512.21447): curried tensors and Lemma 1 (`CurriedTensor`), Definitions 1–3
(`Definitions`), Theorem 1 (`Theorem1`), Theorem 2 (`Theorem2`) and the consequences of
Sections 4–6 (`Symmetry`, `Homogeneity`, `DiscreteLinear`, `LastLayer`, `Conservation`,
`HomogeneityFlow`, `Sharpness`, `Noether`, `ComponentComp`, `ReparamFlow`, `NoetherCharge`,
`NullSpaceRank`, `LastLayerSoftmax`, `DiscreteCommute`). `Claims` restates every registered claim
and closes it by its theorem, so that a change of statement breaks the build.
-/
