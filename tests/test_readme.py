"""The README is accurate: its Python blocks run as printed, its catalog table is the catalog, its
command-line synopsis names real options, and its layout names real paths."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from pyspec.cli import main
from pyspec.listing import catalog_markdown

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language: str, text: str = README) -> list[str]:
    """The fenced code blocks of ``text`` in ``language``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def section(title: str) -> str:
    """The README's section under the heading ``## title`` (up to the next ``## ``)."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


PYTHON_BLOCKS = blocks("python")


def test_the_readme_has_python_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_block_runs_verbatim(index: int, tmp_path) -> None:
    """Each block in a fresh interpreter, outside the source tree, exactly as printed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("JAX_ENABLE_X64", None)
    done = subprocess.run([sys.executable, "-c", PYTHON_BLOCKS[index]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"block {index} failed:\n{PYTHON_BLOCKS[index]}\n{done.stderr[-3000:]}"
    # Every block prints whether its identities hold; none may print False.
    assert "True" in done.stdout and "False" not in done.stdout, done.stdout


def test_catalog_table_is_the_catalog() -> None:
    """Regenerate with ``pyspec list --markdown`` when the catalog changes."""
    table = README.split("<!-- catalog:start -->\n")[1].split("\n<!-- catalog:end -->")[0]
    assert table == catalog_markdown()


def test_catalog_table_check_fails_on_a_missing_entry() -> None:
    """Negative control: the table with one row removed is not the catalog."""
    rows = catalog_markdown().splitlines()
    assert "\n".join(rows[:-1]) != catalog_markdown()


def test_command_line_synopsis_names_real_options(capsys) -> None:
    synopsis = blocks("text", section("Command line"))[0]
    commands = 0
    for line in synopsis.splitlines():
        words = line.split("#")[0].split()
        if len(words) < 2 or words[0] != "pyspec" or words[1].startswith("-"):
            continue
        with pytest.raises(SystemExit):
            main([words[1], "--help"])
        help_text = capsys.readouterr().out
        for option in re.findall(r"--[\w-]+", line.split("#")[0]):
            assert option in help_text, f"pyspec {words[1]} has no option {option}"
        commands += 1
    assert commands >= 5


def test_make_targets_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"^make (\w[\w-]*)", README, flags=re.M)):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def _layout_paths() -> list[str]:
    """Paths named in the layout block: top-level folders and files, and names listed under them."""
    paths, folder = [], ""
    for line in blocks("text", section("Layout"))[0].splitlines():
        if not line.strip():
            continue
        first = line.split()[0]
        if not line.startswith(" "):
            folder = first if first.endswith("/") else ""
            paths.append(first)
            names = line.split()[1:]
        else:
            names = line.split()
        for name in names:
            name = name.strip("`,;()")
            if re.fullmatch(r"[\w.-]+(/|\.(py|md|sh|lean|json))", name):
                paths.append(folder + name)
    return paths


def test_layout_matches_the_tree() -> None:
    paths = _layout_paths()
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"README layout names paths that do not exist: {missing}"
    folders = {p.name + "/" for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")
               and p.name not in {"build", "dist", "figures-out"} and not p.name.endswith(".egg-info")}
    listed = {p for p in paths if p.count("/") == 1 and p.endswith("/")}
    assert folders <= listed, f"folders missing from the README layout: {folders - listed}"
    packages = {f"pyspec/{p.name}/" for p in (ROOT / "pyspec").iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(paths), f"subpackages missing from the README layout: {packages - set(paths)}"
