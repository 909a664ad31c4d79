"""Numerical backends: JAX float64 and mpmath at any precision (see :mod:`pyspec.backends.base`)."""

from __future__ import annotations

from pyspec.backends.base import NAMESPACE_FUNCTIONS, Array, Backend

__all__ = ["NAMESPACE_FUNCTIONS", "Array", "Backend", "get_backend"]


def get_backend(precision: int | None = None, *, jit: bool = True) -> Backend:
    """The backend for a working precision.

    Parameters
    ----------
    precision : int or None
        ``None`` for JAX float64; an integer number of decimal digits (at least 20) for mpmath.
    jit : bool
        JAX only: compile each check with XLA, once per model (:mod:`pyspec.cache`: later checks of
        the same model at other points reuse the programs). ``False`` evaluates op by op, which is
        faster when many *different* models of the same shapes are checked once each (JAX caches each
        operation's compilation by shape), e.g. in property tests.
    """
    if precision is None:
        from pyspec.backends.jax_backend import JaxBackend

        return JaxBackend(jit=jit)
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 20:
        raise ValueError(f"precision must be None (float64) or an integer >= 20 digits, got {precision!r}")
    from pyspec.backends.mp_backend import MpBackend

    return MpBackend(precision)
