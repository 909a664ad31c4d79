"""Finding the quadratic conservation laws, and checking them along gradient flow.

A function ``h`` is conserved by gradient flow for every loss iff ``∇h(θ) ⊥ W_θ`` for every ``θ``
(``W_θ`` spanned by the gradients ``∇_θ f_i(θ, x)``). In the family of
:func:`~pyspec.discovery.families.quadratic_family` this is a linear condition on the coefficients
``u``: ``J(θ_s) D(θ_s) u = 0`` at sampled points ``θ_s``, with ``D = ∂_u ∇_θ h_u``. Its null space,
modulo the coefficients of the zero function, is the space of quadratic laws.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.discovery.families import Family, quadratic_family
from pyspec.discovery.model import FlatModel, flat_model
from pyspec.discovery.span import FLOAT64, split_rows

__all__ = ["QuadraticLaw", "QuadraticLaws", "FlowDrift", "find_conserved_quantities", "gradient_flow_drift", "sample_points"]


class QuadraticLaw(NamedTuple):
    """One conserved quadratic function ``h_u``.

    Attributes
    ----------
    coefficients : numpy.ndarray
        ``u`` in the family's coordinates (unit norm).
    family : Family
    paths : tuple of str
        Key path of each leaf.
    """

    coefficients: np.ndarray
    family: Family
    paths: tuple[str, ...]

    def __call__(self, theta: Any) -> Any:
        """``h_u(θ)`` for a pytree ``θ`` (a JAX scalar; differentiable)."""
        return self.family.evaluate(jnp.asarray(self.coefficients), jax.tree_util.tree_leaves(theta))

    def describe(self, digits: int = 3, tol: float = 1e-8) -> str:
        """The nonzero blocks, e.g. ``['W1'] rows: [[0.5, 0], [0, 0]] + …``."""
        names = {"rows": "⟨A, WWᵀ⟩", "cols": "⟨B, WᵀW⟩", "linear": "⟨b, W⟩"}
        parts = []
        for t in self.family.terms:
            c = self.coefficients[t.start : t.stop]
            if np.max(np.abs(c), initial=0.0) > tol:
                parts.append(f"{self.paths[t.leaf]} {names[t.kind]}: {np.round(c, digits).tolist()}")
        return " + ".join(parts) or "0"


class QuadraticLaws(NamedTuple):
    """The quadratic laws found, against the count of all laws.

    Attributes
    ----------
    laws : tuple of QuadraticLaw
        An orthonormal basis (in coefficient space) of the conserved quadratic functions.
    independent : int
        How many of them are functionally independent at ``θ`` (rank of their gradients).
    count : int or None
        The number of all laws (:func:`~pyspec.discovery.conservation_laws`), when given.
    complete : bool or None
        ``independent == count``: the quadratic laws account for every law.
    gap : float
        Rank gap of the linear system (see :mod:`pyspec.discovery.span`).
    unknowns : int
        Size of the family.
    """

    laws: tuple[QuadraticLaw, ...]
    independent: int
    count: int | None  # type: ignore[assignment]  # public field name; shadows tuple.count on purpose
    complete: bool | None
    gap: float
    unknowns: int


class FlowDrift(NamedTuple):
    """Drift of quantities along an RK4-integrated gradient flow.

    Attributes
    ----------
    drifts : numpy.ndarray
        ``max_t |h(θ_t) − h(θ_0)|`` over the natural scale of each quantity (its value computed with
        absolute coefficients, ``≥ |h|``).
    control : float
        The same for ``‖θ‖²``, which gradient flow does not conserve.
    loss : tuple of float
        The loss at the start and at the end.
    """

    drifts: np.ndarray
    control: float
    loss: tuple[float, float]


def sample_points(theta: Any, samples: int, spread: float, seed: int) -> list[Any]:
    """``θ`` and ``samples − 1`` random points around it (each leaf moved by ``spread`` of its RMS)."""
    rng = np.random.default_rng(seed)
    points = [theta]
    for _ in range(samples - 1):
        points.append(jax.tree_util.tree_map(
            lambda w: np.asarray(w) + spread * (np.sqrt(np.mean(np.square(w))) or 1.0) * rng.standard_normal(np.shape(w)),
            theta,
        ))
    return points


def _flat(theta: Any) -> jax.Array:
    return jnp.concatenate([jnp.ravel(jnp.asarray(w, dtype=jnp.float64)) for w in jax.tree_util.tree_leaves(theta)])


def _quotient(N: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Orthonormal basis of ``span N ⊖ span T`` (``T ⊆ span N``, both orthonormal)."""
    if T.shape[1] == 0 or N.shape[1] == 0:
        return N
    P = N - T @ (T.T @ N)
    U, s, _ = np.linalg.svd(P, full_matrices=False)
    return U[:, s > 0.5]


def _jacobian(fm: FlatModel, t: jax.Array) -> np.ndarray:
    return np.asarray(jax.jacrev(fm.F)(t))


def find_conserved_quantities(
    model: Callable[..., Any],
    theta: Any,
    inputs: Any = None,
    *,
    count: int | None = None,
    samples: int = 6,
    spread: float = 0.5,
    linear: bool = True,
    seed: int = 0,
) -> QuadraticLaws:
    """The quadratic (and linear) functions of the leaves that gradient flow conserves.

    Parameters
    ----------
    model, theta, inputs
        As in :func:`~pyspec.discovery.conservation_laws` (float64).
    count : int or None
        The number of all laws, to say whether the quadratic ones account for it.
    samples : int
        Points ``θ_s`` at which ``∇h ⊥ W`` is imposed (``θ`` and random points around it).
    spread : float
        Relative size of the moves to the other points.
    linear : bool
        Include linear terms ``⟨b, W⟩``.
    """
    fm = flat_model(model, theta, inputs, None)
    family = quadratic_family(fm.shapes, linear=linear)
    offsets = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in fm.shapes])]).astype(int)

    def leaves(t: jax.Array) -> list[jax.Array]:
        return [jnp.reshape(t[offsets[i] : offsets[i + 1]], s) for i, s in enumerate(fm.shapes)]

    grad_h = jax.grad(lambda t, u: family.evaluate(u, leaves(t)))
    D_of = jax.jit(lambda t: jax.jacfwd(lambda u: grad_h(t, u))(jnp.zeros(family.size)))
    constraints, gradients = [], []
    for point in sample_points(theta, samples, spread, seed):
        t = _flat(point)
        D = np.asarray(D_of(t))
        constraints.append(_jacobian(fm, t) @ D)
        gradients.append(D)
    laws_space = split_rows(np.concatenate(constraints), FLOAT64)
    zero_functions = split_rows(np.concatenate(gradients), FLOAT64)
    basis = _quotient(laws_space.complement, zero_functions.complement)
    laws = tuple(QuadraticLaw(basis[:, j].copy(), family, fm.paths) for j in range(basis.shape[1]))
    G0 = np.asarray(D_of(_flat(theta))) @ basis
    independent = split_rows(G0.T, FLOAT64).rank if laws else 0
    complete = None if count is None else independent == count
    return QuadraticLaws(laws, independent, count, complete, laws_space.gap, family.size)


def gradient_flow_drift(
    model: Callable[..., Any],
    theta: Any,
    inputs: Any,
    quantities: Sequence[Callable[[Any], Any]],
    *,
    time: float = 0.5,
    steps: int = 2000,
    seed: int = 0,
) -> FlowDrift:
    """Integrate gradient flow on ``½ mean ‖f(θ, x) − y‖²`` (random targets) with RK4; measure drift.

    The natural scale of a quantity is its value at ``θ`` with every coefficient and parameter
    replaced by its absolute value, so that the drift is relative to the size of its terms.
    """
    fm = flat_model(model, theta, inputs, None)
    t0 = fm.t
    targets = jnp.asarray(np.random.default_rng(seed).standard_normal(np.shape(np.asarray(fm.F(t0)))))

    def loss(t: jax.Array) -> jax.Array:
        return 0.5 * jnp.mean(jnp.square(fm.F(t) - targets))

    velocity = jax.grad(loss)
    h = time / steps

    def step(_: int, t: jax.Array) -> jax.Array:
        k1 = -velocity(t)
        k2 = -velocity(t + 0.5 * h * k1)
        k3 = -velocity(t + 0.5 * h * k2)
        k4 = -velocity(t + h * k3)
        return t + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)

    tT = jax.jit(lambda t: jax.lax.fori_loop(0, steps, step, t))(t0)
    start, end = fm.unflatten(t0), fm.unflatten(tT)
    magnitude = jax.tree_util.tree_map(jnp.abs, start)
    drifts = []
    for q in quantities:
        scale = _scale(q, magnitude)
        drifts.append(float(jnp.abs(q(end) - q(start)) / scale))
    sq = float(jnp.sum(t0**2))
    control = float(abs(float(jnp.sum(tT**2)) - sq) / sq)
    return FlowDrift(np.array(drifts), control, (float(loss(t0)), float(loss(tT))))


def _scale(q: Callable[[Any], Any], magnitude: Any) -> float:
    if isinstance(q, QuadraticLaw):
        return float(q._replace(coefficients=np.abs(q.coefficients))(magnitude)) or 1.0
    return float(jnp.abs(q(magnitude))) or 1.0
