"""Numerical rank of a spanning set, with the gap that decides it, in float64 or at any precision.

A rank is decided by a *gap*: singular values (relative to the largest) above ``accept`` count, those
below ``reject`` do not, and any value in between makes the decision *ambiguous* (then the caller
recomputes at higher precision). In float64 the rejected values of an exactly dependent set are
rounding errors, about ``1e-16`` to ``1e-13`` relative; at ``D`` digits they are near ``10^-D``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import mpmath
import numpy as np
import scipy.linalg

__all__ = ["Arithmetic", "FLOAT64", "mp_arithmetic", "RankSplit", "split_rows", "DENSE_SVD_MAX"]

DENSE_SVD_MAX = 2500
"""Above this many columns, float64 ranks use QR with column pivoting (LAPACK ``geqp3``, about a third
of an SVD's cost) instead of the SVD: its ``|R_ii|`` reveal the rank for all but contrived
(Kahan-type) matrices, and the complement is the trailing columns of its ``Q``."""


class Arithmetic(NamedTuple):
    """Where ranks are computed.

    Attributes
    ----------
    digits : int or None
        ``None`` for float64, else the mpmath working precision in decimal digits.
    accept, reject : float
        Relative singular values ``≥ accept`` are independent directions, ``≤ reject`` are zero.
    """

    digits: int | None
    accept: float
    reject: float


FLOAT64 = Arithmetic(digits=None, accept=1e-6, reject=1e-10)
"""float64: a direction needs ``1e-6`` of the largest singular value; rounding stays below ``1e-10``
(nested autodiff of depth ≤ 6 loses at most a few digits of the ``1e-16`` unit round-off)."""


def mp_arithmetic(digits: int) -> Arithmetic:
    """``digits``-digit arithmetic: rounding stays below ``10^-(digits-10)``, and anything above
    ``10^-(digits-10)/2`` (``1e-20`` at 50 digits) is a direction: float64's undecidable band
    ``[1e-10, 1e-6]`` is decided."""
    return Arithmetic(digits=digits, accept=10.0 ** (-(digits - 10) / 2), reject=10.0 ** (-(digits - 10)))


class RankSplit(NamedTuple):
    """The rank of the rows of a matrix and the orthogonal complement of their span.

    Attributes
    ----------
    rank : int
    values : numpy.ndarray
        Singular values (or ``|R_ii|`` of pivoted QR) relative to the largest, descending (float64).
    complement : array
        ``(n, n − rank)`` orthonormal basis of the vectors orthogonal to every row (float64 NumPy or
        an object array of ``mpmath.mpf``).
    gap : float
        Smallest accepted over largest rejected relative value (``inf`` when nothing is rejected).
    ambiguous : bool
        Some value lies strictly between ``reject`` and ``accept``.
    """

    rank: int
    values: np.ndarray
    complement: Any
    gap: float
    ambiguous: bool


def _decide(values: np.ndarray, arithmetic: Arithmetic) -> tuple[int, float, bool]:
    threshold = np.sqrt(arithmetic.accept * arithmetic.reject)
    rank = int(np.sum(values > threshold))
    smallest_in = values[rank - 1] if rank else 1.0
    largest_out = values[rank] if rank < values.size else 0.0
    gap = float(smallest_in / largest_out) if largest_out > 0 else np.inf
    ambiguous = bool(np.any((values > arithmetic.reject) & (values < arithmetic.accept)))
    return rank, gap, ambiguous


def split_rows(A: Any, arithmetic: Arithmetic = FLOAT64, *, unit_rows: bool = False) -> RankSplit:
    """Rank of the rows of ``A`` (``p × n``) and the orthonormal complement of their span.

    Parameters
    ----------
    unit_rows : bool
        The rows were normalized to norm 1 before a projection: singular values are then compared
        with 1, not with the largest one (a set that projects to rounding noise has rank 0).

    Rows that are exactly zero are allowed; a ``0 × n`` matrix has rank 0 and complement ``I``.
    """
    p, n = A.shape
    if arithmetic.digits is None:
        A = np.asarray(A, dtype=np.float64)
        if p == 0 or not np.any(A):
            return RankSplit(0, np.zeros(0), np.eye(n), np.inf, False)
        if n <= DENSE_SVD_MAX:
            _, s, Vt = np.linalg.svd(A, full_matrices=True)
            values = s / (1.0 if unit_rows else s[0])
            rank, gap, ambiguous = _decide(values, arithmetic)
            return RankSplit(rank, values, Vt[rank:].T.copy(), gap, ambiguous)
        Q, R, _ = scipy.linalg.qr(A.T, mode="full", pivoting=True, check_finite=False)
        d = np.abs(np.diag(R))
        values = d / (1.0 if unit_rows else d[0])
        rank, gap, ambiguous = _decide(values, arithmetic)
        return RankSplit(rank, values, Q[:, rank:], gap, ambiguous)
    with mpmath.workdps(arithmetic.digits):
        if p == 0:
            return RankSplit(0, np.zeros(0), _mp_eye(n), np.inf, False)
        U, S, V = mpmath.svd_r(mpmath.matrix(A.tolist()), full_matrices=True)
        s = [S[i] for i in range(min(p, n))]
        if s[0] == 0:
            return RankSplit(0, np.zeros(0), _mp_eye(n), np.inf, False)
        top = mpmath.mpf(1) if unit_rows else s[0]
        values = np.array([float(x / top) for x in s])
        rank, gap, ambiguous = _decide(values, arithmetic)
        Vt = np.array([[V[i, j] for j in range(n)] for i in range(n)], dtype=object)
        return RankSplit(rank, values, Vt[rank:].T.copy(), gap, ambiguous)


def _mp_eye(n: int) -> np.ndarray:
    out = np.full((n, n), mpmath.mpf(0), dtype=object)
    for i in range(n):
        out[i, i] = mpmath.mpf(1)
    return out
