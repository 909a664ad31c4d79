"""Command line: ``pyspec verify``, ``claims``, ``list``, ``figures``, ``bench`` (``python -m pyspec`` works too).

Tables go to standard output; progress, elapsed time and ETA go to standard error, so that standard
output, and ``--json`` in particular, stays clean.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any, NoReturn, Sequence

if TYPE_CHECKING:
    from pyspec.verify import Row

__all__ = ["EXIT_CODES", "main"]

EXIT_CODES = """exit codes:
  0  every identity holds and every negative control is flagged
  1  an identity failed (or a control was not flagged, or an experiment missed its tolerance)
  2  usage error (unknown option, catalog entry or experiment; a missing optional dependency)"""


MAX_DEFAULT_JOBS = 8
"""Most processes ``verify`` starts by default (each imports JAX and compiles its own programs);
``--jobs`` sets any number."""


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def _jobs(text: str) -> int:
    """``--jobs``: a positive integer (else exit 2, one line)."""
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be a positive integer, got {text!r}")
    return jobs


def _precision(text: str) -> int:
    """``--precision``: an integer number of digits in the supported range (else exit 2, one line)."""
    from pyspec.backends import MAX_PRECISION, MIN_PRECISION

    try:
        digits = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer number of digits, got {text!r}") from None
    if not MIN_PRECISION <= digits <= MAX_PRECISION:
        raise argparse.ArgumentTypeError(f"must be from {MIN_PRECISION} to {MAX_PRECISION} digits, got {digits}")
    return digits


def _sizes(text: str) -> str:
    """``bench --sizes``: comma-separated positive parameter counts (``1e4,1e5``), else exit 2."""
    for part in text.split(",") if text else ():
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated parameter counts like 1e4,1e5, got {part!r}") from None
        if not (value >= 1 and value == int(value)):
            raise argparse.ArgumentTypeError(f"parameter counts must be positive integers, got {part!r}")
    return text


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _writable_folder(path: str) -> str | None:
    """Why ``path`` cannot be used as an output folder (``None`` when it can: created if missing)."""
    from pathlib import Path

    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".pyspec-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        return f"cannot write to the output folder {path!r}: {error.strerror or error}"
    return None


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1e}"


def _verify(args: argparse.Namespace) -> int:
    from pyspec.catalog import CATALOG
    from pyspec.progress import Progress
    from pyspec.verify import summarize, verify

    names = args.entries.split(",") if args.entries else list(CATALOG)
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        print(f"unknown catalog entries: {', '.join(unknown)}; available: {', '.join(CATALOG)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    progress = Progress(len(names), "verify")
    jobs = args.jobs if args.jobs is not None else min(os.cpu_count() or 1, MAX_DEFAULT_JOBS)
    rows = verify(names, seed=args.seed, precision=args.precision, progress=progress.step, certify=args.certify,
                  jobs=jobs)
    progress.finish()
    summary = summarize(rows)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    if args.json:
        print(json.dumps({"rows": [dataclasses.asdict(r) | {"ok": r.ok} for r in rows], "summary": summary}, indent=1))
    else:
        print(_render_verify(rows, summary, args.precision, certify=args.certify))
    return 0 if summary["failed"] == 0 else 1


def _render_verify(
    rows: Sequence[Row], summary: dict[str, Any], precision: int | None, width: int | None = None,
    certify: int | None = None,
) -> str:
    """The verify table (one block of rows per entry) and its summary lines."""
    from pyspec.certify import certified_summary
    from pyspec.tables import Column, render_table, terminal_width
    from pyspec.verify import LHS_AGREEMENT, NEGATIVE_CONTROL_FLOOR

    hp = precision is not None
    # At high precision three more columns must fit in 100: the table rounds to one digit there and
    # abbreviates the headers (the caption spells them out; the JSON keeps every digit).
    fmt = (lambda x: "-" if x is None else f"{x:.0e}") if hp else _fmt
    heads = ("res", "tol", "neg", "drop") if hp else ("residual", "tol", "neg.ctrl", "dropped")
    columns = [Column("entry / identity (form)", min_width=38)] + [Column(h, "right") for h in heads]
    if hp:
        columns += [Column(f"res@{precision}", "right"), Column(f"neg@{precision}", "right"), Column("agr", "right")]
    if certify is not None:
        columns += [Column("bound", "right"), Column("ctrl", "right")]
    columns.append(Column("verdict" if not hp else "", wrap=False))
    caption = None if not hp else (
        f"res: float64 residual; tol: its tolerance; neg: negative control; drop: smallest residual with one "
        f"term dropped; res@{precision}, neg@{precision}: the same at {precision} digits; agr: float64 vs "
        f"{precision}-digit left sides.")
    if certify is not None:
        caption = (caption + " " if caption else "") + (
            f"bound@{certify}: rigorous bound on the residual in ball arithmetic at {certify} digits; ctrl: "
            "whether the negative control's violation is proved.")
    body: list[list[str]] = []
    entry = None
    for r in rows:
        if r.entry != entry:
            entry = r.entry
            body.append([entry] + [""] * (len(columns) - 1))
        name = f"  {r.identity}" + (f" ({r.form})" if r.form else "")
        cells = [name, fmt(r.residual), fmt(r.tolerance), fmt(r.negative_control), fmt(r.dropped_term)]
        if hp:
            cells += [fmt(r.residual_hp), fmt(r.negative_control_hp), fmt(r.lhs_agreement)]
        if certify is not None:
            cells += [fmt(r.residual_bound), {True: "proved", False: "NOT", None: "-"}[r.negative_control_certified]]
        body.append(cells + ["FAIL" if not r.ok else "inconclusive" if r.verdict == "inconclusive" else "ok"])
    lines = [render_table(columns, body, caption=caption, width=width), ""]
    lines += [f"ERROR {error}" for error in summary["errors"]]
    lines += [f"INCONCLUSIVE {r.entry} {r.identity} {r.form}: {r.reason}" for r in rows
              if r.error is None and r.verdict == "inconclusive"]
    lines.append(
        f"{summary['entries']} entries, {summary['rows']} rows, {summary['failed']} failed, "
        f"{summary['inconclusive']} inconclusive; "
        f"worst residual {summary['worst_residual']:.1e}; weakest negative control "
        f"{summary['weakest_negative_control']:.1e} (must be >= {NEGATIVE_CONTROL_FLOOR:.0e} and flagged)"
    )
    if hp:
        lines.append(
            f"{precision} digits: worst residual {summary['worst_residual_hp']:.1e}; weakest negative control "
            f"{summary['weakest_negative_control_hp']:.1e}; float64 vs {precision}-digit left sides agree to "
            f"{summary['worst_lhs_agreement']:.1e} (bound {LHS_AGREEMENT:.0e})"
        )
    if certify is not None:
        lines.append(certified_summary(summary).strip())
    lines.append(f"{summary['seconds']} s")
    wrap = width or terminal_width()
    return "\n".join(lines[:1] + [textwrap.fill(line, wrap, subsequent_indent="  ") for line in lines[1:]])


def _claims(args: argparse.Namespace) -> int:
    from pyspec.claims import CLAIMS, claims_table, render_claims
    from pyspec.progress import Progress

    progress = Progress(len(CLAIMS), "claims")
    table = claims_table(measure=not args.no_measure, precision=args.precision, progress=progress.step,
                         lean_models=0 if args.no_measure else args.lean_models)
    if not args.no_measure:
        progress.finish()
    print(json.dumps(table, indent=1) if args.json else render_claims(table))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from pyspec.bench import main as bench_main

    return bench_main(args)


def _figures(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pyspec.experiments import EXPERIMENTS, run_experiments
    from pyspec.experiments.common import pyplot
    from pyspec.progress import Progress

    only = [name.strip() for name in args.only.split(",") if name.strip()]
    problem = _writable_folder(args.out)
    if problem is not None:
        print(f"pyspec figures: error: {problem}", file=sys.stderr)
        return 2
    progress = Progress(len(only or EXPERIMENTS), "figures")

    def report(done: int, total: int, name: str, seconds: float | None) -> None:
        if seconds is None:
            progress.step(name)

    try:
        pyplot()  # fail before any work when the `figures` extra is missing
        outcomes = run_experiments(Path(args.out), size=args.size, only=only, seed=args.seed, progress=report)
    except (ValueError, ImportError) as error:
        print(error, file=sys.stderr)
        return 2
    progress.finish()
    for o in outcomes:
        print(f"{o.verdict:<12}  {o.name:<16} {o.seconds:6.1f} s  {o.figure}")
    print(f"report: {Path(args.out) / 'REPORT.md'}")
    return 0 if all(o.passed for o in outcomes) else 1


def _counterexamples(args: argparse.Namespace) -> int:
    from pyspec.counterexamples import main as counterexamples_main

    return counterexamples_main(args)


def _discover(args: argparse.Namespace) -> int:
    from pyspec.discovery.report import run

    return run(args)


def _list(args: argparse.Namespace) -> int:
    from pyspec.listing import catalog_markdown, listing, render_listing

    if args.markdown:
        print(catalog_markdown())
        return 0
    data = listing(args.what)
    print(json.dumps(data, indent=1) if args.json else render_listing(data))
    return 0


def _version() -> str:
    from pyspec import __version__

    return f"pyspec {__version__} (equivariance-toolbox)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyspec`` console script; returns the exit code (see :data:`EXIT_CODES`)."""
    parser = _Parser(prog="pyspec", description=__doc__, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    v = command("verify", "every catalog entry x identity with its negative control (exit 1 on any failure)")
    v.add_argument("--json", action="store_true",
                   help="print one JSON object {rows, summary} instead of the table (docs/design.md#verify-json)")
    v.add_argument("--precision", type=_precision, default=None, metavar="D",
                   help="also check every row at D digits (mpmath, exact derivatives; 20 to 300)")
    v.add_argument("--entries", default="", metavar="A,B",
                   help="comma-separated catalog names (default: all; see pyspec list entries)")
    v.add_argument("--seed", type=int, default=0, help="seed of the catalog instances (default 0)")
    v.add_argument("--certify", type=_precision, default=None, metavar="D",
                   help="also check in ball arithmetic at D digits (needs [certify]): a rigorous bound on each "
                        "residual, and whether each negative control's violation is proved")
    v.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="entries verified at once, one process each (default: the number of CPU cores, at most 8)")
    v.set_defaults(run=_verify)
    c = command("claims", "the claims registry: paper item -> id (Lean declaration) -> Python check -> residuals")
    c.add_argument("--json", action="store_true",
                   help="print the registry as a JSON list (with statements, Python callables and tests)")
    c.add_argument("--no-measure", action="store_true", help="do not run the checks for the residual columns")
    c.add_argument("--precision", type=_precision, default=None, metavar="D", help="also measure at D digits (20 to 300)")
    c.add_argument("--lean-models", type=int, default=20, metavar="N",
                   help="evaluate each Lean statement's own text on N random models (pyspec.formal; default 20)")
    c.set_defaults(run=_claims)
    ls = command("list", "the catalog entries, the identity ids and the experiments")
    ls.add_argument("what", nargs="?", default="all", choices=("entries", "identities", "experiments", "all"),
                    help="what to list (default: all)")
    ls.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    ls.add_argument("--markdown", action="store_true", help="print the catalog as the README's Markdown table")
    ls.set_defaults(run=_list)
    from pyspec.bench import add_arguments as bench_arguments

    b = command("bench", "time and peak memory of the matrix-free path (benchmarks/RESULTS.md)")
    bench_arguments(b)
    for action in b._actions:  # validate --sizes up front (exit 2, one line)
        if action.dest == "sizes":
            action.type = _sizes
    b.set_defaults(run=_bench)
    f = command("figures", "experiments of Sections 4-6: PNG, PDF and JSON each, and REPORT.md (needs [figures])")
    f.add_argument("--out", required=True, help="output folder")
    f.add_argument("--size", choices=("tiny", "default", "large"), default="default",
                   help="tiny: seconds (tests); default: minutes on 2 CPU cores; large: for a GPU")
    f.add_argument("--only", default="", metavar="A,B",
                   help="comma-separated experiment names (default: all; see pyspec list experiments)")
    f.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    f.set_defaults(run=_figures)
    x = command("counterexamples", "certified counterexamples to the paper's statements that the project corrects")
    x.add_argument("--json", action="store_true", help="print the instances and enclosures as one JSON object")
    x.set_defaults(run=_counterexamples)
    from pyspec.discovery.report import add_arguments as discover_arguments

    d = command("discover", "count, find and check the conservation laws and symmetries of models (pyspec.discovery)")
    discover_arguments(d)
    d.set_defaults(run=_discover)
    args = parser.parse_args(argv)
    if args.command in ("verify", "claims"):  # compile-bound: many small programs, each run a few times
        from pyspec.backends.xla_flags import prefer_fast_compilation

        prefer_fast_compilation()
    _enable_x64()
    try:
        return int(args.run(args))
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped: not an error of the command
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
