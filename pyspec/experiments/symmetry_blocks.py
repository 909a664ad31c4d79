"""Experiment f: discrete symmetries make the Hessian block-diagonal at fixed points (§6, eqs. 8–9).

For a linear symmetry ``f(Mθ) = f(θ)`` with ``M`` an orthogonal involution, eqs. (8)–(9) at
``θ ∈ Fix = ker(M − I)`` give ``Mᵀ∇L = ∇L`` and ``MᵀHM = H``: in the symmetry-adapted basis
``ker(M − I) ⊕ ker(M + I)`` (eigenvectors of ``M``), ``∇L`` has no ``ker(M + I)`` part and ``H`` is
block-diagonal. Two symmetries:

* permutation of two hidden units of ``W₂ tanh(W₁X)`` (fixed point: the two units are identical);
* mirror ``M = I − 2OOᵀ`` of ``f(θ) = F(θ) + F(Mθ)`` (Corollary 4; fixed point: ``Oᵀθ = 0``).

Each model is trained by gradient descent from a fixed point (it stays there: eq. 8) and the Hessian
is shown there and at a point off the fixed-point set (negative control: the off-diagonal block
is then non-zero).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, TypedDict

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.discrete import corollary4_mirror, discrete_linear_hessian
from pyspec.equivariance import Equivariance
from pyspec.experiments import models
from pyspec.experiments.common import EPS, Outcome, check_row, dense_hessian, fmt, new_figure, save_figure, save_json

NAME = "symmetry_blocks"
TITLE = "f. Hessian in the symmetry-adapted basis ker(M - I) + ker(M + I)"
PAPER = "discrete_linear_gradient, discrete_linear_hessian, corollary4_mirror (§6, eqs. 8-9)"

SAFETY = 64.0
"""Tolerance ``SAFETY · n · eps`` for quantities that vanish at a fixed point, relative to their scale."""

OFFSET = 0.3
"""Size of the step off the fixed-point set (relative to ``‖θ‖/√n``) for the negative control."""


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    hidden: int
    classes: int
    samples: int
    mirror_dim: int
    mirror_rank: int
    eta: float
    steps: int


CONFIGS = {
    "tiny": Config(2, 3, 2, 12, 6, 2, 0.1, 20),
    "default": Config(3, 4, 2, 24, 10, 3, 0.1, 200),
    "large": Config(4, 6, 3, 200, 24, 6, 0.1, 2000),
}


@dataclasses.dataclass(frozen=True)
class Case:
    """A model with its loss on flat ``θ``, the involution ``M`` and a fixed point."""

    label: str
    forward: Callable[[jax.Array], jax.Array]
    output_loss: Callable[[jax.Array], jax.Array]
    M: np.ndarray
    theta: np.ndarray

    def loss(self, theta: jax.Array) -> jax.Array:
        return self.output_loss(self.forward(theta))


def adapted_basis(M: np.ndarray) -> tuple[np.ndarray, int]:
    """Orthonormal eigenvectors of a symmetric orthogonal involution ``M``: ``ker(M − I)`` first, then
    ``ker(M + I)``; and ``dim ker(M − I)``."""
    lam, V = np.linalg.eigh((M + M.T) / 2)
    order = np.argsort(-lam, kind="stable")
    return V[:, order], int(np.sum(lam > 0))


def permutation_case(cfg: Config, rng: np.random.Generator) -> Case:
    """``W₂ tanh(W₁X)`` with hidden units 0 and 1 swapped; the fixed point has them identical."""
    shapes = ((cfg.hidden, cfg.d0), (cfg.classes, cfg.hidden))
    X = jnp.asarray(rng.normal(size=(cfg.d0, cfg.samples)))
    target = jnp.asarray(rng.normal(size=(cfg.classes, cfg.samples))).ravel()
    index = np.arange(models.size(shapes)).reshape(-1)
    W1_idx, W2_idx = index[: cfg.hidden * cfg.d0].reshape(shapes[0]), index[cfg.hidden * cfg.d0 :].reshape(shapes[1])
    W1_idx[[0, 1]] = W1_idx[[1, 0]]
    W2_idx[:, [0, 1]] = W2_idx[:, [1, 0]]
    M = np.eye(index.size)[np.concatenate([W1_idx.ravel(), W2_idx.ravel()])]
    theta = models.init(rng, shapes)

    def forward(t: jax.Array) -> jax.Array:
        W1, W2 = models.split(t, shapes)
        return jnp.ravel(W2 @ jnp.tanh(W1 @ X))

    return Case("permutation of two hidden units", forward, lambda y: models.mean_squared(y, target), M,
                (theta + M @ theta) / 2)


def mirror_case(cfg: Config, rng: np.random.Generator) -> tuple[Case, np.ndarray]:
    """``F(θ) + F(Mθ)`` with ``F = W₂ tanh(W₁θ)``, ``M = I − 2OOᵀ``; the fixed point has ``Oᵀθ = 0``."""
    n, r = cfg.mirror_dim, cfg.mirror_rank
    O = np.linalg.qr(rng.normal(size=(n, r)))[0]
    M = np.eye(n) - 2 * O @ O.T
    W1, W2 = jnp.asarray(rng.normal(size=(2 * n, n)) / np.sqrt(n)), jnp.asarray(rng.normal(size=(3, 2 * n)) / np.sqrt(n))
    target = jnp.asarray(rng.normal(size=3))
    Mj = jnp.asarray(M)

    def forward(t: jax.Array) -> jax.Array:
        return W2 @ jnp.tanh(W1 @ t) + W2 @ jnp.tanh(W1 @ (Mj @ t))

    theta = rng.normal(size=n)
    return Case(f"mirror M = I - 2 O O^T (n = {n}, r = {r})", forward,
                lambda y: models.mean_squared(y, target), M, theta - O @ (O.T @ theta)), O


class Blocks(TypedDict):
    """Result of :func:`analyse`."""

    adapted: np.ndarray
    plus: int
    off_block: float
    gradient_minus: float
    offset: float


def analyse(case: Case, theta: np.ndarray) -> Blocks:
    """``PᵀHP / ‖H‖`` in the adapted basis, off-diagonal block and gradient parts in ``ker(M + I)``."""
    P, plus = adapted_basis(case.M)
    H, grad = (np.asarray(x) for x in jax.jit(lambda t: (dense_hessian(case.loss, t), jax.grad(case.loss)(t)))(
        jnp.asarray(theta)))
    norm_H = np.linalg.norm(H)
    A = P.T @ H @ P / norm_H
    return {"adapted": A, "plus": plus, "off_block": float(np.linalg.norm(A[plus:, :plus])),
            "gradient_minus": float(np.linalg.norm(P[:, plus:].T @ grad) / np.linalg.norm(grad)),
            "offset": float(np.linalg.norm(P[:, plus:].T @ theta) / np.linalg.norm(theta))}


def train(case: Case, cfg: Config) -> tuple[np.ndarray, float]:
    """GD from the fixed point; the end point and ``max_t ‖Π₋θ_t‖/‖θ_t‖`` (distance from Fix)."""
    P, plus = adapted_basis(case.M)
    minus = jnp.asarray(P[:, plus:])

    def step(t: jax.Array, _: None) -> tuple[jax.Array, jax.Array]:
        new = t - cfg.eta * jax.grad(case.loss)(t)
        return new, jnp.linalg.norm(minus.T @ new) / jnp.linalg.norm(new)

    end, offsets = jax.jit(lambda t: jax.lax.scan(step, t, None, length=cfg.steps))(jnp.asarray(case.theta))
    return np.asarray(end), float(jnp.max(offsets))


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment f at ``size`` and write ``symmetry_blocks.png`` / ``symmetry_blocks.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    rng = np.random.default_rng(seed)
    mirror, O = mirror_case(cfg, rng)
    rows, panels = [], []
    for case in (permutation_case(cfg, rng), mirror):
        n = case.theta.size
        tol = SAFETY * n * EPS
        fixed, drift = train(case, cfg)
        P, plus = adapted_basis(case.M)
        off = fixed + OFFSET * np.linalg.norm(fixed) / np.sqrt(n) * (P[:, plus:] @ rng.normal(size=n - plus))
        at_fixed, at_off = analyse(case, fixed), analyse(case, off)
        if case is mirror:
            report = corollary4_mirror(case.forward, case.output_loss, O, fixed)
            theirs = "pyspec.corollary4_mirror"
        else:
            M = jnp.asarray(case.M)
            report = discrete_linear_hessian(Equivariance(model=case.forward, T=lambda a, t: M @ t),
                                             case.output_loss, np.zeros(1), fixed)
            theirs = "pyspec.discrete_linear_hessian"
        key = case.label.split(" (")[0]
        rows += [
            check_row(f"{key}: GD from a fixed point stays in Fix ({cfg.steps} steps): max |Pi_- theta_t| / |theta_t|",
                      "0 (eq. 8)", fmt(drift), f"<= {fmt(tol)}", drift <= tol),
            check_row(f"{key}: gradient part in ker(M + I) at the trained fixed point, relative", "0 (eq. 8)",
                      fmt(at_fixed["gradient_minus"]), f"<= {fmt(tol)}", at_fixed["gradient_minus"] <= tol),
            check_row(f"{key}: off-diagonal block |E_-^T H E_+| / |H| at the fixed point", "0 (eq. 9)",
                      fmt(at_fixed["off_block"]), f"<= {fmt(tol)}", at_fixed["off_block"] <= tol),
            check_row(f"{key}: negative control: the same block off Fix (|Pi_- theta|/|theta| = "
                      f"{at_off['offset']:.2f})", "!= 0", fmt(at_off["off_block"]), f"> {fmt(tol)}",
                      at_off["off_block"] > tol),
            check_row(f"{key}: cross-check {theirs} at the fixed point", "holds",
                      f"worst residual {fmt(max(c.residual for c in report.checks))}", "its own tolerances",
                      report.holds),
        ]
        panels.append({"label": case.label, "fixed": at_fixed, "off": at_off})
    figure = _plot(panels, out)
    data = {"config": dataclasses.asdict(cfg), "panels": panels, "rows": [dataclasses.asdict(r) for r in rows]}
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)


def _plot(panels: list[dict], out: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    fig, axes = new_figure(2, 2, width=4.4, height=4.6, constrained=True)
    image = None
    for row, panel in zip(axes, panels):
        for ax, where, name in ((row[0], "fixed", "at a fixed point"), (row[1], "off", "off the fixed-point set")):
            res = panel[where]
            values = np.log10(np.maximum(np.abs(res["adapted"]), 1e-17))
            image = ax.imshow(values, cmap="magma", vmin=-17, vmax=0, interpolation="nearest")
            edge = res["plus"] - 0.5
            ax.axhline(edge, color="cyan", lw=1.2)
            ax.axvline(edge, color="cyan", lw=1.2)
            label = panel["label"].replace("M = I - 2 O O^T", r"$M = I - 2OO^\top$")
            ax.set_title(f"{label}\n{name}: off-block {res['off_block']:.1e}")
            ax.set_xlabel("basis index: " + r"$\ker(M - I)$" + f" [0, {res['plus']}) | " + r"$\ker(M + I)$")
            ax.set_ylabel("basis index")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(image, ax=axes, shrink=0.95, aspect=35, pad=0.02,
                 label=r"$\log_{10}\,|P^\top H P|\,/\,\Vert H\Vert$  (clipped at $-17$)")
    return save_figure(fig, out / f"{NAME}.png", TITLE, tight=False)
