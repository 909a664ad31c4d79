"""The package's import graph is acyclic, and every module imports in a fresh interpreter.

The graph is built from the source with ``ast`` (no import executed): an edge ``a → b`` for every
``import`` of ``b`` in ``a``, at module level (what runs at import time) and, for the graph with lazy
imports, inside functions too (imports under ``if TYPE_CHECKING:`` never run and are not edges). ``from pkg import name`` is an edge to ``pkg.name`` when that is a
module, else to ``pkg``; the root package ``pyspec`` (which re-exports everything) is not a node.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pyspec"

LAZY_CYCLES_ELSEWHERE = frozenset({"pyspec.claims", "pyspec.formal.check", "pyspec.formal.registry"})
"""The one cycle through function-level imports outside the theorems' paths (the claims table lists
the formal checks, which read the claims): deferred imports only, never run at import time."""


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    return {name for name in names if name in modules and name != "pyspec"}


def _is_type_checking(node: ast.AST) -> bool:
    """An ``if TYPE_CHECKING:`` block: its imports are read by type checkers only, never run."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph(lazy: bool) -> dict[str, set[str]]:
    """``module → modules it imports`` (module-level imports only unless ``lazy``)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = ast.walk(tree) if lazy else tree.body
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block) for n in ast.walk(block)}
        edges: set[str] = set()
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in typing_only:
                edges |= _targets(node, name, path.name == "__init__.py", modules)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_module_level_imports_are_acyclic() -> None:
    graph = import_graph(lazy=False)
    assert "pyspec.matrix_free.theorem1" in graph and "pyspec.reports" in graph
    assert cycles(graph) == []


def test_no_cycle_through_lazy_imports_on_the_theorems_paths() -> None:
    found = cycles(import_graph(lazy=True))
    assert [c for c in found if c != LAZY_CYCLES_ELSEWHERE] == []


def test_dense_and_matrix_free_share_types_from_below() -> None:
    graph = import_graph(lazy=True)
    for module in ("pyspec.reports", "pyspec.identities", "pyspec.terms", "pyspec.fixed_point"):
        assert not {m for m in graph[module] if m.startswith(("pyspec.theorem", "pyspec.matrix_free"))}
    for module in (m for m in graph if m.startswith("pyspec.matrix_free")):
        assert not graph[module] & {"pyspec.theorem1", "pyspec.theorem2", "pyspec.homogeneity", "pyspec.last_layer"}


@pytest.mark.parametrize("first", ["pyspec.theorem1", "pyspec.matrix_free.theorem1", "pyspec.reports"])
def test_every_module_imports_in_a_fresh_interpreter(first: str) -> None:
    names = sorted(name for name in _modules() if not name.endswith("__main__"))  # those run a program
    code = f"import importlib\nimportlib.import_module({first!r})\nfor n in {names!r}:\n    importlib.import_module(n)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
