"""Numerical rank of a spanning set, with the gap that decides it, in float64 or at any precision.

A rank is decided by a *gap*: singular values (relative to the largest) above ``accept`` count, those
below ``reject`` do not, and any value in between makes the decision *ambiguous* (then the caller
recomputes at higher precision). In float64 the rejected values of an exactly dependent set are
rounding errors, about ``1e-16`` to ``1e-13`` relative; at ``D`` digits they are near ``10^-D``.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, NamedTuple

import mpmath
import numpy as np
import scipy.linalg

__all__ = ["Arithmetic", "FLOAT64", "mp_arithmetic", "RankSplit", "split_rows", "DENSE_SVD_MAX"]

DENSE_SVD_MAX = 500
"""Above this many columns, float64 ranks of large row sets (depth 1) use :func:`_randomized_split`
instead of a full SVD."""

NULL_ITERATIONS = 2
"""Inverse-iteration steps of :func:`_randomized_split`."""


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
    failure_probability : float
        Bound on the probability that a randomized null space missed a null direction (``0.0`` for
        a full SVD).
    """

    rank: int
    values: np.ndarray
    complement: Any
    gap: float
    ambiguous: bool
    failure_probability: float = 0.0


def _decide(values: np.ndarray, arithmetic: Arithmetic) -> tuple[int, float, bool]:
    threshold = np.sqrt(arithmetic.accept * arithmetic.reject)
    rank = int(np.sum(values > threshold))
    smallest_in = values[rank - 1] if rank else 1.0
    largest_out = values[rank] if rank < values.size else 0.0
    gap = float(smallest_in / largest_out) if largest_out > 0 else np.inf
    ambiguous = bool(np.any((values > arithmetic.reject) & (values < arithmetic.accept)))
    return rank, gap, ambiguous


def split_rows(
    A: Any,
    arithmetic: Arithmetic = FLOAT64,
    *,
    unit_rows: bool = False,
    dense_max: int = DENSE_SVD_MAX,
    seed: int = 0,
    product: Callable[[np.ndarray], np.ndarray] | None = None,
) -> RankSplit:
    """Rank of the rows of ``A`` (``p × n``) and the orthonormal complement of their span.

    Parameters
    ----------
    unit_rows : bool
        The rows were normalized to norm 1 before a projection: singular values are then compared
        with 1, not with the largest one (a set that projects to rounding noise has rank 0).
    product : callable or None
        ``Z ↦ A Z`` computed without reading ``A`` (e.g. from the generator of its rows). When
        given, the large-``n`` float64 path factors ``A`` in place, overwriting it (no copy of
        ``A``; the caller must be done with it), and checks the null space with ``product``.

    Rows that are exactly zero are allowed; a ``0 × n`` matrix has rank 0 and complement ``I``.
    """
    p, n = A.shape
    if arithmetic.digits is None:
        A = np.asarray(A, dtype=np.float64)
        if p == 0 or not np.any(A):
            return RankSplit(0, np.zeros(0), np.eye(n), np.inf, False)
        if n <= dense_max or unit_rows:
            _, s, Vt = np.linalg.svd(A, full_matrices=True)
            values = s / (1.0 if unit_rows else s[0])
            rank, gap, ambiguous = _decide(values, arithmetic)
            return RankSplit(rank, values, Vt[rank:].T.copy(), gap, ambiguous)
        return _randomized_split(A, arithmetic, np.random.default_rng(seed), product=product)
    with mpmath.workdps(arithmetic.digits):
        if p == 0:
            return RankSplit(0, np.zeros(0), _mp_eye(n), np.inf, False)
        U, S, V = mpmath.svd_r(mpmath.matrix(A.tolist()), full_matrices=True)
        sigma = [S[i] for i in range(min(p, n))]
        if sigma[0] == 0:
            return RankSplit(0, np.zeros(0), _mp_eye(n), np.inf, False)
        top = mpmath.mpf(1) if unit_rows else sigma[0]
        values = np.array([float(x / top) for x in sigma])
        rank, gap, ambiguous = _decide(values, arithmetic)
        Vt = np.array([[V[i, j] for j in range(n)] for i in range(n)], dtype=object)
        return RankSplit(rank, values, Vt[rank:].T.copy(), gap, ambiguous)


def _mp_eye(n: int) -> np.ndarray:
    out = np.full((n, n), mpmath.mpf(0), dtype=object)
    for i in range(n):
        out[i, i] = mpmath.mpf(1)
    return out


def _randomized_split(
    A: np.ndarray,
    arithmetic: Arithmetic,
    rng: np.random.Generator,
    oversample: int = 10,
    product: Callable[[np.ndarray], np.ndarray] | None = None,
) -> RankSplit:
    """The null space of a large ``A`` (``p × n``) by inverse subspace iteration on a factorization.

    A factorization ``A₁ = L U`` of ``n`` of the rows (:func:`_square_factor`: LU with partial
    pivoting, ``2/3 n³`` flops, or Householder QR when the LU's growth is large) gives
    ``(A₁ᵀA₁)⁻¹ = U⁻¹L⁻¹L⁻ᵀU⁻ᵀ`` by four triangular solves (pivots below ``ε‖U‖`` are raised to
    it). ``s`` Gaussian vectors go through :data:`NULL_ITERATIONS` steps of
    ``Z ← orth((A₁ᵀA₁)⁻¹ Z)``: a direction of singular value ``σ`` grows like ``σ⁻²`` per step, so
    the null space (``σ ≲ 1e-13‖A‖``) dominates every direction above the accept threshold
    (``1e-6‖A‖``) by ``≥ 1e14`` per step. As ``null(A) ⊆ null(A₁)``, ``Z`` holds ``null(A)``; the
    rank is then read from the singular values of ``A Z`` (all rows, by ``product`` when given:
    then ``A`` is factored in place). ``s`` starts at the number of pivots below ``1e-8`` of the
    largest plus ``2·oversample``, and doubles until at least ``oversample`` of the ``s``
    directions are not null.

    Failure probability: Gaussian subspace iteration with ``oversample = p`` extra vectors captures
    the null space, given the gap, except with probability at most ``6 p^{-p}`` (Halko, Martinsson &
    Tropp, SIAM Rev. 2011, §1.5 and Thm. 10.8): ``6e-10`` for ``p = 10``.
    """
    n = A.shape[1]
    norm_a = _norm2(A, rng)  # before A is overwritten
    times = product if product is not None else (lambda Z: A @ Z)
    factor = _square_factor(A, product)
    # LU and QR usually leave one tiny pivot per null direction: a first guess of the nullity
    # (the loop below corrects it either way).
    s = max(2 * oversample, factor.small + 2 * oversample)
    while True:
        s = min(s, n)
        Z = rng.standard_normal((n, s))
        for _ in range(NULL_ITERATIONS):
            Z, _ = scipy.linalg.qr(factor.inverse_gram(Z), mode="economic", check_finite=False)
        _, sig, Vt = np.linalg.svd(times(Z), full_matrices=False)
        values = sig / norm_a
        block_rank, gap, ambiguous = _decide(values, arithmetic)
        if block_rank >= oversample or s == n:
            nulls = s - block_rank
            failure = 6.0 * float(oversample) ** -oversample
            return RankSplit(n - nulls, values, Z @ Vt[block_rank:].T, gap, ambiguous, failure)
        s *= 2


GROWTH_MAX = 1e3
"""Largest growth ``max|U| / max|A|`` of the LU accepted; above it, Householder QR is used."""


class _Factor(NamedTuple):
    """``Z ↦ (A₁ᵀA₁)⁻¹ Z``, and the number of pivots below ``1e-8`` of the largest."""

    inverse_gram: Callable[[np.ndarray], np.ndarray]
    small: int


def _square_factor(A: np.ndarray, product: Callable[[np.ndarray], np.ndarray] | None) -> _Factor:
    """``(A₁ᵀA₁)⁻¹`` for ``A₁`` the pivot rows of ``A`` (zero rows appended when ``p < n``).

    LU with partial pivoting, ``P A = [L₁; L₂] U``, ``A₁ = L₁U``, backward stable with the error
    ``≲ ρ ε ‖A‖`` where ``ρ = max|U| / max|A|`` is the growth (Higham, *Accuracy and Stability*,
    Thm. 9.5): kept when ``ρ ≤`` :data:`GROWTH_MAX`, else Householder QR (``A = QR``, ``A₁ = R``,
    twice the flops, unconditionally stable; ``A`` is recomputed as ``product(I)`` if it was
    factored in place).
    """
    p_rows, n = A.shape
    largest = max(float(A.max()), -float(A.min()), 1e-300)
    in_place = product is not None and p_rows >= n and A.dtype == np.float64 and A.flags.f_contiguous
    if in_place:
        work = A
    else:
        work = np.zeros((max(p_rows, n), n), order="F")
        work[:p_rows] = A
    with warnings.catch_warnings():  # an exactly zero pivot is expected: A is rank-deficient
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        lu, _ = scipy.linalg.lu_factor(work, overwrite_a=True, check_finite=False)
    LU = _leading_square(lu)
    del lu, work
    if _upper_max(LU) <= GROWTH_MAX * largest:
        lower = True
    else:
        # (in_place implies a product: A was overwritten, its rows are recomputed)
        R: np.ndarray = np.linalg.qr(  # type: ignore[assignment]  # numpy stub: mode "r" returns R, not QRResult
            product(np.eye(n)) if in_place and product is not None else A, mode="r")
        LU = np.zeros((n, n), order="F")
        LU[: R.shape[0]] = R
        lower = False
    diag = np.abs(np.diag(LU))
    floor = np.finfo(np.float64).eps * max(float(diag.max()), 1e-300)
    tiny = np.flatnonzero(diag < floor)
    LU[tiny, tiny] = floor
    small = int(np.sum(diag < 1e-8 * diag.max()))

    def solve(Z: np.ndarray, **kw: Any) -> np.ndarray:
        return scipy.linalg.solve_triangular(LU, Z, check_finite=False, **kw)

    def inverse_gram(Z: np.ndarray) -> np.ndarray:
        Z = solve(Z, trans="T")
        if lower:
            Z = solve(solve(Z, trans="T", lower=True, unit_diagonal=True), lower=True, unit_diagonal=True)
        return solve(Z)

    return _Factor(inverse_gram, small)


def _leading_square(T: np.ndarray) -> np.ndarray:
    """The leading ``n × n`` block of an F-ordered ``p × n`` array, made contiguous in ``T``'s own
    memory (columns moved down in order; ``T`` below that block is then garbage): LAPACK's
    triangular solves need a contiguous matrix, and a fresh copy would cost ``8n²`` bytes."""
    p, n = T.shape
    if p == n:
        return T
    flat = T.reshape(-1, order="F")  # a view: T is F-contiguous
    for j in range(1, n):
        flat[j * n : (j + 1) * n] = flat[j * p : j * p + n]  # overlapping slices: NumPy buffers them
    return flat[: n * n].reshape((n, n), order="F")


def _upper_max(T: np.ndarray, block: int = 512) -> float:
    """``max |T_ij|`` over ``i ≤ j``, a block of columns at a time (no full-size temporary)."""
    return max(float(np.abs(np.triu(T[: j + block, j : j + block], k=-j)).max()) for j in range(0, T.shape[1], block))


def _norm2(A: np.ndarray, rng: np.random.Generator, block: int = 8, steps: int = 2) -> float:
    """``‖A‖₂`` by block power iteration (a few passes over ``A``; relative error ≲ 1e-2 on a
    spectrum like a Jacobian's, far inside the ``1e4`` between the thresholds)."""
    V = rng.standard_normal((A.shape[1], block))
    for _ in range(steps):
        V, _ = np.linalg.qr(A.T @ (A @ V))
    return float(np.linalg.svd(A @ V, compute_uv=False)[0])
