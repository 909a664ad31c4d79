"""Three-valued verdicts on the matrix-free path (pyspec.matrix_free.verdicts, issue 12): the smoothness
probe, the conditioning band, the rounding-noise estimate and the second differentiation route, each
with a negative control that the same machinery must still flag."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.catalog import CATALOG
from pyspec.equivariance import bind
from pyspec.errors import NonDifferentiableWarning
from pyspec.matrix_free import checked_position_mf, row_structures, theorem1_checks_mf, theorem1_program
from pyspec.matrix_free.options import SolverOptions
from pyspec.matrix_free.verdicts import rounding_noise_mf, second_route_mf
from pyspec.reports import Theorem1Checks

B = get_backend(None)
XP = B.xp
W = np.array([[1.0, -1.0], [0.5, 2.0]])
A1 = np.array([0.3])
TINY = 1e-30
"""A tolerance below any float64 residual: every check then exceeds it, so what decides its verdict is
the resolution the measurement finds (the measured noise and route disagreement are ~1e-17, not 0)."""


def mse(y, *, xp):
    return 0.5 * xp.sum((y - 0.3) ** 2)


def _relu() -> ps.Equivariance:
    return ps.Equivariance(model=lambda t, *, xp: xp.relu(W @ t[:2]) * t[2],
                           T=lambda a, t, *, xp: xp.concatenate([xp.exp(a[0]) * t[:2], xp.exp(-a[0]) * t[2:]]),
                           name="relu")


def test_kink_warns_and_is_inconclusive_on_the_matrix_free_path() -> None:
    with pytest.warns(NonDifferentiableWarning):
        report = ps.theorem1(_relu(), mse, A1, np.array([1.0, 1.0, 0.7]), method="matrix_free")
    assert report.nondifferentiable and report.verdict == "inconclusive" and "non-differentiable" in report.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # negative control: a smooth point does not warn and holds
        smooth = ps.theorem1(_relu(), mse, A1, np.array([1.0, 0.6, 0.7]), method="matrix_free")
    assert not smooth.nondifferentiable and smooth.holds


def test_theorem2_kink_is_inconclusive_on_the_matrix_free_path() -> None:
    swap = ps.Equivariance(model=lambda t, *, xp: xp.reshape(xp.sum(xp.relu(t[:2])) + t[2] ** 2, (1,)),
                           T=lambda a, t, *, xp: xp.concatenate([t[1:2], t[0:1], t[2:]]), name="swap")
    with pytest.warns(NonDifferentiableWarning):
        kink = ps.theorem2(swap, mse, np.zeros(1), np.array([0.0, 0.0, 1.0]), method="matrix_free")
    assert kink.nondifferentiable and kink.verdict == "inconclusive" and "non-differentiable" in kink.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # negative control: a smooth fixed point
        smooth = ps.theorem2(swap, mse, np.zeros(1), np.array([0.5, 0.5, 1.0]), method="matrix_free")
    assert not smooth.nondifferentiable and smooth.holds


def test_conditioning_band_matches_the_dense_path() -> None:
    inst = CATALOG["last_layer_gl"].build(0)
    a, theta = inst.a(XP), inst.theta(XP)
    mf = ps.theorem1(inst.eq, inst.loss, a, theta, method="matrix_free")
    dense = ps.theorem1(inst.eq, inst.loss, a, theta, method="dense")
    assert mf.position.condition > 1.0 and mf.holds
    for m, d in zip(mf.checks, dense.checks):
        assert m.resolution == pytest.approx(m.tolerance * mf.position.condition)
        assert "conditioning" in m.limit and "conditioning" in d.limit


def _measured(eq, loss, a, theta, keep_arrays: bool):
    """The matrix-free checks at ``(a, θ)`` with every tolerance set to :data:`TINY`, and the same checks
    limited by the rounding noise, and by the second route, each measured on them."""
    problem, a_, t_ = bind(eq, loss, a, theta, B)
    opts = SolverOptions()
    structures, position, _ = checked_position_mf(problem, a_, t_, check_equivariance=False)

    def checks_at(b, t, st):
        return theorem1_checks_mf(problem, B.to_host(theorem1_program(problem, st, opts)(b, t)), 1.0, st, opts)

    q = B.to_host(theorem1_program(problem, structures, opts, keep_arrays)(a_, t_))
    raw = theorem1_checks_mf(problem, q, 1.0, structures, opts).map(lambda c: dataclasses.replace(c, tolerance=TINY))
    assert all(c.verdict == "fails" for c in raw if not c.trivial)
    noisy = rounding_noise_mf(problem, a_, t_, raw, checks_at)
    routed = second_route_mf(problem, a_, t_, row_structures(problem, a_, t_), opts, raw)
    return raw, noisy, routed


@pytest.mark.parametrize("keep_arrays", [True, False])
def test_rounding_noise_and_second_route_make_rounding_inconclusive_not_failed(keep_arrays: bool) -> None:
    inst = CATALOG["last_layer_gl"].build(0)
    a, theta = inst.a(XP), inst.theta(XP)
    raw, noisy, routed = _measured(inst.eq, inst.loss, a, theta, keep_arrays)
    assert isinstance(noisy, Theorem1Checks) and isinstance(routed, Theorem1Checks)
    assert all(c.verdict != "fails" and "rounding noise" in c.limit for c in noisy if not c.trivial), noisy
    for check in (routed.hessian_action, routed.hessian_quadratic):
        assert check.verdict == "inconclusive" and "second differentiation route" in check.limit, check
    # the reduced report (no arrays) gets the resolution the arrays measure
    assert (noisy.hessian_action.lhs is None) == (not keep_arrays)


def test_rounding_noise_and_second_route_do_not_hide_a_violation() -> None:
    """Negative control: the same measurement on a broken model leaves the violated identities failed."""
    inst = CATALOG["last_layer_gl"].build(0)
    a, theta = inst.a(XP), inst.theta(XP)
    model = inst.eq.model
    broken = inst.eq.replace(model=lambda t, *, xp: model(t, xp=xp) + 1e-4 * xp.sin(3.0 * t[: model(t, xp=xp).shape[0]]))
    _, noisy, routed = _measured(broken, inst.loss, a, theta, keep_arrays=False)
    assert noisy.key_identity.verdict == "fails" and noisy.hessian_action.verdict == "fails", noisy
    assert routed.hessian_action.verdict == "fails" and routed.hessian_quadratic.verdict == "fails", routed
