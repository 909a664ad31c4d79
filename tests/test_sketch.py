"""Sketched Theorem 1 (pyspec.matrix_free.sketch): agreement with the exact matrix-free check, every catalog entry's
negative control flagged, the large-k entries and their controls, the selection rule and errors, and
the probability bound checked empirically."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec import matrix_free
from pyspec.matrix_free import sketch
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG
from pyspec.catalog.large import build, parameter_count
from pyspec.equivariance import bind
from tests.helpers import XP64, broken
from tests.test_matrix_free import _large_broken

CONTINUOUS = [n for n, e in CATALOG.items() if e.kind == "continuous"]
HEAVY = {"nonlinear_homogeneous", "nonlinear_last_layer", "nonlinear_reparameterization", "rotation_expm",
         "gl_reparameterization", "noether_per_sample", "last_layer_gl", "softmax_translation"}
SKETCHED = ("theorem1_key_identity", "theorem1_hessian_action", "theorem1_hessian_quadratic")


def _pair(inst, **kwargs):
    a, theta = inst.a(XP64), inst.theta(XP64)
    exact = ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free", keep_arrays=False, **kwargs)
    sk = ps.theorem1(inst.eq, inst.loss, a, theta, method="sketched", **kwargs)
    return exact, sk


@pytest.mark.parametrize("name", ["relu_mlp_homogeneous", "last_layer_gl",
                                  pytest.param("gl_reparameterization", marks=pytest.mark.slow)])
def test_sketched_agrees_with_exact(name) -> None:
    """Where the identities hold both paths say so with rounding-level residuals; on the broken model
    every sketched residual is within the bound's factors (1/10 below, 3 above the scale) of the exact
    one, item 1 (exact in both) to rounding."""
    exact, sk = _pair(CATALOG[name].build(0))
    assert exact.holds and sk.holds, sk.checks
    assert max(c.residual for c in sk.checks) <= 1e-13, sk.checks
    for c in sk.checks:
        assert (c.lhs is None) == (c.identity != "theorem1_first_order")  # item 1 is exact (k entries)
        assert c.tolerance == pytest.approx(exact.key_identity.tolerance, rel=1e-6)
    assert sk.position == exact.position
    bad_exact, bad = _pair(broken(CATALOG[name].build(0)), check_equivariance=False)
    for e, s in zip(bad_exact.checks, bad.checks):
        assert e.identity == s.identity and set(e.term_norms) == set(s.term_norms)
        assert sketch.MISS_T / sketch.OVERSHOOT_S <= s.residual / e.residual <= sketch.OVERSHOOT_S / sketch.MISS_T, (e, s)
    e, s = bad_exact.first_order, bad.first_order  # same difference; the scale has the sketched ‖v‖
    assert s.residual * s.scale == pytest.approx(e.residual * e.scale, rel=1e-8)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in CONTINUOUS])
def test_every_catalog_negative_control_is_flagged(name) -> None:
    """The broken (non-equivariant) model of every continuous entry fails every sketched identity;
    the hypothesis check still raises on it."""
    inst = broken(CATALOG[name].build(0))
    a, theta = inst.a(XP64), inst.theta(XP64)
    report = ps.theorem1(inst.eq, inst.loss, a, theta, method="sketched", check_equivariance=False)
    assert report.verdict == "fails"
    for check in report.checks:
        assert check.verdict == "fails" and check.residual >= 1e-6, (name, check)
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="sketched")


@pytest.mark.parametrize("model", [pytest.param("mlp_gl8", marks=pytest.mark.slow), "attention"])
def test_large_k_entries_hold_and_flag_the_control(model) -> None:
    """The large-k entries (k = 64, 256) at n ≈ 2·10⁴: ``method="auto"`` sketches them and they hold;
    the broken model fails every identity."""
    inst = build(model, 20_000, "reparameterization")
    a, theta = inst.a(None), inst.theta(None)
    assert parameter_count(inst) > matrix_free.DENSE_MAX_N and np.size(a) >= matrix_free.SKETCH_MIN_K
    report = ps.theorem1(inst.eq, inst.loss, a, theta)
    assert report.holds and max(c.residual for c in report.checks) <= 1e-13, report.checks
    assert report.hessian_action.limit.startswith("sketch:")  # auto took the sketched path
    bad = ps.theorem1(_large_broken(inst), inst.loss, a, theta, method="sketched", check_equivariance=False)
    assert all(c.verdict == "fails" and c.residual >= 1e-6 for c in bad.checks), bad.checks


@pytest.mark.slow
def test_large_k4_model_control_flagged() -> None:
    """A k = 4 large entry in sketched mode (the last-layer GL(2) of the benchmark): holds, control fails."""
    inst = build("mlp", 20_000, "last_layer")
    a, theta = inst.a(None), inst.theta(None)
    ok = ps.theorem1(inst.eq, inst.loss, a, theta, method="sketched")
    assert ok.holds, ok.checks
    bad = ps.theorem1(_large_broken(inst), inst.loss, a, theta, method="sketched", check_equivariance=False)
    assert all(c.verdict == "fails" for c in bad.checks), bad.checks


def test_theorem2_sketched_is_the_probed_check() -> None:
    inst = CATALOG["sign_flip"].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    report = ps.theorem2(inst.eq, inst.loss, a, theta, method="sketched", probes=4)
    assert report.holds and report.hessian.lhs.shape == (theta.shape[0], 4)
    off = ps.theorem2(inst.eq, inst.loss, a, inst.off_fixed(XP64), method="sketched", check_hypotheses=False)
    assert all(c.verdict == "fails" for c in off.checks), off.checks


def test_selection_rule_and_errors() -> None:
    big, k = matrix_free.DENSE_MAX_N + 1, matrix_free.SKETCH_MIN_K
    select = matrix_free.select_method
    assert select("auto", big, None, k) == "sketched" and select("auto", big, None) == "matrix_free"
    assert select("auto", big, None, k - 1) == "matrix_free"
    assert select("auto", matrix_free.DENSE_MAX_N, None, 10**3) == "dense"
    assert select("auto", big, 50, k) == "dense"
    assert select("sketched", 3, None, 1) == "sketched"
    assert select("matrix_free", big, None, k) == "matrix_free"
    assert "sketched" in matrix_free.METHODS
    inst = CATALOG["relu_mlp_homogeneous"].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    with pytest.raises(ValueError, match="float64 only"):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="sketched", precision=30)
    with pytest.raises(ValueError, match="method must be one of"):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="sparse")
    with pytest.raises(ValueError, match="probes >= 1"):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="sketched", probes=0)
    with pytest.raises(ValueError, match="p >= 1"):
        sketch.miss_probability(0, 0.5)


def test_bound_values() -> None:
    """β_p(x) = (x² e^{1−x²})^{p/2}: 1 at x = 1, the documented default below 6·10⁻⁷, decreasing in p."""
    assert sketch.miss_probability(8, 1.0) == pytest.approx(1.0)
    assert sketch.miss_probability(8, 0.1) == pytest.approx((0.01 * np.e**0.99) ** 4)
    assert sketch.sketch_bound(8) < 6e-7
    assert sketch.miss_probability(16, 0.1) < sketch.miss_probability(8, 0.1) < sketch.miss_probability(4, 0.1)
    assert sketch.SKETCH_GAP == pytest.approx(sketch.OVERSHOOT_S**2 / sketch.MISS_T)


@pytest.mark.parametrize("rank", [1, 4])
def test_bound_holds_empirically_for_a_matrix(rank) -> None:
    """``F̂² = mean_l ‖Rᵀu_l‖²`` for a residual ``R`` of known Frobenius norm (rank 1 is the worst case):
    over 20,000 seeds the rate of ``F̂ ≤ t‖R‖_F`` and of ``F̂ ≥ s‖R‖_F`` stays below ``β_p`` (plus a
    4-sigma binomial margin)."""
    rng = np.random.default_rng(rank)
    n, k, p, trials = 50, 6, 2, 20_000
    R = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, k))
    U = rng.standard_normal((trials, p, n))
    F = np.sqrt(np.mean(np.sum((U @ R) ** 2, axis=2), axis=1)) / np.linalg.norm(R)
    for x, rate in ((0.3, np.mean(F <= 0.3)), (0.5, np.mean(F <= 0.5)), (2.0, np.mean(F >= 2.0))):
        beta = sketch.miss_probability(p, x)
        assert rate <= beta + 4 * np.sqrt(beta / trials), (x, rate, beta)


def test_bound_holds_empirically_on_a_broken_model() -> None:
    """The sketched program on a broken model, 200 seeds of ``p = 1`` probe: the sketched norm of item
    2a's difference falls below ``t`` times the exact one no more often than ``β_1(t)``."""
    inst = broken(CATALOG["last_layer_gl"].build(0))
    a0, t0 = inst.a(XP64), inst.theta(XP64)
    problem, a, theta = bind(inst.eq, inst.loss, a0, t0, get_backend(None))
    opts = matrix_free.SolverOptions()
    structures = matrix_free.row_structures(problem, a, theta)
    exact = ps.theorem1(inst.eq, inst.loss, a0, t0, method="matrix_free", check_equivariance=False)
    truth = exact.hessian_action.residual * exact.hessian_action.scale  # ‖D‖_F of item 2a
    truth_key = exact.key_identity.residual * exact.key_identity.scale  # ‖GV − W‖_F
    run = jax.jit(lambda key: sketch.theorem1_sketch_terms(
        problem, a, theta, structures, opts, *sketch.probes_of(key, problem.n, problem.k, 1)))
    diffs = np.array([[float(q.action_sq[2]), float(q.key_sq[2])]
                      for q in (run(jax.random.PRNGKey(s)) for s in range(200))])
    ratio = np.sqrt(diffs) / np.array([truth, truth_key])
    assert 0.5 <= np.mean(ratio**2, axis=0).min() and np.mean(ratio**2, axis=0).max() <= 2.0  # unbiased squares
    for t in (0.1, 0.3):
        beta = sketch.miss_probability(1, t)
        assert np.all(np.mean(ratio <= t, axis=0) <= beta + 4 * np.sqrt(beta / 200)), (t, np.mean(ratio <= t, axis=0))


def test_sketch_terms_are_exact_for_rank_one_probes() -> None:
    """With the probes set to basis vectors the sketch reproduces exact contractions: the left probe
    ``e_i`` gives row ``i`` of item 2a's sides, compared with the exact matrix-free arrays."""
    inst = CATALOG["last_layer_gl"].build(0)
    a0, t0 = inst.a(XP64), inst.theta(XP64)
    problem, a, theta = bind(inst.eq, inst.loss, a0, t0, get_backend(None))
    structures = matrix_free.row_structures(problem, a, theta)
    exact = ps.theorem1(inst.eq, inst.loss, a0, t0, method="matrix_free")
    U = jnp.eye(problem.n)
    P = jnp.eye(problem.k)
    # Compiled, as the check runs it (op by op it compiles ~400 operations).
    q = jax.jit(lambda U, P: sketch.theorem1_sketch_terms(
        problem, a, theta, structures, matrix_free.SolverOptions(), U, P, batch=4))(U, P)
    Hv = np.asarray(exact.hessian_action.lhs)
    assert float(q.action_sq[0]) == pytest.approx(np.sum(Hv**2), rel=1e-10)  # Σ_i ‖Hvᵀe_i‖² = ‖Hv‖_F²
    for j, term in enumerate(("green_K", "green_S", "blue", "plain")):
        assert np.sqrt(float(q.action_sq[3 + j])) == pytest.approx(exact.hessian_action.term_norms[term], rel=1e-10)
    for j, term in enumerate(("output", "direction")):
        assert np.sqrt(float(q.action_vw_sq[3 + j])) == pytest.approx(exact.hessian_action_vw.term_norms[term], rel=1e-10)
    quad = exact.hessian_quadratic
    assert float(q.quadratic_sq[0]) == pytest.approx(np.sum(np.asarray(quad.lhs) ** 2), rel=1e-10)
    for j, term in enumerate(("green_K", "green_Sya", "green_Syy", "blue", "plain")):
        assert np.sqrt(float(q.quadratic_sq[3 + j])) == pytest.approx(quad.term_norms[term], rel=1e-10, abs=1e-300)
    assert float(q.key_sq[0]) == pytest.approx(np.sum(np.asarray(exact.key_identity.lhs) ** 2), rel=1e-10)
    np.testing.assert_allclose(np.asarray(q.first_lhs), np.asarray(exact.first_order.lhs), rtol=1e-10)


def test_restriction_to_the_moved_leaves_changes_nothing() -> None:
    """``T`` moves only ``(W₁, W₂)`` of ``mlp_gl8`` (found by :func:`restriction`); the sketch on those
    leaves gives the terms of the sketch on all of ``θ``; a flat ``θ`` (one leaf) is not restricted."""
    inst = build("mlp_gl8", 3_000, "reparameterization")
    problem, a, theta = bind(inst.eq, inst.loss, inst.a(None), inst.theta(None), get_backend(None))
    opts = matrix_free.SolverOptions()
    structures = matrix_free.row_structures(problem, a, theta)
    restrict, sub = sketch.restriction(problem, a, theta, structures[0])
    names = list(inst.theta(None))  # leaves in sorted-key order: W1, W2, W3, W4
    assert restrict is not None and [names[i] for i in restrict.leaves] == ["W1", "W2"]
    assert sub.inv_diag.shape == (sum(size for _, size in restrict.segments),)
    U, P = sketch.probes_of(jax.random.PRNGKey(3), problem.n, problem.k, 2)
    # Each compiled, as the check runs it (op by op they compile ~300 operations).
    full = jax.jit(lambda: sketch.theorem1_sketch_terms(problem, a, theta, structures, opts, U, P))()
    part = jax.jit(lambda: sketch.theorem1_sketch_terms(
        problem, a, theta, (sub, structures[1]), opts, U, P, restrict=restrict))()
    dense = jax.jit(lambda: sketch.theorem1_sketch_terms(
        problem, a, theta, structures, opts, sketch.dense_probes(U, problem.n), P))()
    assert full.solve_residual.shape == ()
    for x, y, z in zip(*(jax.tree_util.tree_leaves(t._replace(solve_residual=0.0)) for t in (full, part, dense))):
        # Entries that vanish in exact arithmetic (a residual of an identity that holds) are rounding
        # noise, ~1e-29 next to terms of ~1e2 in the same leaf: they agree at the leaf's scale.
        atol = 1e-9 * float(np.max(np.abs(np.asarray(x)))) + 1e-300
        np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=1e-9, atol=atol)
        np.testing.assert_allclose(np.asarray(z), np.asarray(x), rtol=1e-9, atol=atol)
    # The solves' measured relative residual is rounding alone (direct block solves), and the restricted
    # system rounds differently (1.74e-16 against 1.96e-16 on an AMD EPYC): it only widens a tolerance
    # by its order (SOLVE_SAFETY · κ · ρ), so each must be at the rounding level, 16 ulps of 1.
    for t in (full, part, dense):
        assert 0.0 <= float(t.solve_residual) <= 16 * np.finfo(np.float64).eps
    flat = CATALOG["last_layer_gl"].build(0)
    p2, a2, t2 = bind(flat.eq, flat.loss, flat.a(XP64), flat.theta(XP64), get_backend(None))
    assert sketch.restriction(p2, a2, t2, matrix_free.row_structures(p2, a2, t2)[0])[0] is None


def test_fixed_step_krylov_gives_the_same_sketch() -> None:
    """The attention entry's GL(16) solves by GMRES with a fixed number of steps (no on-device
    convergence test, ``SolverOptions.fixed_cycles``) give the adaptive GMRES's sketch."""
    inst = build("attention", 20_000, "reparameterization")
    problem, a, theta = bind(inst.eq, inst.loss, inst.a(None), inst.theta(None), get_backend(None))
    adaptive, fixed = matrix_free.SolverOptions(direct_max=0), matrix_free.SolverOptions(direct_max=0, fixed_cycles=2)
    r1 = matrix_free.theorem1_report_sketched(problem, a, theta, opts=adaptive)
    r2 = matrix_free.theorem1_report_sketched(problem, a, theta, opts=fixed)
    assert r1.holds and r2.holds, r2.checks
    for c1, c2 in zip(r1.checks, r2.checks):
        assert c2.scale == pytest.approx(c1.scale, rel=1e-9) and abs(c2.residual - c1.residual) <= 1e-13
