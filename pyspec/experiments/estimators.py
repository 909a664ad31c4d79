"""Estimators behind the verdicts: log-log slope fit, Monte Carlo means with standard errors, shares.

Pure numpy functions; each has a unit test with a negative control in ``tests/test_experiments.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["SlopeFit", "MonteCarloMean", "loglog_slope", "monte_carlo_mean", "cumulative_share"]


class SlopeFit(NamedTuple):
    """Least-squares line ``log10 y = slope · log10 x + intercept`` and the slope's standard error."""

    slope: float
    intercept: float
    stderr: float


def loglog_slope(x: np.ndarray, y: np.ndarray) -> SlopeFit:
    """Fit the exponent ``α`` of ``y ≈ C x^α`` by ordinary least squares on ``(log10 x, log10 y)``.

    Used for the order of the per-step drift of conserved quantities in ``η`` (docs/theory.md#symmetry-and-conservation-laws: a
    conserved quadratic quantity drifts by ``O(η²)`` per gradient-descent step, a generic one by
    ``O(η)``).

    Parameters
    ----------
    x, y : (K,) arrays, positive, ``K ≥ 3``

    Returns
    -------
    SlopeFit
        ``stderr`` is the usual OLS standard error ``sqrt(s² / Σ(u − ū)²)`` with ``s²`` the residual
        variance on ``K − 2`` degrees of freedom.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ValueError(f"need two 1-D arrays of equal length >= 3, got {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("a log-log fit needs positive x and y")
    u, w = np.log10(x), np.log10(y)
    du = u - u.mean()
    slope = float(du @ (w - w.mean()) / (du @ du))
    intercept = float(w.mean() - slope * u.mean())
    resid = w - (slope * u + intercept)
    stderr = float(np.sqrt((resid @ resid) / (u.size - 2) / (du @ du)))
    return SlopeFit(slope, intercept, stderr)


class MonteCarloMean(NamedTuple):
    """Sample mean, its standard error ``s/√R`` and the z-score of the mean against a reference."""

    mean: float
    stderr: float
    z: float


def monte_carlo_mean(samples: np.ndarray, reference: float = 0.0) -> MonteCarloMean:
    """Mean of i.i.d. samples with its Monte Carlo standard error and ``z = (mean − reference)/SE``.

    For paired differences (measured minus predicted on the same runs) use ``reference = 0``: the
    prediction is rejected at level ~1% when ``|z| > 2.58`` (normal approximation, ``R ≳ 30``).

    Parameters
    ----------
    samples : (R,) array, ``R ≥ 2``
    reference : float
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    if s.size < 2:
        raise ValueError("a standard error needs at least two samples")
    mean = float(s.mean())
    stderr = float(s.std(ddof=1) / np.sqrt(s.size))
    z = (mean - reference) / stderr if stderr > 0 else (0.0 if mean == reference else np.inf)
    return MonteCarloMean(mean, stderr, float(z))


def cumulative_share(vector: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Share of ``‖x‖²`` in the span of the first ``q`` columns of an orthonormal basis, for every ``q``.

    Corollary 1: with ``basis`` the Hessian's eigenvectors ordered by ``|λ|`` (largest first), the
    gradient's share reaches 1 at ``q = rank H`` (``∇L ∈ col H``).

    Parameters
    ----------
    vector : (n,) or (n, R) array
    basis : (n, n) array with orthonormal columns

    Returns
    -------
    (n,) or (n, R) array: entry ``q − 1`` is ``Σ_{i≤q} ⟨x, u_i⟩² / ‖x‖²``.
    """
    coefficients = basis.T @ np.asarray(vector, dtype=np.float64)
    energy = coefficients**2
    return np.cumsum(energy, axis=0) / np.sum(energy, axis=0)
