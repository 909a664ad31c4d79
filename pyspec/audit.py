"""``ps.audit(model, params, loss, data)``: every ready-made symmetry a model has, and what follows.

The audit lists the model's layers (array leaves named ``weight``/``kernel`` with an optional
``bias`` under one parent), builds every candidate of :mod:`pyspec.symmetries` whose shapes fit, and
*measures* each: eq. (1) at ``θ`` and nearby points decides whether it holds. For each symmetry that
holds it reports the number of directions ``k`` and the rank of ``v`` (docs/theory.md#definition-2), the
conserved quantity under gradient flow (checked: ``dQ/dt = −∇Q·∇L = 0``) and the verdict of
Theorem 1 (continuous) or Theorem 2 (discrete, at a fixed point only). The columns of ``v`` of all
symmetries (``S = id``) lie in ``ker H`` at a stationary point (Theorem 1, item 2a with ``∇L = 0``),
so their joint rank is a lower bound on ``dim ker H`` there.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, NamedTuple, Sequence, TypedDict

import jax
import numpy as np

from pyspec import symmetries as sym
from pyspec.adapters import TreeView
from pyspec.backends import get_backend
from pyspec.catalog.base import unpack
from pyspec.characteristic import direction_of, equivariance_report, position_report
from pyspec.checks import compare, tolerance
from pyspec.equivariance import Equivariance, Problem, bind
from pyspec.report import Report, flow_derivative, norm, vanishes

__all__ = ["AuditRow", "AuditTable", "audit", "candidates", "model_function", "symmetry_conservation"]


class AuditRow(NamedTuple):
    """One candidate symmetry of :func:`audit`.

    Attributes
    ----------
    symmetry : str
    kind : str
        ``"continuous"`` or ``"discrete"``.
    is_symmetry : bool
        ``S`` is the identity (otherwise an equivariance, e.g. homogeneity).
    holds : bool
        eq. (1) holds at ``θ`` and nearby points.
    residual, tolerance : float
        Worst relative residual of eq. (1) and its tolerance.
    k : int
        Transformation parameters (0 for a discrete symmetry).
    rank : int or None
        Rank of ``v`` (directions in ``ker H`` at a stationary point); ``None`` unless it holds and
        ``S = id``.
    conserved : str
        The quantity conserved under gradient flow (``""`` if none).
    conserved_residual : float or None
        Relative ``dQ/dt`` under gradient flow at ``θ``.
    theorem : str
        ``"theorem1"`` or ``"theorem2"``.
    verdict : str
        ``"holds"``, ``"fails"`` or ``"inconclusive"``.
    reason : str
        Why the verdict is not ``"holds"`` (e.g. not a fixed point, symmetry broken).
    theorem_residual : float or None
        Worst residual of the theorem's identities.
    """

    symmetry: str
    kind: str
    is_symmetry: bool
    holds: bool
    residual: float
    tolerance: float
    k: int
    rank: int | None
    conserved: str
    conserved_residual: float | None
    theorem: str
    verdict: str
    reason: str
    theorem_residual: float | None


class AuditTable(NamedTuple):
    """The result of :func:`audit`: one :class:`AuditRow` per candidate.

    Attributes
    ----------
    rows : tuple of AuditRow
    kernel_lower_bound : int
        Joint rank of the directions ``v`` of every symmetry that holds: ``dim ker H ≥`` this at a
        stationary point.
    n : int
        Number of parameters.
    backend : str
    """

    rows: tuple[AuditRow, ...]
    kernel_lower_bound: int
    n: int
    backend: str

    @property
    def found(self) -> tuple[str, ...]:
        """Names of the symmetries that hold."""
        return tuple(r.symmetry for r in self.rows if r.holds)

    def to_json(self) -> str:
        """The table as JSON: ``{"rows": [...], "kernel_lower_bound": …, "n": …, "backend": …}``."""
        return json.dumps({"rows": [r._asdict() for r in self.rows], "kernel_lower_bound": self.kernel_lower_bound,
                           "n": self.n, "backend": self.backend})

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=f"audit: n = {self.n}, dim ker H >= {self.kernel_lower_bound} at a stationary point "
                            f"({self.backend})")
        for col in ("symmetry", "holds", "residual", "k", "rank", "conserved", "dQ/dt", "theorem", "verdict"):
            table.add_column(col)
        for r in self.rows:
            table.add_row(r.symmetry, "yes" if r.holds else "no", f"{r.residual:.1e}", str(r.k),
                          "" if r.rank is None else str(r.rank), r.conserved,
                          "" if r.conserved_residual is None else f"{r.conserved_residual:.1e}",
                          r.theorem, r.verdict + (f" ({r.reason})" if r.reason else ""))
        return table

    def print(self) -> None:
        """Print with ``rich`` (plain text when ``rich`` is missing)."""
        try:
            from rich.console import Console
        except ImportError:
            print(str(self))
            return
        Console().print(self)

    def __str__(self) -> str:
        lines = [f"audit: n = {self.n}, dim ker H >= {self.kernel_lower_bound} at a stationary point"]
        for r in self.rows:
            lines.append(f"  {r.symmetry:<48} {'holds' if r.holds else 'no':<5} residual {r.residual:.1e} "
                         f"k={r.k} {r.theorem}: {r.verdict}" + (f" ({r.reason})" if r.reason else ""))
        return "\n".join(lines)


def model_function(model: Any, params: Any, data: Any, vmap: bool | None = None) -> tuple[Callable[[Any], Any], Any]:
    """``(apply, θ)``: ``apply(θ)`` is the model's output on ``data`` (in its own shape) with ``θ`` the
    parameter container.

    * Equinox module: ``θ`` is the module (``params`` is ``None`` or the module); applied per sample
      with ``jax.vmap`` (``vmap=False`` to call it on the batch);
    * Flax NNX module: ``θ`` is the module, or ``params`` as an ``nnx.State`` of it;
    * Flax linen module: ``θ = params``, the variables of ``model.apply``;
    * a function ``model(params, data)``: ``θ = params``.
    """
    eqx = sys.modules.get("equinox")
    nnx = sys.modules.get("flax.nnx")
    linen = sys.modules.get("flax.linen")
    if eqx is not None and isinstance(model, eqx.Module):
        if vmap is False:
            return (lambda m: m(data)), (model if params is None else params)
        return (lambda m: jax.vmap(m)(data)), (model if params is None else params)
    if nnx is not None and isinstance(model, nnx.Module):
        if params is None:
            return (lambda m: m(data)), model
        graph, _, rest = nnx.split(model, nnx.Param, ...)
        return (lambda s: nnx.merge(graph, s, rest)(data)), params
    if linen is not None and isinstance(model, linen.Module):
        return (lambda v: model.apply(v, data)), params
    if callable(model):
        return (lambda p: model(p, data)), params
    raise TypeError(f"cannot audit a {type(model).__name__}: pass an Equinox, NNX or linen module or a function")


def candidates(theta: Any, output_size: int) -> list[sym.Symmetry]:
    """Every ready-made symmetry whose shapes fit the layers of ``theta`` (outputs of ``output_size``)."""
    Ls = sym.layers(theta)
    out: list[sym.Symmetry] = []
    view = TreeView(theta)
    covered = {p for L in Ls for p in (L.weight, L.bias) if p is not None}
    chain = all(a.out_dim == b.in_dim for a, b in zip(Ls, Ls[1:]))
    if Ls and chain and covered == {leaf.path for leaf in view.leaves}:
        out.append(sym.homogeneity(theta, Ls))
    for L1 in Ls:
        for L2 in Ls:
            if L1 is L2 or L1.out_dim != L2.in_dim:
                continue
            out += [sym.rescaling(theta, L1, L2), sym.reparameterization(theta, L1, L2)]
            if L1.out_dim >= 2:
                out.append(sym.permutation(theta, L1, L2))
            out.append(sym.sign_flip(theta, L1, L2))
    for i, LQ in enumerate(Ls):
        for LK in Ls[i + 1:]:
            if (LQ.in_dim, LQ.out_dim) == (LK.in_dim, LK.out_dim):
                out.append(sym.attention_qk(theta, LQ, LK))
    for L in Ls:
        if output_size % L.out_dim == 0:
            out.append(sym.last_layer(theta, L))
            if L.bias is not None:
                out.append(sym.softmax_translation(theta, L))
        out += [sym.norm_scale(theta, L), sym.norm_scale(theta, L, per_unit=True)]
    return out


def _rank(v: np.ndarray, eps: float) -> int:
    if v.size == 0:
        return 0
    s = np.linalg.svd(v, compute_uv=False)
    return int(np.sum(s > s[0] * max(v.shape) * eps * 1e3)) if s[0] > 0 else 0


def symmetry_conservation(problem: Problem, theta: Any, symmetry: sym.Symmetry, container: Any,
                          rebuild: Callable[[Any], Any] | None = None) -> Report:
    """§4.1 for a ready-made symmetry: ``balance`` (``∇incoming·∇L = ∇outgoing·∇L``) and ``flow``
    (``dQ/dt = 0`` under gradient flow, ``Q = incoming − outgoing``) at the flat point ``theta`` of a
    bound ``problem`` whose parameters have the structure of ``container``. ``rebuild(t)``: the
    container at the problem's flat parameters ``t`` (default: the problem bound on ``container``)."""
    conserved = symmetry.conserved
    if conserved is None:
        raise ValueError(f"{symmetry.name} has no conserved quantity")
    B = problem.backend
    xp = B.xp
    view = TreeView(container)
    unflat = problem.unflatten_theta

    def parts(t: Any) -> tuple[Any, Any]:
        if rebuild is not None:
            tree = rebuild(t)
        else:
            tree = unflat(t)
            tree = view.rebuild(list(tree)) if view.kind != "pytree" else tree
        q_in, q_out = conserved(tree, xp)
        return xp.ravel(q_in), xp.ravel(q_out)

    def body(t: Any) -> tuple[Any, ...]:
        grad = B.jacobian(problem.L, t)
        d_in = flow_derivative(B, lambda s: parts(s)[0], t, grad)
        d_out = flow_derivative(B, lambda s: parts(s)[1], t, grad)
        J = B.jacobian(lambda s: parts(s)[0] - parts(s)[1], t)
        return grad, d_in, d_out, J

    grad, d_in, d_out, J = B.to_host(B.compile(body)(theta))
    tol = tolerance(B, problem.n + problem.m)
    natural = norm(B, J) * norm(B, grad)  # rounding level of the JVPs ∇Q·∇L
    identity = ("rescaling_conservation" if symmetry.name.startswith("rescaling") else
                "symmetry_orthogonality" if "scale invariance" in symmetry.name else "reparam_conservation")
    return Report(identity, {
        "balance": compare(B, identity, -d_in, {"outgoing": -d_out}, tol, natural),
        "flow": vanishes(B, identity, d_in - d_out, tol, natural),
    }, details={"conserved": symmetry.conserved_name})


def audit(
    model: Any,
    params: Any,
    loss: Callable[..., Any],
    data: Any,
    *,
    symmetries: Sequence[sym.Symmetry] | None = None,
    dtype: str | None = None,
    vmap: bool | None = None,
    theorems: bool = True,
) -> AuditTable:
    """Try every applicable ready-made symmetry of ``model`` at ``params``.

    Parameters
    ----------
    model : module or callable
        An Equinox, Flax NNX or linen module, or ``model(params, data)`` (:func:`model_function`).
    params : container or None
        The parameters (``None`` for an Equinox or NNX module that holds them).
    loss : callable
        ``loss(output)`` with the model's output as it returns it (any shape).
    data : array
        The inputs.
    symmetries : sequence of Symmetry, optional
        Candidates to try instead of :func:`candidates`.
    dtype : {None, "float32"}
        ``"float32"`` checks a float32 model at float32's round-off (:mod:`pyspec.precision`).
    vmap : bool, optional
        Equinox only: apply the module per sample (default) or to the batch.
    theorems : bool
        Check Theorem 1 / 2 for every symmetry that holds (default); ``False`` measures the
        symmetries, ranks and conservation laws only (verdict ``"inconclusive"``, reason "not checked").

    Returns
    -------
    AuditTable

    Raises
    ------
    PrecisionError
        The model or the loss computes in float32/bfloat16 in a float64 audit.
    """
    if dtype not in (None, "float32"):
        raise ValueError(f"dtype must be None (float64) or 'float32', got {dtype!r}")
    apply, theta = model_function(model, params, data, vmap)
    view = TreeView(theta)
    shaped = jax.eval_shape(lambda leaves: apply(view.rebuild(leaves)), view.arrays(theta)).shape

    # One compiled model for every candidate (the candidates differ in T and S only): the screening
    # evaluates it ~2000 times, op by op ~10 ms each for a transformer block. Every candidate is bound
    # on θ's flat vector with compiled f and T (_FlatParameters): splitting and rebuilding a module op
    # by op at each evaluation cost more than the model itself (an NNX block: ~20 ms a call).
    flat = _FlatParameters.of(theta, view)
    apply_flat = jax.jit(lambda t: jax.numpy.ravel(apply(flat.rebuild(t))))

    def f(t: Any) -> Any:
        return apply_flat(t)

    def flat_loss(y: Any) -> Any:
        return loss(jax.numpy.reshape(y, shaped))

    backend = get_backend(dtype, jit=False)
    cands = list(symmetries) if symmetries is not None else candidates(theta, int(np.prod(shaped)))
    rows, directions = [], []
    n = 0
    for s in cands:
        row, v, n = _audit_one(s, f, flat_loss, flat, backend, theorems)
        rows.append(row)
        if v is not None:
            directions.append(v)
    joint = _rank(np.concatenate(directions, axis=1), backend.eps) if directions else 0
    return AuditTable(rows=tuple(rows), kernel_lower_bound=joint, n=n, backend=backend.name)


class _FlatParameters(NamedTuple):
    """The audited container as one flat vector (its array leaves raveled in :class:`TreeView` order,
    the order :func:`~pyspec.equivariance.bind` flattens them in)."""

    container: Any
    view: TreeView
    vector: np.ndarray
    shapes: list[tuple[int, ...]]

    @classmethod
    def of(cls, container: Any, view: TreeView) -> "_FlatParameters":
        leaves = [np.asarray(x) for x in view.arrays(container)]
        return cls(container, view, np.concatenate([x.ravel() for x in leaves]), [x.shape for x in leaves])

    def rebuild(self, t: Any) -> Any:
        """The container at the flat vector ``t`` (traced or eager)."""
        return self.view.rebuild(unpack(t, self.shapes, jax.numpy))

    def transformation(self, s: sym.Symmetry, xp: Any) -> Callable[[Any, Any], Any]:
        """``s.T`` on the flat vector, compiled once: its evaluations and derivatives then run one
        program each, not the container's split and rebuild op by op."""
        def moved(a: Any, t: Any) -> Any:
            leaves = self.view.arrays(s.T(a, self.rebuild(t), xp=xp), "T")
            return jax.numpy.concatenate([jax.numpy.ravel(x) for x in leaves])

        compiled = jax.jit(moved)

        def T(a: Any, t: Any) -> Any:
            return compiled(a, t)

        return T


class _RowBase(TypedDict):
    """The columns of an :class:`AuditRow` known before its theorem is checked."""

    symmetry: str
    kind: str
    is_symmetry: bool
    residual: float
    tolerance: float
    k: int
    conserved: str
    conserved_residual: float | None
    theorem: str


def _audit_one(s: sym.Symmetry, f: Callable[[Any], Any], loss: Callable[..., Any], flat: _FlatParameters,
               backend: Any, theorems: bool) -> tuple[AuditRow, np.ndarray | None, int]:
    """One row of :func:`audit`, ``f`` and ``T`` acting on the flat vector ``flat``."""
    from pyspec.errors import DegenerateError
    from pyspec.fixed_point import FIXED_POINT_CANCELLATION, fixed_point_residual
    from pyspec.reports import Theorem1Report, Theorem2Report
    from pyspec.theorem1 import theorem1_report
    from pyspec.theorem2 import theorem2_report

    eq = Equivariance(model=f, T=flat.transformation(s, backend.xp), S=s.S, name=s.name)
    with backend.context():
        problem, a, th = bind(eq, loss, s.a, flat.vector, backend)
        if s.kind == "continuous":
            position = position_report(problem, a, th)
            condition = position.condition
        else:
            condition = 1.0
        report = equivariance_report(problem, a, th, condition, vary_a=s.kind == "continuous")
        residual, tol = max(report.residuals), report.tolerance
        base = _RowBase(symmetry=s.name, kind=s.kind, is_symmetry=s.is_symmetry, residual=residual, tolerance=tol,
                        k=s.k, conserved="", conserved_residual=None,
                        theorem="theorem1" if s.kind == "continuous" else "theorem2")
        if not report.holds:
            return AuditRow(holds=False, rank=None, verdict="inconclusive", reason="not a symmetry of this model",
                            theorem_residual=None, **base), None, problem.n
        v = rank = None
        result: Theorem1Report | Theorem2Report
        if s.kind == "continuous":
            if not position.ok:
                return AuditRow(holds=True, rank=None, verdict="inconclusive", reason="not a good position",
                                theorem_residual=None, **base), None, problem.n
            if s.is_symmetry:
                v = backend.to_numpy(backend.to_host(direction_of(problem, a, th)))
                rank = _rank(v, backend.eps)
            if s.conserved is not None:
                law = symmetry_conservation(problem, th, s, flat.container, rebuild=flat.rebuild)
                base["conserved"] = s.conserved_name
                base["conserved_residual"] = law.flow.residual
            if not theorems:
                return AuditRow(holds=True, rank=rank, verdict="inconclusive", reason="not checked",
                                theorem_residual=None, **base), v, problem.n
            try:
                result = theorem1_report(*_compiled(eq, loss, s.a, flat.vector, backend), check_equivariance=False)
            except DegenerateError as error:  # e.g. GL(r) acting through a rank-deficient layer
                return AuditRow(holds=True, rank=rank, verdict="inconclusive", reason=f"vacuous: {error}",
                                theorem_residual=None, **base), v, problem.n
        else:
            fp = fixed_point_residual(problem, a, th)
            if fp > FIXED_POINT_CANCELLATION * tolerance(backend, problem.n):
                return AuditRow(holds=True, rank=None, verdict="inconclusive",
                                reason=f"not a fixed point (|T(θ) − θ|/|θ| = {fp:.1e})", theorem_residual=None,
                                **base), None, problem.n
            if not theorems:
                return AuditRow(holds=True, rank=None, verdict="inconclusive", reason="not checked",
                                theorem_residual=None, **base), None, problem.n
            result = theorem2_report(*_compiled(eq, loss, s.a, flat.vector, backend), check_hypotheses=False)
        worst = max(c.residual for c in result.checks)
        # The theorem's own verdict: an inconclusive check (float64 cannot decide) is not a failure.
        return AuditRow(holds=True, rank=rank, verdict=result.verdict, reason=result.reason or "",
                        theorem_residual=worst, **base), v, problem.n


def _compiled(eq: Equivariance, loss: Callable[..., Any], a: Any, theta: Any, backend: Any) -> tuple[Problem, Any, Any]:
    """``eq`` bound to the compiling version of ``backend``: a theorem's nested derivatives run several
    times faster compiled, while the screening of candidates runs op by op (on the model compiled once for
    every candidate, :func:`audit`)."""
    return bind(eq, loss, a, theta, get_backend("float32" if backend.name == "jax-float32" else None, jit=True))
