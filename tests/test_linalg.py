"""Matrix-free linear algebra (pyspec.linalg): Lanczos and power iteration against eigvalsh, GMRES,
condition estimates, with negative controls."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pyspec import linalg


def _symmetric(n: int, seed: int) -> np.ndarray:
    A = np.random.default_rng(seed).standard_normal((n, n))
    return (A + A.T) / 2


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_lanczos_matches_eigvalsh(n) -> None:
    H = _symmetric(n, n)
    Hj = jnp.asarray(H)
    r = jax.jit(lambda: linalg.lanczos_max_eigenvalue(lambda x: Hj @ x, n, num_iter=60, tol=1e-12))()
    top = np.linalg.eigvalsh(H)[-1]
    assert abs(float(r.eigenvalue) - top) <= 1e-12 * max(1.0, abs(top))
    assert bool(r.converged) and int(r.iterations) <= n
    x = np.asarray(r.eigenvector)
    assert np.linalg.norm(H @ x - float(r.eigenvalue) * x) <= 1e-6 * abs(top) + float(r.residual) * 10


def test_lanczos_residual_bound_is_certified() -> None:
    """Stopped early, θ ≤ λ_max and an eigenvalue lies within the reported residual of θ."""
    n = 200
    H = _symmetric(n, 3)
    Hj = jnp.asarray(H)
    r = linalg.lanczos_max_eigenvalue(lambda x: Hj @ x, n, num_iter=15, tol=0.0)
    ev = np.linalg.eigvalsh(H)
    theta, res = float(r.eigenvalue), float(r.residual)
    assert theta <= ev[-1] + 1e-12 and int(r.iterations) == 15
    assert np.min(np.abs(ev - theta)) <= res * (1 + 1e-8)
    x = np.asarray(r.eigenvector)
    assert abs(np.linalg.norm(H @ x - theta * x) - res) <= 1e-8 * abs(theta)


def test_lanczos_negative_control_wrong_operator() -> None:
    """A non-symmetric operator or a different matrix gives a value far from eigvalsh's."""
    n = 30
    H = _symmetric(n, 5)
    other = jnp.asarray(H + np.diag(np.linspace(0, 3, n)))
    r = linalg.lanczos_max_eigenvalue(lambda x: other @ x, n, num_iter=60)
    assert abs(float(r.eigenvalue) - np.linalg.eigvalsh(H)[-1]) > 1e-2


def test_lanczos_invariant_subspace_breakdown() -> None:
    """H = cI: the Krylov space is invariant after one step (exact, converged)."""
    r = linalg.lanczos_max_eigenvalue(lambda x: 2.5 * x, 50)
    assert float(r.eigenvalue) == pytest.approx(2.5, abs=1e-15) and int(r.iterations) == 1 and bool(r.converged)


def test_power_iteration_dominant_eigenvalue() -> None:
    n = 20
    Q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((n, n)))
    ev = np.concatenate([[5.0, -2.0], np.linspace(-1, 1, n - 2)])
    H = jnp.asarray(Q @ np.diag(ev) @ Q.T)
    r = linalg.power_iteration(lambda x: H @ x, n, num_iter=500, tol=1e-10)
    assert bool(r.converged) and float(r.eigenvalue) == pytest.approx(5.0, rel=1e-9)
    fixed = linalg.power_iteration(lambda x: H @ x, n, num_iter=20, tol=0.0)
    assert int(fixed.iterations) == 20
    # negative control: dominant |λ| is negative -> power iteration does not return λ_max
    r2 = linalg.power_iteration(lambda x: -H @ x, n, num_iter=500, tol=1e-10)
    assert float(r2.eigenvalue) == pytest.approx(-5.0, rel=1e-9)


def test_gmres_solve_and_residual() -> None:
    n = 25
    rng = np.random.default_rng(2)
    M = np.eye(n) + 0.3 * rng.standard_normal((n, n)) / np.sqrt(n)
    b = rng.standard_normal(n)
    Mj = jnp.asarray(M)
    r = linalg.solve(lambda x: Mj @ x, jnp.asarray(b))
    assert np.linalg.norm(np.asarray(r.x) - np.linalg.solve(M, b)) <= 1e-12 * np.linalg.norm(b)
    assert float(r.relative_residual) <= 1e-13
    # negative control: too few iterations leave a measured residual far above tol
    short = linalg.solve(lambda x: Mj @ x, jnp.asarray(b), restart=2, maxiter=1)
    assert float(short.relative_residual) > 1e-6


def test_condition_estimate() -> None:
    n = 12
    M = np.random.default_rng(4).standard_normal((n, n))
    Mj = jnp.asarray(M)
    est = float(linalg.condition_estimate(lambda x: Mj @ x, lambda x: Mj.T @ x, n, num_iter=40))
    assert est == pytest.approx(np.linalg.cond(M), rel=1e-6)


def test_diagonal_rows_finds_exactly_the_diagonal_rows() -> None:
    """Rows c_i e_iᵀ are found with their c_i; a row with any off-diagonal entry (even one weak entry)
    or a zero row is not (negative controls)."""
    n = 9
    rng = np.random.default_rng(5)
    c = rng.uniform(0.5, 2.0, n)
    M = np.diag(c)
    M[2, 5] = 0.3  # coupled row
    M[4, :] = rng.standard_normal(n)  # dense row
    M[6, 0] = 1e-6  # weak coupling, still flagged
    M[7, 7] = 0.0  # zero row: not invertible, not diagonal
    Mj = jnp.asarray(M)
    u, u2 = (jnp.asarray(rng.standard_normal(n)) for _ in range(2))
    est, diag = linalg.diagonal_rows(lambda x: Mj @ x, u, u2, tol=1e-12)
    expected = np.ones(n, bool)
    expected[[2, 4, 6, 7]] = False
    assert np.array_equal(np.asarray(diag), expected)
    assert np.allclose(np.asarray(est)[expected], c[expected], rtol=1e-14)
    _, all_diag = linalg.diagonal_rows(lambda x: 3.0 * x, u, u2, tol=1e-12)
    assert bool(np.all(np.asarray(all_diag)))


def test_solve_fixed_matches_gmres_without_a_convergence_test() -> None:
    """Fixed-step GMRES (static trip counts) solves a well-conditioned system and a block operator whose
    Krylov space breaks down early (a GL(4) acting on 30 rows: minimal polynomial of degree ≤ 4)."""
    rng = np.random.default_rng(0)
    A = np.eye(60) + 0.2 * rng.standard_normal((60, 60)) / np.sqrt(60)
    b = rng.standard_normal(60)
    out = linalg.solve_fixed(lambda x: jnp.asarray(A) @ x, jnp.asarray(b), iterations=30, cycles=3)
    assert float(out.relative_residual) <= 1e-13
    np.testing.assert_allclose(np.asarray(out.x), np.linalg.solve(A, b), rtol=1e-11)
    G = np.eye(4) + 0.3 * rng.standard_normal((4, 4))
    X = rng.standard_normal((4, 30))
    block = linalg.solve_fixed(lambda x: jnp.ravel(jnp.asarray(G) @ jnp.reshape(x, (4, 30))), jnp.asarray(X.ravel()),
                               iterations=20, cycles=1)
    assert float(block.relative_residual) <= 1e-13 and np.all(np.isfinite(np.asarray(block.x)))
    np.testing.assert_allclose(np.asarray(block.x), np.linalg.solve(G, X).ravel(), rtol=1e-10)
