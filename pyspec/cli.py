"""Command line: ``pyspec verify``, ``pyspec claims``, ``pyspec bench``, ``pyspec figures`` (``python -m pyspec`` works too)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import NoReturn, Sequence

__all__ = ["main"]


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


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

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
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
    from pyspec.verify import LHS_AGREEMENT, NEGATIVE_CONTROL_FLOOR, summarize, verify

    names = args.entries.split(",") if args.entries else list(CATALOG)
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        print(f"unknown catalog entries: {', '.join(unknown)}; available: {', '.join(CATALOG)}", file=sys.stderr)
        return 2
    start = time.perf_counter()

    def progress(name: str) -> None:
        if not args.json:
            print(f"  checking {name} ...", file=sys.stderr, flush=True)

    rows = verify(names, seed=args.seed, precision=args.precision, progress=progress)
    summary = summarize(rows)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    if args.json:
        print(json.dumps({"rows": [dataclasses.asdict(r) | {"ok": r.ok} for r in rows], "summary": summary}, indent=1))
    else:
        hp = args.precision is not None
        header = f"{'entry':<30} {'identity':<28} {'form':<4} {'residual':>8} {'tol':>7} {'neg.ctrl':>8} {'dropped':>8}"
        if hp:
            header += f" {'res@' + str(args.precision):>8} {'neg@' + str(args.precision):>8} {'lhs agr':>8}"
        print(header + "  verdict")
        print("-" * len(header) + "---------")
        for r in rows:
            line = (
                f"{r.entry:<30} {r.identity:<28} {r.form:<4} {_fmt(r.residual):>8} {_fmt(r.tolerance):>7} "
                f"{_fmt(r.negative_control):>8} {_fmt(r.dropped_term):>8}"
            )
            if hp:
                line += f" {_fmt(r.residual_hp):>8} {_fmt(r.negative_control_hp):>8} {_fmt(r.lhs_agreement):>8}"
            print(line + ("  FAIL" if not r.ok else "  inconclusive" if r.verdict == "inconclusive" else "  ok"))
        print()
        for error in summary["errors"]:
            print(f"ERROR {error}")
        for r in rows:
            if r.error is None and r.verdict == "inconclusive":
                print(f"INCONCLUSIVE {r.entry} {r.identity} {r.form}: {r.reason}")
        print(
            f"{summary['entries']} entries, {summary['rows']} rows, {summary['failed']} failed, "
            f"{summary['inconclusive']} inconclusive; "
            f"worst residual {summary['worst_residual']:.1e}; weakest negative control "
            f"{summary['weakest_negative_control']:.1e} (must be >= {NEGATIVE_CONTROL_FLOOR:.0e} and flagged)"
        )
        if hp:
            print(
                f"{args.precision} digits: worst residual {summary['worst_residual_hp']:.1e}; weakest negative control "
                f"{summary['weakest_negative_control_hp']:.1e}; float64 vs {args.precision}-digit left sides agree to "
                f"{summary['worst_lhs_agreement']:.1e} (bound {LHS_AGREEMENT:.0e})"
            )
        print(f"{summary['seconds']} s")
    return 0 if summary["failed"] == 0 else 1


def _claims(args: argparse.Namespace) -> int:
    from pyspec.claims import claims_table, render_claims

    table = claims_table(measure=not args.no_measure, precision=args.precision)
    print(json.dumps(table, indent=1) if args.json else render_claims(table))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from pyspec.bench import main as bench_main

    return bench_main(args)


def _figures(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pyspec.experiments import run_experiments

    only = [name.strip() for name in args.only.split(",") if name.strip()]
    problem = _writable_folder(args.out)
    if problem is not None:
        print(f"pyspec figures: error: {problem}", file=sys.stderr)
        return 2
    try:
        outcomes = run_experiments(Path(args.out), size=args.size, only=only, seed=args.seed)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for o in outcomes:
        print(f"{'PASS' if o.passed else 'FAIL'}  {o.name:<16} {o.seconds:6.1f} s  {o.figure}")
    print(f"report: {Path(args.out) / 'REPORT.md'}")
    return 0 if all(o.passed for o in outcomes) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyspec`` console script."""
    parser = _Parser(prog="pyspec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="every catalog entry x identity with its negative control")
    v.add_argument("--json", action="store_true", help="print one JSON object (DESIGN.md §5)")
    v.add_argument("--precision", type=_precision, default=None, help="also check at this many digits (mpmath, 20-300)")
    v.add_argument("--entries", default="", help="comma-separated catalog names (default: all)")
    v.add_argument("--seed", type=int, default=0, help="seed of the catalog instances")
    v.set_defaults(run=_verify)
    c = sub.add_parser("claims", help="paper item -> Lean theorem -> Python check -> tests")
    c.add_argument("--json", action="store_true")
    c.add_argument("--no-measure", action="store_true", help="do not run the checks for the residual columns")
    c.add_argument("--precision", type=_precision, default=None, help="also measure at this many digits (20-300)")
    c.set_defaults(run=_claims)
    from pyspec.bench import add_arguments as bench_arguments

    b = sub.add_parser("bench", help="time and peak memory of the matrix-free path (benchmarks/RESULTS.md)")
    bench_arguments(b)
    for action in b._actions:  # validate --sizes up front (exit 2, one line)
        if action.dest == "sizes":
            action.type = _sizes
    b.set_defaults(run=_bench)
    f = sub.add_parser("figures", help="experiments of Sections 4-6: PNG + JSON each, and REPORT.md")
    f.add_argument("--out", required=True, help="output folder")
    f.add_argument("--size", choices=("tiny", "default", "large"), default="default",
                   help="tiny: seconds (tests); default: minutes on 2 CPU cores; large: for a GPU")
    f.add_argument("--only", default="", help="comma-separated experiment names (default: all; see pyspec.experiments)")
    f.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    f.set_defaults(run=_figures)
    args = parser.parse_args(argv)
    _enable_x64()
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
