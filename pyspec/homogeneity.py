"""Homogeneity: §4.2 (Euler relation, norm growth) and §5.1 (eqs. 3–4, Corollary 1, sharpness bound).

``f`` is p-homogeneous when ``f(aθ) = a^p f(θ)`` for ``a > 0``: the ``(T, S)``-equivariance
``T(a, θ) = aθ``, ``S(a, y) = a^p y`` with ``v = θ/a`` and ``w = p f(θ)/a`` (docs/theory.md#homogeneity). With
``y = f(θ)``, ``G = ∇f``, ``g = ∇ℓ(y)``, ``K = ∇²ℓ(y)``, ``H = ∇²L(θ)``:

* Euler relation ``⟨∇L, θ⟩ = p⟨g, y⟩``; norm growth ``d‖θ_t‖²/dt = −2p⟨g, y⟩`` under gradient flow;
* (3) ``Hθ = (p−1)∇L + p GᵀK y``; (4) ``θᵀHθ = p² yᵀK y + p(p−1)⟨g, y⟩``;
* Corollary 1 (``m = 1``): ``ℓ′ Hθ = κ ∇L`` with ``κ = (p−1)ℓ′ + p f ℓ″``, and ``∇L = c Hθ`` with
  ``c = ℓ′/κ`` when ``κ ≠ 0`` (docs/theory.md#corollary-1-correction);
* sharpness: ``λ_max(H) ≥ θᵀHθ/‖θ‖² = (p² yᵀK y + p(p−1)⟨g, y⟩)/‖θ‖²``.

Every function checks the homogeneity itself first (:class:`~pyspec.errors.EquivarianceError` when
``f(aθ) ≠ a^p f(θ)`` at ``a =`` :data:`HOMOGENEITY_SCALE` or at nearby points).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import numpy as np

from pyspec.application_verdicts import three_valued
from pyspec import matrix_free
from pyspec.backends import get_backend
from pyspec.backends.base import Array, Backend
from pyspec.certify import certifiable
from pyspec.characteristic import equivariance_report
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.errors import ShapeError
from pyspec.matrix_free.options import Method, check_method, select_method
from pyspec.report import Report, loss_terms, norm, vanishes
from pyspec.terms import HomogeneityTerms

__all__ = [
    "HOMOGENEITY_SCALE",
    "REPORTS",
    "homogeneous_problem",
    "homogeneity_euler",
    "homogeneity_norm_growth",
    "homogeneity_hessian_action",
    "homogeneity_hessian_quadratic",
    "corollary1_gradient_in_hessian_range",
    "sharpness_lower_bound",
]

HOMOGENEITY_SCALE = 1.3
"""The ``a`` at which ``f(aθ) = a^p f(θ)`` is tested (and at nearby ``a`` and ``θ``)."""

Model = Callable[..., Array]


def _scale_parameters(a: Array, theta: Any, *, xp: Any) -> Any:
    return jax.tree_util.tree_map(lambda leaf: a[0] * leaf, theta)


def _scale_output(a: Array, y: Array, *, xp: Any, degree: float) -> Array:
    return a[0] ** degree * y


def homogeneous_problem(
    model: Model, loss: Callable[..., Array], theta: Any, degree: float, backend: Backend, check: bool = True,
    method: Method = "dense",
) -> tuple[Problem, Array, HomogeneityTerms]:
    """Bind ``f`` as the ``(aθ, a^p y)``-equivariance, check it (unless ``check=False``) and compute
    what the reports need: ``y, g, ∇L``, ``Hθ`` (one HVP), ``GᵀKy``, ``yᵀKy``, ``ℓ″`` (``m = 1``) and
    the magnitudes ``‖G‖``, ``‖H‖`` of the natural scales.

    ``method="dense"`` forms ``G``, ``K`` and ``H`` (``H`` also returned; ``‖·‖`` Frobenius);
    ``"matrix_free"`` uses one HVP, one pullback and the probe estimates of
    :func:`pyspec.matrix_free.theorem1.theorem1_checks_mf` for ``‖G‖`` and ``‖H‖``.

    Returns
    -------
    problem, theta_flat, quantities
    """
    # module-level T and a partial S (keyed by value, pyspec.cache.callable_key): every call for the
    # same model and degree shares its compiled programs
    eq = Equivariance(model=model, T=_scale_parameters, S=functools.partial(_scale_output, degree=degree),
                      name=f"{getattr(model, '__name__', 'model')} (degree {degree})")
    problem, a, th = bind(eq, loss, np.array([HOMOGENEITY_SCALE]), theta, backend)
    if check:
        equivariance_report(problem, a, th, 1.0).require(f"{eq.name} is not homogeneous")
    if method == "matrix_free":
        return problem, th, matrix_free.homogeneity_terms_mf(problem, th)
    q = loss_terms(problem, th, backend.xp.reshape(th, (problem.n, 1)))
    if q.HV is None:  # unreachable: loss_terms computes HV whenever it is given the directions
        raise AssertionError("loss_terms returned no HV")
    G, K, y = q.G, q.K, q.y
    Ky = K @ y
    return problem, th, HomogeneityTerms(
        y=y, g=q.g, grad_L=q.grad_L, H_theta=q.HV[:, 0], GtKy=G.T @ Ky, yKy=y @ Ky, norm_G=norm(backend, G),
        norm_H=norm(backend, q.H), K00=K[0, 0] if problem.m == 1 else None, H=q.H,
    )


def _dimension(problem: Problem) -> int:
    return problem.n + problem.m


def euler_report(problem: Problem, theta: Array, q: HomogeneityTerms, degree: float) -> Report:
    """Euler relation ``⟨∇L, θ⟩ = p⟨g, y⟩`` from :func:`homogeneous_problem`'s quantities."""
    B = problem.backend
    natural = norm(B, q.grad_L) * norm(B, theta) + abs(degree) * norm(B, q.g) * norm(B, q.y)
    check = compare(B, "homogeneity_euler", q.grad_L @ theta, {"output": degree * (q.g @ q.y)},
                    tolerance(B, _dimension(problem)), natural)
    return Report("homogeneity_euler", {"euler": check})


def norm_growth_report(problem: Problem, theta: Array, q: HomogeneityTerms, degree: float) -> Report:
    """``d‖θ_t‖²/dt = −2p⟨g, y⟩`` under gradient flow; the left side is the JVP of ``‖θ‖²`` along
    ``−∇L``."""
    B = problem.backend
    rate = B.jvp(lambda t: t @ t, theta, B.xp.reshape(-q.grad_L, (problem.n, 1)))[1][0]
    natural = 2 * norm(B, theta) * norm(B, q.grad_L) + 2 * abs(degree) * norm(B, q.g) * norm(B, q.y)
    check = compare(B, "homogeneity_norm_growth", rate, {"output": -2 * degree * (q.g @ q.y)},
                    tolerance(B, _dimension(problem)), natural)
    return Report("homogeneity_norm_growth", {"norm_growth": check}, {"rate": B.to_float(rate)})


def hessian_action_report(problem: Problem, theta: Array, q: HomogeneityTerms, degree: float) -> Report:
    """Eq. (3) ``Hθ = (p−1)∇L + p GᵀK y``; the left side is one HVP."""
    B = problem.backend
    natural = q.norm_H * norm(B, theta)
    check = compare(
        B,
        "homogeneity_hessian_action",
        q.H_theta,
        {"gradient": (degree - 1) * q.grad_L, "output_curvature": degree * q.GtKy},
        tolerance(B, _dimension(problem)),
        natural,
    )
    return Report("homogeneity_hessian_action", {"hessian_action": check})


def _quadratic_terms(q: HomogeneityTerms, degree: float) -> dict[str, Array]:
    return {"output_curvature": degree**2 * q.yKy, "gradient": degree * (degree - 1) * (q.g @ q.y)}


def hessian_quadratic_report(problem: Problem, theta: Array, q: HomogeneityTerms, degree: float) -> Report:
    """Eq. (4) ``θᵀHθ = p² yᵀK y + p(p−1)⟨g, y⟩``."""
    B = problem.backend
    natural = q.norm_H * norm(B, theta) ** 2
    check = compare(B, "homogeneity_hessian_quadratic", theta @ q.H_theta, _quadratic_terms(q, degree),
                    tolerance(B, _dimension(problem)), natural)
    return Report("homogeneity_hessian_quadratic", {"hessian_quadratic": check})


def corollary1_report(problem: Problem, theta: Array, q: HomogeneityTerms, degree: float) -> Report:
    """Corollary 1: the division-free form always, the ``c``-form when ``κ ≠ 0`` or ``∇L = 0``."""
    B = problem.backend
    if problem.m != 1:
        raise ShapeError(
            f"{problem.name}: Corollary 1 is stated for a scalar output (m = 1), got m = {problem.m}; for "
            "m > 1, GᵀKf is in general not parallel to ∇L (docs/theory.md#corollary-1)"
        )
    d1, d2, f = q.g[0], q.K00, q.y[0]
    kappa_parts = ((degree - 1) * d1, degree * f * d2)
    kappa = kappa_parts[0] + kappa_parts[1]
    kappa_scale = sum(abs(B.to_float(x)) for x in kappa_parts)
    grad, H_theta = q.grad_L, q.H_theta
    norm_H_theta = q.norm_H * norm(B, theta)
    tol = tolerance(B, _dimension(problem))
    natural = abs(B.to_float(d1)) * norm_H_theta + kappa_scale * norm(B, grad)
    parts = {
        "division_free": compare(B, "corollary1_gradient_in_hessian_range", d1 * H_theta,
                                 {"kappa_gradient": kappa * grad}, tol, natural)
    }
    kappa_zero = abs(B.to_float(kappa)) <= tol * kappa_scale
    stationary = norm(B, grad) <= tol * q.norm_G * abs(B.to_float(d1))
    details: dict[str, Any] = {"kappa": B.to_float(kappa), "loss_derivative": B.to_float(d1), "c": None}
    notes: tuple[str, ...] = ()
    if not kappa_zero:
        # c = ℓ′/κ amplifies the rounding of κ by the cancellation κ_scale/|κ|
        c = d1 / kappa
        details["c"] = B.to_float(c)
        cond = kappa_scale / abs(B.to_float(kappa))
        parts["c_form"] = compare(B, "corollary1_gradient_in_hessian_range", grad, {"c_H_theta": c * H_theta},
                                  tolerance(B, _dimension(problem), cond),
                                  norm(B, grad) + abs(B.to_float(c)) * norm_H_theta)
    elif stationary:
        details["c"] = 0.0
        parts["c_form"] = vanishes(B, "corollary1_gradient_in_hessian_range", grad, tol,
                                   q.norm_G * abs(B.to_float(d1)))
    else:
        notes = (
            f"kappa = (p-1)l' + p f l'' = {details['kappa']:.3e} vanishes (relative to its terms {kappa_scale:.3e}) "
            "while grad L != 0: no c with grad L = c H theta exists (docs/theory.md#corollary-1-correction); only the "
            "division-free form l' H theta = kappa grad L is reported",
        )
    return Report("corollary1_gradient_in_hessian_range", parts, details, notes)


def sharpness_report(
    problem: Problem, theta: Array, q: HomogeneityTerms, degree: float, extreme: str = "max"
) -> Report:
    """Sharpness bound: the Rayleigh quotient formula, and ``λ_max(H) ≥`` it.

    The bound is reported as the check ``max(bound − λ, 0) = 0`` relative to ``‖H‖``, with ``λ`` the
    largest eigenvalue (``extreme="min"`` uses the smallest: a negative control of the same check):
    from the dense ``H`` by a symmetric eigensolver, or matrix-free by Lanczos
    (:func:`pyspec.matrix_free.extreme_eigenvalue`).
    """
    B = problem.backend
    sq = norm(B, theta) ** 2
    if sq == 0.0:
        raise ValueError(f"{problem.name}: the sharpness bound needs theta != 0")
    norm_H = q.norm_H
    tol = tolerance(B, _dimension(problem))
    terms = {name: value / sq for name, value in _quadratic_terms(q, degree).items()}
    rayleigh = compare(B, "sharpness_lower_bound", (theta @ q.H_theta) / sq, terms, tol, norm_H)
    if q.H is not None:
        eigenvalues = B.eigvalsh(q.H)
        lam = eigenvalues[-1] if extreme == "max" else eigenvalues[0]
    else:
        lam = matrix_free.extreme_eigenvalue(problem, theta, extreme)
    violation = rayleigh.rhs - lam
    violation = B.xp.relu(violation)  # max(·, 0); in balls a rigorous enclosure (KinkError when undecided)
    bound = vanishes(B, "sharpness_lower_bound", violation, tol, norm_H)
    details = {f"lambda_{extreme}": B.to_float(lam), "bound": B.to_float(rayleigh.rhs)}
    return Report("sharpness_lower_bound", {"rayleigh": rayleigh, "bound": bound}, details)


ReportFn = Callable[[Problem, Array, HomogeneityTerms, float], Report]

REPORTS: dict[str, ReportFn] = {
    "homogeneity_euler": euler_report,
    "homogeneity_norm_growth": norm_growth_report,
    "homogeneity_hessian_action": hessian_action_report,
    "homogeneity_hessian_quadratic": hessian_quadratic_report,
    "corollary1_gradient_in_hessian_range": corollary1_report,
    "sharpness_lower_bound": sharpness_report,
}
"""Each id's report from :func:`homogeneous_problem`'s quantities (one evaluation serves all)."""


def _public(model: Model, loss: Callable[..., Array], theta: Any, degree: float, precision: int | None,
            check_homogeneity: bool, jit: bool, method: Method, make: ReportFn) -> Report:
    check_method(method, precision, sketchable=False)
    n = sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(theta))
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, th, q = homogeneous_problem(model, loss, theta, degree, backend, check_homogeneity,
                                             select_method(method, n, precision))
        return make(problem, th, q, degree)


_PARAMETERS = """
    Parameters
    ----------
    model : callable
        ``f(theta) -> y`` (1-D), p-homogeneous: ``f(aθ) = a^p f(θ)`` for ``a > 0``.
    loss : callable
        ``ℓ(y) -> scalar``.
    theta : array or pytree
    degree : float
        The degree ``p``.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_homogeneity : bool
        Verify ``f(aθ) = a^p f(θ)`` first (default); ``False`` only for negative controls.
    jit : bool
        Float64 only: compile with XLA (default); see :func:`pyspec.backends.get_backend`.
    method : {"auto", "dense", "matrix_free"}
        ``"dense"`` forms ``G``, ``K``, ``H``; ``"matrix_free"`` uses HVPs, one pullback and, for the
        sharpness bound, Lanczos (float64 only); ``"auto"`` is dense for ``n ≤``
        :data:`pyspec.matrix_free.DENSE_MAX_N` or any ``precision`` (as :func:`pyspec.theorem1`).

    Raises
    ------
    EquivarianceError, ShapeError, NonFiniteError
    ValueError
        For an unknown ``method``, or ``method="matrix_free"`` with a ``precision``."""


@certifiable
@three_valued
def homogeneity_euler(model: Model, loss: Callable[..., Array], theta: Any, degree: float, *,
                      precision: int | None = None, check_homogeneity: bool = True, jit: bool = True,
                      method: Method = "auto", certify: bool = False) -> Report:
    """Euler relation of §4.2: ``⟨∇L(θ), θ⟩ = p⟨∇ℓ(f(θ)), f(θ)⟩`` (part ``euler``).
    """
    return _public(model, loss, theta, degree, precision, check_homogeneity, jit, method, euler_report)


@certifiable
@three_valued
def homogeneity_norm_growth(model: Model, loss: Callable[..., Array], theta: Any, degree: float, *,
                            precision: int | None = None, check_homogeneity: bool = True,
                            jit: bool = True, method: Method = "auto", certify: bool = False) -> Report:
    """Norm growth of §4.2: ``d‖θ_t‖²/dt = −2p⟨∇ℓ(f), f⟩`` under gradient flow (part ``norm_growth``;
    ``details["rate"]`` is the rate, ``> 0`` for a margin loss with ``ℓ′ < 0`` and ``f > 0``).
    """
    return _public(model, loss, theta, degree, precision, check_homogeneity, jit, method, norm_growth_report)


@certifiable
@three_valued
def homogeneity_hessian_action(model: Model, loss: Callable[..., Array], theta: Any, degree: float, *,
                               precision: int | None = None, check_homogeneity: bool = True,
                               jit: bool = True, method: Method = "auto", certify: bool = False) -> Report:
    """Eq. (3) of §5.1: ``Hθ = (p−1)∇L(θ) + p GᵀK f(θ)`` (part ``hessian_action``).
    """
    return _public(model, loss, theta, degree, precision, check_homogeneity, jit, method, hessian_action_report)


@certifiable
@three_valued
def homogeneity_hessian_quadratic(model: Model, loss: Callable[..., Array], theta: Any, degree: float, *,
                                  precision: int | None = None, check_homogeneity: bool = True,
                                  jit: bool = True, method: Method = "auto", certify: bool = False) -> Report:
    """Eq. (4) of §5.1: ``θᵀHθ = p² fᵀK f + p(p−1)⟨g, f⟩`` (part ``hessian_quadratic``).
    """
    return _public(model, loss, theta, degree, precision, check_homogeneity, jit, method, hessian_quadratic_report)


@certifiable
@three_valued
def corollary1_gradient_in_hessian_range(model: Model, loss: Callable[..., Array], theta: Any, degree: float, *,
                                         precision: int | None = None, check_homogeneity: bool = True,
                                         jit: bool = True, method: Method = "auto", certify: bool = False) -> Report:
    """Corollary 1 of §5.1 (scalar output ``m = 1``, docs/theory.md#corollary-1 with its correction).

    Parts: ``division_free`` (``ℓ′(f) Hθ = κ ∇L`` with ``κ = (p−1)ℓ′ + p f ℓ″``; always) and ``c_form``
    (``∇L = c Hθ``, hence ``∇L ∈ col H``): with ``c = ℓ′/κ`` when ``κ ≠ 0``, with ``c = 0`` when
    ``κ = 0`` and ``∇L = 0``. When ``κ = 0`` and ``∇L ≠ 0`` no such ``c`` exists (the paper's proof
    divides by ``κ``): ``c_form`` is absent, ``details["c"]`` is ``None`` and ``notes`` says why.
    ``κ`` counts as zero when ``|κ| ≤ tolerance · (|(p−1)ℓ′| + |p f ℓ″|)``.
    """
    return _public(model, loss, theta, degree, precision, check_homogeneity, jit, method, corollary1_report)


@certifiable
@three_valued
def sharpness_lower_bound(model: Model, loss: Callable[..., Array], theta: Any, degree: float, *,
                          precision: int | None = None, check_homogeneity: bool = True,
                          jit: bool = True, method: Method = "auto", certify: bool = False) -> Report:
    """Sharpness bound of §5.1: ``λ_max(H) ≥ θᵀHθ/‖θ‖² = (p² fᵀK f + p(p−1)⟨g, f⟩)/‖θ‖²``, ``θ ≠ 0``.

    Parts: ``rayleigh`` (the quotient, from one HVP, equals the formula) and ``bound``
    (``max(formula − λ_max, 0) = 0`` relative to ``‖H‖``; ``λ_max`` by a dense symmetric
    eigensolver, or by Lanczos on the matrix-free path). ``details`` has ``lambda_max`` and ``bound``.
    """
    return _public(model, loss, theta, degree, precision, check_homogeneity, jit, method, sharpness_report)


for _fn in (homogeneity_euler, homogeneity_norm_growth, homogeneity_hessian_action, homogeneity_hessian_quadratic,
            corollary1_gradient_in_hessian_range, sharpness_lower_bound):
    _fn.__doc__ = (_fn.__doc__ or "").rstrip() + "\n" + _PARAMETERS + "\n"
