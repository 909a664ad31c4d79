"""Shared pieces of the experiments: result rows, output files, figure style, small JAX helpers.

Every experiment returns an :class:`Outcome`: rows of *prediction against measurement* with a stated
tolerance and a verdict, plus the paths of the PNG and the JSON of its numbers. The numbers in
``REPORT.md`` are formatted from these rows, never typed by hand.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import jax
import numpy as np

__all__ = [
    "EPS",
    "Outcome",
    "Row",
    "check_row",
    "dense_hessian",
    "fmt",
    "hvp",
    "info_row",
    "new_figure",
    "overall_verdict",
    "pyplot",
    "relative",
    "save_figure",
    "save_json",
    "to_jsonable",
]

EPS = float(np.finfo(np.float64).eps)
"""float64 machine epsilon (the experiments run in float64)."""


@dataclasses.dataclass(frozen=True)
class Row:
    """One prediction against one measurement.

    Attributes
    ----------
    quantity : str
        What is compared (and where: checkpoint, batch size, model).
    predicted, measured, tolerance : str
        Formatted from the run's numbers.
    passed : bool or None
        Whether the claim held; ``None`` where it was not decided (an inconclusive cross-check) or
        where the row makes no claim.
    claim : bool
        Whether the row carries a claim (``False``: an informational row, see :func:`info_row`).
    """

    quantity: str
    predicted: str
    measured: str
    tolerance: str
    passed: bool | None
    claim: bool = True

    @property
    def verdict(self) -> str:
        """``PASS``, ``FAIL``, ``INCONCLUSIVE`` (a claim that was not decided) or ``info`` (no claim)."""
        if not self.claim:
            return "info"
        return "INCONCLUSIVE" if self.passed is None else ("PASS" if self.passed else "FAIL")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Result of one experiment: its rows, its files and its run time."""

    name: str
    title: str
    paper: str
    rows: tuple[Row, ...]
    figure: Path
    data: Path
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """``FAIL`` if a claim failed, else ``INCONCLUSIVE`` if a claim was not decided, else ``PASS``."""
        return overall_verdict(r.verdict for r in self.rows)

    @property
    def passed(self) -> bool:
        """Every claim was shown to hold (an undecided claim is not a pass)."""
        return self.verdict == "PASS"


def overall_verdict(verdicts: Iterable[str]) -> str:
    """The verdict of several rows or experiments: ``FAIL`` if any is, else ``INCONCLUSIVE`` if any
    is, else ``PASS`` (``info`` rows do not count)."""
    seen = set(verdicts)
    return "FAIL" if "FAIL" in seen else "INCONCLUSIVE" if "INCONCLUSIVE" in seen else "PASS"


def fmt(x: float, digits: int = 3) -> str:
    """Compact scientific/fixed formatting of a measured number."""
    x = float(x)
    if x == 0.0 or not np.isfinite(x):
        return f"{x:g}"
    return f"{x:.{digits}g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.{digits - 1}e}"


def check_row(quantity: str, predicted: str, measured: str, tolerance: str, passed: bool | None) -> Row:
    """A row carrying a claim: ``passed`` ``True`` (PASS), ``False`` (FAIL) or ``None``, a cross-check
    that float64 could not decide (INCONCLUSIVE; the experiment is then not a PASS either)."""
    return Row(quantity, predicted, measured, tolerance, None if passed is None else bool(passed))


def info_row(quantity: str, measured: str, predicted: str = "-") -> Row:
    """A row reporting a measurement without a claim."""
    return Row(quantity, predicted, measured, "-", None, claim=False)


def to_jsonable(obj: Any) -> Any:
    """Arrays and numpy scalars as lists and floats (recursively)."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.ndarray, jax.Array)):
        return np.asarray(obj).tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    return obj


def save_json(path: Path, payload: Mapping[str, Any]) -> Path:
    """Write the experiment's numbers (and its rows) as indented JSON."""
    path.write_text(json.dumps(to_jsonable(payload), indent=1))
    return path


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend (imported on first use, so that
    ``import pyspec`` and ``pyspec list`` do not need matplotlib).

    Raises
    ------
    ImportError
        matplotlib is missing: ``pip install 'equivariance-toolbox[figures]'``.
    """
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("the figures need matplotlib: pip install 'equivariance-toolbox[figures]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_figure(ncols: int, nrows: int = 1, width: float = 5.6, height: float = 4.4,
               constrained: bool = False) -> tuple[Any, np.ndarray]:
    """A figure of ``nrows × ncols`` panels with legible default font sizes and math-typeset labels
    (``constrained=True``: matplotlib's constrained layout, which places colour bars; save it with
    ``save_figure(..., tight=False)``)."""
    plt = pyplot()
    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8.5,
                         "mathtext.fontset": "dejavusans"})
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             layout="constrained" if constrained else None)
    return fig, axes


def save_figure(fig: Any, path: Path, title: str, tight: bool = True) -> Path:
    """Give the figure its overall title, save it as PNG (150 dpi) and, beside it, as vector PDF, and
    close it (``tight=False`` for figures that place their own colour bar, which ``tight_layout``
    cannot). Returns the PNG's path."""
    fig.suptitle(title, fontsize=12)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=150)
    fig.savefig(path.with_suffix(".pdf"))
    pyplot().close(fig)
    return path


def hvp(loss: Callable[[jax.Array], jax.Array], theta: jax.Array, v: jax.Array) -> jax.Array:
    """Hessian-vector product ``∇²L(θ) v`` (forward over reverse), never forming ``H``."""
    return jax.jvp(jax.grad(loss), (theta,), (v,))[1]


def dense_hessian(loss: Callable[[jax.Array], jax.Array], theta: jax.Array) -> jax.Array:
    """``∇²L(θ)`` as an ``n × n`` symmetric matrix (small ``n`` only)."""
    H = jax.hessian(loss)(theta)
    return (H + H.T) / 2


def relative(a: Any, b: Any, scale: float | None = None) -> float:
    """``‖a − b‖ / max(‖a‖, ‖b‖, scale)``: the relative residual of docs/theory.md#residuals-and-tolerances."""
    a, b = np.asarray(a), np.asarray(b)
    denominator = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), scale or 0.0)
    return 0.0 if denominator == 0.0 else float(np.linalg.norm(a - b)) / denominator

