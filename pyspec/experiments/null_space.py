"""Experiment e: symmetry directions span Hessian zero eigenvalues at stationary points (§5.4).

Two models trained to a stationary point of a realizable regression (a teacher of the same
architecture; Levenberg–Marquardt from a perturbed teacher drives ``∇L`` to rounding level):

* rescaling ``W relu(U X)``: ``v = ∂_a T`` has one column per hidden neuron, ``(u_j, −w_j)``;
* GL(d) reparameterization ``W₃ tanh(W₂W₁X)``: ``v[E] = (EW₁, −W₂E, 0)``, ``d²`` columns.

Prediction: ``H(θ*) v = 0``, hence ``dim ker H(θ*) ≥ rank v``
(:func:`~pyspec.experiments.predictions.symmetry_kernel_lower_bound`). The data (``N·c ≥ n``) leave
no other flat directions, so the count is expected to be exactly ``rank v``. Negative control: at the
random start (``∇L ≠ 0``) ``Hv = −(∂_θv)*∇L ≠ 0``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, TypedDict

import jax
import jax.numpy as jnp
import numpy as np

from pyspec.conservation import reparam_symmetry, rescaling_symmetry
from pyspec.equivariance import Equivariance
from pyspec.errors import PyspecError
from pyspec.experiments import models
from pyspec.experiments.common import EPS, Outcome, check_row, dense_hessian, fmt, info_row, new_figure, save_figure, save_json
from pyspec.experiments.predictions import symmetry_kernel_lower_bound
from pyspec.stationary import symmetry_hessian_null_space

NAME = "null_space"
TITLE = "e. Hessian zero eigenvalues at a stationary point vs symmetry count (§5.4)"
PAPER = "symmetry_hessian_null_space (§5.4)"

SAFETY = 64.0
"""Zero-eigenvalue threshold ``SAFETY · (n + m) · eps · ‖H‖`` (the :mod:`pyspec.checks` convention)."""

PERTURBATION = 0.1
"""Relative size of the perturbation of the teacher at which training starts."""


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    neurons: int
    width: int
    hidden: int
    classes: int
    samples: int
    iterations: int


CONFIGS = {
    "tiny": Config(3, 3, 2, 3, 2, 24, 100),
    "default": Config(4, 6, 2, 4, 2, 48, 100),
    "large": Config(10, 16, 6, 16, 4, 200, 100),
}


@dataclasses.dataclass(frozen=True)
class Setting:
    """A model on flat ``θ`` with its residual map, symmetry directions, and the pyspec symmetry."""

    label: str
    shapes: tuple[tuple[int, int], ...]
    forward: Callable[[jax.Array], jax.Array]
    target: jax.Array
    directions: Callable[[jax.Array], jax.Array]
    symmetry: Callable[[Callable[..., jax.Array], models.Shapes, tuple[int, int]], Equivariance]
    identity: np.ndarray
    teacher: np.ndarray


def _rescaling_directions(shapes: models.Shapes) -> Callable[[jax.Array], jax.Array]:
    def T(a: jax.Array, theta: jax.Array) -> jax.Array:
        U, W = models.split(theta, shapes)
        return jnp.concatenate([jnp.ravel(a[:, None] * U), jnp.ravel(W / a[None, :])])

    return lambda theta: jax.jacfwd(lambda a: T(a, theta))(jnp.ones(shapes[0][0]))


def _reparam_directions(shapes: models.Shapes) -> Callable[[jax.Array], jax.Array]:
    d = shapes[0][0]

    def T(a: jax.Array, theta: jax.Array) -> jax.Array:
        W1, W2, W3 = models.split(theta, shapes)
        A = jnp.reshape(a, (d, d))
        return jnp.concatenate([jnp.ravel(A @ W1), jnp.ravel(W2 @ jnp.linalg.inv(A)), jnp.ravel(W3)])

    return lambda theta: jax.jacfwd(lambda a: T(a, theta))(jnp.ravel(jnp.eye(d)))


def settings(cfg: Config, rng: np.random.Generator) -> list[Setting]:
    """The two models with their teachers."""
    X = jnp.asarray(rng.normal(size=(cfg.d0, cfg.samples)))
    out = []
    for label, fwd, shapes, directions, symmetry, identity in (
        ("rescaling: W relu(UX)", models.relu_two_layer, ((cfg.neurons, cfg.d0), (cfg.classes, cfg.neurons)),
         _rescaling_directions, rescaling_symmetry, np.ones(cfg.neurons)),
        ("GL(d): W3 tanh(W2 W1 X)", models.tanh_reparam,
         ((cfg.width, cfg.d0), (cfg.hidden, cfg.width), (cfg.classes, cfg.hidden)), _reparam_directions,
         reparam_symmetry, np.eye(cfg.width)),
    ):
        teacher = models.init(rng, shapes, gain=1.0)

        def forward(theta: jax.Array, fwd=fwd, shapes=shapes) -> jax.Array:
            return jnp.ravel(fwd(theta, X, shapes))

        out.append(Setting(label, shapes, forward, forward(jnp.asarray(teacher)), directions(shapes), symmetry,
                           identity, teacher))
    return out


def levenberg_marquardt(residual: Callable[[jax.Array], jax.Array], theta: np.ndarray, iterations: int) -> np.ndarray:
    """Minimise ``½‖r(θ)‖²`` by Levenberg–Marquardt with the usual damping update (dense, small ``n``)."""
    r_and_j = jax.jit(lambda t: (residual(t), jax.jacfwd(residual)(t)))
    mu = 1e-3
    r, J = (np.asarray(x) for x in r_and_j(jnp.asarray(theta)))
    for _ in range(iterations):
        # the damped Gauss-Newton step as a least-squares problem (stable when JᵀJ is singular)
        augmented = np.vstack([J, np.sqrt(mu) * np.eye(theta.size)])
        step = np.linalg.lstsq(augmented, np.concatenate([-r, np.zeros(theta.size)]), rcond=None)[0]
        r_new, J_new = (np.asarray(x) for x in r_and_j(jnp.asarray(theta + step)))
        if r_new @ r_new < r @ r:
            theta, r, J, mu = theta + step, r_new, J_new, max(mu / 3, 1e-12)
        else:
            mu *= 4
    return theta


def derivatives(setting: Setting) -> Callable[[jax.Array], tuple[jax.Array, ...]]:
    """Compiled ``θ ↦ (H, v, ∇L, L)`` for the setting's squared loss."""
    def loss(t: jax.Array) -> jax.Array:
        return models.mean_squared(setting.forward(t), setting.target)

    return jax.jit(lambda t: (dense_hessian(loss, t), setting.directions(t), jax.grad(loss)(t), loss(t)))


class Spectrum(TypedDict):
    """Result of :func:`spectrum`."""

    magnitudes: np.ndarray
    zeros: int
    rank_v: int
    threshold: float
    Hv: float
    grad_norm: float
    loss: float
    gap: float


class _Result(TypedDict):
    label: str
    start: Spectrum
    trained: Spectrum


def spectrum(setting: Setting, theta: np.ndarray, compute: Callable[[jax.Array], tuple[jax.Array, ...]]) -> Spectrum:
    """``|λ_i(H)|/‖H‖`` ascending, the zero count, ``rank v``, ``‖Hv‖/(‖H‖‖v‖)`` and ``‖∇L‖``
    (``compute`` from :func:`derivatives`)."""
    H, v, grad, value = (np.asarray(x) for x in compute(jnp.asarray(theta)))
    magnitudes = np.sort(np.abs(np.linalg.eigvalsh(H)))
    norm_H = magnitudes[-1]
    threshold = SAFETY * (theta.size + setting.target.size) * EPS
    zeros = int(np.sum(magnitudes <= threshold * norm_H))
    return {"magnitudes": magnitudes / norm_H, "zeros": zeros, "rank_v": symmetry_kernel_lower_bound(v),
            "threshold": threshold, "Hv": float(np.linalg.norm(H @ v) / (norm_H * np.linalg.norm(v))),
            "grad_norm": float(np.linalg.norm(grad)), "loss": float(value),
            "gap": float(magnitudes[zeros] / norm_H) if zeros < magnitudes.size else 0.0}


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment e at ``size`` and write ``null_space.png`` / ``null_space.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    rng = np.random.default_rng(seed)
    rows = []
    results: list[_Result] = []
    for setting in settings(cfg, rng):
        key = setting.label.split(":")[0]
        theta0 = setting.teacher + PERTURBATION * np.linalg.norm(setting.teacher) / np.sqrt(setting.teacher.size) \
            * rng.normal(size=setting.teacher.size)

        def residual(t: jax.Array, s: Setting = setting) -> jax.Array:
            return s.forward(t) - s.target

        trained = levenberg_marquardt(residual, theta0, cfg.iterations)
        compute = derivatives(setting)
        start_point, end_point = spectrum(setting, theta0, compute), spectrum(setting, trained, compute)
        try:
            report = symmetry_hessian_null_space(
                setting.symmetry(setting.forward, setting.shapes, (0, 1)),
                lambda y, s=setting: models.mean_squared(y, s.target), setting.identity, trained)
            theirs = (f"rank v {report.details['rank_v']}, kernel {report.details['kernel_dimension']}", report.holds)
        except PyspecError as error:  # e.g. NotStationaryError when training did not converge
            theirs = (f"{type(error).__name__}: {error}", False)
        rows += [
            check_row(f"{key}: dim ker H at the trained point (|lambda| <= {fmt(end_point['threshold'])} |H|)",
                      f">= rank v = {end_point['rank_v']}", f"{end_point['zeros']} (next |lambda|/|H| = "
                      f"{fmt(end_point['gap'])}; |grad L| = {fmt(end_point['grad_norm'])})", "count >= rank v",
                      end_point["zeros"] >= end_point["rank_v"]),
            check_row(f"{key}: |H v| / (|H| |v|) at the trained point", "0", fmt(end_point["Hv"]),
                      f"<= {fmt(end_point['threshold'])}", end_point["Hv"] <= end_point["threshold"]),
            check_row(f"{key}: negative control at the start (grad L != 0): |H v| / (|H| |v|)",
                      "!= 0 (H v = -(d_theta v)* grad L)", f"{fmt(start_point['Hv'])} (dim ker H = "
                      f"{start_point['zeros']})", f"> {fmt(start_point['threshold'])}",
                      start_point["Hv"] > start_point["threshold"]),
            check_row(f"{key}: cross-check pyspec.symmetry_hessian_null_space at the trained point", "holds",
                      theirs[0], "its own tolerances", theirs[1]),
        ]
        results.append({"label": setting.label, "start": start_point, "trained": end_point})
    rows.append(info_row("trained loss (rescaling, GL(d))",
                         ", ".join(fmt(r["trained"]["loss"]) for r in results)))
    figure = _plot(results, out)
    data = {"config": dataclasses.asdict(cfg), "models": results, "rows": [dataclasses.asdict(r) for r in rows]}
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)


_MATH_TITLES = {"rescaling: W relu(UX)": r"rescaling: $W\,\mathrm{relu}(UX)$",
                "GL(d): W3 tanh(W2 W1 X)": r"$GL(d)$: $W_3\tanh(W_2W_1X)$"}
"""Panel titles typeset (the plain labels name the rows of ``REPORT.md``)."""


def _plot(results: list[_Result], out: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    fig, axes = new_figure(2)
    for ax, res in zip(axes[0], results):
        end, begin = res["trained"], res["start"]
        i = np.arange(1, end["magnitudes"].size + 1)
        floor = 1e-20
        ax.axvspan(0.5, end["rank_v"] + 0.5, color="tab:green", alpha=0.15,
                   label=f"predicted zeros: rank $v$ = {end['rank_v']}")
        ax.semilogy(i, np.maximum(end["magnitudes"], floor), "o", color="k", ms=4,
                    label=f"trained point: {end['zeros']} zero eigenvalues")
        ax.semilogy(i, np.maximum(begin["magnitudes"], floor), "s", color="tab:orange", mfc="none", ms=4,
                    label=f"start: perturbed teacher ($\\nabla L \\neq 0$): {begin['zeros']}")
        ax.axhline(end["threshold"], color="tab:red", ls="--", lw=1, label=r"zero threshold $64(n+m)\varepsilon$")
        ax.set_xlabel(r"eigenvalue index (ascending $|\lambda|$)")
        ax.set_ylabel(r"$|\lambda_i(H)| / \Vert H\Vert$")
        ax.set_title(_MATH_TITLES.get(res["label"], res["label"]))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower right")
        ax.grid(True, alpha=0.3)
    return save_figure(fig, out / f"{NAME}.png", TITLE)
