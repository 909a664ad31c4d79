"""The built-in catalog (pyspec.catalog)."""

from __future__ import annotations

import numpy as np
import pytest

from pyspec.backends import get_backend
from pyspec.catalog import CATALOG, entry
from pyspec.catalog.base import cayley_orthogonal, orthonormal_columns
from tests.helpers import XP64

REQUIRED = {
    "relu_mlp_homogeneous", "polynomial_homogeneous", "neuron_rescaling", "gl_reparameterization",
    "last_layer_gl", "softmax_translation", "nonlinear_homogeneous", "nonlinear_last_layer",
    "mirror_symmetry", "hidden_permutation", "sign_flip",
}


def test_catalog_covers_the_design() -> None:
    assert len(CATALOG) >= 10
    assert REQUIRED <= set(CATALOG)
    assert {e.kind for e in CATALOG.values()} == {"continuous", "discrete"}


@pytest.mark.parametrize("name", list(CATALOG))
def test_instances_are_deterministic(name) -> None:
    e = entry(name)
    one, two = e.build(0), e.build(0)
    np.testing.assert_array_equal(np.asarray(one.theta(XP64)), np.asarray(two.theta(XP64)))
    y1 = np.asarray(one.eq.model(one.theta(XP64), xp=XP64))
    y2 = np.asarray(two.eq.model(two.theta(XP64), xp=XP64))
    np.testing.assert_array_equal(y1, y2)
    other = e.build(1)
    assert not np.array_equal(np.asarray(other.theta(XP64)), np.asarray(one.theta(XP64)))


def test_homogeneous_entries_are_checked_away_from_a_equal_one() -> None:
    for name in ("relu_mlp_homogeneous", "polynomial_homogeneous", "nonlinear_homogeneous"):
        assert float(np.asarray(entry(name).build(0).a(XP64))[0]) != 1.0


def test_unknown_entry_error_lists_names() -> None:
    with pytest.raises(KeyError, match="available"):
        entry("no_such_model")


@pytest.mark.parametrize("precision", [None, 40])
def test_orthogonal_constructions_are_exact_at_working_precision(precision) -> None:
    B = get_backend(precision)
    rng = np.random.default_rng(0)
    with B.context():
        Q = cayley_orthogonal(rng.standard_normal((5, 5)), B.xp)
        O = orthonormal_columns(B.xp.asarray(rng.standard_normal((5, 2))), B.xp)
        for M, k in ((Q, 5), (O, 2)):
            defect = B.to_float(B.norm(M.T @ M - B.xp.eye(k)))
            assert defect <= 10 * k * B.eps
