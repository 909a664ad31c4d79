"""Matrix-free Theorems 1 and 2 (docs/design.md#evaluation-paths): JVPs, VJPs, HVPs and iterative solves only.

No ``n × n``, ``m × m`` or ``n × m`` matrix is formed: every quantity is a product of an operator
(``G``, ``Gᵀ``, ``H``, ``∂θT``, ``∂yS`` and their transposes, second derivatives of ``T``, ``S``
contracted with ``γ``, ``ζ``) with the ``k`` columns of ``v`` and ``w`` (Theorem 1) or with ``p``
probe directions (Theorem 2). One concern per module:

* :mod:`~pyspec.matrix_free.options`: the ``method=`` choice (:func:`select_method`) and :class:`SolverOptions`;
* :mod:`~pyspec.matrix_free.operators`: compiled programs, linear operators, probes;
* :mod:`~pyspec.matrix_free.solvers`: row structures of ``∂θT``, ``∂yS`` and the solves built on them;
* :mod:`~pyspec.matrix_free.position`: good position and eq. (1), the hypotheses;
* :mod:`~pyspec.matrix_free.theorem1`, :mod:`~pyspec.matrix_free.theorem2`: each theorem's program and report;
* :mod:`~pyspec.matrix_free.sketch`: the sketched Theorem 1 (``method="sketched"``, cost independent of ``k``);
* :mod:`~pyspec.matrix_free.last_layer` (§5.3), :mod:`~pyspec.matrix_free.homogeneity` (§5.1),
  :mod:`~pyspec.matrix_free.eigen` (Lanczos on ``H``);
* :mod:`~pyspec.matrix_free.verdicts`: what float64 resolves at the point (rounding noise, second route).

The report types and the identity checks are the dense path's (:mod:`pyspec.reports`,
:mod:`pyspec.identities`), imported from below: neither path imports the other's internals.
"""

from pyspec.matrix_free.eigen import extreme_eigenvalue
from pyspec.matrix_free.homogeneity import homogeneity_terms_mf
from pyspec.matrix_free.last_layer import last_layer_terms_mf
from pyspec.matrix_free.operators import probe_directions
from pyspec.matrix_free.options import (
    DENSE_MAX_N, DIAGONAL_ROW, METHODS, SKETCH_MIN_K, SOLVE_SAFETY, Method, SolverOptions, check_method,
    select_method,
)
from pyspec.matrix_free.position import checked_position_mf, condition_program, position_report_mf
from pyspec.matrix_free.solvers import RowStructure, row_structures
from pyspec.matrix_free.theorem1 import theorem1_checks_mf, theorem1_program, theorem1_report_mf, theorem1_terms_mf
from pyspec.matrix_free.sketch import SketchOptions, sketch_bound, theorem1_report_sketched
from pyspec.matrix_free.theorem2 import theorem2_report_mf, theorem2_terms_mf

__all__ = [
    "METHODS",
    "Method",
    "DENSE_MAX_N",
    "SKETCH_MIN_K",
    "SketchOptions",
    "sketch_bound",
    "theorem1_report_sketched",
    "check_method",
    "select_method",
    "SolverOptions",
    "SOLVE_SAFETY",
    "DIAGONAL_ROW",
    "RowStructure",
    "row_structures",
    "probe_directions",
    "condition_program",
    "position_report_mf",
    "theorem1_terms_mf",
    "theorem1_checks_mf",
    "theorem1_program",
    "theorem1_report_mf",
    "theorem2_terms_mf",
    "theorem2_report_mf",
    "checked_position_mf",
    "last_layer_terms_mf",
    "homogeneity_terms_mf",
    "extreme_eigenvalue",
]
