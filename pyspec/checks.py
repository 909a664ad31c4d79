"""Identity checks: left side, right side (with its named terms), relative residual and tolerance.

Residual (docs/theory.md#residuals-and-tolerances)::

    residual = ‖lhs − rhs‖ / max(‖lhs‖, ‖rhs‖, Σ_i ‖term_i‖, natural)

The denominator includes the norms of the right side's terms, so cancellation between large terms
is measured against the size of those terms, and the *natural scale*: the product of the norms of
the factors of the left side (e.g. ``‖G‖‖v‖`` for ``Gv``, ``‖H‖‖v‖`` for ``Hv``), which is what the
rounding errors are proportional to, and which keeps the residual meaningful when both sides vanish
(a symmetry has ``w = 0``, so ``Gv = 0`` up to rounding). When every quantity is exactly zero the
identity holds trivially and the residual is 0 (``trivial=True``).

Tolerance (justified): each entry of either side is a sum of at most ``d`` rounded products computed
by forward-mode differentiation, whose error is a small multiple of ``d · eps`` relative to the
terms; solving with ``∂θT`` and ``∂yS`` amplifies relative errors by at most their condition number
``κ``. Hence ``tolerance = SAFETY · d · κ · eps`` with ``SAFETY = 64`` covering the constants of the
elementary functions.

The float64 tolerance assumes that each quantity is computed stably relative to these scales. A loss
whose derivatives are computed with cancellation breaks that assumption: softmax cross-entropy written
as ``logsumexp(z) − z_c`` has the gradient ``p_c − 1``, which loses ``log10(1/(1 − p_c))`` digits when
the correct class dominates (the catalog's losses use the ``log1p`` form instead). The high-precision
path (``precision=50``) settles such cases.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

from pyspec.backends.base import Array, Backend
from pyspec.errors import NonFiniteError

__all__ = ["IdentityCheck", "Norms", "SAFETY", "tolerance", "compare", "compare_norms"]

SAFETY = 64.0
"""Constant in ``tolerance = SAFETY · d · κ · eps`` (see the module docstring)."""


def tolerance(backend: Backend, dimension: int, condition: float = 1.0) -> float:
    """Tolerance for a relative residual: ``SAFETY · dimension · condition · eps``."""
    return SAFETY * max(dimension, 1) * max(condition, 1.0) * backend.eps


@dataclasses.dataclass(frozen=True)
class IdentityCheck:
    """One identity evaluated on one instance.

    Attributes
    ----------
    identity : str
        The paper item's id (docs/design.md#one-id-per-paper-item), e.g. ``"theorem1_hessian_action"``.
    lhs, rhs : array or None
        Both sides, in the backend's precision; ``None`` for a check built from norms alone
        (:func:`compare_norms`: the matrix-free path with ``keep_arrays=False``).
    terms : mapping of str to array or None
        The right side's named terms (summing to ``rhs``), e.g. green/blue/plain for Theorem 1
        (``None`` values for a check built from norms).
    term_norms : mapping of str to float
        The 2-norm (Frobenius for matrices) of each term.
    residual : float
        Relative residual (module docstring).
    tolerance : float
        The justified tolerance the residual is compared with.
    scale : float
        The residual's denominator (module docstring).
    trivial : bool
        Both sides and every term are exactly zero.
    backend : str
        Name of the backend that computed it.
    residual_bound : float or None
        Ball arithmetic (``certify=True``) only: a rigorous upper bound on ``‖lhs − rhs‖ / scale``
        (the exact values at the instance, rounding included), or on ``‖lhs − rhs‖`` itself when
        ``scale`` is 0 (every midpoint vanishes: a trivial check); ``None`` otherwise.
    certified_nonzero : bool or None
        Ball arithmetic only: the enclosure of ``lhs − rhs`` excludes 0, which proves the identity
        false at the instance; ``None`` otherwise.
    """

    identity: str
    lhs: Array | None
    rhs: Array | None
    terms: Mapping[str, Array | None]
    term_norms: Mapping[str, float]
    residual: float
    tolerance: float
    scale: float
    trivial: bool
    backend: str
    residual_bound: float | None = None
    certified_nonzero: bool | None = None

    @property
    def holds(self) -> bool:
        """Whether ``residual <= tolerance``."""
        return self.residual <= self.tolerance

    def __repr__(self) -> str:
        verdict = "holds" if self.holds else "FAILS"
        return (
            f"IdentityCheck({self.identity}: residual={self.residual:.3e}, "
            f"tolerance={self.tolerance:.1e}, {verdict}, backend={self.backend})"
        )


def compare(
    backend: Backend,
    identity: str,
    lhs: Array,
    terms: Mapping[str, Array],
    tol: float,
    natural: float = 0.0,
) -> IdentityCheck:
    """Build an :class:`IdentityCheck` for ``lhs = Σ terms``.

    Parameters
    ----------
    backend : Backend
    identity : str
    lhs : array
    terms : mapping
        Named terms of the right side; ``rhs`` is their sum.
    tol : float
        Tolerance (see :func:`tolerance`).
    natural : float
        Product of the norms of the left side's factors (module docstring).
    """
    names = list(terms)
    if not names:
        raise ValueError("an identity needs at least one right-hand term")
    rhs = terms[names[0]]
    for name in names[1:]:
        rhs = rhs + terms[name]
    if tuple(getattr(lhs, "shape", ())) != tuple(getattr(rhs, "shape", ())):
        raise ValueError(f"{identity}: lhs shape {getattr(lhs, 'shape', ())} != rhs shape {getattr(rhs, 'shape', ())}")
    for name, value in (("lhs", lhs), ("rhs", rhs)):
        if not backend.all_finite(value):
            raise NonFiniteError(f"{identity}: the {name} contains NaN or infinity")

    def norm(x: Array) -> float:
        return backend.to_float(backend.norm(x))

    norms = Norms(lhs=norm(lhs), rhs=norm(rhs), terms={k: norm(t) for k, t in terms.items()}, difference=norm(lhs - rhs))
    check = _build(backend, identity, norms, tol, natural, lhs, rhs, dict(terms))
    if getattr(backend, "certified", False):  # ball arithmetic: bound ‖lhs − rhs‖ rigorously
        low, high = backend.norm_bounds(lhs - rhs)
        bound = high if check.scale == 0.0 or high == 0.0 else _divide_up(high, check.scale)
        check = dataclasses.replace(check, residual_bound=bound, certified_nonzero=low > 0.0)
    return check


def _divide_up(a: float, b: float) -> float:
    """``a / b`` rounded up (positive floats): an upper bound of the exact quotient."""
    return math.nextafter(a / b, math.inf)


@dataclasses.dataclass(frozen=True)
class Norms:
    """The norms an identity ``lhs = Σ terms`` is judged by: ``‖lhs‖``, ``‖rhs‖``, each ``‖term‖`` and
    ``‖lhs − rhs‖`` (Frobenius norms; a matrix-free check accumulates them column by column)."""

    lhs: float
    rhs: float
    terms: Mapping[str, float]
    difference: float


def compare_norms(
    backend: Backend,
    identity: str,
    norms: Norms,
    tol: float,
    natural: float = 0.0,
    lhs: Array | None = None,
    terms: Mapping[str, Array] | None = None,
) -> IdentityCheck:
    """An :class:`IdentityCheck` from :class:`Norms` computed elsewhere (on the device, column by
    column), with the same residual formula and scale as :func:`compare`.

    ``lhs`` and ``terms`` are attached when given (``rhs`` is then their sum); otherwise the check
    carries ``None`` in their place.
    """
    if not norms.terms:
        raise ValueError("an identity needs at least one right-hand term")
    if terms is None:
        return _build(backend, identity, norms, tol, natural, lhs, None, dict.fromkeys(norms.terms))
    return _build(backend, identity, norms, tol, natural, lhs, sum(terms.values()), dict(terms))


def _build(
    backend: Backend, identity: str, norms: Norms, tol: float, natural: float,
    lhs: Array | None, rhs: Array | None, terms: dict[str, Array | None],
) -> IdentityCheck:
    for name, value in (("lhs", norms.lhs), ("rhs", norms.rhs), ("lhs - rhs", norms.difference)):
        if not math.isfinite(value):
            raise NonFiniteError(f"{identity}: the {name} contains NaN or infinity")
    scale = max(norms.lhs, norms.rhs, sum(norms.terms.values()), natural)
    trivial = scale == 0.0
    return IdentityCheck(
        identity=identity,
        lhs=lhs,
        rhs=rhs,
        terms=terms,
        term_norms=dict(norms.terms),
        residual=0.0 if trivial else norms.difference / scale,
        tolerance=tol,
        scale=scale,
        trivial=trivial,
        backend=backend.name,
    )
