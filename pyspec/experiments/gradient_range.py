"""Experiment d: Corollary 1 (§5.1) — the gradient lies in the Hessian's column space.

``f(θ) = mean_i s_i F(x_i; θ)`` with ``F = w relu(U x)`` bias-free is 2-homogeneous with a scalar output
(``m = 1``); with the logistic loss ``ℓ(f) = log(1 + e^{−f})``, Corollary 1 gives ``∇L = c Hθ`` with
``c = ℓ′/κ``, ``κ = (p−1)ℓ′ + p f ℓ″``. In the eigenbasis ``u_i`` of ``H`` (ordered by ``|λ_i|``) the
gradient's share of ``‖∇L‖²`` in the top-``q`` eigenspace is then *predicted* from ``θ`` and ``H`` alone,
``Σ_{i≤q} λ_i²⟨θ,u_i⟩² / Σ_i λ_i²⟨θ,u_i⟩²`` (:func:`~pyspec.experiments.predictions.gradient_coefficients`),
and compared with the *measured* share of ``∇L``, and with the share of random directions. This
network's Hessian has a large kernel (rank ``≤ 2h`` of ``n = h(d₀ + 1)``), so ``∇L ⟂ ker H`` is a
sharp statement: a random direction puts ``≈ dim ker H / n`` of its energy there.
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
    EPS, Outcome, check_row, dense_hessian, fmt, info_row, new_figure, save_figure, save_json,
)
from pyspec.experiments.estimators import cumulative_share
from pyspec.experiments.predictions import gradient_coefficients
from pyspec.homogeneity import corollary1_gradient_in_hessian_range

NAME = "gradient_range"
TITLE = "d. Corollary 1: share of ‖∇L‖² in the top-q Hessian eigenspace"
PAPER = "corollary1_gradient_in_hessian_range (§5.1)"

SAFETY = 64.0
"""Tolerance ``SAFETY · n · eps · |c|‖H‖‖θ‖/‖∇L‖``: rounding of ``Hθ`` relative to the gradient."""

DEGREE = 2


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    width: int
    samples: int
    eta: float
    steps: int
    checkpoints: int
    random_directions: int


CONFIGS = {
    "tiny": Config(4, 5, 16, 0.5, 50, 2, 100),
    "default": Config(6, 10, 64, 0.5, 400, 3, 500),
    "large": Config(20, 50, 1024, 0.5, 4000, 4, 2000),
}


def analyse(theta: np.ndarray, derivatives) -> dict[str, np.ndarray]:
    """Eigen-decomposition of ``H`` (by ``|λ|``, largest first), measured and predicted shares, rank.

    ``derivatives(θ) -> (∇L, H)`` (compiled once per run).
    """
    grad, H = (np.asarray(x) for x in derivatives(jnp.asarray(theta)))
    lam, U = np.linalg.eigh(H)
    order = np.argsort(-np.abs(lam))
    lam, U = lam[order], U[:, order]
    predicted = gradient_coefficients(lam, U, theta)
    norm_H = float(np.abs(lam[0]))
    rank = int(np.sum(np.abs(lam) > SAFETY * theta.size * EPS * norm_H))
    return {"grad": grad, "lam": lam, "U": U, "rank": rank, "norm_H": norm_H,
            "measured": cumulative_share(grad, U), "predicted": cumulative_share(U @ predicted, U),
            "energy_measured": (U.T @ grad) ** 2 / (grad @ grad),
            "energy_predicted": predicted**2 / (predicted @ predicted)}


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment d at ``size`` and write ``gradient_range.png`` / ``gradient_range.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    rng = np.random.default_rng(seed)
    shapes = ((cfg.width, cfg.d0), (1, cfg.width))
    X_host = rng.normal(size=(cfg.d0, cfg.samples))
    s = jnp.asarray(np.sign(rng.normal(size=cfg.d0) @ X_host))
    X = jnp.asarray(X_host)
    theta = jnp.asarray(models.init(rng, shapes))

    def model(t: jax.Array) -> jax.Array:
        return jnp.mean(s * models.relu_two_layer(t, X, shapes)[0])[None]

    def output_loss(y: jax.Array) -> jax.Array:
        return jax.nn.softplus(-y[0])

    def loss(t: jax.Array) -> jax.Array:
        return output_loss(model(t))

    derivatives = jax.jit(lambda t: (jax.grad(loss)(t), dense_hessian(loss, t)))
    train = jax.jit(lambda th, k: jax.lax.fori_loop(0, k, lambda _, t: t - cfg.eta * jax.grad(loss)(t), th))
    marks = np.linspace(0, cfg.steps, cfg.checkpoints).astype(int)
    n = theta.size
    probes = rng.normal(size=(n, cfg.random_directions))
    rows, records, done = [], [], 0
    for mark in marks:
        theta, done = train(theta, int(mark - done)), int(mark)
        th = np.asarray(theta)
        a = analyse(th, derivatives)
        report = corollary1_gradient_in_hessian_range(model, output_loss, th, DEGREE)
        c = report.details["c"]
        tol = SAFETY * n * EPS * abs(c) * a["norm_H"] * np.linalg.norm(th) / np.linalg.norm(a["grad"])
        random = cumulative_share(probes, a["U"])
        deviation = float(np.max(np.abs(a["measured"] - a["predicted"])))
        kernel_share = 1.0 - float(a["measured"][a["rank"] - 1])
        random_kernel = 1.0 - random[a["rank"] - 1]
        rows += [
            check_row(f"step {mark}: share curve of grad L vs prediction from c H theta (all q = 1..{n})",
                      "equal", f"max |difference| {fmt(deviation)}", f"<= {fmt(tol)}", deviation <= tol),
            check_row(f"step {mark}: share of |grad L|^2 in ker H (dim {n - a['rank']} of {n})",
                      "0", fmt(max(kernel_share, 0.0)), f"<= {fmt(tol)}", kernel_share <= tol),
            check_row(f"step {mark}: negative control: random directions' share in ker H",
                      f"~ {(n - a['rank']) / n:.3f} = dim ker / n",
                      f"mean {random_kernel.mean():.3f}, min {random_kernel.min():.3f}", f"min > {fmt(tol)}",
                      random_kernel.min() > tol),
            check_row(f"step {mark}: cross-check pyspec.corollary1_gradient_in_hessian_range", "holds",
                      f"kappa = {fmt(report.details['kappa'])}, c = {fmt(c)}", "its own tolerances", report.holds),
        ]
        records.append({"step": mark, "rank": a["rank"], "kappa": report.details["kappa"], "c": c,
                        "measured": a["measured"], "predicted": a["predicted"], "eigenvalues": a["lam"],
                        "energy_measured": a["energy_measured"], "energy_predicted": a["energy_predicted"],
                        "random_mean": random.mean(axis=1), "random_q01": np.quantile(random, 0.01, axis=1),
                        "random_q99": np.quantile(random, 0.99, axis=1)})
    q = 3
    last = records[-1]
    rows.append(info_row(f"last step: share of |grad L|^2 in the top-{q} eigenspace (random: mean)",
                         f"{last['measured'][q - 1]:.4f} (random {last['random_mean'][q - 1]:.4f})",
                         f"{last['predicted'][q - 1]:.4f}"))
    figure = _plot(records, n, out)
    data = {"config": dataclasses.asdict(cfg), "n": n, "checkpoints": records,
            "rows": [dataclasses.asdict(r) for r in rows]}
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)


def _plot(records: list[dict], n: int, out: Path) -> Path:
    fig, axes = new_figure(2)
    q = np.arange(1, n + 1)
    floor = 1e-17
    ax = axes[0, 0]
    last = records[-1]
    ax.fill_between(q, np.maximum(1 - last["random_q99"], floor), np.maximum(1 - last["random_q01"], floor),
                    color="0.85", label="random directions (1-99% band)")
    ax.plot(q, np.maximum(1 - last["random_mean"], floor), "-", color="0.45", label="random directions (mean)")
    for rec, color in ((records[0], "tab:red"), (last, "tab:purple")):
        ax.semilogy(q, np.maximum(1 - rec["predicted"], floor), "-", color=color, lw=2,
                    label=f"step {rec['step']}: predicted from " + r"$cH\theta$")
        ax.semilogy(q, np.maximum(1 - rec["measured"], floor), "o", color=color, mfc="none", ms=4,
                    label=f"step {rec['step']}: measured " + r"$\nabla L$")
    ax.axvline(last["rank"], color="tab:blue", ls="--", lw=1, label=f"rank $H$ = {last['rank']}")
    ax.set_ylim(floor / 3, 3)
    ax.set_xlabel(r"$q$ (eigenvectors of $H$ ordered by $|\lambda|$, largest first)")
    ax.set_ylabel(r"$1 -$ share of $\Vert v\Vert^2$ in the top-$q$ eigenspace")
    ax.set_title(f"Energy outside the top-q eigenspace (n = {n}; < {floor:g} drawn at {floor:g})")
    ax.legend(loc="center right")
    ax.grid(True, alpha=0.3)
    ax = axes[0, 1]
    floor = 1e-33
    for rec, marker in zip(records, "os^D"):
        ax.loglog(np.maximum(rec["energy_predicted"], floor), np.maximum(rec["energy_measured"], floor), marker,
                  mfc="none", ms=5, label=f"step {rec['step']} ($\\kappa$ = {rec['kappa']:.2g})")
    ax.plot([floor, 1], [floor, 1], "k--", lw=1, label="measured = predicted")
    ax.set_xlabel(r"predicted share of $u_i$: $\lambda_i^2\langle\theta, u_i\rangle^2 / \sum_j \lambda_j^2\langle\theta, u_j\rangle^2$")
    ax.set_ylabel(r"measured share $\langle\nabla L, u_i\rangle^2 / \Vert\nabla L\Vert^2$")
    ax.set_title(f"Per eigendirection (values below {floor:g} drawn at {floor:g})")
    ax.legend(loc="upper left")
    ax.grid(True, alpha=0.3)
    return save_figure(fig, out / f"{NAME}.png", TITLE)
