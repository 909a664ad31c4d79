"""Discovery: the conservation laws and symmetries of a model, found numerically.

* :func:`conservation_laws` counts the independent conservation laws of gradient flow
  (``n − dim Lie(W)(θ)``, Marcotte, Gribonval & Peyré 2023).
* :func:`find_conserved_quantities` finds the quadratic ones and checks them along gradient flow.
* :func:`discover_symmetries` finds the linear symmetry generators in a structured family, and
  turns them into :class:`pyspec.Equivariance` objects for Theorem 1, into the quadratic charges of
  eq. (5), and into the bound ``dim ker H ≥ rank v`` of §5.4.
"""

from pyspec.discovery.generators import DiscoveredSymmetries, discover_symmetries
from pyspec.discovery.laws import FlowDrift, QuadraticLaw, QuadraticLaws, find_conserved_quantities, gradient_flow_drift
from pyspec.discovery.lie import ConservationLaws, conservation_laws
from pyspec.discovery.zoo import ARCHITECTURES, Architecture, architecture

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "ConservationLaws",
    "DiscoveredSymmetries",
    "FlowDrift",
    "QuadraticLaw",
    "QuadraticLaws",
    "architecture",
    "conservation_laws",
    "discover_symmetries",
    "find_conserved_quantities",
    "gradient_flow_drift",
]
