"""§5.3 matrix-free: what Corollary 3 needs, from the reduced Theorem 1 program."""

from __future__ import annotations

import numpy as np

from pyspec.backends.base import Array
from pyspec.equivariance import Problem
from pyspec.identities import hessian_scale_from_norms
from pyspec.matrix_free.operators import compile_mf
from pyspec.matrix_free.options import SolverOptions
from pyspec.matrix_free.solvers import RowStructure
from pyspec.matrix_free.theorem1 import solve_widening, theorem1_program
from pyspec.terms import LastLayerTerms

__all__ = ["last_layer_terms_mf"]


def last_layer_terms_mf(
    problem: Problem, a: Array, theta: Array, structures: tuple[RowStructure, RowStructure], condition: float,
    opts: SolverOptions = SolverOptions(),
) -> LastLayerTerms:
    """What Corollary 3 needs, from the reduced matrix-free Theorem 1 program
    (:func:`pyspec.matrix_free.theorem1.theorem1_program`, ``keep_arrays=False``): ``vᵀHv``, ``w``,
    ``Kw``, ``y``, the magnitudes ``‖v‖``, ``‖H‖`` (:func:`pyspec.identities.hessian_scale_from_norms`),
    ``‖K‖ ≈ max_b ‖Kw_b‖/‖w_b‖``, and the tolerance widening of
    :func:`pyspec.matrix_free.theorem1.solve_widening`."""
    B = problem.backend
    q = B.to_host(theorem1_program(problem, structures, opts, keep_arrays=False)(a, theta))
    c, p = q.contractions, q.probe
    w, Kw = np.asarray(c.w), np.asarray(c.Kw)
    norms_w = np.linalg.norm(w, axis=0)
    norm_K = float(np.max(np.linalg.norm(Kw, axis=0)[norms_w > 0] / norms_w[norms_w > 0], initial=0.0))
    return LastLayerTerms(
        vHv=c.vHv, w=c.w, Kw=c.Kw, y=B.to_host(compile_mf(problem, problem.f)(theta)), norm_v=float(c.norm_v),
        norm_H=hessian_scale_from_norms(problem.n, float(p.norm_GtKGu), float(p.norm_Hu_rest), float(p.Hv_ratio)),
        norm_K=norm_K, solve_widening=solve_widening(problem, structures, opts, float(q.solve_residual), condition),
    )
