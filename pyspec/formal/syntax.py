"""A recursive-descent (Pratt) parser for the fragment of Lean 4 term syntax the registered statements use.

Supported fragment (see :data:`FRAGMENT`): identifiers (dotted names, primes, subscripts), numerals,
application by juxtaposition, parentheses, type ascriptions ``(e : T)``, tuples ``(a, b)``, the binary
operators ``↔ → ∨ ∧ = ≠ < ≤ ∈ ⊆ + - * / • ^ ∘L ∘ ×`` and the arrows ``→L[ℝ] ≃L[ℝ] →ₗ[ℝ]`` with
Lean's precedences, prefix ``- ¬ ⇑ ↑``, postfix ``⁻¹`` and ``ᵀ``, projections ``e.symm``, ``(e).IsInvertible``,
``p.1``, binders ``fun x => e``, ``∀ x y, e``, ``∀ x : T, e``, ``∀ (x : T) (y : U), e``,
``∀ x ∈ s, e``, ``∃ x : T, e``, ``∀ᶠ x in F, e``, ``f =ᶠ[F] g``, the set-builder ``{x | P x}``, the norm
``‖x‖`` and finite sums ``∑ i, e``. Declarations are ``theorem``/``lemma``/``def`` headers with
``(explicit)``, ``{implicit}`` and ``[instance]`` binder groups.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

__all__ = [
    "FRAGMENT", "LeanSyntaxError", "Token", "tokenize", "Node", "Ident", "Num", "App", "Binop", "Unop", "Postfix",
    "Proj", "Ascribe", "Tuple", "Binder", "Lam", "Forall", "Exists", "Eventually", "EventuallyEq", "SetOf",
    "Norm", "BigSum", "Parser", "parse_term", "show",
]

FRAGMENT: tuple[str, ...] = (
    "identifiers (dotted, primes, subscripts), numerals", "application", "( )", "(e : T) ascription/coercion",
    "(a, b) tuples", "p.1 p.2 .symm .inverse .IsInvertible .IsSymmetric projections", "↔ → ∨ ∧ ¬", "= ≠ < ≤ ∈ ⊆",
    "+ - * / • ^ ⁻¹ ᵀ (prefix -)", "∘L ∘", "→ ×  →L[ℝ] ≃L[ℝ] →ₗ[ℝ] (types)", "⇑ ↑ coercions",
    "fun x => e", "∀ x y, e / ∀ x : T, e / ∀ (x : T), e / ∀ x ∈ s, e", "∃ x : T, e", "∀ᶠ x in 𝓝 p, e",
    "f =ᶠ[𝓝 x] g", "{x | P x}", "‖x‖", "∑ i, e",
)
"""The Lean syntax the parser reads (reported by ``python -m pyspec.formal fragment``)."""


class LeanSyntaxError(ValueError):
    """A statement uses Lean syntax outside :data:`FRAGMENT` (or is malformed)."""


@dataclasses.dataclass(frozen=True)
class Token:
    kind: str  # "id", "num", "op", "proj"
    text: str
    pos: int
    space_before: bool


_MULTI = sorted([
    ":=", "=>", "↦", "∀ᶠ", "=ᶠ[", "→L[ℝ]", "≃L[ℝ]", "→ₗ[ℝ]", "∘L", "⁻¹", "≠", "≤", "≥", "↔", "→", "∧", "∨",
    "¬", "∈", "∉", "⊆", "×", "•", "∘", "∑", "∀", "∃", "⇑", "↑", "‖", "⟨", "⟩", "(", ")", "{", "}", "[", "]",
    ",", ":", "|", "+", "-", "*", "/", "^", "=", "<", ">", "_",
], key=len, reverse=True)


def _ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _ident_char(c: str) -> bool:
    return c.isalnum() or c in "_'!?"


def strip_comments(text: str) -> str:
    """``text`` with ``-- …`` and (nested) ``/- … -/`` comments replaced by spaces (positions kept)."""
    out, i, depth = [], 0, 0
    while i < len(text):
        if text.startswith("/-", i):
            depth += 1
            out.append("  ")
            i += 2
        elif depth and text.startswith("-/", i):
            depth -= 1
            out.append("  ")
            i += 2
        elif depth:
            out.append("\n" if text[i] == "\n" else " ")
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = len(text) if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    """Tokens of a comment-free Lean text."""
    tokens: list[Token] = []
    i, space = 0, True
    while i < len(text):
        c = text[i]
        if c.isspace():
            i, space = i + 1, True
            continue
        if c == "." and tokens and not space and tokens[-1].text in (")", "⟩") and i + 1 < len(text) and _ident_start(text[i + 1]):
            j = i + 1
            while j < len(text) and _ident_char(text[j]):
                j += 1
            tokens.append(Token("proj", text[i + 1:j], i, False))
            i, space = j, False
            continue
        if _ident_start(c) and not (c == "_" and (i + 1 >= len(text) or not _ident_char(text[i + 1]))):
            j = i + 1
            while j < len(text):
                if _ident_char(text[j]):
                    j += 1
                elif text[j] == "." and j + 1 < len(text) and (_ident_start(text[j + 1]) or text[j + 1].isdigit()):
                    j += 1
                else:
                    break
            word = text[i:j]
            if word == "Type" and j < len(text) and text[j] == "*":
                j, word = j + 1, "Type*"
            tokens.append(Token("id", word, i, space))
            i, space = j, False
            continue
        if c.isdigit():
            j = i
            while j < len(text) and text[j].isdigit():
                j += 1
            tokens.append(Token("num", text[i:j], i, space))
            i, space = j, False
            continue
        for op in _MULTI:
            if text.startswith(op, i):
                tokens.append(Token("op", op, i, space))
                i, space = i + len(op), False
                break
        else:  # outside the fragment (proof syntax); an error only if the parser meets it
            tokens.append(Token("other", c, i, space))
            i, space = i + 1, False
    return tokens


# ---------------------------------------------------------------------------------------------- AST


class Node:
    """A term of the fragment."""

    def children(self) -> Iterator["Node"]:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for v in value:
                    if isinstance(v, Node):
                        yield v
                    elif isinstance(v, Binder) and v.type is not None:
                        yield v.type

    def __str__(self) -> str:
        return show(self)


@dataclasses.dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclasses.dataclass(frozen=True)
class Num(Node):
    value: str


@dataclasses.dataclass(frozen=True)
class App(Node):
    fn: Node
    args: tuple[Node, ...]


@dataclasses.dataclass(frozen=True)
class Binop(Node):
    op: str
    lhs: Node
    rhs: Node


@dataclasses.dataclass(frozen=True)
class Unop(Node):
    op: str
    arg: Node


@dataclasses.dataclass(frozen=True)
class Postfix(Node):
    op: str
    arg: Node


@dataclasses.dataclass(frozen=True)
class Proj(Node):
    arg: Node
    field: str


@dataclasses.dataclass(frozen=True)
class Ascribe(Node):
    expr: Node
    type: Node


@dataclasses.dataclass(frozen=True)
class Tuple(Node):
    items: tuple[Node, ...]


@dataclasses.dataclass(frozen=True)
class Binder:
    """One bound name with an optional type (``x``, ``(x : T)``, ``_``)."""

    name: str
    type: Node | None = None


@dataclasses.dataclass(frozen=True)
class Lam(Node):
    binders: tuple[Binder, ...]
    body: Node


@dataclasses.dataclass(frozen=True)
class Forall(Node):
    binders: tuple[Binder, ...]
    body: Node
    bound: Node | None = None  # ∀ x ∈ s, body


@dataclasses.dataclass(frozen=True)
class Exists(Node):
    binders: tuple[Binder, ...]
    body: Node


@dataclasses.dataclass(frozen=True)
class Eventually(Node):
    var: Binder
    filter: Node
    body: Node


@dataclasses.dataclass(frozen=True)
class EventuallyEq(Node):
    filter: Node
    lhs: Node
    rhs: Node


@dataclasses.dataclass(frozen=True)
class SetOf(Node):
    var: Binder
    body: Node


@dataclasses.dataclass(frozen=True)
class Norm(Node):
    arg: Node


@dataclasses.dataclass(frozen=True)
class BigSum(Node):
    binders: tuple[Binder, ...]
    body: Node


# ------------------------------------------------------------------------------------------- parser

# (left binding power, right binding power) of infix operators; right-associative ones have rbp = lbp
_INFIX: dict[str, tuple[int, int]] = {
    "↔": (20, 21), "→": (25, 25), "→L[ℝ]": (25, 25), "≃L[ℝ]": (25, 25), "→ₗ[ℝ]": (25, 25),
    "∨": (30, 30), "∧": (35, 35), "×": (35, 35),
    "=": (50, 51), "≠": (50, 51), "<": (50, 51), "≤": (50, 51), ">": (50, 51), "≥": (50, 51),
    "∈": (50, 51), "∉": (50, 51), "⊆": (50, 51), "=ᶠ[": (50, 51),
    "+": (65, 66), "-": (65, 66), "*": (70, 71), "/": (70, 71), "•": (73, 73), "^": (75, 75),
    "∘L": (80, 80), "∘": (90, 90),
}
_PREFIX = {"-": 75, "¬": 40, "⇑": 1024, "↑": 1024}
_STOP = {")", "]", "}", "⟩", ",", ":", ":=", "=>", "↦", "|", "in", "‖"}
MAX = 1024


class Parser:
    """Pratt parser over a token list."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    # -- helpers
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, text: str) -> bool:
        t = self.peek()
        return t is not None and t.text == text and t.kind != "proj"

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise LeanSyntaxError("unexpected end of statement")
        self.i += 1
        return t

    def expect(self, text: str) -> Token:
        t = self.next()
        if t.text != text:
            raise LeanSyntaxError(f"expected {text!r}, found {t.text!r} at {t.pos}")
        return t

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    # -- terms
    def term(self, rbp: int = 0) -> Node:
        left = self.prefix()
        while True:
            t = self.peek()
            if t is None:
                return left
            if t.kind == "proj":  # (e).field
                self.next()
                left = Proj(left, t.text)
                continue
            if t.text in ("⁻¹", "ᵀ"):
                self.next()
                left = Postfix(t.text, left)
                continue
            if t.kind == "op" and t.text in _INFIX:
                lbp, nbp = _INFIX[t.text]
                if lbp < rbp:
                    return left
                self.next()
                if t.text == "=ᶠ[":
                    flt = self.term()
                    self.expect("]")
                    left = EventuallyEq(flt, left, self.term(nbp))
                else:
                    left = Binop(t.text, left, self.term(nbp))
                continue
            if self.starts_argument(t) and rbp < MAX:
                args = []
                while (t := self.peek()) is not None and self.starts_argument(t):
                    args.append(self.argument())
                left = App(left, tuple(args)) if not isinstance(left, App) else App(left.fn, left.args + tuple(args))
                continue
            return left

    def starts_argument(self, t: Token) -> bool:
        if t.kind in ("id", "num"):
            return t.text not in ("in", "ᵀ")
        return t.text in ("(", "⟨", "⇑", "↑")

    def argument(self) -> Node:
        t = self.peek()
        assert t is not None
        if t.text in ("⇑", "↑"):
            self.next()
            return Unop(t.text, self.argument())
        if t.text == "fun":  # a trailing `f fun x => e`
            return self.prefix()
        node = self.atom()
        while (p := self.peek()) is not None and p.kind == "proj":
            self.next()
            node = Proj(node, p.text)
        return node

    def prefix(self) -> Node:
        t = self.peek()
        if t is None:
            raise LeanSyntaxError("unexpected end of statement")
        if t.kind == "op" and t.text in _PREFIX:
            self.next()
            return Unop(t.text, self.term(_PREFIX[t.text]))
        if t.text == "fun":
            self.next()
            binders = self.binders(("=>", "↦"))
            self.next()
            return Lam(binders, self.term())
        if t.text == "∀":
            self.next()
            binders = self.binders((",", "∈"))
            bound = None
            if self.at("∈"):
                self.next()
                bound = self.term(51)
            self.expect(",")
            return Forall(binders, self.term(), bound)
        if t.text == "∃":
            self.next()
            binders = self.binders((",",))
            self.expect(",")
            return Exists(binders, self.term())
        if t.text == "∀ᶠ":
            self.next()
            (var,) = self.binders(("in",))
            self.expect("in")
            flt = self.term()
            self.expect(",")
            return Eventually(var, flt, self.term())
        if t.text == "∑":
            self.next()
            binders = self.binders((",",))
            self.expect(",")
            return BigSum(binders, self.term(67))
        return self.argument()

    def binders(self, stops: tuple[str, ...]) -> tuple[Binder, ...]:
        """``x y``, ``x y : T``, ``(x : T) (y : U)``, ``_`` up to one of ``stops``."""
        out: list[Binder] = []
        names: list[str] = []
        while not any(self.at(s) for s in stops):
            t = self.next()
            if t.text == "(":
                group = []
                while not self.at(":"):
                    group.append(self.next().text)
                self.expect(":")
                typ = self.term()
                self.expect(")")
                out.extend(Binder(n, typ) for n in group)
            elif t.text == ":":
                typ = self.term()
                out.extend(Binder(n, typ) for n in names)
                names = []
            elif t.kind == "id" or t.text == "_":
                names.append(t.text)
            else:
                raise LeanSyntaxError(f"unexpected {t.text!r} in binders at {t.pos}")
            if not names and out and not any(self.at(s) for s in stops) and self.at(":"):
                raise LeanSyntaxError("malformed binder")
        out.extend(Binder(n) for n in names)
        if not out:
            raise LeanSyntaxError("binder expected")
        return tuple(out)

    def atom(self) -> Node:
        t = self.next()
        if t.kind == "id":
            return Ident(t.text)
        if t.kind == "num":
            return Num(t.text)
        if t.text == "_":
            return Ident("_")
        if t.text == "‖":
            inner = self.term()
            self.expect("‖")
            return Norm(inner)
        if t.text == "(":
            inner = self.term()
            if self.at(":"):
                self.next()
                typ = self.term()
                self.expect(")")
                return Ascribe(inner, typ)
            if self.at(","):
                items = [inner]
                while self.at(","):
                    self.next()
                    items.append(self.term())
                self.expect(")")
                return Tuple(tuple(items))
            self.expect(")")
            return inner
        if t.text == "{":
            (var,) = self.binders(("|",))
            self.expect("|")
            body = self.term()
            self.expect("}")
            return SetOf(var, body)
        raise LeanSyntaxError(f"unexpected {t.text!r} at {t.pos}")


def parse_term(text: str) -> Node:
    """Parse one term of the fragment (the whole text)."""
    p = Parser(tokenize(strip_comments(text)))
    node = p.term()
    if not p.done():
        t = p.peek()
        raise LeanSyntaxError(f"unexpected {t.text!r} at {t.pos} after a complete term")  # type: ignore[union-attr]
    return node


# ------------------------------------------------------------------------------------------ printer


def _binders(bs: tuple[Binder, ...]) -> str:
    return " ".join(b.name if b.type is None else f"({b.name} : {show(b.type)})" for b in bs)


def _wrap(node: Node) -> str:
    s = show(node)
    return s if isinstance(node, (Ident, Num, Tuple, Ascribe, Norm)) else f"({s})"


def show(node: Node) -> str:
    """Canonical, fully parenthesized Lean text of a term (re-parses to the same term)."""
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Num):
        return node.value
    if isinstance(node, App):
        return " ".join([_wrap(node.fn) if not isinstance(node.fn, Proj) else show(node.fn)] + [_wrap(a) for a in node.args])
    if isinstance(node, Binop):
        return f"{_wrap(node.lhs)} {node.op} {_wrap(node.rhs)}"
    if isinstance(node, Unop):
        return f"{node.op}{_wrap(node.arg)}"
    if isinstance(node, Postfix):
        return f"{_wrap(node.arg)}{node.op}"
    if isinstance(node, Proj):
        return f"{_wrap(node.arg)}.{node.field}"
    if isinstance(node, Ascribe):
        return f"({show(node.expr)} : {show(node.type)})"
    if isinstance(node, Tuple):
        return "(" + ", ".join(show(i) for i in node.items) + ")"
    if isinstance(node, Lam):
        return f"fun {_binders(node.binders)} => {show(node.body)}"
    if isinstance(node, Forall):
        bound = f" ∈ {_wrap(node.bound)}" if node.bound is not None else ""
        return f"∀ {_binders(node.binders)}{bound}, {show(node.body)}"
    if isinstance(node, Exists):
        return f"∃ {_binders(node.binders)}, {show(node.body)}"
    if isinstance(node, Eventually):
        return f"∀ᶠ {_binders((node.var,))} in {show(node.filter)}, {show(node.body)}"
    if isinstance(node, EventuallyEq):
        return f"{_wrap(node.lhs)} =ᶠ[{show(node.filter)}] {_wrap(node.rhs)}"
    if isinstance(node, SetOf):
        return f"{{{_binders((node.var,))} | {show(node.body)}}}"
    if isinstance(node, Norm):
        return f"‖{show(node.arg)}‖"
    if isinstance(node, BigSum):
        return f"∑ {_binders(node.binders)}, {_wrap(node.body)}"
    raise TypeError(f"not a term: {node!r}")
