"""Numerical backends: JAX float64 and mpmath at any precision (see :mod:`pyspec.backends.base`)."""

from __future__ import annotations

from pyspec.backends.base import NAMESPACE_FUNCTIONS, Array, Backend

__all__ = ["NAMESPACE_FUNCTIONS", "Array", "Backend", "get_backend", "MIN_PRECISION", "MAX_PRECISION", "check_precision"]

MIN_PRECISION = 20
"""Fewest decimal digits of the mpmath backend (below, float64 is as good)."""

MAX_PRECISION = 300
"""Most decimal digits: tolerances and residuals (``~10^-D``) are reported as float64 numbers, whose
smallest normal value is ``2.2e-308``; at ``D ≥ 324`` the unit roundoff ``10^-D`` itself underflows."""


def check_precision(precision: object) -> int | None:
    """``precision`` if it is ``None`` or an integer in ``[MIN_PRECISION, MAX_PRECISION]``.

    Raises
    ------
    PrecisionError
        Otherwise (checked before any computation).
    """
    from pyspec.errors import PrecisionError

    if precision is None:
        return None
    if isinstance(precision, bool) or not isinstance(precision, int) or not MIN_PRECISION <= precision <= MAX_PRECISION:
        raise PrecisionError(
            f"precision must be None (float64) or an integer from {MIN_PRECISION} to {MAX_PRECISION} digits, "
            f"got {precision!r}"
        )
    return precision


def get_backend(precision: int | None = None, *, jit: bool = True) -> Backend:
    """The backend for a working precision.

    Parameters
    ----------
    precision : int or None
        ``None`` for JAX float64; an integer number of decimal digits (20 to 300) for mpmath.
    jit : bool
        JAX only: compile each check with XLA (best for a one-off check of a new model). ``False``
        evaluates op by op, which is faster when many models of the same shapes are checked in one
        process (JAX caches each operation's compilation by shape), e.g. in property tests.
    """
    check_precision(precision)
    if precision is None:
        from pyspec.backends.jax_backend import JaxBackend

        return JaxBackend(jit=jit)
    from pyspec.backends.mp_backend import MpBackend

    return MpBackend(precision)
