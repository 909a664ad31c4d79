"""Tests of pyspec.backends.xla_flags: fast compilation for compile-bound runs, the user's flags first."""

from __future__ import annotations

import os

import pytest

from pyspec.backends.xla_flags import FAST_COMPILE_FLAGS, prefer_fast_compilation

LEVEL, EMITTERS, SPLIT = FAST_COMPILE_FLAGS


def test_suite_runs_with_fast_compilation() -> None:
    """conftest.py set the flags before JAX created its backend (or the user chose the options)."""
    flags = os.environ.get("XLA_FLAGS", "")
    assert all(option in flags for option in (
        "xla_backend_optimization_level", "xla_cpu_use_fusion_emitters", "xla_cpu_parallel_codegen_split_count"))


def test_flags_are_appended_to_other_flags_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_thunk_runtime=true")
    assert prefer_fast_compilation() == FAST_COMPILE_FLAGS
    assert os.environ["XLA_FLAGS"] == f"--xla_cpu_use_thunk_runtime=true {LEVEL} {EMITTERS} {SPLIT}"
    assert prefer_fast_compilation() == ()  # negative control: not added twice
    assert os.environ["XLA_FLAGS"].count("xla_backend_optimization_level") == 1
    assert os.environ["XLA_FLAGS"].count("xla_cpu_use_fusion_emitters") == 1
    assert os.environ["XLA_FLAGS"].count("xla_cpu_parallel_codegen_split_count") == 1


def test_users_options_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=3")
    assert prefer_fast_compilation() == (EMITTERS, SPLIT)
    assert os.environ["XLA_FLAGS"] == f"--xla_backend_optimization_level=3 {EMITTERS} {SPLIT}"
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_use_fusion_emitters=true")
    assert prefer_fast_compilation() == (LEVEL, SPLIT)
    assert os.environ["XLA_FLAGS"] == f"--xla_cpu_use_fusion_emitters=true {LEVEL} {SPLIT}"
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_parallel_codegen_split_count=8")
    assert prefer_fast_compilation() == (LEVEL, EMITTERS)


def test_unset_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert prefer_fast_compilation() == FAST_COMPILE_FLAGS
    assert os.environ["XLA_FLAGS"] == f"{LEVEL} {EMITTERS} {SPLIT}"
