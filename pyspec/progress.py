"""Progress lines with elapsed time and ETA for long commands (``verify``, ``figures``, ``bench``).

Written to standard error, one line per step, so that standard output (tables, ``--json``) stays
clean and logs stay readable when the stream is not a terminal.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

__all__ = ["Progress", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a duration in seconds."""
    s = max(int(round(seconds)), 0)
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts steps of a known total and prints ``[ 3/17] name  elapsed 0:12  ETA 0:48``.

    The ETA is the mean time per finished step times the steps left (steps of unequal cost make it a
    rough guide: it is labelled as such by the ``~``).

    Parameters
    ----------
    total : int
        Number of steps.
    label : str
        Word printed before the counter (``"verify"``, ``"figures"``, ``"bench"``).
    stream : text stream, optional
        Default: ``sys.stderr``.
    clock : callable, optional
        Monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.done = 0

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return self.clock() - self.start

    def eta(self) -> float | None:
        """Estimated seconds left (``None`` before the first step has finished)."""
        if self.done == 0 or self.done >= self.total:
            return None if self.done == 0 else 0.0
        return self.elapsed / self.done * (self.total - self.done)

    def line(self, name: str) -> str:
        """The progress line for the step called ``name`` that is about to run."""
        width = len(str(self.total))
        eta = self.eta()
        tail = "" if eta is None else f"  ETA ~{format_seconds(eta)}"
        return (f"{self.label} [{self.done + 1:>{width}}/{self.total}] {name}  "
                f"elapsed {format_seconds(self.elapsed)}{tail}")

    def step(self, name: str) -> None:
        """Print the line of the next step (call before running it), then count the previous one."""
        print(self.line(name), file=self.stream, flush=True)
        self.done += 1

    def finish(self) -> None:
        """Print the total elapsed time."""
        print(f"{self.label}: done in {format_seconds(self.elapsed)}", file=self.stream, flush=True)
