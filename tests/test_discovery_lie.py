"""Counting conservation laws (pyspec.discovery.lie, .span, .zoo): the validation table and its controls."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pyspec.discovery import ARCHITECTURES, conservation_laws
from pyspec.discovery.span import FLOAT64, split_rows
from pyspec.discovery.zoo import _generic_relu, architecture


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a.name)
def test_count_matches_the_literature(arch):
    """Each architecture's count equals the published one, decided by a clear gap in float64."""
    model, theta, inputs = arch.build(0)
    result = conservation_laws(model, theta, inputs)
    assert result.count == arch.known, (arch.name, result.dims)
    assert result.converged and not result.ambiguous
    assert result.gap > 1e4
    assert result.digits is None


def _relu_neuron_broken(eps):
    """2-layer ReLU (2 → 2 → 1) plus ``eps·(W1[0,0])²·x₀``: breaks neuron 0's rescaling only."""

    def model(p, x, *, xp):
        return p["W2"] @ xp.relu(p["W1"] @ x) + eps * p["W1"][0, 0] ** 2 * x[0]

    theta = {"W1": np.array([[1.0, 0.3], [-0.2, 1.0]]), "W2": np.array([[0.7, -1.1]])}
    inputs = np.random.default_rng(3).standard_normal((12, 2))
    assert _generic_relu([inputs @ theta["W1"].T])  # neurons not dead, not always on, not alike
    return model, theta, inputs


def test_breaking_one_symmetry_removes_exactly_one_law():
    """Negative control: the same count on a model with one neuron's rescaling broken is one less."""
    for eps, expected in ((0.0, 2), (0.3, 1)):
        model, theta, inputs = _relu_neuron_broken(eps)
        assert conservation_laws(model, theta, inputs).count == expected


def test_ambiguous_gap_escalates_to_50_digits():
    """A breaking of size 1e-8 sits in float64's undecided band; 50 digits decide it (one law fewer)."""
    model, theta, inputs = _relu_neuron_broken(1e-8)
    result = conservation_laws(model, theta, inputs, oversample=3)
    assert result.digits == 50
    assert result.float64 is not None and result.float64.ambiguous
    assert result.count == 1 and not result.ambiguous


def test_high_precision_agrees_with_float64():
    model, theta, inputs = architecture("linear_residual").build(0)
    low = conservation_laws(model, theta, inputs[:10], precision=None)
    high = conservation_laws(model, theta, inputs[:10], precision=30, oversample=3)
    assert high.count == low.count == 3
    assert high.digits == 30 and max(high.bracket_values[-1]) < 1e-20


def test_row_sketch_states_its_failure_probability():
    model, theta, inputs = architecture("relu2").build(0)
    assert conservation_laws(model, theta, inputs).failure_probability == pytest.approx(6e-10)
    assert conservation_laws(model, theta, inputs[:8]).failure_probability == 0.0


def test_randomized_null_space_matches_the_svd():
    """The large-n path (QR + inverse subspace iteration) finds the same rank and complement."""
    rng = np.random.default_rng(0)
    n, c = 200, 7
    A = rng.standard_normal((n + 10, n - c)) @ rng.standard_normal((n - c, n)) @ np.diag(np.logspace(0, -4, n))
    dense, randomized = split_rows(A, FLOAT64, dense_max=10**6), split_rows(A, FLOAT64, dense_max=10)
    assert dense.rank == randomized.rank == n - c
    P = dense.complement @ dense.complement.T - randomized.complement @ randomized.complement.T
    assert np.linalg.norm(P) < 1e-8


@pytest.mark.parametrize(
    "kwargs, error",
    [({"max_depth": 0}, ValueError), ({"oversample": 1}, ValueError), ({"precision": 10}, ValueError)],
)
def test_bad_options_are_named(kwargs, error):
    model, theta, inputs = architecture("linear1").build(0)
    with pytest.raises(error, match=next(iter(kwargs))):
        conservation_laws(model, theta, inputs, **kwargs)


def test_high_precision_needs_a_backend_neutral_model():
    with pytest.raises(TypeError, match="xp"):
        conservation_laws(lambda p, x: p @ x, np.ones((2, 2)), np.ones((3, 2)), precision=30)


def test_complex_parameters_are_rejected():
    """Refused before any cast: no ComplexWarning about a discarded imaginary part precedes the error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="complex"):
            conservation_laws(lambda p, x: p @ x, np.ones((2, 2)) * 1j, np.ones((3, 2)))


def test_randomized_null_space_of_wide_and_qr_fallback(monkeypatch):
    """Fewer rows than columns, and the Householder fallback taken when the LU's growth is too large,
    agree with the SVD; a perturbed copy (one null direction broken) loses exactly one null vector."""
    import pyspec.discovery.span as span

    rng = np.random.default_rng(1)
    n, c = 120, 5
    A = rng.standard_normal((n - 30, n - c)) @ rng.standard_normal((n - c, n))  # wide: rank n - 30
    for growth in (span.GROWTH_MAX, 0.0):
        monkeypatch.setattr(span, "GROWTH_MAX", growth)
        split = split_rows(A, FLOAT64, dense_max=10)
        assert split.rank == n - 30 and split.failure_probability == pytest.approx(6e-10)
        assert np.linalg.norm(A @ split.complement) < 1e-10 * np.linalg.norm(A)
    B = rng.standard_normal((n + 10, n - c)) @ rng.standard_normal((n - c, n))
    broken = B + 1e-3 * np.linalg.norm(B) * np.outer(rng.standard_normal(n + 10), split_rows(B, FLOAT64).complement[:, 0])
    assert split_rows(B, FLOAT64, dense_max=10).rank == n - c
    assert split_rows(broken, FLOAT64, dense_max=10).rank == n - c + 1
    assert split_rows(A, FLOAT64).failure_probability == 0.0


def test_per_input_jacobian_blocks_equal_the_jacobian():
    """Depth-1 rows by chunks of inputs (last chunk padded) are the rows of ``J``, in order."""
    import jax

    from pyspec.discovery.lie import _jacobian_blocks
    from pyspec.discovery.model import flat_model

    model, theta, inputs = architecture("relu2").build(0)
    fm = flat_model(model, theta, inputs[:13], None)
    n = int(fm.t.shape[0])
    blocks = list(_jacobian_blocks(fm, n, block_bytes=8 * n * 2 * 4)())  # 4 inputs of 2 outputs a block
    assert len(blocks) > 1 and blocks[-1].shape[0] < blocks[0].shape[0]
    assert np.allclose(np.concatenate(blocks), np.asarray(jax.jacrev(fm.F)(fm.t)), rtol=0, atol=1e-14)


def test_large_count_states_both_failure_probabilities():
    """n = 600 > DENSE_SVD_MAX: the null space is randomized (6e-10); with more than 2n rows the sketch
    adds its own 6e-10. The count is one law per hidden neuron either way."""
    d, r, m = 10, 30, 10

    def mlp(p, x, *, xp):
        return p["W2"] @ xp.relu(p["W1"] @ x)

    rng = np.random.default_rng(0)
    theta = {"W1": rng.standard_normal((r, d)) / np.sqrt(d), "W2": rng.standard_normal((m, r)) / np.sqrt(r)}
    n = r * (d + m)
    for N, failure in ((int(1.2 * n / m), 6e-10), (3 * n // m, 1.2e-9)):
        result = conservation_laws(mlp, theta, rng.standard_normal((N, d)), precision=None)
        assert result.count == r and not result.ambiguous and result.gap > 1e4
        assert result.failure_probability == pytest.approx(failure)


def test_in_place_factorization_checks_with_the_product(monkeypatch):
    """With ``product``, the rows are factored in place (overwritten) and the null space is checked
    through ``product``, also on the Householder fallback, which rebuilds the rows as ``product(I)``."""
    import pyspec.discovery.span as span

    rng = np.random.default_rng(2)
    n, c = 150, 6
    A0 = rng.standard_normal((n + 40, n - c)) @ rng.standard_normal((n - c, n))
    reference = split_rows(A0, FLOAT64)
    for growth in (span.GROWTH_MAX, 0.0):
        monkeypatch.setattr(span, "GROWTH_MAX", growth)
        A = np.asfortranarray(A0)
        split = split_rows(A, FLOAT64, dense_max=10, product=lambda Z: A0 @ Z)
        assert not np.array_equal(A, A0)  # overwritten by the factorization
        assert split.rank == reference.rank == n - c
        P = split.complement @ split.complement.T - reference.complement @ reference.complement.T
        assert np.linalg.norm(P) < 1e-8
    monkeypatch.setattr(span, "GROWTH_MAX", 1e3)
    other = A0 + 1e-3 * np.linalg.norm(A0) * rng.standard_normal(A0.shape) / np.sqrt(A0.size)
    wrong = split_rows(np.asfortranarray(A0), FLOAT64, dense_max=10, product=lambda Z: other @ Z)
    assert wrong.rank == n  # negative control: a product that is not A's shows no null direction
