"""The reports of Theorems 1 and 2, shared by the dense (:mod:`pyspec.theorem1`, :mod:`pyspec.theorem2`)
and matrix-free (:mod:`pyspec.matrix_free`) paths, which both import them from here."""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

from pyspec.characteristic import GoodPositionReport
from pyspec.checks import IdentityCheck, Verdict, combine_verdicts

__all__ = ["Theorem1Checks", "Theorem2Checks", "Theorem1Report", "Theorem2Report"]


class Theorem1Checks(NamedTuple):
    """Theorem 1's six identity checks (the fields of :class:`Theorem1Report` of the same names)."""

    key_identity: IdentityCheck
    """eq. (12), ``G v = w``."""
    first_order: IdentityCheck
    """item 1, ``∇Lᵀv = gᵀw``."""
    hessian_action: IdentityCheck
    """item 2a, (T, S) form."""
    hessian_action_vw: IdentityCheck
    """item 2a, (v, w) form."""
    hessian_quadratic: IdentityCheck
    """item 2b, (T, S) form."""
    hessian_quadratic_vw: IdentityCheck
    """item 2b, (v, w) form."""

    def map(self, fn: Callable[[IdentityCheck], IdentityCheck]) -> Theorem1Checks:
        """``fn`` applied to every check."""
        return Theorem1Checks(*(fn(check) for check in self))


class Theorem2Checks(NamedTuple):
    """Theorem 2's two identity checks (the fields of :class:`Theorem2Report` of the same names)."""

    gradient: IdentityCheck
    """item 1, ``Jᵀ∇L = ∇L``."""
    hessian: IdentityCheck
    """item 2, ``H = JᵀHJ + (∇L·T_θθ)``."""

    def map(self, fn: Callable[[IdentityCheck], IdentityCheck]) -> Theorem2Checks:
        """``fn`` applied to every check."""
        return Theorem2Checks(*(fn(check) for check in self))


@dataclasses.dataclass(frozen=True)
class Theorem1Report:
    """Theorem 1 at one good position.

    Attributes
    ----------
    key_identity : IdentityCheck
        eq. (12), ``G v = w``.
    first_order : IdentityCheck
        item 1, ``∇Lᵀv = gᵀw`` (``k`` entries).
    hessian_action : IdentityCheck
        item 2a in the (T, S) form; ``terms`` are ``green_K``, ``green_S``, ``blue``, ``plain``.
    hessian_action_vw : IdentityCheck
        item 2a in the (v, w) form; ``terms`` are ``output`` (``Gᵀ(Kw + (∂_y w)*g)``) and ``direction``.
    hessian_quadratic : IdentityCheck
        item 2b in the (T, S) form (``k × k``).
    hessian_quadratic_vw : IdentityCheck
        item 2b in the (v, w) form.
    position : GoodPositionReport
    equivariance_residual : float or None
        Worst residual of eq. (1) at and near ``(a, θ)`` (``None`` when not checked).
    nondifferentiable : bool
        The model's derivatives jump next to ``θ`` (``position.jump``): the verdict is at best
        inconclusive.
    escalated : bool
        Inconclusive float64 checks were recomputed at 50 digits (:attr:`IdentityCheck.escalated`).
    """

    key_identity: IdentityCheck
    first_order: IdentityCheck
    hessian_action: IdentityCheck
    hessian_action_vw: IdentityCheck
    hessian_quadratic: IdentityCheck
    hessian_quadratic_vw: IdentityCheck
    position: GoodPositionReport
    equivariance_residual: float | None
    escalated: bool = False

    @property
    def nondifferentiable(self) -> bool:
        """Whether the model is evaluated at (or next to) a non-differentiable point."""
        return self.position.nondifferentiable

    @property
    def checks(self) -> tuple[IdentityCheck, ...]:
        """Every identity check of the report."""
        return (
            self.key_identity,
            self.first_order,
            self.hessian_action,
            self.hessian_action_vw,
            self.hessian_quadratic,
            self.hessian_quadratic_vw,
        )

    @property
    def verdict(self) -> Verdict:
        """``"fails"`` if an identity fails, ``"inconclusive"`` if one is (or the point is not smooth),
        else ``"holds"`` (:func:`pyspec.checks.combine_verdicts`)."""
        return combine_verdicts(self.checks, _smoothness_note(self.position))[0]

    @property
    def reason(self) -> str | None:
        """Why the verdict is not ``"holds"``."""
        return combine_verdicts(self.checks, _smoothness_note(self.position))[1]

    @property
    def holds(self) -> bool | None:
        """``True`` if every identity holds, ``False`` if one fails, ``None`` if inconclusive."""
        return {"holds": True, "fails": False, "inconclusive": None}[self.verdict]


def _smoothness_note(position: GoodPositionReport) -> tuple[str, ...]:
    if not position.nondifferentiable:
        return ()
    return (f"non-differentiable point: the model's derivative jumps by {position.jump:.1e} next to theta",)


@dataclasses.dataclass(frozen=True)
class Theorem2Report:
    """Theorem 2 at one fixed point.

    Attributes
    ----------
    gradient : IdentityCheck
        item 1, ``Jᵀ∇L = ∇L``.
    hessian : IdentityCheck
        item 2 as ``H = JᵀHJ + (∇L·T_θθ)``: ``lhs`` is ``H``, ``terms`` are ``conjugated`` (``JᵀHJ``)
        and ``blue``.
    fixed_point_residual : float
        ``‖T(a, θ) − θ‖ / ‖θ‖``.
    equivariance_residual : float or None
        Worst residual of the symmetry at and near ``θ`` (``None`` when not checked).
    jump : float
        Relative jump of the model's derivative next to ``θ`` (0 when smooth; a non-zero jump makes
        the verdict at best inconclusive).
    escalated : bool
        Inconclusive float64 checks were recomputed at 50 digits.
    """

    gradient: IdentityCheck
    hessian: IdentityCheck
    fixed_point_residual: float
    equivariance_residual: float | None
    jump: float = 0.0
    escalated: bool = False

    @property
    def nondifferentiable(self) -> bool:
        """Whether the model is evaluated at (or next to) a non-differentiable point."""
        return self.jump > 0.0

    def _extra(self) -> tuple[str, ...]:
        if not self.jump:
            return ()
        return (f"non-differentiable point: the model's derivative jumps by {self.jump:.1e} next to theta",)

    @property
    def verdict(self) -> Verdict:
        """``"fails"``, ``"inconclusive"`` or ``"holds"`` (:func:`pyspec.checks.combine_verdicts`)."""
        return combine_verdicts(self.checks, self._extra())[0]

    @property
    def reason(self) -> str | None:
        """Why the verdict is not ``"holds"``."""
        return combine_verdicts(self.checks, self._extra())[1]

    @property
    def checks(self) -> tuple[IdentityCheck, ...]:
        """Every identity check of the report."""
        return (self.gradient, self.hessian)

    @property
    def holds(self) -> bool | None:
        """``True`` if both identities hold, ``False`` if one fails, ``None`` if inconclusive."""
        return {"holds": True, "fails": False, "inconclusive": None}[self.verdict]
