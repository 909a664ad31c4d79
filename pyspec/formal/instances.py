"""Concrete instances of the Lean statements: a drawn model (:mod:`pyspec.strategies`) under the Lean
binder names of each family of statements (``f``, ``T``, ``S``, ``ℓ``, ``a``, ``θ`` for Theorem 1; ``L``,
``M``, ``θ`` for §6; …), with its spaces ``E = ℝⁿ``, ``F = ℝᵐ``, ``G = ℝᵏ``.

Each builder takes a :class:`pyspec.catalog.Instance`, a backend and a NumPy generator and returns a
:class:`~pyspec.formal.evaluate.Binding`. Only the *data* of a statement come from here; every
derivative, characteristic direction and Hessian is bound by the statement's own hypotheses.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from pyspec.catalog.base import Instance, unpack
from pyspec.formal.evaluate import Binding
from pyspec.formal.values import Basis, Fn, IndexType, Lin, Space, curried

__all__ = [
    "theorem1_binding", "theorem2_binding", "discrete_binding", "eigenspace_binding", "lemma1_binding", "homogeneity_binding",
    "scalar_homogeneity_binding", "norm_growth_binding", "rescaling_binding", "reparam_binding",
    "noether_binding", "charge_binding", "charge_flow_binding", "reparam_flow_binding", "lemma1_any_k_binding", "symmetry_binding", "stationary_binding", "last_layer_binding", "broken",
    "softmax_last_layer_binding",
]


def _point(value: Any, xp: Any) -> Any:
    return xp.asarray(value) if isinstance(value, np.ndarray) else value


def _off_fixed(case: Instance, xp: Any) -> Any:
    """``case.off_fixed(xp)``: a point off ``Fix_a(T)``, which the discrete entries (the only ones drawn
    off their fixed points) define."""
    if case.off_fixed is None:
        raise ValueError(f"{case.eq.name}: the instance defines no point off its fixed points (off_fixed)")
    return case.off_fixed(xp)


def _model_parts(case: Instance, backend: Any) -> dict[str, Any]:
    xp = backend.xp
    eq = case.eq
    a, theta = case.a(xp), case.theta(xp)
    S = eq.S if eq.S is not None else (lambda b, y, *, xp: y)
    return {
        "f": curried("f", lambda th: eq.model(th, xp=xp), 1),
        "T": curried("T", lambda b, th: eq.T(b, th, xp=xp), 2),
        "S": curried("S", lambda b, y: S(b, y, xp=xp), 2),
        "ℓ": curried("ℓ", lambda y: case.loss(y, xp=xp), 1),
        "a": a,
        "θ": theta,
    }


def theorem1_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """Theorem 1 (and eq. (12)): ``f``, ``T``, ``S``, ``ℓ``, ``a``, ``θ``; ``G`` has the shape of ``a``."""
    values = _model_parts(case, backend)
    y = values["f"](values["θ"])
    return Binding({"E": tuple(np.shape(values["θ"])), "F": tuple(np.shape(y)), "G": tuple(np.shape(values["a"]))},
                   values, rng)


def theorem2_binding(case: Instance, backend: Any, rng: np.random.Generator, off_fixed: bool = False) -> Binding:
    """Theorem 2: a discrete symmetry (``S = id``) at a point of ``Fix_a(T)`` (or off it)."""
    values = _model_parts(case, backend)
    if off_fixed:
        values["θ"] = _off_fixed(case, backend.xp)
    y = values["f"](values["θ"])
    return Binding({"E": tuple(np.shape(values["θ"])), "F": tuple(np.shape(y)), "G": tuple(np.shape(values["a"]))},
                   values, rng)


def _loss_of_model(case: Instance, backend: Any) -> Fn:
    xp = backend.xp
    return curried("L", lambda th: case.loss(case.eq.model(th, xp=xp), xp=xp), 1)


def discrete_binding(case: Instance, backend: Any, rng: np.random.Generator, off_fixed: bool = False) -> Binding:
    """§6 (eqs. (8)–(9), Corollary 4): ``L = ℓ ∘ f``, the linear symmetry ``M`` (``P = OOᵀ`` for a mirror),
    ``θ`` on ``ker(M − I)`` (or off it); ``F = ℝ``."""
    xp = backend.xp
    a = case.a(xp)
    theta = _off_fixed(case, xp) if off_fixed else case.theta(xp)
    M = backend.jacobian(lambda th: case.eq.T(a, th, xp=xp), theta)
    values: dict[str, Any] = {"L": _loss_of_model(case, backend), "M": Lin(M, (1,)), "θ": theta}
    if "O" in case.args:
        O = case.args["O"](xp)
        values["P"] = Lin(O @ O.T, (1,))
    return Binding({"E": tuple(np.shape(theta)), "F": ()}, values, rng)


def eigenspace_binding(case: Instance, backend: Any, rng: np.random.Generator, off_fixed: bool = False) -> Binding:
    """§6 block structure: :func:`discrete_binding` with ``x ∈ ker(M − I)`` and ``y ∈ ker(M + I)``, the
    projections ``(I ± M)/2`` of random vectors (``M`` an orthogonal involution: reflections, sign flips)."""
    binding = discrete_binding(case, backend, rng, off_fixed)
    xp = backend.xp
    M = binding.values["M"].arr
    n = int(np.shape(M)[0])
    local = np.random.default_rng(int(rng.integers(2**32)))  # not the stream the model's constants came from
    r, s = (xp.asarray(local.standard_normal(n)) for _ in range(2))
    values = dict(binding.values, x=(r + M @ r) / 2, y=(s - M @ s) / 2)
    return Binding(binding.spaces, values, rng)


def symmetry_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """eq. (2): ``L = ℓ ∘ f`` with a symmetry ``T`` at ``(a, θ)``; ``F = ℝ``."""
    values = _model_parts(case, backend)
    values["L"] = _loss_of_model(case, backend)
    return Binding({"E": tuple(np.shape(values["θ"])), "F": (), "G": tuple(np.shape(values["a"]))}, values, rng)


def stationary_binding(case: Instance, backend: Any, rng: np.random.Generator, off: bool = False) -> Binding:
    """§5.4: a symmetry at a (realizable) minimum ``θ*`` of ``L = ℓ ∘ f + 1``, ``v = charDirection T a`` as a function of
    ``θ`` (from its Lean definition); ``off=True`` moves to a non-stationary point."""
    binding = symmetry_binding(case, backend, rng)
    values = dict(binding.values)
    # L = ℓ ∘ f + 1: the realizable minimum has ℓ ∘ f = 0, where the invariance L(T(b, ϑ)) = L(ϑ) would
    # be judged as round-off relative to 0; the constant changes no derivative and no symmetry
    xp = backend.xp
    values["L"] = curried("L+1", lambda th: case.loss(case.eq.model(th, xp=xp), xp=xp) + 1.0, 1)
    if off:
        values["θ"] = case.args["off_stationary"](backend.xp)
    values["v"] = "charDirection T a"
    return Binding(binding.spaces, values, rng)


def homogeneity_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """§4.2–§5.1: a ``p``-homogeneous ``f`` with a loss ``ℓ`` at ``θ``, ``p = args["degree"]``."""
    values = _model_parts(case, backend)
    values["p"] = int(case.args["degree"])
    y = values["f"](values["θ"])
    return Binding({"E": tuple(np.shape(values["θ"])), "F": tuple(np.shape(y))}, values, rng)


def scalar_homogeneity_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """Corollary 1: scalar output, ``F = ℝ`` (``f`` and ``ℓ`` on real numbers)."""
    xp = backend.xp
    eq = case.eq
    values = {
        "f": curried("f1", lambda th: eq.model(th, xp=xp)[0], 1),
        "ℓ": curried("ℓ1", lambda y: case.loss(xp.reshape(y, (1,)), xp=xp), 1),
        "θ": case.theta(xp),
        "p": int(case.args["degree"]),
    }
    return Binding({"E": tuple(np.shape(values["θ"])), "F": ()}, values, rng)


def norm_growth_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """§4.2 norm growth: the gradient-flow curve ``θ(s) = θ₀ − s∇L(θ₀)`` (its velocity at ``t = 0`` is
    ``−∇L``, which is what the flow hypothesis asks)."""
    binding = homogeneity_binding(case, backend, rng)
    xp = backend.xp
    theta0 = binding.values["θ"]
    grad = backend.jacobian(lambda th: case.loss(case.eq.model(th, xp=xp), xp=xp), theta0)
    values = dict(binding.values)
    values["θ"] = curried("curve", lambda s: theta0 - s * grad, 1)
    values["t"] = xp.asarray(0.0)
    return Binding(binding.spaces, values, rng)


def _replace(theta: Any, shapes: list, block: int, xp: Any, new: Any) -> Any:
    parts = unpack(theta, shapes, xp)
    parts[block] = new
    return xp.concatenate([xp.ravel(p) for p in parts])


def rescaling_binding(case: Instance, backend: Any, rng: np.random.Generator, unit: int = 0) -> Binding:
    """§4.1 rescaling: ``L(u, w)`` is the loss as a function of the incoming weights ``u`` (row ``unit``
    of block ``i``) and outgoing weights ``w`` (column ``unit`` of block ``j``) of one hidden unit."""
    xp = backend.xp
    shapes, (i, j) = case.args["shapes"], case.args["layers"]
    theta = case.theta(xp)

    def L(pair: Any) -> Any:
        u, w = pair
        Wi, Wj = unpack(theta, shapes, xp)[i], unpack(theta, shapes, xp)[j]
        rows = [u if r == unit else Wi[r] for r in range(shapes[i][0])]
        cols = [w if c == unit else Wj[:, c] for c in range(shapes[j][1])]
        th = _replace(_replace(theta, shapes, i, xp, xp.stack(rows)), shapes, j, xp, xp.transpose(xp.stack(cols)))
        return case.loss(case.eq.model(th, xp=xp), xp=xp)

    Wi, Wj = unpack(theta, shapes, xp)[i], unpack(theta, shapes, xp)[j]
    return Binding({"E₁": (shapes[i][1],), "E₂": (shapes[j][0],)},
                   {"L": curried("Lpair", L, 1), "u": Wi[unit], "w": Wj[:, unit]}, rng)


def reparam_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """§4.1 reparameterization: ``L(W₁, W₂)`` with the other layers fixed, ``W₁ : E₀ →L E``,
    ``W₂ : E →L F₀``."""
    xp = backend.xp
    shapes, (i, j) = case.args["shapes"], case.args["layers"]
    theta = case.theta(xp)

    def L(pair: Any) -> Any:
        W1, W2 = pair
        th = _replace(_replace(theta, shapes, i, xp, W1.arr), shapes, j, xp, W2.arr)
        return case.loss(case.eq.model(th, xp=xp), xp=xp)

    W1, W2 = unpack(theta, shapes, xp)[i], unpack(theta, shapes, xp)[j]
    return Binding({"E₀": (shapes[i][1],), "E": (shapes[i][0],), "F₀": (shapes[j][0],)},
                   {"L": curried("Lpair", L, 1), "W₁": Lin(W1, (1,)), "W₂": Lin(W2, (1,))}, rng)


def noether_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """Corollary 2: the per-sample losses ``ℓ x θ``, their gradients ``g x θ``, the symmetry
    ``T s θ = e^{sA}θ``, its generator ``A`` and the symmetry direction ``v = Aθ``."""
    xp = backend.xp
    theta = case.theta(xp)
    N = int(np.shape(case.eq.model(theta, xp=xp))[0])
    A = xp.asarray(case.args["generator"])

    def g(x: Any, th: Any) -> Any:
        return backend.jacobian(lambda t: case.eq.model(t, xp=xp)[int(x)], th)

    values = {"N": N, "g": curried("g", g, 2), "A": Lin(A, (1,)), "θ": theta, "v": A @ theta,
              "ℓ": curried("ℓs", lambda x, th: case.eq.model(th, xp=xp)[int(x)], 2),
              "T": curried("T", lambda s, th: case.eq.T(xp.reshape(xp.asarray(s), (1,)), th, xp=xp), 2)}
    return Binding({"E": tuple(np.shape(theta))}, values, rng)


def charge_binding(rng: np.random.Generator, backend: Any, negative: bool = False) -> Binding:
    """Eq. (5): a generator ``A`` on ``E = ℝ⁴``, symmetric or not (one draw in two), and the bilinear form
    ``B x y = ⟪A x, y⟫`` (``B = A`` as a curried tensor). ``negative=True`` breaks ``hB``: ``B`` is the
    symmetric part of a non-symmetric ``A`` or ``A`` plus an antisymmetric part of a symmetric ``A``, so
    that exactly one side of the equivalence holds."""
    xp = backend.xp
    n = 4
    rng = copy.deepcopy(rng)  # the drawn generator is the model: every binding of it draws the same A
    C, K = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    symmetric = bool(rng.integers(2))
    A = (C + C.T) / 2 if symmetric else C
    B = A + (K - K.T) / 2 if negative and symmetric else (A + A.T) / 2 if negative else A
    return Binding({"E": (n,)}, {"A": Lin(xp.asarray(A), (1,)), "B": Lin(xp.asarray(B), (1, 1))}, rng)


def charge_flow_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """Eq. (5), conservation: the loss ``L = mean of the per-sample losses`` of a Noether model, invariant
    under ``T s = e^{sA}`` with a symmetric generator ``A`` (``B = A``), along the gradient-flow curve
    ``θ(s) = θ₀ − s∇L(θ₀)`` at ``t = 0`` (its velocity there is ``−∇L``, what ``hflow`` asks)."""
    xp = backend.xp
    theta0 = case.theta(xp)
    A = xp.asarray(case.args["generator"])

    def L(th: Any) -> Any:
        return case.loss(case.eq.model(th, xp=xp), xp=xp)

    grad = backend.jacobian(L, theta0)
    values = {"A": Lin(A, (1,)), "B": Lin(A, (1, 1)), "L": curried("L", L, 1),
              "T": curried("T", lambda s, th: case.eq.T(xp.reshape(xp.asarray(s), (1,)), th, xp=xp), 2),
              "θ": curried("curve", lambda s: theta0 - s * grad, 1), "t": xp.asarray(0.0)}
    return Binding({"E": tuple(np.shape(theta0))}, values, rng)


def reparam_flow_binding(case: Instance, backend: Any, rng: np.random.Generator, off_flow: bool = False) -> Binding:
    """§4.1 under gradient flow: ``W₁``, ``W₂`` (layers ``args["layers"]`` of a GL reparameterization model,
    ``d = d₂``), ``Gℓ = ∇ℓ(W₂W₁)`` for ``ℓ(P)`` the loss with ``W₁ := P``, ``W₂ := I`` (the model sees the
    pair only through ``W₂W₁``), and the flow lines ``Wₖ(s) = Wₖ − s Gₖ`` at ``t = 0`` with
    ``G₁ = W₂ᵀGℓ``, ``G₂ = GℓW₁ᵀ`` (``G₁``, ``G₂`` are bound by the statement's own ``hG₁``, ``hG₂``).
    ``off_flow=True`` (the negative control, violating ``hW₁``) moves ``W₁`` along ``−G₁ + R``, ``R`` random."""
    xp = backend.xp
    shapes, (i, j) = case.args["shapes"], case.args["layers"]
    theta = case.theta(xp)
    blocks = unpack(theta, shapes, xp)
    W1, W2 = blocks[i], blocks[j]
    (d, d0), (d2, d_) = shapes[i], shapes[j]
    if d_ != d or d2 != d:
        raise ValueError("reparam_flow_binding needs square middle layers (d = d₂)")

    def ell(p: Any) -> Any:
        P = xp.reshape(p, (d2, d0))
        th = _replace(_replace(theta, shapes, i, xp, P), shapes, j, xp, xp.asarray(np.eye(d)))
        return case.loss(case.eq.model(th, xp=xp), xp=xp)

    G = xp.reshape(backend.jacobian(ell, xp.ravel(W2 @ W1)), (d2, d0))
    G1, G2 = xp.transpose(W2) @ G, G @ xp.transpose(W1)
    V1 = G1 + xp.asarray(rng.standard_normal((d, d0))) if off_flow else G1
    values = {"W₁": curried("W1(s)", lambda s: W1 - s * V1, 1), "W₂": curried("W2(s)", lambda s: W2 - s * G2, 1),
              "Gℓ": G, "t": xp.asarray(0.0)}
    return Binding({"d₀": IndexType(d0), "d": IndexType(d), "d₂": IndexType(d2)}, values, rng)


def lemma1_any_k_binding(rng: np.random.Generator, backend: Any) -> Binding:
    """Lemma 1 for every ``k`` (``ComponentComp.lean``): ``k − 1 ∈ {1, 2, 3}`` leading slots over
    ``ι = Fin (k − 1)`` with spaces ``Xs i = ℝ^{dᵢ}``, ``E = ℝ³``, ``V = D = ℝ²``; ``A`` a random multilinear
    map ``x ↦ A x : E →L[ℝ] V`` (a tensor contracted with ``x₀, x₁, …``), a basis ``b`` of ``E``
    indexed by ``κ``; ``B``, ``x``, ``y`` are drawn by the evaluator from their types."""
    rng = copy.deepcopy(rng)
    xp = backend.xp
    slots = int(rng.integers(1, 4))
    dims = [int(d) for d in rng.integers(2, 4, slots)]
    e, v = 3, 2
    T = xp.asarray(rng.standard_normal((v, e) + tuple(reversed(dims))))

    def A(x: tuple) -> Lin:
        out = T
        for xi in x:  # x₀ on the last axis
            out = out @ xi
        return Lin(out, (1,))

    values = {"A": Fn(A, key=("multilinear", id(T))),
              "b": Basis(xp.asarray(np.eye(e) + 0.5 * rng.standard_normal((e, e))))}
    spaces = {"E": (e,), "V": (v,), "D": (v,), "ι": IndexType(slots), "κ": IndexType(e),
              "Xs": Fn(lambda i: Space((dims[int(i)],)))}  # a section variable: the family of spaces
    return Binding(spaces, values, rng)


def lemma1_binding(rng: np.random.Generator, backend: Any) -> Binding:
    """Lemma 1 on ``D = E = P = X = Y = W = ℝ³``, ``V = ℝ²``: a basis ``b`` of ``E``, smooth ``F``, ``g`` and
    matrix fields ``Fm``, ``Gm`` from random constants, a point ``x`` (the tensors ``A``, ``B``, … are
    drawn from their Lean types by the evaluator)."""
    xp = backend.xp
    d, v = 3, 2

    C1, C2, C3 = (rng.standard_normal((d, d)) for _ in range(3))
    C4 = rng.standard_normal((v, d))
    values = {
        "b": Basis(xp.asarray(np.eye(d) + 0.5 * rng.standard_normal((d, d)))),
        "F": curried("Fs", lambda z: xp.tanh(C4 @ z) + 0.5 * xp.sin(z[:v]), 1),
        "g": curried("gs", lambda z: xp.sinh(C1 @ z) * 0.5, 1),
        "Fm": curried("Fm", lambda z: Lin(xp.reshape(xp.tanh(xp.concatenate([C4 @ z, C4 @ (C2 @ z), C4 @ z * z[0]])), (v, d)), (1,)), 1),
        "Gm": curried("Gm", lambda z: Lin(xp.cos(xp.outer(C3 @ z, z)), (1,)), 1),
        "x": xp.asarray(rng.standard_normal(d)),
    }
    spaces = {s: (d,) for s in ("D", "E", "P", "X", "Y", "W")} | {"V": (v,), "ι": IndexType(d)}
    return Binding(spaces, values, rng)


def broken(case: Instance, size: float = 0.3) -> Instance:
    """The negative control of a continuous law: ``f + size·(sin(f + 0.7) + sin(Rθ))`` with a fixed
    random ``R`` (on a generic model neither ``f(T(a, θ)) = S(a, f(θ))`` nor an invariance survives, so
    every identity of Theorem 1 and of §§4–5 fails)."""
    from dataclasses import replace

    model = case.eq.model

    def perturbed(theta: Any, *, xp: Any) -> Any:
        y = model(theta, xp=xp)
        R = np.random.default_rng(7).standard_normal((int(np.prod(np.shape(y))), int(np.shape(theta)[0])))
        return y + size * (xp.sin(y + 0.7) + xp.reshape(xp.sin(R @ theta), np.shape(y)))

    return replace(case, eq=case.eq.replace(model=perturbed))


def last_layer_binding(case: Instance, backend: Any, rng: np.random.Generator) -> Binding:
    """Corollary 3: ``f(W, Φ) = vec(W h(ΦX))`` read as ``L(V, ψ) = ℓ(V(h ψ))`` with features
    ``h(ψ) = vec(σ(ΨX)) ∈ F₀ = ℝ^{dN}``, the last layer acting as ``W ⊗ I_N : F₀ →L[ℝ] F`` (``F = ℝ^{mN}``)
    and ``φ = vec(Φ)``; the features are read off the model (it is linear in ``W``)."""
    xp = backend.xp
    theta = case.theta(xp)
    y = case.eq.model(theta, xp=xp)
    m = int(np.shape(case.a(xp))[0])
    N = int(np.shape(y)[0]) // m
    d = int(np.shape(theta)[0])
    width = int(case.args.get("hidden", 3))  # pyspec.strategies.last_layer_models: hidden width 3
    W = xp.reshape(theta[: m * width], (m, width))

    def features(psi: Any) -> Any:
        def out(w: Any) -> Any:
            return case.eq.model(xp.concatenate([w, psi]), xp=xp)

        J = backend.jacobian(out, xp.asarray(np.zeros(m * width)))  # ∂y[i·N + j] / ∂W[i, k] = H[k, j]
        return xp.ravel(xp.transpose(J[:N, :width]))

    values = {
        "ℓ": curried("ℓ", lambda z: case.loss(z, xp=xp), 1),
        "h": curried("h", features, 1),
        "W": Lin(_kron(W, N, xp), (1,)),
        "φ": theta[m * width:],
    }
    return Binding({"E₀": (d - m * width,), "F₀": (width * N,), "F": (m * N,)}, values, rng)


def softmax_last_layer_binding(case: Instance, backend: Any, rng: np.random.Generator, squared: bool = False) -> Binding:
    """Corollary 3, softmax form: one sample of :func:`last_layer_binding`'s model, logits
    ``y = W h(φ) ∈ ι → ℝ`` (``ι`` the ``m`` classes, ``h(ψ) = σ(ΨX)[:, 0]``) and the cross-entropy
    ``ℓ(y) = log Σᵢ exp yᵢ − y_c`` of a random class ``c`` (its Hessian is ``diag p − ppᵀ``).
    ``squared=True`` (the negative control, violating ``hK``) takes ``ℓ(y) = ½‖y − t‖²`` instead."""
    xp = backend.xp
    theta = case.theta(xp)
    m = int(np.shape(case.a(xp))[0])
    d = int(np.shape(theta)[0])
    width = int(case.args.get("hidden", 3))  # pyspec.strategies.last_layer_models: hidden width 3
    W = xp.reshape(theta[: m * width], (m, width))
    c = int(rng.integers(m))
    target = xp.asarray(rng.standard_normal(m))

    def features(psi: Any) -> Any:  # ∂y[0] / ∂W[0, k] = σ(ΨX)[k, 0]
        J = backend.jacobian(lambda w: case.eq.model(xp.concatenate([w, psi]), xp=xp), xp.asarray(np.zeros(m * width)))
        return J[0, :width]

    def loss(y: Any) -> Any:
        if squared:
            return 0.5 * xp.sum(xp.square(y - target))
        return xp.log(xp.sum(xp.exp(y))) - y[c]

    # the logits are kept within a span of 4 (every pᵢ ≥ e⁻⁴/m) by scaling the last layer, still a valid W:
    # at a saturated softmax the float64 Hessian diag p − ppᵀ cancels to a relative error eps / min pᵢ,
    # which the relative-residual rule (natural scale: the computed Hessian's norm) does not allow for
    logits = backend.to_numpy(W @ features(theta[m * width:]))
    span = float(np.max(logits) - np.min(logits))
    if span > 4.0:
        W = W * (4.0 / span)
    values = {"ℓ": curried("ℓ-squared" if squared else "ℓ-ce", loss, 1), "h": curried("h0", features, 1),
              "W": Lin(W, (1,)), "φ": theta[m * width:]}
    return Binding({"E₀": (d - m * width,), "F₀": (width,), "ι": IndexType(m)}, values, rng)


def _kron(W: Any, N: int, xp: Any) -> Any:
    """``W ⊗ I_N`` with ``xp`` (exact at every precision)."""
    m, d = np.shape(W)
    rows = []
    for i in range(m):
        for j in range(N):
            row = [W[i, k] if jj == j else 0 * W[i, k] for k in range(d) for jj in range(N)]
            rows.append(xp.stack(row))
    return xp.stack(rows)
