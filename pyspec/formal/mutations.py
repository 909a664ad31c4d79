"""The mutation gate: textual mutations of the Lean statements that make them false, vacuous or weaker,
each of which the evaluation must refute (issue: "every mutant refuted").

A mutant is built by editing the statement's text (replace a subterm, add or drop a hypothesis), printing
it back to Lean and parsing it again. It is *refuted* when

* it is ill-typed on the instance (Lean would reject it), or
* its hypotheses fail on every drawn model (flagged vacuous), or
* its conclusion fails on a drawn model whose hypotheses hold (a counterexample), or
* on the claim's negative control (a model violating the hypotheses the original needs) all its
  remaining hypotheses hold and its conclusion fails (a dropped hypothesis is needed), or
* its conclusion does not flag the negative control although the original's does, or has no numerical
  content at all (``True``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from pyspec.formal.evaluate import UnboundError, evaluate_statement
from pyspec.formal.extract import BinderGroup, Declaration, declaration, parse_header
from pyspec.formal.registry import FormalClaim, draw_binding, formal_claim
from pyspec.formal.syntax import LeanSyntaxError, Node, parse_term, tokenize
from pyspec.formal.values import FormalTypeError

__all__ = ["Mutation", "MUTATIONS", "mutate", "refute"]


class Mutation(NamedTuple):
    """``kind`` (drop a summand, flip a sign, …) applied to ``statement`` of ``claim``: replace the subterm
    ``old`` by ``new`` in the conclusion, add the hypothesis ``new`` (``old = "+hyp"``) or drop the
    hypothesis named ``new`` (``old = "-hyp"``)."""

    kind: str
    claim: str
    statement: str
    old: str
    new: str


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("drop a summand (the blue term)", "theorem2_hessian", "theorem2_hessian",
             "L'' (T' θ x) (T' θ y) + L' θ (T'' x y)", "L'' (T' θ x) (T' θ y)"),
    Mutation("conclusion := True", "theorem1_first_order", "theorem1_first_order", "*", "True"),
    Mutation("conclusion := True", "theorem1_hessian_action", "theorem1_hessian_action", "*", "True"),
    Mutation("flip a sign", "theorem1_hessian_action", "theorem1_hessian_action",
             "ℓ'' (f' θ δ) (w (f θ) g) + ℓ' (f θ) (w' (f' θ δ) g) - L' θ (v' δ g)",
             "ℓ'' (f' θ δ) (w (f θ) g) + ℓ' (f θ) (w' (f' θ δ) g) + L' θ (v' δ g)"),
    Mutation("drop a summand (the green term)", "theorem1_hessian_quadratic", "theorem1_hessian_quadratic",
             "ℓ'' (w (f θ) g₁) (w (f θ) g₂) + ℓ' (f θ) (w' (w (f θ) g₁) g₂) - L' θ (v' (v θ g₁) g₂)",
             "ℓ'' (w (f θ) g₁) (w (f θ) g₂) - L' θ (v' (v θ g₁) g₂)"),
    Mutation("exchange v and w", "theorem1_key_identity", "theorem1_key_identity",
             "f' ∘L ((Tθ.symm : E →L[ℝ] E) ∘L Ta) = (Sy.symm : F →L[ℝ] F) ∘L Sa",
             "f' ∘L ((Sy.symm : F →L[ℝ] F) ∘L Sa) = (Tθ.symm : E →L[ℝ] E) ∘L Ta"),
    Mutation("swap the arguments of a bilinear term", "lemma1_comp", "lemma1_comp",
             "A₂ x₁ (B x₂)", "A₂ (B x₂) x₁"),
    Mutation("swap the arguments of a bilinear term", "lemma1_tensor_comp", "lemma1_tensor_comp_two",
             "A x (b l)", "A (b l) x"),
    Mutation("add an unsatisfiable hypothesis", "theorem2_gradient", "theorem2_gradient", "+hyp", "θ = 0"),
    Mutation("add an unsatisfiable hypothesis", "theorem1_first_order", "theorem1_first_order", "+hyp",
             "f θ = 0"),
    Mutation("drop a needed hypothesis", "theorem2_gradient", "theorem2_gradient", "-hyp", "hfix"),
    Mutation("drop a needed hypothesis", "theorem1_first_order", "theorem1_first_order", "-hyp", "hequiv"),
    Mutation("drop a needed hypothesis", "homogeneity_euler", "homogeneity_euler", "-hyp", "hhom"),
    Mutation("flip a sign", "homogeneity_hessian_action", "homogeneity_hessian_action",
             "(p - 1) * L' θ δ", "(p + 1) * L' θ δ"),
    Mutation("drop a factor", "discrete_linear_hessian", "discrete_linear_hessian", "L'' (M x) (M y)", "L'' (M x) y"),
    Mutation("flip a sign", "rescaling_conservation", "rescaling_conservation",
             "D (u, 0) - D (0, w)", "D (u, 0) + D (0, w)"),
    Mutation("flip a sign", "corollary2_noether_flow", "noise_covariance_identities",
             "-2 * noiseTraceComp A (fun x => g x θ)", "2 * noiseTraceComp A (fun x => g x θ)"),
    Mutation("flip the inequality", "symmetry_hessian_null_space_rank", "symmetry_hessian_null_space_rank", "*",
             "Module.finrank ℝ (LinearMap.ker (L'' : E →ₗ[ℝ] E →L[ℝ] F)) ≤ "
             "Module.finrank ℝ (LinearMap.range (v θ : G →ₗ[ℝ] E))"),
    Mutation("drop a needed hypothesis", "symmetry_hessian_null_space_rank", "symmetry_hessian_null_space_rank",
             "-hyp", "hcrit"),
    Mutation("exchange the eigenspaces", "discrete_linear_hessian_block", "discrete_linear_hessian_block",
             "L'' x y", "L'' x x"),
    Mutation("drop a needed hypothesis", "discrete_linear_hessian_block", "discrete_linear_hessian_block",
             "-hyp", "hfix"),
    Mutation("replace a side of the equivalence by True", "noether_charge_iff_symmetric",
             "noether_charge_iff_symmetric", "(A : E →ₗ[ℝ] E).IsSymmetric", "True"),
    Mutation("add a summand", "lemma1_comp_any_k", "lemma1_comp_any_k", "A x (B y)", "A x (B y) + A x (B y)"),
    Mutation("add an unsatisfiable hypothesis (the flow with its sign flipped)", "noether_charge_conserved",
             "noether_charge_conserved", "+hyp", "∀ x, inner ℝ θ' x = L' x"),
    Mutation("drop a needed hypothesis", "noether_charge_conserved", "noether_charge_conserved", "-hyp", "hsym"),
    Mutation("drop a summand", "reparam_conservation_flow", "reparam_conservation_flow",
             "W₁ s * (W₁ s)ᵀ - (W₂ s)ᵀ * W₂ s", "W₁ s * (W₁ s)ᵀ"),
    Mutation("drop a factor", "corollary3_softmax_variance", "corollary3_softmax_variance",
             "softmaxVariance (softmax (W (h φ))) (B (W (h φ)))", "softmaxVariance (softmax (W (h φ))) (W (h φ))"),
    Mutation("drop a factor", "discrete_linear_hessian_commute", "discrete_linear_hessian_commute",
             "M ∘L Hop", "Hop"),
)
"""The gate's mutants (at least 12, every kind the issue names)."""


def _replace(node: Any, old: Node, new: Node) -> tuple[Any, int]:
    if node == old:
        return new, 1
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node, 0
    count, changes = 0, {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            items = []
            for v in value:
                r, c = _replace(v, old, new)
                items.append(r)
                count += c
            changes[f.name] = tuple(items)
        elif dataclasses.is_dataclass(value):
            changes[f.name], c = _replace(value, old, new)
            count += c
    return dataclasses.replace(node, **changes), count


def mutate(m: Mutation) -> Declaration:
    """The mutant declaration: the edited statement printed as Lean and parsed again."""
    decl = declaration(m.statement)
    binders, conclusion = list(decl.binders), decl.conclusion
    if m.old == "+hyp":
        binders.append(BinderGroup("hmutant", parse_term(m.new), "("))
    elif m.old == "-hyp":
        if not any(b.name == m.new for b in binders):
            raise LookupError(f"{m.statement} has no hypothesis {m.new}")
        binders = [b for b in binders if b.name != m.new]
    elif m.old == "*":
        conclusion = parse_term(m.new)
    else:
        conclusion, count = _replace(conclusion, parse_term(m.old), parse_term(m.new))
        if count == 0:
            raise LookupError(f"{m.statement}: the subterm {m.old!r} does not occur (statement changed?)")
    edited = dataclasses.replace(decl, binders=tuple(binders), conclusion=conclusion)
    text = edited.statement
    groups, concl, _ = parse_header(tokenize(text))
    return dataclasses.replace(decl, name=f"{decl.name}~{m.kind}", binders=groups, conclusion=concl, text=text)


def refute(m: Mutation, models: list[Any], backend: Any) -> str | None:
    """Why the mutant is refuted on ``models`` (see the module docstring), or ``None`` if it survives."""
    entry: FormalClaim = formal_claim(m.claim)
    try:
        mutant = mutate(m)
    except LeanSyntaxError as error:
        return f"does not parse: {error}"
    original = declaration(m.statement)
    vacuous = 0
    try:
        for seed, model in enumerate(models):
            r = evaluate_statement(mutant, draw_binding(entry, model, backend, seed), backend, {})
            if r.vacuous:
                vacuous += 1
            elif not r.conclusion.holds:
                return f"counterexample: conclusion residual {r.conclusion.residual:.1e} on a model satisfying its hypotheses"
            elif not r.sides and r.conclusion.reason == "True":
                return "conclusion has no numerical content"
        if vacuous == len(models):
            return f"vacuous: hypotheses fail on all {len(models)} models"
        if entry.negative is not None:
            for seed, model in enumerate(models):
                bad = draw_binding(entry, model, backend, seed, negative=True)
                r = evaluate_statement(mutant, bad, backend, {})
                if not r.vacuous and not r.conclusion.holds:
                    return "a dropped hypothesis is needed: counterexample on the negative control"
                mine = evaluate_statement(mutant, bad, backend, {}, ignore=entry.violated).conclusion
                theirs = evaluate_statement(original, bad, backend, {}, ignore=entry.violated).conclusion
                if mine.holds and not theirs.holds:
                    return "does not flag the negative control the original statement flags"
    except (FormalTypeError, UnboundError) as error:
        return f"ill-typed on the instance: {error}"
    return None
