"""``pyspec figures``: numerical experiments of the paper's Sections 4–6, each a prediction against a
measurement with a stated tolerance, a PNG and a JSON of its numbers, collected in ``REPORT.md``.

=====================  ===================================================================
name                   experiment
=====================  ===================================================================
``conservation``       a. GD drift ``O(η²)`` and gradient-flow conservation (§4.1)
``noether``            b. Noether flow under SGD across batch sizes (Corollary 2)
``sharpness``          c. ``λ_max(H)`` against the sharpness lower bound over training (§5.1)
``gradient_range``     d. Corollary 1: ``∇L`` in the top eigenspaces of ``H``
``null_space``         e. zero eigenvalues at a stationary point against ``rank v`` (§5.4)
``symmetry_blocks``    f. block-diagonal Hessian at fixed points of discrete symmetries (§6)
``last_layer``         g. Corollary 3: curvature along ``(BW, 0)`` against the softmax variance
=====================  ===================================================================

Sizes: ``tiny`` (tests, seconds), ``default`` (minutes on 2 CPU cores), ``large`` (a GPU).
"""

from pyspec.experiments.runner import EXPERIMENTS, SIZES, render_report, run_experiments

__all__ = ["EXPERIMENTS", "SIZES", "render_report", "run_experiments"]
