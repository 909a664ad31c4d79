"""Tests of pyspec.backends.xla_flags: fast compilation for compile-bound runs, the user's flags first."""

from __future__ import annotations

import os

import pytest

from pyspec.backends.xla_flags import FAST_COMPILE_FLAG, prefer_fast_compilation


def test_suite_runs_with_fast_compilation() -> None:
    """conftest.py set the flag before JAX created its backend (or the user chose a level)."""
    assert "xla_backend_optimization_level" in os.environ.get("XLA_FLAGS", "")


def test_flag_is_appended_to_other_flags_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_thunk_runtime=true")
    assert prefer_fast_compilation() is True
    assert os.environ["XLA_FLAGS"] == f"--xla_cpu_use_thunk_runtime=true {FAST_COMPILE_FLAG}"
    assert prefer_fast_compilation() is False  # negative control: not added twice
    assert os.environ["XLA_FLAGS"].count("xla_backend_optimization_level") == 1


def test_users_level_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=3")
    assert prefer_fast_compilation() is False
    assert os.environ["XLA_FLAGS"] == "--xla_backend_optimization_level=3"


def test_unset_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert prefer_fast_compilation() is True
    assert os.environ["XLA_FLAGS"] == FAST_COMPILE_FLAG
