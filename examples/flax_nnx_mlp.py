"""Theorem 1 for a Flax NNX MLP, as written: the module (or its ``nnx.State``) is the parameter.

Run: ``python examples/flax_nnx_mlp.py``.
"""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import pyspec as ps

jax.config.update("jax_enable_x64", True)

X = np.random.default_rng(0).standard_normal((8, 3))
labels = np.arange(8) % 2


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(3, 5, rngs=rngs, param_dtype=jnp.float64)
        self.l2 = nnx.Linear(5, 5, rngs=rngs, param_dtype=jnp.float64)
        self.l3 = nnx.Linear(5, 2, rngs=rngs, param_dtype=jnp.float64)

    def __call__(self, x):
        return self.l3(jax.nn.relu(self.l2(jax.nn.relu(self.l1(x)))))


def loss(y):
    logits = y.reshape(-1, 2)
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(8), labels])


# --- the check: rescaling of the first hidden layer (with its bias), Theorem 1 ---
model = MLP(nnx.Rngs(0))
s = ps.symmetries.rescaling(model, "l1", "l2")
report = ps.theorem1(s.equivariance(lambda m: m(X).ravel()), loss, s.a, model)
print(s.name, "holds" if report.holds else "FAILS", f"worst residual {max(c.residual for c in report.checks):.1e}")
# --- end of the check ---

# the same on the State (Param wrappers are kept when pyspec writes arrays back)
graph, state = nnx.split(model)
softmax = ps.symmetries.softmax_translation(state, "l3")
r2 = ps.theorem1(softmax.equivariance(lambda st: nnx.merge(graph, st)(X).ravel()), loss, softmax.a, state)
print(softmax.name, "holds" if r2.holds else "FAILS")
assert report.holds and r2.holds
