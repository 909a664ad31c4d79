"""Numerical backends: JAX float64, mpmath at any precision, and Arb balls for certified checks (see
:mod:`pyspec.backends.base`)."""

from __future__ import annotations

import contextlib
import contextvars

from typing import Iterator

from pyspec.backends.base import NAMESPACE_FUNCTIONS, Array, Backend

__all__ = [
    "NAMESPACE_FUNCTIONS", "Array", "Backend", "MAX_PRECISION", "MIN_PRECISION", "certifying", "check_precision",
    "dual_float64", "duals_active", "get_backend",
]

_CERTIFY = contextvars.ContextVar("pyspec_certify", default=False)
_DUALS = contextvars.ContextVar("pyspec_dual_float64", default=False)

MIN_PRECISION = 20
"""Fewest decimal digits of the mpmath backend (below, float64 is as good)."""

MAX_PRECISION = 300
"""Most decimal digits: tolerances and residuals (``~10^-D``) are reported as float64 numbers, whose
smallest normal value is ``2.2e-308``; at ``D ≥ 324`` the unit roundoff ``10^-D`` itself underflows."""


def check_precision(precision: object) -> int | str | None:
    """``precision`` if it is ``None``, ``"float32"`` or an integer in ``[MIN_PRECISION, MAX_PRECISION]``.

    Raises
    ------
    PrecisionError
        Otherwise (checked before any computation).
    """
    from pyspec.errors import PrecisionError

    if precision is None or precision == "float32":
        return precision
    if isinstance(precision, bool) or not isinstance(precision, int) or not MIN_PRECISION <= precision <= MAX_PRECISION:
        raise PrecisionError(
            f"precision must be None (float64), 'float32' or an integer from {MIN_PRECISION} to {MAX_PRECISION} digits, "
            f"got {precision!r}"
        )
    return precision


@contextlib.contextmanager
def certifying() -> Iterator[None]:
    """Inside the block, :func:`get_backend` with a ``precision`` returns the ball backend (as with
    ``certify=True``): how ``certify=True`` reaches every check that a public function runs."""
    token = _CERTIFY.set(True)
    try:
        yield
    finally:
        _CERTIFY.reset(token)


@contextlib.contextmanager
def dual_float64() -> Iterator[None]:
    """Inside the block, float64 checks (``precision=None``) run on IEEE float64 dual numbers
    (:class:`~pyspec.backends.float_dual_backend.Float64DualBackend`) instead of JAX.

    For checking many *different* small models once each, e.g. Hypothesis-generated ones: nothing is
    traced or compiled, so a Theorem 1 check of a model with ``n ≈ 20`` takes ~10 ms, against ~1–3 s
    for JAX op by op (``jit=False``, which compiles each operation for each new shape and batch
    layout) or a compiled program per model (``jit=True``). The arithmetic is the same IEEE binary64;
    results agree with JAX's to rounding (``tests/test_strategies.py`` compares them). The
    callables must be backend-neutral (take ``xp``); ``method="matrix_free"`` and ``"sketched"``
    need JAX and are refused. Checks at a ``precision`` (escalation included) are unaffected.
    """
    token = _DUALS.set(True)
    try:
        yield
    finally:
        _DUALS.reset(token)


def duals_active() -> bool:
    """Whether float64 checks run on dual numbers (inside :func:`dual_float64`)."""
    return _DUALS.get()


def get_backend(precision: int | str | None = None, *, jit: bool = True, certify: bool = False) -> Backend:
    """The backend for a working precision.

    Parameters
    ----------
    precision : int, None or "float32"
        ``None`` for JAX float64 (dual numbers in float64 inside :func:`dual_float64`); an integer number of decimal digits (20 to 300) for mpmath;
        ``"float32"`` for JAX float32 with tolerances at float32's round-off (:mod:`pyspec.precision`).
    jit : bool
        JAX only: compile each check with XLA, once per model (:mod:`pyspec.cache`: later checks of
        the same model at other points reuse the programs). ``False`` evaluates op by op (JAX caches
        each operation's compilation by shape). For many *different* small models checked once each,
        e.g. in property tests, :func:`dual_float64` is faster than either.
    certify : bool
        Ball arithmetic (python-flint's Arb, :mod:`pyspec.backends.arb_backend`) at ``precision``
        digits instead of mpmath: every result is a rigorous enclosure. Needs a ``precision``. Also on
        inside :func:`certifying`.
    """
    certify = certify or _CERTIFY.get()
    if certify and (precision is None or precision == "float32"):
        raise ValueError("certify=True needs a precision (decimal digits, at least 20), e.g. precision=50")
    if precision is None and _DUALS.get():
        from pyspec.backends.float_dual_backend import Float64DualBackend

        return Float64DualBackend()
    if precision is None:
        from pyspec.backends.jax_backend import JaxBackend

        return JaxBackend(jit=jit)
    if precision == "float32":
        from pyspec.backends.jax_backend import JaxFloat32Backend

        return JaxFloat32Backend(jit=jit)
    check_precision(precision)
    if not isinstance(precision, int):  # unreachable: None and "float32" returned above, check_precision raised
        raise AssertionError(f"precision {precision!r}")
    if certify:
        from pyspec.backends.arb_backend import ArbBackend

        return ArbBackend(precision)
    from pyspec.backends.mp_backend import MpBackend

    return MpBackend(precision)
