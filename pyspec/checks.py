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

Verdicts (three-valued)
-----------------------
Each check also carries its *resolution*: the largest residual that rounding alone can explain at
this point (at least the tolerance). It is raised above the tolerance by measured cancellation: the
same program re-run at inputs moved by a few units in the last place moves ``lhs − rhs`` by the
rounding noise of the computation (:func:`with_rounding_noise`), and by the estimates the theorems
add (a point within rounding of the fixed set, the solves' condition numbers). Then

* ``residual ≤ tolerance`` → ``"holds"``;
* ``tolerance < residual ≤ resolution`` → ``"inconclusive"`` (the working precision cannot decide;
  :func:`pyspec.theorem1` and :func:`pyspec.theorem2` re-run such checks at 50 digits when the model
  is backend-neutral and report both, see :attr:`IdentityCheck.escalated`);
* ``residual > resolution`` → ``"fails"``: the identity is false at this point.

A check whose sides, terms and natural scale are all exactly zero is ``"inconclusive"`` (vacuous:
e.g. every quantity underflowed), never ``"holds"``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, Mapping, Sequence

import numpy as np

from pyspec.backends.base import Array, Backend, is_certified
from pyspec.errors import NonFiniteError

__all__ = [
    "IdentityCheck", "Norms", "SAFETY", "tolerance", "compare", "compare_norms",
    "Verdict", "NOISE_FACTOR", "HOLDS", "combine_verdicts", "limited", "with_rounding_noise", "require_finite_terms",
    "ulp_neighbours",
]  # fmt: skip

Verdict = Literal["holds", "fails", "inconclusive"]
"""A check's outcome (docs/theory.md#residuals-and-tolerances)."""

HOLDS: dict[str, bool | None] = {"holds": True, "fails": False, "inconclusive": None}
"""``holds`` for each verdict: ``None`` means the working precision cannot decide."""

NOISE_FACTOR = 16.0
"""A residual up to this multiple of the measured rounding noise (:func:`with_rounding_noise`) is
explained by rounding: the noise is the largest of a few samples of ``‖ΔD‖/scale``, each of the size of
the rounding error of ``D = lhs − rhs``; ``16`` covers an unlucky draw of three samples."""

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
    resolution : float
        The largest residual rounding can explain here (at least ``tolerance``; module docstring).
    limit : str
        What raised ``resolution`` above ``tolerance`` (empty when nothing did).
    escalated : IdentityCheck or None
        The same check recomputed at 50 digits after an inconclusive float64 verdict; it then decides
        :attr:`verdict`.
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
    resolution: float = 0.0
    limit: str = ""
    escalated: "IdentityCheck | None" = None

    def sides(self) -> tuple[Array, Array]:
        """``(lhs, rhs)``; a check judged from norms only (:func:`compare_norms`) has none and raises."""
        if self.lhs is None or self.rhs is None:
            raise ValueError(f"{self.identity}: the check kept norms only, no lhs/rhs arrays")
        return self.lhs, self.rhs

    @property
    def own_verdict(self) -> Verdict:
        """The verdict at this check's own precision (module docstring), ignoring :attr:`escalated`."""
        if self.trivial:
            return "inconclusive"
        if self.residual <= self.tolerance:
            return "holds"
        return "inconclusive" if self.residual <= self.resolution else "fails"

    @property
    def verdict(self) -> Verdict:
        """``"holds"``, ``"fails"`` or ``"inconclusive"``; decided at 50 digits when :attr:`escalated`."""
        return self.escalated.verdict if self.escalated is not None else self.own_verdict

    @property
    def holds(self) -> bool | None:
        """``True`` (holds), ``False`` (the identity is false here) or ``None`` (inconclusive)."""
        return HOLDS[self.verdict]

    @property
    def reason(self) -> str | None:
        """Why the verdict is not ``"holds"`` (``None`` when it holds)."""
        own = self._own_reason()
        if self.escalated is None:
            return own
        high = self.escalated
        said = f"at {high.backend}: residual {high.residual:.1e}, tolerance {high.tolerance:.1e}, {high.verdict}"
        return f"float64 inconclusive ({own}); {said}" if high.verdict == "holds" else f"{own}; {said}: {high.reason}"

    def _own_reason(self) -> str | None:
        verdict = self.own_verdict
        if verdict == "holds":
            return None
        if self.trivial:
            return ("vacuous: both sides, every term and the natural scale are exactly zero "
                    "(every quantity underflowed, or v = w = 0)")
        if verdict == "inconclusive":
            return (f"residual {self.residual:.1e} > tolerance {self.tolerance:.1e} but within what "
                    f"{self.backend} resolves here ({self.resolution:.1e}: {self.limit})")
        return f"residual {self.residual:.1e} > tolerance {self.tolerance:.1e}" + (
            f" and > resolution {self.resolution:.1e} ({self.limit})" if self.resolution > self.tolerance else "")

    def __repr__(self) -> str:
        verdict = {"holds": "holds", "fails": "FAILS", "inconclusive": "INCONCLUSIVE"}[self.verdict]
        return (
            f"IdentityCheck({self.identity}: residual={self.residual:.3e}, "
            f"tolerance={self.tolerance:.1e}, {verdict}, backend={self.backend})"
        )


def limited(check: IdentityCheck, resolution: float, why: str) -> IdentityCheck:
    """``check`` with its resolution raised to ``resolution`` (if larger), recording ``why``."""
    if not resolution > max(check.resolution, check.tolerance):
        return check
    return dataclasses.replace(check, resolution=resolution, limit=f"{check.limit}; {why}" if check.limit else why)


def combine_verdicts(checks: Sequence[IdentityCheck], extra: Sequence[str] = ()) -> tuple[Verdict, str | None]:
    """The verdict of a report: ``"fails"`` if a check fails; else ``"inconclusive"`` if a check is
    inconclusive (a vacuous check counts only when every check is vacuous) or ``extra`` names a reason
    (e.g. a non-differentiable point); else ``"holds"``. Returns the verdict and its reason."""
    failed = [c for c in checks if c.verdict == "fails"]
    if failed:
        return "fails", "; ".join(f"{c.identity}: {c.reason}" for c in failed)
    vacuous = [c for c in checks if c.trivial and c.escalated is None]
    open_ = [c for c in checks if c.verdict == "inconclusive" and not (c.trivial and c.escalated is None)]
    reasons = [f"{c.identity}: {c.reason}" for c in open_] + list(extra)
    if checks and len(vacuous) == len(checks):
        reasons.insert(0, "vacuous: every check is exactly 0 = 0 " + "(every quantity underflowed, or v = w = 0)")
    return ("inconclusive", "; ".join(reasons)) if reasons else ("holds", None)


NOISE_SAMPLES = 3
"""Number of ulp-moved inputs at which :func:`with_rounding_noise` samples the rounding noise."""

NOISE_ULPS = 4.0
"""Size of the moves, in units of the working precision's ``eps`` (relative, entrywise, random sign)."""


def ulp_neighbours(backend: Backend, a: Array, theta: Array, move_a: bool = True) -> list[tuple[Array, Array]]:
    """:data:`NOISE_SAMPLES` copies of ``(a, θ)`` with each entry moved by ``~NOISE_ULPS`` relative ulps
    (deterministic), for measuring rounding noise; ``a`` stays put unless ``move_a``."""
    rng = np.random.default_rng(0x5EED)
    a64, th64 = backend.to_numpy(a), backend.to_numpy(theta)
    out = []
    for _ in range(NOISE_SAMPLES):
        dth = th64 * rng.uniform(-NOISE_ULPS, NOISE_ULPS, th64.shape) * backend.eps
        da = a64 * rng.uniform(-NOISE_ULPS, NOISE_ULPS, a64.shape) * backend.eps
        out.append((_moved(backend, a, da) if move_a else a, _moved(backend, theta, dth)))
    return out


def _moved(backend: Backend, x: Array, dx: np.ndarray) -> Array:
    """``x + dx`` in the backend; for IEEE floating-point arrays the same sum is formed on the host (no
    array operation is dispatched to, and compiled for, the device)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "f":
        host = np.asarray(x)
        return backend.asarray(host + dx.astype(host.dtype))
    return x + backend.asarray(dx)


def with_rounding_noise(backend: Backend, checks: Mapping[str, IdentityCheck],
                        samples: Sequence[Mapping[str, IdentityCheck]]) -> dict[str, IdentityCheck]:
    """Raise each check's resolution to ``NOISE_FACTOR ×`` its measured rounding noise.

    ``samples`` are the same checks computed by the same program at inputs moved by a few units in the
    last place. A genuine violation ``D = lhs − rhs`` is smooth and moves by ``O(eps)`` relative;
    rounding errors move by their own size, so ``max_i ‖D_i − D‖ / scale`` measures the rounding noise of
    the residual, whatever cancellation produced it (saturated losses, large cancelling terms).
    Checks built from norms alone (no arrays) are returned unchanged.
    """
    out = dict(checks)
    for name, check in checks.items():
        if check.lhs is None or check.rhs is None or check.scale == 0.0:
            continue
        base = backend.to_numpy(check.lhs - check.rhs)
        noise = 0.0
        for sample in samples:
            lhs, rhs = sample[name].sides()  # the same program as `check`, which kept its arrays
            moved = backend.to_numpy(lhs - rhs)
            noise = max(noise, float(np.linalg.norm(np.asarray(moved - base, dtype=np.float64))) / check.scale)
        out[name] = limited(check, NOISE_FACTOR * noise,
                            f"rounding noise {noise:.1e}: lhs - rhs moves that much when the inputs move by a few ulps")
    return out


def require_finite_terms(backend: Backend, quantities: Mapping[str, Array], producers: Mapping[str, str]) -> None:
    """Raise :class:`NonFiniteError` naming the function that produced the first non-finite quantity.

    ``producers`` maps a quantity's key to a description of its producer, in the order of computation
    (e.g. ``{"G": "the model's Jacobian ∂f/∂θ", "g": "the loss's gradient", ...}``); keys absent from
    ``quantities`` are skipped.
    """
    for key, producer in producers.items():
        if key in quantities and not backend.all_finite(quantities[key]):
            raise NonFiniteError(f"{producer} contains NaN or infinity ({key})")


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

    # norms in the backend's own arithmetic (an mpf does not underflow at 1e-330; a float does), then
    # the residual as one ratio: at 50 digits an underflowed-in-float64 check is still decided
    raw = {"lhs": backend.norm(lhs), "rhs": backend.norm(rhs), "difference": backend.norm(lhs - rhs)}
    raw_terms = {k: backend.norm(t) for k, t in terms.items()}
    norms = Norms(lhs=backend.to_float(raw["lhs"]), rhs=backend.to_float(raw["rhs"]),
                  terms={k: backend.to_float(t) for k, t in raw_terms.items()},
                  difference=backend.to_float(raw["difference"]))
    if is_certified(backend):  # balls: the ratio from the midpoints (the rigorous bound is computed below)
        scale = max(norms.lhs, norms.rhs, sum(norms.terms.values()), natural)
        exact = (0.0 if scale == 0 else norms.difference / scale, scale == 0)
    else:
        exact_scale = max(raw["lhs"], raw["rhs"], sum(raw_terms.values()), natural)
        exact = (0.0 if exact_scale == 0 else backend.to_float(raw["difference"] / exact_scale), exact_scale == 0)
    check = _build(backend, identity, norms, tol, natural, lhs, rhs, dict(terms), exact)
    if is_certified(backend):  # ball arithmetic: bound ‖lhs − rhs‖ rigorously
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
    exact: tuple[float, bool] | None = None,
) -> IdentityCheck:
    for name, value in (("lhs", norms.lhs), ("rhs", norms.rhs), ("lhs - rhs", norms.difference)):
        if not math.isfinite(value):
            raise NonFiniteError(f"{identity}: the {name} contains NaN or infinity")
    scale = max(norms.lhs, norms.rhs, sum(norms.terms.values()), natural)
    trivial = scale == 0.0
    residual = 0.0 if trivial else norms.difference / scale
    if exact is not None:  # residual and triviality from the backend's own arithmetic (compare)
        residual, trivial = exact
    return IdentityCheck(
        identity=identity,
        lhs=lhs,
        rhs=rhs,
        terms=terms,
        term_norms=dict(norms.terms),
        residual=residual,
        tolerance=tol,
        scale=scale,
        trivial=trivial,
        backend=backend.name,
    )
