"""Theorem 2's hypothesis: ``θ`` is a fixed point of ``T(a, ·)`` at which ``f`` is symmetric, with the
fixed-point tolerance shared by the dense and matrix-free paths and by :mod:`pyspec.discrete`."""

from __future__ import annotations

from pyspec.backends.base import Array
from pyspec.cache import compile_program
from pyspec.characteristic import required_equivariance
from pyspec.checks import tolerance
from pyspec.equivariance import Problem
from pyspec.errors import NotFixedPointError

__all__ = ["FIXED_POINT_CANCELLATION", "fixed_point_residual", "theorem2_hypotheses"]


FIXED_POINT_CANCELLATION = 1.0
"""Factor on ``tolerance(n, ‖J‖)`` in the fixed-point test ``‖T(a, θ) − θ‖ / ‖θ‖``: evaluating ``T`` is
a sum of at most ``n`` rounded products (no solve), the same model as every identity's tolerance. A
point accepted this way is within rounding of the fixed set; what that offset does to each identity is
measured (``Jᵀ(∇L(Tθ) − ∇L(θ))`` and the Hessian's analogue) and enters the identity's resolution, so an
accepted point is never rejected by an identity because it is not fixed."""


def fixed_point_residual(problem: Problem, a: Array, theta: Array) -> float:
    """``‖T(a, θ) − θ‖ / max(‖θ‖, ‖T(a, θ)‖)`` (0 when both vanish)."""
    B = problem.backend
    moved = B.to_host(compile_program(problem, problem.T)(a, theta))
    scale = max(B.to_float(B.norm(theta)), B.to_float(B.norm(moved)))
    return 0.0 if scale == 0.0 else B.to_float(B.norm(moved - theta)) / scale


def theorem2_hypotheses(problem: Problem, a: Array, theta: Array, scale_J: float,
                        check: bool = True) -> tuple[float, float | None]:
    """The fixed-point residual and, when ``check``, the required hypotheses: ``θ`` within
    ``FIXED_POINT_CANCELLATION · tolerance(n, ‖J‖)`` of ``T(a, θ)`` and the symmetry at and near ``θ``
    (its worst residual, else ``None``).

    Raises
    ------
    NotFixedPointError, EquivarianceError
    """
    fp = fixed_point_residual(problem, a, theta)
    if not check:
        return fp, None
    fp_tol = FIXED_POINT_CANCELLATION * tolerance(problem.backend, problem.n, scale_J)
    if fp > fp_tol:
        raise NotFixedPointError(
            f"{problem.name}: theta is not a fixed point of T(a, .): "
            f"|T(a, theta) - theta| / |theta| = {fp:.3e} > {fp_tol:.1e}"
        )
    return fp, required_equivariance(problem, a, theta, vary_a=False)
