"""Evaluate a parsed Lean statement on a concrete finite-dimensional instance.

Given a :class:`~pyspec.formal.extract.Declaration` and a :class:`Binding` (the instance: spaces
``E = ℝⁿ`` …, the model's functions and points under their Lean names), :func:`evaluate_statement`

1. binds every hypothesis that *defines* a variable: ``HasFDerivAt φ φ' x`` binds ``φ'`` to the
   backend derivative of ``φ`` at ``x`` (under ``∀ᶠ ϑ in 𝓝 θ`` / ``∀ x`` as a function of ``ϑ``/``x``);
   ``A ∘L u = B`` binds ``u = A⁻¹B``; ``u ∘L A = B`` binds ``u = BA⁻¹``; ``inner (U x) y = R x y``
   binds ``U``; ``φ (x, y) = e`` binds ``φ``;
2. draws the remaining data (explicit vectors ``δ``, ``g``, …) at random from their types;
3. checks every other hypothesis numerically (``∀ᶠ`` at the base point and a nearby point, ``∀`` at
   random points, equalities by relative residual, invertibility by condition number);
4. evaluates the conclusion (both sides of each equation as arrays).

Residuals and tolerances are those of :mod:`pyspec.checks` (:func:`pyspec.checks.compare`, with the
sums' terms and the natural scale of products in the denominator, and
``tolerance = SAFETY · d · κ · eps``).
"""

from __future__ import annotations

import contextlib
import math
from types import SimpleNamespace
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from pyspec.checks import compare, tolerance
from pyspec.formal.extract import Declaration, declaration
from pyspec.formal.syntax import (
    App, Ascribe, BigSum, Binder, Binop, Eventually, EventuallyEq, Exists, Forall, Ident, Lam, Node, Norm, Num,
    Postfix, Proj, SetOf, Tuple, Unop, parse_term, show,
)
from pyspec.formal.values import (
    Basis, Filter, Fn, FormalTypeError, IndexType, LazyLin, Lin, Space, Truth, conj, point_key,
)

__all__ = ["Binding", "HypothesisResult", "StatementResult", "Evaluator", "evaluate_statement", "UnboundError",
           "free_vars", "is_data_type"]

NEARBY = 1e-3
"""Relative distance of the nearby points at which ``∀ᶠ x in 𝓝 p`` hypotheses are checked."""

SINGULAR = 1e10
"""Condition number above which a map counts as not invertible in float64 (``IsInvertible``, ``.symm``)."""


_NUMPY = SimpleNamespace(
    asarray=lambda x: np.asarray(x, dtype=np.float64), zeros=np.zeros, eye=np.eye, reshape=np.reshape, ravel=np.ravel,
    concatenate=np.concatenate, stack=np.stack, sum=np.sum, square=np.square, sqrt=np.sqrt, inv=np.linalg.inv,
    solve=np.linalg.solve, transpose=np.transpose, ones=np.ones, tanh=np.tanh,
)
"""The namespace of the evaluator's own float64 operations outside derivatives."""


class UnboundError(LookupError):
    """A name of the statement has no value (not a binder, a definition or a supported builtin)."""


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


class HypothesisResult(NamedTuple):
    name: str
    truth: Truth
    binds: tuple[str, ...]


class StatementResult(NamedTuple):
    """One statement evaluated on one instance.

    ``vacuous`` names the hypotheses that do not hold (the instance does not satisfy them);
    ``conclusion`` is the conclusion's :class:`Truth`; ``sides`` are the evaluated sides of the
    conclusion's equations (for the agreement with the matching :mod:`pyspec` check).
    """

    name: str
    hypotheses: tuple[HypothesisResult, ...]
    conclusion: Truth
    sides: tuple[tuple[Any, Any], ...]
    env: Mapping[str, Any]

    @property
    def vacuous(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hypotheses if not h.truth.holds)

    @property
    def holds(self) -> bool:
        return not self.vacuous and self.conclusion.holds


_PROP_HEADS = {
    "HasFDerivAt", "HasDerivAt", "DifferentiableAt", "Differentiable", "ContDiffAt", "ContDiff", "IsEquivariantAt",
    "IsGoodPosition", "IsEquivariant", "IsSymmetry", "IsFixedPointSet", "Function.Injective", "IsUnit",
    "Module.End.HasEigenvalue", "True", "False",
}


def is_data_type(t: Node) -> bool:
    """Whether a binder type is a type of data (spaces, maps, functions) rather than a proposition."""
    if isinstance(t, Ident):
        return t.name not in _PROP_HEADS
    if isinstance(t, Binop):
        if t.op in ("→L[ℝ]", "≃L[ℝ]", "→ₗ[ℝ]", "×"):
            return True
        if t.op == "→":
            return is_data_type(t.lhs) and is_data_type(t.rhs)
        return False
    if isinstance(t, App) and isinstance(t.fn, Ident):
        return t.fn.name in ("Fin", "Set", "Module.Basis")
    return False


def free_vars(node: Node) -> set[str]:
    """Identifiers free in ``node`` (dotted names contribute their first component)."""
    if isinstance(node, Ident):
        return {node.name.split(".")[0]}
    bound: set[str] = set()
    if isinstance(node, (Lam, Forall, Exists, BigSum)):
        bound = {b.name for b in node.binders}
    elif isinstance(node, (Eventually, SetOf)):
        bound = {node.var.name}
    out: set[str] = set()
    for child in node.children():
        out |= free_vars(child)
    if isinstance(node, Eventually):
        return (free_vars(node.body) - bound) | free_vars(node.filter)
    return out - bound


class Evaluator:
    """Evaluates terms of one statement on one instance with a backend (module docstring)."""

    def __init__(self, backend: Any, binding: Binding, cache: dict[Any, Any] | None = None) -> None:
        self.backend = backend
        self.traced_xp = backend.xp
        # outside derivatives, float64 linear algebra runs in NumPy (same IEEE arithmetic as XLA on CPU,
        # without a JAX dispatch per operation); mpmath arrays are NumPy object arrays already
        self.host = backend.digits == 15
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

    def space_shape(self, t: Node, env: Mapping[str, Any]) -> tuple[int, ...]:
        if isinstance(t, Ident) and t.name in ("ℝ", "ℕ"):
            return ()
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

    # ------------------------------------------------------------------ terms
    def lookup(self, name: str, env: Mapping[str, Any]) -> Any:
        if name in env:
            return env[name]
        if name in _BUILTINS:
            return _BUILTINS[name](self, env)
        if "." in name:
            base, field = name.split(".", 1)
            if base in env:
                value = env[base]
                for f in field.split("."):
                    value = self.project(value, f)
                return value
        return self.definition(name, env)

    @contextlib.contextmanager
    def scope(self, decl: Declaration) -> Iterator[None]:
        """The binder types of a definition while its body is evaluated (for type inference)."""
        saved = self.types
        self.types = {**saved, **{b.name: b.type for b in decl.binders}}
        try:
            yield
        finally:
            self.types = saved

    def is_definition(self, name: str, env: Mapping[str, Any]) -> bool:
        if name in env or name in _BUILTINS or "." in name:
            return False
        try:
            return declaration(name).body is not None
        except LookupError:
            return False

    def definition(self, name: str, env: Mapping[str, Any]) -> Any:
        try:
            decl = declaration(name)
        except LookupError:
            raise UnboundError(f"unknown name {name!r}") from None
        if decl.body is None:
            raise UnboundError(f"{name!r} is a theorem, not a definition")
        explicit = [b for b in decl.binders if b.explicit]

        def build(i: int, args: dict[str, Any]) -> Any:
            if i == len(explicit):
                with self.scope(decl):
                    return self.ev(decl.body, {**env, **args})  # type: ignore[arg-type]
            return Fn(lambda x: build(i + 1, {**args, explicit[i].name: x}))

        return build(0, {})

    def project(self, value: Any, field: str) -> Any:
        if field in ("symm", "inverse"):
            return self.inverse(value)
        if field == "IsInvertible":
            return self.invertible(value)
        if field in ("1", "2") and isinstance(value, tuple):
            return value[int(field) - 1]
        if field == "flip":
            return LazyLin(lambda b: LazyLin(lambda a: self.call(self.call(value, a), b)))
        if field == "repr" and isinstance(value, Basis):
            def coords(x: Any) -> Any:
                c = self.xp.solve(value.matrix, self.xp.ravel(x))
                return Fn(lambda l: c[int(l)])
            return Fn(coords)
        raise FormalTypeError(f"unsupported projection .{field} of a {type(value).__name__}")

    def invertible(self, A: Any) -> Truth:
        if not isinstance(A, Lin) or np.ndim(A.arr) != 2 or np.shape(A.arr)[0] != np.shape(A.arr)[1]:
            return Truth(False, reason="not a square linear map")
        cond = self.record_condition(A.arr)
        return Truth(cond < SINGULAR, reason=f"condition number {cond:.1e}")

    def injective(self, A: Any) -> Truth:
        if not isinstance(A, Lin) or np.ndim(A.arr) != 2:
            return Truth(False, reason="not a linear map between vector spaces")
        s = self.backend.svdvals(A.arr)
        ratio = self.backend.to_float(s[0]) / max(self.backend.to_float(s[-1]), 1e-300)
        full = np.shape(A.arr)[0] >= np.shape(A.arr)[1]
        return Truth(full and ratio < SINGULAR, reason=f"singular value ratio {ratio:.1e}")

    def ev(self, node: Node, env: Mapping[str, Any]) -> Any:
        return self.val_nat(node, env, want_nat=False)[0]

    def val_nat(self, node: Node, env: Mapping[str, Any], want_nat: bool = True) -> tuple[Any, float]:
        """The value of ``node`` and its natural scale (the product of its factors' norms, summed
        over the terms of sums), the scale rounding errors are proportional to (:mod:`pyspec.checks`)."""
        xp = self.xp
        if isinstance(node, Ident):
            value = self.lookup(node.name, env)
        elif isinstance(node, Num):
            value = int(node.value)
        elif isinstance(node, App) and node.fn == Ident("inner") and len(node.args) == 3:
            (x, nx), (y, ny) = self.val_nat(node.args[1], env, want_nat), self.val_nat(node.args[2], env, want_nat)
            return self.call(self.call(self.call(self.lookup("inner", env), None), x), y), nx * ny
        elif want_nat and isinstance(node, App) and isinstance(node.fn, Ident) and self.is_definition(node.fn.name, env):
            decl = declaration(node.fn.name)
            explicit = [b.name for b in decl.binders if b.explicit]
            if len(explicit) == len(node.args):  # unfold, for the natural scale of the body's terms
                args = {n: self.ev(a, env) for n, a in zip(explicit, node.args)}
                with self.scope(decl):
                    return self.val_nat(decl.body, {**env, **args}, want_nat)  # type: ignore[arg-type]
            return self.val_nat(App(Ident(node.fn.name), node.args), env, False)
        elif isinstance(node, App):
            cur, nat = self.val_nat(node.fn, env, want_nat)
            linear = isinstance(cur, Lin)
            for a in node.args:
                arg, nat_a = self.val_nat(a, env, want_nat)
                if isinstance(cur, Lin):
                    nat = (nat if linear else self.norm(cur) if want_nat else 0.0) * nat_a
                    linear = True
                else:
                    linear = False
                cur = self.call(cur, arg)
            return cur, (nat if linear else self.norm(cur) if want_nat else 0.0)
        elif isinstance(node, Binop):
            return self.binop(node, env, want_nat)
        elif isinstance(node, Unop):
            if node.op == "¬":
                t = self.prop(node.arg, env)
                value = Truth(not t.holds, t.residual, t.tolerance, f"¬({t.reason})")
            elif node.op == "-":
                v, n = self.val_nat(node.arg, env, want_nat)
                return self.scale(-1, v), n
            else:
                return self.val_nat(node.arg, env, want_nat)
        elif isinstance(node, Postfix):
            v = self.ev(node.arg, env)
            value = 1.0 / v if not isinstance(v, int) else 1.0 / float(v)
        elif isinstance(node, Proj):
            value = self.project(self.ev(node.arg, env), node.field)
        elif isinstance(node, Ascribe):
            value = self.ascribe(node, env)
        elif isinstance(node, Tuple):
            value = tuple(self.ev(i, env) for i in node.items)
        elif isinstance(node, Lam):
            value = self.lam(node, env)
        elif isinstance(node, (Forall, Exists, Eventually, EventuallyEq)):
            value = self.prop(node, env)
        elif isinstance(node, SetOf):
            value = Fn(lambda x: self.prop(node.body, {**env, node.var.name: x}))
        elif isinstance(node, Norm):
            x = self.arr(self.ev(node.arg, env))
            value = xp.sqrt(xp.sum(xp.square(xp.ravel(xp.asarray(x)))))
        elif isinstance(node, BigSum):
            (var,) = node.binders
            value, total = 0, 0.0
            for i in self.index_range(var, node.body, env):
                v, n = self.val_nat(node.body, {**env, var.name: i}, want_nat)
                value, total = self.add(value, v), total + n
            return value, total
        else:
            raise FormalTypeError(f"cannot evaluate {show(node)}")
        return value, (self.norm(value) if want_nat and not isinstance(value, (Fn, Truth)) else 0.0)

    def binop(self, node: Binop, env: Mapping[str, Any], want_nat: bool) -> tuple[Any, float]:
        op = node.op
        if op in ("→L[ℝ]", "≃L[ℝ]", "→ₗ[ℝ]", "×") or op == "→" and is_data_type(node):
            return Space(()), 0.0  # a type argument (of ContinuousLinearMap.compL, …)
        if op in ("=", "≠", "<", "≤", ">", "≥", "∧", "∨", "→", "↔", "∈", "∉", "⊆"):
            return self.prop(node, env), 0.0
        (x, nx), (y, ny) = self.val_nat(node.lhs, env, want_nat), self.val_nat(node.rhs, env, want_nat)
        if op == "+":
            return self.add(x, y), nx + ny
        if op == "-":
            return self.add(x, y, -1.0), nx + ny
        if op == "•":
            return self.scale(x, y), nx * ny
        if op == "*":
            if isinstance(x, Lin) or isinstance(y, Lin) or np.shape(x) != () or np.shape(y) != ():
                raise FormalTypeError("* of non-scalars")
            return x * y, nx * ny
        if op == "/":
            return x / y, abs(self.norm(x / y)) if want_nat else 0.0
        if op == "^":
            return x ** y, self.norm(x ** y) if want_nat else 0.0
        if op == "∘L":
            return self.compose(x, y), nx * ny
        if op == "∘":
            key = ("∘", getattr(x, "key", None), getattr(y, "key", None))
            return Fn(lambda z: self.call(x, self.call(y, z)), key=None if None in key else key), 0.0
        raise FormalTypeError(f"unsupported operator {op}")

    def ascribe(self, node: Ascribe, env: Mapping[str, Any]) -> Any:
        t = node.type
        if isinstance(node.expr, Num) and isinstance(t, Binop) and t.op in ("→L[ℝ]", "≃L[ℝ]"):
            shape = self.space_shape(t.lhs, env)
            return Lin(int(node.expr.value) * self.xp.eye(int(np.prod(shape))), (1,))
        value = self.ev(node.expr, env)
        if isinstance(t, Ident) and t.name == "ℝ" and isinstance(value, int):
            return float(value)
        return value

    def lam(self, node: Lam, env: Mapping[str, Any]) -> Fn:
        names = [b.name for b in node.binders]
        keys = tuple(self.point_key(env[v]) if v in env else ("global", v) for v in sorted(free_vars(node)))
        key = None if any(k is None for k in keys) else ("fun", show(node), keys)

        def build(i: int, bound: dict[str, Any]) -> Any:
            if i == len(names):
                return self.ev(node.body, {**env, **bound})
            return Fn(lambda x: build(i + 1, {**bound, **({} if names[i] == "_" else {names[i]: x})}),
                      key=key if i == 0 else None)

        return build(0, {})

    def index_range(self, var: Binder, body: Node, env: Mapping[str, Any]) -> range:
        t = var.type or self.infer_type(var.name, body)
        dom = self.ev(t, env) if t is not None else None
        if isinstance(dom, IndexType):
            return range(dom.size)
        raise FormalTypeError(f"cannot determine the finite index type of {var.name}")

    def big_sum(self, node: BigSum, env: Mapping[str, Any]) -> Any:
        (var,) = node.binders
        total: Any = 0
        for i in self.index_range(var, node.body, env):
            total = self.add(total, self.ev(node.body, {**env, var.name: i}))
        return total

    def infer_type(self, var: str, body: Node) -> Node | None:
        """The type of an untyped bound variable from its first use as an argument of a typed name."""
        stack = [body]
        while stack:
            node = stack.pop(0)
            if isinstance(node, App) and isinstance(node.fn, Ident):
                for k, a in enumerate(node.args):
                    if a == Ident(var):
                        t = self.types.get(node.fn.name)
                        if isinstance(t, App) and isinstance(t.fn, Ident) and t.fn.name == "Module.Basis" and k == 0:
                            return t.args[0]
                        for _ in range(k):
                            t = t.rhs if isinstance(t, Binop) and t.op in ("→", "→L[ℝ]") else None
                        if isinstance(t, Binop) and t.op in ("→", "→L[ℝ]", "≃L[ℝ]"):
                            return t.lhs
            stack.extend(node.children())
        return None

    # ------------------------------------------------------------------ propositions
    def prop(self, node: Node, env: Mapping[str, Any]) -> Truth:
        """The :class:`Truth` of a proposition."""
        if isinstance(node, Binop):
            op = node.op
            if op == "∧":
                return conj([self.prop(node.lhs, env), self.prop(node.rhs, env)])
            if op == "∨":
                a, b = self.prop(node.lhs, env), self.prop(node.rhs, env)
                return a if a.holds else b
            if op == "→":
                premise = self.prop(node.lhs, env)
                return self.prop(node.rhs, env) if premise.holds else Truth(True, reason="premise false")
            if op == "↔":
                a, b = self.prop(node.lhs, env), self.prop(node.rhs, env)
                return Truth(a.holds == b.holds, reason="↔")
            if op == "=":
                return self.equation(node.lhs, node.rhs, env)
            if op == "≠":
                t = self.equation(node.lhs, node.rhs, env, record=False)
                return Truth(not t.holds, t.residual, t.tolerance, "≠")
            if op in ("≤", "<", "≥", ">"):
                return self.inequality(node, env)
            if op in ("∈", "∉"):
                member = self.call(self.ev(node.rhs, env), self.ev(node.lhs, env))
                return member if op == "∈" else Truth(not member.holds, reason="∉")
        if isinstance(node, Forall):
            truths = []
            for sample in self.samples(node.binders, node.body, env):
                truths.append(self.prop(node.body, {**env, **sample}))
            return conj(truths)
        if isinstance(node, Eventually):
            center = self.ev(node.filter, env)
            if not isinstance(center, Filter):
                raise FormalTypeError("∀ᶠ over a filter other than 𝓝 p")
            points = self.nearby(center.point) if self.neighbourhood and _pointwise(node.body) else [center.point]
            return conj([self.prop(node.body, {**env, node.var.name: p}) for p in points])
        if isinstance(node, EventuallyEq):
            center = self.ev(node.filter, env)
            f, g = self.ev(node.lhs, env), self.ev(node.rhs, env)
            return conj([self.compare_values(self.call(f, p), self.call(g, p), [], []) for p in self.nearby(center.point)])
        if isinstance(node, Exists):
            return self.exists(node, env)
        value = self.ev(node, env)
        if isinstance(value, Truth):
            return value
        raise FormalTypeError(f"not a proposition: {show(node)}")

    def samples(self, binders: tuple[Binder, ...], body: Node, env: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Points at which ``∀ binders, body`` is checked: every index of a finite type, two random
        vectors of a space."""
        out: list[dict[str, Any]] = [{}]
        for b in binders:
            t = b.type or self.infer_type(b.name, body)
            if t is None:
                raise FormalTypeError(f"cannot infer the type of the bound variable {b.name}")
            dom = self.ev(t, env) if not (isinstance(t, Binop)) else None
            if isinstance(dom, IndexType):
                values = list(range(dom.size))
            else:
                values = [self.random_of(t, env) for _ in range(2)]
            out = [{**o, b.name: v} for o in out for v in values]
        return out

    def nearby(self, p: Any) -> list[Any]:
        """``p`` and a random point at relative distance :data:`NEARBY` (checks of ``∀ᶠ x in 𝓝 p``)."""
        def move(x: Any) -> Any:
            if isinstance(x, tuple):
                return tuple(move(i) for i in x)
            if isinstance(x, Lin):
                return Lin(move(x.arr), x.ins)
            x = self.xp.asarray(x) if isinstance(x, (int, float)) else x
            size = max(int(np.prod(np.shape(x))), 1)
            step = NEARBY * (1.0 + self.norm(x)) / math.sqrt(size)
            return x + step * self.xp.asarray(self.rng.standard_normal(np.shape(x)))

        return [p, move(p)]

    def exists(self, node: Exists, env: Mapping[str, Any]) -> Truth:
        """``∃ μ, …`` with a conjunct ``HasEigenvalue A μ``: the witnesses are the eigenvalues of ``A``."""
        (b,) = node.binders
        stack, operator = [node.body], None
        while stack:
            n = stack.pop()
            if isinstance(n, App) and n.fn == Ident("Module.End.HasEigenvalue"):
                operator = n.args[0]
            stack.extend(n.children())
        if operator is None:
            raise FormalTypeError("∃ without an eigenvalue witness is outside the fragment")
        A = self.ev(operator, env)
        best = Truth(False, reason="no eigenvalue satisfies the body")
        for mu in self.backend.eigvalsh(self.arr(A)):
            t = self.prop(node.body, {**env, b.name: mu})
            if t.holds:
                return t
            best = t
        return best

    def inequality(self, node: Binop, env: Mapping[str, Any]) -> Truth:
        (x, nx), (y, ny) = self.val_nat(node.lhs, env), self.val_nat(node.rhs, env)
        lo, hi = (x, y) if node.op in ("≤", "<") else (y, x)
        scale = max(nx, ny, 1e-300)
        tol = tolerance(self.backend, self.dimension(), self.condition)
        gap = self.backend.to_float(lo - hi) / scale
        return Truth(gap <= tol, max(gap, 0.0), tol, f"{node.op} by {gap:.1e}")

    def dimension(self) -> int:
        return max([int(np.prod(s)) for s in self.binding.spaces.values() if isinstance(s, tuple)] + [1])

    def summands(self, node: Node, env: Mapping[str, Any], sign: float = 1.0) -> list[tuple[float, Any, float]]:
        if isinstance(node, Binop) and node.op in ("+", "-"):
            return self.summands(node.lhs, env, sign) + self.summands(node.rhs, env, sign * (1 if node.op == "+" else -1))
        value, nat = self.val_nat(node, env)
        return [(sign, value, nat)]

    def equation(self, lhs: Node, rhs: Node, env: Mapping[str, Any], record: bool = True) -> Truth:
        left, right = self.summands(lhs, env), self.summands(rhs, env)
        return self.compare_values(None, None, left, right, record=record)

    def compare_values(self, x: Any, y: Any, left: list, right: list, record: bool = True) -> Truth:
        """``lhs = rhs`` by the residual rule of :func:`pyspec.checks.compare`."""
        if x is not None:
            left, right = [(1.0, x, self.norm(x))], [(1.0, y, self.norm(y))]
        if isinstance(left[0][1], Truth) or isinstance(right[0][1], Truth):
            raise FormalTypeError("= between propositions")
        if any(isinstance(v, Fn) for _, v, _ in left + right):
            raise FormalTypeError("= between functions (use =ᶠ)")

        def total(parts: list) -> Any:
            acc: Any = 0
            for s, v, _ in parts:
                acc = self.add(acc, v, s)
            return acc

        lv, rv = total(left), total(right)
        if isinstance(lv, (int, float)) and lv == 0 and not isinstance(rv, (int, float)):
            lv = self.zero_like(rv)
        if isinstance(rv, (int, float)) and rv == 0 and not isinstance(lv, (int, float)):
            rv = self.zero_like(lv)
        if isinstance(lv, Lin) != isinstance(rv, Lin) or (isinstance(lv, Lin) and lv.ins != rv.ins):
            raise FormalTypeError("= between values of different types")
        la, ra = self.xp.asarray(self.arr(lv)), self.xp.asarray(self.arr(rv))
        if np.shape(la) != np.shape(ra):
            raise FormalTypeError(f"= between shapes {np.shape(la)} and {np.shape(ra)}")
        terms = {f"t{i}": self.xp.asarray(self.arr(self.scale(s, v))) if np.shape(self.arr(v)) == np.shape(la)
                 else s * v * self.xp.ones(np.shape(la))
                 for i, (s, v, _) in enumerate(right)}
        if not all(np.shape(t) == np.shape(la) for t in terms.values()):
            terms = {"rhs": ra}
        natural = max(sum(n for _, _, n in left), sum(n for _, _, n in right))
        tol = tolerance(self.backend, self.dimension(), self.condition)
        check = compare(self.backend, "lean", la, terms, tol, natural)
        if record and self.sides is not None:
            self.sides.append((la, ra))
        return Truth(check.holds, check.residual, check.tolerance, "=")

    sides: list | None = None
    neighbourhood = True  # False: check ∀ᶠ at the base point only (hypotheses that bind a variable)


_DERIVATIVE_HEADS = {"HasFDerivAt", "HasDerivAt", "DifferentiableAt", "ContDiffAt", "Function.Injective", "IsUnit",
                     "fderiv"}


def _pointwise(body: Node) -> bool:
    """Whether a ``∀ᶠ`` body is checked at a nearby point too: equations and invariances are; the
    existence, injectivity or invertibility of a derivative of the strategies' smooth models is checked at
    the base point only (it cannot fail nearby, and each check costs a derivative)."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, Ident) and node.name in _DERIVATIVE_HEADS or isinstance(node, Proj) and node.field == "IsInvertible":
            return False
        stack.extend(node.children())
    return True


def _curry(n: int, f: Callable[..., Any]) -> Fn:
    def build(args: tuple) -> Any:
        if len(args) == n:
            return f(*args)
        return Fn(lambda x: build(args + (x,)))

    return build(())


def _has_fderiv(ev: Evaluator, scalar: bool) -> Fn:
    def check(phi: Any, d: Any, x: Any) -> Truth:
        D = ev.deriv(phi, x)
        expected = D.arr if scalar else D
        return ev.compare_values(expected, d, [], [], record=False)

    return _curry(3, check)


def _finite_derivative(ev: Evaluator, phi: Any, x: Any) -> Truth:
    D = ev.deriv(phi, x)
    return Truth(ev.backend.all_finite(D.arr), reason="derivative finite")


_BUILTINS: dict[str, Callable[[Evaluator, Mapping[str, Any]], Any]] = {
    "ℝ": lambda ev, env: Space(()),
    "fderiv": lambda ev, env: _curry(2, lambda _k, phi: Fn(lambda x: ev.deriv(phi, x),
                                                           key=None if getattr(phi, "key", None) is None else ("fderiv", phi.key))),
    "HasFDerivAt": lambda ev, env: _has_fderiv(ev, False),
    "HasDerivAt": lambda ev, env: _has_fderiv(ev, True),
    "DifferentiableAt": lambda ev, env: _curry(3, lambda _k, phi, x: _finite_derivative(ev, phi, x)),
    "ContDiffAt": lambda ev, env: _curry(4, lambda _k, _n, phi, x: _finite_derivative(ev, phi, x)),
    # a global smoothness hypothesis is not checkable at finitely many points; the strategies' models are smooth
    "Differentiable": lambda ev, env: _curry(2, lambda _k, phi: Truth(True, reason="smooth by construction")),
    "ContDiff": lambda ev, env: _curry(3, lambda _k, _n, phi: Truth(True, reason="smooth by construction")),
    "inner": lambda ev, env: _curry(3, lambda _k, x, y: ev.xp.sum(ev.xp.ravel(ev.xp.asarray(x)) * ev.xp.ravel(ev.xp.asarray(y)))),
    "𝓝": lambda ev, env: Fn(Filter),
    "Fin": lambda ev, env: Fn(lambda n: IndexType(int(n))),
    "Function.Injective": lambda ev, env: Fn(ev.injective),
    "IsUnit": lambda ev, env: Fn(ev.invertible),
    "Ring.inverse": lambda ev, env: Fn(ev.inverse),
    "True": lambda ev, env: Truth(True, reason="True"),
    "False": lambda ev, env: Truth(False, reason="False"),
    "ContinuousLinearMap.id": lambda ev, env: _curry(2, lambda _k, s: Lin(ev.xp.eye(int(np.prod(s.shape))), (1,))),
    "ContinuousLinearMap.compL": lambda ev, env: _curry(4, lambda _k, _d, _e, _v: LazyLin(
        lambda A: LazyLin(lambda B: ev.compose(A, B)))),
    "Module.End.HasEigenvalue": lambda ev, env: _curry(2, lambda A, mu: _eigen(ev, A, mu)),
}


def _eigen(ev: Evaluator, A: Any, mu: Any) -> Truth:
    eig = ev.backend.eigvalsh(ev.arr(A))
    scale = max(abs(ev.backend.to_float(e)) for e in eig) or 1.0
    gap = min(abs(ev.backend.to_float(e) - ev.backend.to_float(mu)) for e in eig) / scale
    tol = tolerance(ev.backend, ev.dimension(), ev.condition)
    return Truth(gap <= tol, gap, tol, "eigenvalue")


# ---------------------------------------------------------------------- statements


def _strip(t: Node) -> tuple[list[tuple[str, Node | None]], Node]:
    """Peel ``∀ x,`` and ``∀ᶠ x in F,`` off a hypothesis: the quantified names (with the filter or
    ``None``) and the core proposition."""
    quants: list[tuple[str, Node | None]] = []
    while True:
        if isinstance(t, Forall) and t.bound is None:
            quants += [(b.name, None) for b in t.binders]
            t = t.body
        elif isinstance(t, Eventually):
            quants.append((t.var.name, t.filter))
            t = t.body
        else:
            return quants, t


def _pattern(node: Node, qnames: list[str], unbound: set[str]) -> tuple[str, list[str]] | None:
    """``u``, ``(u : T)`` or ``u q₁ … qⱼ`` (``qᵢ`` quantified) with ``u`` unbound."""
    if isinstance(node, Ascribe):
        node = node.expr
    if isinstance(node, Ident) and node.name in unbound:
        return node.name, []
    if isinstance(node, App) and isinstance(node.fn, Ident) and node.fn.name in unbound:
        names = [a.name for a in node.args if isinstance(a, Ident)]
        if len(names) == len(node.args) and all(n in qnames for n in names):
            return node.fn.name, names
    return None


class _Binder:
    """Binding of hypothesis-defined variables (:func:`evaluate_statement`, step 1)."""

    def __init__(self, ev: Evaluator, env: dict[str, Any], unbound: set[str]) -> None:
        self.ev, self.env, self.unbound = ev, env, unbound

    def ready(self, node: Node, exclude: set[str]) -> bool:
        return not ((free_vars(node) - exclude) & self.unbound)

    def function_of(self, args: list[str], compute: Callable[[dict[str, Any]], Any], key: Any) -> Any:
        if not args:
            return compute({})

        def build(i: int, bound: dict[str, Any]) -> Any:
            if i == len(args):
                return compute(bound)
            return Fn(lambda x: build(i + 1, {**bound, args[i]: x}), key=key if i == 0 else None)

        return build(0, {})

    def key(self, core: Node, exclude: set[str]) -> Any:
        keys = tuple(self.ev.point_key(self.env[v]) if v in self.env else ("global", v)
                     for v in sorted(free_vars(core) - exclude))
        return None if any(k is None for k in keys) else ("bound", show(core), keys)

    def bind(self, hyp: Node) -> tuple[str, ...]:
        ev, env = self.ev, self.env
        quants, core = _strip(hyp)
        qnames = [q for q, _ in quants]
        if isinstance(core, App) and core.fn in (Ident("HasFDerivAt"), Ident("HasDerivAt")) and len(core.args) == 3:
            phi, d, x = core.args
            scalar = core.fn == Ident("HasDerivAt")
            if (isinstance(d, App) and isinstance(d.fn, Ident) and d.fn.name in self.unbound and d.args == (x,)
                    and not qnames and self.ready(phi, set()) and self.ready(x, set())):
                # `HasFDerivAt φ (u x) x`: u is the derivative function of φ
                fn = ev.ev(phi, env)
                env[d.fn.name] = Fn(lambda z: ev.deriv(fn, z), key=("fderiv", getattr(fn, "key", None)))
                return (d.fn.name,)
            target = _pattern(d, qnames, self.unbound)
            if target is None or not (self.ready(phi, set(qnames)) and self.ready(x, set(qnames))):
                return ()
            name, args = target

            def derivative(bound: dict[str, Any]) -> Any:
                local = {**env, **bound}
                D = ev.deriv(ev.ev(phi, local), ev.ev(x, local))
                return D.arr if scalar else D

            env[name] = self.function_of(args, derivative, self.key(core, set(qnames) | {name}))
            return (name,)
        if isinstance(core, Binop) and core.op == "=":
            lhs, rhs = core.lhs, core.rhs
            if isinstance(lhs, Binop) and lhs.op == "∘L":
                for mine, other, left in ((lhs.rhs, lhs.lhs, True), (lhs.lhs, lhs.rhs, False)):
                    target = _pattern(mine, qnames, self.unbound)
                    if target and self.ready(other, set(qnames)) and self.ready(rhs, set(qnames)):
                        name, args = target

                        def solve(bound: dict[str, Any], other: Node = other, left: bool = left) -> Any:
                            local = {**env, **bound}
                            A, B = ev.ev(other, local), ev.ev(rhs, local)
                            return ev.solve_left(A, B) if left else ev.compose(B, ev.inverse(A))

                        env[name] = self.function_of(args, solve, self.key(core, set(qnames) | {name}))
                        return (name,)
            if (isinstance(lhs, App) and lhs.fn == Ident("inner") and len(lhs.args) == 3
                    and isinstance(rhs, App) and len(rhs.args) == 2):
                target = _pattern(lhs.args[1], qnames, self.unbound)
                if target and len(target[1]) == 1 and self.ready(rhs.fn, set(qnames)):
                    R = ev.ev(rhs.fn, env)
                    env[target[0]] = Lin(R.arr, (1,))
                    return (target[0],)
            if isinstance(lhs, App) and isinstance(lhs.fn, Ident) and lhs.fn.name in self.unbound and len(lhs.args) == 1:
                arg = lhs.args[0]
                parts = arg.items if isinstance(arg, Tuple) else (arg,)
                names = [p.name for p in parts if isinstance(p, Ident) and p.name in qnames]
                if len(names) == len(parts) and self.ready(rhs, set(names)):
                    def value(p: Any, names: list[str] = names, tupled: bool = isinstance(arg, Tuple)) -> Any:
                        vals = p if tupled else (p,)
                        return ev.ev(rhs, {**env, **dict(zip(names, vals))})

                    env[lhs.fn.name] = Fn(value, key=self.key(core, set(names) | {lhs.fn.name}))
                    return (lhs.fn.name,)
        return ()


def _is_function_type(t: Node) -> bool:
    return isinstance(t, Binop) and t.op == "→"


def _defined(name: str, hyps: list) -> bool:
    """Whether some hypothesis could define ``name`` (it occurs as a derivative or an equation's unknown)."""
    for h in hyps:
        _, core = _strip(h.type)
        if isinstance(core, App) and core.fn in (Ident("HasFDerivAt"), Ident("HasDerivAt")) and len(core.args) == 3:
            if name in free_vars(core.args[1]):
                return True
        if isinstance(core, Binop) and core.op == "=" and name in free_vars(core.lhs):
            return True
    return False


def evaluate_statement(
    decl: Declaration | str,
    binding: Binding,
    backend: Any,
    cache: dict[Any, Any] | None = None,
    ignore: tuple[str, ...] = (),
) -> StatementResult:
    """Evaluate a Lean statement on an instance (module docstring).

    Parameters
    ----------
    decl : Declaration or str
        The statement (or its name under ``lean/``).
    binding : Binding
        The instance under Lean names.
    backend : Backend
        ``pyspec.backends.get_backend(None | D)``.
    cache : dict, optional
        Derivative cache shared by statements evaluated on the same instance.
    ignore : tuple of str
        Hypotheses not checked (a negative control evaluates the conclusion where they fail).

    Raises
    ------
    pyspec.formal.values.FormalTypeError, UnboundError
        The statement does not evaluate on the instance (ill-typed, or a name without a value).
    """
    if isinstance(decl, str):
        decl = declaration(decl)
    ev = Evaluator(backend, binding, cache)
    env: dict[str, Any] = {}
    for name, s in binding.spaces.items():
        env[name] = Space(tuple(s)) if isinstance(s, tuple) else s
    ev.types = {b.name: b.type for b in decl.binders}
    data = [b for b in decl.binders if b.kind != "[" and is_data_type(b.type)]
    hyps = [b for b in decl.binders if b.kind == "(" and not is_data_type(b.type)]
    for b in data:
        if b.name in binding.values and not isinstance(binding.values[b.name], str):
            value = binding.values[b.name]
            env[b.name] = np.asarray(value) if ev.host and type(value).__module__.startswith("jax") else value
    with backend.context():
        for b in data:  # data given as Lean terms over the others (e.g. ``v = charDirection T a``)
            if isinstance(binding.values.get(b.name), str):
                given = {k: v for k, v in binding.values.items() if not isinstance(v, str)}
                env[b.name] = ev.ev(parse_term(binding.values[b.name]), {**given, **env})
    unbound = {b.name for b in data if b.name not in env}
    binder = _Binder(ev, env, unbound)
    bound_by: dict[str, tuple[str, ...]] = {}
    with backend.context():
        for final in (False, True):
            progress = True
            while progress:
                progress = False
                for h in hyps:
                    if h.name in bound_by:
                        continue
                    names = binder.bind(h.type)
                    if names:
                        bound_by[h.name] = names
                        unbound -= set(names)
                        progress = True
            # data no hypothesis defines are arbitrary: draw them (functions first, so that their
            # derivatives can then be bound), then bind again
            for b in data:
                if b.name not in env and (final or _is_function_type(b.type) and not _defined(b.name, hyps)):
                    env[b.name] = ev.random_of(b.type, env)
                    unbound.discard(b.name)
        results = []
        for h in hyps:
            if h.name in ignore:
                continue
            quants, core = _strip(h.type)
            if h.name in bound_by and isinstance(core, App) and core.fn in (Ident("HasFDerivAt"), Ident("HasDerivAt")):
                truth = Truth(True, reason=f"binds {', '.join(bound_by[h.name])}")
            else:
                ev.neighbourhood = h.name not in bound_by  # a binding equation holds near θ by construction
                truth = ev.prop(h.type, env)
                ev.neighbourhood = True
            results.append(HypothesisResult(h.name, truth, bound_by.get(h.name, ())))
        ev.sides = []
        conclusion = ev.prop(decl.conclusion, env)
    return StatementResult(decl.name, tuple(results), conclusion, tuple(ev.sides), env)
