"""Values of evaluated Lean terms on a finite-dimensional instance (``E = ℝⁿ``, ``F = ℝᵐ``, ``G = ℝᵏ``).

* a vector of ``ℝⁿ`` is a 1-D backend array, a real number a 0-d array (or a Python number);
* a continuous linear map ``X →L[ℝ] Y →L[ℝ] … →L[ℝ] V`` is a :class:`Lin`: the curried tensor of the
  paper (Section 2, Lemma 1), an array of shape ``V.shape + … + Y.shape + X.shape`` that consumes its
  *last* axes first, with ``ins`` the rank (0 for ``ℝ``, 1 for ``ℝⁿ``) of each argument in the order
  they are applied;
* a function ``X → Y`` is an :class:`Fn` (a Python callable of one argument, curried);
* a proposition evaluates to a :class:`Truth` (whether it holds, its worst relative residual and the
  tolerance it was judged by);
* a pair ``(x, y)`` of a product space is a Python tuple.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

__all__ = ["Lin", "LazyLin", "Fn", "Truth", "FormalTypeError", "IndexType", "Filter", "Basis", "Space", "Subspace"]


class FormalTypeError(TypeError):
    """An evaluated term is ill-typed on the instance (shapes or kinds do not fit)."""


@dataclasses.dataclass(frozen=True)
class Lin:
    """A continuous linear map as a curried tensor (module docstring)."""

    arr: Any
    ins: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.ins:
            raise FormalTypeError("a linear map needs at least one argument")


@dataclasses.dataclass(frozen=True)
class LazyLin:
    """A linear map between spaces of linear maps (``ContinuousLinearMap.compL``, ``.flip``), applied
    lazily; composing it with a :class:`Lin` on the right materializes the result."""

    fn: Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Fn:
    """A function (curried); ``key`` identifies it for the derivative cache (``None``: not cached)."""

    call: Callable[[Any], Any]
    key: Any = None

    def __call__(self, x: Any) -> Any:
        return self.call(x)


class Truth(NamedTuple):
    """A proposition's value: ``holds``, the worst ``residual`` / ``tolerance`` pair and a reason."""

    holds: bool
    residual: float = 0.0
    tolerance: float = 1.0
    reason: str = ""

    @property
    def ratio(self) -> float:
        return self.residual / self.tolerance if self.tolerance > 0 else (0.0 if self.residual == 0 else float("inf"))


def conj(truths: list[Truth]) -> Truth:
    """Conjunction: holds when all hold; reports the residual with the worst ratio to its tolerance."""
    if not truths:
        return Truth(True)
    worst = max(truths, key=lambda t: (not t.holds, t.ratio))
    return Truth(all(t.holds for t in truths), worst.residual, worst.tolerance, worst.reason)


@dataclasses.dataclass(frozen=True)
class IndexType:
    """A finite index type (``Fin N``, the index type ``ι`` of a basis) of ``size`` elements."""

    size: int


@dataclasses.dataclass(frozen=True)
class Space:
    """A type naming a vector space of arrays of ``shape`` (``()`` for ``ℝ``)."""

    shape: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Subspace:
    """A subspace (``LinearMap.range``, ``LinearMap.ker``) by its numerical dimension ``dim``."""

    dim: int


@dataclasses.dataclass(frozen=True)
class Filter:
    """The neighbourhood filter ``𝓝 p``."""

    point: Any


@dataclasses.dataclass(frozen=True)
class Basis:
    """A basis of ``ℝⁿ``: ``b l`` is column ``l`` of ``matrix``; ``b.repr x l`` the ``l``-th coordinate."""

    matrix: Any


def point_key(x: Any) -> Any:
    """A hashable key of a concrete value (``None`` for a value being differentiated)."""
    import numpy as np

    if isinstance(x, tuple):
        keys = tuple(point_key(i) for i in x)
        return None if None in keys else keys
    if isinstance(x, Lin):
        k = point_key(x.arr)
        return None if k is None else ("lin", x.ins, k)
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, Fn):
        return x.key
    name = type(x).__name__
    if name == "Dual" or "Tracer" in name:
        return None
    try:
        a = np.asarray(x)
    except Exception:  # noqa: BLE001 (a tracer)
        return None
    if a.dtype == object:
        if any(type(v).__name__ == "Dual" for v in a.ravel()):
            return None
        return ("mp", a.shape, tuple(str(v) for v in a.ravel()))
    return ("f64", a.shape, a.tobytes())


def curried(name: str, fn: Any, arity: int) -> Fn:
    """An instance function ``fn(x₁, …, xₖ)`` as a curried :class:`Fn` whose partial applications keep
    cache keys (``name`` and the keys of the arguments)."""

    def build(args: tuple, keys: tuple) -> Any:
        if len(args) == arity:
            return fn(*args)
        key = None if None in keys else (name,) + keys
        return Fn(lambda x: build(args + (x,), keys + (point_key(x),)), key=key)

    return build((), ())


__all__ += ["point_key", "curried"]
