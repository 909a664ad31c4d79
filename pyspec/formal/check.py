"""Evaluate a claim's Lean statements on drawn models: the oracle of the formal property tests and the
``lean_evaluated`` / ``lean_worst_residual`` columns of ``pyspec claims``."""

from __future__ import annotations

from typing import Any, NamedTuple

from hypothesis import HealthCheck, given, settings

from pyspec.backends import get_backend
from pyspec.formal.evaluate import StatementResult, evaluate_statement
from pyspec.formal.registry import FORMAL, FormalClaim, draw_binding

__all__ = ["ModelOutcome", "formal_backend", "evaluate_claim", "draw_models", "claim_summary", "formal_columns"]


def formal_backend(precision: int | None = None) -> Any:
    """The backend the statements are evaluated with: float64 on dual numbers
    (:class:`~pyspec.backends.float_dual_backend.Float64DualBackend`: no per-model compilation, 1–50 ms a
    model) for ``precision=None``, mpmath at ``precision`` digits otherwise."""
    if precision is None:
        from pyspec.backends.float_dual_backend import Float64DualBackend

        return Float64DualBackend()
    return get_backend(precision, jit=False)


class ModelOutcome(NamedTuple):
    """A claim's statements on one model: ``results`` per statement; ``negative`` the conclusions on the
    negative control (``None`` when the claim has none)."""

    results: tuple[StatementResult, ...]
    negative: tuple[StatementResult, ...] | None

    @property
    def vacuous(self) -> dict[str, tuple[str, ...]]:
        return {r.name: r.vacuous for r in self.results if r.vacuous}

    @property
    def failed(self) -> dict[str, float]:
        return {r.name: r.conclusion.residual for r in self.results if not r.conclusion.holds}

    @property
    def worst_residual(self) -> float:
        return max(r.conclusion.residual for r in self.results)

    @property
    def control_flagged(self) -> bool:
        """Every statement's conclusion fails on the negative control (``True`` without one)."""
        return self.negative is None or all(not r.conclusion.holds for r in self.negative)


def evaluate_claim(entry: FormalClaim, model: Any, precision: int | None = None, seed: int = 0,
                   negative: bool = True, statements: tuple[str, ...] | None = None) -> ModelOutcome:
    """Evaluate ``entry``'s statements (or ``statements``, e.g. mutants) on one drawn model, float64
    (``precision=None``) or at ``precision`` digits, with a derivative cache shared by the statements."""
    backend = formal_backend(precision)
    names = statements or entry.statements
    cache: dict[Any, Any] = {}
    binding = draw_binding(entry, model, backend, seed)
    results = tuple(evaluate_statement(n, binding, backend, cache) for n in names)
    control = None
    if negative and entry.negative is not None:
        bad = draw_binding(entry, model, backend, seed, negative=True)
        control_cache: dict[Any, Any] = {}
        control = tuple(evaluate_statement(n, bad, backend, control_cache, ignore=entry.violated) for n in names)
    return ModelOutcome(results, control)


def draw_models(entry: FormalClaim, n: int) -> list[Any]:
    """``n`` models from the claim's strategy (derandomized, so the same models every run)."""
    models: list[Any] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(entry.strategy())
    def collect(model: Any) -> None:
        models.append(model)

    collect()
    return models[:n]


def claim_summary(entry: FormalClaim, n: int, precision: int | None = None) -> tuple[int, float, bool]:
    """``(models evaluated, worst conclusion residual, all hypotheses and conclusions hold)``."""
    worst, ok = 0.0, True
    models = draw_models(entry, n)
    for model in models:
        outcome = evaluate_claim(entry, model, precision, negative=False)
        worst = max(worst, outcome.worst_residual)
        ok = ok and not outcome.vacuous and not outcome.failed
    return len(models), worst, ok


def formal_columns(claim: str, n: int = 3, precision: int | None = 50) -> dict[str, Any]:
    """The ``pyspec claims`` columns of a claim: ``lean_evaluated`` (models), ``lean_worst_residual``
    (float64) and, with ``precision``, ``lean_worst_residual_hp``; empty when the claim is not evaluated."""
    entry = next((e for e in FORMAL if e.claim == claim), None)
    if entry is None:
        return {}
    count, worst, ok = claim_summary(entry, n)
    row: dict[str, Any] = {"lean_evaluated": count, "lean_worst_residual": worst, "lean_holds": ok}
    if precision is not None:
        row["lean_worst_residual_hp"] = claim_summary(entry, 1, precision)[1]
    return row
