"""Escalation of inconclusive float64 verdicts to high precision (docs/theory.md#residuals-and-tolerances).

A float64 check whose residual exceeds its tolerance but lies within what float64 resolves at that
point (:mod:`pyspec.checks`) is ``"inconclusive"``. When every callable of the problem is
backend-neutral (it accepts the keyword ``xp``, :mod:`pyspec.equivariance`), the theorems re-run the
check at :data:`ESCALATION_DIGITS` digits with exact derivatives and attach the result to each
inconclusive check (:attr:`~pyspec.checks.IdentityCheck.escalated`), which then decides its verdict;
the float64 residual stays in the report beside it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping, TypeVar

from pyspec.cache import compile_program
from pyspec.checks import IdentityCheck, limited
from pyspec.equivariance import accepts_xp
from pyspec.errors import PyspecError
from pyspec.reports import Theorem1Checks, Theorem2Checks
from pyspec.terms import Theorem1Terms

__all__ = ["DECIDED_MARGIN", "ESCALATION_DIGITS", "ROUTE_FACTOR", "backend_neutral", "escalate_report",
           "merge_escalated", "route_limited", "second_route_theorem1", "second_route_theorem2"]

ROUTE_FACTOR = 64.0
"""A residual up to this multiple of the disagreement between two differentiation routes is within
float64's resolving power (the disagreement is only a lower bound on the error of at least one route,
hence a wider factor than :data:`pyspec.checks.NOISE_FACTOR`)."""


DECIDED_MARGIN = 1e3
"""A failure whose residual exceeds this multiple of a degraded resolution is decided in float64.

The resolution is a measured noise level (``NOISE_FACTOR`` × the spread of ``lhs − rhs`` at ulp-moved
inputs, or ``ROUTE_FACTOR`` × the disagreement of two differentiation routes); rounding errors are of
the order of that spread, so a residual 10³ times above it is not rounding. Negative controls exceed
their resolution by 10⁶–10¹¹ and are decided without a 50-digit re-run."""


def _undecided(check: IdentityCheck) -> bool:
    """Inconclusive in float64, or failed within :data:`DECIDED_MARGIN` of a resolution measured to be
    degraded (above the tolerance): both are re-run at 50 digits when possible."""
    verdict = check.own_verdict
    if verdict == "inconclusive":
        return True
    degraded = check.resolution > check.tolerance
    return verdict == "fails" and degraded and check.residual <= DECIDED_MARGIN * check.resolution


ESCALATION_DIGITS = 50
"""Digits of the automatic re-run (residuals then ~``10^-40``: far below any float64 question)."""

R = TypeVar("R")


def backend_neutral(callables: Iterable[Callable[..., Any] | None]) -> bool:
    """Whether every given callable (``None`` skipped) accepts the array namespace ``xp``."""
    return all(fn is None or accepts_xp(fn) for fn in callables)


def escalate_report(report: R, callables: Iterable[Callable[..., Any] | None], precision: int | None,
                    rerun: Callable[[int], R]) -> R:
    """``report`` with its undecided checks decided at :data:`ESCALATION_DIGITS` digits.

    Only float64 reports (``precision is None``) with an undecided check (inconclusive, or failed where
    the resolution was measured above the tolerance) and backend-neutral ``callables`` are re-run
    (``rerun(digits)`` returns the same kind of report); others are returned unchanged.
    """
    checks = getattr(report, "checks", ())
    if precision is not None or not any(_undecided(c) for c in checks):
        return report
    if not backend_neutral(callables):
        return report
    try:
        high = rerun(ESCALATION_DIGITS)
    except PyspecError:
        # the float64 input itself fails a hypothesis exactly (e.g. a point within rounding of, but not
        # on, the fixed set): higher precision cannot settle it, the float64 verdict stays inconclusive
        return report
    return merge_escalated(report, high)


def _amplified(low: IdentityCheck, high: IdentityCheck) -> IdentityCheck:
    """``high`` with its tolerance multiplied by the amplification of rounding measured in float64
    (``low.resolution / low.tolerance``): cancellation amplifies the rounding of every precision by the
    same factor, so at 50 digits the residual is compared with ``tolerance × amplification``."""
    factor = max(low.resolution, low.tolerance) / low.tolerance if low.tolerance > 0 else 1.0
    if factor <= 1.0:
        return high
    # at least 10^-(D-10), the project's high-precision standard: saturated losses cancel more digits at
    # 50 digits than float64 can show (components below float64's range reappear)
    floor = 10.0 ** -(ESCALATION_DIGITS - 10)
    high = dataclasses.replace(high, tolerance=max(high.tolerance * factor, floor),
                               limit=f"tolerance x {factor:.1f} (at least {floor:.0e}): the amplification of rounding "
                                     "measured in float64")
    if low.resolution >= 1.0:  # float64 resolved no digit: the amplification is only bounded below
        high = limited(high, 2.0, "float64 resolved no digit, so the cancellation is unbounded: "
                                  "this precision may not resolve it either")
    return high


def merge_escalated(report: R, high: R) -> R:
    """Attach each check of ``high`` to the same, inconclusive check of ``report`` (dataclass fields of
    type :class:`IdentityCheck`, or a ``parts`` mapping of them)."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(report):  # type: ignore[arg-type]
        low, hi = getattr(report, field.name), getattr(high, field.name)
        if isinstance(low, IdentityCheck):
            if _undecided(low):
                changes[field.name] = dataclasses.replace(low, escalated=_amplified(low, hi))
        elif field.name == "parts" and isinstance(low, dict):
            changes["parts"] = {name: dataclasses.replace(c, escalated=_amplified(c, hi[name]))
                                if _undecided(c) else c for name, c in low.items()}
    if any(f.name == "escalated" for f in dataclasses.fields(report)):  # type: ignore[arg-type]
        changes["escalated"] = True
    return dataclasses.replace(report, **changes)  # type: ignore[type-var]


def _route_note(delta: float) -> str:
    return (f"second differentiation route: recomputed by reverse-mode (forward-over-reverse) "
            f"differentiation it differs by {delta:.1e} (relative), a float64 error no input perturbation reveals "
            "(e.g. saturated softmax or tanh)")


def second_route_theorem1(problem: Any, theta: Any, q: Theorem1Terms, checks: Theorem1Checks) -> Theorem1Checks:
    """Raise Theorem 1's checks' resolution by ``ROUTE_FACTOR ×`` the disagreement between ``G``, ``∇L``
    and ``H v`` as computed (forward mode) and by reverse / forward-over-reverse differentiation (JAX
    float64 only).

    Saturated losses make forward-over-forward ``H v`` lose digits through *smooth*, systematic rounding
    (e.g. ``1.8e-12`` relative at logits ~10⁶ where the other route is exact to ``1e-16``): moving the
    inputs by ulps does not reveal it (:func:`pyspec.checks.with_rounding_noise`), a second route does.
    """
    if problem.backend.name != "jax-float64":
        return checks
    import jax
    import jax.numpy as jnp
    import numpy as np

    def reverse_routes(t: Any, v: Any) -> tuple[Any, Any, Any]:
        grad = jax.grad(problem.L)
        Hv = jax.vmap(lambda col: jax.jvp(grad, (t,), (col,))[1], in_axes=1, out_axes=1)(v)
        return Hv, jax.jacrev(problem.f)(t), grad(t)

    v = np.asarray(q.v)
    Hv, G, g = problem.backend.to_host(compile_program(problem, reverse_routes)(jnp.asarray(theta), jnp.asarray(v)))
    dH, dG, dg = Hv - np.asarray(q.Hv), G - np.asarray(q.G), g - np.asarray(q.grad_L)
    deltas = {
        "theorem1_key_identity": float(np.linalg.norm(dG @ v)),
        "theorem1_first_order": float(np.linalg.norm(dg @ v)),
        "theorem1_hessian_action": float(np.linalg.norm(dH)),
        "theorem1_hessian_quadratic": float(np.linalg.norm(v.T @ dH)),
    }
    return route_limited(checks, deltas)


def route_limited(checks: Theorem1Checks, deltas: Mapping[str, float]) -> Theorem1Checks:
    """Each check with its resolution at least ``ROUTE_FACTOR ×`` the disagreement between two
    differentiation routes for its identity id (``deltas``; absent ids: none measured)."""
    return checks.map(lambda check: _route_limited(check, deltas.get(check.identity, 0.0)))


def _route_limited(check: IdentityCheck, delta: float) -> IdentityCheck:
    """``check`` with its resolution at least ``ROUTE_FACTOR × delta`` relative to its scale."""
    if not (delta and check.scale):
        return check
    return limited(check, ROUTE_FACTOR * delta / check.scale, _route_note(delta / check.scale))


def second_route_theorem2(problem: Any, theta: Any, J: Any, grad: Any, H: Any, checks: Theorem2Checks) -> Theorem2Checks:
    """Theorem 2's analogue of :func:`second_route_theorem1`: ``∇L`` by reverse mode and ``H`` by
    forward-over-reverse against the forward-mode ones (JAX float64 only)."""
    if problem.backend.name != "jax-float64":
        return checks
    import jax
    import jax.numpy as jnp
    import numpy as np

    def reverse_routes(t: Any) -> tuple[Any, Any]:
        return jax.grad(problem.L)(t), jax.jacfwd(jax.grad(problem.L))(t)

    g_route, H_route = problem.backend.to_host(compile_program(problem, reverse_routes)(jnp.asarray(theta)))
    dg, dH = g_route - np.asarray(grad), H_route - np.asarray(H)
    J = np.asarray(J)
    return Theorem2Checks(
        gradient=_route_limited(checks.gradient, float(np.linalg.norm(dg) + np.linalg.norm(J.T @ dg))),
        hessian=_route_limited(checks.hessian, float(np.linalg.norm(dH) + np.linalg.norm(J.T @ dH @ J))),
    )
