"""Three-valued verdicts for the §§4–6 applications (pyspec.application_verdicts): systematic float64
rounding in a saturated model is inconclusive and settled at 50 digits, never a false ``fails``; a
broken model still fails in float64 without a re-run; holding reports cost one call."""

from __future__ import annotations

import numpy as np

import pyspec as ps
from pyspec.application_verdicts import three_valued, user_callables
from pyspec.backends import get_backend
from pyspec.checks import NOISE_SAMPLES, compare
from pyspec.report import Report
from pyspec.verdicts import DECIDED_MARGIN

B = get_backend(None)
r = np.random.default_rng(5)
W1, W2, X = r.standard_normal((3, 2)), r.standard_normal((2, 3)), r.standard_normal((2, 3))
THETA = 1.5 * np.concatenate([W1.ravel(), W2.ravel(), [1.0]])


def model(t, *, xp):
    """An ``x³`` network, homogeneous of degree 9, with logits ~10⁵ (issue 12's saturated regime)."""
    A = xp.reshape(t[:6], (3, 2))
    Bm = xp.reshape(t[6:12], (2, 3))
    return xp.ravel(t[12] * (Bm @ ((A @ X) ** 3)) ** 2)


def loss(y, *, xp):  # log-sum-exp cross-entropy, three samples, two classes
    z = xp.transpose(xp.reshape(y, (2, 3)))
    return xp.sum(xp.logsumexp(z, axis=1) - z[:, 0])


def test_saturated_hessian_action_is_inconclusive_in_float64_and_holds_at_50_digits() -> None:
    assert np.max(np.abs(model(THETA, xp=B.xp))) > 1e4
    report = ps.homogeneity_hessian_action(model, loss, THETA, 9)
    check = report.hessian_action
    # float64 misses the tolerance by ~10x through systematic rounding that ulp moves do not reveal
    assert check.tolerance < check.residual <= DECIDED_MARGIN * check.tolerance
    assert check.own_verdict == "inconclusive" and "second differentiation route" in check.limit
    assert check.escalated is not None and check.escalated.backend == "mpmath-50" and check.escalated.residual < 1e-40
    assert report.verdict == "holds"
    # without the xp namespace nothing can settle it: inconclusive, never fails
    plain = ps.homogeneity_hessian_action(lambda t: model(t, xp=B.xp), lambda y: loss(y, xp=B.xp), THETA, 9)
    assert plain.verdict == "inconclusive" and plain.hessian_action.escalated is None


def test_broken_model_fails_in_float64_without_a_rerun() -> None:
    """Negative control: the same check flags a model that is not homogeneous, decided in float64."""
    # 10⁻³ of the outputs' size (~10⁵), so far outside what float64 might explain
    broken = lambda t, *, xp: model(t, xp=xp) + 1e2 * xp.sin(3.0 * t)[:6]  # noqa: E731
    report = ps.homogeneity_hessian_action(broken, loss, THETA, 9, check_homogeneity=False)
    check = report.hessian_action
    assert report.verdict == "fails" and check.escalated is None
    assert check.residual > DECIDED_MARGIN * max(check.resolution, check.tolerance)


def test_holding_reports_cost_one_call_and_failures_measure_their_noise() -> None:
    calls = []

    @three_valued
    def application(model, theta, precision=None):
        calls.append(precision)
        lhs = B.xp.asarray([model(theta)])
        return Report(identity="toy", parts={"toy": compare(B, "toy", lhs, {"zero": B.xp.zeros(1)}, 1e-13, 1.0)})

    assert application(lambda t: 0.0 * t[0], np.ones(2)).verdict == "holds" and calls == [None]
    calls.clear()
    failed = application(lambda t: 1e-3 + 0.0 * t[0], np.ones(2))
    assert failed.verdict == "fails" and calls == [None] * (1 + NOISE_SAMPLES)  # not backend-neutral: no escalation


def test_user_callables_of_each_argument_kind() -> None:
    eq = ps.Equivariance(model=abs, T=max, S=min)
    found = user_callables({"eq": eq, "loss": len, "sample_losses": [sum, any], "theta": np.ones(2)})
    assert found == [len, abs, max, min, sum, any]
