"""The backend contract: an array namespace for models and the derivatives the checks need.

Every model, transformation and loss in the catalog and in :mod:`pyspec.strategies` is written once
against a small *array namespace* ``xp`` (the functions in :data:`NAMESPACE_FUNCTIONS`) and runs
unchanged under

* the JAX backend (float64, :mod:`pyspec.backends.jax_backend`), and
* the mpmath backend (any number of digits, derivatives exact to working precision,
  :mod:`pyspec.backends.mp_backend`).

A backend-neutral callable takes the namespace as the keyword argument ``xp``::

    def model(theta, *, xp):
        return xp.tanh(W @ theta)

Arrays handed to the namespace may be backend arrays, NumPy float64 arrays or Python numbers; NumPy
float64 constants are converted exactly (every float64 is a finite binary fraction), so constants
drawn once in float64 define the same model at every precision. Constants *derived* from them
(orthonormal frames, inverses) must be computed with ``xp`` inside the callable, so that the
symmetry they encode is exact at the working precision.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, Callable, ContextManager, Protocol, TypeGuard, runtime_checkable

Array = Any
"""A backend array: ``jax.Array`` (float64) or a NumPy ``object`` array of ``mpmath.mpf``."""

NAMESPACE_FUNCTIONS: tuple[str, ...] = (
    # construction (exact conversion of Python / NumPy float64 input)
    "asarray", "zeros", "ones", "eye",
    # shape
    "reshape", "ravel", "concatenate", "stack", "transpose", "outer",
    # reductions
    "sum", "mean",
    # elementwise smooth functions
    "exp", "expm1", "log", "log1p", "sqrt", "square", "tanh", "sinh", "cosh", "asinh", "sin", "cos",
    "sigmoid", "softplus",
    # piecewise-linear (differentiable away from the kink, derivative 1 or 0)
    "relu",
    # softmax family along an axis
    "logsumexp", "softmax", "log_softmax",
    # linear algebra (differentiable in every argument)
    "solve", "inv", "expm",
)
"""Names every array namespace provides, besides the array operators ``+ - * / ** @``, unary ``-``,
``.T``, ``.shape``, ``.ndim`` and basic indexing (integers and slices)."""


@runtime_checkable
class Backend(Protocol):
    """What the identity checks need from a numerical backend.

    Attributes
    ----------
    name : str
        ``"jax-float64"`` or ``"mpmath-<digits>"``.
    xp : namespace
        The array namespace handed to backend-neutral callables.
    digits : int
        Working precision in decimal digits (15 for float64).
    eps : float
        Unit round-off of the working precision (``2**-53`` for float64, ``10**-digits`` for mpmath).
    """

    name: str
    xp: Any
    digits: int
    eps: float

    def context(self) -> ContextManager[object]:
        """Context in which this backend computes (sets the working precision for mpmath); what it
        enters (``with ... as x``) is unspecified."""

    def compile(self, fun: Callable[..., Any]) -> Callable[..., Any]:
        """``fun`` compiled for repeated evaluation (``jax.jit``; the identity for mpmath)."""

    def asarray(self, x: Any) -> Array:
        """Convert ``x`` (backend array, NumPy array, nested sequence or scalar) to a backend array."""

    def to_host(self, tree: Any) -> Any:
        """Results of compiled functions as arrays for post-processing (NumPy arrays for JAX)."""

    def jvp(self, fun: Callable[[Array], Array], x: Array, tangents: Array) -> tuple[Array, Array]:
        """Value and directional derivatives of ``fun`` at the 1-D point ``x``.

        ``tangents`` has shape ``(n, p)``; returns ``(fun(x), D)`` with ``D`` of shape
        ``fun(x).shape + (p,)`` and ``D[..., j] = d/dt fun(x + t * tangents[:, j])`` at ``t = 0``.
        ``fun`` may itself call :meth:`jvp` or :meth:`jacobian` (nested differentiation).
        """

    def jacobian(self, fun: Callable[[Array], Array], x: Array) -> Array:
        """Jacobian of ``fun`` at the 1-D point ``x``: shape ``fun(x).shape + (n,)``; nestable."""

    def solve(self, a: Array, b: Array) -> Array:
        """Solve ``a @ x = b`` for square ``a``; ``b`` of shape ``(n,)`` or ``(n, p)``."""

    def eigvalsh(self, a: Array) -> Array:
        """Eigenvalues of the symmetric matrix ``a`` in ascending order."""

    def svdvals(self, a: Array) -> Array:
        """Singular values of ``a`` in descending order."""

    def norm(self, x: Array) -> Any:
        """Frobenius norm of ``x`` as a backend scalar."""

    def to_float(self, x: Any) -> float:
        """A backend scalar as a Python float."""

    def to_numpy(self, x: Array) -> Any:
        """A backend array as a NumPy float64 array (rounded)."""

    def all_finite(self, x: Array) -> bool:
        """Whether every entry of ``x`` is finite."""


class CertifiedBackend(Backend, Protocol):
    """A ball-arithmetic backend (``certify=True``: :class:`~pyspec.backends.arb_backend.ArbBackend`),
    whose every result is a rigorous enclosure."""

    certified: bool

    def norm_bounds(self, x: Array) -> tuple[float, float]:
        """Rigorous ``(lower, upper)`` bounds of the Frobenius norm of ``x``, floats rounded outward."""


def is_certified(backend: Backend) -> TypeGuard[CertifiedBackend]:
    """Whether ``backend`` computes in ball arithmetic (its ``certified`` attribute; ``False`` if absent)."""
    return bool(getattr(backend, "certified", False))


def accepts_xp(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is backend-neutral: it takes the array namespace as the keyword argument ``xp``
    (or ``**kwargs``). ``False`` for a callable whose signature cannot be read.

    A plain function's answer is remembered by its code object (its parameters are the code's), so the
    wrappers that :func:`pyspec.equivariance.bind` makes at every call are not inspected again."""
    if isinstance(fn, types.FunctionType) and not hasattr(fn, "__wrapped__") and not hasattr(fn, "__signature__"):
        known = _ACCEPTS_XP_BY_CODE.get(fn.__code__)
        if known is None:
            if len(_ACCEPTS_XP_BY_CODE) >= 4096:  # code objects made at run time (exec): stay bounded
                _ACCEPTS_XP_BY_CODE.clear()
            known = _ACCEPTS_XP_BY_CODE[fn.__code__] = _signature_accepts_xp(fn)
        return known
    return _signature_accepts_xp(fn)


_ACCEPTS_XP_BY_CODE: dict[types.CodeType, bool] = {}


def _signature_accepts_xp(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "xp" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
