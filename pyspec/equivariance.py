"""The equivariance object (docs/theory.md#definition-1) and its binding to a backend.

``Equivariance(model=f, T=T, S=S)`` states ``f(T(a, θ)) = S(a, f(θ))`` (eq. 1). ``S=None`` states a
symmetry, ``S(a, y) = y``. Parameters ``θ`` and transformation parameters ``a`` may be arrays or pytrees
(flattened internally, ``n`` and ``k`` entries); outputs ``y`` are 1-D arrays (``m`` entries).

A callable is *backend-neutral* when it accepts the keyword argument ``xp`` (the array namespace of
:mod:`pyspec.backends.base`); only backend-neutral callables can run at high precision.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Callable, Hashable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec.adapters import adapt
from pyspec.backends.base import Array, Backend, accepts_xp
from pyspec.backends.jax_backend import JaxBackend
from pyspec.cache import cached, callable_key, program_key
from pyspec.errors import DegenerateError, DTypeError, NonFiniteError, ShapeError
from pyspec.precision import guard_precision

__all__ = ["Equivariance", "Problem", "bind", "accepts_xp"]


@dataclasses.dataclass(frozen=True)
class Equivariance:
    """A ``(T, S)``-equivariance of a model (docs/theory.md#definition-1, eq. 1).

    Parameters
    ----------
    model : callable
        ``f(theta) -> y`` with ``y`` a 1-D array (data absorbed into ``f``).
    T : callable
        ``T(a, theta) -> theta'`` with the structure of ``theta``.
    S : callable or None
        ``S(a, y) -> y'``; ``None`` for a symmetry (``S(a, y) = y``).
    name : str
        Label used in reports.
    """

    model: Callable[..., Array]
    T: Callable[..., Array]
    S: Callable[..., Array] | None = None
    name: str = "equivariance"

    @property
    def is_symmetry(self) -> bool:
        """Whether ``S`` is the identity (``S=None``)."""
        return self.S is None

    def replace(self, **changes: Any) -> "Equivariance":
        """A copy with some fields changed (e.g. a perturbed ``model`` for a negative control)."""
        return dataclasses.replace(self, **changes)


def _caller(fn: Callable[..., Any], role: str, backend: Backend) -> Callable[..., Any]:
    """``fn`` called with the backend's namespace when it is backend-neutral."""
    if accepts_xp(fn):
        xp = backend.xp
        return lambda *args: fn(*args, xp=xp)
    if not backend.name.startswith("jax-"):
        raise TypeError(
            f"the {role} is not backend-neutral, so it cannot run on the {backend.name} backend: "
            "give it a keyword argument `xp` and write it with that array namespace "
            "(see pyspec.backends.base)"
        )
    return fn


class _Flattener:
    """Flattens a pytree of arrays to a 1-D array and back, with a given namespace."""

    def __init__(self, example: Any, role: str) -> None:
        leaves, self.treedef = jax.tree_util.tree_flatten(example)
        if not leaves:
            raise ShapeError(f"{role} has no array leaves")
        self.shapes = [tuple(np.shape(leaf)) for leaf in leaves]
        self.sizes = [math.prod(s) for s in self.shapes]
        self.size = sum(self.sizes)
        self.role = role
        self.trivial = len(leaves) == 1 and len(self.shapes[0]) == 1
        self.signature = (self.treedef, tuple(self.shapes), tuple(_dtype(leaf) for leaf in leaves))
        """Tree structure, shapes and dtypes: part of the compiled-program key (:mod:`pyspec.cache`)."""

    @property
    def segments(self) -> tuple[tuple[int, int], ...]:
        """``(offset, size)`` of each leaf in the flat vector."""
        offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(int)
        return tuple((int(o), int(s)) for o, s in zip(offsets, self.sizes))

    def leaves(self, tree: Any, xp: Any, who: str) -> list[Array]:
        """The leaves of ``tree`` as 1-D arrays, checked against the example's structure and shapes."""
        if self.trivial and not isinstance(tree, (list, tuple, dict)):
            shape = tuple(np.shape(tree)) if not hasattr(tree, "shape") else tuple(tree.shape)
            if shape != self.shapes[0]:
                raise ShapeError(f"{who} returned shape {shape}, expected {self.shapes[0]} like {self.role}")
            return [tree]
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        if treedef != self.treedef:  # type: ignore[operator]  # jaxlib ships no stub for PyTreeDef
            raise ShapeError(f"{who} returned the structure {treedef}, expected {self.treedef} like {self.role}")
        parts = []
        for leaf, shape, size in zip(leaves, self.shapes, self.sizes):
            got = tuple(leaf.shape) if hasattr(leaf, "shape") else tuple(np.shape(leaf))
            if got != shape:
                raise ShapeError(f"{who} returned a leaf of shape {got}, expected {shape} like {self.role}")
            if _host_floats(leaf):  # reshaped on the host: no array operation is dispatched
                parts.append(leaf.reshape(size))
            else:
                parts.append(xp.reshape(xp.asarray(leaf) if not hasattr(leaf, "shape") else leaf, (size,)))
        return parts

    def flatten(self, tree: Any, xp: Any, who: str) -> Array:
        parts = self.leaves(tree, xp, who)
        if all(_host_floats(part) for part in parts):  # joined on the host, moved to the backend once
            return xp.asarray(parts[0] if len(parts) == 1 else np.concatenate(parts))
        if len(parts) == 1:
            return parts[0]
        if isinstance(parts[0], jax.Array):
            return _join(parts, self.segments, self.size)
        return xp.concatenate(parts, axis=0)

    def split(self, flat: Array) -> list[Array]:
        """The 1-D leaves of a flat vector (``lax.split`` for JAX arrays: its transpose is one
        concatenation, where slices would transpose to a sum of ``n``-sized padded copies)."""
        if isinstance(flat, jax.Array):
            return list(lax.split(flat, self.sizes))
        return [flat[o : o + s] for o, s in self.segments]

    def from_leaves(self, leaves: list[Array], xp: Any) -> Any:
        """The pytree with the given 1-D leaves."""
        if self.trivial:
            return leaves[0]
        shaped = [xp.reshape(leaf, shape) for leaf, shape in zip(leaves, self.shapes)]
        return jax.tree_util.tree_unflatten(self.treedef, shaped)

    def unflatten(self, flat: Array, xp: Any) -> Any:
        return flat if self.trivial else self.from_leaves(self.split(flat), xp)


def _host_floats(x: Any) -> bool:
    """Whether ``x`` is a NumPy array of floating-point numbers (not object, not a tracer)."""
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _dtype(x: Any) -> str:
    return str(x.dtype) if hasattr(x, "dtype") else str(np.result_type(x))


def _join(parts: list[Array], segments: tuple[tuple[int, int], ...], size: int) -> Array:
    """Concatenate 1-D JAX arrays by in-place updates of one buffer. XLA:CPU fuses a concatenate whose
    operands are elementwise expressions into one loop that is about 40× slower than a copy
    (15 ms against 0.4 ms at n = 10⁶); ``dynamic_update_slice`` keeps each part a copy."""
    out = jnp.zeros(size, jnp.result_type(*parts))
    for (offset, _), part in zip(segments, parts):
        out = lax.dynamic_update_slice(out, part.astype(out.dtype), (offset,))
    return out


@dataclasses.dataclass(frozen=True)
class Problem:
    """An equivariance and a loss bound to a backend, on flat 1-D arrays.

    ``f(theta) -> (m,)``, ``T(a, theta) -> (n,)``, ``S(a, y) -> (m,)`` and ``loss(y) -> ()`` act on the
    flat parameter vector ``theta`` (``n``), transformation parameter ``a`` (``k``) and output ``y``
    (``m``). ``unflatten_theta`` restores the user's pytree. ``theta_segments`` are the ``(offset,
    size)`` of the parameter leaves in ``theta`` and ``T_leaves(a, leaves) -> leaves`` is ``T`` on
    the list of 1-D leaves (no concatenation: the matrix-free solves apply ``∂θT`` to a few leaves).
    ``key`` identifies the problem in the compiled-program cache (:mod:`pyspec.cache`): the user's
    callables, the structures, shapes and dtypes of ``θ`` and ``a``, and the backend; ``None`` for a
    problem that must not share programs. ``values(a, θ) -> (f(θ), T(a, θ), S(a, f(θ))[, ℓ(f(θ))])``
    is :func:`bind`'s validation program, compiled for this problem; ``None`` on a problem derived
    with :meth:`with_model` (it computes the original model).
    """

    backend: Backend
    f: Callable[[Array], Array]
    T: Callable[[Array, Array], Array]
    S: Callable[[Array, Array], Array]
    loss: Callable[[Array], Array]
    n: int
    m: int
    k: int
    is_symmetry: bool
    name: str
    unflatten_theta: Callable[[Array], Any]
    theta_segments: tuple[tuple[int, int], ...] = ()
    T_leaves: Callable[[Array, list[Array]], list[Array]] | None = None
    key: Hashable | None = None
    values: Callable[[Array, Array], tuple[Array, ...]] | None = None

    def L(self, theta: Array) -> Array:
        """The training loss ``L = ℓ ∘ f``."""
        return self.loss(self.f(theta))

    def with_model(self, f: Callable[[Array], Array], key: Hashable | None = None) -> "Problem":
        """The same problem with another (flat) model, e.g. a perturbed one; ``key`` must name every
        value ``f`` depends on besides this problem's callables (``None``: no cached programs)."""
        return dataclasses.replace(self, f=f, key=None if key is None or self.key is None else (self.key, key),
                                   values=None)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def _require_finite(backend: Backend, x: Array, what: str) -> None:
    if not backend.all_finite(x):
        raise NonFiniteError(f"{what} contains NaN or infinity")


def _require_real(tree: Any, what: str, allow_integer: bool = False) -> None:
    """Raise :class:`DTypeError` for complex (or, unless allowed, integer or boolean) leaves: the checks
    are real, and a cast would drop the imaginary part or make every derivative zero."""
    for leaf in jax.tree_util.tree_leaves(tree):
        dtype = getattr(leaf, "dtype", None)
        kind = np.dtype(dtype).kind if dtype is not None else np.asarray(leaf).dtype.kind
        if kind == "c":
            raise DTypeError(f"{what} is complex ({dtype or type(leaf).__name__}); pyspec checks real functions "
                             "of real parameters: split real and imaginary parts into separate real entries")
        if kind in "iub" and not allow_integer:
            raise DTypeError(f"{what} has the integer/boolean dtype {np.dtype(dtype or np.asarray(leaf).dtype)}: "
                             "its derivatives are zero or undefined; return a floating-point array")


def _container_structure(theta: Any) -> Hashable | None:
    """The tree structure of the user's ``θ`` with its static data (an Equinox module's activation,
    a Flax module's configuration), as part of the program-cache key; ``None`` (no caching) when that
    static data cannot be hashed."""
    structure = jax.tree_util.tree_structure(theta)
    try:
        hash(structure)
    except TypeError:
        return None
    return structure


def _probe_indexing(role: str, fn: Callable[..., Any], *args: Any) -> None:
    """Call ``fn`` once on NumPy arrays, which raise on out-of-range indices where JAX clamps them
    silently; raise :class:`DegenerateError` on an ``IndexError`` (other failures are not this probe's
    business: a function may need JAX arrays)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(*args)
    except IndexError as error:
        raise DegenerateError(
            f"the {role} reads an index out of range ({error}); JAX clamps out-of-range reads silently, "
            "so another function than the one written would be checked"
        ) from None
    except Exception:  # noqa: BLE001 - the probe only looks for IndexError
        pass


def bind(
    eq: Equivariance,
    loss: Callable[..., Array] | None,
    a: Any,
    theta: Any,
    backend: Backend,
) -> tuple[Problem, Array, Array]:
    """Bind ``eq`` and ``loss`` to ``backend`` and flatten ``a`` and ``theta``.

    Checks shapes and finiteness of the inputs and of ``f(θ)``, ``T(a, θ)``, ``S(a, f(θ))`` and
    ``ℓ(f(θ))``, naming the function at fault.

    Returns
    -------
    problem, a_flat, theta_flat
    """
    if not isinstance(eq, Equivariance):
        raise TypeError(f"expected a pyspec.Equivariance, got {type(eq).__name__}")
    user = eq  # the cache keys on the user's callables, not on the adapter's per-call wrappers
    container = _container_structure(theta)  # static parts of a module (e.g. its activation) key too
    eq, theta = adapt(eq, theta)  # Equinox / Flax containers -> array leaves (pyspec.adapters)
    xp = backend.xp
    _require_real(theta, "theta", allow_integer=True)
    _require_real(a, "a", allow_integer=True)
    theta_fl = _Flattener(theta, "theta")
    a_fl = _Flattener(a, "a")
    for fl in (theta_fl, a_fl):
        if fl.size == 0:
            raise ShapeError(f"{fl.role} is empty: it needs at least one entry")
    model = _caller(eq.model, "model", backend)
    T_user = _caller(eq.T, "transformation T", backend)
    S_user = _caller(eq.S, "output transformation S", backend) if eq.S is not None else None
    loss_user = _caller(loss, "loss", backend) if loss is not None else None

    theta_flat = theta_fl.flatten(_to_backend(theta, backend), xp, "theta")
    a_flat = a_fl.flatten(_to_backend(a, backend), xp, "a")
    _require_finite(backend, theta_flat, "theta")
    _require_finite(backend, a_flat, "a")

    def f(th: Array) -> Array:
        return model(theta_fl.unflatten(th, xp))

    def T(b: Array, th: Array) -> Array:
        return theta_fl.flatten(T_user(a_fl.unflatten(b, xp), theta_fl.unflatten(th, xp)), xp, "T")

    def T_leaves(b: Array, leaves: list[Array]) -> list[Array]:
        return theta_fl.leaves(T_user(a_fl.unflatten(b, xp), theta_fl.from_leaves(leaves, xp)), xp, "T")

    def S(b: Array, y: Array) -> Array:
        if S_user is None:
            return y
        return S_user(a_fl.unflatten(b, xp), y)

    key = None if container is None else (
        backend.name, callable_key(user.model), callable_key(user.T), callable_key(user.S), callable_key(loss),
        container, theta_fl.signature, a_fl.signature)

    def compile_(fun: Callable[..., Any]) -> Callable[..., Any]:
        if not isinstance(backend, JaxBackend) or not backend.jit:  # its compile() takes a program-cache key
            return backend.compile(fun)
        return backend.compile(fun, key=program_key(key, fun))

    def values(b: Array, th: Array) -> tuple[Array, ...]:
        """``f(θ)``, ``T(a, θ)``, ``S(a, f(θ))`` and ``ℓ(f(θ))`` in one program; dtypes and shapes are
        checked as it is traced (before ``S`` meets a ``y`` of the wrong shape)."""
        y = f(th)
        _require_real(y, "the model output f(theta)")
        if len(_shape(y)) != 1:
            raise ShapeError(f"the model must return a 1-D array y, got shape {_shape(y)}")
        Tth, Sy = T(b, th), S(b, y)
        _require_real(Tth, "T(a, theta)")
        _require_real(Sy, "S(a, f(theta))")
        if _shape(Sy) != _shape(y):
            raise ShapeError(f"S(a, y) returned shape {_shape(Sy)}, expected {_shape(y)} like y = f(theta)")
        if loss_user is None:
            return y, Tth, Sy
        value = loss_user(y)
        _require_real(value, "the loss l(f(theta))")
        if _shape(value) != ():
            raise ShapeError(f"the loss must return a scalar, got shape {_shape(value)}")
        return y, Tth, Sy, value

    def guard() -> Callable[[], None]:  # float32 inside the user's functions: pyspec.precision
        guard_precision(backend, eq, loss, f, T, S, loss_user, a_flat, theta_flat)
        return lambda: None

    # Traced once per model like the programs: a guard that passed is cached, one that raised is not.
    cached(None if key is None or not getattr(backend, "jit", False) else (key, "precision guard"), guard)
    # Compiled programs call the user's functions many times (at θ, T(a, θ), nearby points, inside
    # jvp, vmap and grad): as jit(inline=True) functions each is traced once per shape and transformed
    # as a jaxpr, not run again in Python; inlined, the programs compile as before.
    if getattr(backend, "jit", False):
        f, T, T_leaves, S = (_traced_once(fn) for fn in (f, T, T_leaves, S))
        if loss_user is not None:
            loss_user = _traced_once(loss_user)
    validation = compile_(values)
    y, Tth, Sy, *value = backend.to_host(validation(a_flat, theta_flat))
    if backend.name == "jax-float64":
        def probe() -> Callable[[], None]:  # out-of-range reads depend on the shapes: once per model
            a_np, theta_np = (jax.tree_util.tree_map(lambda x: np.asarray(x, dtype=np.float64), tree)
                              for tree in (a, theta))
            _probe_indexing("transformation T", T_user, a_np, theta_np)
            if S_user is not None:
                _probe_indexing("output transformation S", S_user, a_np, backend.to_numpy(y))
            return lambda: None

        cached(None if key is None or not getattr(backend, "jit", False) else (key, "index probe"), probe)
    _require_finite(backend, y, "the model output f(theta)")
    m = _shape(y)[0]
    _require_finite(backend, Tth, "T(a, theta)")
    _require_finite(backend, Sy, "S(a, f(theta))")
    if value:
        _require_finite(backend, value[0], "the loss l(f(theta))")

    problem = Problem(
        backend=backend,
        f=f,
        T=T,
        S=S,
        loss=loss_user if loss_user is not None else _no_loss,
        n=theta_fl.size,
        m=m,
        k=a_fl.size,
        is_symmetry=eq.is_symmetry,
        name=eq.name,
        unflatten_theta=lambda th: theta_fl.unflatten(th, xp),
        theta_segments=theta_fl.segments,
        T_leaves=T_leaves,
        key=key,
        values=validation,
    )
    return problem, a_flat, theta_flat


def _traced_once(fn: Callable[..., Array]) -> Callable[..., Array]:
    """``fn`` called as ``jax.jit(fn, inline=True)``, made at its first call: a repeated check traces
    nothing and so pays nothing (making a ``jax.jit`` function costs ~50 µs). ``__wrapped__`` is
    ``fn`` (:func:`pyspec.cache.program_key` names a program by the code it wraps)."""
    jitted: Callable[..., Array] | None = None

    def call(*args: Any) -> Array:
        nonlocal jitted
        if jitted is None:
            jitted = jax.jit(fn, inline=True)
        return jitted(*args)

    call.__wrapped__ = fn  # type: ignore[attr-defined]
    return call


def _no_loss(y: Array) -> Array:
    raise TypeError("this computation needs a loss: pass loss=ell with ell(y) -> scalar")


def _to_backend(tree: Any, backend: Backend) -> Any:
    return jax.tree_util.tree_map(backend.asarray, tree)
