"""§5.1 matrix-free: the quantities of the homogeneity reports from one HVP and one pullback."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pyspec.backends.base import Array
from pyspec.equivariance import Problem
from pyspec.identities import hessian_scale_from_norms
from pyspec.matrix_free.operators import compile_mf, probe_vector
from pyspec.terms import HessianProbe, HomogeneityTerms

__all__ = ["homogeneity_terms_mf"]


def homogeneity_terms_mf(problem: Problem, theta: Array) -> HomogeneityTerms:
    """The quantities of :func:`pyspec.homogeneity.homogeneous_problem`, matrix-free: ``y, g, ∇L``,
    ``Hθ`` (the linearization of ``θ ↦ (f, ∇L)`` along ``θ``), ``GᵀKy`` (one pullback), ``yᵀKy``,
    ``ℓ″`` for ``m = 1``, and ``‖G‖ ≈ max(√n ‖Gu‖, ‖Gθ‖/‖θ‖)``, ``‖H‖`` as
    :func:`pyspec.identities.hessian_scale_from_norms` (``u`` the fixed unit probe, ``θ`` the one column)."""
    grad_loss = jax.grad(problem.loss)

    def terms(t: Array) -> tuple[HomogeneityTerms, HessianProbe]:
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
        norm_t = jnp.linalg.norm(t)

        def ratio(x: Array) -> Array:
            return jnp.where(norm_t > 0, jnp.linalg.norm(x) / jnp.where(norm_t > 0, norm_t, 1.0), 0.0)

        K00 = K(jnp.ones_like(y))[0] if problem.m == 1 else None
        q = HomogeneityTerms(y=y, g=g, grad_L=grad, H_theta=H_theta, GtKy=pull(Ky)[0], yKy=jnp.vdot(y, Ky),
                             norm_G=jnp.nan, norm_H=jnp.nan, K00=K00)  # the norms: on the host, below
        probe = HessianProbe(norm_Gu=jnp.linalg.norm(Gu), norm_GtKGu=jnp.linalg.norm(GtKGu),
                             norm_Hu_rest=jnp.linalg.norm(Hu - GtKGu), Hv_ratio=ratio(H_theta), Gv_ratio=ratio(G_theta))
        return q, probe

    q, p = problem.backend.to_host(compile_mf(problem, terms)(theta))
    n = problem.n
    norm_H = hessian_scale_from_norms(n, float(p.norm_GtKGu), float(p.norm_Hu_rest), float(p.Hv_ratio))
    return q._replace(norm_G=max(n**0.5 * float(p.norm_Gu), float(p.Gv_ratio)), norm_H=norm_H)
