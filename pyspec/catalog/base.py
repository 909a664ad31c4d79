"""Catalog entries: named, ready equivariances with a loss and exact points.

An :class:`Instance` is one concrete model of an entry: an :class:`~pyspec.Equivariance`, a loss, and
callables returning ``a`` and ``θ`` *in a given array namespace*. Points are computed with the
namespace so that, for the discrete entries, ``θ`` lies exactly on the fixed-point set at the working
precision (a float64 projection would be off by ~1e-16, which a 50-digit check rightly rejects).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np

from pyspec.backends import get_backend
from pyspec.equivariance import Equivariance

__all__ = [
    "PERTURBATION",
    "THEOREM_IDENTITIES",
    "Instance",
    "Kind",
    "Entry",
    "unpack",
    "constant_point",
    "namespace",
    "orthonormal_columns",
    "cayley_orthogonal",
    "breaking_perturbation",
    "broken",
]

PERTURBATION = 5e-2
"""Relative size of the equivariance-breaking perturbation of a model (negative controls)."""

THEOREM_IDENTITIES = {
    "continuous": ("theorem1_key_identity", "theorem1_first_order", "theorem1_hessian_action",
                   "theorem1_hessian_quadratic"),
    "discrete": ("theorem2_gradient", "theorem2_hessian"),
}
"""Ids (docs/design.md#one-id-per-paper-item) of Theorem 1 / Theorem 2 checked on every entry of each kind."""

Kind = Literal["continuous", "discrete"]
"""An entry's kind: ``"continuous"`` (checked with Theorem 1) or ``"discrete"`` (Theorem 2)."""

PointFn = Callable[[Any], Any]
"""``point(xp) -> array or pytree``: a point computed with the array namespace ``xp``
(``ps.backends.get_backend().xp`` for float64, ``get_backend(50).xp`` for 50 digits), or a NumPy
float64 array for ``xp=None``."""


@dataclasses.dataclass(frozen=True)
class Instance:
    """One model of a catalog entry.

    Attributes
    ----------
    eq : Equivariance
    loss : callable
        Backend-neutral ``ℓ(y, *, xp) -> scalar``.
    a, theta : callable
        ``a(xp)``, ``theta(xp)``: a good position (continuous entries) or a fixed point (discrete).
    off_fixed : callable or None
        ``off_fixed(xp)``: a point near ``theta`` *not* on the fixed-point set (discrete entries; the
        negative control of Theorem 2).
    args : mapping
        What the entry's applications (:mod:`pyspec.applications`) need besides ``eq``, ``loss`` and
        the points: ``degree`` (homogeneous models), ``shapes`` and ``layers`` (parameter layout of the
        rescaling / reparameterization laws), ``generator`` (Noether), ``softmax_classes`` (last layer),
        ``O`` (``O(xp)``, mirror frame), ``off_stationary`` (``off_stationary(xp)``, a point that is not
        stationary).
    """

    eq: Equivariance
    loss: Callable[..., Any]
    a: PointFn
    theta: PointFn
    off_fixed: PointFn | None = None
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Entry:
    """A catalog entry.

    Attributes
    ----------
    name : str
        Identifier used in reports.
    description : str
        One line: the model, the equivariance, the paper section.
    kind : str
        ``"continuous"`` (Theorem 1) or ``"discrete"`` (Theorem 2).
    build : callable
        ``build(seed) -> Instance``; deterministic in ``seed``, so each seed's instance is built once
        and shared (its callables then key the same compiled programs, :mod:`pyspec.cache`).
    applications : tuple of str
        Ids of the paper's applications (§§4–6) also checked on this entry (:mod:`pyspec.applications`).
    """

    name: str
    description: str
    kind: Kind
    build: Callable[[int], Instance]
    applications: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "build", functools.lru_cache(maxsize=None)(self.build))

    @property
    def identities(self) -> tuple[str, ...]:
        """Ids (docs/design.md#one-id-per-paper-item) checked on this entry: Theorem 1 or 2, then the applications."""
        return THEOREM_IDENTITIES[self.kind] + self.applications


def unpack(theta: Any, shapes: Sequence[tuple[int, ...]], xp: Any) -> list[Any]:
    """Split a flat parameter vector into arrays of the given shapes."""
    out, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(xp.reshape(theta[offset : offset + size], shape))
        offset += size
    if offset != theta.shape[0]:
        raise ValueError(f"parameter vector has {theta.shape[0]} entries, the layout needs {offset}")
    return out


def constant_point(value: np.ndarray) -> PointFn:
    """A point given by float64 numbers (exact in every precision); ``point(None)`` is a NumPy array."""
    frozen = np.array(value, dtype=np.float64)

    def point(xp: Any = None) -> Any:
        return namespace(xp).asarray(frozen)

    return point


def namespace(xp: Any) -> Any:
    """``xp``, or NumPy (float64) for ``None``: points are computed with ``point(xp)`` in a backend's
    namespace, or as NumPy arrays with ``point(None)``."""
    return np if xp is None else xp


def orthonormal_columns(X: Any, xp: Any) -> Any:
    """Orthonormalize the columns of ``X`` (twice-repeated modified Gram–Schmidt, with ``xp``).

    Computed in the namespace's precision, so ``QᵀQ = I`` holds to working precision.
    """
    columns = [X[:, j] for j in range(X.shape[1])]
    basis: list[Any] = []
    for col in columns:
        for _ in range(2):
            for q in basis:
                col = col - xp.sum(q * col) * q
        basis.append(col / xp.sqrt(xp.sum(col * col)))
    return xp.stack(basis, axis=1)


def cayley_orthogonal(R: np.ndarray, xp: Any) -> Any:
    """The orthogonal matrix ``(I − K)⁻¹(I + K)`` of the antisymmetric ``K = (R − Rᵀ)/2``.

    ``K`` is exactly antisymmetric in float64, and one solve at working precision gives ``QᵀQ = I`` to
    working precision: a cheap random rotation for every backend.
    """
    K = (R - R.T) / 2
    eye = np.eye(R.shape[0])
    return xp.solve(xp.asarray(eye - K), xp.asarray(eye + K))


def breaking_perturbation(n: int, y: np.ndarray, seed: int = 7) -> Callable[..., Any]:
    """``δ(θ, *, xp) = ε·c·sin(Nθ + φ)``: added to a model, it breaks any equivariance.

    ``N`` (``m × n``, scaled by ``1/√n``) and the phases ``φ`` are random, ``c`` is the RMS of the
    outputs ``y`` and ``ε =`` :data:`PERTURBATION`. Each component's first and second derivatives
    (``cos`` and ``−sin``) cannot both be small, so every identity of Theorems 1–2 is moved.
    """
    rng = np.random.default_rng(seed)
    N = rng.standard_normal((y.size, n)) / np.sqrt(n)
    phase = rng.uniform(0.0, 2.0 * np.pi, y.size)
    c = PERTURBATION * max(float(np.sqrt(np.mean(y**2))), 1e-3)

    def delta(theta: Any, *, xp: Any) -> Any:
        return c * xp.sin(N @ theta + phase)

    return delta


def broken(instance: Instance, seed: int = 7) -> Instance:
    """The instance with its model plus :func:`breaking_perturbation` (sized at its float64 point):
    a negative control, not equivariant."""
    backend = get_backend(None, jit=False)
    model = instance.eq.model
    with backend.context():  # the float64 backend in use (JAX, or dual numbers inside dual_float64())
        theta = instance.theta(backend.xp)
        n, y = int(np.size(backend.to_numpy(theta))), np.asarray(backend.to_numpy(model(theta, xp=backend.xp)))
    delta = breaking_perturbation(n, y, seed)

    def perturbed(theta: Any, *, xp: Any) -> Any:
        return model(theta, xp=xp) + delta(theta, xp=xp)

    return dataclasses.replace(instance, eq=instance.eq.replace(model=perturbed, name=instance.eq.name + "_broken"))
