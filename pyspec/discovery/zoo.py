"""Architectures with a known number of conservation laws, and where that number comes from.

Each :class:`Architecture` builds a small model ``f(θ, x, *, xp)``, a generic point and inputs, and
records the count the literature gives, the laws behind it and the source. "Generic" matters: a
ReLU neuron that is dead, always active, or active on exactly the same inputs as another makes the
network locally linear in a way that adds laws *for that data set*; builders resample until every
hidden ReLU neuron is active on between 10 % and 90 % of the inputs with pairwise distinct patterns.

Sources
-------
[MGP23] G. Marcotte, R. Gribonval, G. Peyré. Abide by the law and follow the flow: conservation
    laws for gradient flows. NeurIPS 2023. Complete counts for two-layer ReLU networks (one law
    per hidden neuron) and two-layer linear networks (``r(r+1)/2``).
[DHL18] S. S. Du, W. Hu, J. D. Lee. Algorithmic regularization in learning deep homogeneous models:
    layers are automatically balanced. NeurIPS 2018. Per-neuron ``‖in‖² − ‖out‖²`` laws of ReLU
    networks of any depth (a hidden bias counts as an incoming weight).
[ACH18] S. Arora, N. Cohen, E. Hazan. On the optimization of deep networks: implicit acceleration
    by overparameterization. ICML 2018. Balancedness ``W_{j+1}ᵀW_{j+1} − W_jW_jᵀ`` of deep linear
    networks.
[MPG25] G. Marcotte, G. Peyré, R. Gribonval. Transformative or conservative? Conservation laws for
    ResNets and Transformers. ICML 2025. Residual blocks inherit the laws of their branch;
    attention has ``W_QᵀW_Q − W_KᵀW_K`` and ``W_VᵀW_V − W_O W_Oᵀ``.
[S92] H. J. Sussmann. Uniqueness of the weights for minimal feedforward nets with a given
    input-output map. Neural Networks 5(4), 1992. Generic tanh networks are identifiable up to
    permutations and sign flips: no continuous symmetry, and ``W`` is all of ``ℝⁿ``.

``proved`` says whether the source proves that the listed laws are *all* the laws (``False``: the
laws are known, their completeness is what the numerical count tests).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["Architecture", "ARCHITECTURES", "architecture"]


class Architecture(NamedTuple):
    """A model with a known conservation-law count.

    Attributes
    ----------
    name : str
    description : str
    build : callable
        ``build(seed) -> (model, theta, inputs)``; ``model(θ, x, *, xp)``.
    known : int
        The count from the literature (``n − dim Lie(W)``).
    laws : str
        The known laws.
    source : str
        Key of the reference in this module's docstring.
    proved : bool
        Whether the source proves that these are all the laws.
    """

    name: str
    description: str
    build: Callable[[int], tuple[Callable[..., Any], Any, np.ndarray]]
    known: int
    laws: str
    source: str
    proved: bool


def _generic_relu(patterns: list[np.ndarray]) -> bool:
    """Every neuron active on 10–90 % of the inputs, no two neurons with the same pattern."""
    cols = np.concatenate([p.T for p in patterns], axis=0) > 0
    fractions = cols.mean(axis=1)
    distinct = len({c.tobytes() for c in cols}) == cols.shape[0]
    return bool(np.all((fractions > 0.1) & (fractions < 0.9)) and distinct)


def _relu_point(draw: Callable[[np.random.Generator], tuple[Any, np.ndarray, list[np.ndarray]]], seed: int) -> tuple[Any, np.ndarray]:
    for attempt in range(200):
        theta, X, pre = draw(np.random.default_rng(1000 * seed + attempt))
        if _generic_relu(pre):
            return theta, X
    raise RuntimeError("no generic ReLU point found in 200 draws")


def _mlp(widths: tuple[int, ...], activation: str, biases: bool, residual: bool = False) -> Callable[[int], tuple[Any, Any, np.ndarray]]:
    """``x ↦ W_L σ(… σ(W_1 x + b_1) …) + b_L`` (``x +`` that when ``residual``)."""
    L = len(widths) - 1

    def model(p: Any, x: Any, *, xp: Any) -> Any:
        h = x
        for j in range(L):
            h = p[f"W{j + 1}"] @ h + (p[f"b{j + 1}"] if biases else 0.0)
            if j < L - 1:
                h = xp.relu(h) if activation == "relu" else (xp.tanh(h) if activation == "tanh" else h)
        return x + h if residual else h

    def draw(rng: np.random.Generator) -> tuple[Any, np.ndarray, list[np.ndarray]]:
        theta = {}
        for j in range(L):
            theta[f"W{j + 1}"] = rng.standard_normal((widths[j + 1], widths[j])) / np.sqrt(widths[j]) + (0.3 if j else 0.0)
            if biases:
                theta[f"b{j + 1}"] = 0.5 * rng.standard_normal(widths[j + 1])
        n = sum(np.size(v) for v in theta.values())
        X = rng.standard_normal((max(4 * n // widths[-1], 40), widths[0]))
        pre, h = [], X
        for j in range(L - 1):
            z = h @ theta[f"W{j + 1}"].T + (theta[f"b{j + 1}"] if biases else 0.0)
            pre.append(z)
            h = np.maximum(z, 0.0)
        return theta, X, pre

    def build(seed: int) -> tuple[Any, Any, np.ndarray]:
        if activation == "relu":
            theta, X = _relu_point(draw, seed)
        else:
            theta, X, _ = draw(np.random.default_rng(seed))
        return model, theta, X

    return build


def _attention(d: int, dk: int, dv: int, tokens: int, dout: int) -> Callable[[int], tuple[Any, Any, np.ndarray]]:
    """Single-head self-attention ``softmax(X W_Q (X W_K)ᵀ) X W_V W_O`` on ``tokens × d`` inputs."""

    def model(p: Any, X: Any, *, xp: Any) -> Any:
        scores = (X @ p["Q"]) @ (X @ p["K"]).T
        return xp.softmax(scores, axis=-1) @ ((X @ p["V"]) @ p["O"])

    def build(seed: int) -> tuple[Any, Any, np.ndarray]:
        rng = np.random.default_rng(seed)
        theta = {"Q": rng.standard_normal((d, dk)), "K": rng.standard_normal((d, dk)),
                 "V": rng.standard_normal((d, dv)), "O": rng.standard_normal((dv, dout))}
        X = rng.standard_normal((30, tokens, d)) / np.sqrt(d)
        return model, theta, X

    return build


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("relu2", "2-layer ReLU, 3 → 4 → 2, no bias", _mlp((3, 4, 2), "relu", False), 4,
                 "‖u_k‖² − ‖v_k‖² per hidden neuron", "MGP23", True),
    Architecture("linear2", "2-layer linear, 4 → 3 → 4", _mlp((4, 3, 4), "linear", False), 6,
                 "W₁W₁ᵀ − W₂ᵀW₂ (r(r+1)/2 entries)", "MGP23", True),
    Architecture("relu2_bias", "2-layer ReLU with biases, 3 → 4 → 2", _mlp((3, 4, 2), "relu", True), 4,
                 "‖u_k‖² + b_k² − ‖v_k‖² per hidden neuron", "DHL18", False),
    Architecture("relu3", "3-layer ReLU, 4 → 3 → 3 → 2, no bias", _mlp((4, 3, 3, 2), "relu", False), 6,
                 "‖in‖² − ‖out‖² per hidden neuron", "DHL18", False),
    Architecture("linear3", "3-layer linear, 4 → 3 → 3 → 4", _mlp((4, 3, 3, 4), "linear", False), 12,
                 "W_{j+1}ᵀW_{j+1} − W_jW_jᵀ per hidden layer", "ACH18", False),
    Architecture("relu_residual", "ReLU residual block x + V relu(Ux), 3 → 4 → 3",
                 _mlp((3, 4, 3), "relu", False, residual=True), 4, "‖u_k‖² − ‖v_k‖² per hidden neuron", "MPG25", False),
    Architecture("linear_residual", "linear residual block x + VUx, 4 → 2 → 4",
                 _mlp((4, 2, 4), "linear", False, residual=True), 3, "UUᵀ − VᵀV", "MPG25", False),
    Architecture("attention", "single-head self-attention, d = 4, d_k = d_v = 2, 3 tokens",
                 _attention(4, 2, 2, 3, 3), 6, "W_QᵀW_Q − W_KᵀW_K and W_VᵀW_V − W_O W_Oᵀ", "MPG25", False),
    Architecture("tanh2", "2-layer tanh, 3 → 4 → 2", _mlp((3, 4, 2), "tanh", False), 0,
                 "none (no continuous symmetry)", "S92", False),
    Architecture("linear1", "one linear layer, 4 → 3", _mlp((4, 3), "linear", False), 0,
                 "none (W spans every direction)", "MGP23", True),
)
"""The validation set: at least 8 architectures with known counts."""


def architecture(name: str) -> Architecture:
    """The architecture called ``name``."""
    for a in ARCHITECTURES:
        if a.name == name:
            return a
    raise KeyError(f"no architecture {name!r}; available: {', '.join(a.name for a in ARCHITECTURES)}")
