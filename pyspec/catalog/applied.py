"""Entries built for the paper's applications (§§4–6): a scalar-output homogeneous net with exponential
loss (Corollary 1, sharpness), per-sample losses with a symmetric generator (Corollary 2), and a
realizable global minimum of a symmetric loss (§5.4). Each is also a Theorem 1 entry."""

from __future__ import annotations

from typing import Any

import numpy as np

from pyspec.catalog.base import Entry, Instance, constant_point, unpack
from pyspec.catalog.losses import exponential, softmax_cross_entropies
from pyspec.equivariance import Equivariance

__all__ = ["ENTRIES", "HOMOGENEITY", "noether_generator"]

HOMOGENEITY = (
    "homogeneity_euler",
    "homogeneity_norm_growth",
    "homogeneity_hessian_action",
    "homogeneity_hessian_quadratic",
)
"""The §4.2 and §5.1 ids that hold for every homogeneous model."""


def _scalar_homogeneous(seed: int) -> Instance:
    """Bias-free 3-layer ReLU net with one input and a scalar output (degree 3), exponential loss e^{−f},
    at a point with f > 0 (the norm grows under gradient flow, §4.2)."""
    rng = np.random.default_rng(seed)
    d0, h = 3, 3
    shapes = [(h, d0), (h, h), (1, h)]
    x = rng.standard_normal((d0, 1))

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.ravel(W3 @ xp.relu(W2 @ xp.relu(W1 @ x)))

    theta = 0.8 * rng.standard_normal(sum(int(np.prod(s)) for s in shapes))
    W1, W2, W3 = unpack(theta, shapes, np)
    if (W3 @ np.maximum(W2 @ np.maximum(W1 @ x, 0), 0)).item() < 0:  # W₃ ↦ −W₃ flips the sign of f
        theta[-h:] *= -1
    eq = Equivariance(
        model=model,
        T=lambda a, th, *, xp: a[0] * th,
        S=lambda a, y, *, xp: a[0] ** 3 * y,
        name="scalar_homogeneous",
    )
    return Instance(
        eq=eq,
        loss=exponential(np.ones(1)),
        a=constant_point(np.array([1.5])),
        theta=constant_point(theta),
        args={"degree": 3},
    )


def noether_generator(B: np.ndarray, d0: int, d2: int, rest: int) -> np.ndarray:
    """``A`` with ``Aθ = (BW₁, −W₂B, 0)`` on row-major ``W₁`` (``d × d0``), ``W₂`` (``d2 × d``) and
    ``rest`` further parameters (docs/theory.md#corollary-2-noether-flow); symmetric when ``B`` is."""
    d = B.shape[0]
    n1, n2 = d * d0, d2 * d
    A = np.zeros((n1 + n2 + rest, n1 + n2 + rest))
    A[:n1, :n1] = np.kron(B, np.eye(d0))
    A[n1 : n1 + n2, n1 : n1 + n2] = -np.kron(np.eye(d2), B.T)
    return A


def _expm_symmetric_2x2(t: Any, B: np.ndarray, xp: Any) -> Any:
    """``e^{tB}`` for a symmetric 2 × 2 ``B`` in closed form (exact at working precision):
    ``e^{tc}(cosh(tδ) I + sinh(tδ)/δ (B − cI))`` with ``c = tr B / 2`` and ``δ² = ((B₀₀ − B₁₁)/2)² + B₀₁²``."""
    b = xp.asarray(B)
    c = (b[0, 0] + b[1, 1]) / 2
    delta = xp.sqrt(((b[0, 0] - b[1, 1]) / 2) ** 2 + b[0, 1] ** 2)
    return xp.exp(t * c) * (xp.cosh(t * delta) * xp.eye(2) + xp.sinh(t * delta) / delta * (b - c * xp.eye(2)))


def _noether(seed: int) -> Instance:
    """Per-sample cross-entropy losses of W₃ tanh(W₂W₁x_i): every ℓ_i is invariant under e^{aA} with
    Aθ = (BW₁, −W₂B, 0), B symmetric (docs/theory.md#corollary-2-noether-flow). The model is the vector (ℓ_1..ℓ_N), the loss its mean."""
    rng = np.random.default_rng(seed)
    d0, d, d2, classes, N = 2, 2, 2, 2, 4
    shapes = [(d, d0), (d2, d), (classes, d2)]
    X = rng.standard_normal((d0, N))
    cross_entropies = softmax_cross_entropies(rng.integers(0, classes, N), classes)
    R = rng.standard_normal((d, d))

    def sample_losses(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return cross_entropies(xp.ravel(W3 @ xp.tanh(W2 @ (W1 @ X))), xp=xp)

    B = (R + R.T) / 2

    def T(a: Any, theta: Any, *, xp: Any) -> Any:  # e^{aA}θ = (e^{aB}W₁, W₂e^{−aB}, W₃)
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(_expm_symmetric_2x2(a[0], B, xp) @ W1),
                               xp.ravel(W2 @ _expm_symmetric_2x2(-a[0], B, xp)), xp.ravel(W3)])

    return Instance(
        eq=Equivariance(model=sample_losses, T=T, name="noether_per_sample"),
        loss=lambda y, *, xp: xp.mean(y),
        a=constant_point(np.array([0.37])),
        theta=constant_point(0.8 * rng.standard_normal(sum(int(np.prod(s)) for s in shapes))),
        args={"generator": noether_generator(B, d0, d2, classes * d2)},
    )


def _reparameterization_minimum(seed: int) -> Instance:
    """W₃ tanh(W₂W₁X) with squared error to its own outputs at θ*: a realizable global minimum
    (∇L(θ*) = 0 exactly, targets computed at working precision) of the GL(2)-symmetric loss (§5.4)."""
    rng = np.random.default_rng(seed)
    d0, d, d2, m, N = 2, 2, 3, 2, 3
    shapes = [(d, d0), (d2, d), (m, d2)]
    X = rng.standard_normal((d0, N))
    n = sum(int(np.prod(s)) for s in shapes)
    theta_star = 0.8 * rng.standard_normal(n)

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.ravel(W3 @ xp.tanh(W2 @ (W1 @ X)))

    def loss(y: Any, *, xp: Any) -> Any:
        return 0.5 * xp.mean(xp.square(y - model(xp.asarray(theta_star), xp=xp)))

    def T(A: Any, theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(A @ W1), xp.ravel(W2 @ xp.inv(A)), xp.ravel(W3)])

    return Instance(
        eq=Equivariance(model=model, T=T, name="reparameterization_minimum"),
        loss=loss,
        a=constant_point(np.eye(d) + 0.2 * rng.standard_normal((d, d))),
        theta=constant_point(theta_star),
        args={"off_stationary": constant_point(theta_star + 0.1 * rng.standard_normal(n))},
    )


ENTRIES: tuple[Entry, ...] = (
    Entry("scalar_homogeneous", "3-layer ReLU net, scalar output, exponential loss, f > 0 (§4.2, Corollary 1)",
          "continuous", _scalar_homogeneous,
          HOMOGENEITY + ("corollary1_gradient_in_hessian_range", "sharpness_lower_bound")),
    Entry("noether_per_sample", "per-sample CE of W₃tanh(W₂W₁x), e^{aA} with A symmetric (§5.2, Corollary 2)",
          "continuous", _noether, ("corollary2_noether_flow",)),
    Entry("reparameterization_minimum", "W₃tanh(W₂W₁X) at a realizable global minimum, GL(2) (§5.4)",
          "continuous", _reparameterization_minimum, ("symmetry_hessian_null_space",)),
)
