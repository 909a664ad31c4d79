"""Numerical backends: JAX float64, mpmath at any precision, and Arb balls for certified checks (see
:mod:`pyspec.backends.base`)."""

from __future__ import annotations

import contextlib
import contextvars

from typing import Iterator

from pyspec.backends.base import NAMESPACE_FUNCTIONS, Array, Backend

__all__ = ["NAMESPACE_FUNCTIONS", "Array", "Backend", "certifying", "get_backend"]

_CERTIFY = contextvars.ContextVar("pyspec_certify", default=False)


@contextlib.contextmanager
def certifying() -> Iterator[None]:
    """Inside the block, :func:`get_backend` with a ``precision`` returns the ball backend (as with
    ``certify=True``): how ``certify=True`` reaches every check that a public function runs."""
    token = _CERTIFY.set(True)
    try:
        yield
    finally:
        _CERTIFY.reset(token)


def get_backend(precision: int | str | None = None, *, jit: bool = True, certify: bool = False) -> Backend:
    """The backend for a working precision.

    Parameters
    ----------
    precision : int, None or "float32"
        ``None`` for JAX float64; an integer number of decimal digits (at least 20) for mpmath;
        ``"float32"`` for JAX float32 with tolerances at float32's round-off (:mod:`pyspec.precision`).
    jit : bool
        JAX only: compile each check with XLA, once per model (:mod:`pyspec.cache`: later checks of
        the same model at other points reuse the programs). ``False`` evaluates op by op, which is
        faster when many *different* models of the same shapes are checked once each (JAX caches each
        operation's compilation by shape), e.g. in property tests.
    certify : bool
        Ball arithmetic (python-flint's Arb, :mod:`pyspec.backends.arb_backend`) at ``precision``
        digits instead of mpmath: every result is a rigorous enclosure. Needs a ``precision``. Also on
        inside :func:`certifying`.
    """
    certify = certify or _CERTIFY.get()
    if certify and (precision is None or precision == "float32"):
        raise ValueError("certify=True needs a precision (decimal digits, at least 20), e.g. precision=50")
    if precision is None:
        from pyspec.backends.jax_backend import JaxBackend

        return JaxBackend(jit=jit)
    if precision == "float32":
        from pyspec.backends.jax_backend import JaxFloat32Backend

        return JaxFloat32Backend(jit=jit)
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 20:
        raise ValueError(f"precision must be None (float64) or an integer >= 20 digits, got {precision!r}")
    if certify:
        from pyspec.backends.arb_backend import ArbBackend

        return ArbBackend(precision)
    from pyspec.backends.mp_backend import MpBackend

    return MpBackend(precision)
