"""The claims registry points at real Lean declarations, Python callables and tests."""

from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

from pyspec.claims import CLAIMS, claims_table, lean_status, render_claims

ROOT = pathlib.Path(__file__).resolve().parent.parent
LEAN = ROOT / "lean"
DECLARATION = re.compile(r"^\s*(?:@\[[^\]]*\]\s*)?(?:private\s+|protected\s+|noncomputable\s+)*(?:theorem|lemma|def|abbrev|structure)\s+([^\s:({\[]+)", re.M)


def lean_declarations() -> set[str]:
    """Full names of the declarations under lean/ (namespace EquivarianceToolbox)."""
    names = set()
    for path in LEAN.rglob("*.lean"):
        text = path.read_text()
        if "namespace EquivarianceToolbox" not in text:
            continue
        names |= {f"EquivarianceToolbox.{m}" for m in DECLARATION.findall(text)}
    return names


def test_ids_are_unique() -> None:
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_lean_declaration_exists(claim) -> None:
    assert claim.lean in lean_declarations(), f"{claim.lean} is not declared under lean/"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_python_callable_exists(claim) -> None:
    module, attribute = claim.python.split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_tests_exist(claim) -> None:
    for node in claim.tests:
        file, function = node.split("::")
        tree = ast.parse((ROOT / file).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert function in names, f"{node} does not exist"


def test_a_registered_name_that_does_not_exist_is_caught() -> None:
    """Negative control for the registry test itself."""
    assert "EquivarianceToolbox.theorem1_no_such_item" not in lean_declarations()
    assert "EquivarianceToolbox.theorem1_first_order" in lean_declarations()


def test_claims_table_measures_every_claim() -> None:
    """Every claim's float64 measurement (the 50-digit ones are the rows of `pyspec verify`)."""
    rows = claims_table(measure=True)
    assert len(rows) == len(CLAIMS)
    for row in rows:
        assert row["residual"] <= 1e-12, row
    text = render_claims(rows, width=100)
    assert "theorem2_hessian" in text and "EquivarianceToolbox.<id>" in text
    assert max(len(line) for line in text.splitlines()) <= 100


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.id in {"lemma1_chain", "theorem1_hessian_action", "theorem2_hessian"}], ids=lambda c: c.id)
def test_claims_high_precision_measurement(claim) -> None:
    assert claim.measure(30) <= 1e-20


def test_lean_status_is_honest(tmp_path) -> None:
    assert lean_status(tmp_path) == "not compiled"
    (tmp_path / "lake-build.log").write_text("Build completed successfully.\n")
    assert lean_status(tmp_path) == "kernel-checked"
    (tmp_path / "lake-build.log").write_text("error: unknown identifier\n")
    assert lean_status(tmp_path) == "not compiled"


def test_claims_command(capsys) -> None:
    from pyspec.cli import main

    assert main(["claims", "--no-measure"]) == 0
    text = capsys.readouterr().out
    assert "Theorem 1.2a" in text and lean_status() in text
