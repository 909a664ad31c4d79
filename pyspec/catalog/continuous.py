"""Continuous equivariances (Theorem 1): homogeneity, rescaling, reparameterization, last layer,
softmax translation, rotations, and genuinely nonlinear (T, S) pairs (docs/theory.md#theorem-1-test-families: A, B, D)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from pyspec.catalog.applied import HOMOGENEITY
from pyspec.catalog.base import Entry, Instance, cayley_orthogonal, constant_point, unpack
from pyspec.catalog.losses import (
    log_probability_nll,
    logistic,
    softmax_cross_entropy,
    squared_error,
)
from pyspec.equivariance import Equivariance

__all__ = ["ENTRIES", "conjugate", "last_layer_parts", "sinh_diffeo"]


def _normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return scale * rng.standard_normal(shape)


def _near_identity(rng: np.random.Generator, d: int, spread: float = 0.3) -> np.ndarray:
    return np.eye(d) + spread * rng.standard_normal((d, d)) / np.sqrt(d)


def _size(shapes: Sequence[tuple[int, ...]]) -> int:
    return sum(int(np.prod(s)) for s in shapes)


# --- homogeneity (§4.2, §5.1) ---------------------------------------------------------------------


def _relu_mlp(seed: int) -> Instance:
    """Bias-free ReLU MLP with three layers: f(aθ) = a³ f(θ) for a > 0."""
    rng = np.random.default_rng(seed)
    d0, h1, h2, m, N = 3, 5, 4, 2, 4
    shapes = [(h1, d0), (h2, h1), (m, h2)]
    X = _normal(rng, d0, N)

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.ravel(W3 @ xp.relu(W2 @ xp.relu(W1 @ X)))

    eq = Equivariance(
        model=model,
        T=lambda a, th, *, xp: a[0] * th,
        S=lambda a, y, *, xp: a[0] ** 3 * y,
        name="relu_mlp_homogeneous",
    )
    return Instance(
        eq=eq,
        loss=softmax_cross_entropy(rng.integers(0, m, N), m),
        a=constant_point(np.array([1.7])),
        theta=constant_point(_normal(rng, _size(shapes), scale=0.8)),
    )


def _polynomial(seed: int) -> Instance:
    """Polynomial net f = W₂ (W₁X)²: homogeneous of degree 3."""
    rng = np.random.default_rng(seed)
    d0, h, N = 3, 4, 6
    shapes = [(h, d0), (1, h)]
    X = _normal(rng, d0, N)

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.ravel(W2 @ xp.square(W1 @ X))

    eq = Equivariance(
        model=model,
        T=lambda a, th, *, xp: a[0] * th,
        S=lambda a, y, *, xp: a[0] ** 3 * y,
        name="polynomial_homogeneous",
    )
    return Instance(
        eq=eq,
        loss=logistic(np.sign(rng.standard_normal(N))),
        a=constant_point(np.array([0.8])),
        theta=constant_point(_normal(rng, _size(shapes), scale=0.7)),
        args={"degree": 3},
    )


# --- symmetries with T linear in θ (§4.1) -------------------------------------------------------------


def _rescaling(seed: int) -> Instance:
    """Per-neuron rescaling of a ReLU layer: (W₁, W₂) ↦ (diag(a) W₁, W₂ diag(a)⁻¹)."""
    rng = np.random.default_rng(seed)
    d0, h, m, N = 3, 4, 2, 5
    shapes = [(h, d0), (m, h)]
    X = _normal(rng, d0, N)

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.ravel(W2 @ xp.relu(W1 @ X))

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(xp.reshape(a, (h, 1)) * W1), xp.ravel(W2 / xp.reshape(a, (1, h)))])

    return Instance(
        eq=Equivariance(model=model, T=T, name="neuron_rescaling"),
        loss=softmax_cross_entropy(rng.integers(0, m, N), m),
        a=constant_point(np.exp(0.3 * rng.standard_normal(h))),
        theta=constant_point(_normal(rng, _size(shapes))),
        args={"shapes": shapes, "layers": (0, 1)},
    )


def _reparameterization(seed: int) -> Instance:
    """f = W₃ tanh(W₂W₁X) depends on (W₁, W₂) only through W₂W₁: (W₁, W₂) ↦ (AW₁, W₂A⁻¹), A ∈ GL(3)."""
    rng = np.random.default_rng(seed)
    d0, d, d2, m, N = 3, 3, 4, 2, 5
    shapes = [(d, d0), (d2, d), (m, d2)]
    X = _normal(rng, d0, N)

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.ravel(W3 @ xp.tanh(W2 @ (W1 @ X)))

    def T(A: Any, theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(A @ W1), xp.ravel(W2 @ xp.inv(A)), xp.ravel(W3)])

    return Instance(
        eq=Equivariance(model=model, T=T, name="gl_reparameterization"),
        loss=softmax_cross_entropy(rng.integers(0, m, N), m),
        a=constant_point(_near_identity(rng, d)),
        theta=constant_point(_normal(rng, _size(shapes), scale=0.7)),
        args={"shapes": shapes, "layers": (0, 1)},
    )


def _softmax_translation(seed: int) -> Instance:
    """Log-softmax outputs are invariant to (W, b) ↦ (W + 1cᵀ, b + t1): a ∈ ℝ^{d+1}."""
    rng = np.random.default_rng(seed)
    d, m, N = 4, 3, 5
    shapes = [(m, d), (m,)]
    X = _normal(rng, d, N)
    ones = np.ones((m, 1))

    def model(theta: Any, *, xp: Any) -> Any:
        W, b = unpack(theta, shapes, xp)
        return xp.ravel(xp.log_softmax(W @ X + xp.reshape(b, (m, 1)), axis=0))

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        W, b = unpack(theta, shapes, xp)
        c = xp.reshape(a[:d], (1, d))
        return xp.concatenate([xp.ravel(W + ones * c), b + a[d]])

    return Instance(
        eq=Equivariance(model=model, T=T, name="softmax_translation"),
        loss=log_probability_nll(rng.integers(0, m, N), m),
        a=constant_point(_normal(rng, d + 1, scale=0.5)),
        theta=constant_point(_normal(rng, _size(shapes))),
    )


def _rotation(seed: int) -> Instance:
    """T(a, θ) = exp(aA)θ with A = U J Uᵀ a rotation generator in two planes; f depends on θ only
    through the invariants r₁ = z₁² + z₂², r₂ = z₃² + z₄² and z₅, …, with z = Uᵀθ (docs/theory.md#theorem-1-special-cases)."""
    rng = np.random.default_rng(seed)
    n, h, m = 7, 5, 3
    U0 = rng.standard_normal((n, n))
    J = np.zeros((n, n))
    J[0, 1], J[1, 0], J[2, 3], J[3, 2] = -1.0, 1.0, -1.7, 1.7
    W1, W2 = _normal(rng, h, n - 2, scale=0.6), _normal(rng, m, h)

    def model(theta: Any, *, xp: Any) -> Any:
        z = cayley_orthogonal(U0, xp).T @ theta
        invariants = xp.concatenate([xp.stack([z[0] ** 2 + z[1] ** 2, z[2] ** 2 + z[3] ** 2]), z[4:]])
        return W2 @ xp.tanh(W1 @ invariants)

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        U = cayley_orthogonal(U0, xp)
        return xp.expm(a[0] * (U @ J @ U.T)) @ theta

    return Instance(
        eq=Equivariance(model=model, T=T, name="rotation_expm"),
        loss=squared_error(rng.standard_normal(m)),
        a=constant_point(np.array([0.4])),
        theta=constant_point(_normal(rng, n)),
    )


def last_layer_parts(
    X: np.ndarray, m: int, d: int, activation: str = "tanh"
) -> tuple[list[tuple[int, ...]], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The last-layer equivariance of docs/theory.md#corollary-3-last-layer on data ``X`` (``d₀ × N``): parameter layout
    ``[(m, d), (d, d₀)]``, ``f(W, Φ) = vec(W h(ΦX))`` with ``h = xp.<activation>``,
    ``T(A, (W, Φ)) = (AW, Φ)`` and ``S(A, Y) = AY`` (column-wise on ``Y = reshape(y, (m, N))``)."""
    d0, N = X.shape
    shapes: list[tuple[int, ...]] = [(m, d), (d, d0)]

    def model(theta: Any, *, xp: Any) -> Any:
        W, Phi = unpack(theta, shapes, xp)
        return xp.ravel(W @ getattr(xp, activation)(Phi @ X))

    def T(A: Any, theta: Any, *, xp: Any) -> Any:
        W, Phi = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(A @ W), xp.ravel(Phi)])

    def S(A: Any, y: Any, *, xp: Any) -> Any:
        return xp.ravel(A @ xp.reshape(y, (m, N)))

    return shapes, model, T, S


def _last_layer(seed: int) -> Instance:
    """f(W, Φ) = W tanh(ΦX): (W, Φ) ↦ (AW, Φ) and Y ↦ AY, A ∈ GL(3) (docs/theory.md#corollary-3-last-layer)."""
    rng = np.random.default_rng(seed)
    d0, d, m, N = 3, 4, 3, 5
    shapes, model, T, S = last_layer_parts(_normal(rng, d0, N), m, d)

    return Instance(
        eq=Equivariance(model=model, T=T, S=S, name="last_layer_gl"),
        loss=softmax_cross_entropy(rng.integers(0, m, N), m),
        a=constant_point(_near_identity(rng, m)),
        theta=constant_point(_normal(rng, _size(shapes))),
        args={"softmax_classes": m},
    )


# --- nonlinear (T, S) pairs: conjugation by diffeomorphisms (docs/theory.md#theorem-1-test-families: A, B, D) -------------


def sinh_diffeo(P: np.ndarray) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """φ(θ) = sinh(Pθ) and φ⁻¹(z) = P⁻¹ asinh(z), a diffeomorphism of ℝⁿ for invertible P."""

    def forward(x: Any, xp: Any) -> Any:
        return xp.sinh(P @ x)

    def inverse(z: Any, xp: Any) -> Any:
        return xp.solve(xp.asarray(P), xp.asinh(z))

    return forward, inverse


def _conjugated(
    name: str,
    rng: np.random.Generator,
    model0: Callable[..., Any],
    T0: Callable[..., Any],
    S0: Callable[..., Any] | None,
    n: int,
    m: int,
) -> Equivariance:
    """:func:`conjugate` with random near-identity P, Q."""
    return conjugate(name, model0, T0, S0, _near_identity(rng, n, 0.4) * 0.8, _near_identity(rng, m, 0.4) * 0.8)


def conjugate(
    name: str,
    model0: Callable[..., Any],
    T0: Callable[..., Any],
    S0: Callable[..., Any] | None,
    P: np.ndarray,
    Q: np.ndarray,
) -> Equivariance:
    """Conjugate a (T₀, S₀)-equivariance of f₀ by φ(θ) = sinh(Pθ) and ψ(u) = sinh(Qu).

    Returns the (φ⁻¹ ∘ T₀ ∘ φ, ψ ∘ S₀ ∘ ψ⁻¹)-equivariance of f = ψ ∘ f₀ ∘ φ (``ψ`` is omitted for a
    symmetry, ``S0=None``): f(T(a, θ)) = ψ(f₀(T₀(a, φθ))) = ψ(S₀(a, f₀(φθ))) = S(a, f(θ)).
    """
    phi, phi_inv = sinh_diffeo(P)
    psi, psi_inv = sinh_diffeo(Q)

    def model(theta: Any, *, xp: Any) -> Any:
        y0 = model0(phi(theta, xp), xp=xp)
        return y0 if S0 is None else psi(y0, xp)

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        return phi_inv(T0(a, phi(theta, xp), xp=xp), xp)

    if S0 is None:
        return Equivariance(model=model, T=T, name=name)

    def S(a: Any, y: Any, *, xp: Any) -> Any:
        return psi(S0(a, psi_inv(y, xp), xp=xp), xp)

    return Equivariance(model=model, T=T, S=S, name=name)


def _conjugated_homogeneous(seed: int) -> Instance:
    """Family A: the degree-3 polynomial net conjugated by sinh diffeomorphisms; k = 1."""
    rng = np.random.default_rng(seed)
    d0, h, m, N = 3, 3, 2, 3
    shapes = [(h, d0), (m, h)]
    X = _normal(rng, d0, N, scale=0.6)

    def model0(theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.ravel(W2 @ xp.square(W1 @ X))

    eq = _conjugated(
        "nonlinear_homogeneous",
        rng,
        model0,
        lambda a, th, *, xp: a[0] * th,
        lambda a, y, *, xp: a[0] ** 3 * y,
        _size(shapes),
        m * N,
    )
    return Instance(
        eq=eq,
        loss=softmax_cross_entropy(rng.integers(0, m, N), m),
        a=constant_point(np.array([1.3])),
        theta=constant_point(_normal(rng, _size(shapes), scale=0.5)),
    )


def _conjugated_last_layer(seed: int) -> Instance:
    """Family B: last-layer GL(2) equivariance conjugated by sinh diffeomorphisms; k = 4."""
    rng = np.random.default_rng(seed)
    d0, d, m, N = 2, 3, 2, 3
    shapes, model0, T0, S0 = last_layer_parts(_normal(rng, d0, N), m, d)

    eq = _conjugated("nonlinear_last_layer", rng, model0, T0, S0, _size(shapes), m * N)
    return Instance(
        eq=eq,
        loss=squared_error(rng.standard_normal(m * N)),
        a=constant_point(_near_identity(rng, m)),
        theta=constant_point(_normal(rng, _size(shapes), scale=0.5)),
    )


def _conjugated_reparameterization(seed: int) -> Instance:
    """Family D: GL(2) reparameterization symmetry conjugated by a nonlinear parameter diffeomorphism
    (blue term ≠ 0, green terms = 0)."""
    rng = np.random.default_rng(seed)
    d0, d, d2, N = 2, 2, 3, 4
    shapes = [(d, d0), (d2, d)]
    X = _normal(rng, d0, N)

    def model0(theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.ravel(xp.tanh(W2 @ (W1 @ X)))

    def T0(A: Any, theta: Any, *, xp: Any) -> Any:
        W1, W2 = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(A @ W1), xp.ravel(W2 @ xp.inv(A))])

    eq = _conjugated("nonlinear_reparameterization", rng, model0, T0, None, _size(shapes), d2 * N)
    return Instance(
        eq=eq,
        loss=squared_error(rng.standard_normal(d2 * N)),
        a=constant_point(_near_identity(rng, d)),
        theta=constant_point(_normal(rng, _size(shapes), scale=0.5)),
    )


ENTRIES: tuple[Entry, ...] = (
    Entry("relu_mlp_homogeneous", "bias-free 3-layer ReLU MLP, T = aθ, S = a³y at a = 1.7 (§4.2)", "continuous", _relu_mlp),
    Entry("polynomial_homogeneous", "polynomial net W₂(W₁X)², T = aθ, S = a³y at a = 0.8 (§5.1)", "continuous", _polynomial,
          HOMOGENEITY + ("sharpness_lower_bound",)),
    Entry("neuron_rescaling", "ReLU layer, per-neuron (diag(a)W₁, W₂diag(a)⁻¹), k = 4 (§4.1)", "continuous", _rescaling,
          ("rescaling_conservation", "symmetry_orthogonality")),
    Entry("gl_reparameterization", "W₃tanh(W₂W₁X), (AW₁, W₂A⁻¹), A ∈ GL(3) (§4.1)", "continuous", _reparameterization,
          ("reparam_conservation", "symmetry_orthogonality")),
    Entry("softmax_translation", "log-softmax(WX + b), (W + 1cᵀ, b + t1), k = 5", "continuous", _softmax_translation),
    Entry("rotation_expm", "invariants of exp(aA), A a two-plane rotation generator (Theorem 1, §5.2)", "continuous", _rotation),
    Entry("last_layer_gl", "W tanh(ΦX), (AW, Φ) and Y ↦ AY, A ∈ GL(3) (§5.3)", "continuous", _last_layer,
          ("corollary3_last_layer",)),
    Entry("nonlinear_homogeneous", "family A: degree-3 net conjugated by sinh diffeomorphisms (Theorem 1)", "continuous", _conjugated_homogeneous),
    Entry("nonlinear_last_layer", "family B: last-layer GL(2) conjugated by sinh diffeomorphisms (Theorem 1)", "continuous", _conjugated_last_layer),
    Entry("nonlinear_reparameterization", "family D: GL(2) symmetry conjugated by a parameter diffeomorphism (Theorem 1)", "continuous", _conjugated_reparameterization),
)
