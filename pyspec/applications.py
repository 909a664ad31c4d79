"""The paper's applications (§§4–6) on catalog instances, each part beside its negative control.

:data:`APPLICATIONS` maps every application id (docs/design.md#one-id-per-paper-item) to its *section*: a function that binds
an :class:`~pyspec.catalog.Instance` once (with ``instance.args``), checks the hypotheses, and returns
every part of the requested ids' reports beside its negative control: the *same* check, on input that
violates the statement (the controls of docs/theory.md#conventions), reusing the bound problem:

* a model broken by :func:`~pyspec.report.perturbed` (eq. 2, the balance laws, Corollaries 2 and 3);
* a wrong degree ``p + 1`` (homogeneity, Corollary 1, the Rayleigh quotient);
* a wrong charge: ``‖u‖² + ‖w‖²`` for rescaling, ``W₁ᵀW₁ − W₂ᵀW₂`` (wrong side) for reparameterization;
* ``λ_min`` in place of ``λ_max`` (the sharpness bound);
* a point that is not stationary (§5.4) or not on the fixed set (§6).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from pyspec.backends import get_backend
from pyspec.catalog.base import Instance
from pyspec.checks import IdentityCheck
from pyspec.conservation import (
    orthogonality_report,
    reparam_conservation,
    reparam_problem,
    reparam_report,
    rescaling_conservation,
    rescaling_problem,
    rescaling_report,
    symmetry_orthogonality,
)
from pyspec.discrete import (
    corollary4_mirror,
    discrete_linear_gradient,
    discrete_linear_hessian,
    linear_map,
    linear_reports,
    mirror_problem,
    mirror_report,
)
from pyspec.equivariance import bind
from pyspec.homogeneity import (
    REPORTS,
    corollary1_gradient_in_hessian_range,
    homogeneity_euler,
    homogeneity_hessian_action,
    homogeneity_hessian_quadratic,
    homogeneity_norm_growth,
    homogeneous_problem,
    sharpness_lower_bound,
    sharpness_report,
)
from pyspec.last_layer import corollary3_last_layer, last_layer_report, last_layer_terms
from pyspec.noether import LEARNING_RATE, corollary2_noether_flow, noether_problem, noether_report
from pyspec.report import Report, bind_checked, perturbed
from pyspec.stationary import null_space_report, symmetry_hessian_null_space

__all__ = ["APPLICATIONS", "Outcome", "Section", "application_report"]

BROKEN = "broken equivariance"
WRONG_DEGREE = "degree p + 1"
OFF_FIXED = "off the fixed set"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One part of a report on one instance, beside its negative control."""

    form: str
    check: IdentityCheck
    control: IdentityCheck
    control_kind: str


Section = Callable[..., list[Outcome]]
"""``section(instance, precision, ids, jit=True)``: the outcomes of ``ids`` (all of one section), in
order; ``jit=False`` evaluates float64 op by op (faster for many models of the same shapes)."""


def _pair(report: Report, controls: Mapping[str, IdentityCheck], kinds: str | Mapping[str, str]) -> list[Outcome]:
    return [Outcome(part, check, controls[part], kinds if isinstance(kinds, str) else kinds[part])
            for part, check in report.parts.items()]


def _homogeneity(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
    """§4.2, §5.1: one evaluation of ``H`` serves every id and every control (the degree only enters the
    formulas)."""
    backend = get_backend(precision, jit=jit)
    degree = instance.args["degree"]
    outcomes = []
    with backend.context():
        problem, th, q = homogeneous_problem(instance.eq.model, instance.loss, instance.theta(backend.xp), degree,
                                             backend)
        for identity in ids:
            report, wrong = REPORTS[identity](problem, th, q, degree), REPORTS[identity](problem, th, q, degree + 1)
            controls, kinds = dict(wrong.parts), {part: WRONG_DEGREE for part in report.parts}
            if identity == "sharpness_lower_bound":
                controls["bound"] = sharpness_report(problem, th, q, degree, extreme="min").bound
                kinds["bound"] = "lambda_min for lambda_max"
            outcomes += _pair(report, controls, kinds)
    return outcomes


def _conservation(problem_fn: Callable[..., Any], report_fn: Callable[..., Report], wrong_charge: Callable[..., Any],
                  charge_kind: str) -> Section:
    """§4.1 balance (control: broken model) and flow (control: a wrong charge)."""

    def section(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
        backend = get_backend(precision, jit=jit)
        shapes, layers = instance.args["shapes"], instance.args["layers"]
        with backend.context():
            problem, th = problem_fn(instance.eq.model, instance.loss, instance.theta(backend.xp), shapes, layers,
                                     backend)
            report = report_fn(problem, th, shapes, layers)
            bad = report_fn(perturbed(problem, th), th, shapes, layers)
            wrong = report_fn(problem, th, shapes, layers, wrong_charge)
        return _pair(report, {"balance": bad.balance, "flow": wrong.flow}, {"balance": BROKEN, "flow": charge_kind})

    return section


def _sum_of_norms(u: Any, w: Any, *, xp: Any) -> Any:
    return xp.sum(u * u, axis=1) + xp.sum(w * w, axis=0)


def _wrong_side(W1: Any, W2: Any, *, xp: Any) -> Any:
    return W1.T @ W1 - W2.T @ W2


def _on_entry_symmetry(report_fn: Callable[..., Report], kind: str = BROKEN) -> Section:
    """Sections on the entry's own equivariance (bound and checked once); control: the broken model."""

    def section(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
        backend = get_backend(precision, jit=jit)
        xp = backend.xp
        with backend.context():
            problem, a, th, condition = bind_checked(instance.eq, instance.loss, instance.a(xp), instance.theta(xp),
                                                     backend)
            report = report_fn(problem, a, th, condition, instance)
            control = report_fn(perturbed(problem, th), a, th, condition, instance)
        return _pair(report, control.parts, kind)

    return section


def _null_space(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
    """§5.4 at the entry's stationary point; control: ``args["off_stationary"]``."""
    backend = get_backend(precision, jit=jit)
    xp = backend.xp
    with backend.context():
        problem, a, th, condition = bind_checked(instance.eq, instance.loss, instance.a(xp), instance.theta(xp), backend)
        report = null_space_report(problem, a, th, condition)
        off = null_space_report(problem, a, instance.args["off_stationary"](xp), condition, check_stationary=False)
    return _pair(report, off.parts, "not stationary")


def _noether(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
    """§5.2; control: the per-sample losses broken (no longer invariant)."""
    backend = get_backend(precision, jit=jit)
    generator = instance.args["generator"]
    with backend.context():
        problem, th = noether_problem(instance.eq.model, generator, instance.theta(backend.xp), backend)
        report = noether_report(problem, th, generator, LEARNING_RATE)
        bad = noether_report(perturbed(problem, th), th, generator, LEARNING_RATE)
    return _pair(report, bad.parts, "broken per-sample symmetry")


def _linear(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
    """§6 eqs. (8)–(9) at the entry's fixed point; control: its point off the fixed set."""
    assert instance.off_fixed is not None
    backend = get_backend(precision, jit=jit)
    xp = backend.xp
    with backend.context():
        problem, a, th = bind(instance.eq, instance.loss, instance.a(xp), instance.theta(xp), backend)
        reports = linear_reports(problem, th, linear_map(problem, a, th, check=True))
        off = instance.off_fixed(xp)
        controls = linear_reports(problem, off, linear_map(problem, a, off, check=False))
    return [o for identity in ids for o in _pair(reports[identity], controls[identity].parts, OFF_FIXED)]


def _mirror(instance: Instance, precision: int | None, ids: tuple[str, ...], jit: bool = True) -> list[Outcome]:
    """Corollary 4 at the entry's point on the mirror; control: its point off the mirror."""
    assert instance.off_fixed is not None
    backend = get_backend(precision, jit=jit)
    xp = backend.xp
    with backend.context():
        problem, th, frame = mirror_problem(instance.eq.model, instance.loss, instance.args["O"], instance.theta(xp),
                                            backend)
        report = mirror_report(problem, th, frame)
        off = mirror_report(problem, instance.off_fixed(xp), frame)
    return _pair(report, off.parts, OFF_FIXED)


_ORTHOGONALITY = _on_entry_symmetry(lambda problem, a, th, condition, _: orthogonality_report(problem, a, th, condition))
_LAST_LAYER = _on_entry_symmetry(lambda problem, a, th, condition, instance: last_layer_report(
    problem, last_layer_terms(problem, a, th), condition, instance.args.get("softmax_classes")))

APPLICATIONS: dict[str, Section] = {
    "symmetry_orthogonality": _ORTHOGONALITY,
    "rescaling_conservation": _conservation(rescaling_problem, rescaling_report, _sum_of_norms, "charge |u|^2 + |w|^2"),
    "reparam_conservation": _conservation(reparam_problem, reparam_report, _wrong_side, "charge W1^T W1 - W2^T W2"),
    **{identity: _homogeneity for identity in REPORTS},
    "corollary2_noether_flow": _noether,
    "corollary3_last_layer": _LAST_LAYER,
    "symmetry_hessian_null_space": _null_space,
    "discrete_linear_gradient": _linear,
    "discrete_linear_hessian": _linear,
    "corollary4_mirror": _mirror,
}
"""Every application id → its section (ids sharing a section are evaluated together)."""


Call = Callable[[Instance, Any, Any, int | None, bool], Report]
"""``call(instance, a, theta, precision, jit)``: the public function of an id on a catalog instance."""


def _homogeneous_call(fn: Callable[..., Report]) -> Call:
    return lambda i, a, th, p, jit: fn(i.eq.model, i.loss, th, i.args["degree"], precision=p, jit=jit)


def _linear_call(fn: Callable[..., Report]) -> Call:
    return lambda i, a, th, p, jit: fn(i.eq, i.loss, a, th, precision=p, jit=jit)


_CALLS: dict[str, Call] = {
    "symmetry_orthogonality": lambda i, a, th, p, jit: symmetry_orthogonality(
        i.eq, i.loss, a, th, precision=p, jit=jit),
    "rescaling_conservation": lambda i, a, th, p, jit: rescaling_conservation(
        i.eq.model, i.loss, th, i.args["shapes"], i.args["layers"], precision=p, jit=jit),
    "reparam_conservation": lambda i, a, th, p, jit: reparam_conservation(
        i.eq.model, i.loss, th, i.args["shapes"], i.args["layers"], precision=p, jit=jit),
    "homogeneity_euler": _homogeneous_call(homogeneity_euler),
    "homogeneity_norm_growth": _homogeneous_call(homogeneity_norm_growth),
    "homogeneity_hessian_action": _homogeneous_call(homogeneity_hessian_action),
    "homogeneity_hessian_quadratic": _homogeneous_call(homogeneity_hessian_quadratic),
    "corollary1_gradient_in_hessian_range": _homogeneous_call(corollary1_gradient_in_hessian_range),
    "sharpness_lower_bound": _homogeneous_call(sharpness_lower_bound),
    "corollary2_noether_flow": lambda i, a, th, p, jit: corollary2_noether_flow(
        i.eq.model, i.args["generator"], th, precision=p, jit=jit),
    "corollary3_last_layer": lambda i, a, th, p, jit: corollary3_last_layer(
        i.eq, i.loss, a, th, softmax_classes=i.args.get("softmax_classes"), precision=p, jit=jit),
    "symmetry_hessian_null_space": lambda i, a, th, p, jit: symmetry_hessian_null_space(
        i.eq, i.loss, a, th, precision=p, jit=jit),
    "discrete_linear_gradient": _linear_call(discrete_linear_gradient),
    "discrete_linear_hessian": _linear_call(discrete_linear_hessian),
    "corollary4_mirror": lambda i, a, th, p, jit: corollary4_mirror(
        i.eq.model, i.loss, i.args["O"], th, precision=p, jit=jit),
}


def application_report(identity: str, instance: Instance, precision: int | None = None, jit: bool = True) -> Report:
    """The public check of application ``identity`` on a catalog instance (with its hypothesis checks),
    at its point and with ``instance.args``."""
    backend = get_backend(precision, jit=jit)
    with backend.context():
        a, theta = instance.a(backend.xp), instance.theta(backend.xp)
    return _CALLS[identity](instance, a, theta, precision, jit)
