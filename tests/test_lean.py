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
