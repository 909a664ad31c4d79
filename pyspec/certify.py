"""Certified checks: ``certify=True`` on the public checks, and the certified columns of ``verify``.

With ``certify=True`` (and ``precision=D``) a check runs in ball arithmetic
(:mod:`pyspec.backends.arb_backend`) at ``D`` digits, and every
:class:`~pyspec.checks.IdentityCheck` it returns carries ``residual_bound``, a rigorous upper bound
of its relative residual at the exact instance (float64 inputs are exact dyadic rationals), and
``certified_nonzero``, whether the enclosure of ``lhs − rhs`` excludes 0 (a proof that the identity
fails there).
"""

from __future__ import annotations

import functools
import inspect

from typing import Any, Callable, TypeVar

from pyspec.backends import certifying

__all__ = ["CERTIFIED_BOUND", "certifiable", "certified_summary"]

CERTIFIED_BOUND = 1e-40
"""A valid identity is *certified* at 50 digits when its ``residual_bound`` is at most this: ten digits
below the working precision leave room for the growth of the balls' radii through nested
derivatives and solves (observed: at most ~1e-46 on the catalog)."""

F = TypeVar("F", bound=Callable[..., Any])


def certifiable(function: F) -> F:
    """Run a public check in ball arithmetic when called with ``certify=True`` (at its ``precision``,
    which must then be given).

    The check declares ``certify: bool = False`` (keyword-only) in its own signature, so that type
    checkers and ``help`` see it; the wrapper reads it and passes it on unchanged."""
    if "certify" not in inspect.signature(function).parameters:
        raise TypeError(f"{function.__name__}: a certifiable check declares the keyword certify: bool = False")

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("certify", False):
            return function(*args, **kwargs)
        if kwargs.get("precision") is None:
            raise ValueError(f"{function.__name__}: certify=True needs precision=D (decimal digits, e.g. 50)")
        with certifying():
            return function(*args, **kwargs)

    wrapper.__doc__ = (function.__doc__ or "") + (
        "\n\n    With ``certify=True`` (and ``precision=D``) the check runs in ball arithmetic and each "
        "IdentityCheck\n    carries ``residual_bound`` and ``certified_nonzero`` (:mod:`pyspec.certify`).\n"
    )
    return wrapper  # type: ignore[return-value]  # functools.wraps types it as _Wrapped, not F


def certified_summary(summary: dict[str, Any]) -> str:
    """The summary line of the certified columns ('' without ``--certify``)."""
    if "certify" not in summary:
        return ""
    return (f"ball arithmetic at {summary['certify']} digits: worst residual bound "
            f"{summary['worst_residual_bound']:.1e} (must be <= {CERTIFIED_BOUND:.0e}); "
            f"{summary['uncertified_negative_controls']} negative controls not certified nonzero (must be 0)\n")
