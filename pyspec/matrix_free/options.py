"""Evaluation-path selection and the matrix-free solver settings (docs/design.md#evaluation-paths)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from pyspec.backends import duals_active

__all__ = ["Method", "METHODS", "DENSE_MAX_N", "SKETCH_MIN_K", "SOLVE_SAFETY", "DIAGONAL_ROW", "SolverOptions",
           "check_method", "select_method"]

Method = Literal["auto", "dense", "matrix_free", "sketched"]
"""The ``method=`` argument: ``"dense"`` forms Jacobians and Hessians, ``"matrix_free"`` uses JVPs, VJPs,
HVPs and structured or iterative solves only, ``"sketched"`` estimates the residuals from random probes
at a cost independent of ``k`` (:mod:`pyspec.matrix_free.sketch`), ``"auto"`` picks by size and ``k``
(:func:`select_method`)."""

METHODS: tuple[Method, ...] = ("auto", "dense", "matrix_free", "sketched")
"""Evaluation paths of :func:`pyspec.theorem1` and :func:`pyspec.theorem2`."""

DENSE_MAX_N = 1000
"""``method="auto"`` is dense up to this many parameters. The dense path forms several ``n × n``
matrices (``∂θT``, ``γ·T_θθ``, the Jacobian of ``θ' ↦ ∇Lᵀv(θ')``) by ``n`` forward tangents and
factorizes ``∂θT``: ``O(n²)`` memory and ``O(n³)`` time, against ``O(k)`` HVPs plus ``T``-only work for
the matrix-free path. At ``n ≈ 1000`` the dense check takes about 0.2 s and 160 MiB, at ``n ≈ 10⁴``
24 s and 10 GiB against 6 ms and 2 MiB matrix-free (``benchmarks/RESULTS.md``)."""

SKETCH_MIN_K = 16
"""``method="auto"`` sketches Theorem 1 when ``n >`` :data:`DENSE_MAX_N` and ``k ≥ SKETCH_MIN_K``. The
exact matrix-free check costs about one HVP and three pullbacks per direction (``≈ 4k`` model passes)
and holds ``v`` (``k`` ``n``-vectors); the sketch ``2p + 1`` tangents and one pullback (``17`` at
``p = 8``) and a fixed number of ``n``-vectors. From ``k = 16`` the sketch is about four times cheaper;
below, the exact check is affordable and deterministic."""

SOLVE_SAFETY = 4.0
"""Factor on ``κ ρ`` in the tolerance (module docstring: ``v`` enters at most quadratically)."""

DIAGONAL_ROW = 1e3 * np.finfo(np.float64).eps
"""Relative mismatch below which a row of ``∂θT`` (``∂yS``) is taken to be diagonal
(:func:`pyspec.linalg.diagonal_rows`). A coupling this weak that is missed shows in the measured
solve residual, which enters the tolerance."""


@dataclasses.dataclass(frozen=True)
class SolverOptions:
    """Iterative-solve and spectrum-estimate settings of the matrix-free path.

    Attributes
    ----------
    tol : float
        GMRES relative-residual target.
    restart, maxiter : int
        GMRES Krylov dimension per cycle (memory ``(restart + 1) · n``) and number of cycles.
    condition_iterations : int
        Lanczos steps on ``AᵀA`` for the condition-number estimate (a lower bound; exact when it
        reaches the dimension) and for ``‖J‖₂`` in Theorem 2.
    fixed_cycles : int
        ``0`` (default): GMRES with an on-device convergence test (:func:`pyspec.linalg.solve`). ``c > 0``:
        exactly ``c`` cycles of ``restart`` steps (:func:`pyspec.linalg.solve_fixed`), loops with static
        trip counts that never wait for the host on an accelerator; the measured residual of the
        top-level solves enters the tolerance as before (the solves inside implicit derivatives are
        not measured: choose cycles that bring the measured residual to ``tol``).
    direct_max : int
        The active block ``C`` (``p × p``, :class:`RowStructure`) is formed by ``p`` products and
        LU-factorized when ``p`` times the size of the leaves holding it is at most this (32 MiB of
        products by default: ``∂yS`` of a last-layer action, any ``∂θT`` of a small model), an exact
        solve with no iteration; larger blocks use GMRES. ``0`` forces GMRES.
    """

    tol: float = 1e-13
    restart: int = 20
    maxiter: int = 50
    condition_iterations: int = 30
    direct_max: int = 2**22
    fixed_cycles: int = 0


def check_method(method: Method, precision: int | None, sketchable: bool = True) -> None:
    """Raise ``ValueError`` for an unknown method, a matrix-free or sketched request at high precision,
    or ``"sketched"`` where it does not apply (``sketchable=False``: checks other than Theorems 1 and 2)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if method == "sketched" and not sketchable:
        raise ValueError("method='sketched' applies to pyspec.theorem1 and pyspec.theorem2; use 'matrix_free' here")
    if method in ("matrix_free", "sketched") and precision is None and duals_active():
        raise ValueError(f"method={method!r} runs in JAX float64 only: not inside pyspec.backends.dual_float64(); "
                         "use method='dense' (or 'auto')")
    if method in ("matrix_free", "sketched") and precision is not None:
        raise ValueError(
            f"method={method!r} runs in JAX float64 only (iterative solves and HVPs have no mpmath "
            f"version); got precision={precision}: use method='dense' (or 'auto') for {precision} digits"
        )


def select_method(method: Method, n: int, precision: int | None, k: int = 0) -> Method:
    """``"dense"``, ``"matrix_free"`` or ``"sketched"``: ``method`` itself, or for ``"auto"`` dense when
    ``precision`` is set or ``n ≤`` :data:`DENSE_MAX_N`, else sketched when ``k ≥`` :data:`SKETCH_MIN_K`
    (``k``: the number of directions of Theorem 1), else matrix-free."""
    check_method(method, precision)
    if method != "auto":
        return method
    if precision is not None or n <= DENSE_MAX_N or duals_active():
        return "dense"
    return "sketched" if k >= SKETCH_MIN_K else "matrix_free"

