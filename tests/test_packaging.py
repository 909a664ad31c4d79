"""Packaging: a light core (no matplotlib, no Hypothesis), the extras, typing marker and version, and an
installed package that runs ``pyspec verify`` from outside the source tree."""

from __future__ import annotations

import os
import pathlib
import re
import site
import subprocess
import sys
import tomllib
import venv

import pytest

import pyspec

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OPTIONAL = ("matplotlib", "hypothesis", "flint", "equinox", "flax")

# Run in a fresh interpreter with the optional dependencies made unimportable.
WITHOUT_EXTRAS = """
import sys
for name in {optional!r}:
    sys.modules[name] = None  # `import name` now raises ImportError
from pyspec.cli import main
code = main({argv!r})
print("exit", code)
"""


def _run(code: str, cwd: pathlib.Path, python: str = sys.executable, pythonpath: str | None = str(ROOT)) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                          check=False)


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower()


def test_core_dependencies_are_light_and_the_extras_complete() -> None:
    project = PYPROJECT["project"]
    core = {_name(r) for r in project["dependencies"]}
    assert core.isdisjoint({"matplotlib", "hypothesis", "python-flint", "equinox", "flax", "pytest"}), core
    extras = project["optional-dependencies"]
    assert {_name(r) for r in extras["figures"]} == {"matplotlib"}
    assert any(r.startswith("jax[cuda12]") for r in extras["gpu"])
    test = extras["test"]
    assert {"pytest", "hypothesis"} <= {_name(r) for r in test}
    # the test extra pulls every other extra except the GPU (the Makefile installs `.[test]`)
    pulled = next(r for r in test if _name(r) == project["name"])
    assert set(re.search(r"\[(.*)\]", pulled).group(1).split(",")) == set(extras) - {"test", "gpu"}


def test_version_is_single_sourced_and_typed() -> None:
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "pyspec.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", pyspec.__version__)
    assert (ROOT / "pyspec" / "py.typed").is_file() and "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["pyspec"]
    citation = (ROOT / "CITATION.cff").read_text()
    assert f"version: {pyspec.__version__}" in citation and "arXiv:2512.21447" in citation
    assert f"## [{pyspec.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_import_pyspec_does_not_import_optional_dependencies(tmp_path) -> None:
    code = ("import sys, pyspec, pyspec.cli, pyspec.verify, pyspec.claims, pyspec.listing, pyspec.experiments\n"
            f"print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))")
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_verify_and_list_run_without_the_extras(tmp_path) -> None:
    done = _run(WITHOUT_EXTRAS.format(optional=OPTIONAL, argv=["verify", "--entries", "sign_flip"]), tmp_path)
    assert done.returncode == 0 and "exit 0" in done.stdout, done.stderr[-2000:]
    done = _run(WITHOUT_EXTRAS.format(optional=OPTIONAL, argv=["list"]), tmp_path)
    assert "exit 0" in done.stdout, done.stderr[-2000:]


def test_figures_without_matplotlib_is_a_usage_error_with_the_fix(tmp_path) -> None:
    """Negative control of the lazy import: the command that needs the extra says which one."""
    argv = ["figures", "--out", str(tmp_path / "out"), "--size", "tiny", "--only", "last_layer"]
    done = _run(WITHOUT_EXTRAS.format(optional=OPTIONAL, argv=argv), tmp_path)
    assert "exit 2" in done.stdout and "equivariance-toolbox[figures]" in done.stderr, done.stderr[-2000:]
    done = _run("import sys; sys.modules['hypothesis'] = None; import pyspec.strategies", tmp_path)
    assert done.returncode != 0 and "equivariance-toolbox[test]" in done.stderr


@pytest.mark.slow
def test_installed_package_runs_verify_outside_the_source_tree(tmp_path) -> None:
    """``pip install`` (no extras) into a fresh virtual environment, then ``pyspec verify`` from a
    folder outside the source tree. The core dependencies come from this interpreter's site-packages
    (no download of jax); matplotlib and Hypothesis are blocked, so the check fails if they are needed."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    target = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    pathlib.Path(target, "_core_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(ROOT)],
                             capture_output=True, text=True, timeout=600, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = _run(WITHOUT_EXTRAS.format(optional=OPTIONAL, argv=["verify", "--entries", "relu_mlp_homogeneous"])
                + "import pyspec; print(pyspec.__file__)", outside, python=str(python), pythonpath=None)
    assert "exit 0" in done.stdout, done.stderr[-3000:]
    assert str(env_dir) in done.stdout.splitlines()[-1], "pyspec was not imported from the installed package"
    version = subprocess.run([str(env_dir / "bin" / "pyspec"), "--version"], cwd=outside, capture_output=True,
                             text=True, check=False)
    assert version.stdout.strip() == f"pyspec {pyspec.__version__} (equivariance-toolbox)"
