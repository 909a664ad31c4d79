"""Verdicts you can trust: three-valued verdicts, escalation to 50 digits, coherent hypothesis
tolerances, and a named outcome for every bad input (pyspec.verdicts, pyspec.checks, hypotheses)."""

from __future__ import annotations

import dataclasses
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.characteristic import numerical_ranks, solve_condition, solve_conditions
from pyspec.checks import compare, with_rounding_noise
from pyspec.smoothness import derivative_jump, derivative_jumps
from pyspec.errors import DegenerateError, DTypeError, InputError, NonDifferentiableWarning, PrecisionError
from pyspec.verdicts import DECIDED_MARGIN, _undecided

B = get_backend(None)
rng = np.random.default_rng(12)
X = rng.standard_normal((3, 5))
W0 = rng.standard_normal((4, 3))
V0 = rng.standard_normal((2, 4))
THETA = np.concatenate([W0.ravel(), V0.ravel()])  # n = 20


def net(theta, *, xp):
    """``V tanh-free`` two-layer linear net ``V W X`` (m = 10): the rescaling ``(e^a W, e^-a V)`` and
    ``(A W, V A⁻¹)`` are symmetries."""
    W = xp.reshape(theta[:12], (4, 3))
    V = xp.reshape(theta[12:], (2, 4))
    return xp.ravel(V @ (W @ X))


def rescale(a, theta, *, xp):
    return xp.concatenate([xp.exp(a[0]) * theta[:12], xp.exp(-a[0]) * theta[12:]])


def mse(y, *, xp):
    return 0.5 * xp.sum((y - 0.3) ** 2)


RESCALING = ps.Equivariance(model=net, T=rescale, name="rescaling")
A1 = np.array([0.3])


# --- three-valued verdicts ------------------------------------------------------------------------


def test_rounding_noise_makes_a_residual_inconclusive_not_failed() -> None:
    lhs = np.array([1.0, 2.0])
    check = compare(B, "x", lhs, {"t": lhs + 1e-12}, 1e-15)
    assert check.verdict == "fails" and check.holds is False and "tolerance" in check.reason
    noisy = with_rounding_noise(B, {"x": check}, [{"x": compare(B, "x", lhs, {"t": lhs - 1e-12}, 1e-15)}])["x"]
    assert noisy.verdict == "inconclusive" and noisy.holds is None and "rounding noise" in noisy.reason
    # negative control: a violation that does not move with the inputs stays a failure
    steady = with_rounding_noise(B, {"x": check}, [{"x": compare(B, "x", lhs, {"t": lhs + 1.0001e-12}, 1e-15)}])["x"]
    assert steady.verdict == "fails"


def test_report_verdicts_are_three_valued() -> None:
    report = ps.theorem1(RESCALING, mse, A1, THETA)
    assert report.verdict == "holds" and report.holds is True and report.reason is None
    broken = RESCALING.replace(model=lambda t, *, xp: net(t, xp=xp) + 1e-3 * xp.sin(3.0 * t[:10]))
    bad = ps.theorem1(broken, mse, A1, THETA, check_equivariance=False)
    assert bad.verdict == "fails" and bad.holds is False and "theorem1_key_identity" in bad.reason


# --- escalation to 50 digits ---------------------------------------------------------------------


def test_a_failure_far_above_a_degraded_resolution_is_decided_without_escalation() -> None:
    """A negative control of a backend-neutral model: residual ≫ ``DECIDED_MARGIN`` × resolution is
    ``fails`` in float64 (no 50-digit re-run); just above a degraded resolution it is re-run."""
    broken = RESCALING.replace(model=lambda t, *, xp: net(t, xp=xp) + 1e-3 * xp.sin(3.0 * t[:10]))
    bad = ps.theorem1(broken, mse, A1, THETA, check_equivariance=False)
    assert bad.verdict == "fails" and not bad.escalated
    failed = [c for c in bad.checks if c.own_verdict == "fails"]
    assert failed and all(c.residual > DECIDED_MARGIN * max(c.resolution, c.tolerance) for c in failed)
    check = failed[0]
    near = dataclasses.replace(check, resolution=2 * check.tolerance, residual=3 * check.tolerance)
    far = dataclasses.replace(near, residual=2 * DECIDED_MARGIN * near.resolution)
    assert near.own_verdict == far.own_verdict == "fails"
    assert _undecided(near) and not _undecided(far)
    assert not _undecided(dataclasses.replace(near, resolution=check.tolerance))  # not degraded: decided


def _saturated():
    """An ``x³``-network of degree 9 with cross-entropy and logits ~10⁵ (issue 12, item 2): forward-over-
    forward ``H v`` through the saturated softmax loses ~4 digits in float64 by smooth, systematic
    rounding (the forward-over-reverse route is exact)."""
    r = np.random.default_rng(5)
    W1, W2, X = r.standard_normal((3, 2)), r.standard_normal((2, 3)), r.standard_normal((2, 3))

    def model(t, *, xp):
        A = xp.reshape(t[:6], (3, 2))
        Bm = xp.reshape(t[6:12], (2, 3))
        return xp.ravel(t[12] * (Bm @ ((A @ X) ** 3)) ** 2)  # degree 3·2 + 2 + 1 = 9

    def T(a, t, *, xp):
        return xp.exp(a[0]) * t

    def loss(y, *, xp):  # log-sum-exp cross-entropy: three samples, two classes
        z = xp.transpose(xp.reshape(y, (2, 3)))
        return xp.sum(xp.logsumexp(z, axis=1) - z[:, 0])

    eq = ps.Equivariance(model=model, T=T, S=lambda a, y, *, xp: xp.exp(9 * a[0]) * y, name="saturated")
    theta = 1.5 * np.concatenate([W1.ravel(), W2.ravel(), [1.0]])
    return eq, loss, theta


def test_inconclusive_float64_is_escalated_to_50_digits_and_both_are_reported() -> None:
    eq, loss, theta = _saturated()
    assert np.max(np.abs(eq.model(theta, xp=B.xp))) > 1e4
    report = ps.theorem1(eq, loss, np.array([0.05]), theta)
    assert report.escalated and report.verdict == "holds", report.reason
    escalated = [c for c in report.checks if c.own_verdict == "inconclusive"]
    assert escalated and all(c.escalated.backend == "mpmath-50" and c.escalated.residual < 1e-40 for c in escalated)
    assert all(c.holds is True and "float64 inconclusive" in c.reason for c in escalated)
    assert all("second differentiation route" in c.limit for c in escalated)
    # without the xp namespace there is no escalation: the float64 verdict stays inconclusive, never fails
    plain = eq.replace(model=lambda t: eq.model(t, xp=B.xp), T=lambda a, t: eq.T(a, t, xp=B.xp),
                       S=lambda a, y: eq.S(a, y, xp=B.xp))
    report64 = ps.theorem1(plain, lambda y: loss(y, xp=B.xp), np.array([0.05]), theta)
    assert report64.verdict == "inconclusive" and not report64.escalated and "second differentiation route" in report64.reason


def test_underflow_is_vacuous_not_holds() -> None:
    W = rng.standard_normal((3, 4))
    eq = ps.Equivariance(model=lambda t: (W @ t) ** 3, T=lambda a, t: jnp.exp(a[0]) * t,
                         S=lambda a, y: jnp.exp(3 * a[0]) * y, name="cubic")
    report = ps.theorem1(eq, lambda y: jnp.sum(y**2), np.array([0.2]), 1e-110 * rng.standard_normal(4))
    assert report.verdict == "inconclusive" and report.holds is None and "vacuous" in report.reason


def test_underflow_of_a_backend_neutral_model_is_settled_at_50_digits() -> None:
    W = rng.standard_normal((3, 4))
    eq = ps.Equivariance(model=lambda t, *, xp: (W @ t) ** 3, T=lambda a, t, *, xp: xp.exp(a[0]) * t,
                         S=lambda a, y, *, xp: xp.exp(3 * a[0]) * y, name="cubic")
    report = ps.theorem1(eq, lambda y, *, xp: xp.sum(y**2), np.array([0.2]), 1e-110 * rng.standard_normal(4))
    assert report.escalated and report.verdict == "holds"
    assert all(c.trivial and c.escalated is not None and not c.escalated.trivial for c in report.checks)


# --- coherent hypothesis tolerances --------------------------------------------------------------


def test_solve_condition_is_one_for_a_diagonal_solve() -> None:
    D = np.diag([3e3, 1 / 3e3, 1.0])
    assert solve_condition(B, D) == 1.0
    assert np.linalg.cond(D) == pytest.approx(9e6)
    blocks = np.zeros((4, 4))
    blocks[:2, :2] = [[1.0, 2.0], [3.0, 4.0]]
    blocks[2:, 2:] = np.diag([1e5, 1.0])
    assert solve_condition(B, blocks) == pytest.approx(np.linalg.cond(blocks[:2, :2]))
    assert solve_condition(B, np.diag([1.0, 0.0])) == float("inf")


def test_batched_position_quantities_are_the_single_ones() -> None:
    """The batched checks' condition numbers, ranks and jumps (pyspec.batch) are the single check's,
    matrix by matrix: every sparsity pattern (dense, diagonal, monomial, blocks, a zero row, all zero,
    a dense rank-one) and every rank of ``∂aT``."""
    dense = rng.standard_normal((4, 4))
    blocks = np.zeros((4, 4))
    blocks[:2, :2], blocks[2:, 2:] = [[1.0, 2.0], [3.0, 4.0]], np.diag([1e5, 1.0])
    zero_row = dense.copy()
    zero_row[1] = 0.0
    stack = np.stack([dense, np.diag([3e3, 1 / 3e3, 1.0, 2.0]), np.eye(4)[[2, 0, 3, 1]] * 7.0, blocks, zero_row,
                      np.zeros((4, 4)), np.outer(dense[0], dense[1])])
    singles = [solve_condition(B, m) for m in stack]
    np.testing.assert_array_equal(solve_conditions(B, stack), singles)
    assert singles[1] == singles[2] == 1.0 and singles[4] == singles[5] == np.inf and singles[0] > 1.0
    T_a = np.stack([dense[:, :2], np.zeros((4, 2)), np.outer(dense[:, 0], [1.0, 2.0]), dense[:, :2] * [1.0, 1e-30]])
    np.testing.assert_array_equal(numerical_ranks(B, 4, T_a), [2, 0, 1, 1])
    x, step = rng.standard_normal((4, 2)), 1e-6 * rng.standard_normal((4, 2))
    smooth = np.stack([x, x + step, x - step])  # d₊ + d₋ − 2d₀ = 0: no jump
    kink = smooth.copy()
    kink[1, 0] += 1.0  # d₊ of the first point jumps
    kink[2, 3, 0] = np.nan  # not finite: 0, the check that meets the NaN reports it
    for samples in (smooth, kink):
        assert list(derivative_jumps(*samples)) == [derivative_jump(B, *samples[:, i]) for i in range(4)]
    assert list(derivative_jumps(*smooth)) == [0.0] * 4
    assert derivative_jumps(*kink)[0] > 0.1 and list(derivative_jumps(*kink)[1:]) == [0.0] * 3


def test_diagonal_rescaling_at_large_a_catches_a_small_violation() -> None:
    """Issue 12: at ``a = 3e3`` (``T = (aW, V/a)``, cond 9e6) a 4.9e-4 violation was accepted."""
    T = lambda a, t, *, xp: xp.concatenate([a[0] * t[:12], t[12:] / a[0]])  # noqa: E731
    eq = ps.Equivariance(model=net, T=T, name="scaling")
    report = ps.good_position(eq, np.array([3e3]), THETA)
    assert report.cond_T == 1.0 and report.ok
    broken = eq.replace(model=lambda t, *, xp: net(t, xp=xp) * (1 + 4.9e-4 * xp.sin(t[0])))
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(broken, mse, np.array([3e3]), THETA)


@pytest.mark.parametrize("epsilon", [1e-4, 1e-5])
def test_ill_conditioned_position_still_catches_a_violation(epsilon) -> None:
    """At cond(∂θT) ≈ 3e7 a real violation is caught: by the hypothesis check or by an identity, never
    a pass (issue 12 item 3). ``T`` moves θ by ~10% at ``a = 0.1``, so eq. (1) is violated by ~ε/6
    relative: ≥ 1.5e-6 for both ε."""
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = q @ np.diag([1.0, 1.0, 1.0, 3e-8]) @ q.T  # cond(∂θT) = cond(A) = 3.3e7 (per block)

    def gl(a, t, *, xp):
        M = A * (1 + a[0])
        W = xp.reshape(t[:12], (4, 3))
        V = xp.reshape(t[12:], (2, 4))
        return xp.concatenate([xp.ravel(M @ W), xp.ravel(V @ xp.inv(M))])

    eq = ps.Equivariance(model=net, T=gl, name="conjugated")
    assert 1e6 < ps.good_position(eq, np.array([0.1]), THETA).cond_T < 1e8
    assert ps.theorem1(eq, mse, np.array([0.1]), THETA).verdict != "fails"  # valid: no false alarm
    size = epsilon * np.linalg.norm(net(THETA, xp=B.xp)) / np.sqrt(10)
    broken = eq.replace(model=lambda t, *, xp: net(t, xp=xp) + size * xp.sin(t[:10]))
    try:
        report = ps.theorem1(broken, mse, np.array([0.1]), THETA)
    except ps.EquivarianceError:
        return
    assert report.verdict == "fails", report


def test_point_barely_off_the_fixed_set_is_not_a_fixed_point() -> None:
    """Issue 12: a point 1e-12 off the fixed set was accepted, then failed Theorem 2."""
    swap = ps.Equivariance(model=lambda t, *, xp: xp.tanh(t[:3] + t[3:]) * t[:3] * t[3:],
                           T=lambda a, t, *, xp: xp.concatenate([t[3:], t[:3]]), name="swap")
    fixed = np.tile(rng.standard_normal(3), 2)
    assert ps.theorem2(swap, mse, np.zeros(1), fixed).holds
    off = fixed + 1e-12 * np.concatenate([np.ones(3), -np.ones(3)])
    with pytest.raises(ps.NotFixedPointError):
        ps.theorem2(swap, mse, np.zeros(1), off)


# --- no silent inputs -----------------------------------------------------------------------------


def test_complex_parameters_are_an_error() -> None:
    with pytest.raises(DTypeError, match="complex"):
        ps.theorem1(RESCALING, mse, A1, THETA + 1e-3j)


def test_complex_output_and_loss_are_errors() -> None:
    eq = RESCALING.replace(model=lambda t: jnp.exp(1j * t[:3]) * jnp.sum(t))
    with pytest.raises(DTypeError, match="model output"):
        ps.theorem1(eq, lambda y: jnp.sum(jnp.abs(y)), A1, THETA)
    with pytest.raises(DTypeError, match="loss"):
        ps.theorem1(RESCALING, lambda y, *, xp: xp.sum(y) * (1 + 1j), A1, THETA)


def test_integer_outputs_loss_and_T_are_errors() -> None:
    with pytest.raises(DTypeError, match="model output"):
        ps.theorem1(RESCALING.replace(model=lambda t: jnp.round(t[:3]).astype(jnp.int32)), mse, A1, THETA)
    with pytest.raises(DTypeError, match="loss"):
        ps.theorem1(RESCALING, lambda y: jnp.sum(y > 0), A1, THETA)
    with pytest.raises(DTypeError, match=r"T\(a, theta\)"):
        ps.theorem1(RESCALING.replace(T=lambda a, t: t.astype(jnp.int32)), mse, A1, THETA)


def test_T_reading_a_out_of_range_is_an_error() -> None:
    eq = RESCALING.replace(T=lambda a, t: jnp.concatenate([jnp.exp(a[1]) * t[:12], jnp.exp(-a[1]) * t[12:]]))
    with pytest.raises(DegenerateError, match="out of range"):
        ps.theorem1(eq, mse, A1, THETA)


def test_T_independent_of_a_is_an_error() -> None:
    eq = RESCALING.replace(T=lambda a, t, *, xp: t * 1.0)
    with pytest.raises(DegenerateError, match="rank"):
        ps.theorem1(eq, mse, A1, THETA)
    half = RESCALING.replace(T=lambda a, t, *, xp: rescale(a, t, xp=xp))
    with pytest.raises(DegenerateError, match="rank of ∂aT is 1 < k = 2"):
        ps.theorem1(half, mse, np.array([0.3, 0.7]), THETA)


def test_relu_at_a_kink_warns_and_is_not_holds() -> None:
    W = np.array([[1.0, -1.0], [0.5, 2.0]])
    relu = ps.Equivariance(model=lambda t, *, xp: xp.relu(W @ t[:2]) * t[2],
                           T=lambda a, t, *, xp: xp.concatenate([xp.exp(a[0]) * t[:2], xp.exp(-a[0]) * t[2:]]),
                           name="relu")
    kink = np.array([1.0, 1.0, 0.7])  # first hidden unit exactly at 0
    with pytest.warns(NonDifferentiableWarning):
        report = ps.theorem1(relu, mse, A1, kink)
    assert report.nondifferentiable and report.holds is not True and "non-differentiable" in report.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # negative control: a smooth point does not warn
        assert ps.theorem1(relu, mse, A1, np.array([1.0, 0.6, 0.7])).holds


# --- input validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("precision", [0, -5, 19, 301, 324, 400, 30.0, True])
def test_precision_range_is_checked_up_front(precision) -> None:
    with pytest.raises(PrecisionError, match="20 to 300"):
        ps.theorem1(RESCALING, mse, A1, THETA, precision=precision)


def test_empty_theta_is_an_error() -> None:
    with pytest.raises(ps.ShapeError, match="empty"):
        ps.theorem1(RESCALING, mse, A1, np.zeros(0))


def test_max_condition_nan_is_an_error() -> None:
    with pytest.raises(InputError, match="max_condition"):
        ps.theorem1(RESCALING, mse, A1, THETA, max_condition=float("nan"))


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("model gradient", "model's Jacobian"),
        ("loss hessian", "loss's Hessian"),
        ("T", r"T\(a, theta\)"),
        ("T derivative", "dT/dtheta"),
        ("S", r"S\(a, f\(theta\)\)"),
    ],
)
def test_nan_is_attributed_to_its_producer(where, message) -> None:
    model, T, S, loss = net, rescale, None, mse
    if where == "model gradient":
        model = lambda t, *, xp: net(t, xp=xp) + xp.sqrt(t[0] ** 2 * 0.0)  # noqa: E731  (d sqrt at 0: inf·0)
    elif where == "loss hessian":
        y0 = float(net(THETA, xp=B.xp)[0])  # relu(y₀ − y₀(θ))^1.5: gradient 0, second derivative 0^-0.5 · 0
        loss = lambda y, *, xp: mse(y, xp=xp) + xp.relu(y[0] - y0) ** 1.5  # noqa: E731
    elif where == "T":
        T = lambda a, t, *, xp: rescale(a, t, xp=xp) * xp.log(a[0] - 1.0)  # noqa: E731
    elif where == "T derivative":
        T = lambda a, t, *, xp: rescale(a, t, xp=xp) + xp.sqrt((t - t) ** 2)  # noqa: E731
    else:
        S = lambda a, y, *, xp: y * xp.log(a[0] - 1.0)  # noqa: E731
        T = lambda a, t, *, xp: rescale(a, t, xp=xp)  # noqa: E731
    eq = ps.Equivariance(model=model, T=T, S=S, name=where)
    with pytest.raises(ps.NonFiniteError, match=message):
        ps.theorem1(eq, loss, A1, THETA, check_equivariance=False)


# --- command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--precision", "0"],
        ["verify", "--precision", "-5"],
        ["verify", "--precision", "324"],
        ["claims", "--precision", "x"],
        ["bench", "--sizes", "garbage"],
        ["figures", "--out", "/proc/no-such-folder/out"],
    ],
)
def test_cli_rejects_bad_arguments_with_one_line_and_exit_2(argv, capsys) -> None:
    from pyspec.cli import main

    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_verify_prints_inconclusive_rows_and_exits_0_on_them(monkeypatch, capsys) -> None:
    import pyspec.verify as verify_module
    from pyspec.cli import main

    def fake_verify(names, **_):
        row = dict(entry="e", identity="theorem1_key_identity", form="", residual=1e-12, tolerance=1e-13,
                   negative_control=1e-3, negative_control_kind="broken", negative_control_flagged=True)
        return [verify_module.Row(**row, holds=None, verdict="inconclusive", reason="rounding noise 1e-13"),
                verify_module.Row(**(row | {"residual": 1e-16}), holds=True, verdict="holds")]

    monkeypatch.setattr(verify_module, "verify", fake_verify)
    assert main(["verify", "--entries", "polynomial_homogeneous"]) == 0
    out = capsys.readouterr().out
    assert "INCONCLUSIVE e theorem1_key_identity" in out and "rounding noise" in out and "1 inconclusive" in out
    failing = lambda names, **_: [verify_module.Row(**(fake_verify(names)[0].__dict__ | {"verdict": "fails", "holds": False}))]  # noqa: E731
    monkeypatch.setattr(verify_module, "verify", failing)
    assert main(["verify", "--entries", "polynomial_homogeneous"]) == 1
