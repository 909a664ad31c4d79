"""Shared helpers for the tests: run a catalog/strategy instance, build broken variants."""

from __future__ import annotations

from typing import Any

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.catalog import Instance
from pyspec.catalog.base import broken

XP64 = get_backend(None, jit=False).xp


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
    the model broken (Theorem 1) or a point off the fixed set (Theorem 2)."""
    report = run(instance, precision=precision)
    assert report.holds, (instance.eq.name, report.checks)
    if precision is not None:
        assert max(c.residual for c in report.checks) <= 10.0 ** -(precision - 10), report.checks
    if instance.off_fixed is None:
        bad = run(broken(instance), precision=precision, check_equivariance=False)
    else:
        bad = run(off_fixed_instance(instance), precision=precision, check_hypotheses=False)
    assert all(not c.holds and c.residual >= 1e-6 for c in bad.checks), (instance.eq.name, bad.checks)


def outcomes_hold_and_controls_flagged(outcomes: list[Any], precision: int | None = None) -> None:
    """Application outcomes (:mod:`pyspec.applications`): every part holds (to 10^-(D-10) at D digits)
    and the same check flags its negative control."""
    assert outcomes
    for o in outcomes:
        assert o.check.holds, (o.form, o.check)
        if precision is not None:
            assert o.check.residual <= 10.0 ** -(precision - 10), (o.form, o.check)
        assert not o.control.holds and o.control.residual >= 1e-6, (o.form, o.control_kind, o.control)
