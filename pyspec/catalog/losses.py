"""Backend-neutral losses ``ℓ(y, *, xp) -> scalar`` used by the catalog and the strategies."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["softmax_cross_entropy", "softmax_cross_entropies", "log_probability_nll", "logistic", "exponential", "squared_error"]


def softmax_cross_entropies(labels: np.ndarray, classes: int) -> Callable[..., Any]:
    """Per-sample softmax cross-entropies ``(ℓ_1..ℓ_N)`` of logits ``y = vec(Z)``, ``Z`` of shape
    ``(classes, N)`` (row-major): ``ℓ_j = log(1 + Σ_{i≠c_j} exp(Z[i, j] − Z[c_j, j]))``.

    This equals ``logsumexp(Z[:, j]) − Z[c_j, j]``; the ``log1p`` form keeps the gradient's
    ``p_c − 1 = −Σ_{i≠c} p_i`` free of cancellation when the correct class dominates (``logsumexp`` −
    ``Z_c`` computes it as ``p_c − 1``, losing ``log10(1/(1 − p_c))`` digits in float64).
    """
    labels = np.asarray(labels)
    onehot = np.zeros((classes, labels.size))
    onehot[labels, np.arange(labels.size)] = 1.0
    others = 1.0 - onehot

    def losses(y: Any, *, xp: Any) -> Any:
        Z = xp.reshape(y, (classes, labels.size))
        correct = xp.sum(Z * onehot, axis=0)
        return xp.log1p(xp.sum(others * xp.exp(Z - correct), axis=0))

    return losses


def softmax_cross_entropy(labels: np.ndarray, classes: int) -> Callable[..., Any]:
    """Mean softmax cross-entropy of logits ``y = vec(Z)``, ``Z`` of shape ``(classes, N)`` (row-major):
    the mean of :func:`softmax_cross_entropies`. Its Hessian is ``diag(p) − ppᵀ`` per sample, divided by
    ``N`` (docs/theory.md#corollary-3-last-layer).
    """
    per_sample = softmax_cross_entropies(labels, classes)

    def loss(y: Any, *, xp: Any) -> Any:
        return xp.mean(per_sample(y, xp=xp))

    return loss


def logistic(signs: np.ndarray) -> Callable[..., Any]:
    """Mean logistic loss ``(1/N) Σ softplus(−s_i y_i)`` for margins ``s_i y_i``."""
    signs = np.asarray(signs, dtype=np.float64)

    def loss(y: Any, *, xp: Any) -> Any:
        return xp.mean(xp.softplus(-(signs * y)))

    return loss


def exponential(signs: np.ndarray) -> Callable[..., Any]:
    """Mean exponential loss ``(1/N) Σ exp(−s_i y_i)``."""
    signs = np.asarray(signs, dtype=np.float64)

    def loss(y: Any, *, xp: Any) -> Any:
        return xp.mean(xp.exp(-(signs * y)))

    return loss


def squared_error(targets: np.ndarray) -> Callable[..., Any]:
    """Half mean squared error ``(1/2N) Σ (y_i − t_i)²``."""
    targets = np.asarray(targets, dtype=np.float64)

    def loss(y: Any, *, xp: Any) -> Any:
        return 0.5 * xp.mean(xp.square(y - targets))

    return loss


def log_probability_nll(labels: np.ndarray, classes: int) -> Callable[..., Any]:
    """Mean negative log-likelihood of log-probabilities ``y = vec(log p)``, shape ``(classes, N)``."""
    labels = np.asarray(labels)
    onehot = np.zeros((classes, labels.size))
    onehot[labels, np.arange(labels.size)] = 1.0

    def loss(y: Any, *, xp: Any) -> Any:
        return -xp.sum(xp.reshape(y, (classes, labels.size)) * onehot) / labels.size

    return loss
