"""``pyspec list``: the catalog entries, the identity ids and the experiments, as tables or JSON.

:func:`catalog_markdown` is also the README's catalog table (``tests/test_readme.py`` checks that the
README shows exactly it).
"""

from __future__ import annotations

from typing import Any, Literal

from pyspec.tables import Column, render_table

__all__ = ["WHAT", "Listing", "catalog_markdown", "listing", "render_listing"]

Listing = Literal["entries", "identities", "experiments", "all"]
WHAT: tuple[Listing, ...] = ("entries", "identities", "experiments", "all")
"""What ``pyspec list`` can show."""

_THEOREM = {"continuous": "Theorem 1", "discrete": "Theorem 2"}


def _entries() -> list[dict[str, Any]]:
    from pyspec.catalog import CATALOG

    return [{"name": e.name, "kind": e.kind, "theorem": _THEOREM[e.kind], "description": e.description,
             "identities": list(e.identities), "applications": list(e.applications)} for e in CATALOG.values()]


def _identities() -> list[dict[str, Any]]:
    from pyspec.claims import CLAIMS

    return [{"id": c.id, "paper": c.paper, "statement": c.statement, "python": c.python, "lean": c.lean}
            for c in CLAIMS]


def _experiments() -> list[dict[str, Any]]:
    from pyspec.experiments import EXPERIMENTS

    return [{"name": name, "title": m.TITLE, "paper": m.PAPER} for name, m in EXPERIMENTS.items()]


def listing(what: Listing = "all") -> dict[str, list[dict[str, Any]]]:
    """The rows of ``pyspec list`` (``--json`` prints this object).

    Parameters
    ----------
    what : {"entries", "identities", "experiments", "all"}

    Raises
    ------
    ValueError
        Unknown ``what``.
    """
    if what not in WHAT:
        raise ValueError(f"unknown listing {what!r}; choose one of {', '.join(WHAT)}")
    makers = {"entries": _entries, "identities": _identities, "experiments": _experiments}
    return {name: make() for name, make in makers.items() if what in (name, "all")}


def render_listing(data: dict[str, list[dict[str, Any]]], width: int | None = None) -> str:
    """The tables of :func:`listing` as text."""
    parts = []
    if "entries" in data:
        parts.append(render_table(
            [Column("entry", wrap=False), Column("checks", wrap=False),
             Column("model and equivariance (+ applications of §§4–6)", min_width=40)],
            [(r["name"], r["theorem"], r["description"] + "".join(f"\n  + {a}" for a in r["applications"]))
             for r in data["entries"]],
            title=f"Catalog entries ({len(data['entries'])}): pyspec verify --entries NAME", width=width))
    if "identities" in data:
        parts.append(render_table(
            [Column("id", wrap=False), Column("paper item"), Column("statement")],
            [(r["id"], r["paper"], r["statement"]) for r in data["identities"]],
            title=f"Identities ({len(data['identities'])}): Lean EquivarianceToolbox.<id>, docs/theory.md",
            width=width))
    if "experiments" in data:
        parts.append(render_table(
            [Column("experiment", wrap=False), Column("what it measures"), Column("ids")],
            [(r["name"], r["title"], r["paper"]) for r in data["experiments"]],
            title=f"Experiments ({len(data['experiments'])}): pyspec figures --only NAME", width=width))
    return "\n\n".join(parts)


def catalog_markdown() -> str:
    """The catalog as a Markdown table (entry, theorem checked, model and equivariance)."""
    lines = ["| entry | checks | model and equivariance |", "|---|---|---|"]
    for r in _entries():
        lines.append(f"| `{r['name']}` | {r['theorem']} | {r['description']} |")
    return "\n".join(lines)
