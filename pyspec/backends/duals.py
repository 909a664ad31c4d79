"""Nested forward-mode dual numbers over a scalar field: the derivative layer of the exact backends.

A *scalar field* (:class:`ScalarField`) is the number type an array holds and the few operations that
depend on it: exact conversion of Python / NumPy numbers, the scalar elementary functions, products
and solves of plain matrices, the matrix exponential, and the constant shift of the softmax family.
Two fields use this module: ``mpmath.mpf`` (:mod:`pyspec.backends.mp_backend`) and ``flint.arb``
balls (:mod:`pyspec.backends.arb_backend`). Everything else is written once: the :class:`Dual` type,
the chain rule of arithmetic and elementwise functions, and differentiation here; shapes, reductions,
the softmax family, linear algebra and the namespace ``xp`` in :mod:`pyspec.backends.dual_namespace`.

Arrays
------
A plain array is a NumPy ``object`` array of field elements. The active field is the one set by
:func:`use_field` (each backend's ``context()`` sets its own); outside any context it is the default
field (:func:`set_default_field`, the mpmath field once :mod:`pyspec.backends.mp_backend` is imported).

Derivatives: nested vector dual numbers
---------------------------------------
A :class:`Dual` carries a value array of shape ``s`` and a tangent array of shape ``s + (p,)``: ``p``
directional derivatives at once, the direction axis last. Every operation propagates the tangent by
its exact chain rule (``d(a*b) = da*b + a*db``, ``d exp(a) = exp(a) da``, ``d(A^{-1}b) =
A^{-1}(db - dA x)``, ...), evaluated with the same field arithmetic as the value. There is no step
size and no truncation: a derivative is a finite composition of field operations, so it is as exact
as the value itself (exact to round-off for mpmath, a rigorous enclosure for balls).

Derivatives of higher order come from *nesting* (forward over forward): a Dual's value and tangent
may themselves be Duals. Each call of :func:`jvp` / :func:`jacobian` creates a fresh integer *tag*;
tags grow with creation time and a Dual only ever contains Duals of smaller tags. A binary operation
splits its operands at the larger of their tags and treats an operand without that tag as a constant.
The differentiation that created a tag extracts exactly that tag's tangent, so derivatives taken for
different calls are never confused (no "perturbation confusion"): ``jacobian(lambda t:
jacobian(f, t), x)`` is the Hessian of ``f``, and the inner derivative of ``x * y`` in ``y`` is
``x`` even while ``x`` is being differentiated by an enclosing call.

Constants have no tangent and skip the tangent work; tangent arithmetic is vectorised with NumPy
object-array operations (broadcast over the direction axis); products of plain matrices go through
the field's ``matmul``.

Differences from the JAX namespace
----------------------------------
* ``@`` with a Dual operand takes 1-D and 2-D operands only (no batched matmul).
* ``sum`` / ``mean`` / ``logsumexp`` take ``axis`` and ``keepdims`` only; ``softmax`` /
  ``log_softmax`` take ``axis`` only. Duals define no comparison operators.
"""

from __future__ import annotations

import contextvars
import itertools
import math

from typing import Any, Callable, Mapping, NamedTuple, Union

import numpy as np

from numpy.lib.array_utils import normalize_axis_tuple

__all__ = [
    "Arr", "Dual", "ScalarField", "ELEMENTWISE", "use_field", "set_default_field", "current_field",
    "asarray", "coerce", "primal", "tag_of", "split", "zeros", "eye", "add", "sub", "mul", "div", "matmul",
    "concatenate_arrays", "stack_arrays", "jacobian", "jvp", "taylor_expm",
]

ELEMENTWISE: tuple[str, ...] = (
    "exp", "expm1", "log", "log1p", "sqrt", "square", "tanh", "sinh", "cosh", "asinh", "sin", "cos", "sigmoid",
    "softplus", "relu", "relu_slope", "power",
)
"""Scalar functions every :class:`ScalarField` provides (``relu_slope``: relu's derivative, 0 or 1;
``power(a, b)``: ``a ** b``)."""


class ScalarField(NamedTuple):
    """The number type of the plain arrays and the operations that depend on it.

    Attributes
    ----------
    name : str
    convert : callable
        A Python / NumPy real scalar to a field element, exactly (float64 is a dyadic rational).
    functions : mapping
        The scalar functions named in :data:`ELEMENTWISE`.
    shift : callable
        ``shift(x, axes)``: a constant near the maximum of the plain array ``x`` over ``axes`` (kept),
        0 where not finite; the shift of the softmax family (any constant gives the same function).
    matmul : callable
        Product of plain 1-D / 2-D arrays.
    factor, apply : callable
        ``factor(a)`` prepares solves with the plain square matrix ``a`` (raising
        ``numpy.linalg.LinAlgError`` when it is singular); ``apply(factor, b)`` solves for a plain
        ``b`` of shape ``(n,)`` or ``(n, r)``.
    expm : callable
        Matrix exponential of a plain array or a Dual (written with this module's operations).
    """

    name: str
    convert: Callable[[Any], Any]
    functions: Mapping[str, Callable[..., Any]]
    shift: Callable[[np.ndarray, tuple[int, ...]], np.ndarray]
    matmul: Callable[[np.ndarray, np.ndarray], np.ndarray]
    factor: Callable[[np.ndarray], Any]
    apply: Callable[[Any, np.ndarray], np.ndarray]
    expm: Callable[[Any], Any]


_FIELD: contextvars.ContextVar[ScalarField | None] = contextvars.ContextVar("pyspec_scalar_field", default=None)
_DEFAULT: list[ScalarField] = []


def set_default_field(field: ScalarField) -> None:
    """The field used outside every :func:`use_field` context (set once, by the mpmath backend)."""
    _DEFAULT[:] = [field]


def current_field() -> ScalarField:
    """The active scalar field."""
    field = _FIELD.get()
    if field is not None:
        return field
    if not _DEFAULT:
        raise RuntimeError("no scalar field is active: compute inside a backend's context()")
    return _DEFAULT[0]


class use_field:  # noqa: N801 (used like the function it replaced: ``with use_field(f):``)
    """Compute with ``field`` inside the ``with`` block (re-entrant).

    A class rather than a generator context manager: the dual-number backends enter it around every
    public operation (about a million times in the property tests), and entering the field that is
    already active changes nothing, so it skips the context variable there.
    """

    __slots__ = ("field", "tokens")

    def __init__(self, field: ScalarField) -> None:
        self.field = field
        self.tokens: list[contextvars.Token | None] = []

    def __enter__(self) -> None:
        self.tokens.append(_FIELD.set(self.field) if _FIELD.get() is not self.field else None)

    def __exit__(self, *exc: object) -> None:
        token = self.tokens.pop()
        if token is not None:
            _FIELD.reset(token)


_TAGS = itertools.count()
"""Source of differentiation tags; later calls get larger tags (see the module docstring)."""


class Dual:
    """Array of values with ``p`` directional derivatives, for one differentiation tag.

    Parameters
    ----------
    value : numpy.ndarray or Dual
        Values, shape ``s``; a Dual of a smaller tag when differentiation is nested.
    tangent : numpy.ndarray or Dual
        Derivatives, shape ``s + (p,)``: ``tangent[..., j]`` is the derivative along direction ``j``.
    tag : int
        The differentiation (one call of :func:`jvp`) this perturbation belongs to.
    """

    __slots__ = ("value", "tangent", "tag")
    __array_ufunc__ = None  # NumPy operators return NotImplemented, so ``ndarray * Dual`` reaches Dual
    __array_priority__ = 1000.0

    def __init__(self, value: Any, tangent: Any, tag: int) -> None:
        self.value = _obj(value)
        self.tangent = _obj(tangent)
        self.tag = tag
        if self.tangent.shape[:-1] != self.value.shape or self.tangent.ndim != self.value.ndim + 1:
            raise ValueError(
                f"Dual tangent shape {self.tangent.shape} does not extend value shape {self.value.shape}"
            )

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the value."""
        return self.value.shape

    @property
    def ndim(self) -> int:
        """Number of value axes."""
        return self.value.ndim

    @property
    def size(self) -> int:
        """Number of value entries."""
        return self.value.size

    @property
    def directions(self) -> int:
        """Number ``p`` of directional derivatives."""
        return self.tangent.shape[-1]

    @property
    def T(self) -> Dual:  # noqa: N802 (NumPy's name)
        """Transpose (reversed axes)."""
        return self.transpose()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Dual")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"Dual(tag={self.tag}, shape={self.shape}, directions={self.directions})"

    def __getitem__(self, index: Any) -> Dual:
        tangent_index = (index if isinstance(index, tuple) else (index,)) + (slice(None),)
        return Dual(self.value[index], self.tangent[tangent_index], self.tag)

    def transpose(self, *axes: Any) -> Dual:
        """Permute the value axes like :meth:`numpy.ndarray.transpose`; the direction axis stays last."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = tuple(axes[0] or ())
        nd = self.ndim
        perm = tuple(reversed(range(nd))) if not axes else normalize_axis_tuple(axes, nd, allow_duplicate=False)
        return Dual(self.value.transpose(perm), self.tangent.transpose(perm + (nd,)), self.tag)

    def reshape(self, *shape: Any) -> Dual:
        """Reshape the value like :meth:`numpy.ndarray.reshape` (C order)."""
        value = self.value.reshape(*shape)
        return Dual(value, self.tangent.reshape(value.shape + (self.directions,)), self.tag)

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.tangent, self.tag)

    def __pos__(self) -> Dual:
        return self

    def __add__(self, other: Any) -> Arr:
        return _add(self, other)

    def __radd__(self, other: Any) -> Arr:
        return _add(other, self)

    def __sub__(self, other: Any) -> Arr:
        return _sub(self, other)

    def __rsub__(self, other: Any) -> Arr:
        return _sub(other, self)

    def __mul__(self, other: Any) -> Arr:
        return _mul(self, other)

    def __rmul__(self, other: Any) -> Arr:
        return _mul(other, self)

    def __truediv__(self, other: Any) -> Arr:
        return _div(self, other)

    def __rtruediv__(self, other: Any) -> Arr:
        return _div(other, self)

    def __pow__(self, other: Any) -> Arr:
        return _pow(self, other)

    def __rpow__(self, other: Any) -> Arr:
        return _pow(other, self)

    def __matmul__(self, other: Any) -> Arr:
        return _matmul(self, other)

    def __rmatmul__(self, other: Any) -> Arr:
        return _matmul(other, self)


Arr = Union[np.ndarray, Dual]
"""A plain ``object`` array of field elements or a (nested) :class:`Dual`."""


# ---------------------------------------------------------------------------------------------
# conversion and structural helpers


def _obj(x: Any) -> Arr:
    """``x`` itself if it is an array or Dual, else a 0-d object array (NumPy returns scalars for 0-d)."""
    return x if isinstance(x, (np.ndarray, Dual)) else np.asarray(x, dtype=object)


def _contains_dual(x: Any) -> bool:
    if isinstance(x, Dual):
        return True
    return isinstance(x, (list, tuple)) and any(_contains_dual(e) for e in x)


def _asarray(x: Any) -> Arr:
    """Convert to a backend array; float64 and integers exactly, Duals unchanged.

    Parameters
    ----------
    x : array_like
        Dual, NumPy array (any real dtype), nested sequence (may contain Duals), or scalar.

    Returns
    -------
    numpy.ndarray or Dual
        An ``object`` array of elements of the active field, or the Dual.
    """
    if isinstance(x, Dual):
        return x
    if isinstance(x, (list, tuple)) and _contains_dual(x):
        return _stack([_asarray(e) for e in x])
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise TypeError(f"the {current_field().name} backend is real: complex input is not supported")
    convert = current_field().convert
    if convert is float and arr.dtype.kind == "f" and arr.dtype.itemsize <= 8:
        return arr.astype(object)  # Python floats, exactly: what ``float`` gives element by element
    return _obj(np.frompyfunc(convert, 1, 1)(arr))


def _coerce(x: Any) -> Arr:
    """Like :func:`_asarray` but trusts ``object`` arrays to hold field elements already (hot path)."""
    if isinstance(x, Dual) or (isinstance(x, np.ndarray) and x.dtype == object):
        return x
    return _asarray(x)


def _tag(x: Arr) -> int:
    return x.tag if isinstance(x, Dual) else -1


def _split(x: Arr, tag: int) -> tuple[Arr, Arr | None]:
    """(value, tangent) of ``x`` at ``tag``; a tangent of ``None`` means constant at that tag."""
    if isinstance(x, Dual) and x.tag == tag:
        return x.value, x.tangent
    return x, None


def _primal(x: Arr) -> np.ndarray:
    """The plain values under all perturbations."""
    while isinstance(x, Dual):
        x = x.value
    return x


def _zeros(shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, current_field().convert(0), dtype=object)


def _ones(shape: tuple[int, ...]) -> np.ndarray:
    return np.full(shape, current_field().convert(1), dtype=object)


def _eye(n: int) -> np.ndarray:
    out = _zeros((n, n))
    np.fill_diagonal(out, current_field().convert(1))
    return out


def _expand(x: Arr) -> Arr:
    """Append a length-1 axis, to broadcast a value against a tangent."""
    return x[..., None]


def _broadcast_to(x: Arr, shape: tuple[int, ...]) -> Arr:
    if x.shape == shape:
        return x
    if isinstance(x, Dual):
        return Dual(_broadcast_to(x.value, shape), _broadcast_to(x.tangent, shape + (x.directions,)), x.tag)
    return np.broadcast_to(x, shape)


def _accumulate(total: Arr | None, term: Arr | None) -> Arr | None:
    """``total + term`` where ``None`` stands for zero."""
    if total is None:
        return term
    return total if term is None else total + term


def _prepare(op: str, a: Any, b: Any) -> tuple[Arr, Arr, int]:
    """Coerce binary operands, check that they broadcast, and return the outermost tag (-1: none)."""
    a, b = _coerce(a), _coerce(b)
    tag = max(_tag(a), _tag(b))
    if tag >= 0:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"operands of '{op}' have incompatible shapes {a.shape} and {b.shape}") from None
    return a, b, tag


# ---------------------------------------------------------------------------------------------
# arithmetic


def _add(a: Any, b: Any) -> Arr:
    a, b, tag = _prepare("+", a, b)
    if tag < 0:
        return _obj(a + b)
    (av, at), (bv, bt) = _split(a, tag), _split(b, tag)
    value = _obj(av + bv)
    tangent = _accumulate(at, bt)
    if tangent is None:  # unreachable: ``tag`` is the tag of ``a`` or of ``b``, so one of them has a tangent
        raise AssertionError("'+': neither operand carries the outermost tag")
    return Dual(value, _broadcast_to(tangent, value.shape + (tangent.shape[-1],)), tag)


def _sub(a: Any, b: Any) -> Arr:
    a, b, tag = _prepare("-", a, b)
    if tag < 0:
        return _obj(a - b)
    (av, at), (bv, bt) = _split(a, tag), _split(b, tag)
    value = _obj(av - bv)
    tangent = at if bt is None else (-bt if at is None else at - bt)
    if tangent is None:  # unreachable: ``tag`` is the tag of ``a`` or of ``b``, so one of them has a tangent
        raise AssertionError("'-': neither operand carries the outermost tag")
    return Dual(value, _broadcast_to(tangent, value.shape + (tangent.shape[-1],)), tag)


def _mul(a: Any, b: Any) -> Arr:
    a, b, tag = _prepare("*", a, b)
    if tag < 0:
        return _obj(a * b)
    (av, at), (bv, bt) = _split(a, tag), _split(b, tag)
    tangent = _accumulate(
        None if at is None else at * _expand(bv),
        None if bt is None else _expand(av) * bt,
    )
    return Dual(av * bv, tangent, tag)


def _div(a: Any, b: Any) -> Arr:
    a, b, tag = _prepare("/", a, b)
    if tag < 0:
        return _obj(a / b)
    (av, at), (bv, bt) = _split(a, tag), _split(b, tag)
    value = _div(av, bv)
    tangent = _accumulate(
        None if at is None else at * _expand(_div(1, bv)),
        None if bt is None else -(_expand(_div(value, bv)) * bt),
    )
    return Dual(value, tangent, tag)


def _pow(a: Any, b: Any) -> Arr:
    a, b, tag = _prepare("**", a, b)
    if _tag(b) >= 0:  # variable exponent: a**b = exp(b log a)
        return _exp(_mul(b, _log(a)))
    if tag < 0:
        return _obj(np.frompyfunc(current_field().functions["power"], 2, 1)(a, b))
    if not np.any(b != 0):
        return _ones(np.broadcast_shapes(a.shape, b.shape))
    value = _pow(a.value, b)
    slope = _mul(b, _pow(a.value, _sub(b, 1)))
    return Dual(value, _expand(slope) * a.tangent, tag)


def _check_matmul(a: Arr, b: Arr) -> None:
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        raise ValueError(f"'@' supports 1-D and 2-D operands, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[0]:
        raise ValueError(f"operands of '@' have mismatched inner dimensions: shapes {a.shape} and {b.shape}")


def _moveaxis(x: Arr, source: int, destination: int) -> Arr:
    perm = list(range(x.ndim))
    axis = perm.pop(source % x.ndim)
    perm.insert(destination % x.ndim, axis)
    return x.transpose(tuple(perm))


def _dmatmul_left(da: Arr, b: Arr) -> Arr:
    """Tangent of ``a @ b`` from the tangent ``da`` (shape ``a.shape + (p,)``) of ``a``."""
    n, p = da.shape[-2], da.shape[-1]
    rows = _moveaxis(da, -1, -2).reshape(-1, n)  # a.shape[:-1] + (p,) rows, flattened
    out = _matmul(rows, b).reshape(da.shape[:-2] + (p,) + b.shape[1:])
    return _moveaxis(out, -2, -1) if b.ndim == 2 else out


def _dmatmul_right(a: Arr, db: Arr) -> Arr:
    """Tangent of ``a @ b`` from the tangent ``db`` (shape ``b.shape + (p,)``) of ``b``."""
    out = _matmul(a, db.reshape(db.shape[0], -1))
    return out.reshape(a.shape[:-1] + db.shape[1:])


def _matmul(a: Any, b: Any) -> Arr:
    a, b = _coerce(a), _coerce(b)
    _check_matmul(a, b)
    tag = max(_tag(a), _tag(b))
    if tag < 0:
        return _obj(current_field().matmul(a, b))
    (av, at), (bv, bt) = _split(a, tag), _split(b, tag)
    tangent = _accumulate(
        None if at is None else _dmatmul_left(at, bv),
        None if bt is None else _dmatmul_right(av, bt),
    )
    return Dual(_matmul(av, bv), tangent, tag)


# ---------------------------------------------------------------------------------------------
# elementwise functions


def _elementwise(name: str, slope: Callable[[Arr, Arr], Arr]) -> Callable[[Any], Arr]:
    """An elementwise function from the active field's scalar version and its derivative ``slope(x, y)``.

    ``slope`` receives the input ``x`` and output ``y`` (possibly Duals of enclosing tags) and is
    written with this module's operations, so that it can itself be differentiated.
    """

    def function(x: Any) -> Arr:
        x = _coerce(x)
        if isinstance(x, Dual):
            y = function(x.value)
            return Dual(y, _expand(slope(x.value, y)) * x.tangent, x.tag)
        return _obj(np.frompyfunc(current_field().functions[name], 1, 1)(x))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise ``{name}`` (the active field's, at working precision), differentiable."
    return function


_relu_slope = _elementwise("relu_slope", lambda x, y: _zeros(_primal(x).shape))
_exp = _elementwise("exp", lambda x, y: y)
_expm1 = _elementwise("expm1", lambda x, y: _add(y, 1))
_log = _elementwise("log", lambda x, y: _div(1, x))
_log1p = _elementwise("log1p", lambda x, y: _div(1, _add(1, x)))
_sqrt = _elementwise("sqrt", lambda x, y: _div(1, _mul(2, y)))
_square = _elementwise("square", lambda x, y: _mul(2, x))
_tanh = _elementwise("tanh", lambda x, y: _sub(1, _mul(y, y)))
_sinh = _elementwise("sinh", lambda x, y: _cosh(x))
_cosh: Callable[[Any], Arr] = _elementwise("cosh", lambda x, y: _sinh(x))  # annotated: _sinh's slope uses it first
_asinh = _elementwise("asinh", lambda x, y: _div(1, _sqrt(_add(1, _mul(x, x)))))
_sin = _elementwise("sin", lambda x, y: _cos(x))
_cos: Callable[[Any], Arr] = _elementwise("cos", lambda x, y: -_sin(x))  # annotated: _sin's slope uses it first
_sigmoid = _elementwise("sigmoid", lambda x, y: _mul(y, _sub(1, y)))
_softplus = _elementwise("softplus", lambda x, y: _sigmoid(x))
_relu = _elementwise("relu", lambda x, y: _relu_slope(_primal(x)))


# ---------------------------------------------------------------------------------------------
# joining arrays

def _concatenate(arrays: Any, axis: int | None = 0) -> Arr:
    """Join arrays along an existing axis (``axis=None``: flatten first), like ``jnp.concatenate``."""
    items = [_coerce(a) for a in arrays]
    if not items:
        raise ValueError("concatenate needs at least one array")
    if axis is None:
        items, axis = [a.reshape(-1) for a in items], 0
    plain = [a for a in items if isinstance(a, np.ndarray)]
    if len(plain) == len(items):  # no Dual
        return np.concatenate(plain, axis=axis)
    tag = max(_tag(a) for a in items)
    if len({a.ndim for a in items}) != 1:
        shapes = [a.shape for a in items]
        raise ValueError(f"concatenate: arrays must have the same number of axes, got shapes {shapes}")
    (axis,) = normalize_axis_tuple(axis, items[0].ndim)
    pairs = [_split(a, tag) for a in items]
    p = next(t.shape[-1] for _, t in pairs if t is not None)
    tangents = [_zeros(v.shape + (p,)) if t is None else t for v, t in pairs]
    return Dual(_concatenate([v for v, _ in pairs], axis), _concatenate(tangents, axis), tag)

def _stack(arrays: Any, axis: int = 0) -> Arr:
    """Join same-shape arrays along a new axis, like ``jnp.stack``."""
    items = [_coerce(a) for a in arrays]
    if not items:
        raise ValueError("stack needs at least one array")
    shapes = {a.shape for a in items}
    if len(shapes) != 1:
        raise ValueError(f"stack: all arrays must have the same shape, got {[a.shape for a in items]}")
    (shape,) = shapes
    (axis,) = normalize_axis_tuple(axis, len(shape) + 1)
    return _concatenate([a.reshape(shape[:axis] + (1,) + shape[axis:]) for a in items], axis)


# ---------------------------------------------------------------------------------------------
# differentiation


def jvp(fun: Callable[[Arr], Any], x: Any, tangents: Any) -> tuple[Arr, Arr]:
    """Value and ``p`` directional derivatives of ``fun`` at the 1-D point ``x``.

    Parameters
    ----------
    fun : callable
        Maps a 1-D array to an array, written with the namespace ``xp`` and array operators; may call
        :func:`jvp` / :func:`jacobian` itself.
    x : array_like
        Point of shape ``(n,)`` (may be a Dual of an enclosing differentiation).
    tangents : array_like
        Directions, shape ``(n, p)``.

    Returns
    -------
    value, derivatives
        ``fun(x)`` and an array of shape ``fun(x).shape + (p,)``; plain arrays at the outermost
        level, Duals of the enclosing differentiation when nested.
    """
    x, tangents = _coerce(x), _coerce(tangents)
    if x.ndim != 1:
        raise ValueError(f"jvp: x must be 1-D, got shape {x.shape}")
    if tangents.ndim != 2 or tangents.shape[0] != x.shape[0]:
        raise ValueError(f"jvp: tangents must have shape ({x.shape[0]}, p), got {tangents.shape}")
    tag = next(_TAGS)
    out = _coerce(fun(Dual(x, tangents, tag)))
    if _tag(out) > tag:
        raise RuntimeError("jvp: fun returned a perturbation of a differentiation that has finished")
    value, derivative = _split(out, tag)
    if derivative is None:
        derivative = _zeros(value.shape + (tangents.shape[1],))
    return _own(value), _own(derivative)


def _own(x: Arr) -> Arr:
    """A writable plain array that shares no memory with the input (broadcast views, seeds)."""
    return np.array(x, dtype=object) if isinstance(x, np.ndarray) else x


def jacobian(fun: Callable[[Arr], Any], x: Any) -> Arr:
    """Jacobian of ``fun`` at the 1-D point ``x``: shape ``fun(x).shape + (n,)``; nestable."""
    x = _coerce(x)
    if x.ndim != 1:
        raise ValueError(f"jacobian: x must be 1-D, got shape {x.shape}")
    return jvp(fun, x, _eye(x.shape[0]))[1]


def taylor_expm(a: Arr, norm: float, extra_bits: int, terms: int, scale: Callable[[int], Any]) -> Arr:
    """``exp(a)`` by scaling and squaring of a Taylor polynomial, with the dual operations (Duals
    propagate through it): ``a`` is scaled by ``scale(s) = 2**-s`` in the field, with the fewest
    ``s ≥ 0`` that brings its 1-norm ``norm`` to at most ``2**-extra_bits``; the polynomial of degree
    ``terms`` is evaluated by Horner's rule and squared ``s`` times."""
    n = a.shape[0]
    s = max(0, math.ceil(math.log2(norm)) + extra_bits) if 0 < norm < math.inf else 0
    scaled = _mul(a, scale(s))
    identity = _eye(n)
    result: Arr = identity
    for k in range(terms, 0, -1):
        result = _add(identity, _div(_matmul(scaled, result), k))
    for _ in range(s):
        result = _matmul(result, result)
    return result


# ---------------------------------------------------------------------------------------------
# public names for the field modules

asarray, coerce, primal, tag_of, split = _asarray, _coerce, _primal, _tag, _split
zeros, eye, add, sub, mul, div, matmul = _zeros, _eye, _add, _sub, _mul, _div, _matmul
concatenate_arrays, stack_arrays = _concatenate, _stack
