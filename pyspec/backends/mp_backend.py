"""mpmath backend: arrays of ``mpmath.mpf`` with forward-mode derivatives exact to working precision.

A plain array is a NumPy ``object`` array whose entries are ``mpmath.mpf``; NumPy float64 input is
converted exactly (``mpmath.mpf(float(x))`` is exact whenever the working precision has at least 53
bits, i.e. at 16 digits or more). All arithmetic happens at the precision of the current mpmath
context, which :meth:`MpBackend.context` sets. Derivatives are the nested dual numbers of
:mod:`pyspec.backends.duals` over the mpmath field :data:`MP_FIELD` defined here: there is no step
size and no truncation (the one series, the Taylor polynomial in :func:`_expm`, is truncated below the
working precision and carries enough extra terms that its derivatives are truncated below it too).

Differences from the JAX namespace (besides those of :mod:`pyspec.backends.duals`)
----------------------------------------------------------------------------------
* Operators on plain arrays are NumPy's on ``mpf`` objects, and Duals keep the same semantics:
  ``x / 0`` raises ``ZeroDivisionError`` (JAX: ``inf``) and ``(-1.0) ** 0.5`` is an ``mpc``
  (JAX: ``nan``; :meth:`MpBackend.all_finite` reports complex entries as not finite). ``log``,
  ``sqrt`` and ``log1p`` return ``nan`` outside their domain, as in JAX. Integer indexing of a plain
  array gives an ``mpf`` scalar, and 0-d arithmetic returns ``mpf`` scalars (NumPy's behaviour).
* ``solve`` / ``inv`` of a singular matrix raise ``numpy.linalg.LinAlgError`` (JAX: ``inf``/``nan``).
"""

from __future__ import annotations

import contextlib
import math

from typing import Any, Callable, ContextManager

import gmpy2
import mpmath
import numpy as np
from mpmath.libmp.libmpf import finf, fnan, fninf, from_man_exp

from pyspec.backends.dual_namespace import check_square, xp
from pyspec.backends.duals import (
    Arr,
    Dual,
    ScalarField,
    coerce,
    jacobian,
    jvp,
    primal,
    set_default_field,
    taylor_expm,
    use_field,
)
from pyspec.backends.field_backend import FieldBackend, plain

__all__ = ["Dual", "MP_FIELD", "MpBackend", "jacobian", "jvp", "xp"]


# ---------------------------------------------------------------------------------------------
# the mpmath scalar field


def _to_mpf(x: Any) -> mpmath.mpf:
    if isinstance(x, (float, np.floating)):
        return mpmath.mpf(float(x))
    return mpmath.mpf(int(x) if isinstance(x, (bool, np.integer, np.bool_)) else x)


def _guarded(function: Callable[[Any], Any], lower: int) -> Callable[[Any], Any]:
    """``function`` on ``[lower, inf)`` and ``nan`` below (mpmath would return complex numbers)."""
    return lambda v: function(v) if v >= lower else mpmath.nan


def _mp_sigmoid(v: Any) -> mpmath.mpf:
    if v >= 0:
        return 1 / (1 + mpmath.exp(-v))
    e = mpmath.exp(v)
    return e / (1 + e)


def _mp_softplus(v: Any) -> mpmath.mpf:
    return (v if v > 0 else mpmath.mpf(0)) + mpmath.log1p(mpmath.exp(-abs(v)))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": mpmath.exp,
    "expm1": mpmath.expm1,
    "log": _guarded(mpmath.log, 0),
    "log1p": _guarded(mpmath.log1p, -1),
    "sqrt": _guarded(mpmath.sqrt, 0),
    "square": lambda v: v * v,
    "tanh": mpmath.tanh,
    "sinh": mpmath.sinh,
    "cosh": mpmath.cosh,
    "asinh": mpmath.asinh,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "sigmoid": _mp_sigmoid,
    "softplus": _mp_softplus,
    "relu": lambda v: mpmath.mpf(0) if v <= 0 else v,
    "relu_slope": lambda v: mpmath.mpf(1) if v > 0 else mpmath.mpf(0),
    "power": lambda a, b: a**b,
}

_FINITE_OR_ZERO = np.frompyfunc(lambda v: v if mpmath.isfinite(v) else mpmath.mpf(0), 1, 1)


def _shift(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Max over ``axes`` (kept), 0 where not finite."""
    return _FINITE_OR_ZERO(np.max(x, axis=axes, keepdims=True))


# ---------------------------------------------------------------------------------------------
# the O(n³) kernels in MPFR: the same operations in the same order, correctly rounded in C


class _NotMpf(Exception):
    """An entry that is not an ``mpf`` (an ``mpc``, say): the kernel runs on mpmath numbers instead."""


_MPFR_ZERO = gmpy2.mpfr(0)
_MPFR_SPECIAL = {finf: gmpy2.inf(), fninf: -gmpy2.inf(), fnan: gmpy2.nan()}
_MPF_SPECIAL = {1: mpmath.inf, -1: mpmath.ninf}


def _mpfr_of(x: Any) -> Any:
    """The ``mpf`` ``x`` as an MPFR number, exactly (its own ``bc`` bits of mantissa)."""
    if type(x) is not mpmath.mpf:
        raise _NotMpf
    sign, man, exp, bc = x._mpf_
    if not man:
        return _MPFR_SPECIAL.get(x._mpf_, _MPFR_ZERO)
    return gmpy2.set_exp(gmpy2.mpfr(-man if sign else man, bc), bc + exp)


def _mpf_of(r: Any) -> mpmath.mpf:
    """The MPFR number ``r`` as an ``mpf``, exactly (no rounding: ``r`` already has working precision)."""
    if gmpy2.is_zero(r):
        return mpmath.mpf(0)
    if not gmpy2.is_finite(r):
        return mpmath.nan if gmpy2.is_nan(r) else _MPF_SPECIAL[gmpy2.sign(r)]
    man, exp = r.as_mantissa_exp()
    return mpmath.mp.make_mpf(from_man_exp(man, int(exp)))


_TO_MPFR = np.frompyfunc(_mpfr_of, 1, 1)
_TO_MPF = np.frompyfunc(_mpf_of, 1, 1)


def _mpfr_context() -> Any:
    """MPFR at mpmath's working precision (``mpmath.mp.prec`` bits), rounding to nearest (ties to even),
    as mpmath rounds: each ``+``, ``−``, ``×``, ``÷`` gives the same correctly rounded number in both."""
    return gmpy2.context(precision=mpmath.mp.prec, round=gmpy2.RoundToNearest)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` of plain arrays: NumPy ``object`` matmul's products and sums, in its order, on MPFR
    numbers (~7x faster than on ``mpf`` at 30 x 30, 50 digits) and converted back exactly; the result is
    the one ``object`` matmul gives on the ``mpf`` entries, bit for bit. An empty contraction, or an entry
    that is not an ``mpf``, runs on the ``mpf`` entries themselves."""
    if a.shape[-1] == 0:
        return a @ b
    with _mpfr_context():
        try:
            fa, fb = _TO_MPFR(a), _TO_MPFR(b)
        except _NotMpf:
            return a @ b
        return _TO_MPF(fa @ fb)


def _lu_factor(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """LU factorisation with partial pivoting of a plain square matrix: ``a[perm] = L U`` packed, on MPFR
    numbers when every entry is an ``mpf`` (the flag; the same operations in the same order as on the
    ``mpf`` entries, each correctly rounded at working precision)."""
    with _mpfr_context():
        try:
            return (*_lu_factor_entries(_TO_MPFR(a)), True)
        except _NotMpf:
            return (*_lu_factor_entries(np.array(a, dtype=object)), False)


def _lu_apply(factor: tuple[np.ndarray, np.ndarray, bool], b: np.ndarray) -> np.ndarray:
    """Solve ``L U x = b[perm]`` for a plain ``b`` of shape ``(n,)`` or ``(n, r)``."""
    lu, perm, mpfr = factor
    if not mpfr:
        return _lu_apply_entries(lu, perm, b)
    with _mpfr_context():
        try:
            fb = _TO_MPFR(b)
        except _NotMpf:
            return _lu_apply_entries(_TO_MPF(lu), perm, b)
        return _TO_MPF(_lu_apply_entries(lu, perm, fb))


def _lu_factor_entries(lu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LU with partial pivoting of the ``object`` array ``lu`` (a new array, factored in place)."""
    n = lu.shape[0]
    perm = np.arange(n)
    for k in range(n):
        pivot = k + int(np.argmax(np.abs(lu[k:, k])))
        if lu[pivot, k] == 0:
            raise np.linalg.LinAlgError("solve: matrix is singular at working precision")
        if pivot != k:
            lu[[k, pivot]] = lu[[pivot, k]]
            perm[[k, pivot]] = perm[[pivot, k]]
        lu[k + 1 :, k] = lu[k + 1 :, k] / lu[k, k]
        lu[k + 1 :, k + 1 :] -= np.multiply.outer(lu[k + 1 :, k], lu[k, k + 1 :])
    return lu, perm


def _lu_apply_entries(lu: np.ndarray, perm: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Forward and back substitution with the packed factors, on ``object`` arrays."""
    x = b[perm]
    n = lu.shape[0]
    for j in range(n - 1):
        x[j + 1 :] -= np.multiply.outer(lu[j + 1 :, j], x[j])
    for j in reversed(range(n)):
        x[j] = x[j] / lu[j, j]
        x[:j] -= np.multiply.outer(lu[:j, j], x[j])
    return x


_EXPM_THETA_BITS = 6
"""The scaled matrix has 1-norm at most ``2**-6``: each Taylor term gains >= 6 bits."""
_EXPM_EXTRA_TERMS = 4
"""Extra Taylor terms so that derivatives up to this order are truncated below working precision."""


def _expm_terms(precision_bits: int) -> int:
    """Taylor degree ``N`` with ``theta**(N+1)/(N+1)! < 2**-(precision + 10)``, plus extra terms."""
    n = 1
    while (n + 1) * _EXPM_THETA_BITS + math.lgamma(n + 2) / math.log(2) < precision_bits + 10:
        n += 1
    return n + _EXPM_EXTRA_TERMS


def _expm(a: Any) -> Arr:
    """Matrix exponential by scaling and squaring of a Taylor polynomial, differentiable.

    ``a`` is square (checked by the namespace). The matrix is scaled by ``2**-s`` to 1-norm at most
    ``2**-6`` (``s`` from the primal values), the Taylor polynomial (degree from the working precision)
    is evaluated by Horner's rule and squared ``s`` times, all with the dual operations so that Duals
    propagate through it (:func:`~pyspec.backends.duals.taylor_expm`).
    """
    norm = float(np.max(np.sum(np.abs(primal(a)), axis=0))) if a.shape[0] else 0.0
    return taylor_expm(a, norm, _EXPM_THETA_BITS, _expm_terms(mpmath.mp.prec), lambda s: mpmath.ldexp(1, -s))


MP_FIELD = ScalarField(
    name="mpmath",
    convert=_to_mpf,
    functions=_FUNCTIONS,
    shift=_shift,
    matmul=_matmul,
    factor=_lu_factor,
    apply=_lu_apply,
    expm=_expm,
)
"""The mpmath scalar field of :mod:`pyspec.backends.duals`: products of matrices and LU with partial
pivoting run on MPFR numbers (gmpy2) with mpmath's rounding, the Taylor matrix exponential; also the
default field outside every backend context."""

set_default_field(MP_FIELD)


# ---------------------------------------------------------------------------------------------
# the backend


class MpBackend(FieldBackend):
    """mpmath backend at ``digits`` decimal digits (see the module docstring).

    Parameters
    ----------
    digits : int
        Working precision in decimal digits (at least 16, so that float64 input converts exactly).
    """

    def __init__(self, digits: int) -> None:
        super().__init__(digits)
        self.name = f"mpmath-{digits}"

    def context(self) -> ContextManager[object]:
        """``mpmath.workdps(digits)`` with the mpmath field active; re-entrant."""
        stack = contextlib.ExitStack()
        stack.enter_context(mpmath.workdps(self.digits))
        stack.enter_context(use_field(MP_FIELD))
        return stack

    def eigvalsh(self, a: Any) -> np.ndarray:
        """Eigenvalues of the symmetric matrix ``a``, ascending (``mpmath.eigsy``)."""
        with self.context():
            a = plain("eigvalsh", a)
            check_square("eigvalsh", a)
            values = mpmath.eigsy(mpmath.matrix(a.tolist()), eigvals_only=True)
            return np.array(sorted(values), dtype=object)

    def svdvals(self, a: Any) -> np.ndarray:
        """Singular values of the matrix ``a``, descending (``mpmath.svd_r``)."""
        with self.context():
            a = plain("svdvals", a)
            if a.ndim != 2:
                raise ValueError(f"svdvals: expected a matrix, got shape {a.shape}")
            values = mpmath.svd_r(mpmath.matrix(a.tolist()), compute_uv=False)
            return np.array(sorted(values, reverse=True), dtype=object)

    def norm(self, x: Any) -> Any:
        """Frobenius norm: an mpf for a plain array, a 0-d Dual for a Dual."""
        with self.context():
            x = coerce(x)
            if isinstance(x, Dual):
                return xp.sqrt(xp.sum(xp.square(x)))
            return mpmath.sqrt(mpmath.fsum(x.ravel(), squared=True))

    def to_float(self, x: Any) -> float:
        """A plain scalar (mpf or 0-d array) as a Python float."""
        x = plain("to_float", x)
        if x.size != 1:
            raise ValueError(f"to_float: expected a scalar, got shape {x.shape}")
        return float(x.reshape(()).item())

    def to_numpy(self, x: Any) -> np.ndarray:
        """A plain array rounded to NumPy float64."""
        return plain("to_numpy", x).astype(np.float64)

    def all_finite(self, x: Any) -> bool:
        """Whether every entry (of the value and, for Duals, of every tangent) is finite and real.

        Complex entries (mpmath's ``(-1)**0.5``) count as not finite: the backend is real.
        """
        x = coerce(x)
        if isinstance(x, Dual):
            return self.all_finite(x.value) and self.all_finite(x.tangent)
        return all(not isinstance(v, mpmath.mpc) and mpmath.isfinite(v) for v in x.ravel())
