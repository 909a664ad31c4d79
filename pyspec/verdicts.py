"""Escalation of inconclusive float64 verdicts to high precision (DESIGN.md §7 verdicts).

A float64 check whose residual exceeds its tolerance but lies within what float64 resolves at that
point (:mod:`pyspec.checks`) is ``"inconclusive"``. When every callable of the problem is
backend-neutral (it accepts the keyword ``xp``, :mod:`pyspec.equivariance`), the theorems re-run the
check at :data:`ESCALATION_DIGITS` digits with exact derivatives and attach the result to each
inconclusive check (:attr:`~pyspec.checks.IdentityCheck.escalated`), which then decides its verdict;
the float64 residual stays in the report beside it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, TypeVar

from pyspec.checks import IdentityCheck
from pyspec.equivariance import accepts_xp
from pyspec.errors import PyspecError

__all__ = ["ESCALATION_DIGITS", "backend_neutral", "escalate_report", "merge_escalated"]

ESCALATION_DIGITS = 50
"""Digits of the automatic re-run (residuals then ~``10^-40``: far below any float64 question)."""

R = TypeVar("R")


def backend_neutral(callables: Iterable[Callable[..., Any] | None]) -> bool:
    """Whether every given callable (``None`` skipped) accepts the array namespace ``xp``."""
    return all(fn is None or accepts_xp(fn) for fn in callables)


def escalate_report(report: R, callables: Iterable[Callable[..., Any] | None], precision: int | None,
                    rerun: Callable[[int], R]) -> R:
    """``report`` with its inconclusive checks decided at :data:`ESCALATION_DIGITS` digits.

    Only float64 reports (``precision is None``) with an inconclusive check and backend-neutral
    ``callables`` are re-run (``rerun(digits)`` returns the same kind of report); others are returned
    unchanged.
    """
    checks = getattr(report, "checks", ())
    if precision is not None or not any(c.own_verdict == "inconclusive" for c in checks):
        return report
    if not backend_neutral(callables):
        return report
    try:
        high = rerun(ESCALATION_DIGITS)
    except PyspecError:
        # the float64 input itself fails a hypothesis exactly (e.g. a point within rounding of, but not
        # on, the fixed set): higher precision cannot settle it, the float64 verdict stays inconclusive
        return report
    return merge_escalated(report, high)


def merge_escalated(report: R, high: R) -> R:
    """Attach each check of ``high`` to the same, inconclusive check of ``report`` (dataclass fields of
    type :class:`IdentityCheck`, or a ``parts`` mapping of them)."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(report):  # type: ignore[arg-type]
        low, hi = getattr(report, field.name), getattr(high, field.name)
        if isinstance(low, IdentityCheck):
            if low.own_verdict == "inconclusive":
                changes[field.name] = dataclasses.replace(low, escalated=hi)
        elif field.name == "parts" and isinstance(low, dict):
            changes["parts"] = {name: dataclasses.replace(c, escalated=hi[name]) if c.own_verdict == "inconclusive" else c
                                for name, c in low.items()}
    if any(f.name == "escalated" for f in dataclasses.fields(report)):  # type: ignore[arg-type]
        changes["escalated"] = True
    return dataclasses.replace(report, **changes)  # type: ignore[type-var]
