"""Extreme eigenvalues of ``H = ∇²L`` by Lanczos on Hessian-vector products (the sharpness bound, §5.1)."""

from __future__ import annotations

import jax

from pyspec import linalg
from pyspec.backends.base import Array
from pyspec.equivariance import Problem
from pyspec.matrix_free.operators import compile_mf

__all__ = ["extreme_eigenvalue"]


def extreme_eigenvalue(problem: Problem, theta: Array, extreme: str = "max", num_iter: int = 50) -> float:
    """``λ_max(H)`` (or ``λ_min`` for ``extreme="min"``) by Lanczos on Hessian-vector products started
    from ``θ/‖θ‖`` (:func:`pyspec.linalg.lanczos_max_eigenvalue`, on ``−H`` for the minimum).

    The largest Ritz value never decreases from its first, ``θᵀHθ/‖θ‖²``, and never exceeds
    ``λ_max``: a certified lower bound on ``λ_max`` that is at least the Rayleigh quotient of ``θ``.
    """
    sign = 1.0 if extreme == "max" else -1.0

    def top(t: Array) -> Array:
        hvp = jax.linearize(jax.grad(problem.L), t)[1]
        return linalg.lanczos_max_eigenvalue(lambda x: sign * hvp(x), problem.n, num_iter=num_iter, v0=t).eigenvalue

    return sign * float(compile_mf(problem, top, sign, num_iter)(theta))
