"""§4.1: eq. (2) and the conservation laws of the rescaling and reparameterization symmetries.

* eq. (2): for a symmetry (``S = id``), ``∇L(θ)ᵀ v(a, θ) = 0``;
* rescaling: ``f(a u, w/a) = f(u, w)`` per hidden unit (incoming weights ``u``, outgoing ``w``) gives
  ``⟨∇_uL, u⟩ − ⟨∇_wL, w⟩ = 0`` and, under gradient flow, ``d/dt(‖u‖² − ‖w‖²) = 0``;
* reparameterization: ``f`` depending on ``(W₁, W₂)`` only through ``W₂W₁`` gives
  ``∇_{W₁}L W₁ᵀ = W₂ᵀ ∇_{W₂}L`` and, under gradient flow, ``d/dt(W₁W₁ᵀ − W₂ᵀW₂) = 0``.

Parameters are a flat vector laid out as consecutive row-major blocks of the given ``shapes`` (as
:func:`pyspec.catalog.unpack`); ``layers = (i, j)`` names the blocks before and after the hidden layer:
block ``i`` has shape ``(h, d_in)`` (row ``r`` is unit ``r``'s ``u``, or ``W₁``) and block ``j`` shape
``(d_out, h)`` (column ``r`` is unit ``r``'s ``w``, or ``W₂``).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from pyspec.application_verdicts import three_valued
from pyspec.backends import get_backend
from pyspec.backends.base import Array
from pyspec.certify import certifiable
from pyspec.cache import compile_program
from pyspec.catalog.base import unpack
from pyspec.characteristic import direction_of
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Equivariance, Problem
from pyspec.errors import ShapeError
from pyspec.report import Report, bind_checked, flow_derivative, norm, vanishes

__all__ = [
    "rescaling_symmetry",
    "reparam_symmetry",
    "rescaling_problem",
    "reparam_problem",
    "rescaling_report",
    "reparam_report",
    "orthogonality_report",
    "symmetry_orthogonality",
    "rescaling_conservation",
    "reparam_conservation",
]

Shapes = Sequence[tuple[int, int]]
Charge = Callable[..., Array]
"""``charge(W_in, W_out, *, xp) -> array``: a quantity of the two blocks claimed conserved."""


def _hidden_width(shapes: Shapes, layers: tuple[int, int]) -> int:
    i, j = layers
    if not (0 <= i < len(shapes) and 0 <= j < len(shapes)) or i == j:
        raise ShapeError(f"layers {layers} must name two different blocks of the {len(shapes)} shapes")
    if len(shapes[i]) != 2 or len(shapes[j]) != 2 or shapes[i][0] != shapes[j][1]:
        raise ShapeError(
            f"block {i} {tuple(shapes[i])} and block {j} {tuple(shapes[j])} must have shapes (h, d_in) and "
            "(d_out, h) around a hidden layer of width h"
        )
    return int(shapes[i][0])


def _replace_pair(theta: Array, shapes: Shapes, layers: tuple[int, int], xp: Any,
                  new: Callable[[Array, Array], tuple[Array, Array]]) -> Array:
    blocks = unpack(theta, list(shapes), xp)
    i, j = layers
    blocks[i], blocks[j] = new(blocks[i], blocks[j])
    return xp.concatenate([xp.ravel(b) for b in blocks])


def rescaling_symmetry(model: Callable[..., Array], shapes: Shapes, layers: tuple[int, int] = (0, 1)) -> Equivariance:
    """The per-unit rescaling ``T(a, θ)``: row ``r`` of block ``i`` times ``a_r``, column ``r`` of block
    ``j`` divided by ``a_r`` (``a ∈ ℝʰ``, ``a > 0``), as a symmetry of ``model``."""
    h = _hidden_width(shapes, layers)

    def T(a: Array, theta: Array, *, xp: Any) -> Array:
        return _replace_pair(theta, shapes, layers, xp,
                             lambda u, w: (xp.reshape(a, (h, 1)) * u, w / xp.reshape(a, (1, h))))

    return Equivariance(model=model, T=T, name=f"{getattr(model, '__name__', 'model')} (rescaling)")


def reparam_symmetry(model: Callable[..., Array], shapes: Shapes, layers: tuple[int, int] = (0, 1)) -> Equivariance:
    """The reparameterization ``T(A, θ) = (A W₁, W₂ A⁻¹)`` on blocks ``i`` and ``j``, ``A ∈ GL(h)``,
    as a symmetry of ``model``."""
    _hidden_width(shapes, layers)

    def T(A: Array, theta: Array, *, xp: Any) -> Array:
        return _replace_pair(theta, shapes, layers, xp, lambda W1, W2: (A @ W1, W2 @ xp.inv(A)))

    return Equivariance(model=model, T=T, name=f"{getattr(model, '__name__', 'model')} (reparameterization)")


def _rescaling_point(h: int) -> np.ndarray:
    """A fixed ``a > 0`` at which the rescaling symmetry is tested."""
    return np.exp(0.3 * np.cos(2.4 * np.arange(1, h + 1)))


def _reparam_point(h: int) -> np.ndarray:
    """A fixed ``A = I + E`` with ``‖E‖₂ ≤ 0.3`` (condition number ≤ 1.9) at which the symmetry is tested."""
    E = np.cos(2.4 * np.arange(1, h * h + 1)).reshape(h, h)
    return np.eye(h) + 0.3 * E / h


def _difference_of_norms(W_in: Array, W_out: Array, *, xp: Any) -> Array:
    return xp.sum(W_in * W_in, axis=1) - xp.sum(W_out * W_out, axis=0)


def _difference_of_grams(W1: Array, W2: Array, *, xp: Any) -> Array:
    return W1 @ W1.T - W2.T @ W2


def _conservation_report(problem: Problem, theta: Array, shapes: Shapes, layers: tuple[int, int], charge: Charge,
                         identity: str, balance: Callable[[Array, Array, Array, Array], tuple[Array, dict[str, Array]]]
                         ) -> Report:
    """``balance`` (the gradient identity) and ``flow`` (``dQ/dt = 0`` under GF for ``Q = charge``)."""
    B = problem.backend
    xp = B.xp
    i, j = layers

    def pair(t: Array) -> tuple[Array, Array]:
        blocks = unpack(t, list(shapes), xp)
        return blocks[i], blocks[j]

    def Q(t: Array) -> Array:
        return xp.ravel(charge(*pair(t), xp=xp))

    def body(t: Array) -> tuple[Array, Array, Array]:
        grad = B.jacobian(problem.L, t)
        return grad, flow_derivative(B, Q, t, grad), B.jacobian(Q, t)

    grad, rate, JQ = B.to_host(B.compile(body)(theta))
    (W_in, W_out), (G_in, G_out) = pair(theta), pair(grad)
    tol = tolerance(B, problem.n + problem.m)
    lhs, terms = balance(W_in, W_out, G_in, G_out)
    natural = norm(B, G_in) * norm(B, W_in) + norm(B, G_out) * norm(B, W_out)
    parts = {
        "balance": compare(B, identity, lhs, terms, tol, natural),
        # natural scale of the JVP ∇Q·(−∇L): ‖∇Q‖‖∇L‖
        "flow": vanishes(B, identity, rate, tol, norm(B, JQ) * norm(B, grad)),
    }
    return Report(identity, parts)


def rescaling_problem(model: Callable[..., Array], loss: Callable[..., Array], theta: Any, shapes: Shapes,
                      layers: tuple[int, int], backend: Any, check: bool = True) -> tuple[Problem, Array]:
    """Bind ``model`` with :func:`rescaling_symmetry` at a fixed ``a > 0`` and check the symmetry
    at and near ``θ`` unless ``check=False``."""
    eq = rescaling_symmetry(model, shapes, layers)
    problem, _, th, _ = bind_checked(eq, loss, _rescaling_point(_hidden_width(shapes, layers)), theta, backend, check)
    return problem, th


def reparam_problem(model: Callable[..., Array], loss: Callable[..., Array], theta: Any, shapes: Shapes,
                    layers: tuple[int, int], backend: Any, check: bool = True) -> tuple[Problem, Array]:
    """Bind ``model`` with :func:`reparam_symmetry` at a fixed well-conditioned ``A`` and check the
    symmetry at and near ``θ`` unless ``check=False``."""
    eq = reparam_symmetry(model, shapes, layers)
    problem, _, th, _ = bind_checked(eq, loss, _reparam_point(_hidden_width(shapes, layers)), theta, backend, check)
    return problem, th


def rescaling_report(problem: Problem, theta: Array, shapes: Shapes, layers: tuple[int, int],
                     charge: Charge = _difference_of_norms) -> Report:
    """:func:`rescaling_conservation` for a bound problem."""
    xp = problem.backend.xp

    def balance(u: Array, w: Array, gu: Array, gw: Array) -> tuple[Array, dict[str, Array]]:
        return xp.sum(gu * u, axis=1), {"outgoing": xp.sum(gw * w, axis=0)}

    return _conservation_report(problem, theta, shapes, layers, charge, "rescaling_conservation", balance)


def reparam_report(problem: Problem, theta: Array, shapes: Shapes, layers: tuple[int, int],
                   charge: Charge = _difference_of_grams) -> Report:
    """:func:`reparam_conservation` for a bound problem."""

    def balance(W1: Array, W2: Array, G1: Array, G2: Array) -> tuple[Array, dict[str, Array]]:
        return G1 @ W1.T, {"second_layer": W2.T @ G2}

    return _conservation_report(problem, theta, shapes, layers, charge, "reparam_conservation", balance)


@certifiable
@three_valued
def rescaling_conservation(
    model: Callable[..., Array],
    loss: Callable[..., Array],
    theta: Any,
    shapes: Shapes | None = None,
    layers: tuple[Any, Any] = (0, 1),
    *,
    charge: Charge | None = None,
    precision: int | None = None,
    check_symmetry: bool = True,
    jit: bool = True, certify: bool = False,
) -> Report:
    """Rescaling symmetry of §4.1: per hidden unit ``⟨∇_uL, u⟩ − ⟨∇_wL, w⟩ = 0`` (part ``balance``,
    ``h`` entries) and ``d/dt(‖u‖² − ‖w‖²) = 0`` under gradient flow (part ``flow``).

    Parameters
    ----------
    model : callable
        ``f(theta) -> y`` on the flat parameter vector, invariant under :func:`rescaling_symmetry`
        (e.g. a hidden ReLU layer between blocks ``i`` and ``j``).
    loss : callable
        ``ℓ(y) -> scalar``.
    theta : array or pytree
        Flat parameters laid out by ``shapes`` (module docstring), or a pytree / Equinox module / Flax
        NNX module or ``State`` / linen variables (``shapes=None``), for which the bias of the first
        layer is rescaled with its weights (:func:`pyspec.symmetries.rescaling`).
    shapes : sequence of (int, int), optional
        The flat layout; ``None`` for a pytree ``theta``.
    layers : (int, int) or (address, address)
        The blocks ``(i, j)`` before and after the hidden layer; for a pytree, two layers by key path
        (``"layers[0]"``), getter, or position among :func:`pyspec.symmetries.layers`.
    charge : callable, optional
        ``charge(W_in, W_out, *, xp)``, the quantity whose flow derivative ``flow`` reports; default
        ``‖u_r‖² − ‖w_r‖²`` per unit. Another charge (e.g. the sum) is a negative control.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_symmetry : bool
        Verify the rescaling symmetry at and near ``θ`` first (default); ``False`` for negative controls.
    jit : bool
        Float64 only: compile with XLA (default).

    Raises
    ------
    EquivarianceError, ShapeError, NonFiniteError
    """
    if shapes is None:
        return _tree_conservation("rescaling", model, loss, theta, layers, charge, precision, check_symmetry, jit)
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, th = rescaling_problem(model, loss, theta, shapes, layers, backend, check_symmetry)
        return rescaling_report(problem, th, shapes, layers, charge or _difference_of_norms)


@certifiable
@three_valued
def reparam_conservation(
    model: Callable[..., Array],
    loss: Callable[..., Array],
    theta: Any,
    shapes: Shapes | None = None,
    layers: tuple[Any, Any] = (0, 1),
    *,
    charge: Charge | None = None,
    precision: int | None = None,
    check_symmetry: bool = True,
    jit: bool = True, certify: bool = False,
) -> Report:
    """Reparameterization symmetry of §4.1: ``∇_{W₁}L W₁ᵀ = W₂ᵀ∇_{W₂}L`` (part ``balance``, ``h × h``)
    and ``d/dt(W₁W₁ᵀ − W₂ᵀW₂) = 0`` under gradient flow (part ``flow``).

    Parameters are those of :func:`rescaling_conservation`, with ``W₁`` = block ``i``, ``W₂`` = block
    ``j``, the symmetry :func:`reparam_symmetry` and the default charge ``W₁W₁ᵀ − W₂ᵀW₂`` (a charge on
    the wrong side, ``W₁ᵀW₁ − W₂ᵀW₂``, or the sum is a negative control). With ``shapes=None``,
    ``theta`` is a pytree or framework container as in :func:`rescaling_conservation`, the first
    layer's bias is transformed with its weights and the charge is ``[W₁ b₁][W₁ b₁]ᵀ − W₂ᵀW₂``.

    Raises
    ------
    EquivarianceError, ShapeError, NonFiniteError
    """
    if shapes is None:
        return _tree_conservation("reparameterization", model, loss, theta, layers, charge, precision,
                                  check_symmetry, jit)
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, th = reparam_problem(model, loss, theta, shapes, layers, backend, check_symmetry)
        return reparam_report(problem, th, shapes, layers, charge or _difference_of_grams)


def orthogonality_report(problem: Problem, a: Array, theta: Array, condition: float) -> Report:
    """:func:`symmetry_orthogonality` for a bound problem."""
    B = problem.backend
    program = compile_program(problem, lambda a_, t_: (B.jacobian(problem.L, t_), direction_of(problem, a_, t_)))
    grad, v = B.to_host(program(a, theta))
    tol = tolerance(B, problem.n + problem.m + problem.k, condition)
    check = vanishes(B, "symmetry_orthogonality", grad @ v, tol, norm(B, grad) * norm(B, v))
    return Report("symmetry_orthogonality", {"orthogonality": check})


@certifiable
@three_valued
def symmetry_orthogonality(
    eq: Equivariance,
    loss: Callable[..., Array],
    a: Any,
    theta: Any,
    *,
    precision: int | None = None,
    check_equivariance: bool = True,
    jit: bool = True, certify: bool = False,
) -> Report:
    """Eq. (2) of §4: for a symmetry, ``∇L(θ)ᵀ v(a, θ) = 0`` (part ``orthogonality``, ``k`` entries).

    Under gradient flow ``θ̇ = −∇L`` is orthogonal to every column of ``v``; under gradient descent the
    step is.

    Parameters
    ----------
    eq : Equivariance
        A symmetry (``S=None``).
    loss : callable
    a, theta : array or pytree
        A good position.
    precision : int, optional
        Decimal digits for the mpmath backend; ``None`` for JAX float64.
    check_equivariance : bool
        Verify the symmetry at and near ``(a, θ)`` first (default); ``False`` for negative controls.
    jit : bool
        Float64 only: compile with XLA (default).

    Raises
    ------
    NotGoodPositionError, EquivarianceError, ShapeError, NonFiniteError, ValueError
    """
    if not eq.is_symmetry:
        raise ValueError(f"{eq.name}: eq. (2) is about a symmetry; construct the Equivariance with S=None")
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, a_flat, th, condition = bind_checked(eq, loss, a, theta, backend, check_equivariance)
        return orthogonality_report(problem, a_flat, th, condition)


def _tree_conservation(kind: str, model: Callable[..., Array], loss: Callable[..., Array], theta: Any,
                       layers: tuple[Any, Any], charge: Charge | None, precision: int | None, check: bool,
                       jit: bool) -> Report:
    """The rescaling or reparameterization law on a pytree ``theta`` (:mod:`pyspec.symmetries`)."""
    from pyspec import symmetries
    from pyspec.audit import symmetry_conservation

    if charge is not None:
        raise ValueError("charge= applies to a flat theta with shapes; a pytree theta uses the symmetry's own law")
    if np.ndim(theta) == 1 and not isinstance(theta, (list, tuple, dict)):
        raise ShapeError("a flat theta needs shapes= (its block layout); pass a pytree to omit it")
    factory = symmetries.rescaling if kind == "rescaling" else symmetries.reparameterization
    s = factory(theta, *layers)
    backend = get_backend(precision, jit=jit)
    with backend.context():
        problem, _, th, _ = bind_checked(s.equivariance(model), loss, s.a, theta, backend, check)
        return symmetry_conservation(problem, th, s, theta)
