"""Certified checks (pyspec.certify): ``certify=True`` on the public API, ``verify --certify``, and the
cross-check of the ball backend against the mpmath and float64 backends on the catalog.

Cross-check (per catalog entry, every row of ``pyspec verify``: Theorem 1 or 2 and the applications):

* the balls' midpoints of both sides agree with the mpmath backend at the same precision within
  ``1e-45`` relative to the check's scale (both round at 50 digits; observed differences ~1e-50);
* the float64 residual is at most the certified bound plus the float64 tolerance (the rounding the
  float64 check is allowed), and the float64 left side lies in the balls widened by that rounding.

A representative subset runs by default (expm in T, a trivial identity at an exact minimum, a
nonlinear discrete symmetry; ~10 s of CPU each); the whole catalog is the slow-marked test (and
``pyspec verify --certify 50``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("flint")

import pyspec as ps  # noqa: E402
from pyspec.backends import certifying, get_backend  # noqa: E402
from pyspec.catalog import CATALOG  # noqa: E402
from pyspec.certify import CERTIFIED_BOUND  # noqa: E402
from pyspec.cli import main  # noqa: E402
from pyspec.report import perturbed  # noqa: E402
from pyspec.verify import _evaluate  # noqa: E402

DIGITS = 50
MIDPOINT_AGREEMENT = 1e-45
SUBSET = ("rotation_expm", "reparameterization_minimum", "nonlinear_involution")
REST = tuple(name for name in CATALOG if name not in SUBSET)


def _cross_check(name: str) -> None:
    instance = CATALOG[name].build(0)
    low = _evaluate(CATALOG[name], instance, None)
    mp = _evaluate(CATALOG[name], instance, DIGITS)
    with certifying():
        balls = _evaluate(CATALOG[name], instance, DIGITS)
    arb_backend, mp_backend = get_backend(DIGITS, certify=True), get_backend(DIGITS)
    assert len(low) == len(mp) == len(balls)
    for lo, hp, ball in zip(low, mp, balls, strict=True):
        check = ball.check
        what = f"{name}: {check.identity} {lo.form}"
        assert check.residual_bound is not None and check.residual_bound <= CERTIFIED_BOUND, what
        assert ball.control.certified_nonzero, what
        scale = max(check.scale, 1e-300)
        for side in ("lhs", "rhs"):
            mid = arb_backend.to_numpy(getattr(check, side))
            with mp_backend.context():
                diff = np.asarray(getattr(hp.check, side), dtype=object) - np.asarray(
                    [mp_backend.xp.asarray(v.mid()) for v in np.ravel(getattr(check, side))], dtype=object
                ).reshape(np.shape(mid))
                gap = float(mp_backend.norm(diff)) / scale
            assert gap <= MIDPOINT_AGREEMENT, f"{what}: {side} midpoints differ by {gap:.1e}"
        assert lo.check.residual <= check.residual_bound + lo.check.tolerance, what
        lhs64 = np.ravel(np.asarray(lo.check.lhs, dtype=np.float64))
        radius = np.array([float(v.rad()) for v in np.ravel(check.lhs)])
        distance = np.abs(lhs64 - arb_backend.to_numpy(check.lhs).ravel()) - radius
        # rounding is relative to the terms' size: the float64 check's scale when every ball is ~0
        allowed = lo.check.tolerance * max(check.scale, lo.check.scale)
        assert float(np.linalg.norm(np.maximum(distance, 0.0))) <= allowed, what


@pytest.mark.parametrize("name", SUBSET)
def test_cross_check(name: str) -> None:
    _cross_check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", REST)
def test_cross_check_whole_catalog(name: str) -> None:
    _cross_check(name)


def test_theorem1_certify_api() -> None:
    instance = CATALOG["last_layer_gl"].build(0)
    B = get_backend(DIGITS, certify=True)
    with B.context():
        a, theta = instance.a(B.xp), instance.theta(B.xp)
    report = ps.theorem1(instance.eq, instance.loss, a, theta, precision=DIGITS, certify=True)
    assert report.holds and report.key_identity.backend == f"arb-{DIGITS}"
    assert all(c.residual_bound <= CERTIFIED_BOUND and c.certified_nonzero is False for c in report.checks)
    with pytest.raises(ValueError, match="precision"):
        ps.theorem1(instance.eq, instance.loss, a, theta, certify=True)
    # without certify the fields stay None
    plain = ps.theorem1(instance.eq, instance.loss, a, theta, precision=30)
    assert plain.key_identity.residual_bound is None and plain.key_identity.certified_nonzero is None


def test_negative_control_is_certified_nonzero() -> None:
    """The broken model's Theorem 1 identities are proved false (enclosures exclude 0)."""
    from pyspec.equivariance import bind
    from pyspec.theorem1 import theorem1_report

    instance = CATALOG["polynomial_homogeneous"].build(0)
    B = get_backend(DIGITS, certify=True)
    with B.context():
        problem, a, theta = bind(instance.eq, instance.loss, instance.a(B.xp), instance.theta(B.xp), B)
        control = theorem1_report(perturbed(problem, theta), a, theta, check_equivariance=False)
    assert all(c.certified_nonzero for c in control.checks)
    assert all(c.residual_bound >= c.residual for c in control.checks)


def test_section_certify_api() -> None:
    instance = CATALOG["scalar_homogeneous"].build(0)
    report = ps.homogeneity_euler(instance.eq.model, instance.loss, instance.theta(get_backend(None).xp),
                                  instance.args["degree"], precision=DIGITS, certify=True)
    (check,) = report.checks
    assert check.residual_bound <= CERTIFIED_BOUND and check.certified_nonzero is False
    with pytest.raises(ValueError, match="certify=True needs precision"):
        ps.homogeneity_euler(instance.eq.model, instance.loss, np.ones(3), 2.0, certify=True)


def test_verify_certify_json(capsys) -> None:
    assert main(["verify", "--json", "--certify", str(DIGITS), "--entries", "mirror_symmetry"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["worst_residual_bound"] <= CERTIFIED_BOUND
    assert out["summary"]["uncertified_negative_controls"] == 0
    for row in out["rows"]:
        assert row["certify"] == DIGITS and row["residual_bound"] <= CERTIFIED_BOUND
        assert row["negative_control_certified"] is True


def test_verify_certify_table(capsys) -> None:
    assert main(["verify", "--certify", str(DIGITS), "--entries", "sign_flip"]) == 0
    out = capsys.readouterr().out
    assert "bound@50" in out and "proved" in out and "ball arithmetic at 50 digits" in out


def test_import_pyspec_does_not_need_flint() -> None:
    code = "import sys, pyspec; assert 'flint' not in sys.modules, 'flint imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
