"""§5.2: Noether flow under stochastic gradient flow, Corollary 2 (docs/theory.md#corollary-2-noether-flow).

Per-sample losses ``ℓ_i(θ)``, ``i = 1..N``, uniform over the samples: ``L = mean_i ℓ_i`` and the noise
covariance ``Σ = mean_i ∇ℓ_i∇ℓ_iᵀ − ∇L∇Lᵀ``. Every ``ℓ_i`` is invariant under ``T(a, θ) = e^{aA}θ``, so
``v(θ) = Aθ``. For the SGF ``dθ = −∇L dt + √(2σ²Σ) dW`` (SGD with learning rate ``η`` and batch 1:
``σ² = η/2``) and a symmetric ``A``, the charge ``Q = ½θᵀAθ`` obeys, pathwise,

    dQ/dt = σ² Tr(AΣ) = −(σ²/2) ⟨∇Tr Σ, v⟩,

with no martingale part because ``Σv = 0``. One SGD step with batch 1 gives exactly
``E_i[Q(θ − η∇ℓ_i)] − Q(θ) = (η²/2)(Tr(AΣ) + ∇LᵀA∇L)``; the increments are evaluated as
``Q(θ + d) − Q(θ) = ½ dᵀA(2θ + d)`` (exact for the quadratic ``Q``, free of cancellation). The Itô drift is computed from the
derivatives of ``Q`` (``−∇Q·∇L + σ² Tr(Σ∇²Q)``), not from the formula being checked.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import numpy as np

from pyspec.application_verdicts import three_valued
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.certify import certifiable
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Equivariance, Problem
from pyspec.errors import ShapeError
from pyspec.report import Report, bind_checked, norm, vanishes

__all__ = ["LEARNING_RATE", "NOETHER_SCALE", "corollary2_noether_flow", "noether_problem", "noether_report"]

NOETHER_SCALE = 0.37
"""The ``a`` at which the per-sample symmetry ``ℓ_i(e^{aA}θ) = ℓ_i(θ)`` is tested (and nearby)."""

LEARNING_RATE = 0.1
"""Default SGD learning rate ``η`` (batch 1; ``σ² = η/2``)."""


def _mean_loss(y: Array, *, xp: Any) -> Array:
    return xp.mean(y)


def noether_problem(sample_losses: Callable[..., Array], generator: np.ndarray, theta: Any, backend: Any,
                    check: bool = True) -> tuple[Problem, Array]:
    """Bind the per-sample losses as the model (output ``(ℓ_1..ℓ_N)``, loss = mean) with the symmetry
    ``T(a, θ) = e^{aA}θ``, and check it for every sample unless ``check=False``."""
    A = np.asarray(generator, dtype=np.float64)
    n = sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(theta))
    if A.shape != (n, n):
        raise ShapeError(f"the generator A must be n x n with n = {n} parameters, got shape {A.shape}")
    eq = Equivariance(
        model=sample_losses,
        T=lambda a, th, *, xp: xp.expm(a[0] * xp.asarray(A)) @ th,
        name=f"{getattr(sample_losses, '__name__', 'sample losses')} (exp(aA))",
    )
    problem, _, th, _ = bind_checked(eq, _mean_loss, np.array([NOETHER_SCALE]), theta, backend, check)
    return problem, th


class NoetherTerms(NamedTuple):
    """The derivatives Corollary 2 needs at ``θ`` (:func:`noether_report`), ``Q = θᵀAθ/2``."""

    per_sample: Array
    """``∂ℓ_i/∂θ`` (``N × n``): ``Σ = GᵀG/N − ∇L∇Lᵀ``."""
    grad_L: Array
    """``∇L``, ``L`` the mean loss."""
    grad_trace: Array
    """``∇ Tr Σ``: the trace identity's right side."""
    grad_Q: Array
    """``∇Q``: the drift's first term."""
    hess_Q: Array
    """``∇²Q``: the Itô term."""


def noether_report(problem: Problem, theta: Array, generator: np.ndarray, eta: float) -> Report:
    """:func:`corollary2_noether_flow` for a bound problem."""
    B = problem.backend
    xp = B.xp
    A = B.asarray(np.asarray(generator, dtype=np.float64))
    h = B.asarray(eta)  # exact: its powers are then formed at working precision
    N = problem.m

    def Q(t: Array) -> Array:
        return (t @ (A @ t)) / 2

    def trace_sigma(t: Array) -> Array:
        per_sample, grad = B.jacobian(problem.f, t), B.jacobian(problem.L, t)
        return xp.sum(per_sample * per_sample) / N - grad @ grad

    def body(t: Array) -> NoetherTerms:
        return NoetherTerms(per_sample=B.jacobian(problem.f, t), grad_L=B.jacobian(problem.L, t),
                            grad_trace=B.jacobian(trace_sigma, t), grad_Q=B.jacobian(Q, t),
                            hess_Q=B.jacobian(lambda s: B.jacobian(Q, s), t))

    q = B.to_host(B.compile(body)(theta))
    G, grad = q.per_sample, q.grad_L
    sigma = G.T @ G / N - xp.outer(grad, grad)
    v = A @ theta
    trace_A_sigma = xp.sum(A * sigma.T)
    sigma2 = h / 2
    norm_sigma = norm(B, G) ** 2 / N + norm(B, grad) ** 2
    norm_A, norm_v, norm_trace = norm(B, A), norm(B, v), norm(B, q.grad_trace)
    tol = tolerance(B, problem.n + N)
    parts = {
        "noise_null": vanishes(B, "corollary2_noether_flow", sigma @ v, tol, norm_sigma * norm_v),
        "trace_identity": compare(B, "corollary2_noether_flow", trace_A_sigma,
                                  {"trace_gradient": -(q.grad_trace @ v) / 2}, tol,
                                  norm_A * norm_sigma + norm_trace * norm_v / 2),
    }
    symmetric = bool(np.array_equal(np.asarray(generator), np.asarray(generator).T))
    notes: tuple[str, ...] = ()
    if symmetric:
        drift = -(q.grad_Q @ grad) + sigma2 * xp.sum(sigma * q.hess_Q.T)
        s2 = B.to_float(sigma2)
        drift_scale = norm(B, q.grad_Q) * norm(B, grad) + s2 * norm_sigma * norm(B, q.hess_Q)
        parts["ito_drift"] = compare(B, "corollary2_noether_flow", drift, {"noise": sigma2 * trace_A_sigma}, tol,
                                     drift_scale + s2 * norm_A * norm_sigma)
        parts["noether_flow"] = compare(B, "corollary2_noether_flow", drift,
                                        {"trace_gradient": -sigma2 * (q.grad_trace @ v) / 2}, tol,
                                        drift_scale + s2 * norm_trace * norm_v / 2)
        # Q(θ + d) − Q(θ) = ½ dᵀA(2θ + d) exactly for symmetric A (no cancellation between Q values);
        # it is rounded at the size ½‖A‖‖d‖‖2θ + d‖
        steps = -h * G
        step = sum(steps[i] @ (A @ (2 * theta + steps[i])) for i in range(N)) / (2 * N)
        step_scale = norm_A * abs(eta) * norm(B, G) * (norm(B, theta) + abs(eta) * norm(B, G))
        parts["sgd_step"] = compare(
            B, "corollary2_noether_flow", step,
            {"noise": h * h / 2 * trace_A_sigma, "discretization": h * h / 2 * (grad @ (A @ grad))},
            tol, step_scale,
        )
    else:
        notes = ("A is not symmetric: Q = theta^T A theta / 2 is not a charge (grad Q != A theta), so only "
                 "Sigma v = 0 and Tr(A Sigma) = -<grad Tr Sigma, v>/2 (true for any A) are reported",)
    details = {"sigma2": B.to_float(sigma2), "trace_A_sigma": B.to_float(trace_A_sigma), "symmetric": symmetric}
    return Report("corollary2_noether_flow", parts, details, notes)


@certifiable
@three_valued
def corollary2_noether_flow(
    sample_losses: Callable[..., Array],
    generator: np.ndarray,
    theta: Any,
    *,
    eta: float = LEARNING_RATE,
    precision: int | None = None,
    check_symmetry: bool = True,
    jit: bool = True, certify: bool = False,
) -> Report:
    """Corollary 2 of §5.2 (Noether flow under SGF), its proof identities and the exact SGD step.

    Parts: ``noise_null`` (``Σv = 0``, so ``Q`` has no martingale part), ``trace_identity``
    (``Tr(AΣ) = −½⟨∇Tr Σ, v⟩``, any ``A``) and, for a symmetric ``A``, ``ito_drift`` (the Itô drift
    of ``Q`` equals ``σ² Tr(AΣ)``), ``noether_flow`` (it equals ``−(σ²/2)⟨∇Tr Σ, v⟩``) and
    ``sgd_step`` (``E_i[Q(θ − η∇ℓ_i)] − Q(θ) = (η²/2)(Tr(AΣ) + ∇LᵀA∇L)``). ``σ² = η/2``.

    Parameters
    ----------
    sample_losses : callable
        ``(theta) -> (N,)``: the per-sample losses ``ℓ_i(θ)``, each invariant under ``e^{aA}``.
    generator : array
        ``A`` (``n × n``, float64); symmetric for the charge ``Q = ½θᵀAθ``.
    theta : array or pytree
    eta : float
        SGD learning rate (batch 1); the SGF noise scale is ``σ² = η/2``.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_symmetry : bool
        Verify ``ℓ_i(e^{aA}θ) = ℓ_i(θ)`` for every sample near ``θ`` first (default); ``False`` for
        negative controls.
    jit : bool
        Float64 only: compile with XLA (default).

    Raises
    ------
    EquivarianceError, ShapeError, NonFiniteError
    """
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, th = noether_problem(sample_losses, generator, theta, backend, check_symmetry)
        return noether_report(problem, th, generator, eta)
