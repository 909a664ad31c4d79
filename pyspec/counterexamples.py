"""Certified counterexamples to the paper's statements that the project corrects (docs/theory.md#corrections-and-interpretations).

For each correction, an instance given by exact rationals (``pyspec/data/counterexamples.json``; every
number is a dyadic rational, so float64 holds it exactly and ball arithmetic starts from radius 0) and
two ball-arithmetic enclosures of ``‖lhs − rhs‖``:

* the **uncorrected** statement's, which excludes 0: a proof that the statement as printed is false
  at the instance;
* the **corrected** identity's (the project's form, checked by :mod:`pyspec`), which contains 0 with
  an upper end at most :data:`~pyspec.certify.CERTIFIED_BOUND`.

The three corrections:

``corollary1_without_kappa``
    Corollary 1 (§5.1, m = 1) concludes ``∇L ∈ col H`` (``∇L = cHθ``, ``c = ℓ′/κ``) without assuming
    ``κ = (p−1)ℓ′ + p f ℓ″ ≠ 0``. Instance: ``f = θ₁θ₂ + θ₃²`` (p = 2), ``ℓ = (y − t)²/2`` with ``t =
    3f(θ)``, so ``κ = 0`` while ``ℓ′ ≠ 0`` and ``∇f ≠ 0``. Everything is polynomial in dyadic numbers,
    so ``Hθ`` is enclosed by the exact ball ``{0}``: ``θ ∈ ker H``. The uncorrected statement implies
    ``⟨∇L, θ⟩ = 0`` (``col H ⟂ ker H``); its enclosure excludes 0. Corrected: ``ℓ′Hθ = κ∇L``.
``theorem2_without_blue_term``
    Theorem 2 item 2 as ``JᵀHJ = H`` for a nonlinear ``T``. Instance: the polynomial involution
    ``T = φ⁻¹∘R∘φ`` with ``φ(θ) = (θ₁, θ₂ + θ₁²)`` and the swap ``R``, at its fixed point
    ``(1/2, 1/4)``, ``f = G(φθ) + G(Rφθ)`` with ``G(u) = (tanh(u₁ − u₂/2), u₁u₂²)``, squared loss.
    Corrected: ``JᵀHJ + ∇L·T_θθ = H``.
``corollary2_wrong_normalization``
    Corollary 2 with the factor ``−σ²`` instead of ``−σ²/2`` for the SGF ``dθ = −∇L dt +
    √(2σ²Σ) dW``: ``dQ/dt = −σ²⟨∇TrΣ, v⟩``. Instance: per-sample losses ``softplus(x_iθ₁θ₂ + c_iθ₃) +
    (θ₁θ₂ − d_i)²/2``, invariant under ``e^{aA}``, ``A = diag(1, −1, 0)``, ``Q = (θ₁² − θ₂²)/2``.
    Corrected: the Itô drift of ``Q`` equals ``−(σ²/2)⟨∇TrΣ, v⟩``.
"""

from __future__ import annotations

import json

from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from pyspec.backends import get_backend
from pyspec.certify import CERTIFIED_BOUND
from pyspec.checks import IdentityCheck, compare
from pyspec.equivariance import Equivariance

__all__ = ["COUNTEREXAMPLES_FILE", "Counterexample", "Enclosure", "counterexamples", "load_instances"]

COUNTEREXAMPLES_FILE = Path(__file__).parent / "data" / "counterexamples.json"
"""The committed instances (exact rationals as strings ``"p/q"``)."""

DIGITS = 50
"""Working precision of the enclosures (decimal digits)."""


class Enclosure(NamedTuple):
    """Rigorous enclosure of ``‖lhs − rhs‖`` and the balls of ``lhs − rhs`` (Arb's decimal strings,
    each a rigorous enclosure of one entry)."""

    lower: float
    upper: float
    balls: tuple[str, ...]

    @property
    def excludes_zero(self) -> bool:
        """``lower > 0``: the identity is proved false."""
        return self.lower > 0.0


class Counterexample(NamedTuple):
    """One correction: the uncorrected statement's enclosure (excludes 0) and the corrected one's."""

    name: str
    statement: str
    correction: str
    instance: dict[str, Any]
    uncorrected: Enclosure
    corrected: Enclosure
    corrected_check: IdentityCheck

    @property
    def certified(self) -> bool:
        """The uncorrected enclosure excludes 0 and the corrected one is within the certified bound."""
        return self.uncorrected.excludes_zero and self.corrected.upper <= CERTIFIED_BOUND


def load_instances(path: Path = COUNTEREXAMPLES_FILE) -> dict[str, dict[str, Any]]:
    """The instances with every rational parsed to a float64 (checked exact: a dyadic rational)."""
    raw = json.loads(path.read_text())

    def parse(x: Any) -> Any:
        if isinstance(x, list):
            return np.array([parse(e) for e in x], dtype=np.float64)
        if isinstance(x, str) and x and (x[0].isdigit() or x[0] == "-"):
            q = Fraction(x)
            if Fraction(float(q)) != q:
                raise ValueError(f"{path.name}: {x} is not exactly representable in float64 (not dyadic)")
            return float(q)
        return x

    return {name: {k: parse(v) for k, v in spec.items()} for name, spec in raw.items()}


def _enclosure(backend: Any, difference: Any) -> Enclosure:
    low, high = backend.norm_bounds(difference)
    balls = tuple(v.str(12) for v in np.ravel(difference))
    return Enclosure(low, high, balls)


def _term(check: IdentityCheck, name: str) -> Any:
    """The right side's term ``name`` of ``check``."""
    term = check.terms[name]
    if term is None:  # unreachable: these checks are dense (compare keeps the arrays)
        raise ValueError(f"{check.identity}: the check has norms only, no term {name!r}")
    return term


def _corollary1(spec: dict[str, Any]) -> tuple[Enclosure, Enclosure, IdentityCheck]:
    from pyspec.homogeneity import corollary1_gradient_in_hessian_range

    t = spec["target"]

    def model(theta: Any, *, xp: Any) -> Any:
        return xp.stack([theta[0] * theta[1] + theta[2] * theta[2]])

    def loss(y: Any, *, xp: Any) -> Any:
        return xp.sum(xp.square(y - t)) / 2

    theta = spec["theta"]
    report = corollary1_gradient_in_hessian_range(model, loss, theta, spec["degree"], precision=DIGITS, certify=True)
    check = report.parts["division_free"]
    B = get_backend(DIGITS, certify=True)
    with B.context():

        def L(th: Any) -> Any:
            return loss(model(th, xp=B.xp), xp=B.xp)

        th = B.asarray(theta)
        grad = B.jacobian(L, th)
        H_theta = B.jvp(lambda s: B.jacobian(L, s), th, B.xp.reshape(th, (-1, 1)))[1][:, 0]
        if any(not (v.is_exact() and v.is_zero()) for v in H_theta):
            raise ArithmeticError("corollary1_without_kappa: H theta is not certified to be exactly 0")
        uncorrected = _enclosure(B, B.xp.stack([grad @ th]))  # ⟨∇L, θ⟩ with θ ∈ ker H
        lhs, rhs = check.sides()
        corrected = _enclosure(B, lhs - rhs)
    return uncorrected, corrected, check


def _involution_parts(spec: dict[str, Any]) -> tuple[Equivariance, Callable[..., Any]]:
    target = spec["target"]

    def phi(theta: Any, xp: Any) -> Any:
        return xp.stack([theta[0], theta[1] + theta[0] * theta[0]])

    def G(u: Any, xp: Any) -> Any:
        return xp.stack([xp.tanh(u[0] - u[1] / 2), u[0] * u[1] * u[1]])

    def model(theta: Any, *, xp: Any) -> Any:
        u = phi(theta, xp)
        return G(u, xp) + G(xp.stack([u[1], u[0]]), xp)

    def T(a: Any, theta: Any, *, xp: Any) -> Any:
        s = theta[1] + theta[0] * theta[0]  # T = φ⁻¹(R φ(θ)) = (s, θ₁ − s²)
        return xp.stack([s, theta[0] - s * s])

    def loss(y: Any, *, xp: Any) -> Any:
        return xp.sum(xp.square(y - target)) / 2

    return Equivariance(model=model, T=T, name="polynomial_involution"), loss


def _theorem2(spec: dict[str, Any]) -> tuple[Enclosure, Enclosure, IdentityCheck]:
    from pyspec.theorem2 import theorem2

    eq, loss = _involution_parts(spec)
    report = theorem2(eq, loss, np.zeros(1), spec["theta"], precision=DIGITS, certify=True)
    check = report.hessian
    B = get_backend(DIGITS, certify=True)
    with B.context():
        lhs, rhs = check.sides()
        uncorrected = _enclosure(B, lhs - _term(check, "conjugated"))  # H − JᵀHJ
        corrected = _enclosure(B, lhs - rhs)
    return uncorrected, corrected, check


def _corollary2(spec: dict[str, Any]) -> tuple[Enclosure, Enclosure, IdentityCheck]:
    from pyspec.noether import corollary2_noether_flow

    x, c, d = spec["x"], spec["c"], spec["d"]

    def sample_losses(theta: Any, *, xp: Any) -> Any:
        z = theta[0] * theta[1]
        return xp.softplus(x * z + c * theta[2]) + xp.square(z - d) / 2

    report = corollary2_noether_flow(sample_losses, spec["generator"], spec["theta"], eta=spec["learning_rate"],
                                     precision=DIGITS, certify=True)
    check = report.parts["noether_flow"]
    B = get_backend(DIGITS, certify=True)
    with B.context():
        lhs, rhs = check.sides()
        wrong = compare(B, check.identity, lhs, {"trace_gradient": 2 * _term(check, "trace_gradient")},
                        check.tolerance)
        wrong_lhs, wrong_rhs = wrong.sides()
        uncorrected = _enclosure(B, B.xp.stack([wrong_lhs - wrong_rhs]))
        corrected = _enclosure(B, B.xp.stack([lhs - rhs]))
    return uncorrected, corrected, check


_CASES: dict[str, tuple[str, str, Callable[[dict[str, Any]], tuple[Enclosure, Enclosure, IdentityCheck]]]] = {
    "corollary1_without_kappa": (
        "Corollary 1 without kappa != 0: grad L in col H (so <grad L, theta> = 0 when H theta = 0)",
        "l'(f) H theta = kappa grad L (and the c-form only when kappa != 0 or grad L = 0)",
        _corollary1,
    ),
    "theorem2_without_blue_term": (
        "Theorem 2 item 2 without the blue term for nonlinear T: J^T H J = H",
        "J^T H J + (grad L . T_thetatheta) = H",
        _theorem2,
    ),
    "corollary2_wrong_normalization": (
        "Corollary 2 with factor -sigma^2: dQ/dt = -sigma^2 <grad Tr Sigma, v>",
        "dQ/dt = -(sigma^2/2) <grad Tr Sigma, v> for noise sqrt(2 sigma^2 Sigma) dW",
        _corollary2,
    ),
}


def counterexamples(path: Path = COUNTEREXAMPLES_FILE) -> list[Counterexample]:
    """Every certified counterexample of the file (in ball arithmetic at :data:`DIGITS` digits)."""
    instances = load_instances(path)
    raw = json.loads(path.read_text())
    unknown = set(instances) - set(_CASES)
    if unknown:
        raise ValueError(f"{path.name}: unknown counterexamples {sorted(unknown)}; known: {sorted(_CASES)}")
    out = []
    for name, (statement, correction, run) in _CASES.items():
        uncorrected, corrected, check = run(instances[name])
        out.append(Counterexample(name, statement, correction, raw[name], uncorrected, corrected, check))
    return out


def render(results: list[Counterexample]) -> str:
    """The table of ``pyspec counterexamples``."""
    lines = []
    for r in results:
        lines += [
            f"{r.name}: {'CERTIFIED' if r.certified else 'NOT CERTIFIED'}",
            f"  uncorrected: {r.statement}",
            f"    |lhs - rhs| in [{r.uncorrected.lower:.6e}, {r.uncorrected.upper:.6e}]  (excludes 0: "
            f"{r.uncorrected.excludes_zero}); entries {', '.join(r.uncorrected.balls[:4])}",
            f"  corrected:   {r.correction}",
            f"    |lhs - rhs| in [{r.corrected.lower:.1e}, {r.corrected.upper:.1e}]  (contains 0, "
            f"upper <= {CERTIFIED_BOUND:.0e}: {r.corrected.upper <= CERTIFIED_BOUND})",
            f"  instance: {json.dumps({k: v for k, v in r.instance.items() if k not in ('model', 'loss')})}",
        ]
    return "\n".join(lines)


def main(args: Any) -> int:
    """``pyspec counterexamples [--json]``: 0 when every counterexample is certified."""
    results = counterexamples()
    if getattr(args, "json", False):
        print(json.dumps([{"name": r.name, "statement": r.statement, "correction": r.correction,
                           "instance": r.instance, "uncorrected": r.uncorrected._asdict(),
                           "corrected": r.corrected._asdict(), "certified": r.certified} for r in results], indent=1))
    else:
        print(render(results))
    return 0 if all(r.certified for r in results) else 1
