"""The package type-checks (it ships ``py.typed``) and its public types reach a user's code.

One mypy run, as a user's type checker would see the project (its ``[tool.mypy]`` configuration in
``pyproject.toml``): the package, the user-facing ``examples/`` and a user's snippet with one planted
type error against the public API. The run must report that error and nothing else: the planted error
is the negative control (were ``ps.theorem1`` or its report typed ``Any``, mypy would let it pass).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

USER_CODE = '''\
import numpy as np
import pyspec as ps

eq = ps.Equivariance(model=lambda th: th, T=lambda a, th: a[0] * th, S=lambda a, y: a[0] * y)
report = ps.theorem1(eq, lambda y: (y ** 2).sum(), np.array([1.0]), np.ones(3))
verdict: bool | None = report.holds
planted: str = report.holds
'''
PLANTED_LINE = 7
"""The line of ``planted``: ``Theorem1Report.holds`` is ``bool | None``, not ``str``."""


def test_package_examples_and_user_code_type_check(tmp_path: pathlib.Path) -> None:
    user = tmp_path / "user_code.py"
    user.write_text(USER_CODE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
         "--show-error-codes", "pyspec", "examples", str(user)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    planted = [e for e in errors if e.startswith(f"{user}:{PLANTED_LINE}:") and "[assignment]" in e]
    assert len(planted) == 1, f"mypy missed the planted error in user code:\n{done.stdout}{done.stderr}"
    others = [e for e in errors if e not in planted]
    assert not others, "mypy errors:\n" + "\n".join(others)
    assert done.returncode == 1, done.stderr
