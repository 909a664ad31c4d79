"""Lemma 1 (curried tensors, Section 2), float64 and 50 digits, with negative controls."""

from __future__ import annotations

import numpy as np
import pytest

from pyspec import tensors
from pyspec.backends import get_backend
from pyspec.checks import compare

rng = np.random.default_rng(0)
A = rng.standard_normal((2, 3, 4, 5))
B64 = get_backend(None)


def test_matrix_and_vector_examples() -> None:
    """A∘B = AB, A∘₂B = BᵀA for matrices, a∘b = aᵀb (docs/theory.md#curried-tensors)."""
    M, N = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    np.testing.assert_allclose(tensors.comp(M, N, 1), M @ N, rtol=1e-14)
    np.testing.assert_allclose(tensors.comp(M, N, 2), N.T @ M, rtol=1e-14)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    assert tensors.comp(a, b) == pytest.approx(a @ b)


@pytest.mark.parametrize("precision", [None, 50])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_lemma1_tensor_comp(k, precision) -> None:
    B = rng.standard_normal((A.shape[A.ndim - k], 2, 3))
    check = tensors.lemma1_tensor_comp(A, B, k, precision=precision)
    assert check.holds and check.residual <= (1e-15 if precision is None else 1e-45)


def test_counting_from_the_left_is_flagged() -> None:
    """Negative control (docs/theory.md#curried-tensors: res 1.3): ∘_k counted from the left fails Lemma 1.1's check."""
    A3, B = rng.standard_normal((4, 4, 4)), rng.standard_normal((4, 4))
    for k in (1, 3):
        xs = [rng.standard_normal(4) for _ in range(k)]
        good = tensors.lemma1_comp(A3, B, xs)
        left = np.moveaxis(np.tensordot(A3, B, axes=([k - 1], [0])), -1, k - 1)  # k-th index from the left
        for x in xs:
            left = tensors.apply(left, x)
        wrong = compare(B64, "lemma1_comp", left, {"A_B": good.rhs}, good.tolerance)
        assert good.holds and not wrong.holds and wrong.residual > 1e-2


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="from the right"):
        tensors.comp(A, rng.standard_normal((2, 2)), 2)  # index 2 from the right has length 4, not 2
    with pytest.raises(ValueError, match="k = 5"):
        tensors.comp(A, rng.standard_normal((2, 2)), 5)


@pytest.mark.parametrize("precision", [None, 50])
def test_lemma1_comp(precision) -> None:
    for k in (1, 2, 3):
        B = rng.standard_normal((A.shape[A.ndim - k], 6))
        xs = [rng.standard_normal(5), rng.standard_normal(4), rng.standard_normal(3)][: k - 1] + [rng.standard_normal(6)]
        check = tensors.lemma1_comp(A, B, xs, precision=precision)
        assert check.holds, check


@pytest.mark.parametrize("precision", [None, 50])
def test_lemma1_grad(precision) -> None:
    check = tensors.lemma1_grad(rng.standard_normal((2, 4, 3)), rng.standard_normal(3), precision=precision)
    assert check.holds and check.residual <= (1e-15 if precision is None else 1e-45)


def _F(u, *, xp):
    return xp.tanh(xp.outer(u, u))


C = rng.standard_normal((4, 3))


def _G(u, *, xp):
    return xp.sin(C @ u)


@pytest.mark.parametrize("precision", [None, 50])
def test_lemma1_chain(precision) -> None:
    first, second = tensors.lemma1_chain(_F, _G, rng.standard_normal(3), precision=precision)
    assert first.holds and second.holds, (first, second)


def test_lemma1_chain_dropped_term_is_flagged() -> None:
    """Negative control: dropping ∇F ∘ ∇²G from the second-order chain rule (docs/theory.md#lemma-1: 0.55)."""
    _, second = tensors.lemma1_chain(_F, _G, rng.standard_normal(3))
    dropped = compare(B64, "lemma1_chain", second.lhs, {"d2F_dG_dG": second.terms["d2F_dG_dG"]}, second.tolerance)
    assert not dropped.holds and dropped.residual > 1e-2


def _Fp(u, *, xp):
    return xp.reshape(xp.tanh(C @ u), (2, 2))


def _Gp(u, *, xp):
    return xp.reshape(xp.sinh(u[:2] * u[2]), (2, 1))


@pytest.mark.parametrize("precision", [None, 50])
def test_lemma1_product(precision) -> None:
    check = tensors.lemma1_product(_Fp, _Gp, rng.standard_normal(3), precision=precision)
    assert check.holds, check


def test_lemma1_product_dropped_term_is_flagged() -> None:
    """Negative control: dropping F ∘ ∇G (docs/theory.md#lemma-1: 0.94)."""
    check = tensors.lemma1_product(_Fp, _Gp, rng.standard_normal(3))
    dropped = compare(B64, "lemma1_product", check.lhs, {"dF_G": check.terms["dF_G"]}, check.tolerance)
    assert not dropped.holds and dropped.residual > 1e-2


@pytest.mark.parametrize("precision", [None, 50])
def test_lemma1_comp_every_k(precision) -> None:
    """Lemma 1.1 for every k = 1..r on tensors of rank r = 4 and 5 (Lean: ``lemma1_comp_any_k``); the
    same check flags ``B`` composed into the wrong slot (k − 1 in place of k)."""
    controls = 0
    for T in (A, rng.standard_normal((2, 2, 3, 2, 3))):
        for k in range(1, T.ndim + 1):
            B = rng.standard_normal((T.shape[T.ndim - k], 2))
            xs = [rng.standard_normal(T.shape[T.ndim - 1 - i]) for i in range(k - 1)] + [rng.standard_normal(2)]
            check = tensors.lemma1_comp(T, B, xs, precision=precision)
            assert check.holds, (k, check)
            if precision is None and k >= 2 and T.shape[T.ndim - k + 1] == T.shape[T.ndim - k]:
                wrong = tensors.comp(T, B, k - 1)
                for x in xs:
                    wrong = tensors.apply(wrong, x)
                bad = compare(B64, "lemma1_comp", wrong, {"A_B": check.rhs}, check.tolerance)
                assert not bad.holds and bad.residual > 1e-2
                controls += 1
    assert controls >= (1 if precision is None else 0)
