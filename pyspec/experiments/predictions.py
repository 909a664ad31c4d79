"""The paper's predictions as small pure functions (float64, numpy/JAX), one per experiment.

Each is the closed-form right-hand side that an experiment compares with a measurement. The
pointwise identity checks of :mod:`pyspec` (``pyspec.sharpness_lower_bound``,
``pyspec.corollary2_noether_flow``, …) are run beside them as cross-checks at one point per
experiment; these functions are the vectorised forms used along whole trajectories.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "flow_drift_bound",
    "noether_drift_rate",
    "sharpness_bound",
    "gradient_coefficients",
    "symmetry_kernel_lower_bound",
    "softmax_variance_curvature",
]


def flow_drift_bound(integration_error: float, norm_numeric: float, norm_exact: float) -> float:
    """Bound on ``‖Q(θ_h) − Q(θ)‖`` for a conserved quadratic charge under a gradient-flow integrator.

    §4.1: ``‖u‖² − ‖w‖²`` (per neuron) and ``W₁W₁ᵀ − W₂ᵀW₂`` are constant under gradient flow, so any
    change is integration error. Both charges are differences of Gram forms of disjoint blocks, so
    ``‖Q(a) − Q(b)‖ ≤ ‖a − b‖(‖a‖ + ‖b‖)``.

    Parameters
    ----------
    integration_error : float
        Estimate of ``‖θ_h(T) − θ(T)‖`` (e.g. Richardson from step doubling).
    norm_numeric, norm_exact : float
        ``‖θ_h(T)‖`` and (an estimate of) ``‖θ(T)‖``.
    """
    return integration_error * (norm_numeric + norm_exact)


def noether_drift_rate(trace_A_sigma: jax.Array, grad_A_grad: jax.Array, eta: float,
                       batch: int | jax.Array) -> tuple[jax.Array, jax.Array]:
    """Corollary 2 (§5.2) for SGD: the expected rate ``dQ/dt`` of ``Q = ½θᵀAθ`` per unit time ``t = ηk``.

    For a per-sample symmetry ``e^{aA}`` with ``A = Aᵀ`` one SGD step with a batch of ``b`` samples
    drawn with replacement changes ``Q`` exactly by ``(η²/2) ĝᵀAĝ`` (the first-order term vanishes
    per sample), whose conditional mean is ``(η²/2)(Tr(AΣ)/b + ∇LᵀA∇L)``. Per unit time:

    * SGF term (Corollary 2): ``σ² Tr(AΣ)`` with ``σ² = η/(2b)``;
    * discretization term (docs/theory.md#corollary-2-correction, dropped by the SDE): ``(η/2) ∇LᵀA∇L``.

    ``batch`` (``b``) may be a JAX scalar, e.g. traced under ``jax.jit``.

    Returns
    -------
    (sgf, discretization)
    """
    sigma2 = eta / (2 * batch)
    return sigma2 * trace_A_sigma, eta / 2 * grad_A_grad


def sharpness_bound(degree: float, y: jax.Array, g: jax.Array, K: jax.Array, sqnorm: jax.Array) -> jax.Array:
    """Sharpness lower bound (§5.1): ``λ_max(H) ≥ (p² yᵀKy + p(p−1)⟨g, y⟩)/‖θ‖²``.

    ``y = f(θ)``, ``g = ∇ℓ(y)``, ``K = ∇²ℓ(y)`` (a matrix, or its diagonal as a vector for a separable
    loss such as the mean exponential loss over margins), ``sqnorm = ‖θ‖²``.
    """
    yKy = y @ (K @ y) if K.ndim == 2 else jnp.sum(K * y * y)
    return (degree**2 * yKy + degree * (degree - 1) * (g @ y)) / sqnorm


def gradient_coefficients(eigenvalues: np.ndarray, eigenvectors: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Corollary 1 (§5.1, ``m = 1``): ``∇L = c Hθ``, so ``⟨∇L, u_i⟩ ∝ λ_i ⟨θ, u_i⟩``.

    Returns the predicted coefficients of the gradient in the eigenbasis up to the common factor
    ``c = ℓ′/κ`` (which cancels in every share).
    """
    return eigenvalues * (eigenvectors.T @ theta)


def symmetry_kernel_lower_bound(v: np.ndarray, rtol: float = 1e-8) -> int:
    """§5.4: at a stationary point ``dim ker H ≥ rank v`` (columns of ``v`` = symmetry directions).

    ``rank v`` counts singular values above ``rtol · σ_max``.
    """
    s = np.linalg.svd(np.asarray(v), compute_uv=False)
    return int(np.sum(s > rtol * s[0]))


def softmax_variance_curvature(logits: jax.Array, B: jax.Array) -> jax.Array:
    """Corollary 3 (§5.3), softmax cross-entropy: ``(BW, 0)ᵀH(BW, 0) = mean_n Var_{j∼p_n}[(B y_n)_j]``.

    Parameters
    ----------
    logits : (m, N) array
        ``Y = W h(φ)``, one column per sample; ``p_n = softmax(Y[:, n])``.
    B : (m, m) array
    """
    p = jax.nn.softmax(logits, axis=0)
    z = B @ logits
    mean = jnp.sum(p * z, axis=0)
    return jnp.mean(jnp.sum(p * z * z, axis=0) - mean**2)
