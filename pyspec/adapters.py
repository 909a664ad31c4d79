"""Parameters as the user holds them: plain pytrees, Equinox modules, Flax NNX modules and ``State``,
Flax linen variables.

A :class:`TreeView` splits a parameter container into its floating-point array leaves (``θ``), each
named by its key path (``"layers[0].weight"``, ``"l1.kernel"``, ``"params.Dense_0.bias"``), and the
static rest (activation functions, integer counters, RNG state, NNX graph definitions, linen
collections other than ``params``), and writes arrays back into the same container kind (NNX
``Param`` wrappers are kept). :func:`adapt` is the hook of :func:`pyspec.equivariance.bind`: a
container ``θ`` becomes the list of its array leaves, and the model and ``T`` receive the rebuilt
container. Errors name the offending leaf by its key path and show only the first node where two
structures differ.

Neither Equinox nor Flax is imported here unless the container is one of theirs.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Callable, NamedTuple

import jax
import numpy as np

from pyspec.backends.base import accepts_xp
from pyspec.errors import ShapeError

__all__ = ["TreeView", "Leaf", "adapt", "path_name", "parse_path", "unwrap"]

Path = tuple[Any, ...]
"""A key path as tokens: strings (attribute or dict keys) and ints (sequence indices)."""


class Leaf(NamedTuple):
    """One floating-point array leaf of a parameter container: its key path and shape."""

    path: Path
    shape: tuple[int, ...]

    @property
    def name(self) -> str:
        """The key path as a string, e.g. ``"layers[0].weight"``."""
        return path_name(self.path)


def _token(key: Any) -> Any:
    for attr in ("name", "key", "idx"):
        if hasattr(key, attr):
            return getattr(key, attr)
    return str(key)


def _tokens(keypath: tuple[Any, ...]) -> Path:
    """Key path tokens, without the ``.value`` of an NNX ``Variable``."""
    out = tuple(_token(k) for k in keypath)
    return out[:-1] if out and out[-1] == "value" and type(keypath[-1]).__name__ == "GetAttrKey" else out


def path_name(path: Path) -> str:
    """``("layers", 0, "weight") -> "layers[0].weight"``."""
    text = ""
    for t in path:
        text += f"[{t}]" if isinstance(t, int) else (f".{t}" if text else str(t))
    return text or "<root>"


def parse_path(text: str | Path) -> Path:
    """``"layers[0].weight"``, ``"params/Dense_0/kernel"`` or a token tuple -> tokens."""
    if isinstance(text, tuple):
        return text
    tokens: list[Any] = []
    for part in re.split(r"[./]", text.strip(".")):
        for m in re.finditer(r"([^\[\]]+)|\[(\d+)\]|\['([^']*)'\]", part):
            tokens.append(m.group(1) if m.group(1) is not None else
                          (int(m.group(2)) if m.group(2) is not None else m.group(3)))
    return tuple(tokens)


def unwrap(x: Any) -> Any:
    """The array inside an NNX ``Variable`` (``x`` itself otherwise)."""
    getter = getattr(x, "get_value", None)
    return getter() if callable(getter) and not hasattr(x, "shape") else x


def _module(name: str) -> Any:
    return sys.modules.get(name)


def _kind(tree: Any) -> str:
    """``"equinox"``, ``"nnx_module"``, ``"nnx_state"``, ``"linen"`` or ``"pytree"``."""
    eqx = _module("equinox")
    if eqx is not None and isinstance(tree, eqx.Module):
        return "equinox"
    nnx = _module("flax.nnx")
    if nnx is not None:
        if isinstance(tree, nnx.Module):
            return "nnx_module"
        if isinstance(tree, nnx.State):
            return "nnx_state"
    if _is_mapping(tree) and "params" in tree and len(tree) >= 1 and _is_mapping(tree["params"]):
        return "linen"
    return "pytree"


def _is_mapping(x: Any) -> bool:
    return hasattr(x, "keys") and hasattr(x, "__getitem__")


def _is_float_array(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and hasattr(x, "shape") and np.issubdtype(np.dtype(dtype), np.inexact)


def _is_number_like(x: Any) -> bool:
    return hasattr(x, "shape") or isinstance(x, (int, float, np.number))


class TreeView:
    """The floating-point array leaves of a parameter container and how to write them back.

    Parameters
    ----------
    tree : container
        A plain pytree of arrays, an Equinox module (array leaves are parameters, everything else is
        static), a Flax NNX module (its ``nnx.Param`` variables) or ``nnx.State``, or linen variables
        (the ``params`` collection; other collections are static).
    role : str
        Name used in errors (``"theta"``).
    """

    def __init__(self, tree: Any, role: str = "theta") -> None:
        self.kind = _kind(tree)
        self.role = role
        self._graph: Any = None
        if self.kind == "nnx_module":
            nnx = _module("flax.nnx")
            self._graph, params, self._rest = nnx.split(tree, nnx.Param, ...)
            body = params
        elif self.kind == "linen":
            body = tree["params"]
            self._outer = tree
        else:
            body = tree
        with_path, self._treedef = jax.tree_util.tree_flatten_with_path(body)
        self._all = [leaf for _, leaf in with_path]
        paths = [_tokens(kp) for kp, _ in with_path]
        if self.kind == "linen":
            paths = [("params",) + p for p in paths]
        strict = self.kind == "pytree"
        self._mask = []
        for p, leaf in zip(paths, self._all):
            if strict and not _is_number_like(leaf):
                raise ShapeError(
                    f"{role} leaf {path_name(p)!r} is a {type(leaf).__name__}, not an array: pass only arrays "
                    "in a plain pytree (an Equinox module, NNX module or State is split into arrays and "
                    "static parts automatically)"
                )
            self._mask.append(True if strict else _is_float_array(leaf))
        self.leaves = tuple(Leaf(p, tuple(np.shape(x))) for p, x, m in zip(paths, self._all, self._mask) if m)
        if not self.leaves:
            raise ShapeError(f"{role} has no floating-point array leaves")
        self._index = {leaf.path: i for i, leaf in enumerate(self.leaves)}

    @property
    def names(self) -> tuple[str, ...]:
        """Key path of each array leaf."""
        return tuple(leaf.name for leaf in self.leaves)

    def arrays(self, tree: Any, who: str = "theta") -> list[Any]:
        """The array leaves of ``tree`` (a container like the example), checked leaf by leaf."""
        if self.kind == "nnx_module":
            nnx = _module("flax.nnx")
            if not isinstance(tree, nnx.Module):
                raise ShapeError(f"{who} returned a {type(tree).__name__}, expected an NNX module like {self.role}")
            _, body, _ = nnx.split(tree, nnx.Param, ...)
        elif self.kind == "linen":
            if not (_is_mapping(tree) and "params" in tree):
                raise ShapeError(f"{who} returned a {type(tree).__name__}, expected linen variables like {self.role}")
            body = tree["params"]
        else:
            body = tree
        with_path, _ = jax.tree_util.tree_flatten_with_path(body)
        prefix = ("params",) if self.kind == "linen" else ()
        got = [(prefix + _tokens(kp), leaf) for kp, leaf in with_path]
        got = [(p, leaf) for p, leaf in got if (p in self._index) or _is_float_array(leaf)]
        for i, (expected, (path, leaf)) in enumerate(zip(self.leaves, got)):
            if path != expected.path:
                raise ShapeError(
                    f"{who} returned a structure that differs from {self.role}'s at array leaf {i}: "
                    f"expected {expected.name!r}, got {path_name(path)!r}"
                )
            shape = tuple(np.shape(leaf))
            if shape != expected.shape:
                raise ShapeError(f"{who} returned {expected.name!r} of shape {shape}, expected {expected.shape}")
        if len(got) != len(self.leaves):
            first = self.leaves[len(got)].name if len(got) < len(self.leaves) else path_name(got[len(self.leaves)][0])
            what = "lacks" if len(got) < len(self.leaves) else "has an extra"
            raise ShapeError(f"{who} returned a structure that {what} the array leaf {first!r} of {self.role}")
        return [leaf for _, leaf in got]

    def rebuild(self, arrays: list[Any]) -> Any:
        """The container with its array leaves replaced by ``arrays`` (static parts and wrappers kept)."""
        it = iter(arrays)
        full = [next(it) if m else x for x, m in zip(self._all, self._mask)]
        body = jax.tree_util.tree_unflatten(self._treedef, full)
        if self.kind == "nnx_module":
            return _module("flax.nnx").merge(self._graph, body, self._rest)
        if self.kind == "linen":
            return {**self._outer, "params": body}
        return body

    def index(self, address: str | Path | Callable[[Any], Any], tree: Any = None) -> int:
        """Position of one array leaf, given by its key path or by a getter ``lambda m: m.l1.kernel``
        applied to ``tree`` (the container this view was made from)."""
        if callable(address):
            target = address(tree)
            target = unwrap(target)
            for i, leaf in enumerate(self.arrays(tree)):
                if leaf is target:
                    return i
            raise ShapeError(f"the getter {address!r} does not return an array leaf of {self.role}")
        path = parse_path(address)
        if path not in self._index:
            close = [n for n in self.names if path_name(path).split(".")[-1] in n]
            raise ShapeError(
                f"{self.role} has no array leaf {path_name(path)!r}" + (f"; similar: {close}" if close else
                                                                       f"; its leaves are {list(self.names)}")
            )
        return self._index[path]

    def children(self, prefix: str | Path) -> dict[str, int]:
        """The array leaves directly under ``prefix`` (a layer), by their last token."""
        p = parse_path(prefix)
        return {str(leaf.path[-1]): i for i, leaf in enumerate(self.leaves)
                if leaf.path[:-1] == p}


def _like(fn: Callable[..., Any], body: Callable[..., Any]) -> Callable[..., Any]:
    """``body`` with the ``xp`` keyword exactly when ``fn`` takes it (backend neutrality kept)."""
    if accepts_xp(fn):
        return lambda *args, xp: body(*args, xp=xp)
    return lambda *args: body(*args)


def adapt(eq: Any, theta: Any) -> tuple[Any, Any]:
    """The hook of :func:`pyspec.equivariance.bind`: ``(eq, θ)`` on plain arrays.

    A framework container ``θ`` becomes the list of its array leaves; the model and ``T`` then receive
    the rebuilt container and ``T``'s result is checked leaf by leaf. For a plain pytree only ``T``'s
    result is checked (named by key path) and ``θ`` is returned as is.
    """
    if _kind(theta) == "pytree":
        if len(jax.tree_util.tree_leaves(theta)) <= 1 and not isinstance(theta, (dict, list, tuple)):
            return eq, theta
        view = TreeView(theta)
        T_user = eq.T

        def T_plain(a: Any, th: Any, **kw: Any) -> Any:
            out = T_user(a, th, **kw)
            view.arrays(out, "T")
            return out

        return eq.replace(T=_like(T_user, T_plain)), theta
    view = TreeView(theta)
    model, T_user = eq.model, eq.T

    def f(leaves: list[Any], **kw: Any) -> Any:
        return model(view.rebuild(list(leaves)), **kw)

    def T(a: Any, leaves: list[Any], **kw: Any) -> Any:
        return view.arrays(T_user(a, view.rebuild(list(leaves)), **kw), "T")

    arrays = [np.asarray(x) if not isinstance(x, jax.Array) else x for x in view.arrays(theta)]
    return eq.replace(model=_like(model, f), T=_like(T_user, T)), arrays
