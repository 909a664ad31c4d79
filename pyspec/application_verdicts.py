"""Three-valued verdicts for the applications of §§4–6 (:class:`pyspec.report.Report`).

The theorems measure float64's resolving power inside their programs (:mod:`pyspec.checks`,
:mod:`pyspec.verdicts`). An application is a composition of public steps, so :func:`three_valued`
measures it from outside, by the same rule: when a float64 part exceeds its tolerance, the application
is re-run at parameters moved by a few units in the last place (:func:`pyspec.checks.ulp_neighbours`);
``lhs − rhs`` moves by its rounding noise, which sets the part's resolution
(:func:`pyspec.checks.with_rounding_noise`); without a second differentiation route, a residual within
:data:`~pyspec.verdicts.DECIDED_MARGIN` times the tolerance is not decided in float64 either
(:func:`_without_second_route`). A part within that resolution is ``"inconclusive"``, and
when every callable is backend-neutral the application is re-run at
:data:`~pyspec.verdicts.ESCALATION_DIGITS` digits, which decides it (:func:`pyspec.verdicts.escalate_report`).
Parts that hold cost nothing extra.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, Callable, TypeVar

import numpy as np

from pyspec.adapters import TreeView
from pyspec.backends import get_backend
from pyspec.checks import NOISE_SAMPLES, NOISE_ULPS, IdentityCheck, limited, with_rounding_noise
from pyspec.errors import PyspecError
from pyspec.verdicts import DECIDED_MARGIN, escalate_report

__all__ = ["three_valued", "user_callables"]

F = TypeVar("F", bound=Callable[..., Any])

_CALLABLE_ARGUMENTS = ("model", "loss", "eq", "sample_losses")
"""Arguments of the application functions that hold the user's callables."""

_HYPOTHESIS_FLAGS = ("check_symmetry", "check_equivariance", "check_homogeneity", "check_hypotheses")
"""Arguments that switch an application's hypothesis checks off (for the ulp-moved re-runs)."""


def user_callables(arguments: dict[str, Any]) -> list[Callable[..., Any] | None]:
    """The user's callables among an application's bound arguments: ``model``, ``loss``, the
    ``model``, ``T`` and ``S`` of an ``eq``, and every per-sample loss."""
    found: list[Callable[..., Any] | None] = []
    for name in _CALLABLE_ARGUMENTS:
        value = arguments.get(name)
        if value is None:
            continue
        if name == "eq":
            found += [value.model, value.T, value.S]
        elif name == "sample_losses":
            found += list(value)
        else:
            found.append(value)
    return found


def _moved_parameters(theta: Any) -> list[Any]:
    """:data:`~pyspec.checks.NOISE_SAMPLES` copies of ``θ`` (array or any parameter container) with each
    entry moved by ``~NOISE_ULPS`` relative ulps (deterministic, as for the theorems)."""
    rng = np.random.default_rng(0x5EED)
    eps = float(np.finfo(np.float64).eps)
    if isinstance(theta, np.ndarray) or np.isscalar(theta) or hasattr(theta, "__array__"):
        arr = np.asarray(theta, dtype=np.float64)
        return [arr * (1.0 + rng.uniform(-NOISE_ULPS, NOISE_ULPS, arr.shape) * eps) for _ in range(NOISE_SAMPLES)]
    view = TreeView(theta)
    leaves = [np.asarray(x, dtype=np.float64) for x in view.arrays(theta)]
    return [view.rebuild([x * (1.0 + rng.uniform(-NOISE_ULPS, NOISE_ULPS, x.shape) * eps) for x in leaves])
            for _ in range(NOISE_SAMPLES)]


def _without_second_route(check: IdentityCheck) -> IdentityCheck:
    """``check`` with its resolution at least ``DECIDED_MARGIN ×`` its tolerance: moving the inputs by
    ulps does not reveal *systematic* rounding (e.g. ``H θ`` through a saturated softmax, measured at 11×
    the tolerance for a degree-9 network with logits ~10⁵, where 50 digits show the identity holds), and
    the applications have no second differentiation route (:func:`pyspec.verdicts.second_route_theorem1`)
    to bound it. A float64 residual in that band is ``"inconclusive"``, and escalated when possible."""
    if check.residual <= check.tolerance:
        return check
    return limited(check, DECIDED_MARGIN * check.tolerance,
                   f"no second differentiation route: a float64 residual up to {DECIDED_MARGIN:.0e} x the "
                   "tolerance may be systematic rounding (saturated derivatives)")


def three_valued(fn: F) -> F:
    """Give an application function (``theta`` and ``precision`` arguments, a
    :class:`~pyspec.report.Report` result) measured float64 resolution and automatic escalation
    (module docstring). High-precision calls are returned unchanged."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        report = fn(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if arguments.get("precision") is not None or all(c.residual <= c.tolerance for c in report.checks):
            return report

        def again(**changes: Any) -> Any:
            return fn(**{**arguments, **changes})

        # the hypotheses were checked at θ; a few ulps away only the rounding of lhs − rhs is wanted
        unchecked = {name: False for name in _HYPOTHESIS_FLAGS if name in arguments}
        try:
            samples = [again(theta=moved, **unchecked).parts for moved in _moved_parameters(arguments["theta"])]
        except PyspecError:  # a hypothesis fails a few ulps away: the point is within rounding of its edge
            samples = []
        parts = dict(report.parts)
        if samples and all(set(s) == set(parts) for s in samples):
            parts = with_rounding_noise(get_backend(None), parts, samples)
        report = dataclasses.replace(report, parts={name: _without_second_route(c) for name, c in parts.items()})
        dense = {"method": "dense"} if "method" in arguments else {}
        return escalate_report(report, user_callables(arguments), None,
                               lambda digits: again(precision=digits, **dense))

    return run  # type: ignore[return-value]
