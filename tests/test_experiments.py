"""Tests of ``pyspec figures`` (pyspec.experiments): a tiny-size smoke run of every experiment, the
command line, and the estimators and prediction formulas, each with a negative control."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyspec.cli import main
from pyspec.experiments import EXPERIMENTS, run_experiments
from pyspec.experiments.runner import render_report
from pyspec.experiments import conservation_drift, noether_sgd
from pyspec.experiments.common import Outcome, check_row, dense_hessian, hvp, info_row
from pyspec.experiments.estimators import cumulative_share, loglog_slope, monte_carlo_mean
from pyspec.experiments.predictions import (
    noether_drift_rate,
    sharpness_bound,
    softmax_variance_curvature,
    symmetry_kernel_lower_bound,
)
from pyspec.experiments.symmetry_blocks import adapted_basis


# --- smoke: every experiment at the tiny size ------------------------------------------------------

@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_experiment_tiny_passes_and_writes_files(tmp_path, name):
    (outcome,) = run_experiments(tmp_path, size="tiny", only=[name], progress=lambda *a: None)
    failed = [r for r in outcome.rows if r.passed is False]
    assert outcome.passed, failed
    assert outcome.figure.exists() and outcome.figure.stat().st_size > 10_000
    assert outcome.figure.with_suffix(".pdf").stat().st_size > 5_000  # vector copy beside the PNG
    data = json.loads(outcome.data.read_text())
    assert data["rows"] and all(row["quantity"] for row in data["rows"])
    report = (tmp_path / "REPORT.md").read_text()
    assert outcome.title.replace("|", "\\|") in report and "**PASS**" in report


def test_cli_figures_writes_report_and_summary(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path), "--size", "tiny", "--only", "last_layer"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] and [e["name"] for e in summary["experiments"]] == ["last_layer"]
    assert summary["verdict"] == summary["experiments"][0]["verdict"] == "PASS"
    assert (tmp_path / "last_layer.png").exists() and (tmp_path / "REPORT.md").exists()
    assert "PASS" in capsys.readouterr().out


def test_an_undecided_cross_check_is_inconclusive_not_failed(tmp_path):
    """A claim that float64 could not decide (``holds is None``) reads INCONCLUSIVE in its row, its
    experiment and the report (it used to read FAIL); it is not a PASS. Controls: a failed claim
    makes the experiment FAIL whatever else is undecided; information rows never count."""
    decided = check_row("decided", "0", "1e-17", "1e-12", True)
    undecided = check_row("cross-check", "holds", "inconclusive", "-", None)
    failed = check_row("failed", "0", "0.3", "1e-12", False)
    info = info_row("step size", "0.1")
    assert [r.verdict for r in (decided, undecided, failed, info)] == ["PASS", "INCONCLUSIVE", "FAIL", "info"]

    def outcome(*rows):
        return Outcome("x", "X", "§4", rows, tmp_path / "x.png", tmp_path / "x.json")

    assert outcome(decided, info).verdict == "PASS" and outcome(decided, info).passed
    assert outcome(decided, undecided, info).verdict == "INCONCLUSIVE" and not outcome(decided, undecided).passed
    assert outcome(undecided, failed).verdict == "FAIL"
    report = render_report([outcome(decided, undecided, info)], "tiny", 0, 1.0)
    assert "Verdict: **INCONCLUSIVE**" in report and "| 1/2 |" in report and "**FAIL**" not in report
    assert "Overall verdict: **INCONCLUSIVE**" in report
    assert "Overall verdict: **FAIL**" in render_report([outcome(decided), outcome(failed)], "tiny", 0, 1.0)


def test_cli_figures_rejects_unknown_experiment(tmp_path):
    assert main(["figures", "--out", str(tmp_path), "--only", "nonsense"]) == 2


# --- estimators --------------------------------------------------------------------------------------

def test_loglog_slope_recovers_exponent_with_negative_control():
    x = np.geomspace(1e-4, 1e-1, 9)
    rng = np.random.default_rng(0)
    fit = loglog_slope(x, 3 * x**2 * np.exp(0.01 * rng.normal(size=x.size)))
    assert abs(fit.slope - 2) < 4 * fit.stderr + 1e-12 and fit.stderr < 0.01
    assert abs(loglog_slope(x, 5 * x).slope - 2) > 0.9  # O(η) is not O(η²)
    with pytest.raises(ValueError):
        loglog_slope(x, -x)


def test_gd_drift_orders_conserved_vs_non_conserved():
    """Experiment a's estimator on its own model: the conserved charge drifts at slope 2, the sum
    ‖u‖² + ‖w‖² (negative control) at slope 1."""
    cfg = conservation_drift.CONFIGS["tiny"]
    rescaling, _ = conservation_drift.build_models(cfg, np.random.default_rng(1))
    etas = np.geomspace(1e-4, 1e-2, 5)
    dq, dp = conservation_drift.gd_drift_per_step(rescaling, etas, 4)
    assert abs(loglog_slope(etas, dq).slope - 2) < conservation_drift.SLOPE_TOLERANCE
    control = loglog_slope(etas, dp).slope
    assert abs(control - 1) < conservation_drift.SLOPE_TOLERANCE and abs(control - 2) > 0.5


def test_monte_carlo_mean_coverage_and_negative_control():
    rng = np.random.default_rng(0)
    z = np.array([monte_carlo_mean(rng.normal(1.0, 2.0, size=60), reference=1.0).z for _ in range(400)])
    assert 0.92 <= np.mean(np.abs(z) <= 1.96) <= 0.98  # nominal 95% coverage
    assert abs(monte_carlo_mean(rng.normal(1.5, 2.0, size=2000), reference=1.0).z) > 3  # shifted mean rejected
    with pytest.raises(ValueError):
        monte_carlo_mean(np.ones(1))


def test_cumulative_share_with_negative_control():
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    inside = U[:, :2] @ rng.normal(size=2)
    share = cumulative_share(inside, U)
    assert np.allclose(share[1:], 1.0) and np.all(np.diff(share) >= -1e-15)
    outside = inside + 0.1 * U[:, 4]
    assert cumulative_share(outside, U)[1] < 1 - 1e-3


# --- prediction formulas -------------------------------------------------------------------------------

def test_noether_drift_rate_is_the_exact_one_step_expectation():
    """Batch 1: E_i[Q(θ − η∇ℓ_i)] − Q(θ) = η (σ²Tr(AΣ) + (η/2)∇LᵀA∇L), by enumerating the samples;
    the sign-flipped Corollary 2 term does not match."""
    cfg = noether_sgd.CONFIGS["tiny"]
    problem = noether_sgd.build_problem(cfg, np.random.default_rng(3))
    theta, eta = problem.theta0, 0.05
    trace, gAg, G = jax.jit(lambda t: noether_sgd._noise_terms(problem, t))(theta)
    Q = lambda t: t @ problem.apply_A(t) / 2  # noqa: E731
    exact = float(jnp.mean(jax.vmap(lambda g: Q(theta - eta * g))(G)) - Q(theta))
    sgf, disc = noether_drift_rate(trace, gAg, eta, 1)
    assert exact == pytest.approx(float(eta * (sgf + disc)), rel=1e-9)
    assert abs(exact - float(eta * (-sgf + disc))) > 0.1 * abs(exact)


def test_sharpness_bound_is_the_rayleigh_quotient_with_negative_control():
    rng = np.random.default_rng(0)
    X, s = jnp.asarray(rng.normal(size=(3, 10))), jnp.asarray(np.sign(rng.normal(size=10)))
    theta = jnp.asarray(rng.normal(size=12 + 16 + 4))

    def margins(t):
        W1, W2, W3 = t[:12].reshape(4, 3), t[12:28].reshape(4, 4), t[28:].reshape(1, 4)
        return s * (W3 @ jax.nn.relu(W2 @ jax.nn.relu(W1 @ X)))[0]

    loss = lambda t: jnp.mean(jnp.exp(-margins(t)))  # noqa: E731
    y = margins(theta)
    w = jnp.exp(-y) / y.size
    rayleigh, lam_max = jax.jit(lambda t: (t @ hvp(loss, t, t) / (t @ t),
                                           jnp.linalg.eigvalsh(dense_hessian(loss, t))[-1]))(theta)
    assert float(sharpness_bound(3, y, -w, w, theta @ theta)) == pytest.approx(float(rayleigh), rel=1e-12)
    assert abs(float(sharpness_bound(4, y, -w, w, theta @ theta)) - float(rayleigh)) > 1e-3 * abs(float(rayleigh))
    assert float(lam_max) >= float(rayleigh)


def test_softmax_variance_curvature_with_negative_control():
    rng = np.random.default_rng(0)
    m, d, N = 3, 4, 7
    H0, labels = jnp.asarray(rng.normal(size=(d, N))), jnp.asarray(rng.integers(0, m, size=N))
    W, B = jnp.asarray(rng.normal(size=(m, d))), jnp.asarray(rng.normal(size=(m, m)))

    def loss(w):
        return jnp.mean(-jnp.take_along_axis(jax.nn.log_softmax(w.reshape(m, d) @ H0, axis=0), labels[None], 0))

    v = (B @ W).ravel()
    assert float(v @ hvp(loss, W.ravel(), v)) == pytest.approx(float(softmax_variance_curvature(W @ H0, B)), rel=1e-12)
    u = v + 0.3 * jnp.asarray(rng.normal(size=v.size))  # not of the form (BW, 0)
    assert abs(float(u @ hvp(loss, W.ravel(), u)) - float(softmax_variance_curvature(W @ H0, B))) > 1e-3


def test_symmetry_kernel_lower_bound_and_adapted_basis():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(8, 3)) @ rng.normal(size=(3, 5))
    assert symmetry_kernel_lower_bound(v) == 3
    O = np.linalg.qr(rng.normal(size=(6, 2)))[0]
    P, plus = adapted_basis(np.eye(6) - 2 * O @ O.T)
    assert plus == 4 and np.allclose(P.T @ P, np.eye(6))
    assert np.allclose(P.T @ (np.eye(6) - 2 * O @ O.T) @ P, np.diag([1.0] * 4 + [-1.0] * 2), atol=1e-12)
