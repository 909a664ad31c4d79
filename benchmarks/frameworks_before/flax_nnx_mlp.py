"""Before issue 14: the same Theorem 1 check as examples/flax_nnx_mlp.py (rescaling of l1 with its
bias), with hand-written tree code that keeps the NNX Param wrappers. Kept to measure the lines the
adapters and pyspec.symmetries save (benchmarks/frameworks_before/count_lines.sh)."""
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
    return -jnp.mean(jax.nn.log_softmax(y.reshape(-1, 2))[jnp.arange(8), labels])
# --- the check ---
model = MLP(nnx.Rngs(0))
graph, state = nnx.split(model)
pure = nnx.to_pure_dict(state)
leaves, treedef = jax.tree_util.tree_flatten(pure)
paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(pure)[0]]
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
    st = nnx.State(state)  # copy, then write arrays back into the Param wrappers
    nnx.replace_by_pure_dict(st, unflatten(theta))
    return nnx.merge(graph, st)(X).ravel()
def T(a, theta):
    p = unflatten(theta)
    p["l1"]["kernel"] = p["l1"]["kernel"] * a[None, :]
    p["l1"]["bias"] = p["l1"]["bias"] * a
    p["l2"]["kernel"] = p["l2"]["kernel"] / a[:, None]
    return jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree_util.tree_leaves(p)])
eq = ps.Equivariance(model=f, T=T)
report = ps.theorem1(eq, loss, np.exp(0.3 * np.cos(2.4 * np.arange(1, 6))), theta0)
print(report.holds)
# --- end ---
