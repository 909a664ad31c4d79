"""Theorem 1 for an Equinox MLP, as written: the module is the parameter, no tree surgery.

A bias-free ReLU MLP with three layers is 3-homogeneous; each hidden ReLU layer has a per-unit
rescaling symmetry (here with biases, in a second MLP) and its conservation law.
Run: ``python examples/equinox_mlp.py``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pyspec as ps

jax.config.update("jax_enable_x64", True)

key = jax.random.PRNGKey(0)
X = np.random.default_rng(0).standard_normal((8, 3))
targets = np.random.default_rng(1).standard_normal((8, 2))


def loss(y):
    return 0.5 * jnp.mean((y - targets.ravel()) ** 2)


def f(mlp):
    return jax.vmap(mlp)(X).ravel()


# --- the check: a float64 bias-free MLP, its degree-3 homogeneity, Theorem 1 ---
mlp = eqx.nn.MLP(3, 2, 5, 2, activation=jax.nn.relu, use_bias=False, use_final_bias=False, key=key, dtype=jnp.float64)
s = ps.symmetries.homogeneity(mlp, ["layers[0]", "layers[1]", "layers[2]"])
report = ps.theorem1(s.equivariance(f), loss, s.a, mlp)
print(s.name, "holds" if report.holds else "FAILS", f"worst residual {max(c.residual for c in report.checks):.1e}")
# --- end of the check ---

biased = eqx.nn.MLP(3, 2, 5, 2, activation=jax.nn.relu, key=key, dtype=jnp.float64)
law = ps.rescaling_conservation(f, loss, biased, layers=("layers[0]", "layers[1]"))
print("rescaling conservation (with bias):", law)
assert report.holds and law.holds
