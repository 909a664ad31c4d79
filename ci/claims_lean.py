"""Regenerate ``lean/EquivarianceToolbox/Claims.lean`` from the claims registry and the Lean theorems.

Each registered claim (``pyspec/claims.py``) gets one ``example`` that restates its theorem verbatim, inside
a ``section`` with the ``variable`` commands in force at the theorem, and is closed by the theorem applied to
its explicit hypotheses. Run it only after a deliberate change of a statement::

    python ci/claims_lean.py

``tests/test_lean.py`` fails while Claims.lean and the theorems disagree, and ``lake build`` fails on a guard
that no longer elaborates.
"""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LEAN = ROOT / "lean" / "EquivarianceToolbox"
OPEN, CLOSE = "([{⦃⟨", ")]}⦄⟩"

HEADER = """/-
Copyright (c) 2026 The equivariance-toolbox authors. All rights reserved.
Released under Apache 2.0 license as described in the file LICENSE.
Authors: The equivariance-toolbox authors
-/
{imports}

/-!
# Statement guard: one `example` per registered claim

Each `example` below restates, verbatim, the canonical form of one entry of the claims registry
(`pyspec/claims.py`: id, paper item) and is closed by the theorem of the same name applied to its
explicit hypotheses. If a theorem's statement changes (a hypothesis strengthened or added, a
conclusion weakened), the corresponding `example` no longer elaborates and `lake build` fails: the
registry, this file and the theorem have to be updated together. `tests/test_lean.py` checks that
every registered claim has exactly one `example` here, closed by its own theorem, and that it restates
the theorem's current statement.

Each `example` sits in its own `section` with the `variable` declarations in force at the theorem.
-/

noncomputable section

open scoped Topology ContDiff Matrix

namespace EquivarianceToolbox

"""


def find_theorem(files: list[pathlib.Path], name: str) -> tuple[pathlib.Path, str, int]:
    """The file, its text and the offset of ``theorem <name>``."""
    pattern = re.compile(rf"^(?:private |protected )*theorem {re.escape(name)}(?=[\s(\[{{⦃:])", re.M)
    for path in files:
        text = path.read_text()
        match = pattern.search(text)
        if match:
            return path, text, match.start()
    raise SystemExit(f"no theorem {name} under {LEAN}")


def active_variables(text: str, offset: int) -> list[str]:
    """The ``variable`` commands of the enclosing sections/namespaces at ``offset``."""
    stack: list[list[str]] = [[]]
    lines = text[:offset].split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^(section|namespace)\b", line):
            stack.append([])
        elif re.match(r"^end\b", line):
            stack.pop()
        elif line.startswith("variable"):
            block = [line]
            while i + 1 < len(lines) and lines[i + 1].startswith((" ", "\t")):
                i += 1
                block.append(lines[i])
            stack[-1].append("\n".join(block))
        i += 1
    return [v for level in stack for v in level]


def split_statement(text: str, offset: int) -> tuple[str, str]:
    """``(binders, conclusion)`` of the theorem at ``offset`` (up to the ``:=`` of its proof)."""
    source = text[offset:]
    start = re.match(r"(?:private |protected )*theorem \S+", source).end()  # type: ignore[union-attr]
    depth, colon, j = 0, -1, start
    while j < len(source):
        c = source[j]
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth -= 1
        elif depth == 0 and source.startswith(":=", j):
            break
        elif depth == 0 and c == ":" and colon < 0:
            colon = j
        j += 1
    return source[start:colon], source[colon + 1:j]


def explicit_names(binders: str) -> list[str]:
    """Names bound by the explicit ``( … )`` binder groups, in order."""
    names: list[str] = []
    depth, j = 0, 0
    while j < len(binders):
        c = binders[j]
        if c == "(" and depth == 0:
            inner_depth, end = 1, j + 1
            while inner_depth:
                if binders[end] in OPEN:
                    inner_depth += 1
                elif binders[end] in CLOSE:
                    inner_depth -= 1
                end += 1
            names += binders[j + 1:end - 1].split(" : ", 1)[0].split()
            j = end
            continue
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth -= 1
        j += 1
    return names


def symm_as_application(text: str) -> str:
    """``Tθ.symm`` on a local as ``(ContinuousLinearEquiv.symm Tθ)`` (the same term), which the Mathlib name
    audit resolves (it does not read ``example`` binders as locals)."""
    return re.sub(r"\b(Tθ|Sy)\.symm\b", r"(ContinuousLinearEquiv.symm \1)", text)


def render() -> str:
    """The text of Claims.lean."""
    sys.path.insert(0, str(ROOT))
    from pyspec.claims import CLAIMS

    files = sorted(p for p in LEAN.glob("*.lean") if p.name != "Claims.lean")
    blocks = []
    for claim in CLAIMS:
        path, text, offset = find_theorem(files, claim.id)
        binders, conclusion = split_statement(text, offset)
        proof = f"  {claim.id}" + "".join(f" {name}" for name in explicit_names(binders))
        blocks.append("\n".join([
            "section", *active_variables(text, offset), "",
            f"-- claim: {claim.id} ({claim.paper}; {path.stem})",
            f"example{symm_as_application(binders.rstrip())} :{symm_as_application(conclusion.rstrip())} :=",
            proof, "", "end", "",
        ]))
    imports = "\n".join(f"import EquivarianceToolbox.{p.stem}" for p in files)
    return HEADER.format(imports=imports) + "\n".join(blocks) + "end EquivarianceToolbox\n"


def main() -> int:
    """Write Claims.lean."""
    (LEAN / "Claims.lean").write_text(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
