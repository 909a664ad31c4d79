"""Experiment b: Noether flow under SGD (Corollary 2, §5.2; docs/theory.md#corollary-2-noether-flow).

Per-sample losses ``ℓ_i(θ) = CE(W₃ tanh(W₂W₁x_i), y_i)`` are each invariant under
``(W₁, W₂) ↦ (e^{aB}W₁, W₂e^{−aB})``, i.e. ``e^{aA}θ`` with ``Aθ = (BW₁, −W₂B, 0)``; ``A`` is symmetric
when ``B`` is, and ``Q = ½θᵀAθ = ½ Tr(B(W₁W₁ᵀ − W₂ᵀW₂))``. SGD with learning rate ``η`` and ``b``
samples per batch (drawn with replacement) is run from one start for many independent runs; the
measured mean ``dQ/dt`` (``t = ηk``) is compared with the path average of

    σ² Tr(AΣ) + (η/2) ∇LᵀA∇L,   σ² = η/(2b),

the Corollary 2 term plus the discretization term of docs/theory.md#corollary-2-correction
(:func:`~pyspec.experiments.predictions.noether_drift_rate`), evaluated at the visited points. The
test uses the paired per-run difference (measured − predicted) and its Monte Carlo standard error.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec.experiments import models
from pyspec.experiments.common import Outcome, check_row, fmt, new_figure, pyplot, relative, save_figure, save_json
from pyspec.experiments.estimators import monte_carlo_mean
from pyspec.experiments.predictions import noether_drift_rate
from pyspec.noether import corollary2_noether_flow

NAME = "noether"
TITLE = "b. Noether flow under SGD (Corollary 2)"
PAPER = "corollary2_noether_flow (§5.2)"

Z_MAX = 3.0
"""Largest accepted ``|z|`` of a paired mean difference: two-sided level ≈ 0.3% per batch size (≈ 2% over
six batch sizes, normal approximation)."""

CROSS_CHECK_RTOL = 1e-10
"""``Tr(AΣ)`` here (per-sample gradients by ``vmap``) against ``pyspec.corollary2_noether_flow`` (dense)."""


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    width: int
    hidden: int
    classes: int
    samples: int
    eta: float
    steps: int
    runs: int
    batches: tuple[int, ...]


CONFIGS = {
    "tiny": Config(4, 2, 3, 3, 16, 0.05, 10, 96, (1, 4, 16)),
    "default": Config(6, 3, 4, 3, 32, 0.05, 40, 512, (1, 2, 4, 8, 16, 32)),
    "large": Config(10, 4, 8, 5, 256, 0.05, 100, 8192, (1, 2, 4, 8, 16, 32, 64, 128, 256)),
}


@dataclasses.dataclass(frozen=True)
class Problem:
    """Per-sample losses on flat ``θ``, the generator ``A`` as a linear map, and the start ``θ₀``."""

    shapes: tuple[tuple[int, int], ...]
    sample_losses: Callable[[jax.Array], jax.Array]
    apply_A: Callable[[jax.Array], jax.Array]
    theta0: jax.Array


def build_problem(cfg: Config, rng: np.random.Generator) -> Problem:
    """Random data and labels, a random symmetric ``B`` with ``Tr(AΣ(θ₀)) > 0`` (sign fixed for the plot)."""
    shapes = ((cfg.width, cfg.d0), (cfg.hidden, cfg.width), (cfg.classes, cfg.hidden))
    X = jnp.asarray(rng.normal(size=(cfg.d0, cfg.samples)))
    labels = jnp.asarray(rng.integers(0, cfg.classes, size=cfg.samples))
    S = rng.normal(size=(cfg.width, cfg.width))
    B = jnp.asarray((S + S.T) / np.linalg.norm(S + S.T))
    theta0 = jnp.asarray(models.init(rng, shapes, gain=1.5))

    def sample_losses(theta: jax.Array) -> jax.Array:
        return models.softmax_cross_entropy(models.tanh_reparam(theta, X, shapes), labels)

    def apply_A(theta: jax.Array, B: jax.Array = B) -> jax.Array:
        W1, W2, W3 = models.split(theta, shapes)
        return jnp.concatenate([jnp.ravel(B @ W1), jnp.ravel(-W2 @ B), jnp.zeros(W3.size)])

    problem = Problem(shapes, sample_losses, apply_A, theta0)
    if jax.jit(lambda t: _noise_terms(problem, t)[0])(theta0) < 0:
        problem = dataclasses.replace(problem, apply_A=lambda t: -apply_A(t))
    return problem


def _noise_terms(problem: Problem, theta: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``Tr(AΣ)``, ``∇LᵀA∇L`` and the per-sample gradients ``(N, n)`` at ``θ``."""
    G = jax.jacrev(problem.sample_losses)(theta)
    grad = G.mean(axis=0)
    AG = jax.vmap(problem.apply_A)(G)
    gAg = grad @ problem.apply_A(grad)
    return jnp.mean(jnp.sum(G * AG, axis=1)) - gAg, gAg, G


def sgd_runs(problem: Problem, cfg: Config, batch: jax.Array, key: jax.Array) -> dict[str, jax.Array]:
    """``cfg.runs`` independent SGD runs of ``cfg.steps`` steps with ``batch`` samples per step.

    Returns per run: ``dQ`` (``(runs, steps)`` increments ``Q(θ_{t+1}) − Q(θ_t) = ½ dᵀA(2θ_t + d)``,
    exact for the quadratic ``Q`` and free of cancellation), and the per-step predictions ``sgf`` and
    ``discretization`` (:func:`noether_drift_rate` times ``η``) at the visited ``θ_t``.
    """
    b_max = max(cfg.batches)
    mask = (jnp.arange(b_max) < batch) / batch

    def one_run(key: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        def step(theta: jax.Array, k: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array, jax.Array]]:
            trace, gAg, G = _noise_terms(problem, theta)
            idx = jax.random.randint(k, (b_max,), 0, cfg.samples)
            d = -cfg.eta * (mask @ G[idx])
            sgf, disc = noether_drift_rate(trace, gAg, cfg.eta, batch)
            return theta + d, (d @ problem.apply_A(2 * theta + d) / 2, cfg.eta * sgf, cfg.eta * disc)

        _, out = lax.scan(step, problem.theta0, jax.random.split(key, cfg.steps))
        return out

    dq, sgf, disc = jax.vmap(one_run)(jax.random.split(key, cfg.runs))
    return {"dQ": dq, "sgf": sgf, "discretization": disc}


def cross_check(problem: Problem, cfg: Config) -> tuple[float, bool | None, float]:
    """``pyspec.corollary2_noether_flow`` at ``θ₀``: the relative difference of its ``Tr(AΣ)`` from
    :func:`_noise_terms`, whether it holds (``None``: inconclusive) and its worst residual."""
    n = problem.theta0.size
    A = np.asarray(jax.jacfwd(problem.apply_A)(jnp.zeros(n)))
    report = corollary2_noether_flow(problem.sample_losses, A, np.asarray(problem.theta0), eta=cfg.eta)
    mine = float(jax.jit(lambda t: _noise_terms(problem, t)[0])(problem.theta0))
    worst = max(c.residual for c in report.checks)
    return relative(mine, report.details["trace_A_sigma"]), report.holds, worst


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment b at ``size`` and write ``noether.png`` / ``noether.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    problem = build_problem(cfg, np.random.default_rng(seed))
    runs = jax.jit(lambda b, k: sgd_runs(problem, cfg, b, k))
    horizon = cfg.steps * cfg.eta
    rows, per_batch = [], []
    for i, b in enumerate(cfg.batches):
        res = {k: np.asarray(v) for k, v in runs(jnp.asarray(b), jax.random.PRNGKey(seed * 1000 + i)).items()}
        measured = res["dQ"].sum(axis=1) / horizon
        sgf, disc = res["sgf"].sum(axis=1) / horizon, res["discretization"].sum(axis=1) / horizon
        full = monte_carlo_mean(measured - sgf - disc)
        sgf_only = monte_carlo_mean(measured - sgf)
        flipped = monte_carlo_mean(measured + sgf - disc)
        m = monte_carlo_mean(measured)
        per_batch.append({
            "batch": b, "measured": m.mean, "measured_se": m.stderr, "sgf": float(sgf.mean()),
            "discretization": float(disc.mean()), "z_full": full.z, "z_sgf_only": sgf_only.z, "z_flipped": flipped.z,
            "mean_path": np.cumsum(res["dQ"], axis=1).mean(axis=0),
            "se_path": np.cumsum(res["dQ"], axis=1).std(axis=0, ddof=1) / np.sqrt(cfg.runs),
            "predicted_path": np.cumsum(res["sgf"] + res["discretization"], axis=1).mean(axis=0),
        })
        rows.append(check_row(
            f"b = {b}: mean dQ/dt over {cfg.runs} runs x {cfg.steps} steps",
            f"{fmt(sgf.mean())} + {fmt(disc.mean())} (sigma^2 Tr(A Sigma) + discretization)",
            f"{fmt(m.mean)} +/- {fmt(m.stderr, 2)} (SE); paired z = {full.z:.2f}",
            f"|z| <= {Z_MAX:g}", abs(full.z) <= Z_MAX))
    first, last = per_batch[0], per_batch[-1]
    rows.append(check_row(
        f"negative control, b = {first['batch']}: sign-flipped prediction -sigma^2 Tr(A Sigma) + discretization",
        "rejected", f"z = {first['z_flipped']:.1f}", f"|z| > {Z_MAX:g}", abs(first["z_flipped"]) > Z_MAX))
    share = last["discretization"] / (last["sgf"] + last["discretization"])
    rows.append(check_row(
        f"b = {last['batch']}: Corollary 2 term alone, without the discretization term ({share:.0%} of the rate)",
        "rejected (the drift term matters)", f"z = {last['z_sgf_only']:.1f}", f"|z| > {Z_MAX:g}",
        abs(last["z_sgf_only"]) > Z_MAX))
    rel, holds, worst = cross_check(problem, cfg)
    rows.append(check_row("cross-check pyspec.corollary2_noether_flow at theta_0 (all parts)", "holds",
                          f"worst residual {fmt(worst)}", "its own tolerances", holds))
    rows.append(check_row("Tr(A Sigma) at theta_0: this module vs pyspec.corollary2_noether_flow", "equal",
                          f"relative difference {fmt(rel)}", f"<= {CROSS_CHECK_RTOL:g}", rel <= CROSS_CHECK_RTOL))
    figure = _plot(per_batch, cfg, out)
    data = {"config": dataclasses.asdict(cfg), "per_batch": per_batch, "rows": [dataclasses.asdict(r) for r in rows]}
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)


def _plot(per_batch: list[dict], cfg: Config, out: Path) -> Path:
    fig, axes = new_figure(2)
    ax = axes[0, 0]
    inv = np.array([1 / p["batch"] for p in per_batch])
    ax.errorbar(inv, [p["measured"] for p in per_batch], yerr=[2 * p["measured_se"] for p in per_batch], fmt="o",
                color="k", capsize=3, label=r"measured mean $dQ/dt$ ($\pm$ 2 SE)")
    sgf = np.array([p["sgf"] for p in per_batch])
    disc = np.array([p["discretization"] for p in per_batch])
    order = np.argsort(inv)
    ax.plot(inv[order], sgf[order], "--", color="tab:blue", label=r"Corollary 2: $\sigma^2\,\mathrm{Tr}(A\Sigma)$, $\sigma^2 = \eta/(2b)$")
    ax.plot(inv[order], (sgf + disc)[order], "-", color="tab:red",
            label=r"Corollary 2 + discretization $\frac{\eta}{2}\nabla L^\top A\nabla L$")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel(r"$1/b$ (inverse batch size)")
    ax.set_ylabel(r"$dQ/dt$  ($Q = \theta^\top A\theta/2$, $t = \eta\times$steps)")
    ax.set_title(f"Mean rate over {cfg.runs} runs × {cfg.steps} steps ($\\eta$ = {cfg.eta:g})")
    ax.legend(loc="upper left")
    ax.grid(True, alpha=0.3)
    ax = axes[0, 1]
    t = cfg.eta * np.arange(1, cfg.steps + 1)
    colors = matplotlib_colors(len(per_batch))
    for p, color in zip(per_batch, colors):
        ax.fill_between(t, p["mean_path"] - 2 * p["se_path"], p["mean_path"] + 2 * p["se_path"], color=color, alpha=0.25)
        ax.plot(t, p["mean_path"], "-", color=color, label=f"$b$ = {p['batch']}: measured ($\\pm$ 2 SE)")
        ax.plot(t, p["predicted_path"], "k:", lw=1)
    ax.plot([], [], "k:", label="prediction (path average)")
    top = max(float(np.max(p["mean_path"] + 2 * p["se_path"])) for p in per_batch)
    ax.set_ylim(top=1.45 * top)  # room for the legend above the curves
    ax.set_xlabel(r"time $t = \eta\times$steps")
    ax.set_ylabel(r"mean $Q(\theta_t) - Q(\theta_0)$")
    ax.set_title("Charge drift along SGD")
    ax.legend(loc="upper left", ncol=2)
    ax.grid(True, alpha=0.3)
    return save_figure(fig, out / f"{NAME}.png", TITLE)


def matplotlib_colors(k: int) -> list:
    """``k`` distinct colours from the viridis map."""
    plt = pyplot()
    return [plt.cm.viridis(x) for x in np.linspace(0.0, 0.85, k)]
