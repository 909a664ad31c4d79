"""Shared helpers for the tests: run a catalog/strategy instance, build broken variants."""

from __future__ import annotations

from typing import Any

import numpy as np

import pyspec as ps
from pyspec.backends import get_backend
from pyspec.catalog import Instance

XP64 = get_backend(None, jit=False).xp


def run(instance: Instance, precision: int | None = None, jit: bool = False, **kwargs: Any) -> Any:
    """Theorem 1 (continuous instances) or Theorem 2 (discrete instances) at the instance's point."""
    xp = get_backend(precision, jit=jit).xp
    with get_backend(precision).context():
        a, theta = instance.a(xp), instance.theta(xp)
    check = ps.theorem2 if instance.off_fixed is not None else ps.theorem1
    return check(instance.eq, instance.loss, a, theta, precision=precision, jit=jit, **kwargs)


def broken(instance: Instance, size: float = 1e-2, seed: int = 3) -> Instance:
    """The instance with the model perturbed by ``size · tanh(Nθ)``: not equivariant any more."""
    model = instance.eq.model
    theta64 = np.asarray(get_backend(None).to_numpy(instance.theta(XP64)))
    y64 = np.asarray(model(instance.theta(XP64), xp=XP64))
    rng = np.random.default_rng(seed)
    N = rng.standard_normal((y64.size, theta64.size)) / np.sqrt(theta64.size)
    c = size * max(float(np.sqrt(np.mean(y64**2))), 1e-3)

    def perturbed(theta: Any, *, xp: Any) -> Any:
        return model(theta, xp=xp) + c * xp.tanh(N @ theta)

    return Instance(
        eq=instance.eq.replace(model=perturbed, name=instance.eq.name + "_broken"),
        loss=instance.loss,
        a=instance.a,
        theta=instance.theta,
        off_fixed=instance.off_fixed,
    )
