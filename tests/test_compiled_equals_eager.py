"""Compiled programs compute what eager evaluation computes, to a few ulps (issue: compile options must
not change floating-point results; pyspec.backends.jax_backend.compile_options).

Each quantity of Theorem 1 (continuous) or Theorem 2 (discrete) is computed op by op (``jit=False``) and
by the program pyspec compiles (:func:`pyspec.cache.compile_program`, the options of
:func:`~pyspec.backends.jax_backend.compile_options`). The two may differ only by the rounding of a
differently fused evaluation order: ``‖compiled − eager‖ ≤ ULPS · eps · scale`` with ``scale`` the
quantity's norm or, for a quantity that vanishes in exact arithmetic (rounding noise, e.g. ``Hv`` of a
softmax translation), the natural scale of the identity it enters (:func:`_scales`). Eager evaluation
compiles every operation once per shape (~5–15 s per model), hence few random models, marked slow.

The suite (and ``pyspec verify``/``claims``) compiles at XLA's backend optimisation level 0 with
XLA:CPU's LLVM IR fusion emitters (:mod:`pyspec.backends.xla_flags`), eager operations included. So
each catalog entry's programs are also compiled with XLA's defaults (level 3, MLIR fusion emitters) and
compared with the same bound: the fast compilation changes results only by rounding, like any other
evaluation order.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings

from pyspec import strategies
from pyspec.backends import get_backend
from pyspec.backends.jax_backend import compile_options
from pyspec.catalog import CATALOG, Instance
from pyspec.equivariance import bind
from pyspec.theorem1 import theorem1_terms

EPS = float(np.finfo(np.float64).eps)
ULPS = 16.0
"""A few ulps per accumulated product: fusion reorders sums of at most ``n + m + k`` products; the
observed worst over the catalog is 2.1 ulps of the scale, level 0 against eager at the default level
(JAX 0.10.2; an earlier JAX was seen to move a leaky-ReLU model's Jacobian by 9e-11 at level 0)."""

XLA_DEFAULTS = {"xla_backend_optimization_level": 3, "xla_cpu_use_fusion_emitters": True,
                "xla_cpu_parallel_codegen_split_count": 32}
"""XLA's defaults (``DefaultDebugOptionsIgnoringFlags``) of the options of fast compilation, as compile
options: they override the ``XLA_FLAGS`` of the suite and the library's own :func:`compile_options`."""

FORBIDDEN = ("xla_llvm_disable_expensive_passes", "xla_cpu_enable_fast_math", "xla_cpu_fast_math_honor_nans",
             "xla_cpu_enable_fast_min_max")
"""Options that license non-IEEE arithmetic (reassociation, approximate functions) or were never measured
here: never used. The backend level is measured: it is compared below."""


def _norm(x) -> float:
    return float(np.linalg.norm(np.ravel(np.asarray(x, dtype=np.float64))))


def _theorem2_quantities(problem, a, theta):
    B = problem.backend

    def grad_L(t):
        return B.jacobian(problem.L, t)

    J = B.jacobian(lambda t: problem.T(a, t), theta)
    grad = grad_L(theta)
    return {"J": J, "grad_L": grad, "H": B.jacobian(grad_L, theta),
            "blue": B.jacobian(lambda t: B.jacobian(lambda s: grad @ problem.T(a, s), t), theta)}


def _as_dict(q) -> dict[str, np.ndarray]:
    """Theorem 1's record (:class:`pyspec.terms.Theorem1Terms`) or Theorem 2's dict, as a dict."""
    return q._asdict() if hasattr(q, "_asdict") else q


def _scales(q: dict[str, np.ndarray]) -> dict[str, float]:
    """Each quantity's scale: its norm, at least the product of the norms of the factors of the
    identity it enters (``‖G‖‖v‖`` for ``m``-space quantities, ``‖H‖‖v‖`` for ``n``-space ones)."""
    if "J" in q:  # Theorem 2
        big = _norm(q["H"]) * max(_norm(q["J"]), 1.0) ** 2 + _norm(q["grad_L"])
        return {k: max(_norm(v), big if k in ("H", "blue") else 0.0) for k, v in q.items()}
    norm_v = _norm(q["v"])
    norm_H = np.sqrt(q["v"].shape[0]) * _norm(q["Hu"])
    n_space = max(norm_H, _norm(q["G"]) * _norm(q["K"]) * _norm(q["G"])) * norm_v + _norm(q["grad_L"]) * norm_v
    m_space = _norm(q["G"]) * norm_v + (_norm(q["g"]) + _norm(q["K"])) * (_norm(q["w"]) + 1.0)
    scales = {}
    for key, value in q.items():
        rows = np.shape(value)[0] if np.ndim(value) else 0
        floor = n_space if rows == q["v"].shape[0] and key not in ("T_theta", "G") else m_space
        scales[key] = max(_norm(value), floor if key not in ("y", "T_theta", "S_y") else 0.0)
    return scales


def _compare(instance: Instance, reference: str = "eager") -> list[tuple[str, float]]:
    """``(quantity, ‖compiled − reference‖ / (eps · scale))`` for every quantity of the instance's
    theorem; the reference is eager evaluation or (``"defaults"``) the same program compiled with
    XLA's defaults."""
    eager = get_backend(None, jit=False)
    jitted = get_backend(None, jit=True)
    xp = eager.xp
    out = []
    a, theta = instance.a(xp), instance.theta(xp)
    problem, a_, t_ = bind(instance.eq, instance.loss, a, theta, eager)
    compiled_problem, _, _ = bind(instance.eq, instance.loss, a, theta, jitted)
    quantities = _theorem2_quantities if instance.off_fixed is not None else theorem1_terms

    def program(b, t):
        return quantities(compiled_problem, b, t)

    if reference == "eager":
        q_reference = _as_dict(eager.to_host(quantities(problem, a_, t_)))
    else:
        at_default = jax.jit(program).lower(a_, t_).compile(XLA_DEFAULTS)
        q_reference = _as_dict(jitted.to_host(at_default(a_, t_)))
    q_compiled = _as_dict(jitted.to_host(jitted.compile(program)(a_, t_)))
    for key, scale in _scales(q_reference).items():
        diff = _norm(q_compiled[key] - q_reference[key])
        out.append((key, 0.0 if diff == 0.0 else diff / (EPS * scale)))
    return out


def test_compile_options_keep_floating_point_results() -> None:
    assert not set(compile_options()) & set(FORBIDDEN)


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_compiled_equals_eager(name: str) -> None:
    worst = max(_compare(CATALOG[name].build(0)), key=lambda kv: kv[1])
    assert worst[1] <= ULPS, (name, worst)


@pytest.mark.parametrize("option", list(XLA_DEFAULTS))
def test_compile_options_reach_the_compiler(option: str) -> None:
    """The comparison with XLA's defaults is not the fast compilation against itself: XLA reads each
    per-compile option (a malformed value of the same option is refused) instead of ignoring it."""
    lowered = jax.jit(lambda x: 2.0 * x).lower(np.ones(3))
    with pytest.raises(Exception, match=option):
        lowered.compile({option: "not a value"})
    assert np.array_equal(lowered.compile(XLA_DEFAULTS)(np.ones(3)), 2.0 * np.ones(3))


@pytest.mark.parametrize("name", list(CATALOG))
def test_fast_compilation_equals_xla_defaults(name: str) -> None:
    worst = max(_compare(CATALOG[name].build(0), "defaults"), key=lambda kv: kv[1])
    assert worst[1] <= ULPS, (name, worst)


@pytest.mark.slow
@settings(max_examples=6)
@given(strategies.equivariant_models())
def test_random_models_compiled_equals_eager(case: Instance) -> None:
    worst = max(_compare(case), key=lambda kv: kv[1])
    assert worst[1] <= ULPS, (case.eq.name, worst)


@pytest.mark.slow
@settings(max_examples=4)
@given(strategies.discrete_symmetries())
def test_random_discrete_compiled_equals_eager(case: Instance) -> None:
    worst = max(_compare(case), key=lambda kv: kv[1])
    assert worst[1] <= ULPS, (case.eq.name, worst)
