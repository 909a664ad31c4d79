"""Before issue 14: the same Theorem 1 check as examples/equinox_mlp.py, with hand-written tree code
(partition, flatten, unflatten, combine). Kept to measure the lines the adapters save
(benchmarks/frameworks_before/count_lines.sh)."""
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
# --- the check ---
mlp = eqx.nn.MLP(3, 2, 5, 2, activation=jax.nn.relu, use_bias=False, use_final_bias=False, key=key, dtype=jnp.float64)
params, static = eqx.partition(mlp, eqx.is_inexact_array)
leaves, treedef = jax.tree_util.tree_flatten(params)
shapes = [leaf.shape for leaf in leaves]
sizes = [leaf.size for leaf in leaves]
theta0 = np.concatenate([np.ravel(leaf) for leaf in leaves])
def unflatten(theta):
    out, i = [], 0
    for shape, size in zip(shapes, sizes):
        out.append(theta[i:i + size].reshape(shape))
        i += size
    return jax.tree_util.tree_unflatten(treedef, out)
def f(theta):
    model = eqx.combine(unflatten(theta), static)
    return jax.vmap(model)(X).ravel()
def T(a, theta):
    return a[0] * theta
def S(a, y):
    return a[0] ** 3 * y
eq = ps.Equivariance(model=f, T=T, S=S)
report = ps.theorem1(eq, loss, np.array([1.3]), theta0)
print(report.holds)
# --- end ---
