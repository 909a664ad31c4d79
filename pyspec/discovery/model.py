"""A user's model ``f(θ, x)`` as the stacked output map ``F(t)`` of flat parameters, in any backend.

Discovery works on flat parameters ``t ∈ ℝⁿ`` (the leaves of the pytree ``θ`` raveled and joined in
tree order) and on ``F(t) = (f(θ, x_1), …, f(θ, x_N))`` raveled: one coordinate per output ``i`` and
input ``x``. A model written against the array namespace (a keyword argument ``xp``, see
:mod:`pyspec.backends.base`) runs in float64 and at any precision; any other JAX function runs in
float64 only.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends import get_backend
from pyspec.backends.base import accepts_xp

__all__ = ["FlatModel", "flat_model", "accepts_xp"]


class FlatModel(NamedTuple):
    """A model on flat parameters.

    Attributes
    ----------
    t : array
        The flat parameters (backend array).
    F : callable
        ``t ↦`` the raveled outputs over all inputs, shape ``(M,)``.
    unflatten : callable
        ``t ↦ θ`` (the user's pytree).
    shapes : tuple of tuple of int
        Shape of each leaf, in tree order.
    paths : tuple of str
        Key path of each leaf, for reports.
    per_input : callable or None
        ``(t, x) ↦`` the raveled output at one input, so that ``F`` is it mapped over ``inputs``
        (JAX float64 models with inputs; else ``None``).
    inputs : array, list of numpy.ndarray or None
        The inputs of ``per_input`` (at a precision: the float64 inputs one by one, as ``F`` reads them).
    """

    t: Any
    F: Callable[[Any], Any]
    unflatten: Callable[[Any], Any]
    shapes: tuple[tuple[int, ...], ...]
    paths: tuple[str, ...]
    per_input: Callable[[Any, Any], Any] | None = None
    inputs: Any = None


def flat_model(model: Callable[..., Any], theta: Any, inputs: Any, precision: int | None) -> FlatModel:
    """Bind ``model`` to flat parameters in the backend of ``precision`` (``None``: JAX float64).

    ``model(θ, x)`` (or ``model(θ)`` when ``inputs is None``), optionally with the keyword ``xp``.
    ``inputs`` has a leading axis over the data points.
    """
    neutral = accepts_xp(model)
    if precision is not None and not neutral:
        raise TypeError(
            "computing at a given precision needs a backend-neutral model: give it a keyword argument "
            "`xp` and write it with that array namespace (pyspec.backends.base)"
        )
    backend = get_backend(precision)
    xp = backend.xp
    leaves_paths, treedef = jax.tree_util.tree_flatten_with_path(theta)
    if not leaves_paths:
        raise ValueError("theta has no array leaves")
    paths = tuple(jax.tree_util.keystr(p) or "θ" for p, _ in leaves_paths)
    if any(np.iscomplexobj(np.asarray(leaf)) for _, leaf in leaves_paths):
        raise TypeError("theta has complex leaves; conservation laws are computed for real parameters")
    host = [np.asarray(leaf, dtype=np.float64) for _, leaf in leaves_paths]
    shapes = tuple(h.shape for h in host)
    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    t = backend.asarray(np.concatenate([h.ravel() for h in host]))

    def unflatten(flat: Any) -> Any:
        parts = [
            flat[offsets[i]] if shapes[i] == () else xp.reshape(flat[offsets[i] : offsets[i + 1]], shapes[i])
            for i in range(len(shapes))
        ]
        return jax.tree_util.tree_unflatten(treedef, parts)

    call = (lambda *args: model(*args, xp=xp)) if neutral else model
    per_input = None
    X: jax.Array | list[np.ndarray] | None = None  # JAX float64: one array; at a precision: a list
    if inputs is None:
        F = lambda flat: xp.ravel(xp.asarray(call(unflatten(flat))))  # noqa: E731
    elif precision is None:
        X = jnp.asarray(inputs)
        per_input = lambda flat, x: jnp.ravel(jnp.asarray(call(unflatten(flat), x)))  # noqa: E731
        F = lambda flat: jnp.ravel(jax.vmap(lambda x: per_input(flat, x))(X))  # noqa: E731
    else:
        points = [np.asarray(x, dtype=np.float64) for x in np.asarray(inputs)]
        X = points

        def F(flat: Any) -> Any:
            th = unflatten(flat)
            return xp.concatenate([xp.ravel(xp.asarray(call(th, xp.asarray(x)))) for x in points], axis=0)

    return FlatModel(t=t, F=F, unflatten=unflatten, shapes=shapes, paths=paths, per_input=per_input, inputs=X)
