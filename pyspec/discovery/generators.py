"""Finding the linear symmetries of a model, and what the toolbox does with them.

A vector field ``X`` generates a symmetry of ``f`` (``f(e^{aX}θ) = f(θ)``) iff ``∇f(θ) X(θ) = 0`` for
every ``θ``. In :func:`~pyspec.discovery.families.linear_field_family` (per-leaf ``L W + W R``,
optionally ``+ c``) this is a linear condition ``J(θ_s) E(θ_s) u = 0`` on the coefficients at sampled
points; its null space, modulo the fields that vanish at every sampled point, is the Lie algebra of
linear symmetries in the family. Each generator ``A`` then gives

* an :class:`~pyspec.Equivariance` ``T(a, θ) = exp(Σ a_i A_i) θ``, ``S = id``, for Theorem 1
  (:meth:`DiscoveredSymmetries.equivariance`);
* when ``A`` is symmetric, the conserved charge ``Q(θ) = ½ θᵀAθ`` of §4.1, eq. (5) (a charge with
  ``∇Q = Aθ`` exists iff ``A = Aᵀ``; :meth:`DiscoveredSymmetries.charges`);
* at a stationary point, ``dim ker H ≥ rank [A_1θ, …, A_kθ]`` (§5.4;
  :meth:`DiscoveredSymmetries.null_space_bound`).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.discovery.families import Family, linear_field_family
from pyspec.discovery.laws import _flat, _quotient, sample_points
from pyspec.discovery.model import FlatModel, flat_model
from pyspec.discovery.span import FLOAT64, split_rows
from pyspec.equivariance import Equivariance

__all__ = ["DiscoveredSymmetries", "discover_symmetries", "FAMILIES"]

FAMILIES = ("linear", "affine")
"""``"linear"``: per-leaf ``L W + W R``; ``"affine"``: plus a per-leaf translation ``c``."""


class DiscoveredSymmetries(NamedTuple):
    """A basis of the symmetry generators found, as dense maps on the flat parameters.

    Attributes
    ----------
    matrices : numpy.ndarray
        ``(k, n, n)``: the linear parts ``A_i`` (``X_i(t) = A_i t + c_i`` on flat parameters ``t``).
    shifts : numpy.ndarray
        ``(k, n)``: the translations ``c_i`` (zero for the ``"linear"`` family).
    coefficients : numpy.ndarray
        ``(k, size)``: the generators in the family's coordinates.
    family : Family
    paths : tuple of str
        Key path of each leaf.
    gap : float
        Rank gap of the linear system.
    samples : int
        Number of points at which the condition was imposed.
    flat : FlatModel
        The model on flat parameters (with its inputs bound).
    """

    matrices: np.ndarray
    shifts: np.ndarray
    coefficients: np.ndarray
    family: Family
    paths: tuple[str, ...]
    gap: float
    samples: int
    flat: FlatModel

    @property
    def count(self) -> int:  # type: ignore[override]  # public name; shadows tuple.count on purpose
        """Dimension of the Lie algebra of symmetries found."""
        return int(self.matrices.shape[0])

    def directions(self, theta: Any) -> np.ndarray:
        """``(n, k)``: the fields ``A_i t + c_i`` at the pytree ``θ`` (the characteristic directions)."""
        t = np.asarray(_flat(theta))
        return (np.einsum("kij,j->ik", self.matrices, t) + self.shifts.T) if self.count else np.zeros((t.size, 0))

    def null_space_bound(self, theta: Any) -> int:
        """§5.4: at a stationary point ``θ``, ``dim ker H(θ) ≥`` this rank of the directions."""
        return split_rows(self.directions(theta).T, FLOAT64).rank if self.count else 0

    def charges(self) -> tuple[Callable[[Any], Any], ...]:
        """Eq. (5): ``Q(t) = ½ tᵀAt`` for a basis of the symmetric linear generators found.

        A generator's field is a gradient (``A t = ∇Q``) iff ``A`` is symmetric and ``c = 0``; the
        symmetric ones are the null space of ``A ↦ (A − Aᵀ, c)`` within the span found. Each charge
        takes the parameters as a pytree (or flat vector) ``θ`` and returns ``½ tᵀAt``.
        """
        if not self.count:
            return ()
        k, n, _ = self.matrices.shape
        anti = np.concatenate([(self.matrices - self.matrices.transpose(0, 2, 1)).reshape(k, -1), self.shifts], axis=1)
        # Compared with the size of the generators themselves: rounding noise in an exactly symmetric
        # generator must not count as an antisymmetric part.
        scale = max(float(np.max(np.linalg.norm(self.matrices.reshape(k, -1), axis=1))), 1e-300)
        combos = split_rows(anti.T / scale, FLOAT64, unit_rows=True).complement
        charges = []
        for c in combos.T:
            A = jnp.asarray(np.einsum("k,kij->ij", c, self.matrices))
            charges.append(lambda theta, A=A: 0.5 * jnp.dot(_flat(theta), A @ _flat(theta)))
        return tuple(charges)

    def equivariance(self, name: str = "discovered") -> Equivariance:
        """``T(a, t) = exp(Σ a_i Â_i)·(t, 1)`` on flat parameters, ``S = id`` (``a ∈ ℝᵏ``).

        ``Â_i = [[A_i, c_i], [0, 0]]`` is the affine generator as an ``(n+1) × (n+1)`` matrix, so the
        same formula covers translations. Backend-neutral: it runs at any precision when the model
        does.
        """
        if not self.count:
            raise ValueError("no symmetry was found: there is nothing to build an equivariance from")
        k, n, _ = self.matrices.shape
        hat = np.zeros((k, n + 1, n + 1))
        hat[:, :n, :n] = self.matrices
        hat[:, :n, n] = self.shifts
        F = self.flat.F

        def T(a: Any, t: Any, *, xp: Any) -> Any:
            generator = sum(a[i] * xp.asarray(hat[i]) for i in range(k))
            moved = xp.expm(generator) @ xp.concatenate([t, xp.ones((1,))], axis=0)
            return moved[:n]

        def model(t: Any, *, xp: Any) -> Any:
            return F(t)

        return Equivariance(model=model, T=T, S=None, name=name)


def _auto_samples(unknowns: int, outputs: int) -> int:
    """Enough points that the conditions outnumber the unknowns 2 : 1 (at least 6)."""
    return max(6, int(np.ceil(2.0 * unknowns / max(outputs, 1))) + 2)


def discover_symmetries(
    model: Callable[..., Any],
    theta: Any,
    inputs: Any = None,
    *,
    family: str = "linear",
    samples: int | None = None,
    spread: float = 0.5,
    seed: int = 0,
) -> DiscoveredSymmetries:
    """A basis of the linear (or affine) symmetry generators of ``model`` in a per-leaf family.

    Parameters
    ----------
    model, theta, inputs
        As in :func:`~pyspec.discovery.conservation_laws` (float64); ``theta`` a pytree.
    family : {"linear", "affine"}
        See :data:`FAMILIES`.
    samples : int or None
        Points at which ``∇f(θ)X(θ) = 0`` is imposed; default: twice as many conditions as unknowns.
    spread : float
        Relative size of the moves from ``θ`` to the other points.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    fm = flat_model(model, theta, inputs, None)
    fam = linear_field_family(fm.shapes, affine=family == "affine")
    offsets = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in fm.shapes])]).astype(int)

    def leaves(t: jax.Array) -> list[jax.Array]:
        return [jnp.reshape(t[offsets[i] : offsets[i + 1]], s) for i, s in enumerate(fm.shapes)]

    def field(u: jax.Array, t: jax.Array) -> jax.Array:
        return jnp.concatenate([jnp.ravel(x) for x in fam.evaluate(u, leaves(t))])

    zeros = jnp.zeros(fam.size)
    E_of = jax.jacfwd(field, argnums=0)
    conditions = jax.jit(lambda t: (jax.jacrev(fm.F)(t) @ E_of(zeros, t), E_of(zeros, t)))
    M = int(jax.eval_shape(fm.F, fm.t).shape[0])
    count = samples if samples is not None else _auto_samples(fam.size, M)
    rows, values = [], []
    for point in sample_points(theta, count, spread, seed):
        JE, E = conditions(_flat(point))
        rows.append(np.asarray(JE))
        values.append(np.asarray(E))
    symmetric = split_rows(np.concatenate(rows), FLOAT64)
    vanishing = split_rows(np.concatenate(values), FLOAT64)
    basis = _quotient(symmetric.complement, vanishing.complement).T
    n = int(fm.t.shape[0])
    linear_part = jax.jit(jax.vmap(lambda u: jax.jacfwd(lambda t: field(u, t))(jnp.zeros(n))))
    shift = jax.jit(jax.vmap(lambda u: field(u, jnp.zeros(n))))
    B = jnp.asarray(basis)
    matrices = np.asarray(linear_part(B)) if basis.shape[0] else np.zeros((0, n, n))
    shifts = np.asarray(shift(B)) if basis.shape[0] else np.zeros((0, n))
    return DiscoveredSymmetries(matrices, shifts, basis, fam, fm.paths, symmetric.gap, count, fm)
