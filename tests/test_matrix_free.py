"""Matrix-free Theorems 1–2 (pyspec.matrix_free) against the dense path, with negative controls,
the auto-selection rule and its errors, the structured solves and the norm-only reports on
real-size models."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

import pyspec as ps
from pyspec import matrix_free
from pyspec.catalog import CATALOG
from pyspec.catalog.large import build, parameter_count
from pyspec.strategies import homogeneous_models, last_layer_models
from tests.helpers import XP64, broken

AGREEMENT = 1e-10
HEAVY = {"nonlinear_homogeneous", "nonlinear_last_layer", "nonlinear_reparameterization", "rotation_expm"}


def _agree(dense: ps.IdentityCheck, mf: ps.IdentityCheck) -> float:
    """Largest difference of the left sides and of every term, relative to the dense check's scale."""
    diffs = [np.linalg.norm(np.asarray(dense.lhs) - np.asarray(mf.lhs))]
    diffs += [np.linalg.norm(np.asarray(dense.terms[t]) - np.asarray(mf.terms[t])) for t in dense.terms]
    return float(max(diffs)) / dense.scale


def _theorem1_pair(instance, **kwargs):
    a, theta = instance.a(XP64), instance.theta(XP64)
    dense = ps.theorem1(instance.eq, instance.loss, a, theta, method="dense", jit=True, **kwargs)
    mf = ps.theorem1(instance.eq, instance.loss, a, theta, method="matrix_free", **kwargs)
    return dense, mf


def _check_theorem1_agreement(dense, mf, name) -> None:
    assert mf.holds, (name, mf.checks)
    assert set(matrix_free.METHODS) == {"auto", "dense", "matrix_free", "sketched"}
    for d, m in zip(dense.checks, mf.checks):
        assert d.identity == m.identity and set(d.terms) == set(m.terms)
        assert _agree(d, m) <= AGREEMENT, (name, d.identity, _agree(d, m))
        assert m.residual <= 1e-12, (name, m)


CONTINUOUS = [n for n, e in CATALOG.items() if e.kind == "continuous"]
DISCRETE = [n for n, e in CATALOG.items() if e.kind == "discrete"]


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in CONTINUOUS]
)
def test_theorem1_dense_and_matrix_free_agree(name) -> None:
    dense, mf = _theorem1_pair(CATALOG[name].build(0))
    _check_theorem1_agreement(dense, mf, name)
    # the dense LU solve works per independent block of ∂θT (its condition is the worst block's, 1 for
    # a diagonal ∂θT); the iterative matrix-free solve sees the 2-norm condition of the whole matrix
    assert dense.position.cond_T <= mf.position.cond_T * (1 + 1e-6)


@pytest.mark.parametrize("name", DISCRETE)
def test_theorem2_dense_and_matrix_free_agree(name) -> None:
    inst = CATALOG[name].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    dense = ps.theorem2(inst.eq, inst.loss, a, theta, method="dense")
    mf = ps.theorem2(inst.eq, inst.loss, a, theta, method="matrix_free", probes=4)
    assert mf.holds, mf.checks
    assert _agree(dense.gradient, mf.gradient) <= AGREEMENT
    Z = np.asarray(matrix_free.probe_directions(theta.shape[0], 4))
    for term in ("conjugated", "blue"):
        diff = np.linalg.norm(np.asarray(dense.hessian.terms[term]) @ Z - np.asarray(mf.hessian.terms[term]))
        assert diff <= AGREEMENT * dense.hessian.scale
    assert np.linalg.norm(np.asarray(dense.hessian.lhs) @ Z - np.asarray(mf.hessian.lhs)) <= AGREEMENT * dense.hessian.scale
    # negative control: off the fixed set, both items flagged by the matrix-free check
    off = ps.theorem2(inst.eq, inst.loss, a, inst.off_fixed(XP64), method="matrix_free", check_hypotheses=False)
    assert all(not c.holds and c.residual > 1e-6 for c in off.checks), off.checks
    with pytest.raises(ps.NotFixedPointError):
        ps.theorem2(inst.eq, inst.loss, a, inst.off_fixed(XP64), method="matrix_free")


@pytest.mark.parametrize("name", ["relu_mlp_homogeneous", "last_layer_gl", "gl_reparameterization"])
def test_theorem1_negative_control_flagged(name) -> None:
    """The broken (non-equivariant) model: every matrix-free identity fails; the hypothesis check raises."""
    inst = broken(CATALOG[name].build(0))
    a, theta = inst.a(XP64), inst.theta(XP64)
    report = ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free", check_equivariance=False)
    for check in report.checks:
        assert not check.holds and check.residual >= 1e-6, (name, check)
    with pytest.raises(ps.EquivarianceError):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free")


def test_dropping_a_term_is_flagged() -> None:
    from pyspec.checks import compare
    from pyspec.backends import get_backend

    _, mf = _theorem1_pair(CATALOG["last_layer_gl"].build(0))
    check = mf.hessian_action
    for term in ("green_K", "green_S", "plain"):
        rest = {k: v for k, v in check.terms.items() if k != term}
        assert not compare(get_backend(None), check.identity, check.lhs, rest, check.tolerance).holds


@pytest.mark.slow
@settings(max_examples=3)
@given(homogeneous_models(degrees=(2, 3)))
def test_property_homogeneous_agree(case) -> None:
    _check_theorem1_agreement(*_theorem1_pair(case), case.eq.name)


@pytest.mark.slow
@settings(max_examples=3)
@given(last_layer_models())
def test_property_last_layer_agree(case) -> None:
    _check_theorem1_agreement(*_theorem1_pair(case), case.eq.name)


def test_selection_rule() -> None:
    limit = matrix_free.DENSE_MAX_N
    assert matrix_free.select_method("auto", limit, None) == "dense"
    assert matrix_free.select_method("auto", limit + 1, None) == "matrix_free"
    assert matrix_free.select_method("auto", 10**7, 50) == "dense"
    assert matrix_free.select_method("dense", 10**7, None) == "dense"
    assert matrix_free.select_method("matrix_free", 3, None) == "matrix_free"


def test_errors() -> None:
    inst = CATALOG["relu_mlp_homogeneous"].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    with pytest.raises(ValueError, match="float64 only"):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free", precision=30)
    with pytest.raises(ValueError, match="method must be one of"):
        ps.theorem1(inst.eq, inst.loss, a, theta, method="sparse")
    disc = CATALOG["sign_flip"].build(0)
    with pytest.raises(ValueError, match="float64 only"):
        ps.theorem2(disc.eq, disc.loss, disc.a(XP64), disc.theta(XP64), method="matrix_free", precision=30)


def test_auto_picks_matrix_free_for_a_large_pytree_model(monkeypatch) -> None:
    """n > DENSE_MAX_N with pytree parameters: auto runs the matrix-free path, and it holds."""
    inst = build("mlp", 3000, "homogeneity")
    assert parameter_count(inst) > matrix_free.DENSE_MAX_N
    called = []
    original = matrix_free.theorem1_report_mf
    monkeypatch.setattr(matrix_free, "theorem1_report_mf", lambda *a, **k: called.append(1) or original(*a, **k))
    report = ps.theorem1(inst.eq, inst.loss, inst.a(None), inst.theta(None))
    assert called and report.holds, report.checks


# --- real-size models: structured solves, norm-only reports -------------------------------------------

LARGE_CASES = [("mlp", s) for s in ("homogeneity", "rescaling", "reparameterization", "last_layer")] + [
    ("transformer", s) for s in ("rescaling", "reparameterization", "last_layer")
]


def _large_broken(inst):
    """The large instance with a non-equivariant term ``0.1 s(θ) r`` added (``s`` = the squared first
    rows of every leaf, which every catalog action changes): the negative control."""
    m = inst.eq.model(inst.theta(None)).shape[0]
    r = np.random.default_rng(3).standard_normal(m)

    def model(p):
        s = sum(jnp.sum(jnp.reshape(leaf, (leaf.shape[0], -1))[0] ** 2) for leaf in jax.tree_util.tree_leaves(p))
        return inst.eq.model(p) + 0.1 * s * r

    return inst.eq.replace(model=model, name=inst.eq.name + "_broken")


@pytest.mark.parametrize("model,symmetry", LARGE_CASES)
def test_large_models_hold_with_norm_reports_and_flag_the_control(model, symmetry) -> None:
    """Every real-size entry holds with ``keep_arrays=False`` (item 2a reduced to norms on the device);
    the broken model fails every identity with the same settings."""
    inst = build(model, 3000, symmetry)
    a, theta = inst.a(None), inst.theta(None)
    lean = ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free", keep_arrays=False)
    assert lean.holds and max(c.residual for c in lean.checks) <= 1e-13, lean.checks
    assert lean.hessian_action.lhs is None and lean.hessian_action.terms.keys() == {"green_K", "green_S", "blue", "plain"}
    bad = ps.theorem1(_large_broken(inst), inst.loss, a, theta, method="matrix_free", keep_arrays=False,
                      check_equivariance=False)
    assert all(not c.holds and c.residual >= 1e-6 for c in bad.checks), bad.checks


@pytest.mark.parametrize("name", ["last_layer_gl", "gl_reparameterization", "nonlinear_last_layer"])
def test_norm_reports_equal_array_reports(name) -> None:
    """``keep_arrays=False`` gives the residuals, scales and term norms of the full-array report."""
    inst = CATALOG[name].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    full = ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free")
    lean = ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free", keep_arrays=False)
    for f, l in zip(full.checks, lean.checks):
        assert l.scale == pytest.approx(f.scale, rel=1e-12) and abs(l.residual - f.residual) <= 1e-15, (f, l)
        for t, value in f.term_norms.items():
            assert l.term_norms[t] == pytest.approx(value, rel=1e-12, abs=1e-300), (name, t)


def test_row_structures_of_the_catalog_actions() -> None:
    """Diagonal rows found by two probes: none active for homogeneity and rescaling (no GMRES), the
    ``r`` mixed rows of one layer for last-layer ``GL(r)``, and ``∂yS = I`` for a symmetry."""
    from pyspec.backends import get_backend
    from pyspec.catalog.large import R, _mlp_widths
    from pyspec.equivariance import bind

    B = get_backend(None)
    _, d, c = _mlp_widths(3000)
    for symmetry, active_T, active_S in [("homogeneity", 0, 0), ("rescaling", 0, 0), ("last_layer", R * d, 64),
                                         ("reparameterization", R * (32 + d), 0)]:
        inst = build("mlp", 3000, symmetry)
        problem, a, theta = bind(inst.eq, inst.loss, inst.a(None), inst.theta(None), B)
        sT, sS = matrix_free.row_structures(problem, a, theta)
        assert (sT.active.shape[0], sS.active.shape[0]) == (active_T, active_S), symmetry
        assert len(sT.leaves) == {0: 0, R * d: 1, R * (32 + d): 2}[active_T]
    assert np.all(np.asarray(sS.inv_diag) == 1.0)  # reparameterization is a symmetry


@pytest.mark.parametrize("name", ["last_layer_gl", "gl_reparameterization", "rotation_expm", "nonlinear_reparameterization"])
def test_gmres_and_direct_active_solves_agree_with_dense(name) -> None:
    """The active block solved by GMRES (``direct_max=0``) and by LU (default, small blocks) both
    match the dense path; GMRES widens the tolerance by its requested residual, LU does not."""
    from pyspec.backends import get_backend
    from pyspec.equivariance import bind

    inst = CATALOG[name].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    dense = ps.theorem1(inst.eq, inst.loss, a, theta, method="dense")
    B = get_backend(None)
    with B.context():
        problem, a_flat, theta_flat = bind(inst.eq, inst.loss, a, theta, B)
        iterative = matrix_free.theorem1_report_mf(problem, a_flat, theta_flat, opts=matrix_free.SolverOptions(direct_max=0))
        direct = matrix_free.theorem1_report_mf(problem, a_flat, theta_flat)
    for report in (iterative, direct):
        _check_theorem1_agreement(dense, report, name)
    assert iterative.hessian_action.tolerance > direct.hessian_action.tolerance


# --- Section 5.1 matrix-free -------------------------------------------------------------------------

HOMOGENEITY = ("homogeneity_euler", "homogeneity_norm_growth", "homogeneity_hessian_action",
               "homogeneity_hessian_quadratic", "sharpness_lower_bound")


@pytest.mark.parametrize("name", ["polynomial_homogeneous", "scalar_homogeneous"])
def test_homogeneity_tools_dense_and_matrix_free_agree(name) -> None:
    """Every §4.2/§5.1 tool (Corollary 1 too, for the scalar model): the matrix-free report holds, its
    left sides and terms match the dense ones, and a wrong degree fails it (negative control)."""
    inst = CATALOG[name].build(0)
    degree, theta = inst.args["degree"], inst.theta(XP64)
    ids = HOMOGENEITY + (("corollary1_gradient_in_hessian_range",) if name == "scalar_homogeneous" else ())
    for identity in ids:
        fn = getattr(ps, identity)
        dense = fn(inst.eq.model, inst.loss, theta, degree, method="dense")
        mf = fn(inst.eq.model, inst.loss, theta, degree, method="matrix_free")
        assert mf.holds, (identity, mf)
        for part, d in dense.parts.items():
            assert _agree(d, mf.parts[part]) <= AGREEMENT, (identity, part)
        wrong = fn(inst.eq.model, inst.loss, theta, degree + 1, method="matrix_free", check_homogeneity=False)
        assert not all(c.holds for c in wrong.parts.values()), (identity, wrong)
    dense = ps.sharpness_lower_bound(inst.eq.model, inst.loss, theta, degree, method="dense")
    mf = ps.sharpness_lower_bound(inst.eq.model, inst.loss, theta, degree, method="matrix_free")
    assert mf.details["lambda_max"] == pytest.approx(dense.details["lambda_max"], rel=1e-8)


def test_sharpness_bound_on_a_large_model_with_lanczos() -> None:
    """n > DENSE_MAX_N: ``auto`` runs Lanczos; λ_max ≥ θᵀHθ/‖θ‖² holds, and λ_min in its place is flagged."""
    from pyspec.backends import get_backend
    from pyspec.homogeneity import homogeneous_problem, sharpness_report

    inst = build("mlp", 3000, "homogeneity")
    report = ps.sharpness_lower_bound(inst.eq.model, inst.loss, inst.theta(None), 4)
    assert report.holds and report.details["lambda_max"] >= report.details["bound"] > 0, report
    B = get_backend(None)
    problem, th, q = homogeneous_problem(inst.eq.model, inst.loss, inst.theta(None), 4, B, method="matrix_free")
    assert q.H is None and not sharpness_report(problem, th, q, 4, extreme="min").holds
    for identity in HOMOGENEITY[:4]:
        assert getattr(ps, identity)(inst.eq.model, inst.loss, inst.theta(None), 4).holds, identity


# --- Section 5.3 matrix-free -------------------------------------------------------------------------


def test_corollary3_dense_and_matrix_free_agree() -> None:
    """Corollary 3 (and its softmax variance form) from the matrix-free program: holds, matches the
    dense report, and the broken model fails it (negative control). (A nonlinear last-layer pair is not
    a Corollary 3 instance: its extra Theorem 1 terms do not vanish.)"""
    inst = CATALOG["last_layer_gl"].build(0)
    a, theta = inst.a(XP64), inst.theta(XP64)
    classes = inst.args.get("softmax_classes")
    dense = ps.corollary3_last_layer(inst.eq, inst.loss, a, theta, softmax_classes=classes, method="dense")
    mf = ps.corollary3_last_layer(inst.eq, inst.loss, a, theta, softmax_classes=classes, method="matrix_free")
    assert mf.holds and set(mf.parts) == set(dense.parts), mf
    for part, d in dense.parts.items():
        assert _agree(d, mf.parts[part]) <= AGREEMENT, part
    bad = broken(inst)
    control = ps.corollary3_last_layer(bad.eq, bad.loss, a, theta, softmax_classes=classes, method="matrix_free",
                                       check_equivariance=False)
    assert not control.holds, control


def test_corollary3_on_a_large_model() -> None:
    """n > DENSE_MAX_N: ``auto`` is matrix-free; the softmax variance form holds on the MLP's read-out."""
    inst = build("mlp", 3000, "last_layer")
    report = ps.corollary3_last_layer(inst.eq, inst.loss, inst.a(None), inst.theta(None), softmax_classes=10)
    assert report.holds and max(c.residual for c in report.parts.values()) <= 1e-13, report
