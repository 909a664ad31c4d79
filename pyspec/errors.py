"""Named errors for violated hypotheses and bad input.

Every check verifies its hypotheses before it reports anything: a violated hypothesis raises one of
these errors with the measured quantity in the message, never a silent pass or a wrong number.
"""

from __future__ import annotations

__all__ = [
    "PyspecError",
    "EquivarianceError",
    "NotGoodPositionError",
    "NotFixedPointError",
    "NotStationaryError",
    "ShapeError",
    "NonFiniteError",
    "KinkError",
    "PrecisionError",
    "DTypeError",
    "DegenerateError",
    "InputError",
    "NonDifferentiableWarning",
]


class PyspecError(Exception):
    """Base class of every error raised by pyspec."""


class EquivarianceError(PyspecError):
    """The equivariance ``f(T(a, θ)) = S(a, f(θ))`` (docs/theory.md#definition-1, eq. 1) fails at a tested point."""


class NotGoodPositionError(PyspecError):
    """``∂θT(a, θ)`` or ``∂yS(a, f(θ))`` is singular or too ill-conditioned (Definition 1)."""


class NotFixedPointError(PyspecError):
    """``T(a, θ) ≠ θ``: Theorem 2 and eqs. (8)–(9) need a point of the fixed-point set (Definition 3)."""


class NotStationaryError(PyspecError):
    """``∇L(θ) ≠ 0`` where a statement (§5.4) needs a stationary point."""


class ShapeError(PyspecError, ValueError):
    """A model, transformation or loss returned an array of the wrong shape; the message names it."""


class NonFiniteError(PyspecError, ValueError):
    """An input, an output or a derivative contains NaN or infinity; the message names where."""


class KinkError(PyspecError, ValueError):
    """Ball arithmetic (``certify=True``): a non-smooth function (``relu``) met a ball that contains its
    kink, where neither its derivative nor a certified enclosure of it exists."""


class PrecisionError(PyspecError, ValueError, RuntimeError):
    """A precision the check cannot work at: ``precision`` outside its range (``None``, ``"float32"``
    or an integer from 20 to 300 digits), or the model, ``T``, ``S`` or the loss computing below the
    check's precision (float32 or bfloat16 inside a float64 check), or JAX's 64-bit mode off; the
    message says which and how to fix it (:mod:`pyspec.precision`)."""


class DTypeError(PyspecError, TypeError):
    """An input or a returned value has a dtype the checks cannot use (complex, integer, boolean);
    the message names the function or input."""


class DegenerateError(PyspecError, ValueError):
    """The computation would be vacuous: ``T`` does not depend on ``a`` (rank ``∂aT < k``), or reads
    ``a`` or ``θ`` out of range."""


class InputError(PyspecError, ValueError):
    """An argument is outside its range (e.g. ``max_condition`` not a number ``≥ 1``)."""


class NonDifferentiableWarning(UserWarning):
    """The derivatives jump between ``θ`` and a nearby point: the model is evaluated at (or next to)
    a point where it is not differentiable (e.g. a ReLU kink), so the identities need not hold."""
