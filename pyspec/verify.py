"""The main job: every catalog entry × every applicable identity, each beside its negative control.

A row is one identity on one entry. Its negative control is the *same check* on input that violates a
hypothesis, with the hypothesis check turned off so the identity's own residual is measured:

* Theorem 1 rows: the model perturbed by ``ε·c·sin(Nθ + φ)`` (:func:`breaking_perturbation`), which
  breaks the equivariance;
* Theorem 2 rows: a point off the fixed-point set;
* application rows (§§4–6, one per part of each report, ``form`` = the part's name): the controls of
  :mod:`pyspec.applications` (a broken model, a wrong degree, a wrong charge, ``λ_min`` for
  ``λ_max``, a point that is not stationary or not fixed).

Each row carries the check's ``verdict`` (``"holds"``, ``"fails"``, ``"inconclusive"``) and its
``reason``; a row *fails* only on ``"fails"`` (or a control that is not flagged, or an error): an
inconclusive row is reported with its reason and does not fail the run. A control is *flagged* when
its verdict is ``"fails"`` and its residual is at least :data:`NEGATIVE_CONTROL_FLOOR`. Hessian rows
also report ``dropped_term``: the smallest residual obtained by dropping one non-zero term of the
right side (every term is needed).

With ``precision=D`` each row is recomputed with the mpmath backend at ``D`` digits (``residual_hp``,
``negative_control_hp``) and the float64 and high-precision left sides are compared
(``lhs_agreement``, relative to the check's scale: the terms' norms and the natural scale).

With ``certify=D`` each row is recomputed in ball arithmetic at ``D`` digits
(:mod:`pyspec.certify`): ``residual_bound`` bounds the identity's relative residual rigorously (at most
:data:`~pyspec.certify.CERTIFIED_BOUND` to pass) and ``negative_control_certified`` says whether the
control's violation is proved (its enclosure of ``lhs − rhs`` excludes 0; required to pass).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
from typing import Any, Callable, Iterable

import numpy as np

from pyspec.applications import APPLICATIONS, Outcome
from pyspec.backends import certifying, get_backend
from pyspec.backends.base import Array, Backend
from pyspec.catalog import CATALOG, Entry, Instance
from pyspec.catalog.base import PERTURBATION, breaking_perturbation
from pyspec.certify import CERTIFIED_BOUND
from pyspec.checks import IdentityCheck, compare
from pyspec.equivariance import bind
from pyspec.errors import PyspecError
from pyspec.report import perturbed
from pyspec.theorem1 import theorem1_report
from pyspec.theorem2 import theorem2_report

__all__ = ["NEGATIVE_CONTROL_FLOOR", "PERTURBATION", "Row", "breaking_perturbation", "perturbed", "summarize", "verify"]

NEGATIVE_CONTROL_FLOOR = 1e-6
"""A negative control must reach at least this residual (and exceed the tolerance) to count as flagged."""

LHS_AGREEMENT = 1e-12
"""Float64 and high-precision left sides must agree to this relative difference."""


@dataclasses.dataclass
class Row:
    """One identity on one catalog entry (the stable keys of docs/design.md#verify-json plus extras).

    Numeric fields are ``None`` only on failed rows whose hypothesis check raised (``error`` set).
    """

    entry: str
    identity: str
    form: str
    residual: float | None
    tolerance: float | None
    holds: bool | None
    negative_control: float | None
    negative_control_kind: str
    negative_control_flagged: bool
    dropped_term: float | None = None
    dropped_term_flagged: bool | None = None
    precision: int | None = None
    residual_hp: float | None = None
    tolerance_hp: float | None = None
    holds_hp: bool | None = None
    vacuous_hp: bool = False
    negative_control_hp: float | None = None
    negative_control_hp_flagged: bool | None = None
    lhs_agreement: float | None = None
    error: str | None = None
    certify: int | None = None
    residual_bound: float | None = None
    negative_control_certified: bool | None = None
    verdict: str = "fails"
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing failed: the identity does not fail (holds or is inconclusive), the control is
        flagged, and (if computed) the identity holds at high precision with agreeing left sides."""
        if self.error is not None:
            return False
        good = self.verdict != "fails" and self.negative_control_flagged and self.dropped_term_flagged is not False
        if self.precision is not None:
            # exactly 0 = 0 at high precision (e.g. eq. (12) at a realizable minimum, where ∇ℓ = 0) is
            # consistent with a float64 check that holds; anything else must hold there
            holds_hp = bool(self.holds_hp) or (self.vacuous_hp and self.verdict == "holds")
            good = good and holds_hp and bool(self.negative_control_hp_flagged)
            good = good and self.lhs_agreement is not None and self.lhs_agreement <= LHS_AGREEMENT
        if self.certify is not None:
            good = good and self.residual_bound is not None and self.residual_bound <= CERTIFIED_BOUND
            good = good and bool(self.negative_control_certified)
        return good


def _flagged(check: IdentityCheck) -> bool:
    return check.verdict == "fails" and check.residual >= NEGATIVE_CONTROL_FLOOR


def _dropped_term(backend: Backend, check: IdentityCheck) -> float | None:
    """Smallest residual after dropping one non-zero term of the right side (None if < 2 terms)."""
    nonzero = [name for name, t in check.terms.items() if backend.to_float(backend.norm(t)) > 0.0]
    if len(check.terms) < 2 or not nonzero:
        return None
    worst = None
    for name in nonzero:
        rest = {k: v for k, v in check.terms.items() if k != name}
        r = compare(backend, check.identity, check.lhs, rest, check.tolerance).residual
        worst = r if worst is None else min(worst, r)
    return worst


def _theorem_outcomes(entry: Entry, instance: Instance, backend: Backend) -> list[Outcome]:
    """Theorem 1 (continuous entries) or Theorem 2 (discrete entries) beside its control."""
    xp = backend.xp
    with backend.context():
        problem, a, theta = bind(instance.eq, instance.loss, instance.a(xp), instance.theta(xp), backend)
        if entry.kind == "continuous":
            report = theorem1_report(problem, a, theta)
            control = theorem1_report(perturbed(problem, theta), a, theta, check_equivariance=False)
            forms = ("", "", "TS", "vw", "TS", "vw")  # order of Theorem1Report.checks
            return [Outcome(form, c, bad, "broken equivariance")
                    for form, c, bad in zip(forms, report.checks, control.checks)]
        report2 = theorem2_report(problem, a, theta)
        assert instance.off_fixed is not None, f"{entry.name}: discrete entries define off_fixed"
        _, _, off = bind(instance.eq, instance.loss, instance.a(xp), instance.off_fixed(xp), backend)
        control2 = theorem2_report(problem, a, off, check_hypotheses=False)
        return [Outcome("", c, bad, "off the fixed set") for c, bad in zip(report2.checks, control2.checks)]


def _evaluate(entry: Entry, instance: Instance, precision: int | None) -> list[Outcome]:
    """Every row's check and control: the theorem's, then the applications' (``entry.applications``;
    the ids of one section are evaluated together)."""
    outcomes = _theorem_outcomes(entry, instance, get_backend(precision))
    sections: dict[Any, list[str]] = {}
    for identity in entry.applications:
        sections.setdefault(APPLICATIONS[identity], []).append(identity)
    for section, ids in sections.items():
        outcomes.extend(section(instance, precision, tuple(ids)))
    return outcomes


def _agreement(lhs64: Array, check_hp: IdentityCheck, backend: Backend) -> float:
    """``‖lhs₆₄ − lhs_hp‖`` relative to the high-precision check's scale (terms and natural scale)."""
    diff = float(np.linalg.norm(np.asarray(lhs64, dtype=np.float64) - backend.to_numpy(check_hp.lhs)))
    return 0.0 if check_hp.scale == 0.0 else diff / check_hp.scale


def _failed(entry: Entry, error: PyspecError, precision: int | None) -> list[Row]:
    """One failed row per identity when a hypothesis check of the entry raised."""
    return [
        Row(entry=entry.name, identity=identity, form="", residual=None, tolerance=None, holds=False,
            negative_control=None, negative_control_kind="", negative_control_flagged=False,
            precision=precision, error=f"{type(error).__name__}: {error}", reason=f"{type(error).__name__}: {error}")
        for identity in entry.identities
    ]


def verify_entry(entry: Entry, seed: int = 0, precision: int | None = None, certify: int | None = None) -> list[Row]:
    """Rows of one catalog entry (float64, at ``precision`` digits and in balls at ``certify`` digits
    when given).

    A violated hypothesis (:class:`~pyspec.errors.PyspecError`) gives failed rows carrying the error.
    """
    instance = entry.build(seed)
    try:
        rows = _rows(entry, instance, precision)
        if certify is not None:
            _certify(entry, instance, rows, certify)
        return rows
    except PyspecError as error:
        failed = _failed(entry, error, precision)
        for row in failed:
            row.certify = certify
        return failed


def _certify(entry: Entry, instance: Instance, rows: list[Row], digits: int) -> None:
    """Fill the certified columns of ``rows``: every check and control again, in balls."""
    with certifying():
        outcomes = _evaluate(entry, instance, digits)
    for row, outcome in zip(rows, outcomes, strict=True):
        row.certify = digits
        row.residual_bound = outcome.check.residual_bound
        row.negative_control_certified = outcome.control.certified_nonzero


def _rows(entry: Entry, instance: Instance, precision: int | None) -> list[Row]:
    lo_backend = get_backend(None)
    lo = _evaluate(entry, instance, None)
    rows = []
    for outcome in lo:
        check, control = outcome.check, outcome.control
        dropped = _dropped_term(lo_backend, check)
        rows.append(
            Row(
                entry=entry.name,
                identity=check.identity,
                form=outcome.form,
                residual=check.residual,
                tolerance=check.tolerance,
                holds=check.holds,
                verdict=check.verdict,
                reason=check.reason,
                negative_control=control.residual,
                negative_control_kind=outcome.control_kind,
                negative_control_flagged=_flagged(control),
                dropped_term=dropped,
                dropped_term_flagged=None if dropped is None else dropped > check.tolerance,
            )
        )
    if precision is not None:
        hp_backend = get_backend(precision)
        hi = _evaluate(entry, instance, precision)
        for row, low, high in zip(rows, lo, hi):
            row.precision = precision
            row.residual_hp = high.check.residual
            row.tolerance_hp = high.check.tolerance
            row.holds_hp = high.check.holds
            row.vacuous_hp = high.check.trivial
            row.negative_control_hp = high.control.residual
            row.negative_control_hp_flagged = _flagged(high.control)
            row.lhs_agreement = _agreement(low.check.lhs, high.check, hp_backend)
    return rows


def verify(
    entries: Iterable[str] | None = None,
    *,
    seed: int = 0,
    precision: int | None = None,
    progress: Callable[[str], Any] | None = None,
    certify: int | None = None,
    jobs: int = 1,
) -> list[Row]:
    """Run every identity of every (selected) catalog entry with its negative control.

    Parameters
    ----------
    entries : iterable of str, optional
        Catalog names (default: all).
    seed : int
        Seed of the catalog instances.
    precision : int, optional
        Also recompute each row with mpmath at this many digits.
    progress : callable, optional
        Called with each entry's name before it runs (with ``jobs > 1``: when its rows arrive).
    certify : int, optional
        Also recompute each row in ball arithmetic at this many digits (``residual_bound``,
        ``negative_control_certified``).
    jobs : int
        Entries verified at once, each in its own process (``spawn``: a fresh interpreter with float64
        JAX). The entries are independent and each compiles its own programs, so on ``c`` cores the
        wall time falls nearly ``min(c, jobs)``-fold; the rows are the same, in the same order.
    """
    names = list(CATALOG) if entries is None else list(entries)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    rows: list[Row] = []
    if jobs == 1 or len(names) == 1:
        for name in names:
            if progress is not None:
                progress(name)
            rows.extend(verify_entry(CATALOG[name], seed=seed, precision=precision, certify=certify))
        return rows
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(min(jobs, len(names)), mp_context=context,
                                                initializer=_float64_worker) as pool:
        futures = [pool.submit(_verify_named, name, seed, precision, certify) for name in names]
        for name, future in zip(names, futures):
            rows.extend(future.result())
            if progress is not None:
                progress(name)
    return rows


def _float64_worker() -> None:
    """Process initializer of :func:`verify`'s pool: JAX in float64, as in the parent."""
    import jax

    jax.config.update("jax_enable_x64", True)


def _verify_named(name: str, seed: int, precision: int | None, certify: int | None) -> list[Row]:
    return verify_entry(CATALOG[name], seed=seed, precision=precision, certify=certify)


def summarize(rows: list[Row]) -> dict[str, Any]:
    """The ``summary`` object of ``verify --json`` (docs/design.md#verify-json)."""
    summary: dict[str, Any] = {
        "entries": len({r.entry for r in rows}),
        "rows": len(rows),
        "failed": sum(not r.ok for r in rows),
        "inconclusive": sum(r.error is None and r.verdict == "inconclusive" for r in rows),
        "errors": sorted({f"{r.entry}: {r.error}" for r in rows if r.error is not None}),
        # residual and negative_control are None exactly on the rows with an error (Row), skipped here
        "worst_residual": max((r.residual for r in rows if r.residual is not None), default=0.0),
        "weakest_negative_control": min((r.negative_control for r in rows if r.negative_control is not None),
                                        default=0.0),
    }
    if any(r.precision is not None for r in rows):
        summary["precision"] = rows[0].precision
        summary["worst_residual_hp"] = max(r.residual_hp or 0.0 for r in rows)
        summary["weakest_negative_control_hp"] = min(
            (r.negative_control_hp for r in rows if r.negative_control_hp is not None), default=0.0
        )
        summary["worst_lhs_agreement"] = max(r.lhs_agreement or 0.0 for r in rows)
    if any(r.certify is not None for r in rows):
        summary["certify"] = rows[0].certify
        summary["worst_residual_bound"] = max((r.residual_bound for r in rows if r.residual_bound is not None),
                                              default=0.0)
        summary["uncertified_negative_controls"] = sum(r.negative_control_certified is not True for r in rows)
    return summary
