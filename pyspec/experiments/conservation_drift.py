"""Experiment a: conservation laws of §4.1 under gradient descent and gradient flow.

Two models with a continuous symmetry, and the quadratic charge it conserves under gradient flow:

* rescaling: ``W relu(U X)``, per neuron ``Q_j = ‖u_j‖² − ‖w_j‖²`` (``rescaling_conservation``);
* reparameterization: ``W₃ tanh(W₂W₁X)``, ``Q = W₁W₁ᵀ − W₂ᵀW₂`` (``reparam_conservation``).

Predictions: eq. (2) makes the gradient-descent step orthogonal to the symmetry directions, so a
conserved quadratic charge drifts by ``O(η²)`` per step (log-log slope 2 in ``η``) while the
non-conserved ``‖u‖² + ‖w‖²`` (resp. ``W₁W₁ᵀ + W₂ᵀW₂``) drifts by ``O(η)`` (slope 1, negative
control). Under gradient flow integrated by RK4 the charge changes only by integration error,
bounded through a step-doubling estimate (:func:`~pyspec.experiments.predictions.flow_drift_bound`).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, TypedDict

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from pyspec.conservation import reparam_conservation, rescaling_conservation
from pyspec.experiments import models
from pyspec.experiments.common import EPS, Outcome, Row, check_row, fmt, new_figure, save_figure, save_json
from pyspec.experiments.estimators import SlopeFit, loglog_slope
from pyspec.experiments.predictions import flow_drift_bound

NAME = "conservation"
TITLE = "a. Conservation laws under GD and gradient flow"
PAPER = "rescaling_conservation, reparam_conservation (§4.1, eq. 2)"

SLOPE_TOLERANCE = 0.1
"""Allowed ``|slope − predicted|``: the ``O(η³)`` remainder and the ``η``-dependence of the trajectory
over ``steps · η_max`` bend the log-log line by a few hundredths at these sizes."""

RICHARDSON_SAFETY = 2.0
"""Safety factor on the step-doubling estimate of the RK4 error (asymptotic in ``h``)."""


@dataclasses.dataclass(frozen=True)
class Config:
    d0: int
    hidden: int
    classes: int
    samples: int
    steps: int
    etas: tuple[float, ...]
    flow_time: float
    flow_step: float


CONFIGS = {
    "tiny": Config(3, 4, 2, 16, 8, tuple(np.geomspace(1e-3, 3e-2, 5)), 0.5, 0.05),
    "default": Config(5, 8, 3, 64, 20, tuple(np.geomspace(1e-4, 3e-2, 9)), 2.0, 0.02),
    "large": Config(16, 64, 8, 2048, 50, tuple(np.geomspace(1e-4, 3e-2, 13)), 4.0, 0.01),
}

Charge = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Model:
    """A model with its loss on flat ``θ``, the conserved charge and the control charge."""

    label: str
    shapes: tuple[tuple[int, int], ...]
    forward: Callable[[jax.Array], jax.Array]
    output_loss: Callable[[jax.Array], jax.Array]
    charge: Charge
    control: Charge
    theta0: np.ndarray

    def loss(self, theta: jax.Array) -> jax.Array:
        """``L = ℓ ∘ f``."""
        return self.output_loss(self.forward(theta))


def _rescaling_charges(shapes: models.Shapes) -> tuple[Charge, Charge]:
    def charge(sign: float) -> Charge:
        def q(theta: jax.Array) -> jax.Array:
            U, W = models.split(theta, shapes)
            return jnp.sum(U**2, axis=1) + sign * jnp.sum(W**2, axis=0)

        return q

    return charge(-1.0), charge(1.0)


def _reparam_charges(shapes: models.Shapes) -> tuple[Charge, Charge]:
    def charge(sign: float) -> Charge:
        def q(theta: jax.Array) -> jax.Array:
            W1, W2, _ = models.split(theta, shapes)
            return jnp.ravel(W1 @ W1.T + sign * W2.T @ W2)

        return q

    return charge(-1.0), charge(1.0)


def build_models(cfg: Config, rng: np.random.Generator) -> tuple[Model, Model]:
    """The rescaling and the reparameterization model, with a teacher's targets and a random start."""
    X = jnp.asarray(rng.normal(size=(cfg.d0, cfg.samples)))
    built = []
    for label, forward, shapes, charges in (
        ("rescaling: W relu(UX)", models.relu_two_layer, ((cfg.hidden, cfg.d0), (cfg.classes, cfg.hidden)),
         _rescaling_charges),
        ("reparam: W3 tanh(W2 W1 X)", models.tanh_reparam,
         ((cfg.hidden // 2, cfg.d0), (cfg.hidden, cfg.hidden // 2), (cfg.classes, cfg.hidden)), _reparam_charges),
    ):
        teacher = jnp.asarray(models.init(rng, shapes))
        target = forward(teacher, X, shapes)
        theta0 = models.init(rng, shapes)

        def f(theta: jax.Array, forward=forward, shapes=shapes) -> jax.Array:
            return jnp.ravel(forward(theta, X, shapes))

        def output_loss(y: jax.Array, target=jnp.ravel(target)) -> jax.Array:
            return models.mean_squared(y, target)

        built.append(Model(label, shapes, f, output_loss, *charges(shapes), theta0))
    return built[0], built[1]


def gd_drift_per_step(model: Model, etas: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``steps`` GD steps of ``‖Q(θ_{t+1}) − Q(θ_t)‖`` for the charge and the control, per ``η``."""
    grad = jax.grad(model.loss)

    def run(eta: jax.Array) -> tuple[jax.Array, jax.Array]:
        def step(theta: jax.Array, _: None) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
            new = theta - eta * grad(theta)
            return new, (jnp.linalg.norm(model.charge(new) - model.charge(theta)),
                         jnp.linalg.norm(model.control(new) - model.control(theta)))

        _, (dq, dp) = lax.scan(step, jnp.asarray(model.theta0), None, length=steps)
        return dq.mean(), dp.mean()

    dq, dp = jax.jit(jax.vmap(run))(jnp.asarray(etas))
    return np.asarray(dq), np.asarray(dp)


def rk4_flow(model: Model, h: float, n_steps: int) -> tuple[jax.Array, jax.Array]:
    """Gradient flow ``θ̇ = −∇L`` by classical RK4: the path with step ``h`` (``(n_steps + 1, n)``) and the
    end point of the same flow with step ``h/2`` (for step doubling), in one compiled scan."""
    grad = jax.grad(model.loss)

    def rk4(theta: jax.Array, dt: float) -> jax.Array:
        k1 = -grad(theta)
        k2 = -grad(theta + dt / 2 * k1)
        k3 = -grad(theta + dt / 2 * k2)
        k4 = -grad(theta + dt * k3)
        return theta + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    def step(state: tuple[jax.Array, jax.Array], _: None) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        coarse, fine = state
        coarse = rk4(coarse, h)
        return (coarse, rk4(rk4(fine, h / 2), h / 2)), coarse

    @jax.jit
    def integrate(theta0: jax.Array) -> tuple[jax.Array, jax.Array]:
        (_, fine), path = lax.scan(step, (theta0, theta0), None, length=n_steps)
        return jnp.concatenate([theta0[None], path]), fine

    return integrate(jnp.asarray(model.theta0))


class FlowCheck(TypedDict):
    """Result of :func:`flow_check`: the charge's and the control's change along the RK4 flow."""

    times: np.ndarray
    charge_change: np.ndarray
    control_change: np.ndarray
    bound: float
    integration_error: float
    loss_start: float
    loss_end: float


def flow_check(model: Model, cfg: Config) -> FlowCheck:
    """RK4 gradient flow to ``T``: the charge's change against the integration-error bound."""
    n_steps = int(round(cfg.flow_time / cfg.flow_step))
    coarse, end_fine = rk4_flow(model, cfg.flow_step, n_steps)
    end = coarse[-1]
    error = float(jnp.linalg.norm(end - end_fine)) * 16 / 15  # Richardson: θ_h − θ ≈ (16/15)(θ_h − θ_{h/2})
    norm_end = float(jnp.linalg.norm(end))
    rounding = n_steps * EPS * 2 * float(jnp.max(jnp.linalg.norm(coarse, axis=1))) ** 2
    bound = RICHARDSON_SAFETY * flow_drift_bound(error, norm_end, norm_end + error) + rounding
    q0, p0 = model.charge(coarse[0]), model.control(coarse[0])
    changes = jax.jit(jax.vmap(lambda t: (jnp.linalg.norm(model.charge(t) - q0), jnp.linalg.norm(model.control(t) - p0))))
    dq, dp = (np.asarray(c) for c in changes(coarse))
    times = np.arange(n_steps + 1) * cfg.flow_step
    return {"times": times, "charge_change": dq, "control_change": dp, "bound": bound, "integration_error": error,
            "loss_start": float(model.loss(coarse[0])), "loss_end": float(model.loss(end))}


def cross_check(model: Model) -> tuple[float, float, bool | None]:
    """``pyspec.rescaling_conservation`` / ``pyspec.reparam_conservation`` at ``θ₀`` (parts balance, flow).

    Returns the worst residual, its tolerance and whether the report holds (``None``: inconclusive).
    """
    check = rescaling_conservation if model.label.startswith("rescaling") else reparam_conservation
    report = check(model.forward, model.output_loss, model.theta0, model.shapes, (0, 1))
    worst = max(report.checks, key=lambda c: c.residual)
    return worst.residual, worst.tolerance, report.holds


def _slope_rows(label: str, fit: SlopeFit, predicted: int, what: str) -> Row:
    return check_row(
        f"{label}: per-step drift of {what} ~ eta^alpha",
        f"alpha = {predicted}",
        f"{fit.slope:.3f} +/- {fit.stderr:.3f}",
        f"|alpha - {predicted}| <= {SLOPE_TOLERANCE}",
        abs(fit.slope - predicted) <= SLOPE_TOLERANCE,
    )


def run(size: str, out: Path, seed: int) -> Outcome:
    """Run experiment a at ``size`` and write ``conservation.png`` / ``conservation.json`` to ``out``."""
    start = time.perf_counter()
    cfg = CONFIGS[size]
    rng = np.random.default_rng(seed)
    etas = np.asarray(cfg.etas)
    rows, data, fits = [], {"etas": etas, "config": dataclasses.asdict(cfg)}, {}
    fig, axes = new_figure(2)
    colors = {"rescaling": ("tab:blue", "tab:cyan"), "reparam": ("tab:red", "tab:orange")}
    for model in build_models(cfg, rng):
        key = model.label.split(":")[0]
        names = ("||u||^2 - ||w||^2", "||u||^2 + ||w||^2") if key == "rescaling" else \
            ("W1W1^T - W2^TW2", "W1W1^T + W2^TW2")
        symbols = (r"$\Vert u\Vert^2 - \Vert w\Vert^2$", r"$\Vert u\Vert^2 + \Vert w\Vert^2$") if key == "rescaling" \
            else (r"$W_1W_1^\top - W_2^\top W_2$", r"$W_1W_1^\top + W_2^\top W_2$")
        dq, dp = gd_drift_per_step(model, etas, cfg.steps)
        fit_q, fit_p = loglog_slope(etas, dq), loglog_slope(etas, dp)
        fits[key] = (fit_q, fit_p)
        rows += [_slope_rows(key, fit_q, 2, f"conserved {names[0]}"),
                 _slope_rows(key, fit_p, 1, f"control {names[1]} (negative control)")]
        flow = flow_check(model, cfg)
        rows += [
            check_row(f"{key}: GF (RK4, h={cfg.flow_step:g}, T={cfg.flow_time:g}): |Q(T) - Q(0)|",
                      "0 (+ integration error)", fmt(flow["charge_change"][-1]),
                      f"<= {fmt(flow['bound'])} (2 x step-doubling bound)", flow["charge_change"][-1] <= flow["bound"]),
            check_row(f"{key}: GF: |control(T) - control(0)| (negative control)", "changes (not conserved)",
                      fmt(flow["control_change"][-1]), f"> {fmt(flow['bound'])}",
                      flow["control_change"][-1] > flow["bound"]),
        ]
        residual, tol, holds = cross_check(model)
        rows.append(check_row(f"{key}: cross-check pyspec.{key}_conservation at theta_0 (balance, flow)",
                              "residual 0", fmt(residual), f"<= {fmt(tol)}", holds))
        data[key] = {"drift_charge": dq, "drift_control": dp, "fit_charge": fit_q._asdict(),
                     "fit_control": fit_p._asdict(), "flow": flow}
        c_q, c_p = colors[key]
        ax = axes[0, 0]
        for drift, fit, color, marker, name in ((dq, fit_q, c_q, "o", symbols[0]), (dp, fit_p, c_p, "s", symbols[1])):
            ax.loglog(etas, drift, marker, color=color, label=f"{key}: {name} (slope {fit.slope:.2f})")
            ax.loglog(etas, 10 ** (fit.intercept + fit.slope * np.log10(etas)), "-", color=color, lw=1)
        ax2 = axes[0, 1]
        t = flow["times"][1:]
        ax2.semilogy(t, np.maximum(flow["charge_change"][1:], 1e-18), "-", color=c_q, label=f"{key}: {symbols[0]}")
        ax2.semilogy(t, flow["control_change"][1:], "--", color=c_p, label=f"{key}: {symbols[1]} (control)")
        ax2.axhline(flow["bound"], color=c_q, ls=":", lw=1, label=f"{key}: integration-error bound")
    ax = axes[0, 0]
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel(r"mean $\Vert Q(\theta_{t+1}) - Q(\theta_t)\Vert$ per GD step")
    ax.set_title(f"GD, {cfg.steps} steps: slope 2 predicted (conserved), 1 (control)")
    ax.legend(loc="lower right")
    ax.grid(True, which="major", alpha=0.3)
    ax2 = axes[0, 1]
    ax2.set_xlabel(r"gradient-flow time $t$")
    ax2.set_ylabel(r"$\Vert Q(t) - Q(0)\Vert$")
    ax2.set_title(f"Gradient flow (RK4, h = {cfg.flow_step:g}); prediction: Q constant")
    ax2.legend(loc="center right")
    ax2.grid(True, which="major", alpha=0.3)
    figure = save_figure(fig, out / f"{NAME}.png", TITLE)
    data["rows"] = [dataclasses.asdict(r) for r in rows]
    path = save_json(out / f"{NAME}.json", data)
    return Outcome(NAME, TITLE, PAPER, tuple(rows), figure, path, time.perf_counter() - start)
