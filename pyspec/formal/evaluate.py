"""Evaluate a parsed Lean statement on a concrete finite-dimensional instance.

Given a :class:`~pyspec.formal.extract.Declaration` and a :class:`Binding` (the instance: spaces
``E = ℝⁿ`` …, the model's functions and points under their Lean names), :func:`evaluate_statement`

1. binds every hypothesis that *defines* a variable: ``HasFDerivAt φ φ' x`` binds ``φ'`` to the
   backend derivative of ``φ`` at ``x`` (under ``∀ᶠ ϑ in 𝓝 θ`` / ``∀ x`` as a function of ``ϑ``/``x``);
   ``A ∘L u = B`` binds ``u = A⁻¹B``; ``u ∘L A = B`` binds ``u = BA⁻¹``; ``inner (U x) y = R x y``
   binds ``U``; ``φ (x, y) = e`` binds ``φ``; ``u = e`` binds ``u``;
2. draws the remaining data (explicit vectors ``δ``, ``g``, …) at random from their types;
3. checks every other hypothesis numerically (``∀ᶠ`` at the base point and a nearby point, ``∀`` at
   random points, equalities by relative residual, invertibility by condition number);
4. evaluates the conclusion (both sides of each equation as arrays).

Residuals and tolerances are those of :mod:`pyspec.checks` (:func:`pyspec.checks.compare`, with the
sums' terms and the natural scale of products in the denominator, and
``tolerance = SAFETY · d · κ · eps``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from pyspec.formal.algebra import Binding
from pyspec.formal.extract import Declaration, declaration
from pyspec.formal.syntax import App, Ascribe, Binop, Eventually, Forall, Ident, Node, Tuple, parse_term, show
from pyspec.formal.terms import Evaluator, UnboundError, free_vars, is_data_type
from pyspec.formal.values import Fn, Lin, Space, Truth

__all__ = ["Binding", "HypothesisResult", "StatementResult", "Evaluator", "evaluate_statement", "UnboundError"]


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
            if isinstance(lhs, Ident) and lhs.name in self.unbound and not qnames and self.ready(rhs, set()):
                env[lhs.name] = ev.ev(rhs, env)  # `u = e`: u is e
                return (lhs.name,)
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
        ``pyspec.formal.check.formal_backend(None | D)`` (float64 on dual numbers, or mpmath).
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
