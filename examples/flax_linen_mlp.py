"""Theorem 1 and the §4.1 conservation law for a Flax linen model: the variables are the parameter.

A linear two-layer net ``Dense_1(Dense_0(x))`` has the GL(2) reparameterization symmetry (3 → 2 → 2, so it acts faithfully); its
conserved quantity ``W₁W₁ᵀ − W₂ᵀW₂`` (with the first bias) does not move under gradient flow.
Run: ``python examples/flax_linen_mlp.py``.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import pyspec as ps

jax.config.update("jax_enable_x64", True)

X = np.random.default_rng(0).standard_normal((8, 3))
targets = np.random.default_rng(1).standard_normal((8, 2))


class Linear2(nn.Module):
    @nn.compact
    def __call__(self, x):
        hidden = nn.Dense(2, param_dtype=jnp.float64)(x)  # Dense_0
        return nn.Dense(2, param_dtype=jnp.float64)(hidden)  # Dense_1


model = Linear2()
variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 3)))


def f(v):
    return model.apply(v, X).ravel()


def loss(y):
    return 0.5 * jnp.mean((y - targets.ravel()) ** 2)


s = ps.symmetries.reparameterization(variables, "params.Dense_0", "params.Dense_1")
report = ps.theorem1(s.equivariance(f), loss, s.a, variables)
law = ps.reparam_conservation(f, loss, variables, layers=("params.Dense_0", "params.Dense_1"))
print(s.name, "Theorem 1", "holds" if report.holds else "FAILS", "| conservation:", law)
assert report.holds and law.holds
