"""The applications (§§4–6) on every catalog entry that lists them: each identity holds (float64 and 50
digits) and each negative control is flagged by the same check (pyspec.applications, pyspec verify)."""

from __future__ import annotations

import json

import pytest

from pyspec.applications import APPLICATIONS, application_report
from pyspec.catalog import CATALOG
from pyspec.claims import CLAIMS
from pyspec.cli import main
from tests.helpers import outcomes_hold_and_controls_flagged

PAIRS = [(name, identity) for name, e in CATALOG.items() for identity in e.applications]
WITH_APPLICATIONS = [name for name, e in CATALOG.items() if e.applications]
APPLICATION_IDS = {
    "symmetry_orthogonality", "rescaling_conservation", "reparam_conservation", "homogeneity_euler",
    "homogeneity_norm_growth", "homogeneity_hessian_action", "homogeneity_hessian_quadratic",
    "corollary1_gradient_in_hessian_range", "sharpness_lower_bound", "corollary2_noether_flow",
    "corollary3_last_layer", "symmetry_hessian_null_space", "discrete_linear_gradient", "discrete_linear_hessian",
    "corollary4_mirror",
}


def test_every_application_id_is_registered_checked_and_claimed() -> None:
    assert set(APPLICATIONS) == APPLICATION_IDS
    assert {identity for _, identity in PAIRS} == APPLICATION_IDS
    assert APPLICATION_IDS <= {c.id for c in CLAIMS}


@pytest.mark.parametrize("name,identity", PAIRS)
def test_every_application_on_the_catalog(name, identity) -> None:
    """The public function (with its hypothesis checks) on the entry's instance, at 30 digits (float64:
    the sections below and the claims table)."""
    report = application_report(identity, CATALOG[name].build(0), 30)
    assert report.holds and report.identity == identity, report.checks
    for check in report.checks:
        assert check.residual <= 1e-20, check


def _section_outcomes(name: str, precision: int | None):
    entry, instance = CATALOG[name], CATALOG[name].build(0)
    sections: dict = {}
    for identity in entry.applications:
        sections.setdefault(APPLICATIONS[identity], []).append(identity)
    # one compiled evaluation per entry (jit) beats op-by-op warm-up for a single model
    return [o for section, ids in sections.items() for o in section(instance, precision, tuple(ids))]


@pytest.mark.parametrize("name", WITH_APPLICATIONS)
def test_every_control_is_flagged(name) -> None:
    """Float64: every part holds to 1e-13 and the same check flags its negative control."""
    outcomes = _section_outcomes(name, None)
    outcomes_hold_and_controls_flagged(outcomes)
    assert all(o.check.residual <= 1e-13 for o in outcomes)


@pytest.mark.parametrize("name", WITH_APPLICATIONS)
def test_high_precision(name) -> None:
    """At 50 digits every residual is ≤ 1e-40 and every control is still flagged."""
    outcomes_hold_and_controls_flagged(_section_outcomes(name, 50), precision=50)


def test_verify_json_has_application_rows(capsys) -> None:
    assert main(["verify", "--json", "--entries", "scalar_homogeneous"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = [r for r in out["rows"] if r["identity"] in APPLICATION_IDS]
    assert {r["identity"] for r in rows} == set(CATALOG["scalar_homogeneous"].applications)
    assert out["summary"]["rows"] == len(out["rows"]) == 6 + len(rows)
    forms = {(r["identity"], r["form"]) for r in rows}
    assert ("sharpness_lower_bound", "bound") in forms and ("corollary1_gradient_in_hessian_range", "c_form") in forms
    assert {r["negative_control_kind"] for r in rows} == {"degree p + 1", "lambda_min for lambda_max"}
    assert all(r["ok"] and r["holds"] and r["negative_control_flagged"] for r in rows)
