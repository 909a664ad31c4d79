"""Matrix-free linear algebra on JAX float64: iterative solves, Lanczos, power iteration.

Every routine takes a linear operator as a callable on 1-D arrays (a JVP, a VJP or a Hessian-vector
product) and never forms a matrix of the operator's size. All are pure JAX (``lax`` loops), so they
can be traced inside :func:`jax.jit`. Used by :mod:`pyspec.matrix_free` (Theorems 1–2) and by the
Section 5 checks (``λ_max`` of the Hessian, docs/theory.md#sharpness-lower-bound).

Convergence criteria
--------------------
* :func:`solve`: GMRES stops when ``‖A x − b‖ ≤ tol · ‖b‖``; the returned relative residual is
  recomputed with one extra product, so it is the residual of the returned ``x``, not the solver's
  internal estimate. :func:`solve_fixed` runs a fixed number of steps instead (no convergence test
  on the device) and returns the same measured residual.
* :func:`lanczos_max_eigenvalue`: stops when the Ritz residual ``‖H x − θ x‖ = β_j |s_j|`` (``x``
  the top Ritz vector, ``s_j`` its last coordinate in the Krylov basis) is at most
  ``tol · |θ|``. For symmetric ``H`` some eigenvalue lies in ``[θ − r, θ + r]``, and ``θ ≤ λ_max``
  always (Rayleigh quotient), so ``θ`` is a certified lower bound.
* :func:`power_iteration`: stops when ``‖H x − ρ x‖ ≤ tol · |ρ|`` with ``ρ = xᵀHx``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, TypedDict, Unpack

import jax
import jax.numpy as jnp
from jax import lax

__all__ = [
    "SolveOptions",
    "SolveResult",
    "LanczosResult",
    "PowerResult",
    "solve",
    "solve_fixed",
    "solve_columns",
    "diagonal_rows",
    "lanczos_max_eigenvalue",
    "lanczos_extremes",
    "power_iteration",
    "condition_estimate",
]

Operator = Callable[[jax.Array], jax.Array]
"""A linear map ``ℝⁿ → ℝⁿ`` given by its action on a 1-D array."""

BREAKDOWN = 1e-13
"""Lanczos stops (an invariant subspace is found) when ``β_j ≤ BREAKDOWN · max_i |α_i|, β_i``."""


class SolveOptions(TypedDict, total=False):
    """The keyword arguments of :func:`solve` (forwarded by :func:`solve_columns`)."""

    tol: float
    restart: int
    maxiter: int


class SolveResult(NamedTuple):
    """Solution of ``A x = b`` and its relative residual ``‖A x − b‖ / ‖b‖`` (0 for ``b = 0``)."""

    x: jax.Array
    relative_residual: jax.Array


class LanczosResult(NamedTuple):
    """Largest Ritz pair of a symmetric operator.

    Attributes
    ----------
    eigenvalue : scalar
        Largest Ritz value ``θ`` (a lower bound on ``λ_max``).
    eigenvector : (n,) array
        Its unit Ritz vector ``x``.
    residual : scalar
        ``β_j |s_j| = ‖H x − θ x‖`` (an eigenvalue of ``H`` lies within it of ``θ``).
    iterations : int scalar
        Operator applications used.
    converged : bool scalar
        ``residual ≤ tol · |θ|``, or an invariant subspace was found.
    """

    eigenvalue: jax.Array
    eigenvector: jax.Array
    residual: jax.Array
    iterations: jax.Array
    converged: jax.Array


class PowerResult(NamedTuple):
    """Dominant (largest ``|λ|``) eigenpair estimate: Rayleigh quotient, vector, ``‖Hx − ρx‖``."""

    eigenvalue: jax.Array
    eigenvector: jax.Array
    residual: jax.Array
    iterations: jax.Array
    converged: jax.Array


def solve(matvec: Operator, b: jax.Array, *, tol: float = 1e-13, restart: int = 30, maxiter: int = 20) -> SolveResult:
    """Solve ``A x = b`` with restarted GMRES (``jax.scipy.sparse.linalg.gmres``, incremental).

    Differentiable in ``b`` and in whatever ``matvec`` closes over (implicit differentiation via
    ``lax.custom_linear_solve``: the transposed solve uses the transposed ``matvec``).

    Parameters
    ----------
    matvec : callable
        ``x ↦ A x``, linear.
    b : (n,) array
    tol : float
        Requested relative residual (see the module docstring).
    restart : int
        Krylov dimension per cycle (memory ``(restart + 1) · n``); capped at ``n``.
    maxiter : int
        Number of restart cycles.
    """
    n = b.shape[0]
    x, _ = jax.scipy.sparse.linalg.gmres(
        matvec, b, tol=tol, atol=0.0, restart=min(restart, n), maxiter=maxiter, solve_method="incremental"
    )
    norm_b = jnp.linalg.norm(b)
    resid = jnp.linalg.norm(matvec(x) - b)
    return SolveResult(x, jnp.where(norm_b > 0, resid / jnp.where(norm_b > 0, norm_b, 1.0), resid))


def solve_fixed(matvec: Operator, b: jax.Array, *, iterations: int = 20, cycles: int = 2) -> SolveResult:
    """Solve ``A x = b`` by restarted GMRES with a fixed number of steps: ``cycles`` cycles of exactly
    ``iterations`` Arnoldi steps (modified Gram–Schmidt), each closed by a small least-squares solve.

    Every loop has a static trip count (``lax.fori_loop``): no convergence test is evaluated, so on an
    accelerator no iteration waits for the host (a data-dependent ``while`` loop copies its predicate to
    the host at every step). A Krylov breakdown (``A``'s minimal polynomial reached: the exact solution
    is in the space) leaves zero basis vectors, which the least-squares solve ignores. The returned
    relative residual is measured, as in :func:`solve`.
    """
    n = b.shape[0]
    m = min(iterations, n)
    tiny = jnp.finfo(b.dtype).tiny

    def cycle(_: int, x: jax.Array) -> jax.Array:
        r = b - matvec(x)
        beta = jnp.linalg.norm(r)
        V = jnp.zeros((m + 1, n), b.dtype).at[0].set(r / jnp.where(beta > tiny, beta, 1.0))
        H = jnp.zeros((m + 1, m), b.dtype)

        def arnoldi(j: int, state: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
            V, H = state
            w = matvec(V[j])

            def orth(i: int, wh: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
                w, h = wh
                hij = jnp.where(i <= j, jnp.vdot(V[i], w), 0.0)
                return w - hij * V[i], h.at[i].set(hij)

            w, h = lax.fori_loop(0, m, orth, (w, jnp.zeros(m + 1, b.dtype)))
            norm = jnp.linalg.norm(w)
            ok = norm > 1e3 * jnp.finfo(b.dtype).eps * jnp.maximum(jnp.linalg.norm(h), tiny)
            h = h.at[j + 1].set(jnp.where(ok, norm, 0.0))
            return V.at[j + 1].set(jnp.where(ok, w / jnp.where(ok, norm, 1.0), 0.0)), H.at[:, j].set(h)

        V, H = lax.fori_loop(0, m, arnoldi, (V, H))
        rhs = jnp.zeros(m + 1, b.dtype).at[0].set(beta)
        y = jnp.linalg.lstsq(H, rhs)[0]
        return x + V[:m].T @ y

    x = lax.fori_loop(0, cycles, cycle, jnp.zeros_like(b))
    norm_b = jnp.linalg.norm(b)
    resid = jnp.linalg.norm(matvec(x) - b)
    return SolveResult(x, jnp.where(norm_b > 0, resid / jnp.where(norm_b > 0, norm_b, 1.0), resid))


def solve_columns(matvec: Operator, B: jax.Array, **kwargs: Unpack[SolveOptions]) -> SolveResult:
    """:func:`solve` for each column of ``B`` (``n × k``), one after another (memory of one solve).

    Returns ``X`` (``n × k``) and the largest relative residual over the columns.
    """
    X, res = lax.map(lambda b: solve(matvec, b, **kwargs), B.T)
    return SolveResult(X.T, jnp.max(res, initial=0.0))


def diagonal_rows(matvec: Operator, u: jax.Array, u2: jax.Array, *, tol: float) -> tuple[jax.Array, jax.Array]:
    """Find the rows of ``A`` that are multiples of unit rows, ``A_i = c_i e_iᵀ``, from two probes.

    Returns ``c`` (``c_i = ((Au)_i u_i + (Au₂)_i u₂_i) / (u_i² + u₂_i²)``) and the mask of rows with
    ``|(Au)_i u₂_i − (Au₂)_i u_i| ≤ tol · (|(Au)_i u₂_i| + |(Au₂)_i u_i|)`` and ``c_i ≠ 0``.

    Guarantee: a row ``A_i = c e_iᵀ + s`` with ``s ≠ 0``, ``s ⊥ e_i`` makes the left side
    ``|(s·u) u₂_i − (s·u₂) u_i|``, a non-zero polynomial in the probes, so for random (Gaussian)
    probes it is flagged with probability 1; a diagonal row computed with rounding errors gives a
    ratio of order ``eps``. ``A = cI`` (e.g. ``T(a, θ) = aθ``) marks every row.
    """
    Au, Au2 = matvec(u), matvec(u2)
    c = (Au * u + Au2 * u2) / (u * u + u2 * u2)
    mismatch = jnp.abs(Au * u2 - Au2 * u)
    return c, (mismatch <= tol * (jnp.abs(Au * u2) + jnp.abs(Au2 * u))) & (c != 0)


def _start(n: int, v0: jax.Array | None, key: jax.Array | None) -> jax.Array:
    if v0 is None:
        v0 = jax.random.normal(jax.random.PRNGKey(0) if key is None else key, (n,), dtype=jnp.float64)
    return v0 / jnp.linalg.norm(v0)


def _tridiagonal(alpha: jax.Array, beta: jax.Array, size: jax.Array) -> jax.Array:
    """The ``size × size`` Lanczos matrix, padded to ``len(alpha)`` by a decoupled diagonal below its
    spectrum (below the Gershgorin bound), so its top eigenpair is the active block's."""
    p = alpha.shape[0]
    idx = jnp.arange(p)
    active = idx < size
    off = jnp.where(idx[:-1] < size - 1, beta[:-1], 0.0)
    low = jnp.min(jnp.where(active, alpha, jnp.inf)) - 2.0 * jnp.max(jnp.abs(off), initial=0.0)
    diag = jnp.where(active, alpha, low - jnp.abs(low) - 1.0)
    return jnp.diag(diag) + jnp.diag(off, 1) + jnp.diag(off, -1)


class _LanczosState(NamedTuple):
    j: jax.Array
    Q: jax.Array  # (num_iter + 1, n) basis rows (full reorthogonalization) or (2, n) last two
    alpha: jax.Array
    beta: jax.Array
    done: jax.Array
    residual: jax.Array


def _lanczos(op: Operator, q0: jax.Array, num_iter: int, tol: float, reorthogonalize: bool) -> _LanczosState:
    """Symmetric Lanczos from the unit ``q0``; stops on convergence of the top Ritz value or breakdown."""
    n = q0.shape[0]
    rows = num_iter + 1 if reorthogonalize else 2
    Q = jnp.zeros((rows, n), dtype=q0.dtype).at[0].set(q0)
    zeros = jnp.zeros(num_iter, dtype=q0.dtype)
    init = _LanczosState(jnp.asarray(0), Q, zeros, zeros, jnp.asarray(False), jnp.asarray(jnp.inf, q0.dtype))

    def body(s: _LanczosState) -> _LanczosState:
        j = s.j
        if reorthogonalize:
            q, q_prev = s.Q[j], s.Q[jnp.maximum(j - 1, 0)]
        else:
            q, q_prev = s.Q[1], s.Q[0]
        w = op(q)
        a = jnp.vdot(q, w)
        b_prev = jnp.where(j > 0, s.beta[jnp.maximum(j - 1, 0)], 0.0)
        w = w - a * q - b_prev * q_prev
        if reorthogonalize:  # classical Gram–Schmidt, twice ("twice is enough"); unused rows are 0
            for _ in range(2):
                w = w - s.Q.T @ (s.Q @ w)
        b = jnp.linalg.norm(w)
        alpha, beta = s.alpha.at[j].set(a), s.beta.at[j].set(b)
        scale = jnp.maximum(jnp.max(jnp.abs(alpha)), jnp.max(beta))
        breakdown = b <= BREAKDOWN * scale
        q_next = jnp.where(breakdown, 0.0, w / jnp.where(breakdown, 1.0, b))
        Q = s.Q.at[j + 1].set(q_next) if reorthogonalize else jnp.stack([q, q_next])
        evals, evecs = jnp.linalg.eigh(_tridiagonal(alpha, beta, j + 1))
        theta, last = evals[-1], evecs[j, -1]
        residual = jnp.where(breakdown, 0.0, b * jnp.abs(last))
        done = breakdown | (residual <= tol * jnp.abs(theta)) | (j + 1 >= min(num_iter, n))
        return _LanczosState(j + 1, Q, alpha, beta, done, residual)

    if not reorthogonalize:
        init = init._replace(Q=jnp.stack([jnp.zeros_like(q0), q0]))
    return lax.while_loop(lambda s: ~s.done, body, init)


def lanczos_max_eigenvalue(
    hvp: Operator,
    n: int,
    *,
    num_iter: int = 50,
    tol: float = 1e-10,
    v0: jax.Array | None = None,
    key: jax.Array | None = None,
) -> LanczosResult:
    """Largest eigenvalue of a symmetric operator (e.g. the Hessian via HVPs) by Lanczos.

    Matrix-free, with full reorthogonalization (classical Gram–Schmidt applied twice against the
    stored basis), so memory is ``(num_iter + 1) · n`` and Ritz values do not duplicate. Stops at
    ``num_iter`` products, when an invariant subspace is found (exact in exact arithmetic), or when
    the Ritz residual ``β_j |s_j| ≤ tol · |θ|`` (module docstring). ``θ ≤ λ_max`` always; the start
    vector is random (``key``) unless ``v0`` is given, so ``λ_max``'s eigenvector is not missed except
    with probability 0.

    Parameters
    ----------
    hvp : callable
        ``x ↦ H x`` for symmetric ``H`` (``n × n``), e.g. ``jax.linearize(jax.grad(L), θ)[1]``.
    n : int
    num_iter : int
        Maximum number of products (capped at ``n``).
    tol : float
        Relative Ritz-residual tolerance.
    v0 : (n,) array, optional
        Start vector.
    key : PRNG key, optional
        Seeds the random start vector (default ``PRNGKey(0)``).
    """
    q0 = _start(n, v0, key)
    s = _lanczos(hvp, q0, num_iter, tol, reorthogonalize=True)
    evals, evecs = jnp.linalg.eigh(_tridiagonal(s.alpha, s.beta, s.j))
    x = s.Q[:-1].T @ evecs[:, -1]
    return LanczosResult(evals[-1], x / jnp.linalg.norm(x), s.residual, s.j, s.residual <= tol * jnp.abs(evals[-1]))


def lanczos_extremes(op: Operator, n: int, *, num_iter: int = 30, v0: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Smallest and largest Ritz values after ``num_iter`` Lanczos steps (or breakdown), without
    reorthogonalization (memory ``O(n)``): extreme Ritz values converge from inside the spectrum
    even as orthogonality is lost (Paige), so ``[θ_min, θ_max] ⊆ [λ_min, λ_max]``."""
    s = _lanczos(op, _start(n, v0, None), num_iter, 0.0, reorthogonalize=False)
    evals = jnp.linalg.eigvalsh(_tridiagonal(s.alpha, s.beta, s.j))
    return jnp.min(jnp.where(jnp.arange(num_iter) >= num_iter - s.j, evals, jnp.inf)), evals[-1]


def condition_estimate(matvec: Operator, rmatvec: Operator, n: int, *, num_iter: int = 30) -> jax.Array:
    """2-norm condition number estimate ``sqrt(θ_max / θ_min)`` of ``A`` from Lanczos on ``AᵀA``.

    A lower bound on ``cond(A)`` (Ritz values lie inside the spectrum), exact once ``num_iter ≥ n``
    or the Krylov space is invariant; ``inf`` when ``θ_min ≤ 0`` (numerically singular).
    """
    lo, hi = lanczos_extremes(lambda x: rmatvec(matvec(x)), n, num_iter=num_iter)
    return jnp.where(lo > 0, jnp.sqrt(hi / jnp.where(lo > 0, lo, 1.0)), jnp.inf)


def power_iteration(
    hvp: Operator,
    n: int,
    *,
    num_iter: int = 100,
    tol: float = 1e-8,
    v0: jax.Array | None = None,
    key: jax.Array | None = None,
) -> PowerResult:
    """Dominant eigenvalue (largest ``|λ|``) of a symmetric operator by power iteration.

    One product per iteration; memory ``O(n)``. Returns the Rayleigh quotient ``ρ = xᵀHx`` of the last
    iterate and ``‖Hx − ρx‖``; stops after ``num_iter`` products or when ``‖Hx − ρx‖ ≤ tol · |ρ|``
    (``tol = 0`` runs exactly ``num_iter``). It converges at rate ``|λ₂/λ₁|`` to the eigenvalue of
    largest modulus, which is ``λ_max`` only when ``λ_max ≥ |λ_min|``: prefer
    :func:`lanczos_max_eigenvalue` for ``λ_max`` of an indefinite Hessian.
    """
    x0 = _start(n, v0, key)

    def body(state: tuple) -> tuple:
        i, x, _, _, _ = state
        y = hvp(x)
        rho = jnp.vdot(x, y)
        norm_y = jnp.linalg.norm(y)
        x_next = jnp.where(norm_y > 0, y / jnp.where(norm_y > 0, norm_y, 1.0), x)
        return i + 1, x_next, x, rho, jnp.linalg.norm(y - rho * x)

    def cond(state: tuple) -> jax.Array:
        i, _, _, rho, res = state
        return (i < num_iter) & ~((i > 0) & (res <= tol * jnp.abs(rho)))

    init = (jnp.asarray(0), x0, x0, jnp.asarray(0.0, x0.dtype), jnp.asarray(jnp.inf, x0.dtype))
    i, _, x, rho, res = lax.while_loop(cond, body, init)
    return PowerResult(rho, x, res, i, res <= tol * jnp.abs(rho))
