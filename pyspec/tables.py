"""Tables for people: rendered with ``rich`` to fit the terminal (100 columns when not a terminal).

Machine output (``--json``) never goes through here.
"""

from __future__ import annotations

import io
import shutil
from typing import Any, Sequence

__all__ = ["Column", "DEFAULT_WIDTH", "render_table", "terminal_width"]

DEFAULT_WIDTH = 100
"""Width used when standard output is not a terminal (pipes, logs, CI) and ``COLUMNS`` is unset."""


class Column:
    """One column: its header, alignment, and whether its cells may wrap.

    Identifiers (catalog names, ids) do not wrap (``wrap=False``, folded only if the table cannot fit
    otherwise); prose columns wrap at spaces.
    """

    def __init__(self, header: str, justify: str = "left", wrap: bool = True, min_width: int | None = None) -> None:
        self.header = header
        self.justify = justify
        self.wrap = wrap
        self.min_width = min_width


def terminal_width() -> int:
    """The terminal's width, ``COLUMNS``, or :data:`DEFAULT_WIDTH`."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]], title: str | None = None,
                 caption: str | None = None, width: int | None = None) -> str:
    """Render ``rows`` under ``columns`` as text of at most ``width`` columns (default: the terminal's)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0),
                  title_justify="left", caption_justify="left", show_edge=False)
    for c in columns:
        table.add_column(c.header, justify=c.justify, no_wrap=not c.wrap, min_width=c.min_width,  # type: ignore[arg-type]
                         overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or terminal_width(), force_terminal=False, no_color=True,
                      highlight=False, emoji=False, markup=False, soft_wrap=False)
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
