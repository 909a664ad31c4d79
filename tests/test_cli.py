"""The command line's general behaviour: --version, list, help texts, exit codes, tables, progress."""

from __future__ import annotations

import argparse
import io
import json

import pytest

import pyspec
from pyspec.catalog import CATALOG
from pyspec.claims import CLAIMS
from pyspec.cli import _render_verify, main
from pyspec.experiments import EXPERIMENTS
from pyspec.listing import catalog_markdown, listing, render_listing
from pyspec.progress import Progress, format_seconds
from pyspec.verify import Row, summarize


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"pyspec {pyspec.__version__} (equivariance-toolbox)"


def test_list_shows_every_entry_identity_and_experiment(capsys) -> None:
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    for name in list(CATALOG) + [c.id for c in CLAIMS] + list(EXPERIMENTS):
        assert name in text, name
    assert main(["list", "entries", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"entries"} and [e["name"] for e in data["entries"]] == list(CATALOG)
    assert all(e["identities"] == list(CATALOG[e["name"]].identities) for e in data["entries"])
    assert main(["list", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == catalog_markdown()


def test_list_rejects_an_unknown_listing() -> None:
    with pytest.raises(ValueError, match="unknown listing"):
        listing("nope")  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as exit_:
        main(["list", "nope"])
    assert exit_.value.code == 2


def _parsers() -> list[argparse.ArgumentParser]:
    """The top-level parser and every subcommand's, built the way ``main`` builds them."""
    captured: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def capture(self, *args, **kwargs):  # record the parser instead of running a command
        captured.append(self)
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = capture  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            main([])
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
    top = captured[0]
    subs = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return [top, *subs.choices.values()]


def test_every_option_has_help_and_exit_codes_are_documented() -> None:
    parsers = _parsers()
    assert {p.prog.split()[-1] for p in parsers[1:]} >= {"verify", "claims", "list", "figures", "bench"}
    for parser in parsers:
        assert "0  every identity holds" in (parser.epilog or "") and "2  usage error" in parser.epilog, parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, f"{parser.prog} {action.option_strings or action.dest}"


def test_usage_error_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["verify", "--no-such-option"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["claims", "--precision", "many"])
    assert exit_.value.code == 2


def test_tables_fit_100_columns() -> None:
    text = render_listing(listing("all"), width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    # every identifier appears unbroken
    for name in list(CATALOG) + [c.id for c in CLAIMS]:
        assert name in text, name


def _row(entry: str, identity: str, form: str, ok: bool = True, precision: int | None = None) -> Row:
    return Row(entry=entry, identity=identity, form=form, residual=1.23e-16, tolerance=4.5e-13, holds=ok,
               negative_control=2.1e-3, negative_control_kind="broken", negative_control_flagged=True,
               dropped_term=0.31, dropped_term_flagged=True, precision=precision,
               residual_hp=3e-52 if precision else None, tolerance_hp=1e-45 if precision else None,
               holds_hp=True if precision else None, negative_control_hp=2.1e-3 if precision else None,
               negative_control_hp_flagged=True if precision else None, lhs_agreement=1e-16 if precision else None,
               verdict="holds" if ok else "fails")


@pytest.mark.parametrize("precision", [None, 50])
def test_verify_table_fits_100_columns_and_shows_every_row(precision) -> None:
    rows = [_row("scalar_homogeneous", "corollary1_gradient_in_hessian_range", "division_free", precision=precision),
            _row("scalar_homogeneous", "theorem1_hessian_quadratic", "vw", precision=precision),
            _row("nonlinear_reparameterization", "theorem1_first_order", "", ok=False, precision=precision)]
    summary = summarize(rows) | {"seconds": 1.0}
    text = _render_verify(rows, summary, precision, width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "corollary1_gradient_in_hessian_range" in text and "nonlinear_reparameterization" in text
    assert text.count("FAIL") == 1 and "1 failed" in text


def test_progress_lines_have_elapsed_and_eta() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(4, "verify", stream=stream, clock=lambda: now[0])
    for name in ("a", "b", "c", "d"):
        progress.step(name)
        now[0] += 10.0
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "verify [1/4] a  elapsed 0:00"
    assert lines[1] == "verify [2/4] b  elapsed 0:10  ETA ~0:30"
    assert lines[3] == "verify [4/4] d  elapsed 0:30  ETA ~0:10"
    assert lines[4] == "verify: done in 0:40"
    assert format_seconds(3725) == "1:02:05"


def test_verify_progress_goes_to_stderr_and_json_stays_clean(capsys) -> None:
    assert main(["verify", "--json", "--entries", "sign_flip"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert "verify [1/1] sign_flip" in captured.err and "done in" in captured.err
