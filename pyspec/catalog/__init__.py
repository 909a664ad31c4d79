"""The built-in catalog of equivariances (docs/design.md#catalog): continuous entries for Theorem 1 and
discrete entries for Theorem 2, each with a loss and exact points in any precision, and the paper's
applications (§§4–6) checked on each (``Entry.applications``)."""

from __future__ import annotations

from pyspec.catalog import applied, continuous, discrete
from pyspec.catalog.base import Entry, Instance, orthonormal_columns, unpack

__all__ = ["CATALOG", "Entry", "Instance", "entry", "orthonormal_columns", "unpack"]

CATALOG: dict[str, Entry] = {e.name: e for e in continuous.ENTRIES + applied.ENTRIES + discrete.ENTRIES}
"""Every entry by name."""


def entry(name: str) -> Entry:
    """The catalog entry called ``name``."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"no catalog entry {name!r}; available: {', '.join(CATALOG)}") from None
