"""Reports of the paper's applications (§§4–6) and the quantities they share.

Each application of Theorems 1–2 is a public function returning a :class:`Report`: named
:class:`~pyspec.checks.IdentityCheck` s (``r.balance``, ``r.flow``, …), measured quantities
(``r.details``) and notes on parts not reported (``r.notes``). The applications use the *dense*
evaluation path: they form ``H = ∇²L(θ)`` (small ``n``), which also gives exact natural scales
``‖H‖`` for the residuals (see :mod:`pyspec.checks`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import numpy as np

from pyspec.backends.base import Array, Backend
from pyspec.cache import compile_program
from pyspec.catalog.base import breaking_perturbation
from pyspec.characteristic import equivariance_report, position_report
from pyspec.checks import HOLDS, IdentityCheck, Verdict, combine_verdicts, compare
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.terms import LossTerms

__all__ = ["Report", "bind_checked", "loss_terms", "flow_derivative", "vanishes", "norm", "perturbed"]


@dataclasses.dataclass(frozen=True)
class Report:
    """The checks of one paper item at one point.

    Attributes
    ----------
    identity : str
        The item's id (docs/design.md#one-id-per-paper-item).
    parts : mapping of str to IdentityCheck
        The item's identities by name, also readable as attributes (``report.balance``).
    details : mapping of str to Any
        Measured quantities (e.g. ``kappa``, ``lambda_max``, ``rank_v``).
    notes : tuple of str
        Parts of the statement that do not apply at this point, and why.
    """

    identity: str
    parts: Mapping[str, IdentityCheck]
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> IdentityCheck:
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(f"{type(self).__name__} of {self.__dict__.get('identity')!r} has no part {name!r}")

    @property
    def checks(self) -> tuple[IdentityCheck, ...]:
        """Every identity check of the report."""
        return tuple(self.parts.values())

    @property
    def verdict(self) -> Verdict:
        """``"fails"`` if a part fails, ``"inconclusive"`` if one is, else ``"holds"``."""
        return combine_verdicts(self.checks)[0]

    @property
    def reason(self) -> str | None:
        """Why the verdict is not ``"holds"``."""
        return combine_verdicts(self.checks)[1]

    @property
    def holds(self) -> bool | None:
        """``True`` if every part holds, ``False`` if one fails, ``None`` if inconclusive."""
        return HOLDS[self.verdict]

    def __repr__(self) -> str:
        verdict = {"holds": "holds", "fails": "FAILS", "inconclusive": "INCONCLUSIVE"}[self.verdict]
        worst = max((c.residual for c in self.parts.values()), default=0.0)
        return f"Report({self.identity}: {', '.join(self.parts)}; worst residual {worst:.3e}, {verdict})"


def norm(backend: Backend, x: Array) -> float:
    """Frobenius norm as a float."""
    return backend.to_float(backend.norm(x))


def loss_terms(problem: Problem, theta: Array, along: Array | None = None) -> LossTerms:
    """:class:`~pyspec.terms.LossTerms` at ``θ`` (dense ``H``), with ``HV = H @ along`` by HVPs if given.

    ``∇L`` and ``H`` are derivatives of ``L = ℓ∘f`` itself, independent of ``G``, ``g``, ``K``.
    """
    B = problem.backend

    def grad_loss(u: Array) -> Array:
        return B.jacobian(problem.loss, u)

    def grad_L(t: Array) -> Array:
        return B.jacobian(problem.L, t)

    def body(t: Array, V: Array | None) -> LossTerms:
        y = problem.f(t)
        return LossTerms(y=y, G=B.jacobian(problem.f, t), g=grad_loss(y), K=B.jacobian(grad_loss, y), grad_L=grad_L(t),
                         H=B.jacobian(grad_L, t), HV=None if V is None else B.jvp(grad_L, t, V)[1])

    return B.to_host(compile_program(problem, body)(theta, along))


def flow_derivative(backend: Backend, charge: Callable[[Array], Array], theta: Array, grad: Array) -> Array:
    """``d/dt Q(θ_t)`` under gradient flow ``θ̇ = −∇L``: the JVP of ``Q`` along ``−∇L``."""
    direction = backend.xp.reshape(-grad, (grad.shape[0], 1))
    return backend.jvp(charge, theta, direction)[1][..., 0]


def vanishes(backend: Backend, identity: str, lhs: Array, tol: float, natural: float) -> IdentityCheck:
    """The check ``lhs = 0``, relative to the natural scale (its rounding level)."""
    return compare(backend, identity, lhs, {"zero": lhs * 0}, tol, natural)


def bind_checked(eq: Equivariance, loss: Callable[..., Array] | None, a: Any, theta: Any, backend: Backend,
                 check: bool = True) -> tuple[Problem, Array, Array, float]:
    """:func:`~pyspec.equivariance.bind`, require a good position, and check eq. (1) at and near
    ``(a, θ)`` unless ``check=False`` (negative controls).

    Returns
    -------
    problem, a_flat, theta_flat, condition
        ``condition`` is ``cond(∂θT) · cond(∂yS)``.
    """
    problem, a_flat, th = bind(eq, loss, a, theta, backend)
    position = position_report(problem, a_flat, th)
    position.require()
    if check:
        equivariance_report(problem, a_flat, th, position.condition).require(eq.name)
    return problem, a_flat, th, position.condition


def perturbed(problem: Problem, theta: Array, seed: int = 7) -> Problem:
    """``problem`` with the model ``f + δ`` (:func:`~pyspec.catalog.base.breaking_perturbation`, sized
    at ``θ``): not equivariant; the input of the broken-model negative controls."""
    B = problem.backend
    y = B.to_numpy(B.to_host(compile_program(problem, problem.f)(theta)))
    delta, f, xp = breaking_perturbation(problem.n, y, seed), problem.f, B.xp
    # δ depends on (n, m, seed) and on y only through its RMS: these name the perturbed model's programs
    return problem.with_model(lambda t: f(t) + delta(t, xp=xp), key=("perturbed", seed, float(np.sqrt(np.mean(y**2)))))
