"""Experiment c: the sharpness lower bound of §5.1 along training of a homogeneous network.

A bias-free ReLU MLP of depth ``p`` is ``p``-homogeneous; with margins ``y_i = s_i F(x_i; θ)`` and the
exponential loss ``ℓ(y) = mean_i e^{−y_i}``, eq. (4) gives

    λ_max(H) ≥ θᵀHθ/‖θ‖² = (p² yᵀKy + p(p−1)⟨g, y⟩)/‖θ‖²   (:func:`~pyspec.experiments.predictions.sharpness_bound`).

Along gradient descent, at log-spaced checkpoints: ``λ_max`` by Lanczos on Hessian-vector products
(:func:`pyspec.linalg.lanczos_max_eigenvalue`; its Ritz value is a certified lower bound on
``λ_max``), a dense ``eigvalsh`` for comparison, the Rayleigh quotient from one HVP, and the formula.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.experiments import models
from pyspec.experiments.common import (
    EPS, Outcome, check_row, dense_hessian, fmt, hvp, info_row, new_figure, relative, save_figure, save_json,
)
from pyspec.experiments.predictions import sharpness_bound
from pyspec.homogeneity import sharpness_lower_bound
from pyspec.linalg import lanczos_max_eigenvalue

NAME = "sharpness"
TITLE = "c. Sharpness lower bound along training (homogeneous ReLU net, exponential loss)"
PAPER = "sharpness_lower_bound, homogeneity_hessian_quadratic (§5.1, eq. 4)"

SAFETY = 64.0
"""Rounding tolerance ``SAFETY · (n + N) · eps`` for the Rayleigh quotient against the formula
(the convention of :mod:`pyspec.checks`)."""

LANCZOS_RTOL = 1e-8
"""Lanczos Ritz value against the dense ``λ_max`` (Lanczos stops at Ritz residual ``1e-10 |θ|``)."""


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    width: int
    depth: int
    samples: int
    eta: float
    steps: int
    checkpoints: int


CONFIGS = {
    "tiny": Config(3, 6, 3, 24, 0.2, 200, 6),
    "default": Config(5, 12, 3, 64, 0.2, 3000, 14),
    "large": Config(10, 40, 4, 512, 0.2, 20000, 24),
}


def build(cfg: Config, rng: np.random.Generator) -> tuple[tuple[tuple[int, int], ...], jax.Array, jax.Array, np.ndarray]:
    """Layout, inputs ``X``, labels ``s`` of a linear teacher, and a random start."""
    shapes = ((cfg.width, cfg.d0),) + ((cfg.width, cfg.width),) * (cfg.depth - 2) + ((1, cfg.width),)
    X = rng.normal(size=(cfg.d0, cfg.samples))
    s = np.sign(rng.normal(size=cfg.d0) @ X)
    return shapes, jnp.asarray(X), jnp.asarray(s), models.init(rng, shapes, gain=np.sqrt(2.0))


def measure(theta: jax.Array, margins, loss, degree: int, key: jax.Array) -> dict[str, jax.Array]:
    """At one point: the formula, the Rayleigh quotient, ``λ_max`` by Lanczos and densely, the terms."""
    y = margins(theta)
    weights = jnp.exp(-y) / y.size  # mean exponential loss: g = −weights, K = diag(weights)
    sq = theta @ theta
    bound = sharpness_bound(degree, y, -weights, weights, sq)
    terms = jnp.abs(jnp.stack([degree**2 * jnp.sum(weights * y * y), degree * (degree - 1) * (weights @ y)])) / sq
    op = lambda v: hvp(loss, theta, v)  # noqa: E731
    lanczos = lanczos_max_eigenvalue(op, theta.size, num_iter=theta.size, key=key)
    return {
        "bound": bound,
        "rayleigh": theta @ op(theta) / sq,
        "term_scale": jnp.sum(terms),
        "lambda_lanczos": lanczos.eigenvalue,
        "lanczos_converged": lanczos.converged,
        "lambda_dense": jnp.linalg.eigvalsh(dense_hessian(loss, theta))[-1],
        "loss": loss(theta),
        "norm": jnp.sqrt(sq),
        "min_margin": jnp.min(y),
    }


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment c at ``size`` and write ``sharpness.png`` / ``sharpness.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    shapes, X, s, theta0 = build(cfg, np.random.default_rng(seed))
    degree = cfg.depth

    def margins(theta: jax.Array) -> jax.Array:
        return s * models.relu_mlp(theta, X, shapes)[0]

    def output_loss(y: jax.Array) -> jax.Array:
        return jnp.mean(jnp.exp(-y))

    def loss(theta: jax.Array) -> jax.Array:
        return output_loss(margins(theta))

    marks = np.unique(np.concatenate([[0], np.geomspace(1, cfg.steps, cfg.checkpoints - 1).astype(int)]))
    train = jax.jit(lambda th, k: jax.lax.fori_loop(0, k, lambda _, t: t - cfg.eta * jax.grad(loss)(t), th))
    probe = jax.jit(lambda th: measure(th, margins, loss, degree, jax.random.PRNGKey(seed)))
    theta, done, records = jnp.asarray(theta0), 0, []
    for mark in marks:
        theta, done = train(theta, int(mark - done)), int(mark)
        records.append({k: float(v) for k, v in probe(theta).items()})
    series = {k: np.array([r[k] for r in records]) for k in records[0]}
    n = theta0.size
    tol = SAFETY * (n + cfg.samples) * EPS
    rq = np.abs(series["rayleigh"] - series["bound"]) / np.maximum.reduce(
        [np.abs(series["rayleigh"]), np.abs(series["bound"]), series["term_scale"]])
    gap = (series["lambda_lanczos"] - series["bound"]) / np.abs(series["lambda_dense"])
    lanczos_dense = np.abs(series["lambda_lanczos"] - series["lambda_dense"]) / np.abs(series["lambda_dense"])
    report = sharpness_lower_bound(lambda t: margins(t), output_loss, np.asarray(theta), degree)
    rows = [
        check_row(f"Rayleigh quotient theta^T H theta/|theta|^2 (HVP) = formula (eq. 4), {len(marks)} checkpoints",
                  "equal", f"max relative difference {fmt(rq.max())}", f"<= {fmt(tol)} (64 (n+N) eps)",
                  rq.max() <= tol),
        check_row("lambda_max (Lanczos Ritz value, a certified lower bound) >= sharpness bound, all checkpoints",
                  "(lambda_max - bound)/lambda_max >= 0", f"min {fmt(gap.min())}", f">= -{fmt(tol)}",
                  gap.min() >= -tol),
        check_row("Lanczos lambda_max vs dense eigvalsh, all checkpoints", "equal",
                  f"max relative difference {fmt(lanczos_dense.max())}", f"<= {LANCZOS_RTOL:g}",
                  lanczos_dense.max() <= LANCZOS_RTOL),
        check_row("cross-check pyspec.sharpness_lower_bound at the last checkpoint (rayleigh, bound)", "holds",
                  f"bound {fmt(report.details['bound'])} (here {fmt(series['bound'][-1])})", "its own tolerances",
                  report.holds and relative(report.details["bound"], series["bound"][-1]) <= tol),
        info_row("bound / lambda_max at the first and last checkpoint",
                 f"{series['bound'][0] / series['lambda_dense'][0]:.3f} -> "
                 f"{series['bound'][-1] / series['lambda_dense'][-1]:.3f}"),
        info_row("|theta| (norm growth, §4.2) and loss, first -> last checkpoint",
                 f"{fmt(series['norm'][0])} -> {fmt(series['norm'][-1])}; loss {fmt(series['loss'][0])} -> "
                 f"{fmt(series['loss'][-1])}"),
    ]
    figure = _plot(marks, series, cfg, out)
    data = {"config": dataclasses.asdict(cfg), "degree": degree, "steps": marks, "series": series,
            "rows": [dataclasses.asdict(r) for r in rows]}
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)


def _plot(marks: np.ndarray, series: dict[str, np.ndarray], cfg: Config, out: Path) -> Path:
    fig, axes = new_figure(2)
    x = marks + 1
    ax = axes[0, 0]
    ax.plot(x, series["lambda_dense"], "-", color="k", lw=2, label=r"$\lambda_{\max}(H)$ (dense eigvalsh)")
    ax.plot(x, series["lambda_lanczos"], "o", color="tab:orange", mfc="none", label=r"$\lambda_{\max}$ by Lanczos (HVPs)")
    ax.plot(x, series["bound"], "-", color="tab:blue", label=r"bound $(p^2 y^\top Ky + p(p-1)\langle g, y\rangle)/\Vert\theta\Vert^2$")
    ax.plot(x, series["rayleigh"], "x", color="tab:blue", label=r"Rayleigh quotient $\theta^\top H\theta/\Vert\theta\Vert^2$")
    ax.set_xscale("log")
    positive = bool(np.all(series["bound"] > 0))
    if positive:
        ax.set_yscale("log")
        ax.set_ylim(bottom=float(series["bound"].min()) / 100)  # room for the legend below the curves
    else:
        ax.set_yscale("symlog", linthresh=float(np.min(np.abs(series["bound"]))))
    ax.set_xlabel("GD step + 1")
    ax.set_ylabel("curvature" + ("" if positive else " (symlog scale)"))
    ax.set_title(f"Depth-{cfg.depth} ReLU net ($p$ = {cfg.depth}), $\\eta$ = {cfg.eta:g}")
    ax.legend(loc="lower left")
    ax.grid(True, alpha=0.3)
    ax = axes[0, 1]
    ax.plot(x, series["bound"] / series["lambda_dense"], "o-", color="tab:blue", label=r"bound / $\lambda_{\max}$")
    ax.axhline(1.0, color="k", ls="--", lw=1, label=r"bound = $\lambda_{\max}$")
    ax.set_xscale("log")
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("GD step + 1")
    ax.set_ylabel(r"bound / $\lambda_{\max}$  ($\leq 1$ predicted)")
    ax.set_title(r"Tightness of the bound; $\Vert\theta\Vert$ on the right axis")
    ax.grid(True, alpha=0.3)
    twin = ax.twinx()
    twin.plot(x, series["norm"], "s--", color="tab:green", ms=3, label=r"$\Vert\theta\Vert$ (right axis)")
    twin.set_ylabel(r"parameter norm $\Vert\theta\Vert$")
    lines = ax.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    twin.legend(lines[0] + extra[0], lines[1] + extra[1], loc="center right")  # on top of both axes' lines
    return save_figure(fig, out / f"{NAME}.png", TITLE)
