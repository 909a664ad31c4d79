"""§5.1 matrix-free: the quantities of the homogeneity reports from one HVP and one pullback."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends.base import Array
from pyspec.equivariance import Problem
from pyspec.identities import hessian_scale_from_norms
from pyspec.matrix_free.operators import compile_mf, probe_vector

__all__ = ["homogeneity_terms_mf"]


def homogeneity_terms_mf(problem: Problem, theta: Array) -> dict[str, Array]:
    """The quantities of :func:`pyspec.homogeneity.homogeneous_problem`, matrix-free: ``y, g, ∇L``,
    ``Hθ`` (the linearization of ``θ ↦ (f, ∇L)`` along ``θ``), ``GᵀKy`` (one pullback), ``yᵀKy``,
    ``ℓ″`` for ``m = 1``, and ``‖G‖ ≈ max(√n ‖Gu‖, ‖Gθ‖/‖θ‖)``, ``‖H‖`` as
    :func:`pyspec.identities.hessian_scale_from_norms` (``u`` the fixed unit probe)."""
    grad_loss = jax.grad(problem.loss)

    def terms(t: Array) -> dict[str, Array]:
        def f_and_grad(s: Array) -> tuple[Array, Array]:
            y_, pull_ = jax.vjp(problem.f, s)
            return y_, pull_(grad_loss(y_))[0]

        (y, grad), lin = jax.linearize(f_and_grad, t)
        pull = jax.vjp(problem.f, t)[1]
        g = grad_loss(y)

        def K(x: Array) -> Array:
            return jax.jvp(grad_loss, (y,), (x,))[1]

        Ky = K(y)
        u = probe_vector(problem.n)
        (G_theta, H_theta), (Gu, Hu) = lin(t), lin(u)
        GtKGu = pull(K(Gu))[0]
        out = {"y": y, "g": g, "grad_L": grad, "H_theta": H_theta, "GtKy": pull(Ky)[0], "yKy": jnp.vdot(y, Ky),
               "norm_Gu": jnp.linalg.norm(Gu), "norm_G_theta": jnp.linalg.norm(G_theta),
               "norm_GtKGu": jnp.linalg.norm(GtKGu), "norm_Hu_rest": jnp.linalg.norm(Hu - GtKGu)}
        if problem.m == 1:
            out["K00"] = K(jnp.ones_like(y))[0]
        return out

    q = problem.backend.to_host(compile_mf(problem, terms)(theta))
    n, norm_theta = problem.n, float(np.linalg.norm(np.asarray(theta)))
    norm_H = hessian_scale_from_norms(n, float(q.pop("norm_GtKGu")), float(q.pop("norm_Hu_rest")),
                                      float(np.linalg.norm(q["H_theta"])) / norm_theta if norm_theta else 0.0)
    norm_G = max(n**0.5 * float(q.pop("norm_Gu")), float(q.pop("norm_G_theta")) / norm_theta if norm_theta else 0.0)
    return q | {"norm_G": norm_G, "norm_H": norm_H}
