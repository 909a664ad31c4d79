"""§6 block structure (pyspec.hessian_blocks): at a fixed point of a linear involution the Hessian does
not couple ker(M − I) and ker(M + I); the same check flags a point off the fixed set."""

from __future__ import annotations

import numpy as np
import pytest

from pyspec.backends import get_backend
from pyspec.catalog import CATALOG
from pyspec.catalog.losses import squared_error
from pyspec.equivariance import Equivariance
from pyspec.hessian_blocks import discrete_linear_hessian_block
from tests.helpers import XP64

ENTRIES = ("mirror_symmetry", "hidden_permutation", "sign_flip")


@pytest.mark.parametrize("precision", [None, 50])
@pytest.mark.parametrize("name", ENTRIES)
def test_block_structure_on_the_catalog(name, precision) -> None:
    instance = CATALOG[name].build(0)
    backend = get_backend(precision)
    with backend.context():
        a, theta = instance.a(backend.xp), instance.theta(backend.xp)
    report = discrete_linear_hessian_block(instance.eq, instance.loss, a, theta, precision=precision, jit=False)
    assert report.holds, report
    if precision is not None:
        assert max(c.residual for c in report.checks) <= 10.0 ** -(precision - 10)


@pytest.mark.parametrize("name", ENTRIES)
def test_off_the_fixed_set_is_flagged(name) -> None:
    """Negative control (docs/theory.md#discrete-linear-symmetry): off ker(M − I) the Hessian couples the two eigenspaces."""
    instance = CATALOG[name].build(0)
    report = discrete_linear_hessian_block(instance.eq, instance.loss, instance.a(XP64), instance.off_fixed(XP64),
                                           check_hypotheses=False, jit=False)
    assert not report.holds and max(c.residual for c in report.checks) > 1e-3


def test_a_map_that_is_not_an_involution_is_a_named_error() -> None:
    """A quarter turn (M² = −I) is a symmetry of F(θ) + F(Mθ) + F(M²θ) + F(M³θ), fixing θ = 0."""
    M = np.array([[0.0, -1.0], [1.0, 0.0]])
    C = np.array([[1.0, 0.3], [-0.2, 0.7], [0.5, 0.5]])

    def model(theta, *, xp):
        out = 0.0
        for p in range(4):
            out = out + xp.tanh(C @ (np.linalg.matrix_power(M, p) @ theta) + 0.5)
        return out

    eq = Equivariance(model=model, T=lambda a, th, *, xp: M @ th)
    with pytest.raises(ValueError, match="not an involution"):
        discrete_linear_hessian_block(eq, squared_error(np.ones(3)), np.zeros(1), np.zeros(2), jit=False)
