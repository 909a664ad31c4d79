"""Which Lean statements are evaluated for each registered claim, on which random models.

Every claim of :data:`pyspec.claims.CLAIMS` that quantifies over models has a :class:`FormalClaim`: its
Lean declarations (the claim's own theorem first, then its other forms: ``_fderiv``, ``_TS``, …), the
Hypothesis strategy that draws models satisfying the hypotheses, the binding of a drawn model to the
statement's Lean names, the order of derivatives involved (example counts: 200 for first-order, 50 for
Hessian statements in the ``ci`` profile) and the negative control (a model or point violating named
hypotheses, on which the conclusion must fail — and the matching :mod:`pyspec` check too).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from hypothesis import strategies as st

from pyspec.formal import instances as I

__all__ = ["FormalClaim", "FORMAL", "NOT_EVALUATED", "formal_claim", "statement_names", "draw_binding"]


class FormalClaim(NamedTuple):
    """How one claim's Lean statements are evaluated (module docstring).

    Attributes
    ----------
    claim : str
        The claim id (:data:`pyspec.claims.CLAIMS`).
    statements : tuple of str
        Lean declarations (last name component) evaluated on every drawn model.
    strategy : callable
        ``strategy()`` → a Hypothesis strategy of models (:class:`pyspec.catalog.Instance`, or a NumPy
        generator for Lemma 1).
    bind : callable
        ``bind(model, backend, rng)`` → :class:`~pyspec.formal.evaluate.Binding`.
    order : int
        1 (first-order statements) or 2 (Hessian statements).
    negative : callable or None
        ``negative(model, backend, rng)`` → a binding on which the conclusion must fail.
    violated : tuple of str
        The hypotheses the negative control violates (not checked there).
    """

    claim: str
    statements: tuple[str, ...]
    strategy: Callable[[], st.SearchStrategy[Any]]
    bind: Callable[[Any, Any, np.random.Generator], Any]
    order: int
    negative: Callable[[Any, Any, np.random.Generator], Any] | None = None
    violated: tuple[str, ...] = ()


def _lemma1(model: Any, backend: Any, rng: np.random.Generator) -> Any:
    return I.lemma1_binding(model, backend)


def _strategies() -> Any:
    from pyspec import strategies as S

    return S


def _involutions() -> st.SearchStrategy[Any]:
    from pyspec.catalog.discrete import _nonlinear_involution

    return st.one_of(_strategies().discrete_symmetries(), st.integers(0, 2**31 - 1).map(_nonlinear_involution))


def _symmetries() -> st.SearchStrategy[Any]:
    S = _strategies()
    return st.one_of(S.linear_symmetries(), S.gl_reparameterizations(), S.rescaling_models())


def _rngs() -> st.SearchStrategy[Any]:
    return _strategies().seeds()


def _involutive_symmetries() -> st.SearchStrategy[Any]:
    """Reflections and sign flips: orthogonal involutions with both eigenvalues ±1 (a permutation
    without an even cycle has no ``−1`` eigenvector, and the block statement would be ``0 = 0``)."""
    return _strategies().discrete_symmetries(kinds=("reflection", "sign_flip"))


def _broken(bind: Callable[..., Any]) -> Callable[..., Any]:
    return lambda case, backend, rng: bind(I.broken(case), backend, rng)


_T1 = ("theorem1_key_identity", "theorem1_first_order", "theorem1_hessian_action", "theorem1_hessian_quadratic")


def _t1(claim: str, statements: tuple[str, ...], order: int) -> FormalClaim:
    return FormalClaim(claim, statements, lambda: _strategies().equivariant_models(), I.theorem1_binding, order,
                       _broken(I.theorem1_binding), ("hequiv",))


FORMAL: tuple[FormalClaim, ...] = (
    FormalClaim("lemma1_comp", ("lemma1_comp",), _rngs, _lemma1, 1),
    FormalClaim("lemma1_tensor_comp", ("lemma1_tensor_comp", "lemma1_tensor_comp_two", "lemma1_tensor_comp_assoc"),
                _rngs, _lemma1, 1),
    FormalClaim("lemma1_grad", ("lemma1_grad",), _rngs, _lemma1, 1),
    FormalClaim("lemma1_comp_any_k", ("lemma1_comp_any_k",), _rngs, lambda m, b, r: I.lemma1_any_k_binding(m, b), 1),
    FormalClaim("lemma1_tensor_comp_any_k", ("lemma1_tensor_comp_any_k",), _rngs,
                lambda m, b, r: I.lemma1_any_k_binding(m, b), 1),
    FormalClaim("lemma1_chain", ("lemma1_chain", "lemma1_chain_first_order", "lemma1_chain_second_order"),
                _rngs, _lemma1, 2),
    FormalClaim("lemma1_product", ("lemma1_product",), _rngs, _lemma1, 1),
    _t1("theorem1_key_identity", ("theorem1_key_identity", "theorem1_key_identity_eventually"), 1),
    _t1("theorem1_first_order", ("theorem1_first_order", "theorem1_first_order_fderiv"), 1),
    _t1("theorem1_hessian_action",
        ("theorem1_hessian_action", "theorem1_hessian_action_TS", "theorem1_hessian_action_fderiv"), 2),
    _t1("theorem1_hessian_quadratic",
        ("theorem1_hessian_quadratic", "theorem1_hessian_quadratic_TS", "theorem1_hessian_quadratic_fderiv"), 2),
    FormalClaim("theorem2_gradient", ("theorem2_gradient", "theorem2_gradient_fderiv"), _involutions,
                I.theorem2_binding, 1, lambda c, b, r: I.theorem2_binding(c, b, r, off_fixed=True), ("hfix",)),
    FormalClaim("theorem2_hessian", ("theorem2_hessian", "theorem2_hessian_fderiv"), _involutions,
                I.theorem2_binding, 2, lambda c, b, r: I.theorem2_binding(c, b, r, off_fixed=True), ("hfix",)),
    FormalClaim("symmetry_orthogonality", ("symmetry_orthogonality",), _symmetries, I.symmetry_binding, 1,
                _broken(I.symmetry_binding), ("hθ", "ha")),
    FormalClaim("rescaling_conservation", ("rescaling_conservation",), lambda: _strategies().rescaling_models(),
                I.rescaling_binding, 1, _broken(I.rescaling_binding), ("hinv",)),
    FormalClaim("reparam_conservation", ("reparam_conservation",), lambda: _strategies().gl_reparameterizations(),
                I.reparam_binding, 1, _broken(I.reparam_binding), ("hinv",)),
    FormalClaim("homogeneity_euler", ("homogeneity_euler",), lambda: _strategies().homogeneous_models(),
                I.homogeneity_binding, 1, _broken(I.homogeneity_binding), ("hhom",)),
    FormalClaim("homogeneity_norm_growth", ("homogeneity_norm_growth",), lambda: _strategies().homogeneous_models(),
                I.norm_growth_binding, 1, _broken(I.norm_growth_binding), ("hhom",)),
    FormalClaim("homogeneity_hessian_action", ("homogeneity_hessian_action",),
                lambda: _strategies().homogeneous_models(), I.homogeneity_binding, 2, _broken(I.homogeneity_binding),
                ("hhom",)),
    FormalClaim("homogeneity_hessian_quadratic", ("homogeneity_hessian_quadratic",),
                lambda: _strategies().homogeneous_models(), I.homogeneity_binding, 2, _broken(I.homogeneity_binding),
                ("hhom",)),
    FormalClaim("corollary1_gradient_in_hessian_range", ("corollary1_gradient_in_hessian_range",),
                lambda: _strategies().scalar_homogeneous_models(), I.scalar_homogeneity_binding, 2,
                _broken(I.scalar_homogeneity_binding), ("hhom",)),
    FormalClaim("sharpness_lower_bound", ("sharpness_lower_bound",), lambda: _strategies().homogeneous_models(),
                I.homogeneity_binding, 2, None),
    FormalClaim("corollary2_noether_flow", ("corollary2_noether_flow", "noise_covariance_identities"),
                lambda: _strategies().noether_models(), I.noether_binding, 2, _broken(I.noether_binding),
                ("hsym", "horth", "hhess")),
    FormalClaim("reparam_conservation_flow", ("reparam_conservation_flow",),
                lambda: _strategies().gl_reparameterizations(), I.reparam_flow_binding, 1,
                lambda c, b, r: I.reparam_flow_binding(c, b, r, off_flow=True), ("hW₁",)),
    FormalClaim("noether_charge_iff_symmetric", ("noether_charge_iff_symmetric",), _rngs,
                lambda m, b, r: I.charge_binding(m, b), 1, lambda m, b, r: I.charge_binding(m, b, negative=True),
                ("hB",)),
    FormalClaim("noether_charge_conserved", ("noether_charge_conserved",), lambda: _strategies().noether_models(),
                I.charge_flow_binding, 1, _broken(I.charge_flow_binding), ("hsym",)),
    FormalClaim("corollary3_last_layer", ("corollary3_last_layer",), lambda: _strategies().last_layer_models(),
                I.last_layer_binding, 2),
    FormalClaim("corollary3_softmax_variance", ("corollary3_softmax_variance",),
                lambda: _strategies().last_layer_models(softmax=True), I.softmax_last_layer_binding, 2,
                lambda c, b, r: I.softmax_last_layer_binding(c, b, r, squared=True), ("hK",)),
    FormalClaim("symmetry_hessian_null_space", ("symmetry_hessian_null_space", "hessian_null_space_of_orthogonal"),
                lambda: _strategies().gl_reparameterizations(stationary=True), I.stationary_binding, 2,
                lambda c, b, r: I.stationary_binding(c, b, r, off=True), ("hcrit",)),
    FormalClaim("symmetry_hessian_null_space_rank", ("symmetry_hessian_null_space_rank",),
                lambda: _strategies().gl_reparameterizations(stationary=True), I.stationary_binding, 2,
                lambda c, b, r: I.stationary_binding(c, b, r, off=True), ("hcrit",)),
    FormalClaim("discrete_linear_gradient", ("discrete_linear_gradient",),
                lambda: _strategies().discrete_symmetries(), I.discrete_binding, 1,
                lambda c, b, r: I.discrete_binding(c, b, r, off_fixed=True), ("hfix",)),
    FormalClaim("discrete_linear_hessian", ("discrete_linear_hessian",),
                lambda: _strategies().discrete_symmetries(), I.discrete_binding, 2,
                lambda c, b, r: I.discrete_binding(c, b, r, off_fixed=True), ("hfix",)),
    FormalClaim("discrete_linear_hessian_block", ("discrete_linear_hessian_block",), _involutive_symmetries,
                I.eigenspace_binding, 2, lambda c, b, r: I.eigenspace_binding(c, b, r, off_fixed=True), ("hfix",)),
    FormalClaim("discrete_linear_hessian_commute", ("discrete_linear_hessian_commute",),
                lambda: _strategies().discrete_symmetries(), I.discrete_binding, 2,
                lambda c, b, r: I.discrete_binding(c, b, r, off_fixed=True), ("hfix",)),
    FormalClaim("corollary4_mirror", ("corollary4_mirror",),
                lambda: _strategies().discrete_symmetries(kinds=("reflection",)), I.discrete_binding, 2,
                lambda c, b, r: I.discrete_binding(c, b, r, off_fixed=True), ("hθ",)),
)
"""Every claim whose Lean statements are evaluated on random models."""

NOT_EVALUATED: dict[str, str] = {}
"""Registered claims whose statement is read and locked but not evaluated yet, with the reason (their
Python checks and negative controls run in the other tests; evaluating their Lean text is open work)."""


def formal_claim(claim: str) -> FormalClaim:
    """The :class:`FormalClaim` of a claim id."""
    for entry in FORMAL:
        if entry.claim == claim:
            return entry
    raise KeyError(f"claim {claim!r} has no evaluated Lean statement")


def statement_names() -> list[str]:
    """Every Lean declaration evaluated or locked: the registered claims' and their other forms."""
    from pyspec.claims import CLAIMS

    names = [c.id for c in CLAIMS]
    for entry in FORMAL:
        names += [s for s in entry.statements if s not in names]
    return names


def draw_binding(entry: FormalClaim, model: Any, backend: Any, seed: int = 0, negative: bool = False) -> Any:
    """The binding of a drawn model (or of its negative control)."""
    rng = np.random.default_rng(seed)
    with backend.context():
        return (entry.negative if negative else entry.bind)(model, backend, rng)  # type: ignore[misc]
