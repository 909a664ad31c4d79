"""Static checks of the Lean sources (no Lean toolchain runs here; see README, section Lean)."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
FORBIDDEN = re.compile(r"\b(sorry|admit|native_decide)\b|^\s*axiom\b|\baxiom\s+\w+\s*:", re.M)


def lean_files() -> list[pathlib.Path]:
    return sorted((ROOT / "lean").rglob("*.lean"))


def test_no_placeholders_or_axioms() -> None:
    offenders = []
    for path in lean_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_forbidden_pattern_catches_placeholders() -> None:
    """Negative control for the scan."""
    for bad in ("  sorry", "exact sorry", "axiom foo : False", "  admit", "by native_decide"):
        assert FORBIDDEN.search(bad), bad
    assert not FORBIDDEN.search("theorem sorrow_free : True := trivial")


def test_every_module_is_imported_by_the_root() -> None:
    root = (ROOT / "lean" / "EquivarianceToolbox.lean").read_text()
    for path in (ROOT / "lean" / "EquivarianceToolbox").rglob("*.lean"):
        module = "EquivarianceToolbox." + ".".join(path.relative_to(ROOT / "lean" / "EquivarianceToolbox").with_suffix("").parts)
        assert f"import {module}" in root, module


def test_pin() -> None:
    assert (ROOT / "lean-toolchain").read_text().strip() == "leanprover/lean4:v4.31.0"
    lakefile = (ROOT / "lakefile.lean").read_text()
    assert '@ "v4.31.0"' in lakefile and 'srcDir := "lean"' in lakefile
    assert not (ROOT / "lake-manifest.json").exists()


def test_every_declaration_has_a_docstring() -> None:
    """Each theorem/lemma/def is directly preceded (attributes aside) by a ``/-- … -/`` docstring."""
    decl = re.compile(r"^(?:private |protected |noncomputable )*(theorem|lemma|def|abbrev)\s")
    missing = []
    for path in lean_files():
        text = path.read_text()
        assert "/-!" in text, f"{path.name}: no module docstring"
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not decl.match(line):
                continue
            j = i - 1
            while j >= 0 and lines[j].lstrip().startswith("@["):
                j -= 1
            k = j
            while k >= 0 and "/--" not in lines[k] and "-/" not in lines[k][:-2]:
                k -= 1
            if j < 0 or not lines[j].rstrip().endswith("-/") or k < 0 or "/--" not in lines[k]:
                missing.append(f"{path.name}:{i + 1}")
    assert not missing, missing


# --- pin of the toolchain (issue 11) ---------------------------------------------------------------------

MATHLIB_PIN = {
    "tag": "v4.31.0",
    "commit": "fabf563a7c95a166b8d7b6efca11c8b4dc9d911f",
    "toolchain": "leanprover/lean4:v4.31.0",
}
"""Mathlib's own ``lean-toolchain`` at the pinned commit. Provenance: ``git show
fabf563a7c95a166b8d7b6efca11c8b4dc9d911f:lean-toolchain`` in a clone of leanprover-community/mathlib4
(the commit "chore: bump toolchain to v4.31.0 (#40633)", 2026-06-15, which the tag ``v4.31.0`` names)
prints ``leanprover/lean4:v4.31.0``. The test cannot read Mathlib, so the value is recorded here."""


def test_toolchain_is_mathlibs_toolchain_at_the_pin() -> None:
    """``lean-toolchain`` equals Mathlib's at the pinned commit, and the lakefile's tag and its
    tag = commit comment agree with the recorded pin."""
    assert (ROOT / "lean-toolchain").read_text().strip() == MATHLIB_PIN["toolchain"]
    lakefile = (ROOT / "lakefile.lean").read_text()
    assert re.search(r'^require mathlib from git\s*\n\s*"https://github.com/leanprover-community/mathlib4"'
                     rf' @ "{re.escape(MATHLIB_PIN["tag"])}"\s*$', lakefile, re.M)
    comment = re.search(r"^-- Mathlib tag (\S+) = commit ([0-9a-f]{40})$", lakefile, re.M)
    assert comment and comment.groups() == (MATHLIB_PIN["tag"], MATHLIB_PIN["commit"])
    readme = (ROOT / "README.md").read_text()
    assert "lake exe cache get && lake build" in readme and MATHLIB_PIN["commit"] in readme


# --- statement guard: lean/EquivarianceToolbox/Claims.lean (issue 11) -------------------------------------

CLAIMS_LEAN = ROOT / "lean" / "EquivarianceToolbox" / "Claims.lean"
CLAIM_EXAMPLE = re.compile(r"^-- claim: (?P<id>\w+) .*\nexample\b(?:(?!\nexample\b)[\s\S])*?:=\n  (?P<head>\w+)\b", re.M)


def claims_guard_problems(text: str, ids: list[str]) -> list[str]:
    """Why ``text`` (Claims.lean) fails to give exactly one ``example`` per claim id, each closed by the
    theorem of that id (empty when it does)."""
    found = [(m["id"], m["head"]) for m in CLAIM_EXAMPLE.finditer(text)]
    problems = [f"example for {i} is closed by {h}, not by {i}" for i, h in found if i != h]
    tagged = [i for i, _ in found]
    problems += [f"no example for claim {i}" for i in ids if i not in tagged]
    problems += [f"{tagged.count(i)} examples for claim {i}" for i in set(tagged) if tagged.count(i) > 1]
    problems += [f"example for unregistered claim {i}" for i in set(tagged) - set(ids)]
    if len(re.findall(r"^example\b", text, re.M)) != len(found):
        problems.append("an example without its `-- claim: <id>` line")
    return problems


def test_claims_lean_has_one_example_per_claim() -> None:
    from pyspec.claims import CLAIMS

    text = CLAIMS_LEAN.read_text()
    assert not claims_guard_problems(text, [c.id for c in CLAIMS]), claims_guard_problems(text, [c.id for c in CLAIMS])
    assert "import EquivarianceToolbox.Claims" in (ROOT / "lean" / "EquivarianceToolbox.lean").read_text()


def test_claims_guard_catches_a_missing_or_wrong_example() -> None:
    """Negative control for the scan: a dropped example, a wrong closing theorem and a duplicate."""
    from pyspec.claims import CLAIMS

    ids = [c.id for c in CLAIMS]
    text = CLAIMS_LEAN.read_text()
    first = CLAIM_EXAMPLE.search(text)
    assert first is not None
    dropped = text[: first.start()] + text[first.end():].split("\n\n", 1)[1]
    assert any("no example for claim" in p for p in claims_guard_problems(dropped, ids))
    wrong = text.replace(f"\n  {first['head']} ", "\n  theorem1_no_such_item ", 1)
    assert any("closed by theorem1_no_such_item" in p for p in claims_guard_problems(wrong, ids))
    assert any("2 examples" in p for p in claims_guard_problems(text + "\n" + first.group(0), ids))


_BRACKETS = {"(": ")", "[": "]", "{": "}", "⦃": "⦄", "⟨": "⟩"}


def theorem_signature(text: str, name: str) -> str | None:
    """The text between ``theorem <name>`` and the ``:=`` that ends its statement, or ``None``."""
    m = re.search(rf"^(?:private |protected )*theorem {re.escape(name)}(?=[\s(\[{{⦃:])", text, re.M)
    if m is None:
        return None
    depth, j = 0, m.end()
    while j < len(text):
        c = text[j]
        if c in _BRACKETS:
            depth += 1
        elif c in _BRACKETS.values():
            depth -= 1
        elif depth == 0 and text.startswith(":=", j):
            return text[m.end():j]
        j += 1
    return None


def normalize_statement(signature: str) -> str:
    """Whitespace-insensitive form; ``Tθ.symm`` and ``(ContinuousLinearEquiv.symm Tθ)`` are the same term."""
    signature = re.sub(r"\(ContinuousLinearEquiv\.symm (\w+)\)", r"\1.symm", signature)
    return re.sub(r"\s+", " ", signature).strip()


def test_claims_lean_restates_each_theorem_verbatim() -> None:
    """Each ``example`` has exactly the statement of its theorem, so that the Python suite (which runs
    without Lean) already flags a theorem whose statement drifted from its guard."""
    from pyspec.claims import CLAIMS

    sources = {p: p.read_text() for p in (ROOT / "lean" / "EquivarianceToolbox").glob("*.lean") if p != CLAIMS_LEAN}
    text = CLAIMS_LEAN.read_text()
    examples = {m["id"]: m.group(0) for m in CLAIM_EXAMPLE.finditer(text)}
    drift = []
    for claim in CLAIMS:
        found = [sig for src in sources.values() if (sig := theorem_signature(src, claim.id)) is not None]
        assert len(found) == 1, f"{claim.id}: {len(found)} theorems of that name"
        example = examples[claim.id].split("\nexample", 1)[1].rsplit(":=", 1)[0]
        if normalize_statement(example) != normalize_statement(found[0]):
            drift.append(claim.id)
    assert not drift, f"Claims.lean no longer restates: {drift}"


def test_statement_drift_is_caught() -> None:
    """Negative control: a hypothesis added to a theorem's statement is flagged as drift."""
    source = "theorem foo_bar {x : ℕ} (h : x = 1) : x + 0 = 1 := by simp [h]"
    sig = theorem_signature(source, "foo_bar")
    assert sig is not None and normalize_statement(sig) == "{x : ℕ} (h : x = 1) : x + 0 = 1"
    changed = theorem_signature(source.replace("(h : x = 1)", "(h : x = 1) (h' : 0 < x)"), "foo_bar")
    assert changed is not None and normalize_statement(changed) != normalize_statement(sig)
    assert normalize_statement("(ContinuousLinearEquiv.symm Tθ) : E") == normalize_statement("Tθ.symm : E")
