"""An independent random-model generator for the verdict tests and ``benchmarks/verdicts.py``.

Written apart from :mod:`pyspec.catalog` and :mod:`pyspec.strategies` (different constructions), it
draws valid equivariant models with their loss and point, covering saturated regimes (logits up to
~10³, saturated ``tanh``), condition numbers of ``∂θT`` up to ~1e8 and the losses MSE, logistic, cosh,
exp, pseudo-Huber and cross-entropy:

* continuous (Theorem 1): ``homogeneous``, ``rescaling``, ``gl``, ``rotation``, ``conjugated``,
  ``last_layer``, ``scale_invariant``, ``softmax_shift``;
* discrete (Theorem 2): ``permutation``, ``sign_flip``, ``mirror``, ``involution``.

Callables are drawn from a small pool per family (:data:`VARIANTS` sets of constants and data per
family and loss, cached), so that a compiled-program cache keyed on the callables reuses them; the
randomness of each model is in ``θ``, ``a`` (which sets the conditioning of the ``gl`` family) and the
saturation (the scale of ``θ``, or a saturated variant). Every callable is backend-neutral (``xp``), so inconclusive float64
checks escalate to 50 digits. :func:`violated` adds ``ε·s·sin(c·θ + φ)`` to the model (``s`` the
output's RMS, ``c`` a random non-symmetric frequency vector): a relative violation of the
equivariance of size ~``ε``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import numpy as np

import pyspec as ps

__all__ = ["Case", "CONTINUOUS", "DISCRETE", "FAMILIES", "LOSSES", "draw", "violated"]

M_OUT = 6
"""Output size of every family (two classes × three samples for cross-entropy)."""


@dataclasses.dataclass(frozen=True)
class Case:
    """One random model: equivariance, loss, point, and what was drawn."""

    family: str
    loss_name: str
    eq: ps.Equivariance
    loss: Callable[..., Any]
    a: np.ndarray
    theta: np.ndarray
    discrete: bool
    saturation: float
    target_condition: float


# --- losses (m = 6 outputs) ----------------------------------------------------------------------


def _losses(rng: np.random.Generator) -> dict[str, Callable[..., Any]]:
    t = rng.standard_normal(M_OUT)
    s = rng.choice([-1.0, 1.0], M_OUT)
    delta = rng.uniform(0.3, 2.0)
    label_first = rng.integers(0, 2, 3).astype(float)  # 1 → class 0 is correct

    def mse(y: Any, *, xp: Any) -> Any:
        return 0.5 * xp.mean((y - t) ** 2)

    def logistic(y: Any, *, xp: Any) -> Any:
        return xp.mean(xp.softplus(-s * y))

    def _unit(y: Any, xp: Any) -> Any:  # outputs rescaled to RMS < 1, so cosh and exp never overflow
        return y / xp.sqrt(1.0 + xp.mean(y * y))

    def cosh(y: Any, *, xp: Any) -> Any:
        return xp.mean(xp.cosh(3.0 * (_unit(y, xp) - 0.3 * t)))

    def exp(y: Any, *, xp: Any) -> Any:
        return xp.mean(xp.exp(-3.0 * s * _unit(y, xp)))

    def pseudo_huber(y: Any, *, xp: Any) -> Any:
        return delta**2 * xp.mean(xp.sqrt(1.0 + ((y - t) / delta) ** 2) - 1.0)

    def cross_entropy(y: Any, *, xp: Any) -> Any:
        z = xp.transpose(xp.reshape(y, (2, 3)))  # three samples, two classes
        correct = label_first * z[:, 0] + (1.0 - label_first) * z[:, 1]
        return xp.mean(xp.logsumexp(z, axis=1) - correct)

    return {"mse": mse, "logistic": logistic, "cosh": cosh, "exp": exp, "pseudo_huber": pseudo_huber,
            "cross_entropy": cross_entropy}


LOSSES = ("mse", "logistic", "cosh", "exp", "pseudo_huber", "cross_entropy")


# --- helpers --------------------------------------------------------------------------------------


def _leaky(z: Any, xp: Any) -> Any:
    """Leaky ReLU ``0.2 z + 0.8 relu(z)`` (positively homogeneous; a random point is never at the kink)."""
    return 0.2 * z + 0.8 * xp.relu(z)


# --- continuous families (Theorem 1) -------------------------------------------------------------


def _homogeneous(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``y = (W θ)^p`` elementwise (odd ``p``): ``f(e^a θ) = e^{pa} f(θ)``."""
    p = int(rng.choice([1, 3, 5, 7]))
    W = rng.standard_normal((M_OUT, 4))

    def model(theta: Any, *, xp: Any) -> Any:
        return (W @ theta) ** p

    eq = ps.Equivariance(model=model, T=lambda a, th, *, xp: xp.exp(a[0]) * th,
                         S=lambda a, y, *, xp: xp.exp(p * a[0]) * y, name=f"homogeneous_p{p}")
    theta = rng.standard_normal(4) * sat ** (1.0 / p)
    return eq, np.array([rng.uniform(-0.5, 0.5)]), theta, 1.0


def _rescaling(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """Leaky-ReLU two-layer net with a ``tanh`` output: ``(e^a W1, e^-a W2)`` is a symmetry."""
    X = rng.standard_normal((3, 2))
    scale = sat

    def model(theta: Any, *, xp: Any) -> Any:
        W1 = xp.reshape(theta[:12], (4, 3))
        W2 = xp.reshape(theta[12:], (3, 4))
        return xp.ravel(xp.tanh(scale * (W2 @ _leaky(W1 @ X, xp))))

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        return xp.concatenate([xp.exp(a[0]) * th[:12], xp.exp(-a[0]) * th[12:]])

    return (ps.Equivariance(model=model, T=T, name="rescaling"), np.array([rng.uniform(-2, 2)]),
            rng.standard_normal(24) / 2, 1.0)


def _gl(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``y = tanh(s·V W X)``, ``T = (A(a) W, V A(a)⁻¹)`` with ``A(a) = Q₁ diag(10^{-a l}) Q₂``,
    ``l = (0, ½, 1)``: ``cond(∂θT) = cond A(a) = 10^a`` (``a`` drawn for a condition up to 5e7)."""
    X = rng.standard_normal((3, 2))
    q1, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    q2, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    levels = np.array([0.0, 0.5, 1.0]) * np.log(10.0)

    def model(theta: Any, *, xp: Any) -> Any:
        W = xp.reshape(theta[:9], (3, 3))
        V = xp.reshape(theta[9:], (3, 3))
        return xp.ravel(xp.tanh(sat * (V @ (W @ X))))

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        A = q1 @ (xp.reshape(xp.exp(-a[0] * levels), (3, 1)) * q2)
        return xp.concatenate([xp.ravel(A @ xp.reshape(th[:9], (3, 3))),
                               xp.ravel(xp.reshape(th[9:], (3, 3)) @ xp.inv(A))])

    def point(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        a = np.array([r.uniform(0.0, np.log10(5e7))])
        return a, r.standard_normal(18)

    return ps.Equivariance(model=model, T=T, name="gl"), point  # type: ignore[return-value]


def _rotation(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``y = tanh(s·diag-free Gram features)`` of ``U`` (3 × 3): ``U ↦ R(a) U`` with ``R`` a rotation."""
    G = rng.standard_normal((3, 3))
    G = G - G.T
    X = rng.standard_normal((3, 2))

    def model(theta: Any, *, xp: Any) -> Any:
        U = xp.reshape(theta, (3, 3))
        gram = xp.transpose(U) @ U
        return xp.ravel(xp.tanh(sat * (gram @ X) / 3.0))

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        return xp.ravel(xp.expm(a[0] * G) @ xp.reshape(th, (3, 3)))

    return ps.Equivariance(model=model, T=T, name="rotation"), np.array([rng.uniform(-1, 1)]), rng.standard_normal(9), 1.0


def _conjugated(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``T = φ⁻¹(e^a φ(θ))`` with ``φ = sinh``; ``y = (W φ(θ))³``: ``S = e^{3a} y``."""
    W = rng.standard_normal((M_OUT, 3)) * sat ** (1 / 3)

    def model(theta: Any, *, xp: Any) -> Any:
        return (W @ xp.sinh(theta)) ** 3

    eq = ps.Equivariance(model=model, T=lambda a, th, *, xp: xp.asinh(xp.exp(a[0]) * xp.sinh(th)),
                         S=lambda a, y, *, xp: xp.exp(3 * a[0]) * y, name="conjugated")
    return eq, np.array([rng.uniform(-0.5, 0.5)]), rng.standard_normal(3), 1.0


def _last_layer(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``y = W2 tanh(s W1 X)``; scaling the last layer: ``T = (W1, e^a W2)``, ``S = e^a y``."""
    X = rng.standard_normal((3, 2))

    def model(theta: Any, *, xp: Any) -> Any:
        W1 = xp.reshape(theta[:9], (3, 3))
        W2 = xp.reshape(theta[9:], (3, 3))
        return xp.ravel(W2 @ xp.tanh(sat * (W1 @ X)))

    eq = ps.Equivariance(model=model, T=lambda a, th, *, xp: xp.concatenate([th[:9], xp.exp(a[0]) * th[9:]]),
                         S=lambda a, y, *, xp: xp.exp(a[0]) * y, name="last_layer")
    return eq, np.array([rng.uniform(-1, 1)]), rng.standard_normal(18), 1.0


def _scale_invariant(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``y = tanh(s W θ / ‖θ‖)``: ``θ ↦ e^a θ`` is a symmetry."""
    W = rng.standard_normal((M_OUT, 5))

    def model(theta: Any, *, xp: Any) -> Any:
        return xp.tanh(sat * (W @ theta) / xp.sqrt(xp.sum(theta * theta)))

    eq = ps.Equivariance(model=model, T=lambda a, th, *, xp: xp.exp(a[0]) * th, name="scale_invariant")
    return eq, np.array([rng.uniform(-1, 1)]), rng.standard_normal(5) * 10.0 ** rng.uniform(-2, 2), 1.0


def _softmax_shift(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """Log-probabilities of two classes for three samples, ``log_softmax(Z θ)`` per sample, with
    ``Z u`` constant within each sample: ``θ ↦ θ + a u`` is a symmetry."""
    u = rng.standard_normal(4)
    Z = rng.standard_normal((M_OUT, 4))
    Z = Z + np.outer(np.repeat(rng.standard_normal(3), 2) - Z @ u, u) / (u @ u)  # Z u = (c₁,c₁,c₂,c₂,c₃,c₃)
    Z = Z * sat

    def model(theta: Any, *, xp: Any) -> Any:
        z = xp.reshape(Z @ theta, (3, 2))
        return xp.ravel(xp.log_softmax(z, axis=1))

    eq = ps.Equivariance(model=model, T=lambda a, th, *, xp: th + a[0] * u, name="softmax_shift")
    return eq, np.array([rng.uniform(-1, 1)]), rng.standard_normal(4), 1.0


# --- discrete families (Theorem 2, at a fixed point) ---------------------------------------------


def _permutation(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """Two-layer ``tanh`` net; swapping hidden units 0 and 1 (rows of W1, columns of W2) is a
    symmetry; fixed points have equal units."""
    X = rng.standard_normal((3, 2))
    perm = np.array([1, 0, 2])

    def model(theta: Any, *, xp: Any) -> Any:
        W1 = xp.reshape(theta[:9], (3, 3))
        W2 = xp.reshape(theta[9:], (3, 3))
        return xp.ravel(W2 @ xp.tanh(sat * (W1 @ X)))

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        W1 = xp.reshape(th[:9], (3, 3))
        W2 = xp.reshape(th[9:], (3, 3))
        P = xp.asarray(np.eye(3)[perm])
        return xp.concatenate([xp.ravel(P @ W1), xp.ravel(W2 @ xp.transpose(P))])

    W1 = rng.standard_normal((3, 3))
    W1[1] = W1[0]
    W2 = rng.standard_normal((3, 3))
    W2[:, 1] = W2[:, 0]
    return ps.Equivariance(model=model, T=T, name="permutation"), np.zeros(1), np.concatenate([W1.ravel(), W2.ravel()]), 1.0


def _sign_flip(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``tanh`` is odd: flipping hidden unit 2's in- and out-weights is a symmetry; fixed where they vanish."""
    X = rng.standard_normal((3, 2))
    flip = np.array([1.0, 1.0, -1.0])

    def model(theta: Any, *, xp: Any) -> Any:
        W1 = xp.reshape(theta[:9], (3, 3))
        W2 = xp.reshape(theta[9:], (3, 3))
        return xp.ravel(W2 @ xp.tanh(sat * (W1 @ X)))

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        W1 = xp.reshape(th[:9], (3, 3))
        W2 = xp.reshape(th[9:], (3, 3))
        return xp.concatenate([xp.ravel(xp.asarray(np.diag(flip)) @ W1), xp.ravel(W2 * xp.asarray(flip))])

    W1 = rng.standard_normal((3, 3))
    W1[2] = 0.0
    W2 = rng.standard_normal((3, 3))
    W2[:, 2] = 0.0
    return ps.Equivariance(model=model, T=T, name="sign_flip"), np.zeros(1), np.concatenate([W1.ravel(), W2.ravel()]), 1.0


def _mirror(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """``y = tanh(s·(W P θ + c (uᵀθ)²))`` with ``P = I − uuᵀ``: the reflection ``θ − 2(uᵀθ)u`` is a
    symmetry, fixed on the hyperplane ``uᵀθ = 0``."""
    u = rng.standard_normal(5)
    u /= np.linalg.norm(u)
    W = rng.standard_normal((M_OUT, 5)) @ (np.eye(5) - np.outer(u, u))
    c = rng.standard_normal(M_OUT)

    def model(theta: Any, *, xp: Any) -> Any:
        return xp.tanh(sat * (W @ theta + c * (theta @ u) ** 2))

    theta = rng.standard_normal(5)
    theta -= (theta @ u) * u
    eq = ps.Equivariance(model=model, T=lambda a, th, *, xp: th - 2.0 * (th @ u) * u, name="mirror")
    return eq, np.zeros(1), theta, 1.0


def _involution(rng: np.random.Generator, sat: float) -> tuple[ps.Equivariance, np.ndarray, np.ndarray, float]:
    """The nonlinear involution ``T = φ⁻¹(P φ(θ))`` (``φ = sinh``, ``P`` swaps halves) and a model of
    ``φ(θ)`` symmetric under ``P``; fixed where the halves are equal."""
    W = rng.standard_normal((M_OUT, 3))

    def model(theta: Any, *, xp: Any) -> Any:
        p = xp.sinh(theta)
        return xp.tanh(sat * (W @ (p[:3] * p[3:]) + W @ (p[:3] + p[3:])))

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        p = xp.sinh(th)
        return xp.asinh(xp.concatenate([p[3:], p[:3]]))

    half = rng.standard_normal(3)
    return ps.Equivariance(model=model, T=T, name="involution"), np.zeros(1), np.concatenate([half, half]), 1.0


CONTINUOUS = ("homogeneous", "rescaling", "gl", "rotation", "conjugated", "last_layer", "scale_invariant",
              "softmax_shift")
DISCRETE = ("permutation", "sign_flip", "mirror", "involution")
FAMILIES = CONTINUOUS + DISCRETE

_BUILDERS = {
    "homogeneous": _homogeneous, "rescaling": _rescaling, "gl": _gl, "rotation": _rotation, "conjugated": _conjugated,
    "last_layer": _last_layer, "scale_invariant": _scale_invariant, "softmax_shift": _softmax_shift,
    "permutation": _permutation, "sign_flip": _sign_flip, "mirror": _mirror, "involution": _involution,
}  # fmt: skip

VARIANTS = 4
"""Sets of constants per family and loss; the last one is saturated (``tanh`` arguments and logits
scaled by 10–300; beyond, every ``tanh`` rounds to ±1 and the checks are vacuous)."""


@functools.lru_cache(maxsize=None)
def _variant(family: str, loss: str, index: int) -> tuple[ps.Equivariance, Callable[..., Any], Any, float]:
    """The callables of one variant (cached: the same objects for every model of the variant) and a
    sampler of points ``rng -> (a, θ)``."""
    rng = np.random.default_rng([FAMILIES.index(family), LOSSES.index(loss), index])
    sat = float(10.0 ** rng.uniform(1.0, 2.5)) if index == VARIANTS - 1 else float(10.0 ** rng.uniform(-0.5, 0.5))
    built = _BUILDERS[family](rng, sat)
    if family == "gl":
        eq, point = built
    else:
        eq, a0, theta0, _ = built

        def point(r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            if family in DISCRETE:
                return a0, _fixed_point(family, eq, r, theta0.size)
            return r.uniform(-0.5, 0.5, a0.shape), 10.0 ** r.uniform(-0.5, 0.5) * r.standard_normal(theta0.shape)

    return eq, _losses(rng)[loss], point, sat


def _fixed_point(family: str, eq: ps.Equivariance, r: np.random.Generator, n: int) -> np.ndarray:
    """A random point of the fixed set: ``(x + T x) / 2`` for the linear involutions (exact for the
    permutation and the sign flip; for the mirror it is the projection onto its hyperplane, applied
    twice so that the point is fixed to rounding), equal halves for the nonlinear involution.

    (Recovering the mirror's normal as ``(x − Tx) / ‖x − Tx‖`` loses ``‖x‖ / ‖x − Tx‖`` digits when ``x``
    is near the hyperplane: seed 8690 gave a point 1.5e-13 off the fixed set, rightly rejected.)"""
    if family == "involution":
        half = r.standard_normal(n // 2)
        return np.concatenate([half, half])
    x = 10.0 ** r.uniform(-0.5, 0.5) * r.standard_normal(n)
    p = (x + np.asarray(eq.T(np.zeros(1), x, xp=_XP))) / 2
    if family == "mirror":  # the projection onto the hyperplane again: its rounding is then O(eps·|p|)
        p = (p + np.asarray(eq.T(np.zeros(1), p, xp=_XP))) / 2
    return p


_XP = ps.backends.get_backend(None, jit=False).xp


def draw(seed: int, family: str | None = None, loss: str | None = None) -> Case:
    """One random valid model: family, loss and variant drawn from ``seed`` unless given, then a random
    point of that variant (``gl``: ``a`` sets ``cond(∂θT)`` log-uniformly in ``[1, 5e7]``)."""
    rng = np.random.default_rng(seed)
    family = family or str(rng.choice(FAMILIES))
    loss = loss or str(rng.choice(LOSSES))
    index = int(rng.integers(VARIANTS))
    eq, loss_fn, point, sat = _variant(family, loss, index)
    a, theta = point(rng)
    cond = float(10.0 ** a[0]) if family == "gl" else 1.0
    return Case(family=family, loss_name=loss, eq=eq, loss=loss_fn, a=a, theta=theta,
                discrete=family in DISCRETE, saturation=sat, target_condition=cond)


def violated(case: Case, epsilon: float, seed: int = 0) -> Case:
    """``case`` with the model ``f + ε·s·sin(c·θ + φ)`` (``s`` the RMS of ``f(θ)``, ``c`` random
    frequencies): breaks the equivariance by ~``ε`` relative."""
    rng = np.random.default_rng(seed)
    n = case.theta.size
    C = rng.standard_normal((M_OUT, n))
    phase = rng.uniform(0, 2 * np.pi, M_OUT)
    xp64 = ps.backends.get_backend(None, jit=False).xp
    y = np.asarray(case.eq.model(case.theta, xp=xp64))
    size = epsilon * float(np.sqrt(np.mean(y**2)))
    model = case.eq.model

    def broken(theta: Any, *, xp: Any) -> Any:
        return model(theta, xp=xp) + size * xp.sin(C @ theta + phase)

    return dataclasses.replace(case, eq=case.eq.replace(model=broken, name=case.eq.name + "_violated"))
