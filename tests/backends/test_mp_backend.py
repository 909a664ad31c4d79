"""Tests of the mpmath backend: agreement with JAX, exactness at 50/100 digits, nesting, errors.

Tolerances
----------
* Against JAX (float64): ``1e-13`` normwise relative. The mpmath result rounded to float64 is within
  ``1.1e-16`` of the exact value; JAX's float64 evaluation of these well-conditioned inputs (condition
  numbers <= ~1e2) errs by at most ~1e-14, so 1e-13 leaves an order of magnitude of margin while a
  wrong derivative formula gives errors of order 1.
* Exactness at ``d`` digits: ``10**-(d-5)`` normwise relative against a reference computed at ``2d``
  digits. A derivative is a composition of at most a few hundred rounded operations (relative error
  ``10**-d`` each) on inputs with condition numbers <= ~1e2, i.e. an error ~``10**-(d-4)`` at worst;
  anything that leaks float64 (an error ~1e-16) or truncates a series early fails by 30+ digits.
"""

from __future__ import annotations

import dataclasses
import time
import zlib

from typing import Any, Callable

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pyspec.backends import NAMESPACE_FUNCTIONS, Backend, get_backend  # noqa: E402
from pyspec.backends.jax_backend import JaxBackend  # noqa: E402
from pyspec.backends.mp_backend import Dual, MpBackend  # noqa: E402

JAX = JaxBackend()
MP = MpBackend(50)
JAX_RTOL = 1e-13


# ---------------------------------------------------------------------------------------------
# comparison helpers


def rel_err(actual: Any, expected: Any) -> float:
    """Normwise relative error ``max|a - e| / max|e|`` in float64 (``max|a|`` when ``e == 0``)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"shapes differ: {a.shape} vs {e.shape}"
    scale = float(np.max(np.abs(e), initial=0.0))
    diff = float(np.max(np.abs(a - e), initial=0.0))
    return diff / scale if scale > 0 else diff


def assert_rel_close(actual: Any, expected: Any, rtol: float, what: str) -> None:
    """Assert a float64 normwise relative error of at most ``rtol``."""
    err = rel_err(actual, expected)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.1e}"


def mp_rel_err(actual: Any, expected: Any, dps: int) -> mpmath.mpf:
    """Normwise relative error computed with mpmath at ``dps`` digits (inputs are not rounded)."""
    a = np.asarray(actual, dtype=object)
    e = np.asarray(expected, dtype=object)
    assert a.shape == e.shape, f"shapes differ: {a.shape} vs {e.shape}"
    with mpmath.workdps(dps):
        diff = max((abs(mpmath.mpf(u) - mpmath.mpf(v)) for u, v in zip(a.ravel(), e.ravel())), default=0)
        scale = max((abs(mpmath.mpf(v)) for v in e.ravel()), default=0)
        return diff / scale if scale > 0 else mpmath.mpf(diff)


def assert_mp_close(actual: Any, expected: Any, digits: int, what: str) -> None:
    """Assert agreement to ``digits - 5`` digits, the error measured at ``2 * digits`` digits."""
    err = mp_rel_err(actual, expected, 2 * digits)
    tol = mpmath.mpf(10) ** (5 - digits)
    assert err <= tol, f"{what}: relative error {mpmath.nstr(err, 3)} > 1e-{digits - 5}"


def assert_symmetric(h: Any, digits: int, what: str) -> None:
    """Assert ``h`` equals its transpose to ``digits - 5`` digits."""
    h = np.asarray(h, dtype=object)
    assert_mp_close(h, h.T, digits, f"{what} (symmetry)")


def mp_matrix(a: Any) -> mpmath.matrix:
    return mpmath.matrix(np.asarray(a, dtype=object).tolist())


def from_mp_matrix(m: mpmath.matrix) -> np.ndarray:
    return np.array(m.tolist(), dtype=object)


# ---------------------------------------------------------------------------------------------
# (a) every namespace function and operator against JAX


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    covers: tuple[str, ...]
    n: int
    fun: Callable[[Any, Any], Any]
    domain: str = "sym"  # "sym": U(-1, 1); "pos": U(0.5, 2); "away": |x| in (0.2, 1)


_C = np.random.default_rng(7)
C6 = _C.normal(size=6)
M23 = _C.normal(size=(2, 3))
A0 = 4.0 * np.eye(3) + 0.5 * _C.normal(size=(3, 3))


def _a(t: Any, xp: Any) -> Any:
    return A0 + 0.3 * xp.reshape(t[:9], (3, 3))


CASES = [
    Case("asarray", ("asarray",), 6, lambda t, xp: t * xp.asarray(C6) + xp.asarray(0.25)),
    Case("zeros", ("zeros",), 6, lambda t, xp: t + xp.zeros(6) + xp.zeros((6,))),
    Case("ones", ("ones",), 6, lambda t, xp: t * xp.ones((6,)) * xp.ones(6)),
    Case("eye", ("eye",), 6, lambda t, xp: xp.eye(6) @ (t * t)),
    Case("reshape", ("reshape",), 6, lambda t, xp: xp.reshape(t * t, (2, 3))),
    Case("ravel", ("ravel",), 6, lambda t, xp: xp.ravel(xp.reshape(t, (2, 3)) * M23)),
    Case("concatenate", ("concatenate",), 6, lambda t, xp: xp.concatenate([t, xp.sin(t[:2]), C6[:1]])),
    Case(
        "concatenate-axis1",
        ("concatenate",),
        6,
        lambda t, xp: xp.concatenate([xp.reshape(t, (2, 3)), M23, xp.reshape(t * t, (2, 3))], axis=1),
    ),
    Case("stack", ("stack",), 6, lambda t, xp: xp.stack([t, t * t, C6], axis=1)),
    Case("transpose", ("transpose",), 6, lambda t, xp: xp.transpose(xp.reshape(t, (2, 3))) @ M23[0][:2]),
    Case("transpose-axes", ("transpose",), 6, lambda t, xp: xp.transpose(xp.reshape(t, (1, 2, 3)), (2, 0, 1))),
    Case("outer", ("outer",), 6, lambda t, xp: xp.outer(t[:2], t[2:] * t[2:])),
    Case("sum-axis", ("sum",), 6, lambda t, xp: xp.sum(xp.reshape(t * t, (2, 3)), axis=0)),
    Case("sum-all", ("sum",), 6, lambda t, xp: xp.sum(t * t * t)),
    Case("mean", ("mean",), 6, lambda t, xp: xp.mean(xp.reshape(t * t, (2, 3)), axis=1)),
    Case("mean-all", ("mean",), 6, lambda t, xp: xp.mean(xp.sin(t))),
    Case("exp", ("exp",), 6, lambda t, xp: xp.exp(t)),
    Case("expm1", ("expm1",), 6, lambda t, xp: xp.expm1(1e-3 * t) + xp.expm1(2 * t)),
    Case("log", ("log",), 6, lambda t, xp: xp.log(t), "pos"),
    Case("log1p", ("log1p",), 6, lambda t, xp: xp.log1p(0.9 * t)),
    Case("sqrt", ("sqrt",), 6, lambda t, xp: xp.sqrt(t), "pos"),
    Case("square", ("square",), 6, lambda t, xp: xp.square(t)),
    Case("tanh", ("tanh",), 6, lambda t, xp: xp.tanh(2 * t)),
    Case("sinh", ("sinh",), 6, lambda t, xp: xp.sinh(2 * t)),
    Case("cosh", ("cosh",), 6, lambda t, xp: xp.cosh(2 * t)),
    Case("asinh", ("asinh",), 6, lambda t, xp: xp.asinh(3 * t)),
    Case("sin", ("sin",), 6, lambda t, xp: xp.sin(3 * t)),
    Case("cos", ("cos",), 6, lambda t, xp: xp.cos(3 * t), "away"),
    Case("sigmoid", ("sigmoid",), 6, lambda t, xp: xp.sigmoid(5 * t)),
    Case("softplus", ("softplus",), 6, lambda t, xp: xp.softplus(5 * t)),
    Case("relu", ("relu",), 6, lambda t, xp: xp.relu(t) * t, "away"),
    Case("logsumexp-all", ("logsumexp",), 6, lambda t, xp: xp.logsumexp(3 * t)),
    Case("logsumexp-axis", ("logsumexp",), 6, lambda t, xp: xp.logsumexp(xp.reshape(3 * t, (2, 3)), axis=1)),
    Case("softmax", ("softmax",), 6, lambda t, xp: xp.softmax(xp.reshape(3 * t, (2, 3)))),
    Case("softmax-axis0", ("softmax",), 6, lambda t, xp: xp.softmax(xp.reshape(3 * t, (2, 3)), axis=0)),
    Case("log_softmax", ("log_softmax",), 6, lambda t, xp: xp.log_softmax(xp.reshape(3 * t, (2, 3)))),
    Case("solve-vector", ("solve",), 12, lambda t, xp: xp.solve(_a(t, xp), t[9:12])),
    Case("solve-matrix", ("solve",), 12, lambda t, xp: xp.solve(_a(t, xp), xp.reshape(t[6:12], (3, 2)))),
    Case("solve-const-a", ("solve",), 3, lambda t, xp: xp.solve(A0, t * t)),
    Case("inv", ("inv",), 9, lambda t, xp: xp.inv(_a(t, xp))),
    Case("expm", ("expm",), 9, lambda t, xp: xp.expm(xp.reshape(t, (3, 3)))),
    Case("expm-large", ("expm",), 9, lambda t, xp: xp.expm(3 * xp.reshape(t, (3, 3)))),
    Case("ops-arith", (), 6, lambda t, xp: (1.5 - t) * t / (2 + t) - -t + 0.5 / (3 + t)),
    Case("ops-pow", (), 6, lambda t, xp: t**3 + t**2.5 + t ** (-1) + 2.0**t + t**t, "pos"),
    Case("ops-pow-zero", (), 6, lambda t, xp: t**0 + t**1),
    Case("ops-numpy-left", (), 6, lambda t, xp: C6 * t + (M23 @ t[:3])[0] - C6 / (3 + t) + (M23.T @ t[:2]) @ M23[1]),
    Case("ops-matmul", (), 6, lambda t, xp: xp.reshape(t, (2, 3)) @ xp.reshape(t, (3, 2)) + t @ t),
    Case("ops-matmul-vec", (), 6, lambda t, xp: t[:2] @ xp.reshape(t, (2, 3)) + xp.reshape(t, (3, 2)) @ t[4:]),
    Case("ops-T", (), 6, lambda t, xp: xp.reshape(t * t, (2, 3)).T),
    Case("ops-index", (), 6, lambda t, xp: xp.stack([t[1], t[-1] * t[0], t[::2][1]])),
    Case("ops-slices", (), 6, lambda t, xp: xp.reshape(t * t, (2, 3))[:, 1:3] + xp.reshape(t, (2, 3))[..., 0:1]),
    Case("ops-ellipsis", (), 6, lambda t, xp: xp.reshape(t, (2, 3))[..., 0] * xp.reshape(t, (2, 3))[:, 1]),
]


def _point(case: Case) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    if case.domain == "pos":
        return rng.uniform(0.5, 2.0, size=case.n)
    x = rng.uniform(-1.0, 1.0, size=case.n)
    if case.domain == "away":
        x = np.sign(x) * (0.2 + 0.8 * np.abs(x))
    return x


def test_cases_cover_every_namespace_function() -> None:
    covered = {name for case in CASES for name in case.covers}
    assert covered == set(NAMESPACE_FUNCTIONS)
    assert all(hasattr(MP.xp, name) for name in NAMESPACE_FUNCTIONS)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_value_and_jacobian_agree_with_jax(case: Case) -> None:
    x = _point(case)
    jax_value = case.fun(jnp.asarray(x), JAX.xp)
    jax_jac = JAX.jacobian(lambda t: case.fun(t, JAX.xp), x)
    with MP.context():
        mp_value = MP.xp.asarray(case.fun(MP.asarray(x), MP.xp))
        mp_jac = MP.jacobian(lambda t: case.fun(t, MP.xp), x)
    assert mp_value.shape == jax_value.shape and mp_jac.shape == jax_jac.shape
    assert_rel_close(MP.to_numpy(mp_value), jax_value, JAX_RTOL, f"{case.name} value")
    assert_rel_close(MP.to_numpy(mp_jac), jax_jac, JAX_RTOL, f"{case.name} jacobian")


def test_float_comparison_flags_a_wrong_derivative() -> None:
    """Negative control for assert_rel_close: tanh' taken as 1 + tanh^2, or off by 1e-11."""
    x = _point(CASES[0])
    good = JAX.jacobian(jnp.tanh, x)
    wrong = np.diag(1 + np.tanh(x) ** 2)
    with pytest.raises(AssertionError, match="relative error"):
        assert_rel_close(wrong, good, JAX_RTOL, "wrong formula")
    with pytest.raises(AssertionError, match="relative error"):
        assert_rel_close(good * (1 + 1e-11), good, JAX_RTOL, "perturbed")


# ---------------------------------------------------------------------------------------------
# (b) exactness at 50 and 100 digits against independent high-precision references


DIGITS = (50, 100)
X5 = np.array([0.3, -0.7, 1.1, 0.05, -1.6])


def _diag_reference(f: Callable[[Any], Any], x: np.ndarray, digits: int) -> np.ndarray:
    """``diag(f(x_i))`` at ``2 * digits`` digits."""
    with mpmath.workdps(2 * digits):
        out = np.full((len(x), len(x)), mpmath.mpf(0), dtype=object)
        for i, xi in enumerate(x):
            out[i, i] = f(mpmath.mpf(xi))
    return out


CLOSED_FORMS = {
    "exp": mpmath.exp,
    "expm1": mpmath.exp,
    "tanh": lambda v: 1 / mpmath.cosh(v) ** 2,
    "sigmoid": lambda v: mpmath.exp(-v) / (1 + mpmath.exp(-v)) ** 2,
    "softplus": lambda v: 1 / (1 + mpmath.exp(-v)),
    "asinh": lambda v: 1 / mpmath.sqrt(1 + v * v),
    "sin": mpmath.cos,
    "cosh": mpmath.sinh,
}


@pytest.mark.parametrize("digits", DIGITS)
@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_elementwise_derivative_matches_closed_form(name: str, digits: int) -> None:
    backend = MpBackend(digits)
    jac = backend.jacobian(getattr(backend.xp, name), X5)
    assert_mp_close(jac, _diag_reference(CLOSED_FORMS[name], X5, digits), digits, name)


@pytest.mark.parametrize("digits", DIGITS)
@pytest.mark.parametrize("name", ["log1p", "sqrt", "log", "cos", "sinh"])
def test_elementwise_derivative_matches_mpmath_diff(name: str, digits: int) -> None:
    """mpmath.diff at doubled precision is an independent reference (not finite differences here)."""
    backend = MpBackend(digits)
    x = np.abs(X5) if name in ("sqrt", "log") else X5 / 2
    jac = backend.jacobian(getattr(backend.xp, name), x)
    mp_function = getattr(mpmath, name)
    assert_mp_close(jac, _diag_reference(lambda v: mpmath.diff(mp_function, v), x, digits), digits, name)


@pytest.mark.parametrize("digits", DIGITS)
def test_logsumexp_and_softmax_derivatives_exact(digits: int) -> None:
    backend = MpBackend(digits)
    grad = backend.jacobian(backend.xp.logsumexp, X5)
    jac = backend.jacobian(backend.xp.softmax, X5)
    with mpmath.workdps(2 * digits):
        e = [mpmath.exp(mpmath.mpf(v)) for v in X5]
        s = np.array([v / mpmath.fsum(e) for v in e], dtype=object)
        softmax_jac = np.diag(s) - np.outer(s, s)
    assert_mp_close(grad, s, digits, "grad logsumexp")
    assert_mp_close(jac, softmax_jac, digits, "jacobian softmax")


def _matrix_point(digits: int) -> tuple[MpBackend, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return MpBackend(digits), 3 * np.eye(3) + rng.normal(size=(3, 3)), rng.normal(size=3)


@pytest.mark.parametrize("digits", DIGITS)
def test_solve_derivatives_exact(digits: int) -> None:
    """x = A^{-1} b: dx/db = A^{-1}, dx/dA_ij = -A^{-1}[:, i] x_j."""
    backend, a, b = _matrix_point(digits)
    xp = backend.xp
    jac_b = backend.jacobian(lambda t: xp.solve(a, t), b)
    jac_a = backend.jacobian(lambda t: xp.solve(xp.reshape(t, (3, 3)), b), a.ravel())
    with mpmath.workdps(2 * digits):
        a_inv = from_mp_matrix(mpmath.inverse(mp_matrix(a)))
        x = a_inv @ np.array([mpmath.mpf(v) for v in b], dtype=object)
        ref_a = -np.einsum("ki,j->kij", a_inv, x).reshape(3, 9)
    assert_mp_close(jac_b, a_inv, digits, "d solve / d b")
    assert_mp_close(jac_a, ref_a, digits, "d solve / d A")


@pytest.mark.parametrize("digits", DIGITS)
def test_inv_derivative_exact(digits: int) -> None:
    """d inv(A) / dA_ij = -inv(A)[:, i] inv(A)[j, :]."""
    backend, a, _ = _matrix_point(digits)
    jac = backend.jacobian(lambda t: backend.xp.inv(backend.xp.reshape(t, (3, 3))), a.ravel())
    with mpmath.workdps(2 * digits):
        a_inv = from_mp_matrix(mpmath.inverse(mp_matrix(a)))
        ref = -np.einsum("ki,jl->klij", a_inv, a_inv).reshape(3, 3, 9)
    assert_mp_close(jac, ref, digits, "d inv")


@pytest.mark.parametrize("digits", DIGITS)
def test_expm_value_and_frechet_derivative_exact(digits: int) -> None:
    """Directional derivative L(A, E) = upper-right block of expm([[A, E], [0, A]]) (mpmath.expm)."""
    backend, a, _ = _matrix_point(digits)
    a = a / 2
    direction = np.random.default_rng(4).normal(size=(9, 1))
    value, deriv = backend.jvp(lambda t: backend.xp.expm(backend.xp.reshape(t, (3, 3))), a.ravel(), direction)
    with mpmath.workdps(2 * digits):
        block = mpmath.zeros(6, 6)
        for i in range(3):
            for j in range(3):
                block[i, j] = block[i + 3, j + 3] = a[i, j]
                block[i, j + 3] = direction[3 * i + j, 0]
        big = from_mp_matrix(mpmath.expm(block))
    assert_mp_close(value, big[:3, :3], digits, "expm")
    assert_mp_close(deriv[..., 0], big[:3, 3:], digits, "Frechet derivative of expm")


@pytest.mark.parametrize("digits", DIGITS)
def test_mp_comparison_flags_a_wrong_derivative(digits: int) -> None:
    """Negative control for assert_mp_close: an error of 10^-(digits-6), or float64 rounding, fails."""
    backend = MpBackend(digits)
    jac = backend.jacobian(backend.xp.tanh, X5)
    ref = _diag_reference(CLOSED_FORMS["tanh"], X5, digits)
    with mpmath.workdps(2 * digits):
        perturbed = jac * (1 + mpmath.mpf(10) ** (6 - digits))
    with pytest.raises(AssertionError, match="relative error"):
        assert_mp_close(perturbed, ref, digits, "perturbed")
    with pytest.raises(AssertionError, match="relative error"):
        assert_mp_close(backend.asarray(backend.to_numpy(jac)), ref, digits, "float64-rounded")


# ---------------------------------------------------------------------------------------------
# (c) nested jacobian = Hessian


def _hessian(backend: MpBackend, f: Callable[[Any], Any], x: Any) -> np.ndarray:
    return backend.jacobian(lambda t: backend.jacobian(f, t), x)


def _logsumexp_hessian(x: np.ndarray) -> np.ndarray:
    e = [mpmath.exp(mpmath.mpf(v)) for v in x]
    s = np.array([v / mpmath.fsum(e) for v in e], dtype=object)
    return np.diag(s) - np.outer(s, s)


def _log1p_norm_hessian(x: np.ndarray) -> np.ndarray:
    x = np.array([mpmath.mpf(v) for v in x], dtype=object)
    r = 1 + mpmath.fsum(x * x)
    return 2 * np.eye(len(x), dtype=object) / r - 4 * np.outer(x, x) / r**2


def _exp_dot_hessian(x: np.ndarray) -> np.ndarray:
    a = np.array([mpmath.mpf(v) for v in C6[: len(x)]], dtype=object)
    return np.outer(a, a) * mpmath.exp(mpmath.fsum(a * x))


HESSIAN_CASES = {
    "logsumexp": (lambda t, xp: xp.logsumexp(t), _logsumexp_hessian),
    "log(1+|x|^2)": (lambda t, xp: xp.log(1 + xp.sum(xp.square(t))), _log1p_norm_hessian),
    "exp(a.x)": (lambda t, xp: xp.exp(xp.asarray(C6[:5]) @ t), _exp_dot_hessian),
}


@pytest.mark.parametrize("name", sorted(HESSIAN_CASES))
def test_nested_jacobian_is_the_analytic_hessian(name: str) -> None:
    fun, reference = HESSIAN_CASES[name]
    h = _hessian(MP, lambda t: fun(t, MP.xp), X5)
    assert isinstance(h, np.ndarray) and h.dtype == object and h.shape == (5, 5)
    with mpmath.workdps(100):
        ref = reference(X5)
    assert_mp_close(h, ref, 50, name)
    assert_symmetric(h, 50, name)


def test_hessian_through_solve_is_exact() -> None:
    """g(x) = b.(A0 + diag x)^{-1} b with symmetric A0: H_ij = 2 y_i M^{-1}_ij y_j, y = M^{-1} b."""
    rng = np.random.default_rng(5)
    a0 = rng.normal(size=(4, 4))
    a0 = a0 + a0.T + 8 * np.eye(4)
    b, x = rng.normal(size=4), rng.normal(size=4)
    xp = MP.xp
    h = _hessian(MP, lambda t: b @ xp.solve(a0 + xp.eye(4) * t, b), x)
    with mpmath.workdps(100):
        m_inv = from_mp_matrix(mpmath.inverse(mp_matrix(a0) + mpmath.diag(x.tolist())))
        y = m_inv @ np.array([mpmath.mpf(v) for v in b], dtype=object)
        ref = 2 * np.outer(y, y) * m_inv
    assert_mp_close(h, ref, 50, "hessian through solve")


def test_second_derivative_of_expm_is_exact() -> None:
    """d^2/dt^2 sum(expm(t M)) = sum(M^2 expm(t M))."""
    m = np.random.default_rng(6).normal(size=(3, 3))
    xp = MP.xp
    h = _hessian(MP, lambda t: xp.sum(xp.expm(t[0] * m)), np.array([0.7]))
    with mpmath.workdps(100):
        mm = mp_matrix(m)
        ref = mpmath.fsum(mm * mm * mpmath.expm(mpmath.mpf(0.7) * mm))
    assert_mp_close(h, np.array([[ref]], dtype=object), 50, "expm second derivative")


def test_hessian_vector_product_via_jvp_over_jacobian() -> None:
    fun, reference = HESSIAN_CASES["logsumexp"]
    v = np.random.default_rng(8).normal(size=(5, 2))
    _, hv = MP.jvp(lambda t: MP.jacobian(lambda u: fun(u, MP.xp), t), X5, v)
    with mpmath.workdps(100):
        ref = reference(X5) @ np.array(v.tolist(), dtype=object)
    assert hv.shape == (5, 2)
    assert_mp_close(hv, ref, 50, "Hessian-vector product")


def test_derivative_of_jvp_with_variable_tangents() -> None:
    """d/ds [J_f(x0) v(s)] = J_f(x0) dv/ds: seeds whose values are plain but tangents are Duals."""
    xp = MP.xp
    x0, c = X5, C6[:5]
    jac_f = MP.jacobian(xp.tanh, x0)

    def directional(s: Any) -> Any:
        return MP.jvp(xp.tanh, x0, xp.reshape(s * xp.asarray(c), (5, 1)))[1][:, 0]

    with mpmath.workdps(100):
        ref = np.asarray(jac_f) @ np.diag(np.array([mpmath.mpf(v) for v in c], dtype=object))
    assert_mp_close(MP.jacobian(directional, np.ones(5)), ref, 50, "derivative of a jvp")


def test_symmetry_check_flags_an_asymmetric_matrix() -> None:
    """Negative control for assert_symmetric."""
    with MP.context():
        h = _hessian(MP, lambda t: MP.xp.logsumexp(t), X5)
        h[0, 1] = h[0, 1] * (1 + mpmath.mpf(10) ** -40)
    with pytest.raises(AssertionError, match="symmetry"):
        assert_symmetric(h, 50, "perturbed Hessian")


# ---------------------------------------------------------------------------------------------
# (d) perturbation confusion


def test_no_perturbation_confusion_scalar() -> None:
    """d/dx [x * d/dy (x + y)] = 1; confusing the two perturbations gives 2."""
    xp = MP.xp

    def outer(x: Any) -> Any:
        return x * MP.jacobian(lambda y: x + y, xp.asarray([1.0]))[0]

    d = MP.jacobian(outer, np.array([2.0]))
    assert isinstance(d, np.ndarray) and d.dtype == object
    assert d[0, 0] == 1


def test_no_perturbation_confusion_vector() -> None:
    """J_ij = d/dy_j [(x.y) x_i] = x_i x_j, so d J_ij / d x_k = delta_ik x_j + x_i delta_jk."""
    xp = MP.xp
    x0, y0 = X5[:3], X5[2:]

    def inner(x: Any) -> Any:
        jac = MP.jacobian(lambda y: xp.sum(x * y) * x, y0)
        assert isinstance(jac, Dual), "a nested jacobian returns a Dual of the enclosing level"
        return jac

    third = MP.jacobian(inner, x0)
    with MP.context():
        x = MP.asarray(x0)
        eye = np.eye(3, dtype=object)
        ref = np.einsum("ik,j->ijk", eye, x) + np.einsum("i,jk->ijk", x, eye)
    assert_mp_close(third, ref, 50, "nested closure derivative")


# ---------------------------------------------------------------------------------------------
# (e) jvp shapes and plain outputs


def test_jvp_shapes_and_consistency_with_jacobian() -> None:
    xp = MP.xp

    def f(t: Any) -> Any:
        return xp.reshape(xp.concatenate([xp.sin(t), t[:2] * t[2:4]]), (2, 3))

    x = X5[:4]
    tangents = np.random.default_rng(9).normal(size=(4, 3))
    value, deriv = MP.jvp(f, x, tangents)
    assert value.shape == (2, 3) and deriv.shape == (2, 3, 3)
    assert not isinstance(value, Dual) and not isinstance(deriv, Dual)
    jac = MP.jacobian(f, x)
    assert jac.shape == (2, 3, 4)
    with MP.context():
        assert_mp_close(deriv, jac @ MP.asarray(tangents), 50, "jvp vs jacobian @ V")

    _, scalar_deriv = MP.jvp(lambda t: xp.sum(t * t), x, tangents)
    assert scalar_deriv.shape == (3,)
    constant_value, constant_deriv = MP.jvp(lambda t: xp.ones((2, 2)), x, tangents)
    assert constant_value.shape == (2, 2) and constant_deriv.shape == (2, 2, 3)
    assert all(v == 0 for v in constant_deriv.ravel())


def test_results_are_writable_and_do_not_alias_inputs() -> None:
    xp = MP.xp
    seeds = MP.asarray(np.eye(3))
    value, deriv = MP.jvp(lambda t: t, np.ones(3), seeds)
    deriv[0, 0] = mpmath.mpf(7)
    assert seeds[0, 0] == 1
    jac = MP.jacobian(lambda t: t[0] + xp.zeros(3), np.ones(3))  # a broadcast tangent inside
    jac[1, 0] = mpmath.mpf(7)
    assert jac[0, 0] == 1 and jac[1, 0] == 7


def test_relu_derivative_is_a_step() -> None:
    x = np.array([-1.5, -0.1, 0.2, 3.0])
    jac = MP.jacobian(MP.xp.relu, x)
    assert [float(jac[i, i]) for i in range(4)] == [0.0, 0.0, 1.0, 1.0]
    assert all(jac[i, j] == 0 for i in range(4) for j in range(4) if i != j)


def test_reflected_operators_with_numpy_python_and_mpf() -> None:
    xp = MP.xp
    c = np.array([2.0, -3.0])

    def f(t: Any) -> Any:
        return c * t + c @ t + 1.5 - t + mpmath.mpf(2) * t + np.float64(0.5) / (1 + t * t) + 2**t

    jac = MP.jacobian(f, np.array([0.4, -0.2]))
    ref = JAX.jacobian(lambda t: c * t + c @ t + 1.5 - t + 2.0 * t + 0.5 / (1 + t * t) + 2.0**t, np.array([0.4, -0.2]))
    assert_rel_close(MP.to_numpy(jac), ref, JAX_RTOL, "reflected operators")
    with MP.context():
        assert isinstance(xp.asarray(np.ones(2)) * MP.jvp(lambda t: t, np.ones(2), np.eye(2))[0], np.ndarray)


# ---------------------------------------------------------------------------------------------
# (f) errors, conversion, finiteness, the protocol


def test_mismatched_shapes_raise_value_error() -> None:
    xp = MP.xp
    with pytest.raises(ValueError, match=r"operands of '\+' have incompatible shapes \(3,\) and \(2,\)"):
        MP.jacobian(lambda t: t + xp.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"operands of '\*' have incompatible shapes"):
        MP.jacobian(lambda t: t * xp.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"'@' have mismatched inner dimensions: shapes \(2, 2\) and \(3,\)"):
        MP.jacobian(lambda t: xp.ones((2, 2)) @ t, np.ones(3))
    with pytest.raises(ValueError, match="square matrix"):
        MP.jacobian(lambda t: xp.solve(xp.ones((2, 3)), t), np.ones(2))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\) or \(2, k\)"):
        MP.jacobian(lambda t: xp.solve(xp.eye(2), t), np.ones(3))
    with pytest.raises(ValueError, match=r"tangents must have shape \(3, p\)"):
        MP.jvp(lambda t: t, np.ones(3), np.ones((2, 1)))
    with pytest.raises(ValueError, match="x must be 1-D"):
        MP.jacobian(lambda t: t, np.ones((2, 2)))
    with pytest.raises(ValueError, match="same shape"):
        MP.jacobian(lambda t: xp.stack([t, t[:2]]), np.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        MP.jacobian(lambda t: xp.solve(xp.ones((2, 2)) * t[0], t), np.ones(2))


def test_all_finite_detects_nan_inf_and_complex() -> None:
    xp = MP.xp
    with MP.context():
        assert MP.all_finite(xp.asarray([1.0, 2.0]))
        assert not MP.all_finite(np.array([mpmath.mpf(1), mpmath.nan], dtype=object))
        assert not MP.all_finite(np.array([mpmath.inf], dtype=object))
        assert not MP.all_finite(xp.log(xp.asarray([-1.0])))  # nan, as in JAX (not complex)
        assert not MP.all_finite(xp.sqrt(xp.asarray([-1.0])))  # nan
        assert not MP.all_finite(xp.log(xp.asarray([0.0])))  # -inf
        assert not MP.all_finite(xp.asarray([-1.0]) ** 0.5)  # mpmath operator semantics: complex
    tangent_nan = MP.jvp(lambda t: t * xp.asarray([mpmath.nan]), np.ones(1), np.ones((1, 1)))
    assert not MP.all_finite(tangent_nan[1])


def test_division_by_zero_follows_mpmath() -> None:
    """Operators keep mpmath's semantics (plain arrays are NumPy object arrays): x / 0 raises."""
    xp = MP.xp
    with MP.context():
        with pytest.raises(ZeroDivisionError):
            xp.asarray([1.0]) / xp.asarray([0.0])
    with pytest.raises(ZeroDivisionError):
        MP.jacobian(lambda t: 1 / t, np.array([0.0]))


def test_exact_conversion_and_precision() -> None:
    with MpBackend(100).context():
        x = MpBackend(100).asarray(np.array([0.1, 1 / 3]))
        assert x[0] == mpmath.mpf(0.1) and mpmath.mpf(0.1) != mpmath.mpf(1) / 10
        assert mpmath.mp.dps == 100
        with MP.context():
            assert mpmath.mp.dps == 50
        assert mpmath.mp.dps == 100
    value = MpBackend(100).xp.asarray(0.1)
    assert value.shape == () and value.item() == mpmath.mpf(0.1)


def test_backend_protocol_and_scalar_helpers() -> None:
    backend = get_backend(30)
    assert isinstance(backend, MpBackend) and isinstance(backend, Backend)
    assert backend.name == "mpmath-30" and backend.digits == 30 and backend.eps == 1e-30
    with backend.context():
        a = backend.asarray([[2.0, 1.0], [1.0, 3.0]])
        ev = backend.eigvalsh(a)
        sv = backend.svdvals(backend.asarray([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]]))
        x = backend.solve(a, backend.asarray([1.0, 2.0]))
        assert_mp_close(a @ x, backend.asarray([1.0, 2.0]), 30, "solve residual")
        assert_mp_close(ev, [(5 - mpmath.sqrt(5)) / 2, (5 + mpmath.sqrt(5)) / 2], 30, "eigvalsh")
        assert [backend.to_float(v) for v in sv] == [4.0, 3.0]
        assert backend.to_float(backend.norm(backend.asarray([3.0, 4.0]))) == 5.0
        assert backend.to_numpy(a).dtype == np.float64
        assert backend.compile(len) is len and backend.to_host({"a": a})["a"] is a
    with pytest.raises(TypeError, match="not a Dual"):
        backend.jacobian(lambda t: backend.to_numpy(t), np.ones(2))
    with pytest.raises(TypeError, match="not a Dual"):  # a list of duals too (it reached .astype and raised)
        backend.jacobian(lambda t: backend.to_numpy([t[0], t[1]]), np.ones(2))
    with pytest.raises(TypeError, match="not a Dual"):
        backend.jacobian(lambda t: backend.eigvalsh([[t[0], t[1]], [t[1], t[0]]]), np.ones(2))


MLP_SHAPES = [(8, 4), (8,), (6, 8), (6,), (3, 6), (3,)]
MLP_INPUTS = np.random.default_rng(10).normal(size=(4, 4))


def mlp(theta: Any, xp: Any) -> Any:
    """A 3-layer tanh MLP on four inputs; 113 parameters."""
    parts, start = [], 0
    for shape in MLP_SHAPES:
        size = int(np.prod(shape))
        parts.append(xp.reshape(theta[start : start + size], shape))
        start += size
    w1, b1, w2, b2, w3, b3 = parts
    return xp.stack([w3 @ xp.tanh(w2 @ xp.tanh(w1 @ x + b1) + b2) + b3 for x in MLP_INPUTS])


def test_mlp_jacobian_is_fast_and_agrees_with_jax() -> None:
    """The 113-parameter MLP Jacobian at 50 digits: well under the few-second target (~0.1 s)."""
    n = sum(int(np.prod(s)) for s in MLP_SHAPES)
    theta = np.random.default_rng(11).normal(size=n) / 2
    start = time.perf_counter()
    jac = MP.jacobian(lambda t: mlp(t, MP.xp), theta)
    elapsed = time.perf_counter() - start
    assert jac.shape == (4, 3, n)
    assert_rel_close(MP.to_numpy(jac), JAX.jacobian(lambda t: mlp(t, JAX.xp), theta), JAX_RTOL, "MLP jacobian")
    assert elapsed < 10.0, f"MLP jacobian took {elapsed:.2f} s"


def _full_precision(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``mpf`` entries with full-precision mantissas over 24 orders of magnitude (so sums round)."""
    out = np.empty(shape, dtype=object)
    for i in np.ndindex(shape):
        out[i] = mpmath.mpf(rng.standard_normal()) / 3 * mpmath.mpf(10) ** int(rng.integers(-12, 12))
    return out


def _bits(x: Any) -> list[tuple]:
    return [v._mpf_ for v in np.ravel(x)]


@pytest.mark.parametrize("digits", [16, 50, 100])
def test_mpfr_kernels_give_mpmaths_numbers_bit_for_bit(digits: int) -> None:
    """Products of matrices and LU solves run on MPFR numbers (``mp_backend._matmul``, ``_lu_factor``,
    ``_lu_apply``) and give exactly the ``mpf`` numbers that mpmath's own operations give in the same
    order: each step is correctly rounded, to nearest with ties to even, at ``mpmath.mp.prec`` bits in
    both. Negative control: the same comparison flags the same kernels run at one bit less precision."""
    from pyspec.backends.mp_backend import _lu_apply, _lu_apply_entries, _lu_factor, _lu_factor_entries, _matmul

    rng = np.random.default_rng(digits)
    with mpmath.workdps(digits):
        for m, n, p in ((1, 1, 1), (3, 1, 4), (2, 7, 3), (9, 9, 9), (4, 12, 1)):
            a, b = _full_precision(rng, (m, n)), _full_precision(rng, (n, p))
            assert _bits(_matmul(a, b)) == _bits(a @ b)
            assert _bits(_matmul(a, b[:, 0])) == _bits(a @ b[:, 0]) and _bits(_matmul(a[0], b)) == _bits(a[0] @ b)
            square, rhs = _full_precision(rng, (n, n)), _full_precision(rng, (n, p))
            want = _lu_apply_entries(*_lu_factor_entries(np.array(square, dtype=object)), rhs)
            factor = _lu_factor(square)
            assert factor[2] and _bits(_lu_apply(factor, rhs)) == _bits(want)
            if n * p >= 9:  # (a single rounding may land on a number with a spare trailing zero bit)
                with mpmath.workprec(mpmath.mp.prec - 1):
                    coarse_product, coarse_solve = _matmul(a, b), _lu_apply(_lu_factor(square), rhs)
                assert _bits(coarse_product) != _bits(a @ b) and _bits(coarse_solve) != _bits(want)
        # ties round to even, as in mpmath: 1 + 2^-prec is 1, (1 + 2^(1-prec)) + 2^-prec rounds up
        one, half_ulp = mpmath.mpf(1), mpmath.ldexp(1, -mpmath.mp.prec)
        for first in (one, one + 2 * half_ulp, -one):
            pair, ones = np.array([[first, half_ulp if first > 0 else -half_ulp]], dtype=object), np.array(
                [[one], [one]], dtype=object)
            assert _bits(_matmul(pair, ones)) == _bits(pair @ ones)


def test_mpfr_kernels_keep_mpmaths_special_values_and_fallbacks() -> None:
    """inf and nan entries give mpmath's results; an ``mpc`` entry or an empty contraction runs on the
    mpmath numbers themselves (NumPy's ``object`` matmul: the integer 0 for an empty sum)."""
    from pyspec.backends.mp_backend import _lu_apply, _lu_factor, _matmul

    rng = np.random.default_rng(7)
    with mpmath.workdps(50):
        a, b = _full_precision(rng, (3, 3)), _full_precision(rng, (3, 2))
        a[0, 0], a[1, 1], a[2, 2] = mpmath.inf, mpmath.nan, mpmath.ninf
        assert [str(v) for v in np.ravel(_matmul(a, b))] == [str(v) for v in np.ravel(a @ b)]
        c = _full_precision(rng, (2, 2))
        c[0, 1] = mpmath.mpc(1, 1)
        assert (_matmul(c, c) == c @ c).all()
        factor = _lu_factor(c)
        assert not factor[2]
        assert isinstance(_lu_apply(factor, _full_precision(rng, (2, 1)))[0, 0], mpmath.mpc)
        empty = _matmul(np.empty((2, 0), dtype=object), np.empty((0, 3), dtype=object))
        assert empty.shape == (2, 3) and all(v == 0 for v in empty.ravel())
        with pytest.raises(np.linalg.LinAlgError):
            _lu_factor(np.array([[mpmath.mpf(1), mpmath.mpf(2)], [mpmath.mpf(2), mpmath.mpf(4)]], dtype=object))
