"""Ready-made ``(T, S)`` on parameter pytrees (docs/theory.md#symmetry-and-conservation-laws, docs/theory.md#corollary-3-last-layer).

Each factory takes the parameters as the user holds them (a pytree, an Equinox module, a Flax NNX
module or ``State``, linen variables; :mod:`pyspec.adapters`) and *layers* addressed by key path
(``"layers[0]"``, ``"l1"``, ``"params.Dense_0"``, or a leaf such as ``"layers[0].weight"``) or by a
getter (``lambda m: m.layers[0]``), and returns a :class:`Symmetry`: ``T(a, θ)`` and ``S(a, y)`` acting
on that container, a good transformation parameter ``a``, and for continuous symmetries the
quantity conserved under gradient flow.

A *layer* is a linear map ``z = W x + b`` (Equinox ``weight``, shape ``(out, in)``) or
``z = x W + b`` (Flax ``kernel``, shape ``(in, out)``), with an optional bias. The symmetries act on
its output side (``W → M W``, ``b → M b``) and input side (``W → W N``):

* :func:`homogeneity`: ``W_l → aW_l``, ``b_l → a^l b_l``; ``S = a^p y`` (continuous);
* :func:`rescaling`: ``(W₁, b₁) → diag(a)(W₁, b₁)``, ``W₂ → W₂ diag(a)⁻¹``; symmetry (continuous);
* :func:`reparameterization`: ``(W₁, b₁) → A(W₁, b₁)``, ``W₂ → W₂A⁻¹``; symmetry (continuous);
* :func:`last_layer`: ``(W, b) → A(W, b)``; ``S = vec(Y Aᵀ)`` (continuous);
* :func:`softmax_translation`: ``b → b + a1``; ``S = y + a`` (continuous);
* :func:`attention_qk`: ``W_Q → AW_Q``, ``W_K → A⁻ᵀW_K``; symmetry (continuous);
* :func:`attention_vo`: ``W_V → AW_V``, ``W_O → W_OA⁻¹``; symmetry (continuous);
* :func:`norm_scale`: ``(W, b) → a(W, b)``, or ``diag(a)`` per unit; symmetry (continuous);
* :func:`permutation`: swap units ``i, j`` between two layers; symmetry (discrete, Theorem 2);
* :func:`sign_flip`: flip the sign of units between two layers; symmetry (discrete, Theorem 2).

The transformations are written with the backend namespace ``xp``, so a plain pytree of arrays can
also be checked at high precision.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from pyspec.adapters import TreeView, parse_path, path_name, unwrap
from pyspec.backends import get_backend
from pyspec.equivariance import Equivariance
from pyspec.errors import ShapeError

__all__ = [
    "Layer",
    "Symmetry",
    "layer",
    "layers",
    "homogeneity",
    "rescaling",
    "reparameterization",
    "last_layer",
    "softmax_translation",
    "attention_qk",
    "attention_vo",
    "norm_scale",
    "permutation",
    "sign_flip",
    "fixed_point",
]

Address = Any
"""A layer or leaf: key path string or tuple, or a getter ``lambda theta: theta.layers[0]``."""


class Layer(NamedTuple):
    """A linear map in a parameter container: the key paths of its weight (and bias) leaves.

    ``layout`` is ``"out_in"`` (``z = W x``, Equinox ``weight``) or ``"in_out"`` (``z = x W``, Flax
    ``kernel``). Leaves are found by path when ``T`` runs, so a symmetry built on one container
    applies to any container with those leaves (a missing one is a named error).
    """

    name: str
    weight: tuple[Any, ...]
    bias: tuple[Any, ...] | None
    layout: str
    in_dim: int
    out_dim: int


class Symmetry(NamedTuple):
    """A ready-made ``(T, S)`` on a parameter container.

    Attributes
    ----------
    name : str
    kind : str
        ``"continuous"`` (Theorem 1) or ``"discrete"`` (Theorem 2, at a fixed point).
    T : callable
        ``T(a, θ, *, xp) -> θ'`` on the container.
    S : callable or None
        ``S(a, y, *, xp)``; ``None`` for a symmetry.
    a : array
        A good position's transformation parameter (the group element for a discrete symmetry).
    conserved : callable or None
        ``conserved(θ, xp) -> (incoming, outgoing)``: ``Q = incoming − outgoing`` is conserved under
        gradient flow, and ``∇incoming·∇L = ∇outgoing·∇L`` (the balance of §4.1). ``None`` when the
        symmetry gives no such law.
    conserved_name : str
    """

    name: str
    kind: str
    T: Callable[..., Any]
    S: Callable[..., Any] | None
    a: np.ndarray
    conserved: Callable[..., tuple[Any, Any]] | None = None
    conserved_name: str = ""

    @property
    def k(self) -> int:
        """Number of transformation parameters (directions of ``v``)."""
        return int(np.size(self.a)) if self.kind == "continuous" else 0

    @property
    def is_symmetry(self) -> bool:
        """Whether ``S`` is the identity."""
        return self.S is None

    def equivariance(self, model: Callable[..., Any]) -> Equivariance:
        """The :class:`~pyspec.Equivariance` of ``model`` (a function of the container) under this ``(T, S)``."""
        return Equivariance(model=model, T=self.T, S=self.S, name=self.name)


def _layout(last: Any, layout: str) -> str:
    if layout != "auto":
        if layout not in ("out_in", "in_out"):
            raise ValueError(f"layout must be 'auto', 'out_in' or 'in_out', got {layout!r}")
        return layout
    if last == "weight":
        return "out_in"
    if last == "kernel":
        return "in_out"
    raise ShapeError(
        f"cannot tell whether leaf {last!r} is (out, in) or (in, out): name it 'weight' (Equinox, y = W x) "
        "or 'kernel' (Flax, y = x W), or pass layout='out_in' or 'in_out'"
    )


def layer(theta: Any, address: Address, layout: str = "auto") -> Layer:
    """Resolve a layer (its weight and bias leaves) in ``theta``.

    ``address`` names the layer (its leaves ``weight``/``kernel`` and ``bias`` are found below it), a
    2-D weight leaf (no bias), or is a getter returning the layer or the weight.
    """
    view = TreeView(theta)
    if callable(address):
        target = address(theta)
        target = unwrap(target)
        if not hasattr(target, "shape") or not hasattr(target, "ndim"):
            ids = {id(x): i for i, x in enumerate(view.arrays(theta))}
            w = next((ids[id(unwrap(getattr(target, n)))] for n in ("weight", "kernel")
                      if hasattr(target, n) and id(unwrap(getattr(target, n))) in ids), None)
            if w is None:
                raise ShapeError(f"the getter {address!r} returns neither an array leaf nor a layer with a weight")
            address = view.leaves[w].path[:-1]
        else:
            address = view.leaves[view.index(address, theta)].path
    path = parse_path(address)
    below = view.children(path)
    if below:
        names = [n for n in ("weight", "kernel") if n in below]
        if len(names) != 1:
            raise ShapeError(f"layer {path_name(path)!r} has leaves {sorted(below)}; expected one 'weight' or 'kernel'")
        w, b, last = below[names[0]], below.get("bias"), names[0]
    else:
        w, b, last = view.index(path), None, path[-1]
    shape = view.leaves[w].shape
    if len(shape) != 2:
        raise ShapeError(f"the weight {view.leaves[w].name!r} has shape {shape}; a layer needs a 2-D weight")
    lay = _layout(last, layout)
    out_dim, in_dim = shape if lay == "out_in" else shape[::-1]
    if b is not None and view.leaves[b].shape != (out_dim,):
        raise ShapeError(f"the bias {view.leaves[b].name!r} has shape {view.leaves[b].shape}, expected ({out_dim},)")
    return Layer(name=path_name(view.leaves[w].path[:-1] if below else path), weight=view.leaves[w].path,
                 bias=None if b is None else view.leaves[b].path, layout=lay,
                 in_dim=int(in_dim), out_dim=int(out_dim))


def layers(theta: Any) -> list[Layer]:
    """Every layer of ``theta`` in leaf order: a parent of one 2-D ``weight`` or ``kernel`` leaf (and
    an optional ``bias``)."""
    view = TreeView(theta)
    parents = dict.fromkeys(leaf.path[:-1] for leaf in view.leaves
                            if leaf.path and leaf.path[-1] in ("weight", "kernel") and len(leaf.shape) == 2)
    found = []
    for parent in parents:
        try:
            found.append(layer(theta, parent))
        except ShapeError:
            continue
    return found


def _layers(theta: Any, addresses: Sequence[Address], layout: str) -> list[Layer]:
    """Resolve addresses; an int is the position in :func:`layers`."""
    out = []
    for a in addresses:
        if isinstance(a, Layer):
            out.append(a)
        elif isinstance(a, int) and not isinstance(a, bool):
            found = layers(theta)
            if not -len(found) <= a < len(found):
                raise ShapeError(f"layer {a} requested, but theta has {len(found)} layers: {[L.name for L in found]}")
            out.append(found[a])
        else:
            out.append(layer(theta, a, layout))
    return out


class _Leaves:
    """The array leaves of a container, read and written by key path."""

    def __init__(self, theta: Any) -> None:
        self.view = TreeView(theta)
        self.items = list(self.view.arrays(theta))

    def __getitem__(self, path: tuple[Any, ...]) -> Any:
        return self.items[self.view.index(path)]

    def __setitem__(self, path: tuple[Any, ...], value: Any) -> None:
        self.items[self.view.index(path)] = value


def _transform(theta: Any, xp: Any, edit: Callable[[_Leaves], None]) -> Any:
    """``theta`` with its array leaves edited in place by ``edit`` (by key path)."""
    leaves = _Leaves(theta)
    edit(leaves)
    return leaves.view.rebuild(leaves.items)


def _out_side(leaves: _Leaves, L: Layer, M: Any, xp: Any, bias: bool = True) -> None:
    """``z → M z``: ``W → M W`` (``W Mᵀ`` for ``in_out``), ``b → M b``."""
    W = leaves[L.weight]
    leaves[L.weight] = M @ W if L.layout == "out_in" else W @ xp.transpose(M)
    if bias and L.bias is not None:
        leaves[L.bias] = M @ leaves[L.bias]


def _in_side(leaves: _Leaves, L: Layer, N: Any, xp: Any) -> None:
    """``x → N x``: ``W → W N`` (``Nᵀ W`` for ``in_out``)."""
    W = leaves[L.weight]
    leaves[L.weight] = W @ N if L.layout == "out_in" else xp.transpose(N) @ W


def _diag(a: Any, xp: Any, r: int) -> Any:
    return xp.eye(r) * xp.reshape(a, (1, r))


def _out_gram(theta: Any, L: Layer, xp: Any) -> Any:
    """``[W b][W b]ᵀ`` in output coordinates (``r × r``)."""
    leaves = _Leaves(theta)
    W = leaves[L.weight] if L.layout == "out_in" else xp.transpose(leaves[L.weight])
    G = W @ xp.transpose(W)
    if L.bias is not None:
        b = leaves[L.bias]
        G = G + xp.reshape(b, (L.out_dim, 1)) @ xp.reshape(b, (1, L.out_dim))
    return G


def _in_gram(theta: Any, L: Layer, xp: Any) -> Any:
    """``WᵀW`` in input coordinates (``r × r``)."""
    W = _Leaves(theta)[L.weight]
    W = W if L.layout == "out_in" else xp.transpose(W)
    return xp.transpose(W) @ W


def _diagonal(G: Any, xp: Any, r: int) -> Any:
    return xp.sum(G * xp.eye(r), axis=1)


def _check_pair(first: Layer, second: Layer) -> int:
    if first.out_dim != second.in_dim:
        raise ShapeError(
            f"layer {first.name!r} has {first.out_dim} outputs but {second.name!r} has {second.in_dim} inputs: "
            "they do not meet at one hidden layer"
        )
    return first.out_dim


def _rescaling_point(h: int) -> np.ndarray:
    return np.exp(0.3 * np.cos(2.4 * np.arange(1, h + 1)))


def _gl_point(h: int) -> np.ndarray:
    """``I + E`` with ``‖E‖₂ ≤ 0.3``: condition number at most 1.9."""
    E = np.cos(2.4 * np.arange(1, h * h + 1)).reshape(h, h)
    return np.eye(h) + 0.3 * E / h


def homogeneity(theta: Any, layers: Sequence[Address], *, layout: str = "auto") -> Symmetry:
    """Degree-``p`` homogeneity of a stack of ``p`` layers with positively homogeneous activations
    (ReLU, leaky ReLU) between them (§4.2): ``W_l → aW_l``, ``b_l → a^l b_l`` (``l = 1..p``) and
    ``S(a, y) = a^p y``. Without biases this is ``T(a, θ) = aθ``. Leaves outside ``layers`` are left
    unchanged (they must not matter to the homogeneity)."""
    Ls = _layers(theta, layers, layout)
    p = len(Ls)

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            for level, L in enumerate(Ls, start=1):
                leaves[L.weight] = a[0] * leaves[L.weight]
                if L.bias is not None:
                    leaves[L.bias] = a[0] ** level * leaves[L.bias]

        return _transform(th, xp, edit)

    return Symmetry(name=f"homogeneity (degree {p})", kind="continuous", T=T,
                    S=lambda a, y, *, xp: a[0] ** p * y, a=np.array([1.3]))


def rescaling(theta: Any, first: Address, second: Address, *, layout: str = "auto") -> Symmetry:
    """Per-unit rescaling of the hidden (leaky-)ReLU layer between ``first`` and ``second`` (§4.1):
    unit ``r``'s incoming weights and bias times ``a_r > 0``, its outgoing weights divided by ``a_r``.
    Conserved: ``‖u_r‖² + b_r² − ‖w_r‖²`` per unit."""
    L1, L2 = _layers(theta, (first, second), layout)
    h = _check_pair(L1, L2)

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            _out_side(leaves, L1, _diag(a, xp, h), xp)
            _in_side(leaves, L2, _diag(1.0 / a, xp, h), xp)

        return _transform(th, xp, edit)

    def conserved(th: Any, xp: Any) -> tuple[Any, Any]:
        return _diagonal(_out_gram(th, L1, xp), xp, h), _diagonal(_in_gram(th, L2, xp), xp, h)

    return Symmetry(name=f"rescaling {L1.name} -> {L2.name}", kind="continuous", T=T, S=None,
                    a=_rescaling_point(h), conserved=conserved,
                    conserved_name=f"|{L1.name}[r]|^2 - |{L2.name}[:, r]|^2 (per unit)")


def reparameterization(theta: Any, first: Address, second: Address, *, layout: str = "auto",
                       name: str = "GL") -> Symmetry:
    """``GL(r)`` reparameterization between two layers with no nonlinearity between them (§4.1):
    ``(W₁, b₁) → A(W₁, b₁)``, ``W₂ → W₂A⁻¹``. Conserved: ``[W₁ b₁][W₁ b₁]ᵀ − W₂ᵀW₂`` (``r × r``)."""
    L1, L2 = _layers(theta, (first, second), layout)
    r = _check_pair(L1, L2)

    def T(A: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            _out_side(leaves, L1, A, xp)
            _in_side(leaves, L2, xp.inv(A), xp)

        return _transform(th, xp, edit)

    def conserved(th: Any, xp: Any) -> tuple[Any, Any]:
        return _out_gram(th, L1, xp), _in_gram(th, L2, xp)

    return Symmetry(name=f"{name}({r}) {L1.name} -> {L2.name}", kind="continuous", T=T, S=None, a=_gl_point(r),
                    conserved=conserved, conserved_name=f"W1 W1^T - W2^T W2 ({L1.name}, {L2.name})")


def attention_vo(theta: Any, value: Address, output: Address, *, layout: str = "auto") -> Symmetry:
    """``GL(d_v)`` on ``(W_V, W_O)``: the attention weights act on tokens, so ``V → VA``, ``W_O → A⁻¹W_O``
    is :func:`reparameterization` between the value and output projections."""
    return reparameterization(theta, value, output, layout=layout, name="attention GL_v")


def attention_qk(theta: Any, query: Address, key: Address, *, layout: str = "auto") -> Symmetry:
    """``GL(d_k)`` on ``(W_Q, W_K)``: ``q → Aq``, ``k → A⁻ᵀk`` leaves every score ``qᵀk`` unchanged.
    Conserved: ``[W_Q b_Q][W_Q b_Q]ᵀ − [W_K b_K][W_K b_K]ᵀ``."""
    LQ, LK = _layers(theta, (query, key), layout)
    if LQ.out_dim != LK.out_dim:
        raise ShapeError(f"query {LQ.name!r} has {LQ.out_dim} outputs, key {LK.name!r} has {LK.out_dim}")
    d = LQ.out_dim

    def T(A: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            _out_side(leaves, LQ, A, xp)
            _out_side(leaves, LK, xp.transpose(xp.inv(A)), xp)

        return _transform(th, xp, edit)

    def conserved(th: Any, xp: Any) -> tuple[Any, Any]:
        return _out_gram(th, LQ, xp), _out_gram(th, LK, xp)

    return Symmetry(name=f"attention GL_k({d}) {LQ.name}, {LK.name}", kind="continuous", T=T, S=None,
                    a=_gl_point(d), conserved=conserved, conserved_name=f"WQ WQ^T - WK WK^T ({LQ.name}, {LK.name})")


def last_layer(theta: Any, final: Address, *, layout: str = "auto") -> Symmetry:
    """Last-layer ``GL(m)`` (§8): ``(W, b) → A(W, b)`` and ``S(A, y) = vec(Y Aᵀ)`` for outputs
    ``y = vec(Y)``, ``Y`` of shape ``(samples, m)`` (row-major, samples first)."""
    (L,) = _layers(theta, (final,), layout)
    m = L.out_dim

    def T(A: Any, th: Any, *, xp: Any) -> Any:
        return _transform(th, xp, lambda leaves: _out_side(leaves, L, A, xp))

    def S(A: Any, y: Any, *, xp: Any) -> Any:
        return xp.ravel(xp.reshape(y, (-1, m)) @ xp.transpose(A))

    return Symmetry(name=f"last-layer GL({m}) {L.name}", kind="continuous", T=T, S=S, a=_gl_point(m))


def softmax_translation(theta: Any, final: Address, *, layout: str = "auto") -> Symmetry:
    """Softmax translation: the final bias ``b → b + a·1`` shifts every logit, ``S(a, y) = y + a``; a
    softmax (cross-entropy) loss is invariant under ``S``."""
    (L,) = _layers(theta, (final,), layout)
    bias = L.bias
    if bias is None:
        raise ShapeError(f"layer {L.name!r} has no bias: softmax translation moves the final bias")

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            leaves[bias] = leaves[bias] + a[0]

        return _transform(th, xp, edit)

    return Symmetry(name=f"softmax translation {L.name}", kind="continuous", T=T,
                    S=lambda a, y, *, xp: y + a[0], a=np.array([0.7]))


def norm_scale(theta: Any, feeding: Address, *, per_unit: bool = False, layout: str = "auto") -> Symmetry:
    """Scale invariance of a layer feeding a normalization: ``(W, b) → a(W, b)``, ``a > 0``
    (LayerNorm; exact for ``eps = 0``), or ``diag(a)`` per unit with ``per_unit=True`` (BatchNorm).
    Conserved: ``‖W‖² + ‖b‖²`` (per unit: each row's)."""
    (L,) = _layers(theta, (feeding,), layout)
    r = L.out_dim

    def T(a: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            if per_unit:
                _out_side(leaves, L, _diag(a, xp, r), xp)
            else:
                leaves[L.weight] = a[0] * leaves[L.weight]
                if L.bias is not None:
                    leaves[L.bias] = a[0] * leaves[L.bias]

        return _transform(th, xp, edit)

    def conserved(th: Any, xp: Any) -> tuple[Any, Any]:
        G = _diagonal(_out_gram(th, L, xp), xp, r)
        q = G if per_unit else xp.reshape(xp.sum(G), (1,))
        return q, 0.0 * q

    kind = "per-unit " if per_unit else ""
    return Symmetry(name=f"{kind}scale invariance {L.name}", kind="continuous", T=T, S=None,
                    a=_rescaling_point(r) if per_unit else np.array([1.3]), conserved=conserved,
                    conserved_name=f"|{L.name}|^2" + (" (per unit)" if per_unit else ""))


def _discrete(name: str, L1: Layer, L2: Layer, M: np.ndarray) -> Symmetry:
    def T(a: Any, th: Any, *, xp: Any) -> Any:
        def edit(leaves: _Leaves) -> None:
            P = xp.asarray(M)
            _out_side(leaves, L1, P, xp)
            _in_side(leaves, L2, xp.transpose(P), xp)

        return _transform(th, xp, edit)

    return Symmetry(name=name, kind="discrete", T=T, S=None, a=np.zeros(1))


def permutation(theta: Any, first: Address, second: Address, units: tuple[int, int] = (0, 1), *,
                layout: str = "auto") -> Symmetry:
    """Swap hidden units ``i, j`` between two layers (any elementwise activation); Theorem 2 applies
    where the two units are identical (:func:`fixed_point`)."""
    L1, L2 = _layers(theta, (first, second), layout)
    h = _check_pair(L1, L2)
    i, j = units
    if not (0 <= i < h and 0 <= j < h and i != j):
        raise ValueError(f"units {units} must be two different units of the {h} hidden units")
    P = np.eye(h)
    P[[i, j]] = P[[j, i]]
    return _discrete(f"permutation {L1.name} -> {L2.name} units {i}<->{j}", L1, L2, P)


def sign_flip(theta: Any, first: Address, second: Address, units: Sequence[int] = (0,), *,
              layout: str = "auto") -> Symmetry:
    """Flip the sign of hidden units between two layers with an odd activation (``tanh``); Theorem 2
    applies where those units are dead (all their weights zero, :func:`fixed_point`)."""
    L1, L2 = _layers(theta, (first, second), layout)
    h = _check_pair(L1, L2)
    d = np.ones(h)
    d[list(units)] = -1.0
    return _discrete(f"sign flip {L1.name} -> {L2.name} units {tuple(units)}", L1, L2, np.diag(d))


def fixed_point(symmetry: Symmetry, theta: Any) -> Any:
    """The nearest point of the fixed-point set of an involution: ``(θ + T(θ)) / 2`` (two units made
    identical for a permutation, the flipped units zeroed for a sign flip)."""
    if symmetry.kind != "discrete":
        raise ValueError(f"{symmetry.name} is continuous: fixed points are for discrete symmetries")
    xp = get_backend(None, jit=False).xp
    view = TreeView(theta)
    moved = view.arrays(symmetry.T(symmetry.a, theta, xp=xp))
    return view.rebuild([(xp.asarray(x) + y) / 2 for x, y in zip(view.arrays(theta), moved)])
