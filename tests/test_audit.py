"""ps.audit: a 2-hidden-layer ReLU MLP with biases (Equinox) and a one-block transformer (Flax NNX)
show exactly their symmetries, with ranks, conservation laws and Theorem 1/2 verdicts; one scalar
parameter that breaks one symmetry removes exactly that one."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import pyspec as ps
from tests.framework_models import EqxMLP, NnxBlock, cross_entropy, inputs

X = inputs((5, 2))
SEQ = inputs((7, 4, 2), seed=3)  # 7 sequences of 4 tokens; 42 outputs: 6 classes x 7


@pytest.fixture(scope="module")
def mlp_audit():
    mlp = EqxMLP((2, 4, 3, 5), jax.nn.relu, True)
    return ps.audit(mlp, None, cross_entropy(np.arange(5) % 5, 5), X)


@pytest.fixture(scope="module")
def block_audits():
    loss = cross_entropy(np.arange(7) % 6, 6)
    return (ps.audit(NnxBlock(), None, loss, SEQ, theorems=False),
            ps.audit(NnxBlock(gate=0.3), None, loss, SEQ, theorems=False))


def test_mlp_audit_finds_exactly_its_symmetries(mlp_audit):
    assert set(mlp_audit.found) == {
        "homogeneity (degree 3)",
        "rescaling layers[0] -> layers[1]",
        "rescaling layers[1] -> layers[2]",
        "permutation layers[0] -> layers[1] units 0<->1",
        "permutation layers[1] -> layers[2] units 0<->1",
        "last-layer GL(5) layers[2]",
        "softmax translation layers[2]",
    }
    rows = {r.symmetry: r for r in mlp_audit.rows}
    # false candidates are measured and rejected: GL across a ReLU, sign flips of ReLU units, scale invariances
    for name in ("GL(4) layers[0] -> layers[1]", "sign flip layers[0] -> layers[1] units (0,)",
                 "scale invariance layers[0]"):
        assert not rows[name].holds and rows[name].residual > 1e3 * rows[name].tolerance
    for name in ("rescaling layers[0] -> layers[1]", "rescaling layers[1] -> layers[2]"):
        r = rows[name]
        assert (r.k, r.rank, r.verdict) == (r.rank, r.k, "holds") and r.conserved_residual < 1e-12
    assert rows["homogeneity (degree 3)"].verdict == "holds" and rows["homogeneity (degree 3)"].rank is None
    perm = rows["permutation layers[0] -> layers[1] units 0<->1"]
    assert perm.verdict == "inconclusive" and "not a fixed point" in perm.reason
    assert mlp_audit.kernel_lower_bound == 4 + 3  # the two rescalings: dim ker H >= 7 at a stationary point


def test_mlp_audit_table_outputs(mlp_audit):
    data = json.loads(mlp_audit.to_json())
    assert data["n"] == 2 * 4 + 4 + 4 * 3 + 3 + 3 * 5 + 5 and len(data["rows"]) == len(mlp_audit.rows)
    assert set(data["rows"][0]) == set(ps.AuditRow._fields)
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(mlp_audit)
    assert "homogeneity (degree 3)" in console.export_text() and "dim ker H >= 7" in str(mlp_audit)


def test_transformer_audit_finds_exactly_its_symmetries(block_audits):
    block, _ = block_audits
    assert set(block.found) == {
        "scale invariance embed",
        "attention GL_k(3) key, query",  # NNX orders attributes alphabetically
        "GL(5) value -> out",
        "rescaling value -> out",
        "permutation value -> out units 0<->1",
        "sign flip value -> out units (0,)",
        "last-layer GL(6) head",
        "softmax translation head",
    }
    # directions in ker H at a stationary point: 1 (scale) + 9 (GL_k) + 25 (GL_v, containing the rescaling)
    assert block.kernel_lower_bound == 1 + 9 + 25


def test_one_parameter_breaks_exactly_one_symmetry(block_audits):
    block, gated = block_audits
    assert set(block.found) - set(gated.found) == {"scale invariance embed"}
    assert set(gated.found) <= set(block.found)


def test_audit_theorem1_verdicts_on_transformer_symmetries():
    loss = cross_entropy(np.arange(7) % 6, 6)
    block = NnxBlock()
    chosen = [ps.symmetries.attention_qk(block, "query", "key"), ps.symmetries.norm_scale(block, "embed")]
    table = ps.audit(block, None, loss, SEQ, symmetries=chosen)
    assert [r.verdict for r in table.rows] == ["holds", "holds"]
    assert [r.rank for r in table.rows] == [9, 1]
    gated = ps.audit(NnxBlock(gate=0.3), None, loss, SEQ, symmetries=chosen)
    assert [r.holds for r in gated.rows] == [True, False]


def test_audit_refuses_a_float32_model():
    from tests.framework_models import NnxMLP

    model = NnxMLP((2, 4, 3, 3), dtype=jax.numpy.float32)
    with pytest.raises(ps.PrecisionError):
        ps.audit(model, None, cross_entropy(np.arange(5) % 3, 3), X)


def test_audit_of_linen_variables_and_of_a_function():
    from tests.framework_models import linen_mlp

    model, variables = linen_mlp((2, 4, 3), activation=jax.numpy.tanh)
    loss = cross_entropy(np.arange(5) % 3, 3)
    table = ps.audit(model, variables, loss, X, theorems=False)
    found = set(table.found)
    assert {"sign flip params.Dense_0 -> params.Dense_1 units (0,)", "last-layer GL(3) params.Dense_1",
            "softmax translation params.Dense_1"} <= found
    assert "rescaling params.Dense_0 -> params.Dense_1" not in found  # tanh is not homogeneous

    def f(params, x):  # a plain function of a dict of arrays, Equinox layout
        return jax.numpy.tanh(x @ params["hidden"]["weight"].T) @ params["head"]["weight"].T

    params = {"hidden": {"weight": inputs((4, 2), seed=5)}, "head": {"weight": inputs((3, 4), seed=6)}}
    table = ps.audit(f, params, loss, X, theorems=False)
    assert "sign flip hidden -> head units (0,)" in table.found and table.n == 20


def test_flat_theta_needs_shapes():
    with pytest.raises(ps.ShapeError, match="shapes="):
        ps.rescaling_conservation(lambda t: t, lambda y: y @ y, np.ones(6))


def test_an_inconclusive_theorem_is_reported_inconclusive_not_failed(monkeypatch):
    """A row takes the theorem's three-valued verdict and its reason: were a check inconclusive (float64
    cannot decide), the row must not say "fails". The theorems are replaced by reports whose checks are
    undecided; the control, the real reports, gives "holds" on the same rows."""
    import importlib

    audit_module = importlib.import_module("pyspec.audit")  # the module: `pyspec.audit` is also the function

    def f(params, x):
        return jax.numpy.tanh(x @ params["hidden"]["weight"].T) @ params["head"]["weight"].T

    params = {"hidden": {"weight": inputs((4, 2), seed=5)}, "head": {"weight": inputs((3, 4), seed=6)}}
    loss = cross_entropy(np.arange(5) % 3, 3)
    chosen = [s for s in audit_module.candidates(params, 3) if s.name.startswith("last-layer GL(3)")]
    assert len(chosen) == 1, [s.name for s in audit_module.candidates(params, 3)]
    control = ps.audit(f, params, loss, X, symmetries=chosen)
    assert [r.verdict for r in control.rows] == ["holds"]

    def undecided(*args, **kwargs):
        report = real(*args, **kwargs)
        return type("Undecided", (), {"checks": report.checks, "verdict": "inconclusive", "holds": None,
                                      "reason": "gradient: rounding noise above the tolerance"})()

    theorem1 = importlib.import_module("pyspec.theorem1")  # the audit imports its report function from here
    real = theorem1.theorem1_report
    monkeypatch.setattr(theorem1, "theorem1_report", undecided)
    table = ps.audit(f, params, loss, X, symmetries=chosen)
    assert [(r.verdict, r.reason) for r in table.rows] == [
        ("inconclusive", "gradient: rounding noise above the tolerance")]
