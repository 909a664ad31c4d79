"""The smoothness probe of a good position: does the model's derivative jump next to ``θ``?

The identities are statements about derivatives; at a kink (a ReLU's) they need not hold, and a
verdict there is at best inconclusive. The probe samples the model's derivative along a fixed unit
direction ``z`` at ``θ`` and ``θ ± h`` with ``h = JUMP_STEP · ‖θ‖_rms · u`` (fixed seed): where the
model is smooth the second difference is ``O(h²)``, at a kink it is ``O(1)`` (:func:`derivative_jumps`).
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.backends.base import Array, Backend
from pyspec.cache import compile_program
from pyspec.equivariance import Problem
from pyspec.errors import NonDifferentiableWarning

__all__ = [
    "JUMP_FLOOR", "JUMP_RATIO", "JUMP_STEP", "check_smoothness", "derivative_jump", "derivative_jumps", "slopes",
    "smoothness_directions", "smoothness_steps", "warn_jump",
]  # fmt: skip

JUMP_STEP = 2.0**-20
"""Relative step ``h`` of the smoothness probe: derivatives of a smooth model at ``θ ± h‖θ‖u`` differ
from those at ``θ`` by ``O(h)``, their second difference by ``O(h²)``."""

JUMP_RATIO = 0.25
"""A second difference of the directional derivative larger than this fraction of the first difference
(and than :data:`JUMP_FLOOR` relative) is a jump: ``O(1)`` at a kink, ``O(h)`` where smooth."""

JUMP_FLOOR = 1e-7
"""Smallest relative jump reported (rounding noise of the derivatives is ~``1e-13`` relative)."""


@functools.lru_cache(maxsize=64)
def _draws(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The probe's step direction ``u`` and unit direction ``z`` (seed 20260101), read-only: drawn
    once per shape."""
    rng = np.random.default_rng(20260101)
    u, z = rng.standard_normal(shape), rng.standard_normal(shape)
    z = z / np.linalg.norm(z)
    u.flags.writeable = z.flags.writeable = False
    return u, z


def smoothness_steps(thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The steps ``h‖θ_i‖_rms u`` of each row of ``thetas`` (``B × n``, float64) and the unit
    direction ``z`` they share (a ``θ = 0`` row uses ``‖θ‖_rms = 1``)."""
    u, z = _draws(thetas.shape[1:])
    rms = np.sqrt(np.mean(thetas**2, axis=1))
    return (JUMP_STEP * np.where(rms > 0.0, rms, 1.0))[:, None] * u, z


def smoothness_directions(backend: Backend, theta: Array) -> tuple[Array, Array]:
    """The step ``h‖θ‖_rms u`` and the unit direction ``z`` of the probe at one ``θ``
    (:func:`smoothness_steps` of one row)."""
    steps, z = smoothness_steps(backend.to_numpy(theta)[None])
    return backend.asarray(steps[0]), backend.asarray(z)


def derivative_jumps(d0: np.ndarray, d_plus: np.ndarray, d_minus: np.ndarray) -> np.ndarray:
    """Relative jump of a directional derivative sampled at ``θ`` and ``θ ± h``, for each row (a point;
    float64 arrays with a leading axis): the second difference ``‖d₊ + d₋ − 2d₀‖`` when it exceeds
    :data:`JUMP_RATIO` of ``‖d₊ − d₋‖`` and :data:`JUMP_FLOOR` relative to ``max ‖dᵢ‖``; else 0 (also
    where a sample is not finite: the check that meets the NaN reports it, naming its producer)."""
    x0, xp_, xm = (np.reshape(d, (len(d), -1)) for d in (d0, d_plus, d_minus))

    def norms(x: np.ndarray) -> np.ndarray:
        return np.sqrt(np.einsum("ij,ij->i", x, x))

    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(x0).all(axis=1) & np.isfinite(xp_).all(axis=1) & np.isfinite(xm).all(axis=1)
        size = np.maximum(np.maximum(norms(x0), norms(xp_)), norms(xm))
        second, first = norms(xp_ + xm - 2 * x0), norms(xp_ - xm)
        smooth = ~finite | (size == 0.0) | (second <= JUMP_FLOOR * size) | (second <= JUMP_RATIO * first)
        return np.where(smooth, 0.0, second / np.where(smooth, 1.0, size))


def derivative_jump(backend: Backend, d0: Array, d_plus: Array, d_minus: Array) -> float:
    """:func:`derivative_jumps` at one point."""
    return float(derivative_jumps(*(backend.to_numpy(d)[None] for d in (d0, d_plus, d_minus)))[0])


def warn_jump(problem: Problem, jump: float) -> float:
    """Warn with :class:`~pyspec.errors.NonDifferentiableWarning` when ``jump > 0``; return ``jump``."""
    if jump:
        warnings.warn(
            f"{problem.name}: the model's derivative jumps by {jump:.1e} (relative) between theta and a point "
            f"{JUMP_STEP:.0e} away: theta is at or next to a non-differentiable point (e.g. a ReLU kink), where "
            "the identities need not hold; the verdict is inconclusive",
            NonDifferentiableWarning, stacklevel=4,
        )
    return jump


def check_smoothness(problem: Problem, theta: Array) -> float:
    """The smoothness probe alone (as in :func:`pyspec.characteristic.position_report`): the relative
    jump of the model's directional derivative next to ``θ`` (0 when smooth; warns at a jump)."""
    B = problem.backend
    step, z = smoothness_directions(B, theta)

    def probe(t_: Array, h: Array, z_: Array) -> tuple[Array, ...]:
        return slopes(problem, t_, h, z_)

    return warn_jump(problem, derivative_jump(B, *B.to_host(compile_program(problem, probe)(theta, step, z))))


def slopes(problem: Problem, theta: Array, h: Array, z: Array) -> tuple[Array, Array, Array]:
    """The model's derivative along ``z`` at ``θ``, ``θ + h`` and ``θ − h``. JAX maps one JVP of the
    model over the three points: the model is traced once, not three times (its tracing was half the
    cost of compiling the good-position program of a Flax/Equinox attention model)."""
    B = problem.backend
    tangent = B.xp.reshape(z, (z.shape[0], 1))
    if B.name.startswith("jax-"):
        d = jax.vmap(lambda s: B.jvp(problem.f, theta + s, tangent)[1])(jnp.stack([0 * h, h, -h]))
        return d[0], d[1], d[2]
    return tuple(B.jvp(problem.f, theta + s, tangent)[1] for s in (0 * h, h, -h))
