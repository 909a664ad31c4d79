"""Read declarations from ``lean/``: binders, hypotheses and conclusion of a theorem (up to ``:=``), and
the bodies of the project's definitions (``def``), which the evaluator unfolds.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pathlib
import re

from pyspec.formal.syntax import LeanSyntaxError, Node, Parser, Token, show, strip_comments, tokenize

__all__ = ["BinderGroup", "Declaration", "declarations", "declaration", "fingerprint", "LEAN_ROOT", "NAMESPACE",
           "StatementNotFound"]

NAMESPACE = "EquivarianceToolbox"
LEAN_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent / "lean"

_HEADER = re.compile(r"^(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable)\s+)*(theorem|lemma|def|abbrev)\s+(\S+)", re.M)


class StatementNotFound(LookupError):
    """A registered declaration is not declared under ``lean/``."""


@dataclasses.dataclass(frozen=True)
class BinderGroup:
    """One binder of a declaration: ``kind`` is ``"("``, ``"{"`` or ``"["``."""

    name: str
    type: Node
    kind: str

    @property
    def explicit(self) -> bool:
        return self.kind == "("


@dataclasses.dataclass(frozen=True)
class Declaration:
    """A parsed declaration header (and body for a ``def``).

    Attributes
    ----------
    name : str
        Last component (the claim id for registered theorems).
    keyword : str
        ``theorem``, ``lemma``, ``def`` or ``abbrev``.
    binders : tuple of BinderGroup
    conclusion : Node
        The statement's type after the binders (for a ``def``: its type).
    body : Node or None
        A ``def``'s body.
    file : str
    text : str
        The source text of the header (binders and conclusion, comments removed).
    """

    name: str
    keyword: str
    binders: tuple[BinderGroup, ...]
    conclusion: Node
    body: Node | None
    file: str
    text: str

    @property
    def statement(self) -> str:
        """The canonical statement text (binders and conclusion), as Lean source."""
        groups = " ".join(f"[{show(b.type)}]" if b.name == "_inst" else f"{b.kind}{b.name} : {show(b.type)}{_CLOSE[b.kind]}"
                          for b in self.binders)
        return f"{groups} : {show(self.conclusion)}"


_CLOSE = {"(": ")", "{": "}", "[": "]"}


def parse_header(tokens: list[Token]) -> tuple[tuple[BinderGroup, ...], Node, int]:
    """Binder groups and the type of a declaration header; returns the index after the type."""
    p = Parser(tokens)
    groups: list[BinderGroup] = []
    while (opening := p.peek()) is not None and opening.text in _CLOSE:
        kind = p.next().text
        if kind == "[" and not ((after := p.peek(1)) is not None and after.text == ":"):  # anonymous [Fintype ι]
            typ = p.term()
            p.expect("]")
            groups.append(BinderGroup("_inst", typ, kind))
            continue
        names = []
        while not p.at(":"):
            names.append(p.next().text)
        p.expect(":")
        typ = p.term()
        p.expect(_CLOSE[kind])
        groups.extend(BinderGroup(n, typ, kind) for n in names)
    p.expect(":")
    conclusion = p.term()
    return tuple(groups), conclusion, p.i


def _split_header(tokens: list[Token]) -> tuple[list[Token], list[Token]]:
    depth = 0
    for j, t in enumerate(tokens):
        if t.text in ("(", "[", "{", "⟨", "=ᶠ["):
            depth += 1
        elif t.text in (")", "]", "}", "⟩"):
            depth -= 1
        elif t.text == ":=" and depth == 0:
            return tokens[:j], tokens[j + 1:]
    raise LeanSyntaxError("no ':=' after the statement")


@functools.lru_cache(maxsize=8)
def _scan(root: str) -> dict[str, tuple[str, str, str, str]]:
    """``name -> (keyword, file, header text, body text)`` for every declaration in the namespace."""
    out: dict[str, tuple[str, str, str, str]] = {}
    for path in sorted(pathlib.Path(root).rglob("*.lean")):
        text = strip_comments(path.read_text())
        if f"namespace {NAMESPACE}" not in text:
            continue
        starts = [(m.start(), m.end(), m.group(1), m.group(2)) for m in _HEADER.finditer(text)]
        ends = [m.start() for m in re.finditer(r"^(?:\S)", text, re.M)]
        for start, end, keyword, name in starts:
            stop = next((e for e in ends if e > start), len(text))
            chunk = text[end:stop]
            # the header ends at the first top-level ':='
            out[name] = (keyword, str(path.relative_to(pathlib.Path(root).parent)), chunk, "")
    return out


@functools.lru_cache(maxsize=256)
def _parse(name: str, root: str) -> Declaration:
    table = _scan(root)
    if name not in table:
        raise StatementNotFound(f"{NAMESPACE}.{name} is not declared under {root}")
    keyword, file, chunk, _ = table[name]
    tokens = tokenize(chunk)
    header, rest = _split_header(tokens)
    try:
        binders, conclusion, used = parse_header(header)
    except LeanSyntaxError as error:
        raise LeanSyntaxError(f"{NAMESPACE}.{name} ({file}): {error}") from None
    if used != len(header):
        raise LeanSyntaxError(f"{NAMESPACE}.{name} ({file}): unread tokens after the statement: "
                              f"{' '.join(t.text for t in header[used:used + 8])}")
    body = None
    if keyword in ("def", "abbrev"):
        p = Parser(rest)
        try:
            body = p.term()
        except LeanSyntaxError as error:
            raise LeanSyntaxError(f"{NAMESPACE}.{name} ({file}), body: {error}") from None
    header_text = " ".join(t.text for t in header)
    return Declaration(name, keyword, binders, conclusion, body, file, header_text)


def declaration(name: str, root: pathlib.Path | None = None) -> Declaration:
    """The parsed declaration ``EquivarianceToolbox.<name>`` under ``lean/``.

    Raises
    ------
    StatementNotFound
        No such declaration.
    LeanSyntaxError
        The statement uses syntax outside :data:`pyspec.formal.syntax.FRAGMENT`.
    """
    return _parse(name, str(root or LEAN_ROOT))


def declarations(root: pathlib.Path | None = None) -> list[str]:
    """Names of every declaration in the namespace."""
    return sorted(_scan(str(root or LEAN_ROOT)))


def statement_text(name: str, root: pathlib.Path | None = None) -> str:
    """The statement's tokens up to ``:=`` joined by single spaces (comments, layout and proof removed);
    defined for every declaration, also one outside the parser's fragment."""
    table = _scan(str(root or LEAN_ROOT))
    if name not in table:
        raise StatementNotFound(f"{NAMESPACE}.{name} is not declared under lean/")
    header, _ = _split_header(tokenize(table[name][2]))
    return " ".join(t.text for t in header)


def fingerprint(name: str, root: pathlib.Path | None = None) -> str:
    """A normalized fingerprint of a statement: SHA-256 (16 hex digits) of :func:`statement_text`, so that
    layout, comments and proofs do not matter but any change to binders, hypotheses or conclusion does."""
    return hashlib.sha256(statement_text(name, root).encode()).hexdigest()[:16]


def clear_cache() -> None:
    """Forget parsed files (after ``lean/`` changed on disk)."""
    _scan.cache_clear()
    _parse.cache_clear()


__all__ += ["clear_cache", "parse_header", "statement_text"]

