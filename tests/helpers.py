"""Shared helpers for the tests: run a catalog/strategy instance, build broken variants."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import pyspec as ps
from pyspec.backends import dual_float64, get_backend
from pyspec.catalog import Instance
from pyspec.catalog.base import broken

XP64 = get_backend(None, jit=False).xp


@contextlib.contextmanager
def on_duals() -> Iterator[None]:
    """Float64 checks on dual numbers (:func:`pyspec.backends.dual_float64`), with their scalar field
    active for direct use of ``get_backend(None)``: the property tests draw a new model per example,
    which JAX would compile again (~1–3 s an example against ~10–50 ms)."""
    with dual_float64(), get_backend(None).context():
        yield


def run(instance: Instance, precision: int | None = None, jit: bool = False, **kwargs: Any) -> Any:
    """Theorem 1 (continuous instances) or Theorem 2 (discrete instances) at the instance's point."""
    xp = get_backend(precision, jit=jit).xp
    with get_backend(precision).context():
        a, theta = instance.a(xp), instance.theta(xp)
    check = ps.theorem2 if instance.off_fixed is not None else ps.theorem1
    return check(instance.eq, instance.loss, a, theta, precision=precision, jit=jit, **kwargs)


def off_fixed_instance(instance: Instance) -> Instance:
    """The discrete instance evaluated at its point off the fixed-point set."""
    assert instance.off_fixed is not None
    return Instance(eq=instance.eq, loss=instance.loss, a=instance.a, theta=instance.off_fixed,
                    off_fixed=instance.off_fixed)


def holds_and_control_flagged(instance: Instance, precision: int | None = None) -> None:
    """The identities hold (to 10^-(D-10) at D digits) and the same checks flag the negative control:
    the model broken (Theorem 1) or a point off the fixed set (Theorem 2), each check with a residual
    of at least 1e-6 (for Theorem 1, under one of two independent perturbations)."""
    report = run(instance, precision=precision)
    assert report.holds, (instance.eq.name, report.checks)
    if precision is not None:
        assert max(c.residual for c in report.checks) <= 10.0 ** -(precision - 10), report.checks
    if instance.off_fixed is not None:
        bad = run(off_fixed_instance(instance), precision=precision, check_hypotheses=False)
        assert all(not c.holds and c.residual >= 1e-6 for c in bad.checks), (instance.eq.name, bad.checks)
        return
    bad = run(broken(instance), precision=precision, check_equivariance=False)
    assert not any(c.holds for c in bad.checks), (instance.eq.name, bad.checks)
    if any(c.residual < 1e-6 for c in bad.checks):
        # A scalar identity (item 1, 2b) can cancel by coincidence for one perturbation (~1 model in
        # 10³ at 1e-6); a second, independent perturbation must then move it.
        again = run(broken(instance, seed=8), precision=precision, check_equivariance=False)
        assert not any(c.holds for c in again.checks), (instance.eq.name, again.checks)
        assert all(max(c.residual, d.residual) >= 1e-6 for c, d in zip(bad.checks, again.checks, strict=True)), (
            instance.eq.name, bad.checks, again.checks)


def outcomes_hold_and_controls_flagged(outcomes: list[Any], precision: int | None = None) -> None:
    """Application outcomes (:mod:`pyspec.applications`): every part holds (to 10^-(D-10) at D digits)
    and the same check flags its negative control."""
    assert outcomes
    for o in outcomes:
        assert o.check.holds, (o.form, o.check)
        if precision is not None:
            assert o.check.residual <= 10.0 ** -(precision - 10), (o.form, o.check)
        assert not o.control.holds and o.control.residual >= 1e-6, (o.form, o.control_kind, o.control)
