"""Tests of the ball backend (pyspec.backends.arb_backend): enclosures, exact input, kinks, nesting.

What is asserted
----------------
* Containment: for every namespace case of the mpmath backend's tests, each ball of the value and of
  the Jacobian contains the mpmath result at twice the digits (error ~10^-100, far below the balls'
  radii ~10^-50). The radii are at most ``10^-(digits-5)`` relative to the largest entry: an
  enclosure that is rigorous but useless (a blown-up radius) fails.
* Negative controls: the mpmath reference moved by ``10^-(digits-8)`` (relative) is *not* contained,
  and a ball straddling relu's kink raises :class:`~pyspec.errors.KinkError`.
* Second derivatives (nested Duals over balls) contain closed forms.
"""

from __future__ import annotations

from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("flint")

from flint import arb  # noqa: E402

from pyspec.backends import Backend, get_backend  # noqa: E402
from pyspec.backends.arb_backend import ArbBackend  # noqa: E402
from pyspec.errors import KinkError  # noqa: E402
from tests.backends.test_mp_backend import CASES, Case, _point  # noqa: E402

DIGITS = 50
ARB = ArbBackend(DIGITS)
REF = get_backend(2 * DIGITS)


def _reference(case: Case, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with REF.context():
        value = REF.xp.asarray(case.fun(REF.asarray(x), REF.xp))
        jac = REF.jacobian(lambda t: case.fun(t, REF.xp), x)
    return np.asarray(value, dtype=object), np.asarray(jac, dtype=object)


def _balls(case: Case, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with ARB.context():
        value = ARB.xp.asarray(case.fun(ARB.asarray(x), ARB.xp))
        jac = ARB.jacobian(lambda t: case.fun(t, ARB.xp), x)
    return value, jac


def _contains(balls: np.ndarray, exact: np.ndarray) -> bool:
    """Each ball contains the corresponding mpf (converted exactly: a binary float)."""
    with ArbBackend(4 * DIGITS).context():
        return all(b.contains(arb(e)) for b, e in zip(balls.ravel(), exact.ravel()))


def _width(balls: np.ndarray) -> float:
    scale = max([abs(float(b.mid())) for b in balls.ravel()] + [1e-300])
    return max([float(b.rad()) for b in balls.ravel()] + [0.0]) / scale


def test_is_a_backend() -> None:
    assert isinstance(ARB, Backend)
    assert get_backend(30, certify=True).name == "arb-30"
    with pytest.raises(ValueError, match="precision"):
        get_backend(None, certify=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_enclosures_contain_the_exact_value_and_jacobian(case: Case) -> None:
    x = _point(case)
    value, jac = _balls(case, x)
    ref_value, ref_jac = _reference(case, x)
    assert value.shape == ref_value.shape and jac.shape == ref_jac.shape
    assert _contains(value, ref_value), f"{case.name}: value not enclosed"
    assert _contains(jac, ref_jac), f"{case.name}: jacobian not enclosed"
    assert _width(jac) <= 10.0 ** -(DIGITS - 5), f"{case.name}: radius {_width(jac):.1e}"


def test_a_moved_reference_is_not_contained() -> None:
    """Negative control of the containment test: 10^-(digits-8) relative is far outside the balls."""
    case = next(c for c in CASES if c.name == "tanh")
    x = _point(case)
    _, jac = _balls(case, x)
    _, ref = _reference(case, x)
    with mpmath.workdps(2 * DIGITS):
        moved = np.array([v * (1 + mpmath.mpf(10) ** -(DIGITS - 8)) for v in ref.ravel()], dtype=object)
    assert not _contains(jac, moved.reshape(ref.shape))


def test_float64_input_is_exact() -> None:
    x = np.array([0.1, -1e-300, 3.5e200, 2.0**-60])
    balls = ARB.asarray(x)
    assert all(b.rad() == 0 for b in balls)
    assert [float(b) for b in balls] == list(x)


def test_relu_raises_on_a_ball_straddling_the_kink() -> None:
    with ARB.context():
        straddling = np.array([arb(0, 1e-60), arb(1)], dtype=object)
        with pytest.raises(KinkError, match="kink"):
            ARB.xp.relu(straddling)
        with pytest.raises(KinkError, match="kink"):
            ARB.jacobian(ARB.xp.relu, np.array([0.0, 1.0]))
        # away from the kink relu is exact
        assert [float(v) for v in ARB.xp.relu(ARB.asarray([-2.0, 3.0]))] == [0.0, 3.0]


def test_square_and_powers_of_balls_around_zero_stay_finite() -> None:
    with ARB.context():
        ball = np.array([arb(0, 1e-30)], dtype=object)
        assert ARB.xp.square(ball)[0].lower() >= 0
        assert ARB.jvp(lambda t: t**2, ball, np.ones((1, 1), dtype=object))[1][0, 0].contains(0)


def test_second_derivatives_are_enclosed() -> None:
    """Hessian of ``sum(tanh(x)^2 + log1p(x^2))`` contains its closed form (nested Duals over balls)."""
    x = np.array([0.3, -0.8, 1.2])

    def fun(t: Any) -> Any:
        xp = ARB.xp
        return xp.sum(xp.tanh(t) ** 2 + xp.log1p(t * t))

    hess = ARB.jacobian(lambda t: ARB.jacobian(fun, t), x)
    with mpmath.workdps(2 * DIGITS):
        exact = []
        for v in x:
            f = lambda s: mpmath.tanh(s) ** 2 + mpmath.log1p(s * s)  # noqa: E731
            exact.append(mpmath.diff(f, mpmath.mpf(v), 2))
        ref = np.diag(np.array(exact, dtype=object))
    ref[np.triu_indices(3, 1)] = ref[np.tril_indices(3, -1)] = mpmath.mpf(0)
    assert _contains(hess, ref)
    assert _width(hess) <= 10.0 ** -(DIGITS - 5)


def test_singular_matrix_is_rejected() -> None:
    with pytest.raises(np.linalg.LinAlgError, match="invertible"):
        ARB.solve(np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([1.0, 0.0]))


def test_norm_bounds_are_rigorous() -> None:
    with ARB.context():
        x = ARB.xp.asarray([3.0, 4.0]) / 3
        low, high = ARB.norm_bounds(x)
    assert low <= 5 / 3 <= high and high - low < 1e-15
    assert ARB.norm_bounds(np.array([arb(0, 1e-50)], dtype=object))[0] == 0.0


def test_eigenvalues_are_enclosed() -> None:
    """``Q diag(λ) Q`` with the Householder reflector ``Q = I − 2uuᵀ/uᵀu`` (exactly orthogonal) has the
    spectrum λ exactly, a double eigenvalue 0 included; a moved value is not enclosed."""
    u = np.array([0.5, -1.25, 2.0, 0.75, -1.0])
    lam = [-2.0, 0.0, 0.0, 1.5, 3.0]
    with ARB.context():
        xp = ARB.xp
        U = xp.asarray(u)
        Q = xp.eye(5) - 2 * xp.outer(U, U) / xp.sum(U * U)
        values = ARB.eigvalsh(Q @ xp.asarray(np.diag(lam)) @ Q)
    assert all(b.contains(arb(v)) for b, v in zip(values, lam))
    assert max(float(b.rad()) for b in values) < 1e-45
    assert not values[-1].contains(arb(3.0) + arb(10) ** -40)
