"""The array namespace of the dual-number backends: shapes, reductions, the softmax family and linear
algebra over :mod:`pyspec.backends.duals` (its Dual type, arithmetic and elementwise functions).

Split from :mod:`pyspec.backends.duals` only for size: the two modules are one implementation, so this
one uses that one's internal operations.
"""

from __future__ import annotations

import math

from types import SimpleNamespace
from typing import Any

import numpy as np

from numpy.lib.array_utils import normalize_axis_tuple

from pyspec.backends.duals import (  # the dual layer's own operations
    Arr,
    Dual,
    _accumulate,
    _add,
    _asarray,
    _asinh,
    _coerce,
    _concatenate,
    _cos,
    _cosh,
    _div,
    _dmatmul_left,
    _exp,
    _expm1,
    _eye,
    _log,
    _log1p,
    _mul,
    _obj,
    _ones,
    _primal,
    _relu,
    _sigmoid,
    _sin,
    _sinh,
    _softplus,
    _split,
    _sqrt,
    _square,
    _stack,
    _sub,
    _tag,
    _tanh,
    _zeros,
    current_field,
)

__all__ = ["check_square", "solve", "xp"]

# ---------------------------------------------------------------------------------------------
# shapes and reductions


def _reshape(x: Any, shape: Any) -> Arr:
    """Reshape (C order), like ``jnp.reshape(x, shape)``."""
    return _coerce(x).reshape(shape)


def _ravel(x: Any) -> Arr:
    """Flatten to 1-D (C order)."""
    return _coerce(x).reshape(-1)


def _transpose(x: Any, axes: Any = None) -> Arr:
    """Permute axes (reverse them when ``axes`` is ``None``)."""
    x = _coerce(x)
    return x.transpose(axes) if isinstance(x, Dual) else x.transpose(None if axes is None else tuple(axes))






def _outer(a: Any, b: Any) -> Arr:
    """Outer product of the flattened inputs, like ``jnp.outer``."""
    return _mul(_ravel(a).reshape(-1, 1), _ravel(b).reshape(1, -1))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)


def _sum(x: Any, axis: Any = None, keepdims: bool = False) -> Arr:
    """Sum over ``axis`` (int, tuple or ``None`` for all), like ``jnp.sum``."""
    x = _coerce(x)
    axes = _axes(axis, x.ndim)
    if isinstance(x, Dual):
        return Dual(_sum(x.value, axes, keepdims), _sum(x.tangent, axes, keepdims), x.tag)
    return _obj(np.sum(x, axis=axes, keepdims=keepdims))


def _mean(x: Any, axis: Any = None, keepdims: bool = False) -> Arr:
    """Mean over ``axis`` (int, tuple or ``None`` for all), like ``jnp.mean``."""
    x = _coerce(x)
    axes = _axes(axis, x.ndim)
    count = math.prod(x.shape[i] for i in axes)
    return _div(_sum(x, axes, keepdims), count)


# ---------------------------------------------------------------------------------------------
# softmax family


def _shift(x: Arr, axes: tuple[int, ...]) -> np.ndarray:
    """The field's constant shift (about the max of the primal values over ``axes``, kept)."""
    return np.asarray(current_field().shift(_primal(x), axes), dtype=object)  # a 0-d result may be a scalar


def _squeeze(x: Arr, axes: tuple[int, ...]) -> Arr:
    return x.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))


def _logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Arr:
    """``log(sum(exp(x), axis))`` shifted by the primal max; ``axis=None`` reduces all, like JAX."""
    x = _coerce(x)
    axes = _axes(axis, x.ndim)
    m = _shift(x, axes)
    out = _add(_log(_sum(_exp(_sub(x, m)), axes, keepdims=True)), m)
    return out if keepdims else _squeeze(out, axes)


def _softmax(x: Any, axis: Any = -1) -> Arr:
    """``exp(x) / sum(exp(x), axis)`` shifted by the primal max, like ``jax.nn.softmax``."""
    x = _coerce(x)
    axes = _axes(axis, x.ndim)
    e = _exp(_sub(x, _shift(x, axes)))
    return _div(e, _sum(e, axes, keepdims=True))


def _log_softmax(x: Any, axis: Any = -1) -> Arr:
    """``x - logsumexp(x, axis)`` shifted by the primal max, like ``jax.nn.log_softmax``."""
    x = _coerce(x)
    axes = _axes(axis, x.ndim)
    s = _sub(x, _shift(x, axes))
    return _sub(s, _log(_sum(_exp(s), axes, keepdims=True)))


# ---------------------------------------------------------------------------------------------
# linear algebra


def _apply_linear(factor: Any, b: Arr) -> Arr:
    """The field's solve with a factored plain matrix, for a possibly dual ``b`` (linear in ``b``)."""
    if isinstance(b, Dual):
        n = b.shape[0]
        tangent = _apply_linear(factor, b.tangent.reshape(n, -1)).reshape(b.tangent.shape)
        return Dual(_apply_linear(factor, b.value), tangent, b.tag)
    return current_field().apply(factor, b)


def _solve_factored(factor: Any, a: Arr, b: Arr) -> Arr:
    """Solve ``a @ x = b`` given the factorisation of ``a``'s primal; ``dx = a^{-1}(db - da x)``."""
    if _tag(a) < 0:
        return _apply_linear(factor, b)
    tag = max(_tag(a), _tag(b))
    (av, at), (bv, bt) = _split(a, tag), _split(b, tag)
    x = _solve_factored(factor, av, bv)
    rhs = _accumulate(bt, None if at is None else -_dmatmul_left(at, x))
    if rhs is None:  # unreachable: ``a`` carries a tag, so ``a`` or ``b`` has a tangent at the outermost one
        raise AssertionError("solve: neither operand carries the outermost tag")
    dx = _solve_factored(factor, av, rhs.reshape(rhs.shape[0], -1))
    return Dual(x, dx.reshape(rhs.shape), tag)


def _check_square(name: str, a: Arr) -> None:
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {a.shape}")


def _solve(a: Any, b: Any) -> Arr:
    """Solve ``a @ x = b`` (``b`` of shape ``(n,)`` or ``(n, k)``), differentiable in ``a`` and ``b``.

    The field factors the primal matrix once; every tangent is a further solve with the same factors
    (``dx = a^{-1}(db - da x)``).
    """
    a, b = _coerce(a), _coerce(b)
    _check_square("solve", a)
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"solve: b must have shape ({a.shape[0]},) or ({a.shape[0]}, k), got {b.shape}")
    return _solve_factored(current_field().factor(_primal(a)), a, b)


def _inv(a: Any) -> Arr:
    """Matrix inverse, ``solve(a, eye(n))``."""
    a = _coerce(a)
    _check_square("inv", a)
    return _solve(a, _eye(a.shape[0]))


def _expm(a: Any) -> Arr:
    """Matrix exponential (the field's), differentiable."""
    a = _coerce(a)
    _check_square("expm", a)
    return current_field().expm(a)


# ---------------------------------------------------------------------------------------------
# the namespace


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def _zeros_ns(shape: Any) -> np.ndarray:
    """Array of zeros (``shape``: int or tuple)."""
    return _zeros(_shape(shape))


def _ones_ns(shape: Any) -> np.ndarray:
    """Array of ones (``shape``: int or tuple)."""
    return _ones(_shape(shape))


def _eye_ns(n: int) -> np.ndarray:
    """Identity matrix."""
    return _eye(n)


xp = SimpleNamespace(
    asarray=_asarray,
    zeros=_zeros_ns,
    ones=_ones_ns,
    eye=_eye_ns,
    reshape=_reshape,
    ravel=_ravel,
    concatenate=_concatenate,
    stack=_stack,
    transpose=_transpose,
    outer=_outer,
    sum=_sum,
    mean=_mean,
    exp=_exp,
    expm1=_expm1,
    log=_log,
    log1p=_log1p,
    sqrt=_sqrt,
    square=_square,
    tanh=_tanh,
    sinh=_sinh,
    cosh=_cosh,
    asinh=_asinh,
    sin=_sin,
    cos=_cos,
    sigmoid=_sigmoid,
    softplus=_softplus,
    relu=_relu,
    logsumexp=_logsumexp,
    softmax=_softmax,
    log_softmax=_log_softmax,
    solve=_solve,
    inv=_inv,
    expm=_expm,
)
"""The array namespace (every name of ``NAMESPACE_FUNCTIONS``); it computes in the active field at its
working precision, so call it inside a backend's ``context()``."""



solve, check_square = _solve, _check_square
