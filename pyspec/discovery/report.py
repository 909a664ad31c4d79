"""``pyspec discover``: the validation table of :mod:`pyspec.discovery.zoo`, catalog models, figures.

One :class:`DiscoveryRow` per model: ``n``, the count of conservation laws found (with its gap and
depth), the known count where there is one, how many quadratic laws were found and whether they
account for the count, and how many linear symmetry generators (and symmetric ones, eq. (5)).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:
    from pyspec.discovery.lie import ConservationLaws

__all__ = ["DiscoveryRow", "discover_row", "add_arguments", "run", "plot_spectrum"]


class DiscoveryRow(NamedTuple):
    """One model's discovery results (see the module docstring)."""

    name: str
    n: int
    count: int  # type: ignore[assignment]  # public field name; shadows tuple.count on purpose
    known: int | None
    source: str
    gap: float
    depth: int
    digits: int | None
    quadratic_laws: int
    quadratic_complete: bool
    symmetries: int
    charges: int
    seconds: float

    @property
    def agrees(self) -> bool | None:
        """Whether the count equals the known one (``None`` when nothing is known)."""
        return None if self.known is None else self.count == self.known


def discover_row(name: str, model: Callable[..., Any], theta: Any, inputs: Any, *, known: int | None = None,
                 source: str = "", family: str = "linear", seed: int = 0) -> tuple[DiscoveryRow, "ConservationLaws"]:
    """Count, find laws and find symmetries for one model."""
    from pyspec.discovery.generators import discover_symmetries
    from pyspec.discovery.laws import find_conserved_quantities
    from pyspec.discovery.lie import conservation_laws

    start = time.perf_counter()
    laws = conservation_laws(model, theta, inputs, seed=seed)
    quadratic = find_conserved_quantities(model, theta, inputs, count=laws.count, seed=seed)
    symmetries = discover_symmetries(model, theta, inputs, family=family, seed=seed)
    row = DiscoveryRow(
        name=name, n=laws.n, count=laws.count, known=known, source=source, gap=laws.gap, depth=laws.depth,
        digits=laws.digits, quadratic_laws=quadratic.independent, quadratic_complete=bool(quadratic.complete),
        symmetries=symmetries.count, charges=len(symmetries.charges()), seconds=time.perf_counter() - start,
    )
    return row, laws


def plot_spectrum(laws: "ConservationLaws", title: str, path: Path) -> list[Path]:
    """Singular values spanning ``Lie(W)(θ)`` (depth 1, then each bracket depth), gap marked.

    Writes ``path`` with the suffixes ``.png`` and ``.svg``; returns both paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pyspec.discovery.span import FLOAT64, mp_arithmetic

    arithmetic = FLOAT64 if laws.digits is None else mp_arithmetic(laws.digits)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    floor = 1e-18 if laws.digits is None else 10.0 ** (-laws.digits - 5)
    v = np.maximum(laws.singular_values, floor)
    ax.semilogy(np.arange(1, v.size + 1), v, "o", ms=3, label=r"depth 1: $\sigma_i(J)/\sigma_1$")
    offset = v.size
    for d, values in enumerate(laws.bracket_values, start=2):
        b = np.maximum(values, floor)
        ax.semilogy(np.arange(offset + 1, offset + b.size + 1), b, "s", ms=3, label=f"depth {d}: new bracket directions")
        offset += b.size
    ax.axhspan(arithmetic.reject, arithmetic.accept, color="0.85", label="undecided band")
    ax.set_xlabel("index")
    ax.set_ylabel("relative singular value")
    ax.set_title(f"{title}: n = {laws.n}, dim Lie(W) = {laws.rank}, {laws.count} laws (gap {laws.gap:.1e})")
    ax.legend(fontsize=7, loc="lower left")
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path.with_suffix(".png"), path.with_suffix(".svg")]
    for p in out:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pyspec discover``."""
    parser.add_argument("--architectures", default="all",
                        help="comma-separated validation architectures (default: all; 'none' for none)")
    parser.add_argument("--entries", default="", help="comma-separated catalog entries to analyse as well")
    parser.add_argument("--figures", default="", help="folder for one singular-value figure per model (PNG + SVG)")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON object")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw")


_Spec = tuple[str, Callable[..., Any], Any, Any, int | None, str, str]
"""A model to analyse: name, ``f``, ``θ``, inputs, known count, source, symmetry family."""


def _models(args: argparse.Namespace) -> list[_Spec]:
    from pyspec.backends import get_backend
    from pyspec.catalog import CATALOG
    from pyspec.discovery.zoo import ARCHITECTURES, architecture

    chosen = [] if args.architectures == "none" else (
        [a.name for a in ARCHITECTURES] if args.architectures == "all" else args.architectures.split(","))
    models: list[_Spec] = []
    for name in chosen:
        a = architecture(name)
        f, theta, inputs = a.build(args.seed)
        models.append((a.name, f, theta, inputs, a.known, a.source, "linear"))
    xp = get_backend(None, jit=False).xp
    for name in filter(None, args.entries.split(",")):
        if name not in CATALOG:
            raise KeyError(f"no catalog entry {name!r}; available: {', '.join(CATALOG)}")
        inst = CATALOG[name].build(args.seed)
        models.append((name, inst.eq.model, np.asarray(inst.theta(xp)), None, None, "catalog", "affine"))
    return models


def run(args: argparse.Namespace) -> int:
    """``pyspec discover``: exit 0 when every known count is reproduced, 1 otherwise, 2 on bad input."""
    try:
        models = _models(args)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    rows = []
    for i, (name, f, theta, inputs, known, source, family) in enumerate(models):
        if not args.json:
            print(f"  [{i + 1}/{len(models)}] {name} ...", file=sys.stderr, flush=True)
        row, laws = discover_row(name, f, theta, inputs, known=known, source=source, family=family, seed=args.seed)
        rows.append(row)
        if args.figures:
            plot_spectrum(laws, name, Path(args.figures) / f"discover_{name}")
    if args.json:
        print(json.dumps({"rows": [r._asdict() | {"agrees": r.agrees} for r in rows]}, indent=1))
    else:
        print(render(rows))
    return 0 if all(r.agrees is not False for r in rows) else 1


def render(rows: Sequence[DiscoveryRow], width: int | None = None) -> str:
    """The table for people (``rich``, readable at 100 columns)."""
    from pyspec.tables import Column, render_table

    columns = [Column("model", wrap=False)] + [Column(h, "right") for h in ("n", "laws", "known")] + [
        Column("source"), Column("gap", "right"), Column("depth", "right"), Column("quad.", "right"),
        Column("sym.", "right"), Column("eq5", "right"), Column("s", "right"), Column("ok")]
    body = [
        [r.name, r.n, r.count, "-" if r.known is None else r.known, r.source, f"{r.gap:.1e}", r.depth,
         r.quadratic_laws, r.symmetries, r.charges, f"{r.seconds:.1f}", {None: "-", True: "yes", False: "NO"}[r.agrees]]
        for r in rows
    ]
    caption = ("laws: n − dim Lie(W)(θ); quad.: independent quadratic laws found; sym.: linear symmetry "
               "generators; eq5: symmetric ones (charges ½θᵀAθ, eq. (5))")
    return render_table(columns, body, caption=caption, width=width)
