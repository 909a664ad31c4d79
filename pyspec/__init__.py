"""pyspec: reference implementation of "An Equivariance Toolbox for Learning Dynamics".

Yang & Ziyin, arXiv 2512.21447. Every identity of the paper is a function that returns a residual
report (:class:`pyspec.checks.IdentityCheck`, grouped in a :class:`pyspec.report.Report` for the
applications of §§4–6): left side, right side, named terms, relative residual
and a justified tolerance, in float64 (JAX) or at any precision (mpmath, exact derivatives).

Quick start::

    import jax; jax.config.update("jax_enable_x64", True)
    import pyspec as ps
    eq = ps.Equivariance(model=f, T=T, S=S)
    ps.theorem1(eq, loss, a, theta).holds
"""

# compiled-program cache and batched checks (issue 13)
from pyspec.batch import BatchReport, theorem1_batch, theorem2_batch
from pyspec.cache import cache_info, clear_cache
from pyspec.characteristic import (
    EquivarianceReport,
    GoodPositionReport,
    characteristic_direction,
    characteristic_output,
    check_equivariance,
    good_position,
)
from pyspec.checks import IdentityCheck
from pyspec.conservation import (
    reparam_conservation,
    reparam_symmetry,
    rescaling_conservation,
    rescaling_symmetry,
    symmetry_orthogonality,
)
from pyspec.discrete import corollary4_mirror, discrete_linear_gradient, discrete_linear_hessian
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
from pyspec.homogeneity import (
    corollary1_gradient_in_hessian_range,
    homogeneity_euler,
    homogeneity_hessian_action,
    homogeneity_hessian_quadratic,
    homogeneity_norm_growth,
    sharpness_lower_bound,
)
from pyspec.last_layer import corollary3_last_layer
from pyspec.noether import corollary2_noether_flow
from pyspec.report import Report
from pyspec.stationary import symmetry_hessian_null_space
from pyspec.theorem1 import Theorem1Report, theorem1
from pyspec.theorem2 import Theorem2Report, theorem2

# certified numerics (ball arithmetic, certify=True; python-flint is imported only when used)
from pyspec.certify import CERTIFIED_BOUND
from pyspec.counterexamples import counterexamples
from pyspec.errors import KinkError

# Discovery (conservation laws and symmetries found numerically)
from pyspec.discovery import ConservationLaws, conservation_laws, discover_symmetries, find_conserved_quantities

# Frameworks (issue 14): Equinox / Flax containers, ready-made symmetries, the audit, precision guard
from pyspec import symmetries
from pyspec.audit import AuditRow, AuditTable, audit
from pyspec.errors import PrecisionError

# issue 11 (eq. (5) charge, §6 block structure)
from pyspec.hessian_blocks import discrete_linear_hessian_block
from pyspec.quadratic_charge import noether_charge_conserved, noether_charge_iff_symmetric

# verdicts you can trust (issue 12): three-valued verdicts, named input errors
from pyspec.checks import Verdict
from pyspec.errors import DegenerateError, DTypeError, InputError, NonDifferentiableWarning
from pyspec.verdicts import ESCALATION_DIGITS

__version__ = "0.1.0"

__all__ = [
    "ConservationLaws",
    "conservation_laws",
    "discover_symmetries",
    "find_conserved_quantities",
    "AuditRow",
    "AuditTable",
    "PrecisionError",
    "audit",
    "symmetries",
    "BatchReport",
    "cache_info",
    "clear_cache",
    "theorem1_batch",
    "theorem2_batch",
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
    "Report",
    "ShapeError",
    "Theorem1Report",
    "Theorem2Report",
    "characteristic_direction",
    "characteristic_output",
    "check_equivariance",
    "corollary1_gradient_in_hessian_range",
    "corollary2_noether_flow",
    "corollary3_last_layer",
    "corollary4_mirror",
    "discrete_linear_gradient",
    "discrete_linear_hessian",
    "good_position",
    "homogeneity_euler",
    "homogeneity_hessian_action",
    "homogeneity_hessian_quadratic",
    "homogeneity_norm_growth",
    "reparam_conservation",
    "reparam_symmetry",
    "rescaling_conservation",
    "rescaling_symmetry",
    "sharpness_lower_bound",
    "symmetry_hessian_null_space",
    "symmetry_orthogonality",
    "theorem1",
    "theorem2",
    # certified numerics
    "CERTIFIED_BOUND",
    "KinkError",
    "counterexamples",
    # issue 11 (eq. (5) charge, §6 block structure)
    "discrete_linear_hessian_block",
    "noether_charge_conserved",
    "noether_charge_iff_symmetric",
    # verdicts you can trust (issue 12)
    "Verdict",
    "DegenerateError",
    "DTypeError",
    "InputError",
    "NonDifferentiableWarning",
    "ESCALATION_DIGITS",
]
