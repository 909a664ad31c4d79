"""Batched checks (pyspec.batch): per-point reports equal the single-point checks, a failing point is
named by its index, one program serves every batch of the same shapes."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
import pyspec.batch as batch_module
from pyspec.backends import get_backend
from pyspec.bulk import equivariance_fails_at
from pyspec.cache import cache_info
from pyspec.characteristic import NEARBY_POINTS, _nearby, nearby_batch
from pyspec.equivariance import bind
from pyspec.theorem1 import theorem1_report
from tests.test_verdicts import _saturated

rng = np.random.default_rng(11)


def cubic(theta):
    """Homogeneous of degree 2 (``f(aθ) = a²f(θ)``) except where ``θ₀ > 1``."""
    return jnp.concatenate([theta**2, jnp.maximum(theta[:1] - 1.0, 0.0) ** 3])


EQ = ps.Equivariance(model=cubic, T=lambda a, th: a[0] * th, S=lambda a, y: a[0] ** 2 * y, name="square")
A = np.array([1.2])


def loss(y):
    return jnp.sum(jnp.cosh(y - 0.5))


def _good_points(count: int) -> np.ndarray:
    return rng.uniform(-0.9, 0.5, size=(count, 4))


def _shear() -> tuple[ps.Equivariance, np.ndarray]:
    """A symmetry with a fully dense ``∂θT = I + aM`` (condition ≈ 3.8): ``T(a, θ) = θ + a u (pᵀθ)`` with
    ``pᵀu = 0``, and a model of ``Pθ`` where ``P`` projects ``u`` out."""
    r = np.random.default_rng(3)
    u = r.standard_normal(4)
    u /= np.linalg.norm(u)
    p = r.standard_normal(4)
    p -= (p @ u) * u
    P, M = np.eye(4) - np.outer(u, u), np.outer(u, p)
    return ps.Equivariance(model=lambda th: jnp.tanh(P @ th) ** 2 + jnp.sin(P @ th),
                           T=lambda a, th: th + a[0] * (M @ th), name="shear"), np.array([0.7])


def _careful(eq: ps.Equivariance, loss, a: np.ndarray, theta: np.ndarray) -> ps.Theorem1Report:
    """The single check's careful path, :func:`pyspec.theorem1.theorem1_report` (separate programs,
    host norms), which :func:`pyspec.theorem1` takes at a point that does not clearly hold."""
    problem, a_flat, theta_flat = bind(eq, loss, a, theta, get_backend(None))
    return theorem1_report(problem, a_flat, theta_flat)


@pytest.mark.parametrize("case", ["diagonal", "dense"])
def test_clear_points_get_the_single_checks_report(case: str) -> None:
    """A point judged in bulk (norms, scales and residuals from the vmapped program, formulas of the
    single check), in a batch or alone by :func:`pyspec.theorem1`, gets the careful single check's
    report: the same tolerances, resolutions (the dense ``∂θT`` raises them by its condition number)
    and verdicts; scales, term norms and both sides to a few ulps of the scale (the programs round
    differently); residuals, pure rounding here, within 1 % of the tolerance (measured: ≤ 0.06 %);
    eq. (1)'s residuals, rounding too, within 8 ulps."""
    eq, a = (EQ, A) if case == "diagonal" else _shear()
    thetas = _good_points(3)
    batch = ps.theorem1_batch(eq, loss, a, thetas)
    assert batch.holds and len(batch) == 3 and batch.failing == ()
    eps = np.finfo(np.float64).eps
    for i in range(3):
        careful = _careful(eq, loss, a, thetas[i])
        for report in (batch.reports[i], ps.theorem1(eq, loss, a, thetas[i])):
            _assert_same_report(report, careful, case, eps)


def _assert_same_report(report: ps.Theorem1Report, careful: ps.Theorem1Report, case: str, eps: float) -> None:
    """``report`` (judged in bulk) is ``careful``'s up to the rounding of the norms (see above)."""
    assert (report.position.rank_T_a, report.position.k, report.position.jump) == (1, 1, 0.0)
    assert report.position.cond_T == pytest.approx(careful.position.cond_T, rel=1e-12)
    assert (report.position.cond_T > 1.5) == (case == "dense")
    assert abs(report.equivariance_residual - careful.equivariance_residual) <= 8 * eps
    for b, s in zip(report.checks, careful.checks):
        assert (b.identity, b.tolerance, b.resolution, b.limit, b.trivial, b.verdict) == (
            s.identity, s.tolerance, s.resolution, s.limit, s.trivial, s.verdict)
        assert b.scale == pytest.approx(s.scale, rel=1e-12)
        assert list(b.terms) == list(s.terms) and list(b.term_norms) == list(s.term_norms)
        for name in s.terms:
            assert abs(b.term_norms[name] - s.term_norms[name]) <= 1e-14 * s.scale
        for x, y in ((b.lhs, s.lhs), (b.rhs, s.rhs)):
            assert np.linalg.norm(np.asarray(x) - np.asarray(y)) <= 1e-14 * s.scale
        assert abs(b.residual - s.residual) <= 1e-2 * s.tolerance


def test_a_point_that_does_not_clearly_hold_is_checked_alone() -> None:
    """A point with a residual above its tolerance gets the single-point check's report, bit for bit as
    :func:`pyspec.theorem1` computes it: a genuine violation fails; a saturated model whose float64
    residuals are rounding (cancellation) is inconclusive, as alone, never ``fails`` (its rounding
    noise and second differentiation route are measured before a verdict)."""
    thetas = _good_points(3)
    thetas[1, 0] = 2.0  # not homogeneous there: the identities fail
    batch = ps.theorem1_batch(EQ, loss, A, thetas, check_equivariance=False)
    single = ps.theorem1(EQ, loss, A, thetas[1], check_equivariance=False)
    assert batch.failing == (1,) and batch.reports[1].verdict == "fails"
    assert batch.inconclusive == () and batch.verdict == "fails" and batch.holds is False
    for b, s in zip(batch.reports[1].checks, single.checks):
        assert (b.residual, b.scale, b.resolution, b.limit, b.verdict) == (
            s.residual, s.scale, s.resolution, s.limit, s.verdict)

    eq, sat_loss, theta = _saturated()
    B = get_backend(None)
    plain = eq.replace(model=lambda t: eq.model(t, xp=B.xp), T=lambda a, t: eq.T(a, t, xp=B.xp),
                       S=lambda a, y: eq.S(a, y, xp=B.xp))
    a_sat = np.array([0.05])
    saturated = ps.theorem1_batch(plain, lambda y: sat_loss(y, xp=B.xp), a_sat, np.stack([theta, 0.999 * theta]))
    # the batch says so too: undecided points are inconclusive, not failing (they used to be `failing`)
    assert saturated.inconclusive == (0, 1) and saturated.failing == ()
    assert saturated.verdict == "inconclusive" and saturated.holds is None
    for i, scale in enumerate((1.0, 0.999)):
        alone = ps.theorem1(plain, lambda y: sat_loss(y, xp=B.xp), a_sat, scale * theta)
        assert saturated.reports[i].verdict == alone.verdict == "inconclusive"
        assert [c.resolution for c in saturated.reports[i].checks] == [c.resolution for c in alone.checks]
        assert any("second differentiation route" in c.limit for c in saturated.reports[i].checks)


def test_a_kink_makes_the_point_inconclusive_as_alone() -> None:
    """The smoothness probe runs per point: at a ReLU kink the batch warns and reports what the single
    check reports (inconclusive), not a bulk ``holds``, and the batch lists it as inconclusive, not failing."""
    eq = ps.Equivariance(model=lambda th: jax.nn.relu(th) * th[::-1], T=lambda a, th: a[0] * th,
                         S=lambda a, y: a[0] ** 2 * y, name="relu_product")
    thetas = rng.uniform(0.2, 0.9, size=(3, 4))
    thetas[2, 0] = 0.0
    with pytest.warns(ps.NonDifferentiableWarning):
        batch = ps.theorem1_batch(eq, loss, A, thetas)
    with pytest.warns(ps.NonDifferentiableWarning):
        single = ps.theorem1(eq, loss, A, thetas[2])
    assert batch.reports[2].nondifferentiable and batch.reports[2].verdict == single.verdict == "inconclusive"
    assert batch.reports[0].holds and batch.reports[1].holds
    assert batch.inconclusive == (2,) and batch.failing == () and batch.verdict == "inconclusive"


def test_each_hypothesis_is_checked_per_point() -> None:
    """Every point of a batch meets the single check's errors: ``T`` ignoring a component of ``a`` (rank
    of ``∂aT`` below k), a singular ``∂θT``, one above ``max_condition``, a NaN at one point."""
    thetas = _good_points(2)
    eq = ps.Equivariance(model=cubic, T=lambda a, th: a[0] * th, S=lambda a, y: a[0] ** 2 * y, name="ignores_a1")
    degenerate = ps.theorem1_batch(eq, loss, np.array([1.2, 0.5]), thetas)
    assert all(isinstance(e, ps.DegenerateError) for e in degenerate.errors)
    singular = ps.theorem1_batch(EQ, loss, np.array([0.0]), thetas)
    assert all(isinstance(e, ps.NotGoodPositionError) for e in singular.errors)
    shear, a = _shear()  # cond(∂θT) ≈ 3.8: finite, but above a limit of 2
    strict = ps.theorem1_batch(shear, loss, a, thetas, max_condition=2.0)
    assert all(isinstance(e, ps.NotGoodPositionError) and "cond" in str(e) for e in strict.errors)
    thetas[1, 2] = 0.0  # y = θ² has a zero entry: log(0)
    nan = ps.theorem1_batch(EQ, lambda y: jnp.sum(jnp.log(y[:4])), A, thetas)
    assert nan.errors[0] is None and isinstance(nan.errors[1], ps.NonFiniteError)
    assert "loss" in str(nan.errors[1]) and str(nan.errors[1]).startswith("point 1:")


def test_only_points_that_do_not_clearly_hold_are_checked_alone(monkeypatch) -> None:
    """Clear points are judged in bulk: the single-point check runs once, for the failing point only."""
    calls, real = [], batch_module.theorem1_report
    monkeypatch.setattr(batch_module, "theorem1_report", lambda *args: calls.append(args) or real(*args))
    thetas = _good_points(4)
    assert ps.theorem1_batch(EQ, loss, A, thetas).holds and calls == []
    thetas[3, 0] = 2.0
    assert ps.theorem1_batch(EQ, loss, A, thetas).failing == (3,) and len(calls) == 1


def test_single_check_takes_the_careful_path_only_where_not_clear(monkeypatch) -> None:
    """:func:`pyspec.theorem1` judges a point in bulk first: a clear point never reaches
    ``theorem1_report``; a point off the equivariance (``θ₀ > 1``: eq. (1) fails there) reaches it once
    and gets its named error; ``check_equivariance=False`` (a negative control) goes there directly."""
    module = importlib.import_module("pyspec.theorem1")
    calls, real = [], module.theorem1_report
    monkeypatch.setattr(module, "theorem1_report", lambda *args: calls.append(args) or real(*args))
    theta = _good_points(1)[0]
    assert ps.theorem1(EQ, loss, A, theta).holds and calls == []
    with pytest.raises(ps.EquivarianceError, match="violated"):
        ps.theorem1(EQ, loss, A, np.array([2.0, 0.1, -0.3, 0.2]))
    assert len(calls) == 1
    assert ps.theorem1(EQ, loss, A, theta, check_equivariance=False).holds and len(calls) == 2


def test_first_call_off_the_equivariance_compiles_no_bulk_program(monkeypatch) -> None:
    """Before the bulk program exists for a model, a point where eq. (1) visibly fails at ``(a, θ)``
    goes straight to the careful path: its EquivarianceError is raised without tracing the bulk program
    (second derivatives included); the same model's first clear point then traces it once (the control:
    the counter sees the bulk program)."""
    module = importlib.import_module("pyspec.theorem1")
    traced, real = [], module.theorem1_inputs
    monkeypatch.setattr(module, "theorem1_inputs", lambda *args: traced.append(1) or real(*args))
    eq = EQ.replace(model=lambda th: cubic(th))  # new callables: no program of EQ's is reused
    with pytest.raises(ps.EquivarianceError, match="violated"):
        ps.theorem1(eq, loss, A, np.array([2.0, 0.1, -0.3, 0.2]))
    assert traced == []
    assert ps.theorem1(eq, loss, A, _good_points(1)[0]).holds and len(traced) == 1


def test_equivariance_fails_at_reads_eq1_at_the_point_only() -> None:
    """:func:`pyspec.bulk.equivariance_fails_at` flags eq. (1) failing at ``(a, θ)`` itself, not a
    point where it holds, nor one where it fails only nearby (``a = 1``: ``T(a, θ) = θ``, the careful
    path's business), nor a problem without a validation program (a derived model: cannot tell)."""
    backend = get_backend(None)
    with backend.context():
        problem, a, theta = bind(EQ, loss, A, np.array([2.0, 0.1, -0.3, 0.2]), backend)
        assert equivariance_fails_at(problem, a, theta)
        assert not equivariance_fails_at(problem.with_model(problem.f), a, theta)
        problem, a, theta = bind(EQ, loss, A, _good_points(1)[0], backend)
        assert not equivariance_fails_at(problem, a, theta)
        problem, a, theta = bind(EQ, loss, np.array([1.0]), np.array([1.01, 0.1, -0.3, 0.2]), backend)
        assert not equivariance_fails_at(problem, a, theta)


def test_equivariance_is_required_near_every_point() -> None:
    """At ``a = 1`` (``T(a, θ) = θ``) eq. (1) holds at every point, and at ``θ₀ = t`` the identities hold
    too (the defect ``(θ₀ − t)⁴`` has no derivative below the fourth there); the nearby points break
    eq. (1), so the batch, as the single check, names that point with an EquivarianceError.

    The nearby points move by ~1e-3, so the defect's residual there is ~c·1e-12 relative: with c = 10
    it fell below the threshold at 48 of 300 random points (ratios down to 0.14), and this test failed
    when the shared generator gave it such a point (it depended on the order of the tests). c = 100 and
    points of its own."""
    t = 0.3
    eq = ps.Equivariance(model=lambda th: cubic(th).at[0].add(100 * (th[0] - t) ** 4), T=lambda a, th: a[0] * th,
                         S=lambda a, y: a[0] ** 2 * y, name="defect")
    thetas = np.random.default_rng(3).uniform(-0.9, 0.5, size=(2, 4))
    thetas[1, 0] = t
    one = np.array([1.0])
    assert ps.theorem1_batch(eq, loss, one, thetas, check_equivariance=False).reports[1].holds
    batch = ps.theorem1_batch(eq, loss, one, thetas)
    assert isinstance(batch.errors[1], ps.EquivarianceError) and "nearby point" in str(batch.errors[1])


def test_batch_nearby_points_are_the_single_checks_points() -> None:
    """The batch moves every point to its nearby points at once, with the same numbers as the
    single-point check (its eq. (1) residuals are then those of ``ps.theorem1`` at each point); a
    point 10 times another gets moves 10 times larger (its own scale, not the first point's)."""
    thetas = _good_points(5)
    thetas[3] = 10.0 * thetas[0]
    problem, a, _ = bind(EQ, loss, A, thetas[0], get_backend(None))
    near_a, near_t = nearby_batch(problem, a, thetas)
    assert near_a.shape == (5, NEARBY_POINTS + 1, 1) and near_t.shape == (5, NEARBY_POINTS + 1, 4)
    for i, theta in enumerate(thetas):
        points = _nearby(problem, a, theta, vary_a=True)
        np.testing.assert_array_equal(near_a[i], np.stack([p[0] for p in points]))
        np.testing.assert_array_equal(near_t[i], np.stack([p[1] for p in points]))
    # the moves are read back as (θ + d) − θ: exact to the rounding of θ + d, an ulp of θ
    ulp = np.finfo(np.float64).eps * np.max(np.abs(thetas[3]))
    np.testing.assert_allclose(near_t[3] - thetas[3], 10.0 * (near_t[0] - thetas[0]), rtol=0.0, atol=2 * ulp)


def test_failing_point_is_named_by_index() -> None:
    thetas = _good_points(4)
    thetas[2, 0] = 2.0  # the model is not homogeneous there
    batch = ps.theorem1_batch(EQ, loss, A, thetas)
    assert batch.failing == (2,) and not batch.holds
    assert batch.reports[2] is None and str(batch.errors[2]).startswith("point 2:")
    assert isinstance(batch.errors[2], ps.EquivarianceError)
    with pytest.raises(ps.EquivarianceError, match="point 2"):
        batch.require()
    control = ps.theorem1_batch(EQ, loss, A, thetas, check_equivariance=False)  # the identities flag it too
    assert control.failing == (2,)
    assert all(not c.holds for c in control.reports[2].checks if c.identity != "theorem1_first_order")


def test_one_program_for_every_batch_of_the_same_shapes() -> None:
    """A second batch of the same model and shapes, at other points (and another ``a``), compiles
    nothing, for either theorem (compilations counted, not wall time)."""
    ps.theorem1_batch(EQ, loss, A, _good_points(5))
    misses = cache_info().misses
    assert ps.theorem1_batch(EQ, loss, A * 1.1, _good_points(5)).holds
    assert cache_info().misses == misses
    eq, thetas = _fixed_points("swap")
    ps.theorem2_batch(eq, loss, np.zeros(1), thetas)
    misses = cache_info().misses
    assert ps.theorem2_batch(eq, loss, np.zeros(1), 0.5 * thetas).holds
    assert cache_info().misses == misses


def test_pytree_batch() -> None:
    thetas = {"u": _good_points(2)[:, :2], "w": _good_points(2)[:, :2]}
    eq = ps.Equivariance(model=lambda th: cubic(jnp.concatenate([th["u"], th["w"]])),
                         T=lambda a, th: {k: a[0] * v for k, v in th.items()}, S=lambda a, y: a[0] ** 2 * y)
    assert ps.theorem1_batch(eq, loss, A, thetas).holds


def test_leading_axes_must_agree() -> None:
    with pytest.raises(ps.ShapeError, match="leading batch axis"):
        ps.theorem1_batch(EQ, loss, A, {"u": np.zeros((2, 2)), "w": np.zeros((3, 2))})


def test_theorem2_batch_names_the_point_off_the_fixed_set() -> None:
    eq = ps.Equivariance(model=lambda th: jnp.tanh(th * th) + th[::-1] ** 2, T=lambda a, th: -th, name="sign_flip")
    thetas = np.zeros((3, 4))
    thetas[1, 2] = 0.3
    batch = ps.theorem2_batch(eq, loss, np.zeros(1), thetas)
    assert batch.failing == (1,) and isinstance(batch.errors[1], ps.NotFixedPointError)
    assert str(batch.errors[1]).startswith("point 1:")
    assert batch.reports[0].holds and batch.reports[2].holds


def _swap() -> ps.Equivariance:
    """Swapping ``θ₀ ↔ θ₁`` is a symmetry; its fixed set ``θ₀ = θ₁`` is a hyperplane, ``J`` a
    permutation (``H = JᵀHJ`` is not trivial there)."""
    def model(th):
        return jnp.stack([th[0] ** 2 + th[1] ** 2, th[0] * th[1], jnp.sin(th[0] + th[1]) * th[2], th[2] ** 3 + th[3]])

    return ps.Equivariance(model=model, T=lambda a, th: th[jnp.array([1, 0, 2, 3])], name="swap")


SHEAR_C = 3.0


def _involution() -> ps.Equivariance:
    """``T(θ) = Mθ`` with ``M = [[1, c], [0, −1]]`` on ``(θ₀, θ₁)`` (``M² = I``, ``‖M‖₂ ≈ 3.3``): a
    model of its invariants ``θ₀ + cθ₁/2`` and ``θ₁²``; fixed set ``θ₁ = 0``. ``‖J‖ > 1`` scales the
    tolerance and the natural scales."""
    def model(th):
        u, v = th[0] + SHEAR_C * th[1] / 2, th[1] ** 2
        return jnp.stack([u**2 + v, jnp.sin(u) * v + th[2], u * th[3], th[2] * th[3] + v])

    return ps.Equivariance(model=model, T=lambda a, th: th.at[0].add(SHEAR_C * th[1]).at[1].multiply(-1.0),
                           name="involution")


def _fixed_points(case: str) -> tuple[ps.Equivariance, np.ndarray]:
    thetas = _good_points(3)
    if case == "swap":
        thetas[:, 1] = thetas[:, 0]
        return _swap(), thetas
    thetas[:, 1] = 0.0
    return _involution(), thetas


@pytest.mark.parametrize("case", ["swap", "involution"])
def test_theorem2_clear_points_get_the_single_checks_report(monkeypatch, case: str) -> None:
    """Theorem 2 batched in one program: a clear fixed point gets the single check's report (tolerances
    and verdicts equal; scales, term norms, both sides to a few ulps of the scale; residuals, rounding,
    within 1 % of the tolerance; eq. (1) within 8 ulps), without checking it alone."""
    calls, real = [], batch_module.theorem2_report
    monkeypatch.setattr(batch_module, "theorem2_report", lambda *args: calls.append(args) or real(*args))
    eq, thetas = _fixed_points(case)
    a = np.zeros(1)
    batch = ps.theorem2_batch(eq, loss, a, thetas)
    assert batch.holds and calls == []
    eps = np.finfo(np.float64).eps
    for i, report in enumerate(batch.reports):
        single = ps.theorem2(eq, loss, a, thetas[i])
        assert (report.fixed_point_residual, report.jump) == (single.fixed_point_residual, single.jump) == (0.0, 0.0)
        assert abs(report.equivariance_residual - single.equivariance_residual) <= 8 * eps
        for b, s in zip((report.gradient, report.hessian), (single.gradient, single.hessian)):
            assert (b.identity, b.tolerance, b.resolution, b.limit, b.trivial, b.verdict) == (
                s.identity, s.tolerance, s.resolution, s.limit, s.trivial, s.verdict)
            assert b.scale == pytest.approx(s.scale, rel=1e-12) and list(b.terms) == list(s.terms)
            for name in s.terms:
                assert abs(b.term_norms[name] - s.term_norms[name]) <= 1e-14 * s.scale
            for x, y in ((b.lhs, s.lhs), (b.rhs, s.rhs)):
                assert np.linalg.norm(np.asarray(x) - np.asarray(y)) <= 1e-14 * s.scale
            assert abs(b.residual - s.residual) <= 1e-2 * s.tolerance


def test_theorem2_points_that_do_not_clearly_hold_are_checked_alone(monkeypatch) -> None:
    """Off the fixed set the batch names the point (NotFixedPointError, as alone); without the
    hypothesis checks the identities fail there, with the single check's report bit for bit (that
    point alone is checked alone)."""
    calls, real = [], batch_module.theorem2_report
    monkeypatch.setattr(batch_module, "theorem2_report", lambda *args: calls.append(args) or real(*args))
    thetas = _good_points(3)
    thetas[:, 1] = thetas[:, 0]
    thetas[2, 1] += 0.1
    eq, a = _swap(), np.zeros(1)
    batch = ps.theorem2_batch(eq, loss, a, thetas)
    assert batch.failing == (2,) and isinstance(batch.errors[2], ps.NotFixedPointError)
    control = ps.theorem2_batch(eq, loss, a, thetas, check_hypotheses=False)
    single = ps.theorem2(eq, loss, a, thetas[2], check_hypotheses=False)
    assert control.failing == (2,) and control.reports[2].verdict == single.verdict == "fails"
    assert len(calls) == 2  # point 2, in each batch
    assert control.reports[2].gradient.residual == single.gradient.residual
    assert control.reports[2].hessian.resolution == single.hessian.resolution


def test_theorem2_hypotheses_are_checked_per_point() -> None:
    """Each point meets the single check's hypotheses: a kink on the fixed set (inconclusive, with the
    warning), a point off the fixed set by more than the fixed-point tolerance though within the
    identities' (NotFixedPointError, as alone), a symmetry that holds at the points only."""
    eq = ps.Equivariance(model=lambda th: jnp.stack([jax.nn.relu(th[0]) + jax.nn.relu(th[1]), th[0] * th[1], th[2]]),
                         T=lambda a, th: th[jnp.array([1, 0, 2])], name="relu_swap")
    thetas = np.array([[0.3, 0.3, 0.9], [0.0, 0.0, 0.9]])  # θ₂ ≠ 0.5: ∇L ≠ 0, no check is vacuous
    with pytest.warns(ps.NonDifferentiableWarning):
        kink = ps.theorem2_batch(eq, loss, np.zeros(1), thetas)
    with pytest.warns(ps.NonDifferentiableWarning):
        single = ps.theorem2(eq, loss, np.zeros(1), thetas[1])
    assert kink.reports[0].holds and kink.reports[1].jump > 0.0
    assert kink.reports[1].verdict == single.verdict == "inconclusive"
    assert kink.inconclusive == (1,) and kink.failing == () and kink.holds is None
    eq, thetas = _fixed_points("involution")
    # ‖Mθ − θ‖/‖θ‖ = √13 θ₁/‖θ‖ ≈ 1800 u (u = 2⁻⁵³): above the fixed-point tolerance 64·n·‖M‖ u ≈ 850 u
    # (not above 64·n·‖M‖² u ≈ 2800 u), below the identities' 64·(n + m)·‖M‖² u ≈ 5600 u
    thetas[1, 1] = 2.0**-53 * 500 * np.linalg.norm(thetas[1])
    batch = ps.theorem2_batch(eq, loss, np.zeros(1), thetas)
    assert batch.failing == (1,) and isinstance(batch.errors[1], ps.NotFixedPointError)
    assert ps.theorem2_batch(eq, loss, np.zeros(1), thetas, check_hypotheses=False).holds
    # symmetric on the fixed set to third order at θ₀ = θ₁ = t, not near it: eq. (1) is required nearby
    t = 0.3
    swap = _swap()
    defect = swap.replace(model=lambda th: swap.model(th).at[0].add(1e5 * (th[0] - t) ** 4), name="defect")
    thetas = np.array([[t, t, 0.2, -0.4], [t, t, 0.6, 0.1]])
    assert ps.theorem2_batch(defect, loss, np.zeros(1), thetas, check_hypotheses=False).holds
    errors = ps.theorem2_batch(defect, loss, np.zeros(1), thetas).errors
    assert all(isinstance(e, ps.EquivarianceError) and "nearby point" in str(e) for e in errors)
