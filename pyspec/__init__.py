"""pyspec: reference implementation of "An Equivariance Toolbox for Learning Dynamics".

Yang & Ziyin, arXiv 2512.21447. Every identity of the paper is a function that returns a residual
report (:class:`pyspec.checks.IdentityCheck`): left side, right side, named terms, relative residual
and a justified tolerance, in float64 (JAX) or at any precision (mpmath, exact derivatives).

Quick start::

    import jax; jax.config.update("jax_enable_x64", True)
    import pyspec as ps
    eq = ps.Equivariance(model=f, T=T, S=S)
    ps.theorem1(eq, loss, a, theta).holds
"""

from pyspec.characteristic import (
    EquivarianceReport,
    GoodPositionReport,
    characteristic_direction,
    characteristic_output,
    check_equivariance,
    good_position,
)
from pyspec.checks import IdentityCheck
from pyspec.equivariance import Equivariance
from pyspec.errors import (
    EquivarianceError,
    NonFiniteError,
    NotFixedPointError,
    NotGoodPositionError,
    NotStationaryError,
    PyspecError,
    ShapeError,
)
from pyspec.theorem1 import Theorem1Report, theorem1
from pyspec.theorem2 import Theorem2Report, theorem2

__version__ = "0.1.0"

__all__ = [
    "Equivariance",
    "EquivarianceError",
    "EquivarianceReport",
    "GoodPositionReport",
    "IdentityCheck",
    "NonFiniteError",
    "NotFixedPointError",
    "NotGoodPositionError",
    "NotStationaryError",
    "PyspecError",
    "ShapeError",
    "Theorem1Report",
    "Theorem2Report",
    "characteristic_direction",
    "characteristic_output",
    "check_equivariance",
    "good_position",
    "theorem1",
    "theorem2",
]
