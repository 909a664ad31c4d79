"""§5.3: last-layer equivariance, Corollary 3, eq. (7) (docs/theory.md#corollary-3-last-layer).

For ``f(W, φ) = W h(φ)`` with ``T(A, (W, φ)) = (AW, φ)`` and ``S(A, Y) = AY`` (eq. 6), at any good
position ``vᵀ H v = wᵀ ∇²ℓ(f(θ)) w`` (``k × k``), where ``v[B] = (A⁻¹BW, 0)`` and ``w[B] = A⁻¹BY``
are the characteristic direction and output (Definition 2). For the mean softmax cross-entropy over
the ``N`` columns of ``Y``, ``∇²ℓ`` is ``(diag(p_j) − p_j p_jᵀ)/N`` per column, so entry ``(b, c)`` is
the mean over columns of ``Cov_{i∼p_j}(Z_b[i, j], Z_c[i, j])`` with ``Z_b = w[:, b]`` as ``(m, N)``:
the variance form ``Var_{i∼p}[(BY)_i]`` on the diagonal.
"""

from __future__ import annotations

from typing import Any, Callable

from pyspec.application_verdicts import three_valued
from pyspec import matrix_free
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.certify import certifiable
from pyspec.cache import compile_program
from pyspec.characteristic import direction_of, output_of
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.matrix_free.options import Method
from pyspec.report import Report, bind_checked, loss_terms, norm
from pyspec.terms import LastLayerTerms

__all__ = ["corollary3_last_layer", "last_layer_report", "last_layer_terms", "softmax_covariance"]


def softmax_covariance(y: Array, w: Array, classes: int, xp: Any) -> Array:
    """``(1/N) Σ_j Cov_{i∼p_j}(Z_b[i, j], Z_c[i, j])`` for all ``b, c``: ``(k, k)``.

    ``y = vec(Y)`` and each column of ``w`` are row-major ``(classes, N)`` arrays; ``p_j`` is the
    softmax of column ``j`` of ``Y``.
    """
    m, k = w.shape
    samples = m // classes
    p = xp.ravel(xp.softmax(xp.reshape(y, (classes, samples)), axis=0))
    weighted = xp.reshape(p, (m, 1)) * w
    second = w.T @ weighted
    first = xp.sum(xp.reshape(weighted, (classes, samples, k)), axis=0)  # (N, k): E_{p_j}[Z_b[:, j]]
    return (second - first.T @ first) / samples


def last_layer_terms(problem: Problem, a: Array, theta: Array) -> LastLayerTerms:
    """Corollary 3's quantities, dense: ``vᵀHv``, ``w``, ``Kw``, ``y`` and the Frobenius norms of
    ``v``, ``H``, ``K`` (the matrix-free ones: :func:`pyspec.matrix_free.last_layer_terms_mf`)."""
    B = problem.backend
    q = loss_terms(problem, theta)
    v, w = B.to_host(compile_program(problem,
        lambda a_, t_: (direction_of(problem, a_, t_), output_of(problem, a_, problem.f(t_))))(a, theta))
    return LastLayerTerms(vHv=v.T @ (q.H @ v), w=w, Kw=q.K @ w, y=q.y, norm_v=norm(B, v), norm_H=norm(B, q.H),
                          norm_K=norm(B, q.K), solve_widening=0.0)


def last_layer_report(problem: Problem, q: LastLayerTerms, condition: float,
                      softmax_classes: int | None = None) -> Report:
    """:func:`corollary3_last_layer` from :func:`last_layer_terms` (or its matrix-free version)."""
    B = problem.backend
    w, vHv = q.w, q.vHv
    tol = tolerance(B, problem.n + problem.m + problem.k, condition) + q.solve_widening
    natural = q.norm_H * q.norm_v ** 2 + q.norm_K * norm(B, w) ** 2
    parts = {"quadratic": compare(B, "corollary3_last_layer", vHv, {"output_curvature": w.T @ q.Kw}, tol, natural)}
    if softmax_classes is not None:
        if problem.m % softmax_classes:
            raise ValueError(f"{problem.name}: m = {problem.m} outputs are not (classes = {softmax_classes}) x N")
        covariance = softmax_covariance(q.y, w, softmax_classes, B.xp)
        parts["softmax_variance"] = compare(B, "corollary3_last_layer", vHv, {"softmax_covariance": covariance},
                                            tol, q.norm_H * q.norm_v ** 2 + norm(B, w) ** 2)
    return Report("corollary3_last_layer", parts)


@certifiable
@three_valued
def corollary3_last_layer(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    theta: Any,
    *,
    softmax_classes: int | None = None,
    precision: int | None = None,
    check_equivariance: bool = True,
    jit: bool = True,
    method: Method = "auto", certify: bool = False,
) -> Report:
    """Corollary 3, eq. (7): ``vᵀ H v = wᵀ ∇²ℓ(f(θ)) w`` for a last-layer equivariance.

    Parts: ``quadratic`` (eq. 7, ``k × k``) and, with ``softmax_classes``, ``softmax_variance``
    (the same left side against the softmax covariance form of the module docstring).

    Parameters
    ----------
    eq : Equivariance
        A last-layer equivariance (eq. 6): ``T(A, (W, φ)) = (AW, φ)``, ``S(A, Y) = AY``.
    loss : callable
        ``ℓ(y) -> scalar``; with ``softmax_classes``, the mean softmax cross-entropy over the columns
        of ``Y`` (``y = vec(Y)`` row-major, ``Y`` of shape ``(classes, N)``).
    a, theta : array or pytree
        A good position (``A`` invertible).
    softmax_classes : int, optional
        Number of classes ``m``; adds the variance form.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_equivariance : bool
        Verify eq. (1) at and near ``(a, θ)`` first (default); ``False`` for negative controls.
    jit : bool
        Float64 only: compile with XLA (default).
    method : {"auto", "dense", "matrix_free"}
        ``"matrix_free"`` reads ``vᵀHv``, ``w`` and ``Kw`` from the matrix-free Theorem 1 program
        (:func:`pyspec.matrix_free.last_layer_terms_mf`; float64 only); ``"auto"`` as
        :func:`pyspec.theorem1`.

    Raises
    ------
    NotGoodPositionError, EquivarianceError, ShapeError, NonFiniteError, ValueError
    """
    matrix_free.check_method(method, precision, sketchable=False)
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, a_flat, th = bind(eq, loss, a, theta, backend)
        if matrix_free.select_method(method, problem.n, precision) == "matrix_free":
            structures, position, _ = matrix_free.checked_position_mf(problem, a_flat, th, check_equivariance)
            q = matrix_free.last_layer_terms_mf(problem, a_flat, th, structures, position.condition)
            return last_layer_report(problem, q, position.condition, softmax_classes)
        problem, a_flat, th, condition = bind_checked(eq, loss, a, theta, backend, check_equivariance)
        return last_layer_report(problem, last_layer_terms(problem, a_flat, th), condition, softmax_classes)
