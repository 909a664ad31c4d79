"""What the backends on dual numbers over a scalar field share (mpmath numbers, Arb balls).

:class:`FieldBackend` implements the :class:`~pyspec.backends.base.Backend` methods that only need
:mod:`pyspec.backends.duals`, each inside the subclass's ``context()`` (its precision and its field).
"""

from __future__ import annotations

import contextlib

from typing import Any, Callable

import numpy as np

from pyspec.backends.dual_namespace import solve, xp
from pyspec.backends.duals import Arr, Dual, asarray, coerce, jacobian, jvp

__all__ = ["FieldBackend", "plain"]


def plain(name: str, x: Any) -> np.ndarray:
    """``x`` as a plain array; a Dual (or a sequence holding Duals) is refused (``name`` is not differentiable)."""
    arr = coerce(x)
    if isinstance(arr, Dual):
        raise TypeError(f"{name} takes plain arrays, not a Dual (it is not differentiable here)")
    return arr


class FieldBackend:
    """Base of the field backends: ``digits``, ``eps = 10^-digits``, the namespace, and the methods
    that run the dual-number layer in the subclass's :meth:`context`.

    Parameters
    ----------
    digits : int
        Working precision in decimal digits (at least 16, so that float64 input converts exactly).
    """

    name: str

    def __init__(self, digits: int) -> None:
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 16:
            raise ValueError(f"digits must be an integer >= 16, got {digits!r}")
        self.digits = digits
        self.eps = 10.0 ** (-digits)
        self.xp = xp

    def context(self) -> contextlib.AbstractContextManager[Any]:
        """The working precision and the field (subclasses)."""
        raise NotImplementedError

    def compile(self, fun: Callable[..., Any]) -> Callable[..., Any]:
        """``fun`` itself (nothing to compile)."""
        return fun

    def asarray(self, x: Any) -> Arr:
        """Exact conversion to an object array of field elements (Duals pass through)."""
        with self.context():
            return asarray(x)

    def to_host(self, tree: Any) -> Any:
        """``tree`` itself: results stay field arrays so that post-processing keeps the precision."""
        return tree

    def jvp(self, fun: Callable[[Arr], Any], x: Any, tangents: Any) -> tuple[Arr, Arr]:
        """See :func:`pyspec.backends.duals.jvp`."""
        with self.context():
            return jvp(fun, x, tangents)

    def jacobian(self, fun: Callable[[Arr], Any], x: Any) -> Arr:
        """See :func:`pyspec.backends.duals.jacobian`."""
        with self.context():
            return jacobian(fun, x)

    def solve(self, a: Any, b: Any) -> Arr:
        """Solve ``a @ x = b`` with the field's factorisation (Duals allowed)."""
        with self.context():
            return solve(a, b)
