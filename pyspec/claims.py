"""The claims registry: each paper item's id → Lean declaration → Python check → tests (docs/design.md#one-id-per-paper-item).

``pyspec claims`` prints the table with the float64 and high-precision residual of each claim measured
on a representative instance. ``tests/test_claims.py`` fails when an entry points at nothing (an
undeclared Lean name, a missing Python callable or test).
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Callable

import numpy as np

__all__ = ["Claim", "CLAIMS", "claims_table", "render_claims", "lean_status", "LEAN_FINGERPRINTS"]

LEAN_NAMESPACE = "EquivarianceToolbox"


@dataclasses.dataclass(frozen=True)
class Claim:
    """One paper item.

    Attributes
    ----------
    id : str
        The item's id (docs/design.md#one-id-per-paper-item), also the Lean declaration's last component.
    paper : str
        Where it is in the paper.
    statement : str
        One line, in the notation of docs/theory.md#notation.
    python : str
        Dotted path of the Python callable that checks it (``module:attribute``).
    tests : tuple of str
        Test node ids (``file::function``) that exercise it.
    measure : callable
        ``measure(precision) -> residual`` on a representative instance (precision ``None`` = float64).
    """

    id: str
    paper: str
    statement: str
    python: str
    tests: tuple[str, ...]
    measure: Callable[[int | None], float]

    @property
    def lean(self) -> str:
        """Full name of the Lean declaration."""
        return f"{LEAN_NAMESPACE}.{self.id}"


def _catalog_check(entry_name: str, attribute: str) -> Callable[[int | None], float]:
    def measure(precision: int | None) -> float:
        from pyspec.backends import get_backend
        from pyspec.catalog import CATALOG
        from pyspec.theorem1 import theorem1
        from pyspec.theorem2 import theorem2

        instance = CATALOG[entry_name].build(0)
        backend = get_backend(precision)
        with backend.context():
            a, theta = instance.a(backend.xp), instance.theta(backend.xp)
        check = theorem1 if CATALOG[entry_name].kind == "continuous" else theorem2
        report = check(instance.eq, instance.loss, a, theta, precision=precision)
        return max(getattr(report, name).residual for name in attribute.split(","))

    return measure


def _lemma1(item: str) -> Callable[[int | None], float]:
    def measure(precision: int | None) -> float:
        from pyspec import tensors

        rng = np.random.default_rng(1)
        A, B = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((4, 3))
        x = rng.standard_normal(3)
        if item == "comp":
            return tensors.lemma1_comp(A, B, [rng.standard_normal(5), rng.standard_normal(3)], precision=precision).residual
        if item == "tensor_comp":
            return max(tensors.lemma1_tensor_comp(A, rng.standard_normal((6 - k, 2)), k, precision=precision).residual
                       for k in (1, 2, 3))
        if item == "grad":
            return tensors.lemma1_grad(rng.standard_normal((2, 4, 3)), x, precision=precision).residual
        C = rng.standard_normal((4, 3))
        if item == "chain":
            checks = tensors.lemma1_chain(lambda u, *, xp: xp.tanh(xp.outer(u, u)), lambda u, *, xp: xp.sin(C @ u),
                                          x, precision=precision)
            return max(c.residual for c in checks)
        return tensors.lemma1_product(lambda u, *, xp: xp.reshape(xp.tanh(C @ u), (2, 2)),
                                      lambda u, *, xp: xp.reshape(xp.sinh(u[:2] * u[2]), (2, 1)),
                                      x, precision=precision).residual

    return measure


def _application(entry_name: str, identity: str) -> Callable[[int | None], float]:
    def measure(precision: int | None) -> float:
        from pyspec.applications import application_report
        from pyspec.catalog import CATALOG

        report = application_report(identity, CATALOG[entry_name].build(0), precision)
        return max(c.residual for c in report.checks)

    return measure


_T1 = "tests/test_theorem1.py::test_every_identity_holds_to_round_off"
_T1_NEG = "tests/test_theorem1.py::test_negative_control_flags_every_identity"
_T2 = "tests/test_theorem2.py::test_theorem2_holds_at_fixed_points"
_T2_NEG = "tests/test_theorem2.py::test_off_the_fixed_set_is_flagged"
_PROPS1 = "tests/test_strategies.py::test_theorem1_random_models"
_PROPS2 = "tests/test_strategies.py::test_theorem2_discrete_symmetries"

CLAIMS: tuple[Claim, ...] = (
    Claim("lemma1_comp", "Lemma 1.1", "(A ∘_k B)(x₁)…(x_k) = A(x₁)…(x_{k−1})(B(x_k))",
          "pyspec.tensors:lemma1_comp", ("tests/test_tensors.py::test_lemma1_comp",), _lemma1("comp")),
    Claim("lemma1_tensor_comp", "Lemma 1.2", "A ∘_k B is a tensor of shape (s₁..s_{r−k}) ⊕ t ⊕ (s_{r−k+2}..s_r)",
          "pyspec.tensors:lemma1_tensor_comp", ("tests/test_tensors.py::test_lemma1_tensor_comp",), _lemma1("tensor_comp")),
    Claim("lemma1_grad", "Lemma 1.3", "∇F: ℝᵈ → 𝕋^{s⊕(d)}; a tensor A has ∇A(x) = A",
          "pyspec.tensors:lemma1_grad", ("tests/test_tensors.py::test_lemma1_grad",), _lemma1("grad")),
    Claim("lemma1_chain", "Lemma 1.4, eq. (22)",
          "∇(F∘G) = (∇F∘G)∘∇G;  ∇²(F∘G) = (∇²F(G) ∘₂ ∇G) ∘ ∇G + ∇F(G) ∘ ∇²G",
          "pyspec.tensors:lemma1_chain", ("tests/test_tensors.py::test_lemma1_chain",), _lemma1("chain")),
    Claim("lemma1_product", "Lemma 1.5", "∇(F∘G) = ∇F ∘₂ G + F ∘ ∇G for H(x) = F(x)∘G(x)",
          "pyspec.tensors:lemma1_product", ("tests/test_tensors.py::test_lemma1_product",), _lemma1("product")),
    Claim("theorem1_key_identity", "Theorem 1, eq. (12)", "∇f(θ) v(a, θ) = w(a, f(θ))",
          "pyspec.theorem1:theorem1", (_T1, _T1_NEG, _PROPS1), _catalog_check("nonlinear_last_layer", "key_identity")),
    Claim("theorem1_first_order", "Theorem 1.1", "∇L(θ)ᵀ v = ∇ℓ(f(θ))ᵀ w",
          "pyspec.theorem1:theorem1", (_T1, _T1_NEG, _PROPS1), _catalog_check("nonlinear_last_layer", "first_order")),
    Claim("theorem1_hessian_action", "Theorem 1.2a",
          "H v = GᵀKw + Gᵀ[(ζ·S_ya) − (ζ·S_yy)w] + (γ·T_θθ)v − (γ·T_θa) = Gᵀ(Kw + (∂_yw)*g) − (∂_θv)*∇L",
          "pyspec.theorem1:theorem1", (_T1, _T1_NEG, _PROPS1),
          _catalog_check("nonlinear_last_layer", "hessian_action,hessian_action_vw")),
    Claim("theorem1_hessian_quadratic", "Theorem 1.2b",
          "vᵀHv = wᵀKw + wᵀ(ζ·S_ya) − wᵀ(ζ·S_yy)w + vᵀ(γ·T_θθ)v − vᵀ(γ·T_θa)",
          "pyspec.theorem1:theorem1", (_T1, _T1_NEG, _PROPS1),
          _catalog_check("nonlinear_last_layer", "hessian_quadratic,hessian_quadratic_vw")),
    Claim("theorem2_gradient", "Theorem 2.1", "Jᵀ∇L(θ) = ∇L(θ) at θ ∈ Fix_a(T)",
          "pyspec.theorem2:theorem2", (_T2, _T2_NEG, _PROPS2), _catalog_check("nonlinear_involution", "gradient")),
    Claim("theorem2_hessian", "Theorem 2.2", "JᵀHJ + (∇L·T_θθ) = H at θ ∈ Fix_a(T)",
          "pyspec.theorem2:theorem2", (_T2, _T2_NEG, _PROPS2), _catalog_check("nonlinear_involution", "hessian")),
)
"""Every registered claim (Lemma 1, Theorem 1, Theorem 2, applications of §§4–6)."""

_CATALOG_ROWS = "tests/test_applications.py::test_every_application_on_the_catalog"
_VERIFY_ROWS = "tests/test_applications.py::test_every_control_is_flagged"


def _app_claim(identity: str, paper: str, statement: str, module: str, tests: tuple[str, ...], entry: str) -> Claim:
    return Claim(identity, paper, statement, f"pyspec.{module}:{identity}", tests + (_CATALOG_ROWS, _VERIFY_ROWS),
                 _application(entry, identity))


CLAIMS += (
    _app_claim("symmetry_orthogonality", "eq. (2), §4", "∇L(θ)ᵀ v(a, θ) = 0 for a symmetry", "conservation",
               ("tests/test_conservation.py::test_symmetry_orthogonality_properties",), "neuron_rescaling"),
    _app_claim("rescaling_conservation", "§4.1 rescaling",
               "⟨∇_uL, u⟩ − ⟨∇_wL, w⟩ = 0 per unit; d/dt(‖u‖² − ‖w‖²) = 0 under GF", "conservation",
               ("tests/test_conservation.py::test_rescaling_properties",), "neuron_rescaling"),
    _app_claim("reparam_conservation", "§4.1 reparameterization",
               "∇_{W₁}L W₁ᵀ = W₂ᵀ∇_{W₂}L; d/dt(W₁W₁ᵀ − W₂ᵀW₂) = 0 under GF", "conservation",
               ("tests/test_conservation.py::test_reparam_properties",), "gl_reparameterization"),
    _app_claim("homogeneity_euler", "§4.2 Euler relation", "⟨∇L(θ), θ⟩ = p⟨∇ℓ(f), f⟩", "homogeneity",
               ("tests/test_homogeneity.py::test_homogeneity_properties",), "polynomial_homogeneous"),
    _app_claim("homogeneity_norm_growth", "§4.2 norm growth", "d‖θ_t‖²/dt = −2p⟨∇ℓ(f), f⟩ under GF", "homogeneity",
               ("tests/test_homogeneity.py::test_homogeneity_properties",
                "tests/test_homogeneity.py::test_norm_grows_for_a_margin_loss"), "scalar_homogeneous"),
    _app_claim("homogeneity_hessian_action", "eq. (3), §5.1", "Hθ = (p−1)∇L + p GᵀK f", "homogeneity",
               ("tests/test_homogeneity.py::test_homogeneity_properties",), "polynomial_homogeneous"),
    _app_claim("homogeneity_hessian_quadratic", "eq. (4), §5.1", "θᵀHθ = p² fᵀK f + p(p−1)⟨g, f⟩", "homogeneity",
               ("tests/test_homogeneity.py::test_homogeneity_properties",), "polynomial_homogeneous"),
    _app_claim("corollary1_gradient_in_hessian_range", "Corollary 1 (m = 1, κ ≠ 0 [C])",
               "ℓ′Hθ = κ∇L, κ = (p−1)ℓ′ + p f ℓ″; ∇L = cHθ ∈ col H with c = ℓ′/κ when κ ≠ 0", "homogeneity",
               ("tests/test_homogeneity.py::test_corollary1_properties",
                "tests/test_homogeneity.py::test_corollary1_counterexample_kappa_zero"), "scalar_homogeneous"),
    _app_claim("sharpness_lower_bound", "§5.1 sharpness bound",
               "λ_max(H) ≥ θᵀHθ/‖θ‖² = (p² fᵀK f + p(p−1)⟨g, f⟩)/‖θ‖²", "homogeneity",
               ("tests/test_homogeneity.py::test_homogeneity_properties",), "scalar_homogeneous"),
    _app_claim("corollary2_noether_flow", "Corollary 2, §5.2",
               "dQ/dt = σ²Tr(AΣ) = −(σ²/2)⟨∇TrΣ, Aθ⟩, Σ Aθ = 0; E[ΔQ_SGD] = (η²/2)(Tr(AΣ) + ∇LᵀA∇L)", "noether",
               ("tests/test_noether.py::test_noether_properties",), "noether_per_sample"),
    _app_claim("corollary3_last_layer", "Corollary 3, eq. (7)",
               "vᵀHv = wᵀ∇²ℓ w; softmax CE: (BW, 0)ᵀH(BW, 0) = Var_{j∼p}[(By)_j]", "last_layer",
               ("tests/test_last_layer.py::test_last_layer_properties",), "last_layer_gl"),
    _app_claim("symmetry_hessian_null_space", "§5.4", "∇L(θ*) = 0 ⇒ H(θ*) v = 0 and dim ker H ≥ rank v",
               "stationary", ("tests/test_stationary.py::test_null_space_properties",), "reparameterization_minimum"),
    _app_claim("discrete_linear_gradient", "eq. (8), §6", "Mᵀ∇L(θ) = ∇L(θ) on ker(M − I)", "discrete",
               ("tests/test_discrete.py::test_discrete_linear_properties",), "mirror_symmetry"),
    _app_claim("discrete_linear_hessian", "eq. (9), §6", "MᵀHM = H on ker(M − I); HM = MH for orthogonal M",
               "discrete", ("tests/test_discrete.py::test_discrete_linear_properties",), "mirror_symmetry"),
    _app_claim("corollary4_mirror", "Corollary 4, §6",
               "Oᵀθ = 0 ⇒ Oᵀ∇L = 0, (I − OOᵀ)HO = 0, [H, OOᵀ] = 0", "discrete",
               ("tests/test_discrete.py::test_mirror_properties",), "mirror_symmetry"),
)


# --- issue 11: statements formalized for every k, the flows and the §5.4/§6 corollaries ----------------


def _lemma1_any_k(item: str) -> Callable[[int | None], float]:
    """Lemma 1 items 1–2 on a rank-4 tensor for every ``k = 1..4`` (worst residual)."""

    def measure(precision: int | None) -> float:
        from pyspec import tensors

        rng = np.random.default_rng(2)
        A = rng.standard_normal((2, 3, 4, 5))
        worst = 0.0
        for k in range(1, A.ndim + 1):
            B = rng.standard_normal((A.shape[A.ndim - k], 2))
            if item == "comp":
                xs = [rng.standard_normal(A.shape[A.ndim - 1 - i]) for i in range(k - 1)] + [rng.standard_normal(2)]
                worst = max(worst, tensors.lemma1_comp(A, B, xs, precision=precision).residual)
            else:
                worst = max(worst, tensors.lemma1_tensor_comp(A, B, k, precision=precision).residual)
        return worst

    return measure


def _application_part(entry_name: str, identity: str, part: str) -> Callable[[int | None], float]:
    def measure(precision: int | None) -> float:
        from pyspec.applications import application_report
        from pyspec.catalog import CATALOG

        return getattr(application_report(identity, CATALOG[entry_name].build(0), precision), part).residual

    return measure


def _quadratic_charge(item: str) -> Callable[[int | None], float]:
    """Eq. (5) with the symmetric generator ``A = diag(I, −I)`` of the rescaling ``(u, w) ↦ (eᵃu, e⁻ᵃw)``."""

    def measure(precision: int | None) -> float:
        from pyspec import quadratic_charge

        rng = np.random.default_rng(3)
        d = 3
        A, theta = np.diag([1.0] * d + [-1.0] * d), rng.standard_normal(2 * d)
        if item == "iff":
            report = quadratic_charge.noether_charge_iff_symmetric(A, theta, precision=precision)
        else:
            report = quadratic_charge.noether_charge_conserved(
                lambda t, *, xp: xp.tanh(t[:d] @ t[d:]) + (t[:d] @ t[d:]) ** 2, A, theta, precision=precision)
        return max(c.residual for c in report.checks)

    return measure


def _hessian_block(precision: int | None) -> float:
    from pyspec.backends import get_backend
    from pyspec.catalog import CATALOG
    from pyspec.hessian_blocks import discrete_linear_hessian_block

    instance = CATALOG["mirror_symmetry"].build(0)
    backend = get_backend(precision)
    with backend.context():
        a, theta = instance.a(backend.xp), instance.theta(backend.xp)
    report = discrete_linear_hessian_block(instance.eq, instance.loss, a, theta, precision=precision)
    return max(c.residual for c in report.checks)


_REPARAM = "tests/test_conservation.py::test_reparam_properties"
CLAIMS += (
    Claim("lemma1_comp_any_k", "Lemma 1.1, every k",
          "(A ∘_k B)(x₁)…(x_k) = A(x₁)…(x_{k−1})(B(x_k)) for every k (∘_k by recursion on k)",
          "pyspec.tensors:lemma1_comp", ("tests/test_tensors.py::test_lemma1_comp_every_k",), _lemma1_any_k("comp")),
    Claim("lemma1_tensor_comp_any_k", "Lemma 1.2, every k",
          "(A ∘_k B)[I, J, K] = Σ_l A[I, l, K] B[l, J] for every k",
          "pyspec.tensors:lemma1_tensor_comp", ("tests/test_tensors.py::test_lemma1_tensor_comp",),
          _lemma1_any_k("tensor_comp")),
    Claim("reparam_conservation_flow", "§4.1 reparameterization, flow",
          "L = ℓ(W₂W₁), Ẇ₁ = −∇_{W₁}L, Ẇ₂ = −∇_{W₂}L ⇒ d/dt(W₁W₁ᵀ − W₂ᵀW₂) = 0",
          "pyspec.conservation:reparam_conservation", (_REPARAM, _CATALOG_ROWS, _VERIFY_ROWS),
          _application_part("gl_reparameterization", "reparam_conservation", "flow")),
    Claim("noether_charge_iff_symmetric", "eq. (5), §5.2",
          "∃Q with ∇Q(θ) = Aθ ⇔ A = Aᵀ; then Q = ½θᵀAθ",
          "pyspec.quadratic_charge:noether_charge_iff_symmetric",
          ("tests/test_quadratic_charge.py::test_symmetric_generator_has_a_charge",
           "tests/test_quadratic_charge.py::test_non_symmetric_generator_has_none"), _quadratic_charge("iff")),
    Claim("noether_charge_conserved", "eq. (5), §5.2, flow",
          "A = Aᵀ, L(e^{sA}θ) = L(θ) near s = 0, θ̇ = −∇L ⇒ d/dt ½θᵀAθ = 0",
          "pyspec.quadratic_charge:noether_charge_conserved",
          ("tests/test_quadratic_charge.py::test_charge_is_conserved_by_gradient_flow",), _quadratic_charge("flow")),
    Claim("symmetry_hessian_null_space_rank", "§5.4, dimension",
          "∇L(θ*) = 0 ⇒ rank v(a, θ*) ≤ dim ker H(θ*)",
          "pyspec.stationary:symmetry_hessian_null_space",
          ("tests/test_stationary.py::test_kernel_dimension_at_the_catalog_minimum", _CATALOG_ROWS, _VERIFY_ROWS),
          _application_part("reparameterization_minimum", "symmetry_hessian_null_space", "kernel_dimension")),
    Claim("corollary3_softmax_variance", "Corollary 3, softmax cross-entropy",
          "∇²ℓ = diag p − ppᵀ ⇒ (BW, 0)ᵀH(BW, 0) = Var_{j∼p}[(By)_j]",
          "pyspec.last_layer:corollary3_last_layer",
          ("tests/test_last_layer.py::test_last_layer_properties", _CATALOG_ROWS, _VERIFY_ROWS),
          _application_part("last_layer_gl", "corollary3_last_layer", "softmax_variance")),
    Claim("discrete_linear_hessian_commute", "§6, orthogonal M",
          "MᵀHM = H and MᵀM = I ⇒ HM = MH",
          "pyspec.discrete:discrete_linear_hessian",
          ("tests/test_discrete.py::test_discrete_linear_properties",
           "tests/test_discrete.py::test_non_orthogonal_involution_has_no_commutation", _CATALOG_ROWS, _VERIFY_ROWS),
          _application_part("mirror_symmetry", "discrete_linear_hessian", "commutation")),
    Claim("discrete_linear_hessian_block", "§6, block structure",
          "Mx = x, My = −y ⇒ xᵀHy = 0: H is block-diagonal in ker(M − I) ⊕ ker(M + I)",
          "pyspec.hessian_blocks:discrete_linear_hessian_block",
          ("tests/test_hessian_blocks.py::test_block_structure_on_the_catalog",
           "tests/test_hessian_blocks.py::test_off_the_fixed_set_is_flagged"), _hessian_block),
)


def _repository_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parent.parent


def lean_status(root: pathlib.Path | None = None) -> str:
    """``"kernel-checked"`` when a successful ``lake build`` log is present, otherwise ``"not compiled"``.

    ``ci/lean.sh`` writes ``lake-build.log`` only where ``lake`` exists; without it the Lean proofs
    are written against Mathlib v4.31.0 but have not been checked by Lean's kernel.
    """
    log = (root or _repository_root()) / "lake-build.log"
    if log.is_file() and "error" not in log.read_text(errors="replace").lower():
        return "kernel-checked"
    return "not compiled"


def claims_table(measure: bool = True, precision: int | None = None,
                 progress: Callable[[str], Any] | None = None, lean_models: int = 0) -> list[dict[str, Any]]:
    """Rows (paper item, Lean name, proof status, Python check, residuals) of every claim
    (``progress(id)`` is called before each claim is measured); with ``lean_models > 0`` also the Lean
    statement evaluated on that many random models (:mod:`pyspec.formal`: ``lean_evaluated``,
    ``lean_worst_residual``, ``lean_worst_residual_hp``)."""
    status = lean_status()
    rows = []
    for claim in CLAIMS:
        if measure and progress is not None:
            progress(claim.id)
        row: dict[str, Any] = {
            "id": claim.id,
            "paper": claim.paper,
            "statement": claim.statement,
            "lean": claim.lean,
            "lean_status": status,
            "python": claim.python,
            "tests": list(claim.tests),
        }
        if measure:
            row["residual"] = claim.measure(None)
            if precision is not None:
                row["precision"] = precision
                row["residual_hp"] = claim.measure(precision)
        if lean_models:
            from pyspec.formal.check import formal_columns

            row.update(formal_columns(claim.id, lean_models, precision or 50))
        rows.append(row)
    return rows


def render_claims(rows: list[dict[str, Any]], width: int | None = None) -> str:
    """The claims table as text (``rich``; at most ``width`` columns, default the terminal's)."""
    from pyspec.tables import Column, render_table

    statuses = sorted({row["lean_status"] for row in rows})
    hp = next((row["precision"] for row in rows if "precision" in row), None)
    columns = [Column("paper item"), Column("id (Lean: EquivarianceToolbox.<id>)", wrap=False),
               Column("module"), Column("float64", justify="right")]
    if hp is not None:
        columns.append(Column(f"{hp} digits", justify="right"))
    lean = any("lean_evaluated" in row for row in rows)
    if lean:
        columns.append(Column("Lean evaluated", justify="right"))
    body = []
    for row in rows:
        cells = [row["paper"], row["id"], row["python"].split(":")[0].removeprefix("pyspec."),
                 f"{row['residual']:.1e}" if "residual" in row else "-"]
        if hp is not None:
            cells.append(f"{row['residual_hp']:.1e}" if "residual_hp" in row else "-")
        if lean:
            cells.append(_formal_cell(row))
        body.append(cells)
    caption = (f"Lean proofs: {', '.join(statuses)}. Residuals are relative, on one instance per claim; "
               "--json adds statements, Python callables and tests.")
    if lean:
        caption += (" Lean: the statement's own text evaluated on N random models, worst residual "
                    "(float64 / 50 digits).")
    return render_table(columns, body, title=f"Claims ({len(rows)})", caption=caption, width=width)


def _formal_cell(row: dict[str, Any]) -> str:
    if "lean_evaluated" not in row:
        return "not evaluated"
    hp = row.get("lean_worst_residual_hp")
    verdict = "" if row.get("lean_holds", True) else " FAILS"
    return (f"N={row['lean_evaluated']}: {row['lean_worst_residual']:.0e} / "
            f"{'-' if hp is None else f'{hp:.0e}'}{verdict}")


# BEGIN LEAN FINGERPRINTS (generated: python -m pyspec.formal lock)
LEAN_FINGERPRINTS: dict[str, str] = {
    "lemma1_comp": "d73d5ea62c0fae4b",
    "lemma1_tensor_comp": "bde7947fef87e94b",
    "lemma1_grad": "19083150842acf65",
    "lemma1_chain": "390aa7acaf6fe2d8",
    "lemma1_product": "15e67b67f9c62887",
    "theorem1_key_identity": "2acab85869ab90e8",
    "theorem1_first_order": "5dad81b590003ebe",
    "theorem1_hessian_action": "c55e980a759bd341",
    "theorem1_hessian_quadratic": "56a2fad63a152037",
    "theorem2_gradient": "a5775a7c2d1d7459",
    "theorem2_hessian": "fa6189321c240133",
    "symmetry_orthogonality": "964c11dc6a71ce42",
    "rescaling_conservation": "217ec951e95eb5c8",
    "reparam_conservation": "07863db5dc8960f1",
    "homogeneity_euler": "a2f0f58e6d3063f3",
    "homogeneity_norm_growth": "61326842373dc716",
    "homogeneity_hessian_action": "bb5b4d4041f2a8f5",
    "homogeneity_hessian_quadratic": "b5423457813f9b18",
    "corollary1_gradient_in_hessian_range": "54c2a1f8b16d1127",
    "sharpness_lower_bound": "77a23bede8431c04",
    "corollary2_noether_flow": "6d9e7315637ad820",
    "corollary3_last_layer": "f58cf8f9c40b7fe9",
    "symmetry_hessian_null_space": "c971c026efeec0ef",
    "discrete_linear_gradient": "b1702d14524ba9d4",
    "discrete_linear_hessian": "63ea44e27849e25a",
    "corollary4_mirror": "10a32fce7c2c8245",
    "lemma1_comp_any_k": "3350b02007dbb021",
    "lemma1_tensor_comp_any_k": "1a2750370e33acde",
    "reparam_conservation_flow": "a81e523e9e3d6799",
    "noether_charge_iff_symmetric": "cfd48edc10abfa2f",
    "noether_charge_conserved": "677b9351cffcab15",
    "symmetry_hessian_null_space_rank": "785386aa3b96c082",
    "corollary3_softmax_variance": "09baccf89731b6d3",
    "discrete_linear_hessian_commute": "8b639260740e21f9",
    "discrete_linear_hessian_block": "24952caccde7937b",
    "lemma1_tensor_comp_two": "a6329418db80d715",
    "lemma1_tensor_comp_assoc": "fac31e54d305e159",
    "lemma1_chain_first_order": "e249888a35f53f62",
    "lemma1_chain_second_order": "592def9b862997a1",
    "theorem1_key_identity_eventually": "3c97715b804ad2d7",
    "theorem1_first_order_fderiv": "2fbfb60d347d98e8",
    "theorem1_hessian_action_TS": "87299f6b841339bf",
    "theorem1_hessian_action_fderiv": "50154d602d1bfe64",
    "theorem1_hessian_quadratic_TS": "2cd9ef17c95566aa",
    "theorem1_hessian_quadratic_fderiv": "f86c6e8ebf978087",
    "theorem2_gradient_fderiv": "2bd399070511618e",
    "theorem2_hessian_fderiv": "4e1fdee8332cdbf5",
    "noise_covariance_identities": "e565704aa8626d5b",
    "hessian_null_space_of_orthogonal": "59ff8b5bb4a98f43",
}
"""Fingerprint of each evaluated Lean statement (:mod:`pyspec.formal.lock`)."""
# END LEAN FINGERPRINTS
