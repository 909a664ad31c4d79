"""Audit of a one-block transformer (Flax NNX): its attention and LayerNorm symmetries, measured.

``ps.audit(block, None, loss, sequences)`` tries every ready-made symmetry whose shapes fit and finds
attention GL(d_k) on (W_Q, W_K), GL(d_v) on (W_V, W_O) (with its rescalings, permutations and sign
flips), scale invariance of the embedding feeding the LayerNorm (``epsilon=0``), last-layer GL and
softmax translation of the head (about a minute). Here two are given explicitly, with their
Theorem 1 verdicts. Biases are drawn at random: at zero biases the value map's bias adds
no direction and GL(d_v) has one direction fewer in ker H. Run: ``python examples/transformer_block.py``.
"""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import pyspec as ps

jax.config.update("jax_enable_x64", True)


class Block(nnx.Module):
    def __init__(self, rngs, d_in=2, d=4, dk=3, dv=5, classes=6):
        kw = dict(rngs=rngs, param_dtype=jnp.float64, bias_init=nnx.initializers.normal(0.5))
        self.embed = nnx.Linear(d_in, d, **kw)
        self.norm = nnx.LayerNorm(d, epsilon=0.0, rngs=rngs, param_dtype=jnp.float64)
        self.query, self.key = nnx.Linear(d, dk, **kw), nnx.Linear(d, dk, **kw)
        self.value, self.out = nnx.Linear(d, dv, **kw), nnx.Linear(dv, d, **kw)
        self.head = nnx.Linear(d, classes, **kw)

    def __call__(self, x):  # x: (batch, tokens, d_in)
        h = self.norm(self.embed(x))
        q, k, v = self.query(h), self.key(h), self.value(h)
        att = jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1]), axis=-1)
        h = h + self.out(att @ v)
        return self.head(h.mean(axis=-2))


sequences = np.random.default_rng(0).standard_normal((7, 4, 2))
labels = np.arange(7) % 6


def loss(logits):
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(7), labels])


block = Block(nnx.Rngs(0))
qk = ps.symmetries.attention_qk(block, "query", "key")
scale = ps.symmetries.norm_scale(block, "embed")
table = ps.audit(block, None, loss, sequences, symmetries=[qk, scale])
table.print()
print(table.to_json()[:120], "...")
assert all(row.verdict == "holds" for row in table.rows) and table.kernel_lower_bound == 9 + 1
