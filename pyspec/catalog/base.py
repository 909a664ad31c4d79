"""Catalog entries: named, ready equivariances with a loss and exact points.

An :class:`Instance` is one concrete model of an entry: an :class:`~pyspec.Equivariance`, a loss, and
callables returning ``a`` and ``θ`` *in a given array namespace*. Points are computed with the
namespace so that, for the discrete entries, ``θ`` lies exactly on the fixed-point set at the working
precision (a float64 projection would be off by ~1e-16, which a 50-digit check rightly rejects).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from pyspec.equivariance import Equivariance

__all__ = ["Instance", "Entry", "unpack", "constant_point", "orthonormal_columns", "cayley_orthogonal"]

PointFn = Callable[[Any], Any]
"""``point(xp) -> array or pytree``: a point computed with the array namespace ``xp``."""


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
    """

    eq: Equivariance
    loss: Callable[..., Any]
    a: PointFn
    theta: PointFn
    off_fixed: PointFn | None = None


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
        ``build(seed) -> Instance``; deterministic in ``seed``.
    """

    name: str
    description: str
    kind: str
    build: Callable[[int], Instance]

    @property
    def identities(self) -> tuple[str, ...]:
        """Ids (DESIGN.md §1) checked on this entry."""
        if self.kind == "continuous":
            return ("theorem1_key_identity", "theorem1_first_order", "theorem1_hessian_action",
                    "theorem1_hessian_quadratic")
        return ("theorem2_gradient", "theorem2_hessian")


def unpack(theta: Any, shapes: list[tuple[int, ...]], xp: Any) -> list[Any]:
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
    """A point given by float64 numbers (exact in every precision)."""
    frozen = np.array(value, dtype=np.float64)
    return lambda xp: xp.asarray(frozen)


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
