"""Experiment g: Corollary 3 (§5.3, eq. 7) — curvature along last-layer directions.

``f(W, V) = W tanh(V X)`` with the mean softmax cross-entropy over ``N`` samples. For any
``B ∈ ℝ^{m×m}`` the direction ``v = (BW, 0)`` has curvature

    vᵀHv = mean_n Var_{j∼p_n}[(B y_n)_j]   (:func:`~pyspec.experiments.predictions.softmax_variance_curvature`),

``y_n`` the logits of sample ``n`` and ``p_n = softmax(y_n)``. Measured by Hessian-vector products
at checkpoints of gradient descent and for random ``B``. Negative control: a direction with a
feature component, ``(BW, δV)``, whose curvature the formula does not give.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.equivariance import Equivariance
from pyspec.experiments import models
from pyspec.experiments.common import EPS, Outcome, check_row, fmt, hvp, new_figure, save_figure, save_json
from pyspec.experiments.predictions import softmax_variance_curvature
from pyspec.last_layer import corollary3_last_layer

NAME = "last_layer"
TITLE = "g. Corollary 3: curvature along (BW, 0) vs softmax variance"
PAPER = "corollary3_last_layer (§5.3, eq. 7)"

SAFETY = 64.0
"""Tolerance ``SAFETY · (n + mN) · eps`` on the relative difference (the :mod:`pyspec.checks` convention)."""


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    features: int
    classes: int
    samples: int
    eta: float
    steps: int
    checkpoints: int
    directions: int


CONFIGS = {
    "tiny": Config(3, 4, 3, 12, 0.5, 50, 3, 8),
    "default": Config(5, 8, 4, 48, 0.5, 1000, 6, 40),
    "large": Config(20, 64, 10, 1000, 0.5, 10000, 10, 200),
}


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment g at ``size`` and write ``last_layer.png`` / ``last_layer.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    rng = np.random.default_rng(seed)
    m, d = cfg.classes, cfg.features
    shapes = ((m, d), (d, cfg.d0))  # W, then V
    X = jnp.asarray(rng.normal(size=(cfg.d0, cfg.samples)))
    labels = jnp.asarray(rng.integers(0, m, size=cfg.samples))

    def logits(theta: jax.Array) -> jax.Array:
        W, V = models.split(theta, shapes)
        return W @ jnp.tanh(V @ X)

    def output_loss(y: jax.Array) -> jax.Array:
        return jnp.mean(models.softmax_cross_entropy(jnp.reshape(y, (m, cfg.samples)), labels))

    def loss(theta: jax.Array) -> jax.Array:
        return output_loss(jnp.ravel(logits(theta)))

    @jax.jit
    def probe(theta: jax.Array, Bs: jax.Array, feature_dirs: jax.Array) -> dict[str, jax.Array]:
        W = models.split(theta, shapes)[0]

        def one(B: jax.Array, dV: jax.Array) -> tuple[jax.Array, ...]:
            v = jnp.concatenate([jnp.ravel(B @ W), jnp.zeros(d * cfg.d0)])
            control = v + jnp.concatenate([jnp.zeros(m * d), jnp.ravel(dV)])
            return (v @ hvp(loss, theta, v), softmax_variance_curvature(logits(theta), B),
                    control @ hvp(loss, theta, control))

        measured, predicted, control = jax.vmap(one)(Bs, feature_dirs)
        return {"measured": measured, "predicted": predicted, "control": control, "loss": loss(theta)}

    step = jax.jit(lambda th, k: jax.lax.fori_loop(0, k, lambda _, t: t - cfg.eta * jax.grad(loss)(t), th))
    theta = jnp.asarray(models.init(rng, shapes))
    n = theta.size
    marks = np.unique(np.concatenate([[0], np.geomspace(1, cfg.steps, cfg.checkpoints - 1).astype(int)]))
    Bs = jnp.asarray(rng.normal(size=(cfg.directions, m, m)) / np.sqrt(m))
    feature_dirs = jnp.asarray(rng.normal(size=(cfg.directions, d, cfg.d0)) / np.sqrt(d * cfg.d0))
    records, done = [], 0
    for mark in marks:
        theta, done = step(theta, int(mark - done)), int(mark)
        records.append({k: np.asarray(v) for k, v in probe(theta, Bs, feature_dirs).items()})
    measured = np.stack([r["measured"] for r in records])
    predicted = np.stack([r["predicted"] for r in records])
    control = np.stack([r["control"] for r in records])
    tol = SAFETY * (n + m * cfg.samples) * EPS
    rel = np.abs(measured - predicted) / np.maximum(np.abs(measured), np.abs(predicted))
    rel_control = np.abs(control - predicted) / np.maximum(np.abs(control), np.abs(predicted))
    report = corollary3_last_layer(
        Equivariance(model=lambda t: jnp.ravel(logits(t)),
                     T=lambda a, t: jnp.concatenate([jnp.ravel(jnp.reshape(a, (m, m)) @ models.split(t, shapes)[0]),
                                                     t[m * d:]]),
                     S=lambda a, y: jnp.ravel(jnp.reshape(a, (m, m)) @ jnp.reshape(y, (m, cfg.samples)))),
        output_loss, np.eye(m).ravel(), np.asarray(theta), softmax_classes=m)
    rows = [
        check_row(f"(BW,0)^T H (BW,0) (HVP) vs mean_n Var_p[(B y_n)_j]: {cfg.directions} random B x "
                  f"{len(marks)} checkpoints", "equal", f"max relative difference {fmt(rel.max())}",
                  f"<= {fmt(tol)} (64 (n + mN) eps)", rel.max() <= tol),
        check_row("negative control: direction (BW, dV) with a feature component", "formula fails",
                  f"min relative difference {fmt(rel_control.min())}", f"> {fmt(tol)}", rel_control.min() > tol),
        check_row("cross-check pyspec.corollary3_last_layer at the last checkpoint (quadratic, softmax_variance)",
                  "holds", f"worst residual {fmt(max(c.residual for c in report.checks))}", "its own tolerances",
                  report.holds),
    ]
    figure = _plot(marks, measured, predicted, control, np.array([r["loss"] for r in records]), out)
    data = {"config": dataclasses.asdict(cfg), "steps": marks, "measured": measured, "predicted": predicted,
            "control": control, "rows": [dataclasses.asdict(r) for r in rows]}
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)


def _plot(marks: np.ndarray, measured: np.ndarray, predicted: np.ndarray, control: np.ndarray, losses: np.ndarray,
          out: Path) -> Path:
    fig, axes = new_figure(2)
    ax = axes[0, 0]
    ax.loglog(predicted.ravel(), measured.ravel(), "o", color="k", mfc="none", ms=4,
              label=r"direction $(BW, 0)$: Corollary 3")
    ax.loglog(predicted.ravel(), np.abs(control.ravel()), "x", color="tab:red", ms=4,
              label=r"negative control $(BW, \delta V)$: |curvature|")
    lo, hi = predicted.min() / 2, max(predicted.max(), np.abs(control).max()) * 2
    ax.plot([lo, hi], [lo, hi], "--", color="0.4", lw=1, label="measured = predicted")
    ax.set_xlabel(r"predicted: $\mathrm{mean}_n\,\mathrm{Var}_{j\sim p_n}[(By_n)_j]$")
    ax.set_ylabel(r"measured curvature $v^\top Hv$ (HVP)")
    ax.set_title(r"All random $B$ at all checkpoints")
    ax.legend(loc="upper left")
    ax.grid(True, alpha=0.3)
    ax = axes[0, 1]
    x = marks + 1
    for j, color in zip(range(min(3, measured.shape[1])), ("tab:blue", "tab:orange", "tab:green")):
        ax.loglog(x, predicted[:, j], "-", color=color)
        ax.loglog(x, measured[:, j], "o", color=color, mfc="none")
    ax.plot([], [], "-", color="0.3", label="predicted (softmax variance)")
    ax.plot([], [], "o", color="0.3", mfc="none", label="measured (HVP)")
    ax.set_xlabel("GD step + 1")
    ax.set_ylabel(r"curvature along $(BW, 0)$")
    ax.set_title(r"Over training: three random $B$ (blue, orange, green)")
    ax.grid(True, alpha=0.3)
    # The loss has its own scale: a second axis, so neither quantity is read off the other's ticks.
    twin = ax.twinx()
    twin.loglog(x, losses, "--", color="0.35", lw=1.2, label="training loss (right axis)")
    twin.set_ylabel("training loss", color="0.35")
    twin.tick_params(axis="y", colors="0.35")
    handles, labels = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    twin.legend(handles + extra[0], labels + extra[1], loc="upper left")  # on top of both axes' lines
    return save_figure(fig, out / f"{NAME}.png", TITLE)
