"""Ball backend: arrays of ``flint.arb`` (mid-radius balls), every result a rigorous enclosure.

A plain array is a NumPy ``object`` array of ``flint.arb`` balls. Float64 input converts exactly (a
float64 is a dyadic rational, a ball of radius 0), so an enclosure is about the float64 instance
itself. Every operation returns a ball that contains the exact real result of the exact operation on
any points of its input balls (Arb's guarantee, kept by this module: squares, powers and the kinks of
``relu`` are handled below, solves and matrix exponentials go through ``arb_mat``).

Derivatives are the nested dual numbers of :mod:`pyspec.backends.duals` over the ball field
:data:`ARB_FIELD`: first and second derivatives are compositions of ball operations by their exact
chain rules, so they are enclosed rigorously too (no finite differences, no truncated series: the
matrix exponential of a Dual is the exponential of a block matrix, ``exp([[A, E], [0, A]])`` having
the Fréchet derivative ``L(A, E)`` as its upper-right block).

Non-smooth functions: ``relu`` and its derivative raise :class:`~pyspec.errors.KinkError` when a
ball contains the kink 0 (its derivative there does not exist, and its value's enclosure would not
be differentiable). Comparisons of balls are never used to branch.

``python-flint`` is an optional dependency (the ``certify`` extra): this module imports it, and
``pyspec`` imports this module only for ``certify=True``.
"""

from __future__ import annotations

import contextlib
import math

from typing import Any, Callable, Iterator

import mpmath
import numpy as np

try:
    import flint
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError("certify=True needs python-flint: pip install 'equivariance-toolbox[certify]'") from error

from pyspec.backends.dual_namespace import check_square, xp
from pyspec.backends.duals import (
    Arr,
    Dual,
    ScalarField,
    coerce,
    concatenate_arrays,
    stack_arrays,
    use_field,
)
from pyspec.backends.field_backend import FieldBackend, plain
from pyspec.errors import KinkError

__all__ = ["ARB_FIELD", "ArbBackend", "bits_for_digits"]

arb = flint.arb
arb_mat = flint.arb_mat


def bits_for_digits(digits: int) -> int:
    """Working precision in bits for ``digits`` decimal digits (mpmath's rule, so both backends round
    alike and their midpoints agree)."""
    return mpmath.libmp.dps_to_prec(digits)


# ---------------------------------------------------------------------------------------------
# the ball scalar field


def _to_arb(x: Any) -> Any:
    """Exact conversion: float64 and integers are dyadic rationals (radius 0)."""
    if isinstance(x, arb):
        return x
    if isinstance(x, (bool, np.bool_, np.integer)):
        return arb(int(x))
    if isinstance(x, (float, np.floating)):
        return arb(float(x))
    return arb(x)  # mpmath.mpf: a binary float, exact


def _square(v: Any) -> Any:
    """``v²`` as ``[|v|_min², |v|_max²] ∩ [0, ∞)``: a product ``v·v`` of a ball around 0 would dip
    below 0 (and its square root be NaN)."""
    low, high = v.abs_lower(), v.abs_upper()
    return (low * low).union(high * high).nonnegative_part()


def _power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``; small exact integer exponents by squaring (Arb's ``**`` is NaN on a ball
    containing 0), others by Arb."""
    if exponent.is_exact() and exponent.is_integer() and abs(exponent) <= 64:
        n = int(exponent.unique_fmpz())
        result, factor, k = arb(1), base, abs(n)
        while k:
            if k & 1:
                result = result * factor
            k >>= 1
            if k:
                factor = _square(factor)
        return 1 / result if n < 0 else result
    return base**exponent


def _kink(name: str, v: Any) -> KinkError:
    return KinkError(f"{name}: the ball {v.str(10)} contains the kink at 0 (not differentiable there)")


def _relu(v: Any) -> Any:
    if v > 0:
        return v
    if v < 0 or v.is_zero():
        return arb(0)
    raise _kink("relu", v)


def _relu_slope(v: Any) -> Any:
    if v > 0:
        return arb(1)
    if v < 0:
        return arb(0)
    raise _kink("relu derivative", v)


def _sigmoid(v: Any) -> Any:
    return 1 / (1 + (-v).exp())


def _softplus(v: Any) -> Any:
    return v.exp().log1p()


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": arb.exp,
    "expm1": arb.expm1,
    "log": arb.log,
    "log1p": arb.log1p,
    "sqrt": arb.sqrt,
    "square": _square,
    "tanh": arb.tanh,
    "sinh": arb.sinh,
    "cosh": arb.cosh,
    "asinh": arb.asinh,
    "sin": arb.sin,
    "cos": arb.cos,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "relu": _relu,
    "relu_slope": _relu_slope,
    "power": _power,
}

_MID = np.frompyfunc(lambda v: float(v.mid()) if v.is_finite() else 0.0, 1, 1)


def _shift(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The float64 max of the midpoints over ``axes`` (kept): exact, so the shift cancels exactly."""
    return np.frompyfunc(arb, 1, 1)(np.max(_MID(x).astype(np.float64), axis=axes, keepdims=True))


def _to_mat(a: np.ndarray) -> Any:
    return arb_mat(a.reshape(a.shape[0], -1).tolist())


def _from_mat(m: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(m.nrows() * m.ncols(), dtype=object)
    out[:] = m.entries()
    return out.reshape(shape)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of plain 1-D / 2-D ball arrays by ``arb_mat`` (C loops, one rounding per entry)."""
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.shape[0] == 0 or b2.shape[1] == 0 or a2.shape[1] == 0:
        return np.full(a.shape[:-1] + b.shape[1:], arb(0), dtype=object)
    return _from_mat(_to_mat(a2) * _to_mat(b2), a.shape[:-1] + b.shape[1:])


def _factor(a: np.ndarray) -> Any:
    """``arb_mat`` of ``a``; singularity shows in :func:`_apply`."""
    return _to_mat(a)


def _apply(factor: Any, b: np.ndarray) -> np.ndarray:
    """Rigorous solve (Arb's preconditioned Gaussian elimination)."""
    if b.size == 0:
        return np.array(b, dtype=object)
    try:
        x = factor.solve(_to_mat(b.reshape(b.shape[0], -1)))
    except ZeroDivisionError:
        raise np.linalg.LinAlgError("solve: the matrix is not certifiably invertible at working precision") from None
    return _from_mat(x, b.shape)


def _expm(a: Arr) -> Arr:
    """Matrix exponential: ``arb_mat.exp`` of a plain matrix; for a Dual with value ``A`` and tangent
    ``dA``, direction ``j``'s derivative is the upper-right block of ``exp([[A, dA_j], [0, A]])``."""
    if not isinstance(a, Dual):
        if a.shape[0] == 0:
            return np.array(a, dtype=object)
        return _from_mat(_to_mat(a).exp(), a.shape)
    n = a.shape[0]
    value, zero = a.value, np.full((n, n), arb(0), dtype=object)
    blocks, exp_value = [], None
    for j in range(a.directions):
        top = concatenate_arrays([value, a.tangent[..., j]], 1)
        bottom = concatenate_arrays([zero, value], 1)
        block = _expm(concatenate_arrays([top, bottom], 0))
        exp_value = block[:n, :n]
        blocks.append(block[:n, n:])
    if exp_value is None:
        exp_value = _expm(value)
    tangent = stack_arrays(blocks, -1) if blocks else np.empty((n, n, 0), dtype=object)
    return Dual(exp_value, tangent, a.tag)


ARB_FIELD = ScalarField(
    name="arb",
    convert=_to_arb,
    functions=_FUNCTIONS,
    shift=_shift,
    matmul=_matmul,
    factor=_factor,
    apply=_apply,
    expm=_expm,
)
"""The ball scalar field of :mod:`pyspec.backends.duals` (solves, products, exponentials by ``arb_mat``)."""


# ---------------------------------------------------------------------------------------------
# the backend


@contextlib.contextmanager
def _precision(bits: int) -> Iterator[None]:
    saved = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        with use_field(ARB_FIELD):
            yield
    finally:
        flint.ctx.prec = saved


def _scalar(x: Any) -> Any:
    """A ball from a ball, a 0-d array, a Python / NumPy / mpmath number."""
    if isinstance(x, np.ndarray):
        if x.size != 1:
            raise ValueError(f"expected a scalar, got shape {x.shape}")
        x = x.reshape(()).item()
    return _to_arb(x)


class ArbBackend(FieldBackend):
    """Ball backend at ``digits`` decimal digits (see the module docstring).

    Besides the :class:`~pyspec.backends.base.Backend` protocol it offers :meth:`norm_bounds`, the
    rigorous bounds of a norm that :func:`pyspec.checks.compare` turns into ``residual_bound`` and
    ``certified_nonzero``.

    Parameters
    ----------
    digits : int
        Working precision in decimal digits (at least 16).
    """

    certified = True

    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.bits = bits_for_digits(digits)
        self.name = f"arb-{digits}"

    def context(self) -> contextlib.AbstractContextManager[None]:
        """Arb's working precision set to ``digits`` (restored on exit) and the ball field active."""
        return _precision(self.bits)

    def _midpoint_matrix(self, name: str, a: Any) -> mpmath.matrix:
        a = plain(name, a)
        if a.ndim != 2:
            raise ValueError(f"{name}: expected a matrix, got shape {a.shape}")
        return mpmath.matrix([[mpmath.mpf(v.mid()) for v in row] for row in a])

    def eigvalsh(self, a: Any) -> np.ndarray:
        """Rigorous enclosures of the eigenvalues of the symmetric matrices in the ball matrix ``a``,
        ascending.

        With approximate eigenvectors ``X`` of the midpoint (mpmath, then exact balls), ``B = XᵀaX``
        is enclosed in balls; by Weyl, ``|λ_i(B) − d_i| ≤ ‖B − diag(d)‖_F`` for the sorted midpoint
        diagonal ``d``, and by Ostrowski ``λ_i(B) = θ_i λ_i(a)`` with ``θ_i`` in the spectrum of
        ``XᵀX``, within ``1 ± ‖XᵀX − I‖_F``.
        """
        with self.context(), mpmath.workprec(self.bits):
            a = plain("eigvalsh", a)
            check_square("eigvalsh", a)
            n = a.shape[0]
            if n == 0:
                return np.empty(0, dtype=object)
            _, vectors = mpmath.eigsy(self._midpoint_matrix("eigvalsh", a))
            X = arb_mat([[_to_arb(vectors[i, j]) for j in range(n)] for i in range(n)])
            Xt = X.transpose()
            B = Xt * _to_mat(a) * X
            d = [B[i, i].mid() for i in range(n)]
            off = arb(0)
            for i in range(n):
                for j in range(n):
                    off += _square((B[i, j] - d[i] if i == j else B[i, j]).abs_upper())
            gram = Xt * X
            e = arb(0)
            for i in range(n):
                for j in range(n):
                    e += _square((gram[i, j] - (1 if i == j else 0)).abs_upper())
            f, e = off.sqrt().upper(), e.sqrt().upper()
            if not e < 1:
                raise np.linalg.LinAlgError("eigvalsh: the approximate eigenvectors are not independent")
            theta = arb(1 - e).union(arb(1 + e))
            return np.array([arb(v).union(arb(v - f)).union(arb(v + f)) / theta for v in sorted(d)], dtype=object)

    def svdvals(self, a: Any) -> np.ndarray:
        """Singular values of the midpoint of ``a``, descending (mpmath; not enclosures: they only
        size scales, ranks and condition numbers, never an identity's sides)."""
        with self.context(), mpmath.workprec(self.bits):
            values = mpmath.svd_r(self._midpoint_matrix("svdvals", a), compute_uv=False)
            return np.array([_to_arb(v) for v in sorted(values, reverse=True)], dtype=object)

    def norm(self, x: Any) -> Any:
        """Frobenius norm of the midpoints (an exact sum, one rounding in the square root): the
        magnitude the scales and residuals use, 0 when every midpoint is 0; a 0-d Dual for a Dual. The
        rigorous bounds of the norm of the balls are :meth:`norm_bounds`."""
        with self.context():
            x = coerce(x)
            if isinstance(x, Dual):
                return xp.sqrt(xp.sum(xp.square(x)))
            total = arb(0)
            for v in x.ravel():
                m = _to_arb(v).mid()
                total += m * m
            return total.sqrt()

    def norm_bounds(self, x: Any) -> tuple[float, float]:
        """Rigorous ``(lower, upper)`` bounds of the Frobenius norm of the plain ball array ``x``, as
        floats rounded outward."""
        with self.context():
            x = plain("norm_bounds", x)
            low, high = arb(0), arb(0)
            for v in x.ravel():
                low += _square(v.abs_lower())
                high += _square(v.abs_upper())
            low, high = low.nonnegative_part().sqrt(), high.nonnegative_part().sqrt()
            return _float_down(low.lower()), _float_up(high.upper())

    def to_float(self, x: Any) -> float:
        """The midpoint of a ball (or a number) as a Python float."""
        if isinstance(x, Dual):
            raise TypeError("to_float takes plain arrays, not a Dual (it is not differentiable here)")
        with self.context():
            return float(_scalar(x).mid())

    def to_numpy(self, x: Any) -> np.ndarray:
        """Midpoints rounded to NumPy float64."""
        with self.context():
            return np.asarray(_MID(plain("to_numpy", x)), dtype=np.float64)

    def all_finite(self, x: Any) -> bool:
        """Whether every ball (of the value and, for Duals, of every tangent) is finite."""
        with self.context():
            x = coerce(x)
            if isinstance(x, Dual):
                return self.all_finite(x.value) and self.all_finite(x.tangent)
            return all(_to_arb(v).is_finite() for v in x.ravel())


def _float_up(v: Any) -> float:
    """An exact ball endpoint as a float64 at least as large (rounded up)."""
    f = float(v)
    return f if arb(f) >= v else math.nextafter(f, math.inf)


def _float_down(v: Any) -> float:
    f = float(v)
    return f if arb(f) <= v else math.nextafter(f, -math.inf)
