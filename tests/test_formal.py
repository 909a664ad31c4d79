"""The Lean statements themselves are the oracle: each registered theorem is read from ``lean/``,
evaluated on random models (float64 and 50 digits), must agree with the matching ``pyspec`` check, and
every textual mutation that makes it false, vacuous or weaker is refuted (pyspec.formal)."""

from __future__ import annotations

import os
import pathlib
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from pyspec.backends import get_backend
from pyspec.claims import CLAIMS, LEAN_FINGERPRINTS
from pyspec.formal.check import draw_models, evaluate_claim, formal_backend
from pyspec.formal.extract import LEAN_ROOT, StatementNotFound, clear_cache, declaration, declarations, fingerprint
from pyspec.formal.lock import current_fingerprints, stale
from pyspec.formal.mutations import MUTATIONS, mutate, refute
from pyspec.formal.registry import FORMAL, NOT_EVALUATED, formal_claim, statement_names
from pyspec.formal.syntax import App, Binop, Ident, LeanSyntaxError, Num, Postfix, Unop, parse_term, show

FULL = os.environ.get("PYSPEC_FULL") == "1"
EXAMPLES = {1: 1000, 2: 250} if FULL else {1: 200, 2: 50}
"""Models per claim in float64: 200 for first-order statements and 50 for Hessian ones in ``make test``
(the ``ci`` profile), 1000 and 250 with ``make test-full`` (``PYSPEC_FULL=1``). Float64 runs on dual
numbers (:func:`pyspec.formal.check.formal_backend`): 1–50 ms a model, 0.5 s for Corollary 3's
Hessian (``benchmarks/formal_tests.sh``, ``benchmarks/FORMAL.md``)."""


# ---------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("name", statement_names())
def test_every_registered_statement_is_read(name: str) -> None:
    try:
        decl = declaration(name)
    except (LeanSyntaxError, StatementNotFound) as error:
        pytest.fail(f"Lean statement EquivarianceToolbox.{name} cannot be read: {error}")
    assert parse_term(show(decl.conclusion)) == decl.conclusion


def test_every_declaration_under_lean_parses() -> None:
    unreadable = []
    for name in declarations():
        try:
            declaration(name)
        except LeanSyntaxError as error:
            unreadable.append(f"{name}: {error}")
    assert not unreadable, unreadable


def test_every_model_quantified_claim_is_evaluated() -> None:
    evaluated = {e.claim for e in FORMAL}
    assert {c.id for c in CLAIMS} == evaluated | set(NOT_EVALUATED)
    assert not evaluated & set(NOT_EVALUATED)
    assert all(reason for reason in NOT_EVALUATED.values())


@pytest.mark.parametrize("text, expected", [
    ("a + b * c", Binop("+", Ident("a"), Binop("*", Ident("b"), Ident("c")))),
    ("-2 * x", Binop("*", Unop("-", Num("2")), Ident("x"))),
    ("f x y ∘L g", Binop("∘L", App(Ident("f"), (Ident("x"), Ident("y"))), Ident("g"))),
    ("a - b - c", Binop("-", Binop("-", Ident("a"), Ident("b")), Ident("c"))),
    ("c • A ∘L B", Binop("•", Ident("c"), Binop("∘L", Ident("A"), Ident("B")))),
    ("(W s)ᵀ * V", Binop("*", Postfix("ᵀ", App(Ident("W"), (Ident("s"),))), Ident("V"))),
])
def test_precedence(text: str, expected) -> None:
    assert parse_term(text) == expected


def test_binders_and_filters_parse() -> None:
    t = parse_term("∀ᶠ p in 𝓝 (a, θ), f (T p.1 p.2) = S p.1 (f p.2)")
    assert show(t).startswith("∀ᶠ p in 𝓝 (a, θ),")
    assert parse_term("(fun ϑ => f (T a ϑ)) =ᶠ[𝓝 θ] fun ϑ => S a (f ϑ)") is not None
    assert parse_term("∃ μ : ℝ, Module.End.HasEigenvalue (Hop : E →ₗ[ℝ] E) μ ∧ x ≤ μ") is not None


def test_syntax_outside_the_fragment_is_named() -> None:
    with pytest.raises(LeanSyntaxError, match="unexpected"):
        parse_term("⟪x, y⟫_ℝ = 0")


# ---------------------------------------------------------------------------------------- lock


def test_statements_are_locked() -> None:
    changed = stale(LEAN_FINGERPRINTS)
    assert not changed, (f"Lean statements changed without the registry: {changed}; review them and run "
                         "`python -m pyspec.formal lock`")


def test_lock_detects_a_changed_statement(tmp_path: pathlib.Path) -> None:
    """Negative control of the lock: an edited conclusion changes the fingerprint, a comment does not."""
    root = tmp_path / "lean"
    shutil.copytree(LEAN_ROOT, root)
    path = root / "EquivarianceToolbox" / "Theorem2.lean"
    before = fingerprint("theorem2_hessian", root)
    text = path.read_text()
    path.write_text(text.replace("    L'' (T' θ x) (T' θ y) + L' θ (T'' x y) = L'' x y := by\n",
                                 "    L'' (T' θ x) (T' θ y) = L'' x y := by -- comment\n"))
    clear_cache()
    assert fingerprint("theorem2_hessian", root) != before
    path.write_text(text.replace("namespace EquivarianceToolbox", "-- a comment\nnamespace EquivarianceToolbox"))
    clear_cache()
    assert fingerprint("theorem2_hessian", root) == before
    clear_cache()
    assert set(current_fingerprints()) == set(LEAN_FINGERPRINTS)


# ---------------------------------------------------------------------------------------- properties


def test_potential_and_symmetry_decide_both_ways() -> None:
    """``∃ Q, ∀ θ, HasFDerivAt Q (B θ) θ`` is true with a witness for a symmetric ``B`` and refuted by the
    asymmetry of ``DG`` for a non-symmetric one; ``.IsSymmetric`` agrees (eq. (5), both directions)."""
    from pyspec.formal.evaluate import Binding, Evaluator
    from pyspec.formal.values import Lin, Space

    backend = formal_backend()
    C = np.random.default_rng(1).standard_normal((3, 3))
    for A, symmetric in ((C + C.T, True), (C, False)):
        ev = Evaluator(backend, Binding({"E": (3,)}, {}, np.random.default_rng(0)))
        ev.types = {"B": parse_term("E →L[ℝ] E →L[ℝ] ℝ")}
        with backend.context():
            env = {"E": Space((3,)), "B": Lin(backend.xp.asarray(A), (1, 1)), "A": Lin(backend.xp.asarray(A), (1,))}
            exists = ev.prop(parse_term("∃ Q : E → ℝ, ∀ θ, HasFDerivAt Q (B θ) θ"), env)
            symm = ev.prop(parse_term("(A : E →ₗ[ℝ] E).IsSymmetric"), env)
        assert exists.holds == symmetric == symm.holds


def _check(claim: str, model) -> None:
    entry = formal_claim(claim)
    outcome = evaluate_claim(entry, model)
    assert not outcome.vacuous, f"hypotheses fail on a valid model (vacuous?): {outcome.vacuous}"
    assert not outcome.failed, f"conclusion fails: {outcome.failed}"
    assert outcome.control_flagged, "the negative control is not flagged by the Lean conclusion"


@pytest.mark.parametrize("claim", [e.claim for e in FORMAL])
def test_lean_statement_holds_on_random_models(claim: str) -> None:
    """(a) hypotheses hold on drawn models, (b) the conclusion holds in float64, and the conclusion fails
    on the negative control (a model or point violating the hypotheses the theorem needs)."""
    entry = formal_claim(claim)

    @settings(max_examples=EXAMPLES[entry.order], suppress_health_check=list(HealthCheck), deadline=None)
    @given(entry.strategy())
    def prop(model) -> None:
        _check(claim, model)

    prop()


HP_EXAMPLES = 10 if FULL else 2
"""Models per claim at 50 digits (mpmath, 0.1–8 s a model): a fixed deterministic subset, the first
``HP_EXAMPLES`` of the claim's derandomized draw (one for the two slowest claims in ``make test``); the
float64 property test above covers the 200 / 50 models. Residual rule: ≤ 1e-40 = 10^-(digits-10)."""
_HP_SLOW = {"corollary3_last_layer", "sharpness_lower_bound"}


@pytest.mark.parametrize("claim", [e.claim for e in FORMAL])
def test_lean_statement_holds_at_50_digits(claim: str) -> None:
    entry = formal_claim(claim)
    for model in draw_models(entry, 1 if claim in _HP_SLOW and not FULL else HP_EXAMPLES):
        outcome = evaluate_claim(entry, model, precision=50, negative=False)
        assert not outcome.vacuous and not outcome.failed, (outcome.vacuous, outcome.failed)
        assert outcome.worst_residual <= 1e-40


def _pyspec_holds(claim: str, model, negative: bool) -> bool:
    """The matching pyspec check on the same model (or its negative control), called as a user calls it:
    compiled (``jit=True``, the default; the op-by-op path is held to the compiled one by
    ``tests/test_compiled_equals_eager.py``)."""
    from pyspec.applications import application_report
    from pyspec.formal.instances import broken
    from pyspec.theorem1 import theorem1
    from pyspec.theorem2 import theorem2

    xp = get_backend(None).xp
    if claim.startswith("theorem1"):
        case = broken(model) if negative else model
        report = theorem1(case.eq, case.loss, case.a(xp), case.theta(xp), check_equivariance=False)
        name = {"theorem1_key_identity": "key_identity"}.get(claim, claim.removeprefix("theorem1_"))
        return getattr(report, name).holds
    if claim.startswith("theorem2"):
        theta = model.off_fixed(xp) if negative else model.theta(xp)
        report = theorem2(model.eq, model.loss, model.a(xp), theta, check_hypotheses=False)
        return getattr(report, claim.removeprefix("theorem2_")).holds
    if claim in _PARTS:  # a claim checked as one part of another claim's report
        identity, part = _PARTS[claim]
        return getattr(application_report(identity, model, None), part).holds
    if claim == "noether_charge_iff_symmetric":
        return _charge_agrees(model)
    if claim == "noether_charge_conserved":
        from pyspec.quadratic_charge import noether_charge_conserved

        loss = lambda t, *, xp: model.loss(model.eq.model(t, xp=xp), xp=xp)  # noqa: E731
        return noether_charge_conserved(loss, model.args["generator"], model.theta(xp)).holds
    if claim == "discrete_linear_hessian_block":
        from pyspec.hessian_blocks import discrete_linear_hessian_block

        report = discrete_linear_hessian_block(model.eq, model.loss, model.a(xp), model.theta(xp))
        return all(c.holds for c in report.checks)
    return all(c.holds for c in application_report(claim, model, None).checks)


def _charge_agrees(model) -> bool:
    """Eq. (5): the Lean statement's ``∃ Q`` side has the truth of pyspec's check on the same ``A``."""
    from pyspec.formal.evaluate import Evaluator
    from pyspec.formal.registry import draw_binding
    from pyspec.quadratic_charge import noether_charge_iff_symmetric

    entry, backend = formal_claim("noether_charge_iff_symmetric"), formal_backend()
    binding = draw_binding(entry, model, backend)
    result = evaluate_claim(entry, model, negative=False).results[0]
    decl = declaration(result.name)
    ev = Evaluator(backend, binding)
    ev.types = {b.name: b.type for b in decl.binders}
    with backend.context():
        exists = ev.prop(decl.conclusion.lhs, result.env)
    A = backend.to_numpy(binding.values["A"].arr)
    return exists.holds == noether_charge_iff_symmetric(A, np.ones(len(A))).holds


_PARTS = {"symmetry_hessian_null_space_rank": ("symmetry_hessian_null_space", "kernel_dimension"),
          "corollary3_softmax_variance": ("corollary3_last_layer", "softmax_variance"),
          "reparam_conservation_flow": ("reparam_conservation", "flow"),
          "discrete_linear_hessian_commute": ("discrete_linear_hessian", "commutation")}


@pytest.mark.parametrize("claim", [e.claim for e in FORMAL if not e.claim.startswith("lemma1")])
def test_lean_statement_agrees_with_the_pyspec_check(claim: str) -> None:
    """(c) on the same models the matching pyspec check holds too; for Theorems 1 and 2 both also flag
    the negative control."""
    entry = formal_claim(claim)
    for model in draw_models(entry, 2):
        outcome = evaluate_claim(entry, model)
        assert not outcome.failed and _pyspec_holds(claim, model, False)
        if claim.startswith(("theorem1", "theorem2")):
            assert outcome.control_flagged and not _pyspec_holds(claim, model, True)


# ---------------------------------------------------------------------------------------- mutation gate


def test_the_gate_has_every_kind_of_mutation() -> None:
    kinds = " ".join(m.kind for m in MUTATIONS)
    assert len(MUTATIONS) >= 12
    for kind in ("drop a summand", "flip a sign", "swap the arguments", "exchange v and w", "True",
                 "unsatisfiable hypothesis", "drop a needed hypothesis"):
        assert kind in kinds


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: f"{m.statement}:{m.kind}")
def test_every_mutant_is_refuted(mutation) -> None:
    assert mutate(mutation).statement != declaration(mutation.statement).statement
    models = draw_models(formal_claim(mutation.claim), 2)
    reason = refute(mutation, models, formal_backend())
    assert reason is not None, f"mutant survives: {mutation}"


def test_the_original_statements_survive_the_gate() -> None:
    """Negative control of the gate: the unmutated statement is not refuted by the same procedure."""
    from pyspec.formal.mutations import Mutation

    identity = Mutation("identity", "theorem2_gradient", "theorem2_gradient", "L' ∘L J", "L' ∘L J")
    models = draw_models(formal_claim("theorem2_gradient"), 3)
    assert refute(identity, models, formal_backend()) is None


def test_claims_table_gains_the_lean_columns() -> None:
    from pyspec.claims import render_claims
    from pyspec.formal.check import formal_columns

    row = {"id": "theorem2_gradient", "lean": "EquivarianceToolbox.theorem2_gradient", "paper": "Theorem 2.1",
           "lean_status": "-", "python": "-"}
    row.update(formal_columns("theorem2_gradient", 1, 50))
    assert row["lean_evaluated"] == 1 and row["lean_worst_residual"] <= 1e-12 and row["lean_worst_residual_hp"] <= 1e-40
    text = render_claims([row], width=200)
    assert "Lean evaluated" in text and "N=1" in text and formal_columns("no_such_claim", 1) == {}


def test_numerical_rank_needs_a_gap() -> None:
    """``Module.finrank`` of a range: singular values below the tolerance are zero, above 10³ times it
    nonzero, and one in between is refused rather than counted either way."""
    from pyspec.formal.evaluate import Binding, Evaluator
    from pyspec.formal.builtins import _rank
    from pyspec.formal.values import FormalTypeError, Lin

    backend = formal_backend()
    ev = Evaluator(backend, Binding({"E": (2,)}, {}, np.random.default_rng(0)))
    with backend.context():
        def rank(*s: float) -> int:
            return _rank(ev, Lin(backend.xp.asarray(np.diag(s)), (1,)))

        assert rank(1.0, 0.5) == 2 and rank(1.0, 1e-20) == 1 and rank(0.0, 0.0) == 0
        with pytest.raises(FormalTypeError, match="ambiguous"):
            rank(1.0, 1e-11)
