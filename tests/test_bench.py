"""``pyspec bench --quick`` runs end to end (fresh subprocesses) in under a minute."""

from __future__ import annotations

import json

from pyspec import bench
from pyspec.cli import main


def test_bench_quick(tmp_path, capsys) -> None:
    # Its wall time (under a minute on 2 quiet cores) is measured in benchmarks/RESULTS.md, not
    # asserted here: a timed test fails on a loaded machine without anything being wrong.
    assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    (row,) = doc["rows"]
    for op in bench.OPERATIONS:
        assert row[op]["time_s"] > 0 and row[op]["peak_bytes"] >= 0 and row[op]["compile_s"] > 0, op
    assert row["k"] == 4 and set(row["ratios"]) >= {"c_over_a_plus_kb", "b_over_a", "d_over_e"}
    assert "Ratios against the targets" in (tmp_path / "RESULTS.md").read_text()
    assert "GPU: not measured" in capsys.readouterr().out


def test_ratios_from_a_row() -> None:
    row = {"k": 2, "grad": {"time_s": 1.0, "peak_bytes": 10}, "hvp": {"time_s": 2.0, "peak_bytes": 20},
           "theorem1": {"time_s": 6.0, "peak_bytes": 50}, "power": {"time_s": 30.0}, "sharpness": {"time_s": 2.0}}
    r = bench.ratios(row)
    assert r["c_over_a_plus_kb"] == 6.0 / 5.0 and r["b_over_a"] == 2.0 and r["d_over_e"] == 15.0
    assert r["peak_theorem1_over_grad"] == 5.0
