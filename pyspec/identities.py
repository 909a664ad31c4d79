"""Theorem 1's identity checks from contractions with the ``k`` columns of ``v`` and ``w``, shared by
the dense (:mod:`pyspec.theorem1`), matrix-free (:mod:`pyspec.matrix_free`) and batched
(:mod:`pyspec.bulk`) paths: both sides of each identity (:func:`identity_sides`, array operations that
also run inside a compiled program), their natural scales (:func:`natural_scales`) and the norms a
check is judged by (:func:`squared_norms`)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends.base import Array
from pyspec.checks import compare, compare_norms
from pyspec.reports import Theorem1Checks
from pyspec.terms import Theorem1Arrays, Theorem1Contractions

__all__ = [
    "CONDITIONING", "NaturalScales", "Sides", "THEOREM1_IDS", "Terms", "Theorem1Sides", "action_terms", "column_ratio",
    "hessian_scale", "hessian_scale_from_norms", "identity_checks", "identity_sides", "natural_scales",
    "kept_sides", "squared_norms", "summed_terms",
]  # fmt: skip


CONDITIONING = ("conditioning: dT/dtheta and dT/da are themselves computed from T, which may invert a matrix as "
                "ill-conditioned as dT/dtheta (a GL family's V A^-1), so their relative error may already be "
                "kappa*eps, which the solve amplifies by kappa again: rounding explains residuals up to kappa x tolerance")
"""Why a Theorem 1 residual up to ``κ × tolerance`` (``κ = cond_T · cond_S`` of the solves) is
inconclusive rather than failed (``κ = 1`` for diagonal solves: no such band)."""


@jax.tree_util.register_pytree_node_class
class Terms(dict[str, Array]):
    """The named terms of an identity's right side, in the order they are summed: a pytree that keeps
    that order through ``jit``, ``vmap`` and :meth:`~pyspec.backends.base.Backend.to_host` (JAX sorts
    a plain dict's keys)."""

    def tree_flatten(self) -> tuple[tuple[Array, ...], tuple[str, ...]]:
        return tuple(self.values()), tuple(self.keys())

    @classmethod
    def tree_unflatten(cls, names: tuple[str, ...], arrays: tuple[Array, ...]) -> Terms:
        return cls(zip(names, arrays))


class Sides(NamedTuple):
    """One identity ``lhs = Σ terms`` (:func:`pyspec.checks.compare`): its left side and the right
    side's named terms (``None`` for item 2a when the matrix-free path kept no arrays)."""

    lhs: Array | None
    terms: Terms | None


class Theorem1Sides(NamedTuple):
    """The sides of Theorem 1's six identities (the fields of :class:`~pyspec.reports.Theorem1Checks`
    of the same names, whose ids are :data:`THEOREM1_IDS`)."""

    key_identity: Sides
    first_order: Sides
    hessian_action: Sides
    hessian_action_vw: Sides
    hessian_quadratic: Sides
    hessian_quadratic_vw: Sides


THEOREM1_IDS = ("theorem1_key_identity", "theorem1_first_order", "theorem1_hessian_action", "theorem1_hessian_action",
                "theorem1_hessian_quadratic", "theorem1_hessian_quadratic")
"""The paper-item id of each check, in the order of :class:`Theorem1Sides` (both forms of an item
share its id)."""


class NaturalScales(NamedTuple):
    """The natural scales of Theorem 1's checks (:func:`natural_scales`): eq. (12), item 1, item 2a
    and item 2b (both forms of an item share its scale)."""

    key_identity: Any
    first_order: Any
    hessian_action: Any
    hessian_quadratic: Any

    def per_check(self) -> tuple[Any, ...]:
        """The scale of each check, in the order of :class:`Theorem1Sides`."""
        return (self.key_identity, self.first_order, self.hessian_action, self.hessian_action,
                self.hessian_quadratic, self.hessian_quadratic)


def action_terms(arrays: Theorem1Arrays) -> tuple[Terms, Terms]:
    """Item 2a's right-hand terms in the (T, S) form (green, green, blue, plain) and in the (v, w) form
    (output, direction); its left side is ``arrays.Hv``."""
    ts = Terms(green_K=arrays.green_K, green_S=arrays.green_S, blue=arrays.gamma_Ttt_v, plain=-arrays.gamma_Tta)
    return ts, Terms(output=arrays.output, direction=-arrays.dv_star)


def identity_sides(c: Theorem1Contractions) -> Theorem1Sides:
    """Both sides of Theorem 1's six identities from the contractions with ``v`` and ``w`` (array
    operations only: the same function runs on the host and inside a compiled, vmapped program)."""
    w = c.w
    wKw = w.T @ c.Kw
    Hv = ts = vw = None
    if c.arrays is not None:
        Hv = c.arrays.Hv
        ts, vw = action_terms(c.arrays)
    quadratic_ts = Terms(green_K=wKw, green_Sya=w.T @ c.zeta_Sya, green_Syy=-(w.T @ c.zeta_Syy_w), blue=c.v_blue,
                         plain=-c.v_plain)
    quadratic_vw = Terms(output=wKw + w.T @ c.dw_star, direction=-c.v_dv)
    return Theorem1Sides(
        key_identity=Sides(c.Gv, Terms(w=w)), first_order=Sides(c.grad_v, Terms(g_w=c.g @ w)),
        hessian_action=Sides(Hv, ts), hessian_action_vw=Sides(Hv, vw),
        hessian_quadratic=Sides(c.vHv, quadratic_ts), hessian_quadratic_vw=Sides(c.vHv, quadratic_vw),
    )


def natural_scales(norm_G: Any, norm_H: Any, norm_v: Any, norm_grad: Any, norm_g: Any, norm_w: Any, norm_Hv: Any,
                   maximum: Callable[[Any, Any], Any] = max) -> NaturalScales:
    """``‖G‖‖v‖`` for (12), ``‖∇L‖‖v‖ + ‖g‖‖w‖`` for item 1, ``‖H‖‖v‖`` for 2a and
    ``max(‖H‖‖v‖², ‖v‖‖Hv‖)`` for 2b (:mod:`pyspec.checks`), from floats or, with
    ``maximum=np.maximum``, from arrays of one norm per point."""
    return NaturalScales(key_identity=norm_G * norm_v, first_order=norm_grad * norm_v + norm_g * norm_w,
                         hessian_action=norm_H * norm_v,
                         hessian_quadratic=maximum(norm_H * norm_v**2, norm_v * norm_Hv))


def column_ratio(norm_Hv: Array, norm_v: Array, xp: Any = np) -> Array:
    """``max_b ‖Hv_b‖ / ‖v_b‖`` over the columns with ``‖v_b‖ > 0`` (0 when there is none), along the
    last axis: the columns of one point, or of each point of a batch (``xp=jnp``: traced)."""
    nonzero = norm_v > 0.0
    return xp.max(xp.where(nonzero, norm_Hv / xp.where(nonzero, norm_v, 1.0), 0.0), axis=-1, initial=0.0)


def hessian_scale(backend: Any, n: int, gauss_newton_u: Array, Hu: Array, Hv: Array, v: Array) -> float:
    """The magnitude at which ``H`` is computed: ``√n (‖GᵀKGu‖ + ‖Hu − GᵀKGu‖)`` for the unit probe
    ``u`` of :func:`pyspec.theorem1._probe` (the two parts of eq. 22, which may cancel), and at least
    ``‖Hv_b‖ / ‖v_b‖`` for every column of ``v`` (:func:`hessian_scale_from_norms`)."""
    B = backend

    def nrm(x: Array) -> float:
        return B.to_float(B.norm(x))

    columns = range(v.shape[1])
    ratio = float(column_ratio(np.array([nrm(Hv[:, b]) for b in columns]), np.array([nrm(v[:, b]) for b in columns])))
    return hessian_scale_from_norms(n, nrm(gauss_newton_u), nrm(Hu - gauss_newton_u), ratio)


def hessian_scale_from_norms(n: int, norm_gauss_newton_u: Any, norm_rest_u: Any, max_column_ratio: Any,
                             maximum: Callable[[Any, Any], Any] = max) -> Any:
    """:func:`hessian_scale` from ``‖GᵀKGu‖``, ``‖Hu − GᵀKGu‖`` and ``max_b ‖Hv_b‖ / ‖v_b‖`` (floats,
    or arrays of one per point with ``maximum=np.maximum``)."""
    return maximum(n**0.5 * (norm_gauss_newton_u + norm_rest_u), max_column_ratio)


def squared_norms(side: Sides, xp: Any = jnp) -> Array:
    """``‖lhs‖², ‖rhs‖², ‖lhs − rhs‖²`` and each ``‖term‖²`` of one identity, with ``rhs`` summed in the
    order of :func:`pyspec.checks.compare` (traced, the norms of a compiled program; ``xp=np`` on the
    host)."""
    lhs, terms = kept_sides(side)
    rhs = summed_terms(terms)
    return xp.stack([xp.vdot(x, x) for x in (lhs, rhs, lhs - rhs, *terms.values())])


def kept_sides(side: Sides) -> tuple[Array, Terms]:
    """Both sides of an identity whose arrays were kept: only item 2a on the reduced matrix-free path keeps
    none, and it is judged from the norms accumulated on the device (:func:`pyspec.checks.compare_norms`)."""
    if side.lhs is None or side.terms is None:
        raise ValueError("the sides of this identity were not kept (item 2a on the reduced matrix-free path)")
    return side.lhs, side.terms


def summed_terms(terms: Terms) -> Array:
    """An identity's right side: its terms summed in the order of :func:`pyspec.checks.compare`."""
    values = list(terms.values())
    rhs = values[0]
    for term in values[1:]:
        rhs = rhs + term
    return rhs


def identity_checks(backend: Any, c: Theorem1Contractions, tol: float, norm_G: float, norm_H: float) -> Theorem1Checks:
    """Theorem 1's checks from contractions with the ``k`` columns of ``v`` and ``w`` only, shared by
    the dense and the matrix-free paths.

    Item 2a is judged from ``c.arrays`` (dense), or from the :class:`~pyspec.checks.Norms` accumulated
    on the device (``c.action``, ``c.action_vw``; matrix-free), with the arrays attached when they were
    kept (else the two item 2a checks carry none). ``norm_G`` and ``norm_H`` are the magnitudes of
    ``G`` and ``H`` in the natural scales (:func:`natural_scales`).
    """
    B = backend

    def nrm(x: Array) -> float:
        return B.to_float(B.norm(x))

    s = identity_sides(c)
    scale = natural_scales(norm_G, norm_H, c.norm_v, c.norm_grad, nrm(c.g), nrm(c.w), c.norm_Hv).per_check()
    if c.action is not None and c.action_vw is not None:  # matrix-free: item 2a's norms from the device
        action = compare_norms(B, THEOREM1_IDS[2], c.action, tol, scale[2], *s.hessian_action)
        action_vw = compare_norms(B, THEOREM1_IDS[3], c.action_vw, tol, scale[3], *s.hessian_action_vw)
    else:  # dense: c.arrays, hence item 2a's sides, were kept
        action = compare(B, THEOREM1_IDS[2], *kept_sides(s.hessian_action), tol, scale[2])
        action_vw = compare(B, THEOREM1_IDS[3], *kept_sides(s.hessian_action_vw), tol, scale[3])
    rest = [compare(B, THEOREM1_IDS[i], *kept_sides(s[i]), tol, scale[i]) for i in (0, 1, 4, 5)]
    return Theorem1Checks(rest[0], rest[1], action, action_vw, rest[2], rest[3])
