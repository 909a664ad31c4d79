"""A model checked at 50 digits: write it once with the namespace ``xp`` and pass ``precision=50``.

A bias-free two-layer net with a leaky ReLU, as a plain pytree ``{"W1", "W2"}``, and the per-unit
rescaling symmetry from ``pyspec.symmetries`` (its transformations use ``xp`` too). The residuals
drop from ~1e-16 (float64) to ~1e-45.
Run: ``python examples/high_precision.py``.
"""

import jax
import numpy as np

import pyspec as ps

jax.config.update("jax_enable_x64", True)

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))
targets = rng.standard_normal((2, 4))
theta = {"W1": {"weight": rng.standard_normal((3, 3))}, "W2": {"weight": rng.standard_normal((2, 3))}}


def model(t, *, xp):
    z = t["W1"]["weight"] @ X
    return xp.ravel(t["W2"]["weight"] @ (xp.relu(z) - 0.1 * xp.relu(-z)))


def loss(y, *, xp):
    return 0.5 * xp.sum(xp.square(y - xp.ravel(targets)))


s = ps.symmetries.rescaling(theta, "W1", "W2")
for precision in (None, 50):
    report = ps.theorem1(s.equivariance(model), loss, s.a, theta, precision=precision)
    worst = max(c.residual for c in report.checks)
    print(f"precision={precision}: Theorem 1 {'holds' if report.holds else 'FAILS'}, worst residual {worst:.1e}")
    assert report.holds and (precision is None or worst < 1e-40)
