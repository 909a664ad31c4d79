"""The repository is self-contained: every file and section a text file points at exists.

Checked in every tracked text file (code, tests, docs, Lean, scripts):

* Markdown references ``name.md`` and ``path/name.md#anchor`` resolve to a file of the repository
  (relative to the referring file or to the root; a bare name may live in any folder), and the anchor to a heading of that file (GitHub's
  slug rule) or an explicit ``<a id="...">``;
* paths under the repository's own folders (``pyspec/…``, ``tests/…``, ``docs/…``, ``lean/…``,
  ``benchmarks/…``, ``ci/…``) exist;
* nothing points outside the repository (``../shared``, absolute ``/work/`` paths).
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
from collections import Counter

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__", ".hypothesis", ".pytest_cache", "build", ".lake", "dist", "figures_out"}
TEXT = {".py", ".md", ".lean", ".sh", ".toml", ".cff", ".txt", ".cfg", ".yml", ".yaml"}
FOLDERS = ("pyspec", "tests", "docs", "lean", "benchmarks", "ci")
GENERATED = {"REPORT.md", "RESULTS.md"}
"""Markdown files that commands write into a folder the user names (``figures --out``, ``bench --out``)."""

MD_REF = re.compile(r"(?<![\w./-])((?:\.{1,2}/)?(?:[\w.-]+/)*[\w-]+\.md)(#[\w-]+)?")
PATH_REF = re.compile(r"(?<![\w./-])((?:%s)/[\w./-]*[\w-])" % "|".join(FOLDERS))
OUTSIDE = re.compile(r"\.\./shared|/work/|/shared/spec")


def _tree() -> list[pathlib.Path]:
    """Every file of the repository (build outputs, caches and virtual environments pruned)."""
    return _walk(ROOT)


@functools.lru_cache(maxsize=4)
def _walk(root: pathlib.Path) -> list[pathlib.Path]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP and not d.endswith(".egg-info")]
        found.extend(pathlib.Path(folder, name) for name in names)
    return sorted(found)


def _files() -> list[pathlib.Path]:
    """Text files of the repository, except this checker (its docstrings show example references)."""
    return [p for p in _tree() if (p.suffix in TEXT or p.name == "Makefile")
            and p.resolve() != pathlib.Path(__file__).resolve()]


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: pathlib.Path) -> set[str]:
    """Every anchor of a Markdown file (headings outside code fences, with GitHub's ``-1`` suffixes)."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    fenced = False
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        found.update(re.findall(r'<a id="([^"]+)"', line))
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
            seen[base] += 1
    return found


def _resolve(ref: str, origin: pathlib.Path) -> pathlib.Path | None:
    """The file ``ref`` names: relative to the referring file or to the root; a bare file name (no
    folder, as in a layout listing) may live in any folder of the repository."""
    if "/" not in ref:
        found = [p for p in _tree() if p.name == ref]
        if found:
            return found[0]
    for base in (origin.parent, ROOT):
        target = (base / ref).resolve()
        if target.exists() and (target == ROOT or ROOT in target.parents):
            return target
    return None


def _references() -> list[tuple[str, int, str, str]]:
    refs = []
    for path in _files():
        rel = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in MD_REF.finditer(line):
                refs.append((rel, number, match.group(1), (match.group(2) or "")[1:]))
            for match in PATH_REF.finditer(line):
                refs.append((rel, number, match.group(1), ""))
    return refs


def test_slug_follows_github() -> None:
    assert slug("Corollary 2: Noether flow") == "corollary-2-noether-flow"
    assert slug("The (v, w) form") == "the-v-w-form"
    assert slug("Theorem 1") == "theorem-1"


def test_every_reference_resolves() -> None:
    missing = []
    for rel, number, ref, anchor in _references():
        if pathlib.PurePath(ref).name in GENERATED and "/" not in ref.rstrip("/"):
            continue
        target = _resolve(ref, ROOT / rel)
        if target is None:
            missing.append(f"{rel}:{number}: {ref} does not exist in the repository")
        elif anchor and anchor not in anchors(target):
            missing.append(f"{rel}:{number}: {ref}#{anchor}: no such section")
    assert not missing, "\n".join(missing)


def test_nothing_points_outside_the_repository() -> None:
    bad = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in _files()
           for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert not bad, "\n".join(bad)


def test_the_check_catches_a_dangling_reference(tmp_path) -> None:
    """Negative control: a reference to a missing file and to a missing section are both reported."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "theory.md").write_text("# Theory\n\n## Theorem 1\n")
    (tmp_path / "a.py").write_text('"""See SPEC.md §3, docs/theory.md#theorem-9 and docs/theory.md#theorem-1."""\n')
    globals()["ROOT"], saved = tmp_path, ROOT
    try:
        with pytest.raises(AssertionError) as failure:
            test_every_reference_resolves()
    finally:
        globals()["ROOT"] = saved
    message = str(failure.value)
    assert "SPEC.md does not exist" in message and "theorem-9: no such section" in message
    assert "theorem-1:" not in message
