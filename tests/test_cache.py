"""The compiled-program cache (pyspec.cache): a second check of the same model at new points traces
nothing; a redefined lambda, new shapes or a cleared cache trace again. Traces are counted by the
callables themselves (Python runs them only while JAX traces a program), not by wall time."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import pyspec as ps
from pyspec import cache as cache_module
from pyspec.cache import MAX_PROGRAMS, cache_info

rng = np.random.default_rng(3)
X = rng.standard_normal((3, 5))
TRACES = {"model": 0, "T": 0, "loss": 0}


def model(theta):
    TRACES["model"] += 1
    W1, W2 = theta[:12].reshape(4, 3), theta[12:].reshape(2, 4)
    return (W2 @ jnp.tanh(W1 @ X)).ravel()


def rescale(a, theta):
    """The output layer scaled by ``a``: ``f(T(a, θ)) = a f(θ)``."""
    TRACES["T"] += 1
    return jnp.concatenate([theta[:12], a[0] * theta[12:]])


def loss(y):
    TRACES["loss"] += 1
    return 0.5 * jnp.sum((y - 0.3) ** 2)


EQ = ps.Equivariance(model=model, T=rescale, S=lambda a, y: a[0] * y, name="output_homogeneity")
A = np.array([1.3])


def _traces() -> int:
    return sum(TRACES.values())


def _point() -> np.ndarray:
    return rng.standard_normal(20)


def test_second_theorem1_call_does_not_trace() -> None:
    assert ps.theorem1(EQ, loss, A, _point()).holds
    before, info = _traces(), cache_info()
    for _ in range(3):
        assert ps.theorem1(EQ, loss, A * rng.uniform(0.8, 1.2), _point()).holds
    assert _traces() == before
    assert cache_info().misses == info.misses and cache_info().hits > info.hits


def test_repeated_theorem1_call_dispatches_two_programs() -> None:
    """A repeated dense check at a point where Theorem 1 clearly holds finds 4 cache entries: the 2
    programs it runs (bind's validation of ``f``, ``T``, ``S`` and the loss; Theorem 1 judged in bulk
    as a batch of one, its hypotheses included) and the once-per-model precision guard and index probe.
    Negative control: with ``check_equivariance=False`` (a negative control's setting: no bulk
    judgement) it finds 5, the separate programs of the good position and of Theorem 1's terms in place
    of the bulk one (eq. (1) is skipped)."""
    ps.theorem1(EQ, loss, A, _point())
    before = cache_info()
    assert ps.theorem1(EQ, loss, A, _point()).holds
    after = cache_info()
    assert after.misses == before.misses and after.hits - before.hits == 4
    ps.theorem1(EQ, loss, A, _point(), check_equivariance=False)
    before = cache_info()
    assert ps.theorem1(EQ, loss, A, _point(), check_equivariance=False).holds
    assert cache_info().hits - before.hits == 5


def test_first_check_runs_the_model_once_for_all_its_programs() -> None:
    """A first check runs the model's Python once, however many programs and derivatives use it:
    ``bind`` hands ``f``, ``T``, ``S`` and the loss to them as ``jax.jit(..., inline=True)``, traced
    once and transformed as a jaxpr (the precision guard shares that trace). Before, each program and
    each ``jvp``/``vmap`` of the dense check ran it again (10 times). Dense and matrix-free alike."""
    runs = {"model": 0}

    def counted_model(theta):
        runs["model"] += 1
        return model(theta)

    eq = EQ.replace(model=counted_model)
    for method in ("dense", "matrix_free"):
        runs["model"] = 0
        assert ps.theorem1(eq, loss, A, _point(), method=method).holds
        assert runs["model"] == 1, method


def test_second_theorem1_matrix_free_call_does_not_trace() -> None:
    ps.theorem1(EQ, loss, A, _point(), method="matrix_free")
    before = _traces()
    assert ps.theorem1(EQ, loss, A, _point(), method="matrix_free").holds
    assert _traces() == before


def test_hypothesis_checks_do_not_trace_again() -> None:
    ps.check_equivariance(EQ, A, _point())
    ps.good_position(EQ, A, _point())
    before = _traces()
    assert ps.check_equivariance(EQ, A, _point()).holds
    assert ps.good_position(EQ, A, _point()).ok
    assert _traces() == before


def test_a_broken_model_is_caught_at_every_call() -> None:
    """A program is never reused for a different model: the broken model fails each time."""
    broken = EQ.replace(model=lambda th: model(th) + 1e-3 * jnp.sin(th[:10]))
    for _ in range(2):
        with pytest.raises(ps.EquivarianceError):
            ps.theorem1(broken, loss, A, _point())


def test_redefined_lambda_recompiles_and_is_not_stale() -> None:
    results = []
    for power in (1, 2):  # the same source text, a new function object each time
        traces = []
        eq = ps.Equivariance(model=model, T=rescale, S=lambda a, y: (traces.append(1), a[0] ** power * y)[1])
        if power == 1:
            results.append(ps.theorem1(eq, loss, A, _point()).holds)
        else:  # a stale program would check the power-1 S and pass
            with pytest.raises(ps.EquivarianceError):
                ps.theorem1(eq, loss, A, _point())
        assert traces, "the new S was traced"
    assert results == [True]


def test_new_shapes_and_clear_cache_trace_again() -> None:
    ps.theorem2(ps.Equivariance(model=lambda th: jnp.tanh(th * th), T=lambda a, th: -th), loss,
                np.zeros(1), np.zeros(3))
    ps.theorem1(EQ, loss, A, _point())
    before = _traces()
    ps.clear_cache()
    assert cache_info().size == 0
    ps.theorem1(EQ, loss, A, _point())
    assert _traces() > before


def test_theorem2_second_call_does_not_trace() -> None:
    counter = []

    def sym_model(theta):
        counter.append(1)
        return jnp.tanh(theta * theta)

    eq = ps.Equivariance(model=sym_model, T=lambda a, th: -th, name="sign_flip")
    assert ps.theorem2(eq, loss, np.zeros(1), np.zeros(4)).holds
    before = len(counter)
    assert ps.theorem2(eq, loss, np.zeros(1), np.zeros(4)).holds
    assert len(counter) == before


def test_is_compiled_answers_without_counting() -> None:
    """:func:`pyspec.cache.is_compiled` sees a program once compiled, not another program of the same
    problem nor a problem that shares none, and counts neither a hit nor a miss."""
    backend = ps.backends.get_backend(None)
    with backend.context():
        problem, a, theta = ps.equivariance.bind(EQ, loss, A, _point(), backend)

        def square(b, t):
            return t * t

        def cube(b, t):
            return t * t * t

        cache_module.compile_program(problem, square)(a, theta)
        info = cache_info()
        assert cache_module.is_compiled(problem, square) and not cache_module.is_compiled(problem, cube)
        assert not cache_module.is_compiled(problem.with_model(problem.f), square)  # key None: shares none
        assert cache_info() == info


def test_cache_is_bounded() -> None:
    assert cache_info().size <= cache_info().max_size == MAX_PROGRAMS


def test_section5_homogeneity_does_not_trace_again() -> None:
    """§5.1: the homogeneity tools build their (T, S) once per degree (a partial), so a second call at
    a new θ reuses every program; another degree is another program."""
    counter = []

    def quadratic(theta):
        counter.append(1)
        return jnp.concatenate([theta[:3] * theta[3:], theta[:1] ** 2])

    assert ps.homogeneity_euler(quadratic, loss, _point()[:6], 2).holds
    before = len(counter)
    assert ps.homogeneity_euler(quadratic, loss, _point()[:6], 2).holds
    assert len(counter) == before
    with pytest.raises(ps.EquivarianceError):
        ps.homogeneity_euler(quadratic, loss, _point()[:6], 3)


def _compile_models(count: int) -> None:
    """``count`` new models (new callables: new programs), each checked once."""
    for scale in range(count):
        eq = ps.Equivariance(model=lambda th, s=scale + 1.0: s * jnp.tanh(th * th), T=lambda a, th: -th)
        ps.theorem2(eq, loss, np.zeros(1), np.zeros(4))


@pytest.mark.skipif(cache_module._map_limit() is None, reason="memory maps are counted on Linux only")
def test_cached_programs_hold_memory_maps_and_clear_cache_releases_them() -> None:
    """Why the cache watches memory maps: each compiled program maps regions, released with it."""
    ps.clear_cache()
    before = cache_module._maps_in_use()
    _compile_models(6)
    held = cache_module._maps_in_use()
    assert cache_info().size >= 6 and held > before + 6
    ps.clear_cache()
    assert cache_module._maps_in_use() < held - 6


def test_cache_drops_its_older_half_when_maps_run_short(monkeypatch: pytest.MonkeyPatch) -> None:
    ps.clear_cache()
    monkeypatch.setattr(cache_module, "_map_limit", lambda: 1000)
    maps = {"count": 0}
    monkeypatch.setattr(cache_module, "_maps_in_use", lambda: maps["count"])
    _compile_models(3)
    assert cache_info().map_evictions == 0  # negative control: far below the budget, nothing dropped
    size = cache_info().size
    maps["count"] = 10_000  # over MAP_FRACTION of the limit, and programs release none (fake count)
    _compile_models(1)
    info = cache_info()
    # halved down to the newest program at every count, so at most the programs compiled since the last one
    assert info.map_evictions >= 1 and info.size <= cache_module.MAP_CHECK_EVERY < size
