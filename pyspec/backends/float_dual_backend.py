"""Float64 backend on the dual-number layer: IEEE double arithmetic, forward-mode derivatives, no compiler.

The dual numbers of :mod:`pyspec.backends.duals` over the field of Python floats (IEEE binary64, unit
round-off ``2**-53``, the same as :class:`~pyspec.backends.jax_backend.JaxBackend`). Plain arrays are
NumPy ``object`` arrays of Python floats; derivatives are exact chain rules evaluated in float64, with
no step size, nestable (Hessians are forward over forward).

Why it exists: evaluating a Lean statement on a *new* random model (:mod:`pyspec.formal`) differentiates
new closures every time. JAX then either compiles a program per model (``jit=True``) or traces every
operation through ``jvp``/``vmap`` and dispatches it (``jit=False``): 0.1–0.5 s per model, most of it
JAX's Python overhead and per-shape compilation. Here the same work is a few thousand float operations
(1–50 ms per model). The JAX checks of :mod:`pyspec` are untouched; the formal tests compare both.

Differences from the JAX namespace (besides those of :mod:`pyspec.backends.duals`)
----------------------------------------------------------------------------------
* ``x / 0`` raises ``ZeroDivisionError`` (JAX: ``inf``), as in the mpmath backend. ``log``, ``sqrt``,
  ``log1p`` and ``power`` return ``nan`` outside their domain and ``±inf`` on overflow, as in JAX.
* Products of plain matrices sum in NumPy ``object`` matmul's order (vectorised in float64), solves use
  LAPACK; the matrix exponential is a Taylor polynomial with scaling and squaring (module constants).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable

import numpy as np

from pyspec.backends.dual_namespace import xp
from pyspec.backends.duals import Arr, Dual, ScalarField, coerce, primal, taylor_expm, use_field
from pyspec.backends.field_backend import FieldBackend, plain

__all__ = ["FLOAT64_FIELD", "Float64DualBackend"]


def _total(scalar: Callable[[float], float], vector: Callable[[Any], Any]) -> Callable[[Any], float]:
    """``scalar`` (``math``), falling back to NumPy's IEEE result (``nan``, ``±inf``) where ``math``
    raises (domain errors, overflow)."""

    def function(v: Any) -> float:
        try:
            return scalar(v)
        except (ValueError, OverflowError, ZeroDivisionError):
            with np.errstate(all="ignore"):
                return float(vector(np.float64(v)))

    return function


def _sigmoid(v: float) -> float:
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def _softplus(v: float) -> float:
    return (v if v > 0 else 0.0) + math.log1p(math.exp(-abs(v)))


def _power(a: float, b: float) -> float:
    try:
        r = a**b
    except (OverflowError, ZeroDivisionError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), np.float64(b)))
    return math.nan if isinstance(r, complex) else float(r)


_FUNCTIONS: dict[str, Callable[..., float]] = {
    "exp": _total(math.exp, np.exp),
    "expm1": _total(math.expm1, np.expm1),
    "log": _total(math.log, np.log),
    "log1p": _total(math.log1p, np.log1p),
    "sqrt": _total(math.sqrt, np.sqrt),
    "square": lambda v: v * v,
    "tanh": math.tanh,
    "sinh": _total(math.sinh, np.sinh),
    "cosh": _total(math.cosh, np.cosh),
    "asinh": math.asinh,
    "sin": math.sin,
    "cos": math.cos,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "relu": lambda v: 0.0 if v <= 0 else v,
    "relu_slope": lambda v: 1.0 if v > 0 else 0.0,
    "power": _power,
}

_FINITE_OR_ZERO = np.frompyfunc(lambda v: v if math.isfinite(v) else 0.0, 1, 1)


def _shift(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return _FINITE_OR_ZERO(np.max(x, axis=axes, keepdims=True))


def _factor(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    np.linalg.inv(a)  # raises numpy.linalg.LinAlgError when a is singular
    return a


def _apply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, np.asarray(b, dtype=np.float64)).astype(object)


VECTORISED_MATMUL_PRODUCTS = 1024
"""Products from which :func:`_matmul` runs vectorised: ``object`` matmul costs ~20 ns a product, the
vectorised loop ~10 µs plus ~1 µs a term (measured, NumPy 2, one core); they cross near 10³ products."""


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` of plain arrays with NumPy's ``object`` semantics and summation order, in float64.

    Each entry is ``((a₀b₀ + a₁b₁) + a₂b₂) + …`` with every product and sum rounded to binary64, the
    order of NumPy's ``object`` matmul (no BLAS blocking, no fused multiply-add), so a model evaluated at
    θ and the value part of its derivative there still agree bit for bit. Small products run as NumPy
    ``object`` matmul itself; larger ones take one vectorised step per term of the contraction instead
    of one Python operation per product.
    """
    products = a.size * (b.shape[-1] if b.ndim > 1 else 1)
    if products < VECTORISED_MATMUL_PRODUCTS and a.shape[-1]:  # (an empty sum is the integer 0 there)
        return a @ b
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    if vector_a:
        a = a[None, :]
    if vector_b:
        b = b[:, None]
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    with np.errstate(all="ignore"):  # IEEE results (inf, nan) as Python floats give them
        out = np.zeros(shape) if a.shape[-1] == 0 else a[..., :, :1] * b[..., :1, :]
        for k in range(1, a.shape[-1]):
            out += a[..., :, k : k + 1] * b[..., k : k + 1, :]
    if vector_a:
        out = out[..., 0, :]
    if vector_b:
        out = out[..., 0]
    return out.astype(object)


EXPM_TERMS = 18
"""Taylor degree of the matrix exponential: the scaled matrix has 1-norm at most 1/2, so the remainder
is below ``0.5**19 / 19! ≈ 2e-23``, far under float64's round-off (also for its derivatives)."""


def _expm(a: Any) -> Arr:
    """Matrix exponential by scaling (1-norm ≤ 1/2, the fewest squarings: each squaring doubles the
    relative rounding error) and squaring of a Taylor polynomial, written with dual operations."""
    norm = float(np.max(np.sum(np.abs(np.asarray(primal(a), dtype=np.float64)), axis=0))) if a.shape[0] else 0.0
    return taylor_expm(a, norm, 1, EXPM_TERMS, lambda s: 2.0**-s)


FLOAT64_FIELD = ScalarField(
    name="float64",
    convert=float,
    functions=_FUNCTIONS,
    shift=_shift,
    matmul=_matmul,
    factor=_factor,
    apply=_apply,
    expm=_expm,
)
"""Python floats as the scalar field of :mod:`pyspec.backends.duals`."""


class Float64DualBackend(FieldBackend):
    """Float64 on dual numbers (module docstring): ``digits = 15``, ``eps = 2**-53`` like JAX float64."""

    name = "float64-duals"

    def __init__(self) -> None:
        self.digits = 15
        self.eps = float(np.finfo(np.float64).eps) / 2
        self.xp = xp

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return use_field(FLOAT64_FIELD)

    def eigvalsh(self, a: Any) -> np.ndarray:
        """Eigenvalues of the symmetric matrix ``a``, ascending (LAPACK)."""
        with self.context():
            return np.linalg.eigvalsh(np.asarray(plain("eigvalsh", a), dtype=np.float64))

    def svdvals(self, a: Any) -> np.ndarray:
        """Singular values of the matrix ``a``, descending (LAPACK)."""
        with self.context():
            return np.linalg.svd(np.asarray(plain("svdvals", a), dtype=np.float64), compute_uv=False)

    def norm(self, x: Any) -> Any:
        """Frobenius norm: a float for a plain array, a 0-d Dual for a Dual."""
        with self.context():
            x = coerce(x)
            if isinstance(x, Dual):
                return xp.sqrt(xp.sum(xp.square(x)))
            return float(np.linalg.norm(np.asarray(x, dtype=np.float64).ravel()))

    def to_float(self, x: Any) -> float:
        with self.context():
            a = np.asarray(plain("to_float", x))
        if a.size != 1:
            raise ValueError(f"to_float: expected a scalar, got shape {a.shape}")
        return float(a.reshape(()).item())

    def to_numpy(self, x: Any) -> np.ndarray:
        with self.context():
            return np.asarray(plain("to_numpy", x), dtype=np.float64)

    def all_finite(self, x: Any) -> bool:
        with self.context():
            x = coerce(x)
        if isinstance(x, Dual):
            return self.all_finite(x.value) and self.all_finite(x.tangent)
        return bool(np.all(np.isfinite(np.asarray(x, dtype=np.float64))))
