"""Evaluation of Lean terms and propositions of the fragment (:mod:`pyspec.formal.syntax`) on an instance:
names (binders, builtins such as ``fderiv``, ``HasFDerivAt``, ``inner``, and the project's definitions,
unfolded from ``lean/``), application, operators, binders (``fun``, ``∀``, ``∃``, ``∀ᶠ``, ``=ᶠ``), sums,
and equations judged by the residual and tolerance rules of :mod:`pyspec.checks`.

Beyond linear maps (curried tensors) and functions: finite index types (``Fin N``, a basis' ``κ``) with
vectors ``ι → ℝ`` applied to indices and ``∑ i, …``; families ``Xs : ι → Type`` with dependent points
``∀ i, Xs i`` (tuples) and ``ContinuousMultilinearMap`` values (``.compContinuousMultilinearMap``);
``Matrix`` values (``*``, ``ᵀ``, entries ``W i j``); ``Module.finrank`` of ``LinearMap.range`` /
``LinearMap.ker`` (numerical rank with a gap, :mod:`pyspec.formal.builtins`); ``.IsSymmetric``,
``Function.Surjective``; ``∃ Q : E → ℝ, ∀ θ, HasFDerivAt Q (G θ) θ`` (the Poincaré criterion with a
witness, :meth:`Evaluator.potential`), ``∃ μ`` over eigenvalues; ``↔`` of both sides;
``HasDerivAt (fun s => …) 0 t`` with a product-rule scale (:meth:`Evaluator.stationary_along_curves`);
``Real.exp``."""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, Mapping

import numpy as np

from pyspec.checks import compare, tolerance
from pyspec.formal.algebra import Algebra
from pyspec.formal.builtins import BUILTINS
from pyspec.formal.extract import Declaration, declaration
from pyspec.formal.syntax import (
    App, Ascribe, BigSum, Binder, Binop, Eventually, EventuallyEq, Exists, Forall, Ident, Lam, Node, Norm, Num,
    Postfix, Proj, SetOf, Tuple, Unop, show,
)
from pyspec.formal.values import Basis, Filter, Fn, FormalTypeError, IndexType, LazyLin, Lin, Space, Truth, conj

__all__ = ["Evaluator", "UnboundError", "free_vars", "is_data_type", "NEARBY"]

NEARBY = 1e-3
"""Relative distance of the nearby points at which ``∀ᶠ x in 𝓝 p`` hypotheses are checked."""

class UnboundError(LookupError):
    """A name of the statement has no value (not a binder, a definition or a supported builtin)."""


_PROP_HEADS = {
    "HasFDerivAt", "HasDerivAt", "DifferentiableAt", "Differentiable", "ContDiffAt", "ContDiff", "IsEquivariantAt",
    "IsGoodPosition", "IsEquivariant", "IsSymmetry", "IsFixedPointSet", "Function.Injective",
    "Function.Surjective", "IsUnit",
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
        return t.fn.name in ("Fin", "Set", "Module.Basis", "ContinuousMultilinearMap", "Matrix")
    if isinstance(t, Forall) and t.bound is None and len(t.binders) == 1:  # a Pi type ∀ i, Xs i
        body = t.body
        return (isinstance(body, App) and isinstance(body.fn, Ident) and body.fn.name not in _PROP_HEADS
                and body.args == (Ident(t.binders[0].name),) and body.fn.name[:1].isupper())
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


class Evaluator(Algebra):
    """Evaluates the terms of one statement on one instance with a backend."""

    # ------------------------------------------------------------------ terms
    def lookup(self, name: str, env: Mapping[str, Any]) -> Any:
        if name in env:
            return env[name]
        if name in BUILTINS:
            return BUILTINS[name](self, env)
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
        if name in env or name in BUILTINS or "." in name:
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
        if field == "IsSymmetric":  # ⟪A x, y⟫ = ⟪x, A y⟫ on ℝⁿ: A = Aᵀ
            if not isinstance(value, Lin) or np.ndim(value.arr) != 2:
                raise FormalTypeError(".IsSymmetric of something other than an endomorphism of ℝⁿ")
            return self.compare_values(value.arr, self.xp.transpose(value.arr), [], [], record=False)
        if field in ("1", "2") and isinstance(value, tuple):
            return value[int(field) - 1]
        if field == "compContinuousMultilinearMap":  # (g.comp… A) x = g (A x)
            return Fn(lambda A: Fn(lambda x: self.call(value, self.call(A, x))))
        if field == "flip":
            return LazyLin(lambda b: LazyLin(lambda a: self.call(self.call(value, a), b)))
        if field == "repr" and isinstance(value, Basis):
            def coords(x: Any) -> Any:
                c = self.xp.solve(value.matrix, self.xp.ravel(x))
                return Fn(lambda l: c[int(l)])
            return Fn(coords)
        raise FormalTypeError(f"unsupported projection .{field} of a {type(value).__name__}")

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
            indexed = False
            for a in node.args:
                arg, nat_a = self.val_nat(a, env, want_nat)
                if isinstance(arg, int) and not isinstance(cur, (Lin, Fn)) and np.ndim(cur) >= 1:
                    cur, indexed = cur[arg], True  # an entry of a vector or matrix: the array's scale
                    continue
                if isinstance(cur, Lin):
                    nat = (nat if linear else self.norm(cur) if want_nat else 0.0) * nat_a
                    linear = True
                else:
                    linear = False
                cur = self.call(cur, arg)
            return cur, (nat if linear or indexed else self.norm(cur) if want_nat else 0.0)
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
        elif isinstance(node, Postfix) and node.op == "ᵀ":
            v, n = self.val_nat(node.arg, env, want_nat)
            if isinstance(v, Lin) or np.ndim(v) != 2:
                raise FormalTypeError("ᵀ of something other than a matrix")
            return self.xp.transpose(v), n
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
            if not (isinstance(x, Lin) or isinstance(y, Lin)) and np.ndim(x) == 2 and np.ndim(y) == 2:
                if np.shape(x)[1] != np.shape(y)[0]:
                    raise FormalTypeError(f"Matrix product of shapes {np.shape(x)} and {np.shape(y)}")
                return x @ y, nx * ny  # Matrix multiplication
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
                            if _is_matrix(t):
                                break
                            t = t.rhs if isinstance(t, Binop) and t.op in ("→", "→L[ℝ]") else None
                        else:
                            if isinstance(t, Binop) and t.op in ("→", "→L[ℝ]", "≃L[ℝ]"):
                                return t.lhs
                        if _is_matrix(t):  # Matrix m n ℝ applied to (row, column) indices
                            rest = k - sum(1 for _ in _arrows(self.types.get(node.fn.name)))
                            if 0 <= rest < 2:
                                return t.args[rest]  # type: ignore[union-attr]
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
                if a.holds and b.holds:  # the residuals of both sides, as for ∧
                    return conj([a, b])._replace(reason="↔ (both sides hold)")
                return Truth(a.holds == b.holds, reason=f"↔ ({a.holds}, {b.holds})")
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
        if (isinstance(node, App) and node.fn == Ident("HasDerivAt") and len(node.args) == 3
                and isinstance(node.args[0], Lam) and node.args[1] == Num("0")):
            return self.stationary_along_curves(node.args[0], node.args[2], env)
        if isinstance(node, App) and node.fn in (Ident("HasFDerivAt"), Ident("HasDerivAt")) and len(node.args) == 3:
            return self.has_derivative(node, env)
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
            dom = self.ev(t, env) if not isinstance(t, (Binop, Forall)) else None
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
        """``∃ μ, …`` with a conjunct ``HasEigenvalue A μ``: the witnesses are the eigenvalues of ``A``;
        ``∃ Q : E → ℝ, ∀ θ, HasFDerivAt Q (G θ) θ``: :meth:`potential`."""
        (b,) = node.binders
        body = node.body
        if (isinstance(body, Forall) and len(body.binders) == 1 and isinstance(body.body, App)
                and body.body.fn == Ident("HasFDerivAt") and body.body.args[0] == Ident(b.name)
                and body.body.args[2] == Ident(body.binders[0].name)):
            return self.potential(b.name, body, env)
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

    def potential(self, name: str, body: Forall, env: Mapping[str, Any]) -> Truth:
        """``∃ Q, ∀ θ, HasFDerivAt Q (G θ) θ`` for a field ``G`` of covectors on ``E = ℝⁿ``: by the
        Poincaré lemma such a ``Q`` exists iff ``DG`` is symmetric everywhere. False: the asymmetry of
        ``DG`` at a sampled point is the counterexample. True: the witness ``Q(θ) = ∫₀¹ G(sθ) θ ds``,
        by the midpoint rule ``G(θ/2) θ`` (exact at every precision for a linear field ``G``, such as the
        statements' ``B θ`` with ``B : E →L[ℝ] E →L[ℝ] ℝ``), must satisfy the body."""
        (var,) = body.binders
        if not isinstance(body.body, App):  # exists() calls this for a body ``HasFDerivAt Q (G θ) θ`` only
            raise FormalTypeError("∃ potential: the body is not HasFDerivAt Q (G θ) θ")
        field = self.lam(Lam((var,), body.body.args[1]), env)
        truths = []
        for sample in self.samples((var,), body.body, env):
            D = self.deriv(field, sample[var.name])
            if np.ndim(D.arr) != 2:
                raise FormalTypeError("∃ potential of a field that is not a covector field on ℝⁿ")
            truths.append(self.compare_values(D.arr, self.xp.transpose(D.arr), [], [], record=False))
        symmetric = conj(truths)
        if not symmetric.holds:
            return Truth(False, symmetric.residual, symmetric.tolerance, "no potential: DG is not symmetric")
        def witness(x: Any) -> Any:
            return self.call(self.call(field, 0.5 * x), x)

        found = self.prop(body, {**env, name: Fn(witness, key=None)})
        return conj([symmetric, found])

    def has_derivative(self, node: App, env: Mapping[str, Any]) -> Truth:
        """``HasFDerivAt φ φ' x`` (``HasDerivAt``): the backend derivative of ``φ`` at ``x`` equals ``φ'``,
        with the natural scale of ``φ'``'s terms (as for an equation: a claimed derivative such as
        ``-2 * noiseTraceComp A G``, a difference of sums, is judged against the size of its summands)."""
        phi, claimed, at = node.args
        D = self.deriv(self.ev(phi, env), self.ev(at, env))
        expected = D.arr if node.fn == Ident("HasDerivAt") else D
        right = self.summands(claimed, env)
        return self.compare_values(None, None, [(1.0, expected, self.norm(expected))], right, record=False)

    def stationary_along_curves(self, fun: Lam, at: Node, env: Mapping[str, Any]) -> Truth:
        """``HasDerivAt (fun s => body) 0 t``: the derivative is 0 to round-off. Its natural scale (an exact
        0 has none) is that of the product rule: ``Σₖ nat(body) ‖cₖ'(t)‖ / ‖cₖ(t)‖`` over the occurrences
        ``cₖ s`` of curves in the body (each factor in turn differentiated), exact for bodies linear in
        each occurrence such as ``½ B (θ s) (θ s)``."""
        (var,) = fun.binders
        t = self.ev(at, env)
        D = self.arr(self.deriv(self.lam(fun, env), t))
        _, nat = self.val_nat(fun.body, {**env, var.name: t})
        stack, ratios = [fun.body], []
        while stack:
            n = stack.pop()
            if isinstance(n, App) and n.args == (Ident(var.name),) and isinstance(n.fn, Ident) and n.fn.name in env:
                curve = env[n.fn.name]
                ratios.append(self.norm(self.arr(self.deriv(curve, t))) / max(self.norm(self.call(curve, t)), 1e-300))
            else:
                stack.extend(n.children())
        natural = max(nat * sum(ratios), self.norm(D))
        tol = tolerance(self.backend, self.dimension(), self.condition)
        residual = self.norm(D) / natural if natural > 0 else 0.0
        if self.sides is not None:
            self.sides.append((D, self.zero_like(D)))
        return Truth(residual <= tol, residual, tol, "d/ds = 0 (product-rule scale)")

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
        # Truth of the equation at this instance: the residual within tolerance. (``check.holds`` is
        # three-valued; an exact 0 = 0, which pyspec reports as a vacuous check, is true here.)
        return Truth(check.residual <= check.tolerance, check.residual, check.tolerance, "=")

    sides: list | None = None
    neighbourhood = True  # False: check ∀ᶠ at the base point only (hypotheses that bind a variable)


_DERIVATIVE_HEADS = {"HasFDerivAt", "HasDerivAt", "DifferentiableAt", "ContDiffAt", "Function.Injective",
                     "Function.Surjective", "IsUnit",
                     "fderiv"}


def _is_matrix(t: Any) -> bool:
    return isinstance(t, App) and t.fn == Ident("Matrix") and len(t.args) == 3


def _arrows(t: Any) -> Iterator[Node]:
    """The argument types of a function type ``A → B → …`` (before its result)."""
    while isinstance(t, Binop) and t.op in ("→", "→L[ℝ]"):
        yield t.lhs
        t = t.rhs


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
