"""JAX float64 backend: the namespace is ``jax.numpy`` plus a few ``jax.nn`` / ``jax.scipy`` functions."""

from __future__ import annotations

import contextlib
import math

from types import SimpleNamespace
from typing import Any, Callable, Hashable

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import jax.scipy.special
import numpy as np

from pyspec.backends.base import Array
from pyspec.errors import PrecisionError
from pyspec.cache import cached


CPU_COPY_EMITTERS = {"xla_cpu_use_fusion_emitters": False}
"""XLA:CPU options for programs on large flat vectors (the matrix-free path, ``pyspec bench``): the
default fusion emitters turn a concatenation of ``n``-sized operands that are zeros or elementwise
expressions, e.g. the transpose of splitting ``θ`` into its leaves, into a loop about 40× slower than
a copy (15 ms against 0.35 ms at ``n = 10⁶``; the whole matrix-free Theorem 1 check: 0.47 s against
0.19 s). Applied only when JAX runs on CPU (:func:`compile_options`).

No option that licenses non-IEEE arithmetic (fast math) is ever used: compiled programs agree with
eager evaluation, and programs compiled at XLA's backend optimisation level 0 (the fast compilation of
``pyspec verify``/``claims`` and the tests, :mod:`pyspec.backends.xla_flags`) with those compiled at the
default level, to a few ulps of each quantity's scale (``tests/test_compiled_equals_eager.py``)."""


PACKED_MAX = 1 << 16
"""Largest number of entries a packed program returns in one host array (:func:`ahead_of_time`)."""


def ahead_of_time(fun: Callable[..., Any], options: dict[str, Any], pack: bool = False) -> Callable[..., Any]:
    """``fun`` compiled ahead of time, with the XLA ``options``, once for each argument structure,
    shapes and dtypes it is called with.

    With ``pack``, a program whose floating-point results hold at most :data:`PACKED_MAX` entries
    returns them as NumPy arrays, views of one host array the program fills; other results stay device
    arrays. Each result a device array of its own costs ~1.5 µs to return and ~1 µs to bring to the
    host: a repeated Theorem 1 check judged in bulk reads ~80 and is ~20 % faster packed. Packing adds
    ~5 % to the compilation, so only programs that run many times ask for it."""
    compiled: dict[Any, Any] = {}

    def run(*args: Any) -> Any:
        leaves, treedef = jax.tree_util.tree_flatten(args)
        key = (treedef, tuple((np.shape(x), x.dtype if hasattr(x, "dtype") else np.result_type(x)) for x in leaves))
        program = compiled.get(key)
        if program is None:
            program = compiled[key] = (_packed(fun, args, options) if pack
                                       else jax.jit(fun).lower(*args).compile(options))
        return program(*args)

    return run


def _packed(fun: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> Callable[..., Any]:
    """``fun`` compiled for ``args``, its small floating-point results packed (:func:`ahead_of_time`)."""
    layout: list[Any] = []

    def packing(*a: Any) -> Any:
        leaves, treedef = jax.tree_util.tree_flatten(fun(*a))
        leaves = [jnp.asarray(x) for x in leaves]  # a Python number among the results: an array, as jit returns
        floats = [i for i, x in enumerate(leaves) if jnp.issubdtype(x.dtype, jnp.floating)]
        sizes = [leaves[i].size for i in floats]
        if len({leaves[i].dtype for i in floats}) != 1 or len(floats) < 2 or sum(sizes) > PACKED_MAX:
            layout.append(None)
            return jax.tree_util.tree_unflatten(treedef, leaves)
        layout.append((treedef, floats, [leaves[i].shape for i in floats], np.cumsum([0, *sizes]).tolist()))
        packed = set(floats)
        return jnp.concatenate([jnp.ravel(leaves[i]) for i in floats]), [x for i, x in enumerate(leaves)
                                                                         if i not in packed]

    program = jax.jit(packing).lower(*args).compile(options)
    if layout[0] is None:
        return program
    treedef, floats, shapes, offsets = layout[0]

    def run(*a: Any) -> Any:
        buffer, others = program(*a)
        host = np.asarray(buffer)
        leaves = list(others)
        for i, shape, start, stop in zip(floats, shapes, offsets, offsets[1:]):
            leaves.insert(i, host[start:stop].reshape(shape))
        return jax.tree_util.tree_unflatten(treedef, leaves)

    return run


def compile_options() -> dict[str, Any]:
    """XLA options for a program of the checks: :data:`CPU_COPY_EMITTERS` on CPU, none elsewhere."""
    return dict(CPU_COPY_EMITTERS) if jax.default_backend() == "cpu" else {}


def _namespace(dtype: Any = jnp.float64) -> SimpleNamespace:
    def asarray(x: Any) -> Array:
        if isinstance(x, np.ndarray) and x.dtype == dtype:  # half the cost of a conversion on the way
            return jnp.asarray(x)
        return jnp.asarray(x, dtype=dtype)

    def zeros(shape: Any) -> Array:
        return jnp.zeros(shape, dtype=dtype)

    def ones(shape: Any) -> Array:
        return jnp.ones(shape, dtype=dtype)

    def eye(n: int) -> Array:
        return jnp.eye(n, dtype=dtype)

    return SimpleNamespace(
        asarray=asarray,
        zeros=zeros,
        ones=ones,
        eye=eye,
        reshape=jnp.reshape,
        ravel=jnp.ravel,
        concatenate=jnp.concatenate,
        stack=jnp.stack,
        transpose=jnp.transpose,
        outer=jnp.outer,
        sum=jnp.sum,
        mean=jnp.mean,
        exp=jnp.exp,
        expm1=jnp.expm1,
        log=jnp.log,
        log1p=jnp.log1p,
        sqrt=jnp.sqrt,
        square=jnp.square,
        tanh=jnp.tanh,
        sinh=jnp.sinh,
        cosh=jnp.cosh,
        asinh=jnp.arcsinh,
        sin=jnp.sin,
        cos=jnp.cos,
        sigmoid=jax.nn.sigmoid,
        softplus=jax.nn.softplus,
        relu=jax.nn.relu,
        logsumexp=jax.scipy.special.logsumexp,
        softmax=jax.nn.softmax,
        log_softmax=jax.nn.log_softmax,
        solve=jnp.linalg.solve,
        inv=jnp.linalg.inv,
        expm=jax.scipy.linalg.expm,
    )


class JaxBackend:
    """Float64 JAX backend (forward-mode derivatives; requires ``jax_enable_x64``).

    Differentiation and everything inside :meth:`compile` run in JAX; methods that act on concrete
    results (norms, singular values, finiteness, conversion) use NumPy/LAPACK on host arrays, which
    avoids one XLA compilation per small post-processing operation.
    """

    name = "jax-float64"
    digits = 15
    eps = float(np.finfo(np.float64).eps) / 2
    dtype: Any = np.float64

    def __init__(self, jit: bool = True) -> None:
        self.jit = jit
        if not jax.config.jax_enable_x64 and self.dtype == np.float64:  # type: ignore[attr-defined]  # set at run time
            raise PrecisionError(
                "pyspec's float64 checks need JAX 64-bit mode: call "
                "jax.config.update('jax_enable_x64', True) before creating arrays "
                "(pyspec's command line and test suite do this), or check a float32 model at float32's "
                "round-off with precision='float32'."
            )
        self.xp = _namespace(self.dtype)

    def context(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def compile(self, fun: Callable[..., Any], key: Hashable | None = None, *,
                pack: bool = False) -> Callable[..., Any]:
        """``fun`` compiled (``jit=True``), found in the program cache under ``key`` when given
        (:mod:`pyspec.cache`), its small results packed with ``pack`` (:func:`ahead_of_time`); ``fun``
        itself (op by op) with ``jit=False``."""
        if not self.jit:
            return fun
        return cached(key, lambda: ahead_of_time(fun, compile_options(), pack))

    def asarray(self, x: Any) -> Array:
        return np.asarray(x, dtype=self.dtype)

    def to_host(self, tree: Any) -> Any:
        return jax.tree_util.tree_map(lambda x: np.asarray(x, dtype=self.dtype), tree)

    def jvp(self, fun: Callable[[Array], Array], x: Array, tangents: Array) -> tuple[Array, Array]:
        x = jnp.asarray(x, dtype=self.dtype)
        tangents = jnp.asarray(tangents, dtype=self.dtype)

        def one(t: Array) -> Array:
            return jax.jvp(fun, (x,), (t,))[1]

        return fun(x), jax.vmap(one, in_axes=1, out_axes=-1)(tangents)

    def jacobian(self, fun: Callable[[Array], Array], x: Array) -> Array:
        return jax.jacfwd(fun)(jnp.asarray(x, dtype=self.dtype))

    def solve(self, a: Array, b: Array) -> Array:
        return jnp.linalg.solve(a, b)

    def eigvalsh(self, a: Array) -> Array:
        return np.linalg.eigvalsh(np.asarray(a, dtype=np.float64))

    def svdvals(self, a: Array) -> Array:
        return np.linalg.svd(np.asarray(a, dtype=np.float64), compute_uv=False)

    def norm(self, x: Array) -> Any:
        # NumPy's 2-norm of a real vector, sqrt(x·x), without its wrappers (called ~60 times a check).
        flat = np.asarray(x, dtype=np.float64).reshape(-1)
        return math.sqrt(flat.dot(flat))

    def to_float(self, x: Any) -> float:
        return float(x)

    def to_numpy(self, x: Array) -> Any:
        return np.asarray(x, dtype=np.float64)

    def all_finite(self, x: Array) -> bool:
        return bool(np.isfinite(np.asarray(x, dtype=np.float64)).all())


class JaxFloat32Backend(JaxBackend):
    """JAX in float32 (``precision="float32"``): for models that compute in float32, e.g. on GPUs.
    Tolerances use float32's unit round-off ``2⁻²⁴`` (:mod:`pyspec.precision`); 64-bit mode may be off."""

    name = "jax-float32"
    digits = 7
    eps = float(np.finfo(np.float32).eps) / 2
    dtype: Any = np.float32
