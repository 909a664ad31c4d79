"""Hypothesis strategies: random equivariant models *by construction*, with good positions or fixed
points and losses, for property tests of Theorems 1 and 2 and their applications (§§4–6) on your own
code. Requires Hypothesis (the ``test`` extra). ``Instance.args`` carries what an application needs
(degree, layout, generator, mirror frame, a non-stationary point).

Every strategy draws an :class:`pyspec.catalog.Instance`: an :class:`~pyspec.Equivariance` whose model,
transformations and loss are backend-neutral (they run in float64 and at any mpmath precision), and
callables ``a(xp)``, ``theta(xp)`` giving the point (and ``off_fixed(xp)`` for discrete symmetries).

Using a drawn instance ``case``:

* ``case.eq``, ``case.loss``: pass them to any check, e.g. ``ps.theorem1(case.eq, case.loss, a, theta)``;
* ``case.a(xp)``, ``case.theta(xp)``: the point in the namespace ``xp`` of a backend
  (``ps.backends.get_backend().xp`` for float64, ``get_backend(50).xp`` for 50 digits, so that a fixed
  point is exact at that precision), or NumPy float64 arrays with ``case.a(None)``;
* ``case.eq.model(theta, xp=xp)`` evaluates the model yourself; ``pyspec.catalog.base.broken(case)`` is the
  same instance with its equivariance broken (a negative control for your own test);
* ``case.args``: what the applications need (degree, layout, generator, …; see ``Instance``).
Shapes are fixed per strategy (a few variants) so that JAX reuses its compiled operations across
examples; the randomness is in the constants, the degree, the activation, the point and ``a``.

Example::

    from hypothesis import given
    import pyspec as ps
    from pyspec.strategies import homogeneous_models

    @given(homogeneous_models())
    def test_theorem1(case):
        with ps.backends.dual_float64():  # a new model per example: float64 with nothing to compile
            assert ps.theorem1(case.eq, case.loss, case.a(None), case.theta(None)).holds
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError as error:  # Hypothesis is an optional dependency (the `test` extra)
    raise ImportError("pyspec.strategies needs Hypothesis: pip install 'equivariance-toolbox[test]' "
                      "(or pip install hypothesis)") from error

from pyspec.catalog.applied import noether_generator
from pyspec.catalog.base import Instance, cayley_orthogonal, constant_point, namespace, orthonormal_columns, unpack
from pyspec.catalog.continuous import conjugate, last_layer_parts
from pyspec.catalog.losses import (
    exponential,
    logistic,
    softmax_cross_entropies,
    softmax_cross_entropy,
    squared_error,
)
from pyspec.conservation import rescaling_symmetry
from pyspec.equivariance import Equivariance

__all__ = [
    "seeds",
    "well_conditioned",
    "losses",
    "homogeneous_models",
    "linear_symmetries",
    "gl_reparameterizations",
    "last_layer_models",
    "nonlinear_conjugations",
    "equivariant_models",
    "discrete_symmetries",
    "scalar_homogeneous_models",
    "rescaling_models",
    "noether_models",
]

_ACTIVATIONS = ("tanh", "sigmoid", "softplus")

_NUMPY_RELU = SimpleNamespace(reshape=np.reshape, ravel=np.ravel, relu=lambda z: np.maximum(z, 0.0))
"""The namespace functions a bias-free ReLU net needs, in NumPy (for float64 screening of points)."""


def seeds() -> st.SearchStrategy[np.random.Generator]:
    """NumPy generators from a drawn 32-bit seed (the randomness of constants and points)."""
    return st.integers(0, 2**32 - 1).map(np.random.default_rng)


def well_conditioned(rng: np.random.Generator, d: int, low: float = 0.6, high: float = 1.6) -> np.ndarray:
    """A random ``d × d`` matrix ``Q₁ diag(s) Q₂`` with singular values ``s`` in ``[low, high]``."""
    q1, _ = np.linalg.qr(rng.standard_normal((d, d)))
    q2, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return q1 @ np.diag(rng.uniform(low, high, d)) @ q2


@st.composite
def losses(draw: st.DrawFn, classes: int, samples: int) -> Callable[..., Any]:
    """A loss of outputs ``y = vec(Y)``, ``Y`` of shape ``(classes, samples)``: softmax cross-entropy,
    squared error, logistic or exponential (the last two on every entry as a margin)."""
    rng = draw(seeds())
    kind = draw(st.sampled_from(("cross_entropy", "squared", "logistic", "exponential")))
    m = classes * samples
    if kind == "cross_entropy":
        return softmax_cross_entropy(rng.integers(0, classes, samples), classes)
    if kind == "squared":
        return squared_error(rng.standard_normal(m))
    signs = np.sign(rng.standard_normal(m))
    return logistic(signs) if kind == "logistic" else exponential(0.3 * signs)


def _activation(name: str, xp: Any) -> Callable[[Any], Any]:
    return getattr(xp, name)


@st.composite
def homogeneous_models(draw: st.DrawFn, degrees: tuple[int, ...] = (1, 2, 3, 4)) -> Instance:
    """p-homogeneous models ``f(aθ) = a^p f(θ)``: bias-free ReLU MLPs with p layers or polynomial
    nets ``W₂(W₁X)^(p−1)``; ``T = aθ``, ``S = a^p y`` at a random ``a ∈ [0.5, 2]``."""
    p = draw(st.sampled_from(degrees))
    family = draw(st.sampled_from(("relu", "polynomial"))) if p > 1 else "relu"
    rng = draw(seeds())
    d0, h, m, N = 3, 4, 2, 3
    X = rng.standard_normal((d0, N))
    if family == "relu":
        shapes = [(h, d0)] + [(h, h)] * (p - 2) + [(m, h)] if p > 1 else [(m, d0)]

        def model(theta: Any, *, xp: Any) -> Any:
            Ws = unpack(theta, shapes, xp)
            z = Ws[0] @ X
            for W in Ws[1:]:
                z = W @ xp.relu(z)
            return xp.ravel(z)

    else:
        shapes = [(h, d0), (m, h)]

        def model(theta: Any, *, xp: Any) -> Any:
            W1, W2 = unpack(theta, shapes, xp)
            return xp.ravel(W2 @ (W1 @ X) ** (p - 1))

    n = sum(int(np.prod(s)) for s in shapes)
    theta = rng.standard_normal(n) * 0.8
    while family == "relu" and not np.any(model(theta, xp=_NUMPY_RELU)):  # a dead net: every check is 0 = 0
        theta = rng.standard_normal(n) * 0.8
    eq = Equivariance(
        model=model,
        T=lambda a, th, *, xp: a[0] * th,
        S=lambda a, y, *, xp: a[0] ** p * y,
        name=f"homogeneous_{family}_p{p}",
    )
    return Instance(
        eq=eq,
        loss=draw(losses(m, N)),
        a=constant_point(np.array([draw(st.floats(0.5, 2.0))])),
        theta=constant_point(theta),
        args={"degree": p},
    )


@st.composite
def linear_symmetries(draw: st.DrawFn) -> Instance:
    """``T(a, θ) = exp(aA)θ`` with ``A = U Λ Uᵀ``: two-plane rotations (``Λ`` antisymmetric) or
    hyperbolic boosts (``Λ`` symmetric, the Noether setting of §5.2); ``f = g(invariants)``."""
    kind = draw(st.sampled_from(("rotation", "boost")))
    rng = draw(seeds())
    n, h, m = 6, 4, 2
    U0 = rng.standard_normal((n, n))
    w1, w2 = rng.uniform(0.5, 2.0, 2)
    Lam = np.zeros((n, n))
    if kind == "rotation":
        Lam[0, 1], Lam[1, 0], Lam[2, 3], Lam[3, 2] = -w1, w1, -w2, w2
    else:
        Lam[0, 0], Lam[1, 1], Lam[2, 2], Lam[3, 3] = w1, -w1, w2, -w2
    # scaled so that outputs are O(1): a saturated loss makes float64 Hessians lose digits
    W1 = 0.5 * rng.standard_normal((h, n - 2)) / np.sqrt(n - 2)
    W2 = rng.standard_normal((m, h)) / np.sqrt(h)
    act = draw(st.sampled_from(_ACTIVATIONS))

    def invariants(z: Any, xp: Any) -> Any:
        if kind == "rotation":
            pair = xp.stack([z[0] ** 2 + z[1] ** 2, z[2] ** 2 + z[3] ** 2])
        else:
            pair = xp.stack([z[0] * z[1], z[2] * z[3]])
        return xp.concatenate([pair, z[4:]])

    def model(theta: Any, *, xp: Any) -> Any:
        z = cayley_orthogonal(U0, xp).T @ theta
        return W2 @ _activation(act, xp)(W1 @ invariants(z, xp))

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        U = cayley_orthogonal(U0, xp)
        return xp.expm(a[0] * (U @ Lam @ U.T)) @ theta

    return Instance(
        eq=Equivariance(model=model, T=T, name=f"linear_symmetry_{kind}"),
        loss=draw(losses(m, 1)),
        a=constant_point(np.array([draw(st.floats(-1.0, 1.0))])),
        theta=constant_point(rng.standard_normal(n)),
    )


@st.composite
def gl_reparameterizations(draw: st.DrawFn, stationary: bool = False) -> Instance:
    """``f = W₃σ(W₂W₁X)`` with ``T(A, θ) = (AW₁, W₂A⁻¹, W₃)``, ``A ∈ GL(3)`` well conditioned
    (``args["shapes"]``, ``args["layers"]`` give the layout of ``W₁``, ``W₂``).

    With ``stationary=True`` the loss is the squared error to the model's own outputs at ``θ``
    (computed at working precision): a realizable global minimum (§5.4), and
    ``args["off_stationary"]`` is a nearby point that is not stationary."""
    rng = draw(seeds())
    act = draw(st.sampled_from(_ACTIVATIONS))
    d0, d, d2, m, N = 2, 3, 3, 2, 3
    shapes = [(d, d0), (d2, d), (m, d2)]
    X = rng.standard_normal((d0, N))

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.ravel(W3 @ _activation(act, xp)(W2 @ (W1 @ X)))

    def T(A: Any, theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.concatenate([xp.ravel(A @ W1), xp.ravel(W2 @ xp.inv(A)), xp.ravel(W3)])

    n = sum(int(np.prod(s)) for s in shapes)
    theta = 0.8 * rng.standard_normal(n)
    args: dict[str, Any] = {"shapes": shapes, "layers": (0, 1)}
    if stationary:

        def loss(y: Any, *, xp: Any) -> Any:
            return 0.5 * xp.mean(xp.square(y - model(xp.asarray(theta), xp=xp)))

        args["off_stationary"] = constant_point(theta + 0.1 * rng.standard_normal(n))
    else:
        loss = draw(losses(m, N))
    return Instance(
        eq=Equivariance(model=model, T=T, name=f"gl_reparameterization_{act}"),
        loss=loss,
        a=constant_point(well_conditioned(rng, d)),
        theta=constant_point(theta),
        args=args,
    )


@st.composite
def last_layer_models(draw: st.DrawFn, softmax: bool = False) -> Instance:
    """``f(W, Φ) = W h(ΦX)`` with ``T(A, θ) = (AW, Φ)``, ``S(A, Y) = AY`` (§5.3), ``A`` well conditioned.

    With ``softmax=True`` the loss is the mean softmax cross-entropy and ``args["softmax_classes"]``
    is set (the variance form of Corollary 3)."""
    rng = draw(seeds())
    m = draw(st.sampled_from((2, 3)))
    act = draw(st.sampled_from(_ACTIVATIONS))
    shapes, model, T, S = last_layer_parts(rng.standard_normal((2, 3)), m, 3, act)
    n = sum(int(np.prod(s)) for s in shapes)
    return Instance(
        eq=Equivariance(model=model, T=T, S=S, name=f"last_layer_m{m}_{act}"),
        loss=softmax_cross_entropy(rng.integers(0, m, 3), m) if softmax else draw(losses(m, 3)),
        a=constant_point(well_conditioned(rng, m)),
        theta=constant_point(rng.standard_normal(n)),
        args={"softmax_classes": m} if softmax else {},
    )


@st.composite
def nonlinear_conjugations(draw: st.DrawFn) -> Instance:
    """``T = φ⁻¹∘T₀∘φ`` and ``S = ψ∘S₀∘ψ⁻¹`` with random diffeomorphisms ``φ = sinh(P·)``,
    ``ψ = sinh(Q·)``, over a homogeneous (degree 2 or 3) or a last-layer equivariance (docs/theory.md#theorem-1-test-families)."""
    rng = draw(seeds())
    base = draw(st.sampled_from(("homogeneous", "last_layer")))
    m, N = 2, 2
    if base == "homogeneous":
        p = draw(st.sampled_from((2, 3)))
        shapes: list[tuple[int, ...]] = [(3, 2), (m, 3)]
        X = 0.7 * rng.standard_normal((2, N))

        def model0(theta: Any, *, xp: Any) -> Any:
            W1, W2 = unpack(theta, shapes, xp)
            return xp.ravel(W2 @ (W1 @ X) ** (p - 1))

        def T0(a: Any, th: Any, *, xp: Any) -> Any:
            return a[0] * th

        def S0(a: Any, y: Any, *, xp: Any) -> Any:
            return a[0] ** p * y

        a = np.array([draw(st.floats(0.6, 1.6))])
    else:
        shapes, model0, T0, S0 = last_layer_parts(rng.standard_normal((2, N)), m, 3, draw(st.sampled_from(_ACTIVATIONS)))
        a = well_conditioned(rng, m, 0.7, 1.4)
    n = sum(int(np.prod(s)) for s in shapes)
    P = 0.8 * well_conditioned(rng, n, 0.7, 1.3)
    Q = 0.8 * well_conditioned(rng, m * N, 0.7, 1.3)
    return Instance(
        eq=conjugate(f"conjugated_{base}", model0, T0, S0, P, Q),
        loss=draw(losses(m, N)),
        a=constant_point(a),
        theta=constant_point(0.5 * rng.standard_normal(n)),
    )


def equivariant_models() -> st.SearchStrategy[Instance]:
    """Any continuous equivariance above (Theorem 1)."""
    return st.one_of(
        homogeneous_models(),
        linear_symmetries(),
        gl_reparameterizations(),
        last_layer_models(),
        nonlinear_conjugations(),
    )


@st.composite
def discrete_symmetries(draw: st.DrawFn, kinds: tuple[str, ...] = ("reflection", "permutation", "sign_flip")) -> Instance:
    """Discrete symmetries with a point of the fixed-point set (Theorem 2):

    * ``reflection``: ``f = F(θ) + F(Mθ)``, ``M = I − 2OOᵀ`` with ``O ∈ ℝ^{6×r}``, ``r ∈ {1, 2, 3}``;
    * ``permutation``: a random permutation of the hidden units of ``W₂ tanh(W₁X)`` (any order; the
      fixed point is the average over its cyclic group);
    * ``sign_flip``: sign flips of a random proper non-empty set of hidden units of ``W₂ tanh(W₁X)``.

    ``off_fixed`` is the unprojected random point; reflections carry ``args["O"]`` (``O(xp)``,
    Corollary 4).
    """
    rng = draw(seeds())
    kind = draw(st.sampled_from(kinds))
    args: dict[str, Any] = {}
    if kind == "reflection":
        n, h, m = 6, 4, 2
        r = draw(st.integers(1, 3))
        O0 = rng.standard_normal((n, r))
        C1, C2 = 0.6 * rng.standard_normal((h, n)), rng.standard_normal((m, h))

        def frame(xp: Any = None) -> Any:
            xp = namespace(xp)
            return orthonormal_columns(xp.asarray(O0), xp)

        def matrix(xp: Any) -> Any:
            O = frame(xp)
            return xp.eye(n) - 2 * (O @ O.T)

        def model(theta: Any, *, xp: Any) -> Any:
            return C2 @ xp.tanh(C1 @ theta) + C2 @ xp.tanh(C1 @ (matrix(xp) @ theta))

        order, loss, args = 2, draw(losses(m, 1)), {"O": frame}
    else:
        d0, h, m, N = 2, 4, 2, 3
        shapes = [(h, d0), (m, h)]
        X = rng.standard_normal((d0, N))
        if kind == "permutation":
            perm = rng.permutation(h)
            while np.all(perm == np.arange(h)):
                perm = rng.permutation(h)
            Ph = np.eye(h)[perm]
            M = np.block([[np.kron(Ph, np.eye(d0)), np.zeros((h * d0, m * h))],
                          [np.zeros((m * h, h * d0)), np.kron(np.eye(m), Ph)]])
            order = int(np.lcm.reduce([len(c) for c in _cycles(perm)]))
        else:
            flips = np.zeros(h, dtype=bool)  # a proper non-empty subset: flipping all units is −I,
            flips[rng.permutation(h)[: rng.integers(1, h)]] = True  # for which JᵀHJ = H holds everywhere
            s1 = np.repeat(np.where(flips, -1.0, 1.0), d0)
            s2 = np.tile(np.where(flips, -1.0, 1.0), m)
            M, order = np.diag(np.concatenate([s1, s2])), 2
        n = M.shape[0]

        def matrix(xp: Any) -> Any:
            return xp.asarray(M)

        def model(theta: Any, *, xp: Any) -> Any:
            W1, W2 = unpack(theta, shapes, xp)
            return xp.ravel(W2 @ xp.tanh(W1 @ X))

        loss = draw(losses(m, N))
    theta0 = rng.standard_normal(n)

    def fixed(xp: Any = None) -> Any:
        xp = namespace(xp)
        t = xp.asarray(theta0)
        total, power = t, t
        for _ in range(order - 1):
            power = matrix(xp) @ power
            total = total + power
        return total / order

    return Instance(
        eq=Equivariance(model=model, T=lambda a, th, *, xp: matrix(xp) @ th, name=f"discrete_{kind}"),
        loss=loss,
        a=constant_point(np.zeros(1)),
        theta=fixed,
        off_fixed=constant_point(theta0),
        args=args,
    )


@st.composite
def scalar_homogeneous_models(draw: st.DrawFn) -> Instance:
    """Scalar-output (``m = 1``) p-homogeneous models for Corollary 1: bias-free ReLU nets with ``p``
    layers and one input, with an exponential, logistic or squared loss (``args["degree"] = p``)."""
    p = draw(st.sampled_from((2, 3)))
    rng = draw(seeds())
    d0, h = 3, 3
    shapes = [(h, d0)] + [(h, h)] * (p - 2) + [(1, h)]
    x = rng.standard_normal((d0, 1))

    def model(theta: Any, *, xp: Any) -> Any:
        Ws = unpack(theta, shapes, xp)
        z = Ws[0] @ x
        for W in Ws[1:]:
            z = W @ xp.relu(z)
        return xp.ravel(z)

    kind = draw(st.sampled_from(("exponential", "logistic", "squared")))
    sign = np.sign(rng.standard_normal(1))
    theta = 0.8 * rng.standard_normal(sum(int(np.prod(s)) for s in shapes))
    while abs(model(theta, xp=_NUMPY_RELU)[0]) < 0.1:  # no dead network: f ≠ 0 and ∇f ≠ 0
        theta = 0.8 * rng.standard_normal(theta.size)
    loss = {"exponential": exponential(sign), "logistic": logistic(sign),
            "squared": squared_error(rng.standard_normal(1))}[kind]
    return Instance(
        eq=Equivariance(model=model, T=lambda a, th, *, xp: a[0] * th, S=lambda a, y, *, xp: a[0] ** p * y,
                        name=f"scalar_homogeneous_p{p}_{kind}"),
        loss=loss,
        a=constant_point(np.array([draw(st.floats(0.5, 2.0))])),
        theta=constant_point(theta),
        args={"degree": p},
    )


@st.composite
def rescaling_models(draw: st.DrawFn) -> Instance:
    """Bias-free leaky-ReLU nets ``W₃ σ(W₂ σ(W₁X))``, ``σ(z) = max(z, z/10)`` (positively homogeneous
    and never dead), with the per-unit rescaling of a random hidden layer as the symmetry (§4.1):
    ``args["shapes"]``, ``args["layers"]``; ``a > 0`` random."""
    rng = draw(seeds())
    d0, h1, h2, m, N = 2, 3, 3, 2, 3
    shapes = [(h1, d0), (h2, h1), (m, h2)]
    layers = draw(st.sampled_from(((0, 1), (1, 2))))
    X = rng.standard_normal((d0, N))

    def leaky(z: Any, xp: Any) -> Any:
        return xp.relu(z) - 0.1 * xp.relu(-z)

    def model(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        return xp.ravel(W3 @ leaky(W2 @ leaky(W1 @ X, xp), xp))

    h = shapes[layers[0]][0]
    return Instance(
        eq=rescaling_symmetry(model, shapes, layers),
        loss=draw(losses(m, N)),
        a=constant_point(np.exp(0.4 * rng.standard_normal(h))),
        theta=constant_point(rng.standard_normal(sum(int(np.prod(s)) for s in shapes))),
        args={"shapes": shapes, "layers": layers},
    )


@st.composite
def noether_models(draw: st.DrawFn) -> Instance:
    """Per-sample losses (cross-entropy or squared error) of ``W₃σ(W₂W₁x_i)``, each invariant under
    ``e^{aA}`` with ``Aθ = (BW₁, −W₂B, 0)`` for a random symmetric ``B`` (Corollary 2). The model is
    the vector ``(ℓ_1..ℓ_N)`` and ``args["generator"]`` is ``A``."""
    rng = draw(seeds())
    act = draw(st.sampled_from(_ACTIVATIONS))
    d0, d, d2, m, N = 2, 2, 3, 2, 3
    shapes = [(d, d0), (d2, d), (m, d2)]
    X = rng.standard_normal((d0, N))
    targets = rng.standard_normal((m, N))
    cross_entropy = draw(st.booleans())
    entropies = softmax_cross_entropies(rng.integers(0, m, N), m)

    def sample_losses(theta: Any, *, xp: Any) -> Any:
        W1, W2, W3 = unpack(theta, shapes, xp)
        Y = W3 @ _activation(act, xp)(W2 @ (W1 @ X))
        return entropies(xp.ravel(Y), xp=xp) if cross_entropy else 0.5 * xp.sum(xp.square(Y - targets), axis=0)

    R = rng.standard_normal((d, d))
    A = noether_generator(R + R.T, d0, d2, m * d2)
    return Instance(
        eq=Equivariance(model=sample_losses, T=lambda a, th, *, xp: xp.expm(a[0] * xp.asarray(A)) @ th,
                        name=f"noether_{act}_{'ce' if cross_entropy else 'squared'}"),
        loss=lambda y, *, xp: xp.mean(y),
        a=constant_point(np.array([0.37])),
        theta=constant_point(0.7 * rng.standard_normal(sum(int(np.prod(s)) for s in shapes))),
        args={"generator": A},
    )


def _cycles(perm: np.ndarray) -> list[list[int]]:
    seen, cycles = set(), []
    for start in range(len(perm)):
        if start in seen:
            continue
        cycle, i = [], start
        while i not in seen:
            seen.add(i)
            cycle.append(i)
            i = int(perm[i])
        cycles.append(cycle)
    return cycles
