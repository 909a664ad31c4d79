"""Linear algebra of evaluated Lean terms on a finite-dimensional instance: application and composition of
curried tensors (:class:`~pyspec.formal.values.Lin`), derivatives by the backend (cached), inverses with
their condition numbers, sums, random values of a Lean type."""

from __future__ import annotations

import contextlib
import math
from types import SimpleNamespace
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from pyspec.formal.syntax import App, Binop, Forall, Ident, Node, show
from pyspec.formal.values import Basis, Filter, Fn, FormalTypeError, IndexType, LazyLin, Lin, Space, Truth, point_key

__all__ = ["Algebra", "Binding", "SINGULAR"]

SINGULAR = 1e10
"""Condition number above which a map counts as not invertible in float64 (``IsInvertible``, ``.symm``)."""


_NUMPY = SimpleNamespace(
    asarray=lambda x: np.asarray(x, dtype=np.float64), zeros=np.zeros, eye=np.eye, reshape=np.reshape, ravel=np.ravel,
    concatenate=np.concatenate, stack=np.stack, sum=np.sum, square=np.square, sqrt=np.sqrt, inv=np.linalg.inv,
    solve=np.linalg.solve, transpose=np.transpose, ones=np.ones, tanh=np.tanh, exp=np.exp,
)
"""The namespace of the evaluator's own float64 operations outside derivatives."""


class Binding(NamedTuple):
    """A concrete instance under the statement's Lean names.

    Attributes
    ----------
    spaces : mapping
        Type name → array shape (``"E": (n,)``, ``"ℝ": ()``) or :class:`IndexType` (``ι``).
    values : mapping
        Lean name → value (functions as :class:`Fn`, linear maps as :class:`Lin`, points as arrays).
        Only names that are binders of the evaluated statement are used.
    rng : numpy Generator
        Randomness of the drawn data (explicit vectors, nearby points).
    """

    spaces: Mapping[str, Any]
    values: Mapping[str, Any]
    rng: np.random.Generator


class Algebra:
    """Operations on values for one instance and backend (the base of the term evaluator)."""

    def __init__(self, backend: Any, binding: Binding, cache: dict[Any, Any] | None = None) -> None:
        self.backend = backend
        self.traced_xp = backend.xp
        # outside derivatives, float64 linear algebra runs in NumPy (same IEEE arithmetic as XLA on CPU,
        # without a JAX dispatch per operation); mpmath arrays are NumPy object arrays already
        self.host = backend.digits == 15 and backend.name.startswith("jax")
        self.binding = binding
        self.rng = binding.rng
        self.cache = {} if cache is None else cache
        self.depth = 0  # > 0 while tracing a derivative
        self.condition = 1.0
        self.types: dict[str, Node] = {}

    # ------------------------------------------------------------------ helpers on values
    @property
    def xp(self) -> Any:
        return _NUMPY if self.host and not self.depth else self.traced_xp

    @contextlib.contextmanager
    def tracing(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def norm(self, x: Any) -> float:
        if isinstance(x, Lin):
            x = x.arr
        if isinstance(x, tuple):
            return math.sqrt(sum(self.norm(i) ** 2 for i in x))
        if isinstance(x, (int, float)):
            return abs(float(x))
        if not hasattr(x, "shape") or self.depth or isinstance(x, (Space, IndexType, Filter, Basis)):
            return 0.0
        return self.backend.to_float(self.backend.norm(x))

    def point_key(self, x: Any) -> Any:
        return None if self.depth else point_key(x)

    def arr(self, x: Any) -> Any:
        return x.arr if isinstance(x, Lin) else x

    def flat(self, x: Any) -> tuple[Any, Callable[[Any], Any]]:
        """``x`` as a 1-D array and the inverse map (points of ``ℝ``, of matrices, of products)."""
        xp = self.xp
        if isinstance(x, tuple):
            parts = [self.flat(i) for i in x]
            sizes = [int(np.prod(np.shape(p[0]))) for p in parts]
            offsets = np.cumsum([0] + sizes)

            def unflat(u: Any) -> Any:
                return tuple(parts[j][1](u[offsets[j]:offsets[j + 1]]) for j in range(len(parts)))

            return xp.concatenate([p[0] for p in parts]), unflat
        if isinstance(x, Lin):
            shape, ins = np.shape(x.arr), x.ins
            return xp.ravel(x.arr), lambda u: Lin(xp.reshape(u, shape), ins)
        if isinstance(x, (int, float)):
            x = xp.asarray(float(x))
        shape = tuple(np.shape(x))
        if shape == ():
            return xp.reshape(x, (1,)), lambda u: u[0]
        if len(shape) == 1:
            return x, lambda u: u
        return xp.ravel(x), lambda u: xp.reshape(u, shape)

    def deriv(self, fn: Any, x: Any) -> Lin:
        """The derivative of ``fn`` at ``x`` as a :class:`Lin` (cached by the function's key and ``x``)."""
        fkey = fn.key if isinstance(fn, Fn) else ("lin", self.point_key(fn))
        pkey = self.point_key(x)
        key = None if fkey is None or pkey is None or self.depth else ("D", fkey, pkey)
        if key is not None and key in self.cache:
            return self.cache[key]
        u0, unflat = self.flat(x)
        scalar = isinstance(x, (int, float)) or (not isinstance(x, (tuple, Lin)) and np.shape(x) == ())
        info: dict[str, Any] = {}

        def g(u: Any) -> Any:
            value = self.call(fn, unflat(u))
            if isinstance(value, Lin):
                info["ins"] = value.ins
                return value.arr
            if isinstance(value, (Fn, Truth, tuple)):
                raise FormalTypeError("fderiv of a function whose values are not in a normed space")
            info["ins"] = ()
            return self.xp.asarray(value) if isinstance(value, (int, float)) else value

        with self.tracing():
            J = self.backend.jacobian(g, u0)
        if self.host and not self.depth:
            J = np.asarray(J)
        if scalar:
            J = J[..., 0]
        result = Lin(J, (0 if scalar else 1,) + info["ins"])
        if key is not None:
            self.cache[key] = result
        return result

    def call(self, fn: Any, arg: Any) -> Any:
        """Application ``fn arg``: a function, a linear map (contraction), a basis, a set."""
        if isinstance(fn, Fn):
            out = fn(arg)
            if self.host and not self.depth and type(out).__module__.startswith("jax"):
                out = np.asarray(out)
            return out
        if isinstance(fn, Lin):
            return self.apply_lin(fn, arg)
        if isinstance(fn, LazyLin):
            return fn.fn(arg)
        if isinstance(fn, Basis):
            return fn.matrix[:, int(arg)]
        if isinstance(arg, int) and np.ndim(fn) >= 1:  # an entry of a vector of ι → ℝ or of a Matrix
            return fn[arg]
        if callable(fn) and not hasattr(fn, "shape"):
            return fn(arg)
        raise FormalTypeError(f"cannot apply a {type(fn).__name__} to an argument")

    def apply_lin(self, A: Lin, x: Any) -> Any:
        r = A.ins[0]
        if isinstance(x, tuple):
            x = self.pad_pair(A, x)
        if isinstance(x, Lin):
            raise FormalTypeError("a linear map applied to a linear map")
        if isinstance(x, int) and x == 0 and r == 1:
            x = self.xp.zeros(np.shape(A.arr)[-1:])
        if r == 0:
            if np.shape(x) not in ((), (1,)):
                raise FormalTypeError(f"a map on ℝ applied to a vector of shape {np.shape(x)}")
            out = A.arr * (x if np.shape(x) == () else x[0])
        else:
            x = self.xp.ravel(self.xp.asarray(x)) if not isinstance(x, (int, float)) else x
            if np.shape(x) == () or np.shape(A.arr)[-1] != np.shape(x)[0]:
                raise FormalTypeError(f"a linear map of shape {np.shape(A.arr)} applied to {np.shape(x)}")
            out = A.arr @ x
        return Lin(out, A.ins[1:]) if len(A.ins) > 1 else out

    def pad_pair(self, A: Lin, pair: tuple) -> Any:
        """A point of a product space as a flat vector (a literal ``0`` component takes the rest)."""
        total = np.shape(A.arr)[-1]
        sized = [self.flat(p)[0] if not (isinstance(p, int) and p == 0) else None for p in pair]
        known = sum(int(np.shape(s)[0]) for s in sized if s is not None)
        parts = [s if s is not None else self.xp.zeros((total - known,)) for s in sized]
        return self.xp.concatenate(parts)

    def compose(self, A: Any, B: Any) -> Any:
        """``A ∘L B``."""
        xp = self.xp
        if isinstance(A, LazyLin):
            if isinstance(B, LazyLin):
                return LazyLin(lambda x: A.fn(B.fn(x)))
            if not isinstance(B, Lin):
                raise FormalTypeError("∘L of a map of maps with a non-map")
            n = np.shape(B.arr)[-1] if B.ins[0] == 1 else None
            if n is None:
                return Lin(self.arr(A.fn(self.apply_lin(B, 1.0))), B.ins[:1] + self._ins(A.fn(self.apply_lin(B, 1.0))))
            cols = [A.fn(self.apply_lin(B, xp.eye(n)[i])) for i in range(n)]
            return Lin(xp.stack([self.arr(c) for c in cols], axis=-1), (1,) + self._ins(cols[0]))
        if isinstance(B, LazyLin):
            return LazyLin(lambda x: self.compose(A, B.fn(x)))
        if not (isinstance(A, Lin) and isinstance(B, Lin)):
            raise FormalTypeError("∘L needs two linear maps")
        if len(B.ins) != 1:
            raise FormalTypeError("∘L with a curried right factor")
        rA, rB = A.ins[0], B.ins[0]
        out_rank = np.ndim(B.arr) - rB
        if rA != out_rank:
            raise FormalTypeError(f"∘L: codomain rank {out_rank} ≠ domain rank {rA}")
        if rA == 0:  # A : ℝ →L V
            a = A.arr
            res = a[..., None] * B.arr if rB == 1 else a * B.arr
        else:
            if np.shape(A.arr)[-1] != np.shape(B.arr)[0]:
                raise FormalTypeError(f"∘L: shapes {np.shape(A.arr)} and {np.shape(B.arr)} do not compose")
            res = A.arr @ B.arr
        return Lin(res, (rB,) + A.ins[1:])

    @staticmethod
    def _ins(value: Any) -> tuple[int, ...]:
        return value.ins if isinstance(value, Lin) else ()

    def inverse(self, A: Any) -> Lin:
        """``A⁻¹`` (``.symm``, ``.inverse``), recording its condition number."""
        if not isinstance(A, Lin) or len(A.ins) != 1 or np.ndim(A.arr) != 2 or np.shape(A.arr)[0] != np.shape(A.arr)[1]:
            raise FormalTypeError("inverse of a non-square or curried map")
        self.record_condition(A.arr)
        return Lin(self.xp.inv(A.arr), A.ins)

    def record_condition(self, a: Any) -> float:
        if self.depth:
            return 1.0
        s = self.backend.svdvals(a)
        smax, smin = self.backend.to_float(s[0]), self.backend.to_float(s[-1])
        cond = smax / smin if smin > 0 else math.inf
        self.condition = max(self.condition, cond if math.isfinite(cond) else 1.0)
        return cond

    def solve_left(self, A: Lin, B: Lin) -> Lin:
        """``u`` with ``A ∘L u = B``."""
        xp = self.xp
        if np.ndim(A.arr) != 2 or len(A.ins) != 1:
            raise FormalTypeError("A ∘L u = B needs a square A")
        self.record_condition(A.arr)
        n = np.shape(A.arr)[0]
        b = B.arr
        shape = np.shape(b)
        sol = xp.solve(A.arr, xp.reshape(b, (n, -1)) if len(shape) != 2 else b)
        return Lin(xp.reshape(sol, shape) if len(shape) != 2 else sol, B.ins)

    def zero_like(self, x: Any) -> Any:
        if isinstance(x, Lin):
            return Lin(self.xp.zeros(np.shape(x.arr)), x.ins)
        if isinstance(x, tuple):
            return tuple(self.zero_like(i) for i in x)
        return self.xp.zeros(np.shape(x)) if hasattr(x, "shape") else 0.0

    def add(self, x: Any, y: Any, sign: float = 1.0) -> Any:
        if isinstance(x, int) and x == 0 and not isinstance(y, (int, float)):
            x = self.zero_like(y)
        if isinstance(y, int) and y == 0 and not isinstance(x, (int, float)):
            y = self.zero_like(x)
        if isinstance(x, Lin) or isinstance(y, Lin):
            if not (isinstance(x, Lin) and isinstance(y, Lin)) or x.ins != y.ins or np.shape(x.arr) != np.shape(y.arr):
                raise FormalTypeError("sum of linear maps of different types")
            return Lin(x.arr + sign * y.arr, x.ins)
        if isinstance(x, tuple) and isinstance(y, tuple):
            return tuple(self.add(a, b, sign) for a, b in zip(x, y))
        if isinstance(x, Fn) or isinstance(y, Fn):
            return Fn(lambda z: self.add(self.call(x, z), self.call(y, z), sign))
        if np.shape(x) != np.shape(y) and np.shape(x) != () and np.shape(y) != ():
            raise FormalTypeError(f"sum of shapes {np.shape(x)} and {np.shape(y)}")
        if (np.shape(x) == ()) != (np.shape(y) == ()) and not (isinstance(x, (int, float)) or isinstance(y, (int, float))):
            raise FormalTypeError(f"sum of a scalar and a vector ({np.shape(x)}, {np.shape(y)})")
        return x + sign * y

    def scale(self, c: Any, x: Any) -> Any:
        if isinstance(c, Lin) or np.shape(c) not in ((),):
            raise FormalTypeError("• needs a scalar on the left")
        if isinstance(x, Lin):
            return Lin(c * x.arr, x.ins)
        if isinstance(x, tuple):
            return tuple(self.scale(c, i) for i in x)
        if isinstance(x, Fn):
            return Fn(lambda z: self.scale(c, self.call(x, z)))
        return c * x

    def random_of(self, t: Node, env: Mapping[str, Any]) -> Any:
        """A random value of the type ``t`` (a vector, linear map, pair or constant function)."""
        xp = self.xp
        if isinstance(t, Binop) and t.op in ("→L[ℝ]", "≃L[ℝ]", "→ₗ[ℝ]"):
            dom = self.space_shape(t.lhs, env)
            cod = self.random_of(t.rhs, env)
            cod_shape = np.shape(self.arr(cod))
            arr = xp.asarray(self.rng.standard_normal(cod_shape + dom))
            return Lin(arr, (len(dom),) + self._ins(cod))
        if isinstance(t, Binop) and t.op == "×":
            return (self.random_of(t.lhs, env), self.random_of(t.rhs, env))
        if isinstance(t, Ident) and isinstance(env.get(t.name), IndexType):  # an index of a finite type
            return int(self.rng.integers(env[t.name].size))
        if self.is_index_vector(t, env):
            return xp.asarray(self.rng.standard_normal(self.space_shape(t, env)))
        if isinstance(t, Forall) and len(t.binders) == 1 and isinstance(env.get("ι"), IndexType):
            # a dependent point `∀ i, Xs i` of the family of spaces over the index type ι: a tuple
            i = t.binders[0].name
            spaces = [self.ev(t.body, {**env, i: j}) for j in range(env["ι"].size)]  # type: ignore[attr-defined]
            return tuple(xp.asarray(self.rng.standard_normal(sp.shape)) for sp in spaces)
        if isinstance(t, Binop) and t.op == "→":
            template = self.random_of(t.rhs, env)
            shape = np.shape(self.arr(template))
            size = int(np.prod(shape))
            weights = self.rng.standard_normal((size, int(np.prod(self.space_shape(t.lhs, env)))))

            def smooth(x: Any) -> Any:  # x ↦ tanh(Wx + c) reshaped to the codomain
                xp = self.xp
                flat = self.flat(x)[0]
                out = xp.reshape(xp.tanh(weights @ flat + 0.3), shape)
                return Lin(out, template.ins) if isinstance(template, Lin) else out

            return Fn(smooth, key=("random", id(weights)))
        return xp.asarray(self.rng.standard_normal(self.space_shape(t, env)))

    def is_index_vector(self, t: Node, env: Mapping[str, Any]) -> bool:
        """Whether ``t`` is ``ι → ℝ`` for a finite index type ``ι`` (vectors as functions)."""
        return (isinstance(t, Binop) and t.op == "→" and t.rhs == Ident("ℝ") and isinstance(t.lhs, Ident)
                and isinstance(env.get(t.lhs.name), IndexType))

    def space_shape(self, t: Node, env: Mapping[str, Any]) -> tuple[int, ...]:
        if isinstance(t, Ident) and t.name in ("ℝ", "ℕ"):
            return ()
        if isinstance(t, Binop) and isinstance(t.lhs, Ident) and self.is_index_vector(t, env):
            return (env[t.lhs.name].size,)
        if isinstance(t, App) and t.fn == Ident("Matrix") and len(t.args) == 3:
            rows, cols = t.args[0], t.args[1]
            if (isinstance(rows, Ident) and isinstance(env.get(rows.name), IndexType)
                    and isinstance(cols, Ident) and isinstance(env.get(cols.name), IndexType)):
                return (env[rows.name].size, env[cols.name].size)
        if isinstance(t, Ident):
            s = env.get(t.name)
            if isinstance(s, Space):
                return s.shape
        if isinstance(t, Binop) and t.op == "×":
            a, b = self.space_shape(t.lhs, env), self.space_shape(t.rhs, env)
            return (int(np.prod(a)) + int(np.prod(b)),)
        if isinstance(t, Binop) and t.op in ("→L[ℝ]", "≃L[ℝ]"):
            return (int(np.prod(self.space_shape(t.lhs, env))) * int(np.prod(self.space_shape(t.rhs, env))),)
        raise FormalTypeError(f"no space for the type {show(t)}")

    def invertible(self, A: Any) -> Truth:
        if not isinstance(A, Lin) or np.ndim(A.arr) != 2 or np.shape(A.arr)[0] != np.shape(A.arr)[1]:
            return Truth(False, reason="not a square linear map")
        cond = self.record_condition(A.arr)
        return Truth(cond < SINGULAR, reason=f"condition number {cond:.1e}")

    def surjective(self, A: Any) -> Truth:
        """A linear map between vector spaces is onto: full row rank, singular values well conditioned."""
        if not isinstance(A, Lin) or np.ndim(A.arr) != 2:
            return Truth(False, reason="not a linear map between vector spaces")
        s = self.backend.svdvals(A.arr)
        ratio = self.backend.to_float(s[0]) / max(self.backend.to_float(s[-1]), 1e-300)
        full = np.shape(A.arr)[0] <= np.shape(A.arr)[1]
        return Truth(full and ratio < SINGULAR, reason=f"singular value ratio {ratio:.1e}")

    def injective(self, A: Any) -> Truth:
        if not isinstance(A, Lin) or np.ndim(A.arr) != 2:
            return Truth(False, reason="not a linear map between vector spaces")
        s = self.backend.svdvals(A.arr)
        ratio = self.backend.to_float(s[0]) / max(self.backend.to_float(s[-1]), 1e-300)
        full = np.shape(A.arr)[0] >= np.shape(A.arr)[1]
        return Truth(full and ratio < SINGULAR, reason=f"singular value ratio {ratio:.1e}")
