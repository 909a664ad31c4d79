"""Precision guard: a float64 check of a model that computes in lower precision anywhere inside.

A float64 identity check compares residuals with ``SAFETY · d · κ · 2⁻⁵³`` (:mod:`pyspec.checks`).
A model, ``T``, ``S`` or loss that rounds to float32 (``2⁻²⁴``) or bfloat16 (``2⁻⁸``) at any step,
even one cast to float32 and back, leaves residuals ~1e-7 that would be reported as a broken
equivariance. :func:`guard_precision` traces the four functions to their jaxprs (sub-programs
included) and raises :class:`~pyspec.errors.PrecisionError` naming the function, the operation and
the source line, before any check runs.

``precision="float32"`` (any check; ``dtype="float32"`` in :func:`pyspec.audit`) is the explicit
mode for float32 models (e.g. on GPUs): the backend computes in float32 and every tolerance uses
float32's unit round-off ``2⁻²⁴``; only bfloat16 and float16 are then refused.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import jax
import numpy as np

from pyspec.backends.base import accepts_xp
from pyspec.errors import PrecisionError

__all__ = ["guard_precision", "low_precision_operations", "LOW_PRECISION"]

LOW_PRECISION = {
    "jax-float64": ("float32", "bfloat16", "float16"),
    "jax-float32": ("bfloat16", "float16"),
}
"""Floating-point dtypes refused inside the traced program, per backend."""


def _subjaxprs(params: dict[str, Any]) -> Iterator[Any]:
    for value in params.values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            inner = getattr(item, "jaxpr", None)
            if inner is not None and hasattr(item, "consts"):  # ClosedJaxpr
                yield inner
            elif hasattr(item, "eqns"):
                yield item


def low_precision_operations(jaxpr: Any, refused: tuple[str, ...]) -> Iterator[tuple[Any, str]]:
    """``(equation, dtype)`` of every operation of ``jaxpr`` (recursively) with an input or output
    of a refused dtype."""
    for eqn in jaxpr.eqns:
        for var in list(eqn.invars) + list(eqn.outvars):
            dtype = getattr(getattr(var, "aval", None), "dtype", None)
            if dtype is not None and np.dtype(dtype).name in refused:
                yield eqn, np.dtype(dtype).name
                break
        for sub in _subjaxprs(eqn.params):
            yield from low_precision_operations(sub, refused)


def _where(eqn: Any) -> str:
    try:
        from jax._src import source_info_util

        return source_info_util.summarize(eqn.source_info)
    except Exception:  # noqa: BLE001 (source info is best effort across JAX versions)
        return "unknown source line"


_FIX = (
    "compute in float64: create parameters and inputs as float64 (Flax: param_dtype=jnp.float64 and "
    "dtype=jnp.float64 on each layer; Equinox: dtype=jnp.float64), remove casts such as "
    ".astype(jnp.float32); or check at float32's round-off with precision='float32' "
    "(dtype='float32' in pyspec.audit)"
)


def guard_precision(backend: Any, eq: Any, loss_user: Callable[..., Any] | None, f: Callable[..., Any],
                    T: Callable[..., Any], S: Callable[..., Any], loss: Callable[..., Any] | None, a: Any,
                    theta: Any) -> None:
    """Raise :class:`~pyspec.errors.PrecisionError` if the model, ``T``, ``S`` or the loss computes
    in a dtype below the backend's precision anywhere in its traced program (JAX backends only).

    Backend-neutral callables (written with the namespace ``xp``, whose constructors use the
    backend's dtype) are not traced: they run at the working precision by construction, and the
    property tests, which bind thousands of them, pay nothing.

    Parameters
    ----------
    backend : Backend
    eq : Equivariance
        The user's equivariance (which callables are backend-neutral).
    loss_user : callable or None
        The user's loss.
    f, T, S, loss : callable
        The bound flat functions ``f(θ)``, ``T(a, θ)``, ``S(a, y)`` and ``ℓ(y)`` (``loss`` may be
        ``None``).
    a, theta : array
        Flat points whose shapes the functions are traced at.
    """
    refused = LOW_PRECISION.get(getattr(backend, "name", ""))
    if refused is None:
        return
    jax_only = {role: fn is not None and not accepts_xp(fn) for role, fn in
                (("model", eq.model), ("T", eq.T), ("S", eq.S), ("loss", loss_user))}
    if not any(jax_only.values()):
        return
    dtype = getattr(backend, "dtype", np.float64)
    a = jax.ShapeDtypeStruct(np.shape(a), dtype)
    theta = jax.ShapeDtypeStruct(np.shape(theta), dtype)
    if jax_only["model"]:
        model = jax.make_jaxpr(f)(theta)
        _require(backend, "the model", model, refused)
        y_shape = model.out_avals[0].shape
    else:
        y_shape = jax.eval_shape(f, theta).shape
    y = jax.ShapeDtypeStruct(y_shape, dtype)
    programs: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = []
    if jax_only["T"]:
        programs.append(("the transformation T", T, (a, theta)))
    if jax_only["S"]:
        programs.append(("the output transformation S", S, (a, y)))
    if jax_only["loss"] and loss is not None:
        programs.append(("the loss", loss, (y,)))
    if not programs:
        return

    def together(*args: Any) -> tuple[Any, ...]:  # one trace of all: the common case is clean
        return tuple(fn(*args[i:i + len(sub)]) for (_, fn, sub), i in zip(programs, _offsets(programs)))

    if _clean(jax.make_jaxpr(together)(*[x for _, _, sub in programs for x in sub]), refused):
        return
    for role, fn, args in programs:  # name the function and the operation
        _require(backend, role, jax.make_jaxpr(fn)(*args), refused)


def _clean(closed: Any, refused: tuple[str, ...]) -> bool:
    low_outputs = {np.dtype(v.aval.dtype).name for v in closed.jaxpr.outvars} & set(refused)
    return not low_outputs and next(low_precision_operations(closed.jaxpr, refused), None) is None


def _require(backend: Any, role: str, closed: Any, refused: tuple[str, ...]) -> None:
    for eqn, name in low_precision_operations(closed.jaxpr, refused):
        raise PrecisionError(
            f"{role} computes in {name} (operation {eqn.primitive.name} at {_where(eqn)}), but this "
            f"check runs at {backend.name}'s round-off and would report that {name} rounding as a "
            f"failed identity. To fix: {_FIX}"
        )
    low = {np.dtype(v.aval.dtype).name for v in closed.jaxpr.outvars} & set(refused)
    if low:
        raise PrecisionError(f"{role} returns {sorted(low)[0]} arrays. To fix: {_FIX}")


def _offsets(programs: list[tuple[str, Callable[..., Any], tuple[Any, ...]]]) -> list[int]:
    out, i = [], 0
    for _, _, sub in programs:
        out.append(i)
        i += len(sub)
    return out
