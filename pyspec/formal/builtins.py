"""The builtins of the evaluator (:mod:`pyspec.formal.terms`): Mathlib names with a numerical meaning on
``ℝⁿ`` (``fderiv``, ``HasFDerivAt``, ``inner``, ``Module.finrank``, ``LinearMap.range`` / ``ker``,
``Function.Injective`` / ``Surjective``, ``Module.End.HasEigenvalue``, ``Real.exp``, …), each a function of
the evaluator and the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from pyspec.checks import tolerance
from pyspec.formal.values import Filter, Fn, FormalTypeError, IndexType, LazyLin, Lin, Space, Subspace, Truth

if TYPE_CHECKING:
    from pyspec.formal.terms import Evaluator

__all__ = ["BUILTINS", "RANK_GAP"]


def _curry(n: int, f: Callable[..., Any]) -> Fn:
    def build(args: tuple) -> Any:
        if len(args) == n:
            return f(*args)
        return Fn(lambda x: build(args + (x,)))

    return build(())


def _has_fderiv(ev: Evaluator, scalar: bool) -> Fn:
    def check(phi: Any, d: Any, x: Any) -> Truth:
        D = ev.deriv(phi, x)
        expected = D.arr if scalar else D
        return ev.compare_values(expected, d, [], [], record=False)

    return _curry(3, check)


def _finite_derivative(ev: Evaluator, phi: Any, x: Any) -> Truth:
    D = ev.deriv(phi, x)
    return Truth(ev.backend.all_finite(D.arr), reason="derivative finite")


BUILTINS: dict[str, Callable[[Evaluator, Mapping[str, Any]], Any]] = {
    "ℝ": lambda ev, env: Space(()),
    "fderiv": lambda ev, env: _curry(2, lambda _k, phi: Fn(lambda x: ev.deriv(phi, x),
                                                           key=None if getattr(phi, "key", None) is None else ("fderiv", phi.key))),
    "HasFDerivAt": lambda ev, env: _has_fderiv(ev, False),
    "HasDerivAt": lambda ev, env: _has_fderiv(ev, True),
    "DifferentiableAt": lambda ev, env: _curry(3, lambda _k, phi, x: _finite_derivative(ev, phi, x)),
    "ContDiffAt": lambda ev, env: _curry(4, lambda _k, _n, phi, x: _finite_derivative(ev, phi, x)),
    # a global smoothness hypothesis is not checkable at finitely many points; the strategies' models are smooth
    "Differentiable": lambda ev, env: _curry(2, lambda _k, phi: Truth(True, reason="smooth by construction")),
    "ContDiff": lambda ev, env: _curry(3, lambda _k, _n, phi: Truth(True, reason="smooth by construction")),
    "inner": lambda ev, env: _curry(3, lambda _k, x, y: ev.xp.sum(ev.xp.ravel(ev.xp.asarray(x)) * ev.xp.ravel(ev.xp.asarray(y)))),
    "Real.exp": lambda ev, env: Fn(ev.xp.exp),
    "𝓝": lambda ev, env: Fn(Filter),
    "Fin": lambda ev, env: Fn(lambda n: IndexType(int(n))),
    "Function.Injective": lambda ev, env: Fn(ev.injective),
    "Function.Surjective": lambda ev, env: Fn(ev.surjective),
    "IsUnit": lambda ev, env: Fn(ev.invertible),
    "Ring.inverse": lambda ev, env: Fn(ev.inverse),
    "True": lambda ev, env: Truth(True, reason="True"),
    "False": lambda ev, env: Truth(False, reason="False"),
    "ContinuousLinearMap.id": lambda ev, env: _curry(2, lambda _k, s: Lin(ev.xp.eye(int(np.prod(s.shape))), (1,))),
    "ContinuousLinearMap.compL": lambda ev, env: _curry(4, lambda _k, _d, _e, _v: LazyLin(
        lambda A: LazyLin(lambda B: ev.compose(A, B)))),
    "Module.End.HasEigenvalue": lambda ev, env: _curry(2, lambda A, mu: _eigen(ev, A, mu)),
    # subspaces by their dimension (the statements use them only through Module.finrank)
    "LinearMap.range": lambda ev, env: Fn(lambda A: Subspace(_rank(ev, A))),
    "LinearMap.ker": lambda ev, env: Fn(lambda A: Subspace(_in_dimension(A) - _rank(ev, A))),
    "Module.finrank": lambda ev, env: _curry(2, lambda _k, V: _finrank(V)),
}


def _finrank(V: Any) -> int:
    if not isinstance(V, Subspace):
        raise FormalTypeError("Module.finrank of something other than a range or kernel")
    return V.dim


RANK_GAP = 1e3
"""A singular value counts as zero below ``tolerance · s_max`` and as nonzero above ``RANK_GAP`` times
that; one in between makes the numerical rank ambiguous (:func:`_rank` raises)."""


def _rank(ev: Evaluator, A: Any) -> int:
    """Numerical rank of a linear map (``Module.finrank`` of its range): singular values above
    ``tolerance · s_max``, where ``tolerance`` is that of the equations (:func:`pyspec.checks.tolerance`),
    and no singular value within a factor :data:`RANK_GAP` above that threshold."""
    if not isinstance(A, Lin):
        raise FormalTypeError("finrank of the range or kernel of a non-linear map")
    arr = A.arr
    cols = 1 if A.ins[0] == 0 else int(np.shape(arr)[-1])
    s = [ev.backend.to_float(x) for x in ev.backend.svdvals(ev.xp.reshape(arr, (-1, cols)))]
    if not s or s[0] == 0:
        return 0
    cut = tolerance(ev.backend, ev.dimension(), ev.condition) * s[0]
    if any(cut < x <= RANK_GAP * cut for x in s):
        raise FormalTypeError(f"numerical rank ambiguous: singular values {s} near the threshold {cut:.1e}")
    return sum(1 for x in s if x > cut)


def _in_dimension(A: Any) -> int:
    if not isinstance(A, Lin):
        raise FormalTypeError("kernel of a non-linear map")
    return 1 if A.ins[0] == 0 else int(np.shape(A.arr)[-1])


def _eigen(ev: Evaluator, A: Any, mu: Any) -> Truth:
    eig = ev.backend.eigvalsh(ev.arr(A))
    scale = max(abs(ev.backend.to_float(e)) for e in eig) or 1.0
    gap = min(abs(ev.backend.to_float(e) - ev.backend.to_float(mu)) for e in eig) / scale
    tol = tolerance(ev.backend, ev.dimension(), ev.condition)
    return Truth(gap <= tol, gap, tol, "eigenvalue")
