"""The statement lock: :data:`pyspec.claims.LEAN_FINGERPRINTS` stores a normalized fingerprint of every
evaluated Lean statement; ``python -m pyspec.formal lock`` regenerates it after a reviewed change."""

from __future__ import annotations

import pathlib
import re

from pyspec.formal.extract import clear_cache, fingerprint
from pyspec.formal.registry import statement_names

__all__ = ["BEGIN", "END", "current_fingerprints", "stale", "write_lock"]

BEGIN = "# BEGIN LEAN FINGERPRINTS (generated: python -m pyspec.formal lock)"
END = "# END LEAN FINGERPRINTS"
CLAIMS_FILE = pathlib.Path(__file__).resolve().parent.parent / "claims.py"


def current_fingerprints() -> dict[str, str]:
    """``name -> fingerprint`` of every locked statement as it is now under ``lean/``."""
    clear_cache()
    return {name: fingerprint(name) for name in statement_names()}


def stale(locked: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """Statements whose fingerprint differs from ``locked``: ``name -> (locked, current)``."""
    now = current_fingerprints()
    return {n: (locked.get(n), now.get(n)) for n in sorted(set(now) | set(locked)) if locked.get(n) != now.get(n)}


def write_lock(path: pathlib.Path = CLAIMS_FILE) -> dict[str, str]:
    """Rewrite the fingerprint block of ``pyspec/claims.py`` (appended when absent)."""
    prints = current_fingerprints()
    body = "\n".join(f'    "{n}": "{h}",' for n, h in prints.items())
    block = (f"{BEGIN}\nLEAN_FINGERPRINTS: dict[str, str] = {{\n{body}\n}}\n"
             f'"""Fingerprint of each evaluated Lean statement (:mod:`pyspec.formal.lock`)."""\n{END}\n')
    text = path.read_text()
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n\n" + block
    path.write_text(text)
    return prints
