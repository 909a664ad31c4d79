"""``pyspec discover``: table, JSON, figures and exit codes."""

from __future__ import annotations

import json

from pyspec.cli import main


def test_discover_json_and_figures(tmp_path, capsys):
    assert main(["discover", "--architectures", "linear1,tanh2", "--json", "--figures", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["name"], r["count"], r["agrees"]) for r in rows] == [("linear1", 0, True), ("tanh2", 0, True)]
    assert (tmp_path / "discover_tanh2.png").exists() and (tmp_path / "discover_tanh2.svg").exists()


def test_discover_catalog_entry_table(capsys):
    assert main(["discover", "--architectures", "none", "--entries", "rotation_expm"]) == 0
    out = capsys.readouterr().out
    assert "rotation_expm" in out and "catalog" in out


def test_discover_unknown_names_exit_2(capsys):
    assert main(["discover", "--entries", "no_such_entry"]) == 2
    assert "no catalog entry" in capsys.readouterr().err
