"""`pyspec verify` (the main job) and its JSON contract (docs/design.md#verify-json)."""

from __future__ import annotations

import json

import pytest

from pyspec import verify as verify_module
from pyspec.catalog import CATALOG, Entry
from pyspec.cli import main

SUBSET = "last_layer_gl,mirror_symmetry"
STABLE_ROW_KEYS = {"entry", "identity", "residual", "tolerance", "holds", "negative_control", "negative_control_flagged"}


def test_verify_json_contract(capsys) -> None:
    assert main(["verify", "--json", "--entries", SUBSET]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"rows", "summary"}
    assert {"entries", "rows", "failed", "worst_residual"} <= set(out["summary"])
    assert out["summary"]["entries"] == 2 and out["summary"]["failed"] == 0
    # Theorem 1 (6) + Corollary 3 (2 parts); Theorem 2 (2) + eqs. (8)-(9) (1 + 2) + Corollary 4 (3)
    assert out["summary"]["rows"] == len(out["rows"]) == 6 + 2 + 2 + 3 + 3
    for row in out["rows"]:
        assert STABLE_ROW_KEYS <= set(row)
        assert row["holds"] and row["negative_control_flagged"] and row["residual"] <= 1e-10
        assert row["negative_control"] >= 1e-6


def test_verify_high_precision_json(capsys) -> None:
    assert main(["verify", "--json", "--precision", "50", "--entries", SUBSET]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["worst_residual_hp"] <= 1e-40
    assert out["summary"]["worst_lhs_agreement"] <= 1e-12
    for row in out["rows"]:
        assert row["precision"] == 50 and row["residual_hp"] <= 1e-40
        assert row["negative_control_hp"] >= 1e-6 and row["negative_control_hp_flagged"]


def test_verify_table_and_exit_code(capsys) -> None:
    assert main(["verify", "--entries", "mirror_symmetry"]) == 0
    text = capsys.readouterr().out
    assert "theorem2_hessian" in text and "0 failed" in text


def test_verify_exits_nonzero_when_an_identity_fails(monkeypatch, capsys) -> None:
    """A catalog entry whose model is not equivariant makes verify fail (exit 1)."""
    good = CATALOG["polynomial_homogeneous"]

    def build(seed: int):
        instance = good.build(seed)
        eq = instance.eq.replace(S=lambda a, y, *, xp: a[0] ** 2 * y)  # wrong degree
        return type(instance)(eq=eq, loss=instance.loss, a=instance.a, theta=instance.theta)

    monkeypatch.setitem(verify_module.CATALOG, "wrong_degree", Entry("wrong_degree", "p = 2 claimed for a cubic", "continuous", build))
    # --jobs 1: the monkeypatched entry exists in this process only
    assert main(["verify", "--jobs", "1", "--entries", "wrong_degree,mirror_symmetry"]) == 1
    text = capsys.readouterr().out
    assert "ERROR wrong_degree: EquivarianceError" in text and "4 failed" in text
    assert main(["verify", "--jobs", "1", "--json", "--entries", "wrong_degree"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["failed"] == 4 and all(not row["ok"] and row["error"] for row in out["rows"])


def test_parallel_verify_gives_the_rows_of_the_sequential_one() -> None:
    """``jobs=2`` (two spawned processes) returns the same rows, in the same order, as ``jobs=1``."""
    names = SUBSET.split(",")
    called: list[str] = []
    parallel = verify_module.verify(names, jobs=2, progress=called.append)
    assert called == names
    assert parallel == verify_module.verify(names, jobs=1)


def test_jobs_must_be_positive(capsys) -> None:
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        verify_module.verify(["mirror_symmetry"], jobs=0)
    with pytest.raises(SystemExit) as exit_:
        main(["verify", "--jobs", "0"])
    assert exit_.value.code == 2 and "--jobs must be a positive integer" in capsys.readouterr().err


def test_verify_unknown_entry(capsys) -> None:
    assert main(["verify", "--entries", "nope"]) == 2
    assert "unknown catalog entries" in capsys.readouterr().err


def test_exactly_vacuous_at_high_precision_is_consistent_only_with_a_float64_pass() -> None:
    """Eq. (12) at a realizable minimum is 0 = 0 exactly at 50 digits (∇ℓ = 0): the row is ok when the
    float64 check holds; the same 0 = 0 beside a float64 failure, or an inconclusive 50-digit check that
    is not vacuous, is not."""
    row = verify_module.Row(entry="e", identity="theorem1_first_order", form="", residual=1e-17, tolerance=3e-13,
                            holds=True, negative_control=2e-3, negative_control_kind="broken",
                            negative_control_flagged=True, precision=50, residual_hp=0.0, tolerance_hp=1e-40,
                            holds_hp=None, vacuous_hp=True, negative_control_hp=2e-3, negative_control_hp_flagged=True,
                            lhs_agreement=0.0, verdict="holds")
    assert row.ok
    row.verdict, row.holds = "fails", False
    assert not row.ok
    row.verdict, row.holds, row.vacuous_hp = "holds", True, False
    assert not row.ok
