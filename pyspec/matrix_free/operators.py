"""Building blocks of the matrix-free programs: compiled programs, linear operators of ``T`` and ``S``
as products (no matrix), probe directions and solve residuals."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from pyspec.backends.base import Array
from pyspec.backends.jax_backend import ahead_of_time, compile_options
from pyspec.cache import cached, program_key
from pyspec.equivariance import Problem

__all__ = ["compile_mf", "contracted_gradient", "probe_key", "probe_directions", "probe_vector", "operators", "relative_residual"]


def compile_mf(problem: Problem, fun: Callable[..., Any], *static: Any) -> Callable[..., Any]:
    """``fun`` compiled (always: even for a backend with ``jit=False``) with
    :func:`pyspec.backends.jax_backend.compile_options`, from the program cache
    (:func:`pyspec.cache.program_key`; ``static``: every value ``fun`` closes over besides ``problem``)."""
    return cached(program_key(problem.key, fun, *static), lambda: ahead_of_time(fun, compile_options()))


def probe_key() -> jax.Array:
    """The fixed key of the row-structure probes (:func:`pyspec.matrix_free.solvers.row_structures`)."""
    return jax.random.PRNGKey(20251224)


def probe_directions(n: int, p: int, seed: int = 0) -> jax.Array:
    """``p`` random unit directions in ``ℝⁿ`` (``n × p``; standard Gaussian, normalized columns)."""
    Z = jax.random.normal(jax.random.PRNGKey(seed), (p, n), dtype=jnp.float64)
    return (Z / jnp.linalg.norm(Z, axis=1, keepdims=True)).T


def operators(fun: Callable[[Array], Array], x: Array) -> tuple[Callable, Callable]:
    """``u ↦ ∂fu`` and ``u ↦ ∂fᵀu`` at ``x`` (one linearization, its transpose)."""
    _, jvp = jax.linearize(fun, x)
    vjp = jax.linear_transpose(jvp, x)
    return jvp, lambda u: vjp(u)[0]


def contracted_gradient(c: Array, F: Callable[[Array, Array], Array]) -> Callable[[Array, Array], Array]:
    """``(b, s) ↦ ∇_s ⟨c, F(b, s)⟩``: e.g. ``c = γ``, ``F = T`` gives ``(γ·T_θ)`` at ``(b, s)``, whose
    linearizations in ``s`` and ``b`` are ``γ·T_θθ`` and ``γ·T_θa``."""

    def gradient(b: Array, s: Array) -> Array:
        return jax.grad(lambda u: jnp.vdot(c, F(b, u)))(s)

    return gradient


def relative_residual(matvec: Callable, x: Array, b: Array) -> Array:
    """``‖A x − b‖ / ‖b‖`` (``0`` for ``b = 0``)."""
    nb = jnp.linalg.norm(b)
    return jnp.where(nb > 0, jnp.linalg.norm(matvec(x) - b) / jnp.where(nb > 0, nb, 1.0), 0.0)


def probe_vector(n: int) -> Array:
    """The dense path's unit probe (:func:`pyspec.theorem1._probe`), computed in the program (an
    ``n``-sized constant would be embedded in the executable)."""
    u = jnp.cos(jnp.arange(1, n + 1, dtype=jnp.float64) * 2.399963)
    return u / jnp.linalg.norm(u)

