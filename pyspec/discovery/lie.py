"""How many quantities gradient flow conserves: ``n − dim Lie(W)(θ)``.

Marcotte, Gribonval & Peyré ("Abide by the law and follow the flow: conservation laws for gradient
flows", NeurIPS 2023) show, with Frobenius' theorem, that near a point where the dimension of the
generated Lie algebra is locally constant, the number of independent conservation laws of gradient
flow (for every loss and data set) is ``n − dim Lie(W)(θ)``, with ``W`` spanned by the gradient fields
``θ ↦ ∇_θ f_i(θ, x)``. Their code needs a hand-written polynomial reparameterization; here the
fields are any JAX (or backend-neutral) model's gradients, and the algebra is generated numerically:

1. depth 1: the rank of the Jacobian ``J = ∂F/∂t`` over all inputs and outputs, built from
   per-input Jacobians by one jitted program (rows sketched with a Gaussian matrix when there are
   more than ``2n`` of them); above ``n = 500`` its null space comes from an LU factorization and
   randomized inverse subspace iteration (:mod:`pyspec.discovery.span`, failure probability
   ``6·10⁻¹⁰``);
2. depth ``d ≥ 2``: random right-normed brackets (:mod:`pyspec.discovery.fields`), projected on the
   orthogonal complement of what is already spanned; the complement shrinks by their rank;
3. stop at the first depth that adds nothing: the dimension has stabilized.

Ranks are decided by a gap (:mod:`pyspec.discovery.span`); when the float64 gap is ambiguous and the
model is backend-neutral, everything is recomputed at 50 digits with the same random draws.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple

import jax
import numpy as np

from pyspec.backends import get_backend
from pyspec.discovery.fields import Calculus, backend_calculus, bracket_field, jax_calculus
from pyspec.discovery.model import FlatModel, accepts_xp, flat_model
from pyspec.discovery.span import FLOAT64, Arithmetic, RankSplit, mp_arithmetic, split_rows

__all__ = ["ConservationLaws", "conservation_laws", "ESCALATION_DIGITS"]

ESCALATION_DIGITS = 50
"""Working precision of the recomputation when float64 cannot decide a rank."""


class ConservationLaws(NamedTuple):
    """The number of independent conservation laws of gradient flow at ``θ``.

    Attributes
    ----------
    count : int
        ``n − rank``: independent conserved functions near ``θ`` (for every loss and data set drawn
        from the given inputs).
    rank : int
        ``dim Lie(W)(θ)``.
    n : int
        Number of parameters.
    gap : float
        The smallest ratio, over all depths, between the smallest accepted and the largest rejected
        relative singular value (``inf`` when nothing was rejected).
    depth : int
        The last bracket depth that added a direction (1: ``W`` is already closed under brackets).
    dims : tuple of int
        ``dim`` of the span after depth 1, 2, … (the last entry repeats: that depth added nothing).
    singular_values : numpy.ndarray
        Depth 1: relative singular values of ``J`` (descending).
    bracket_values : tuple of numpy.ndarray
        Depth ``d ≥ 2``: singular values of the unit-norm brackets projected on the complement.
    converged : bool
        A depth added nothing before ``max_depth`` (or nothing was left to add).
    ambiguous : bool
        Some rank had a value between the accept and reject thresholds (at the final precision).
    digits : int or None
        Precision of this result (``None``: float64).
    failure_probability : float
        Bound on the probability that a randomized step of depth 1 erred: the Gaussian row sketch
        lost a direction of ``W`` (``6 p^{-p}`` with ``p`` extra rows, Halko, Martinsson & Tropp,
        SIAM Rev. 2011, §1.5; only when ``J`` has more than ``2n`` rows), plus the same bound for the
        randomized null space of the depth-1 rows (only when ``n`` exceeds
        :data:`pyspec.discovery.span.DENSE_SVD_MAX`); ``0.0`` when ``J`` was used whole with a full
        SVD. Random brackets miss a direction with probability 0.
    float64 : ConservationLaws or None
        The float64 result that was escalated, when this one is at higher precision.
    """

    count: int  # type: ignore[assignment]  # public field name; shadows tuple.count on purpose
    rank: int
    n: int
    gap: float
    depth: int
    dims: tuple[int, ...]
    singular_values: np.ndarray
    bracket_values: tuple[np.ndarray, ...]
    converged: bool
    ambiguous: bool
    digits: int | None
    failure_probability: float
    float64: "ConservationLaws | None" = None


SKETCH_RATIO = 2
"""Depth 1 uses ``J`` itself up to ``SKETCH_RATIO · n`` rows, a Gaussian sketch ``S J`` above: an LU
of ``M × n`` costs ``n²(M − n/3)`` flops, against ``2(n + p)Mn`` for forming ``S J`` (matrix-matrix,
several times faster per flop) plus ``2/3 n³``; they meet near ``M ≈ 2n``."""


BLOCK_BYTES = 2**24
"""Size of one block of Jacobian rows (16 MiB): small enough that the allocator reuses the memory of
the previous block instead of mapping (and faulting in) fresh pages for each."""


def _jacobian_blocks(fm: FlatModel, n: int, block_bytes: int = BLOCK_BYTES) -> Callable[[], Iterator[np.ndarray]]:
    """``() ↦`` the rows of ``J = ∂F/∂t`` (float64) by blocks of at most ``block_bytes``, in order.

    With inputs, one jitted program (compiled once, reused by every pass) computes the per-input
    Jacobians of a chunk of inputs: each output's gradient costs one backward pass through its own
    input only, ``O(Mn)`` in all.
    """
    if fm.per_input is None:
        M = int(jax.eval_shape(fm.F, fm.t).shape[0])
        whole = jax.jit((jax.jacrev if M <= n else jax.jacfwd)(fm.F))
        return lambda: iter([np.asarray(whole(fm.t))])
    X = fm.inputs
    N = int(X.shape[0])
    m = int(jax.eval_shape(fm.per_input, fm.t, X[0]).shape[0])
    per_chunk = jax.jit(jax.vmap((jax.jacrev if m <= n else jax.jacfwd)(fm.per_input), in_axes=(None, 0)))
    chunk = min(N, max(1, block_bytes // (8 * n * max(m, 1))))

    def blocks() -> Iterator[np.ndarray]:
        for start in range(0, N, chunk):
            Xc = X[start : start + chunk]
            size = int(Xc.shape[0])
            if size < chunk:  # pad the last chunk to the compiled shape
                Xc = jax.numpy.concatenate([Xc, X[: chunk - size]])
            yield np.asarray(per_chunk(fm.t, Xc))[:size].reshape(size * m, n)

    return blocks


def _jacobian_rows(
    fm: FlatModel, precision: int | None, rng: np.random.Generator, oversample: int
) -> tuple[Any, float, Callable[[np.ndarray], np.ndarray] | None]:
    """Rows spanning ``W(θ)``: ``J`` itself, or a Gaussian sketch ``S J`` when ``J`` has more than
    :data:`SKETCH_RATIO` ``· n`` rows (float64); with the sketch's failure probability, and, for
    ``J`` itself in float64, ``Z ↦ J Z`` recomputed block by block (so that the rows may be
    factored in place)."""
    n = int(fm.t.shape[0])
    if precision is not None:
        return np.asarray(get_backend(precision).jacobian(fm.F, fm.t)), 0.0, None
    M = int(jax.eval_shape(fm.F, fm.t).shape[0])
    blocks = _jacobian_blocks(fm, n)
    if M <= SKETCH_RATIO * n:
        rows = np.empty((M, n), order="F")
        at = 0
        for block in blocks():
            rows[at : at + block.shape[0]] = block
            at += block.shape[0]
        return rows, 0.0, lambda Z: np.concatenate([block @ Z for block in blocks()])
    rows = np.zeros((n + oversample, n), order="F")
    for block in blocks():
        rows += rng.standard_normal((n + oversample, block.shape[0])) @ block
    return rows, float(6.0 * oversample**-oversample), None


def _bracket_sampler(fm: FlatModel, calc: Calculus, depth: int, precision: int | None) -> Callable[[np.ndarray], Any]:
    """``C ↦`` the brackets of depth ``depth`` for coefficient draws ``C`` of shape ``(s, depth, M)``."""

    def one(t: Any, C: Any) -> Any:
        return bracket_field(calc, fm.F, [C[i] for i in range(depth)])(t)

    if precision is None:
        batched = jax.jit(jax.vmap(one, in_axes=(None, 0)))
        return lambda C: np.asarray(batched(fm.t, jax.numpy.asarray(C)))
    xp = get_backend(precision).xp
    return lambda C: np.stack([np.asarray(one(fm.t, xp.asarray(c))) for c in C])


def _unit_rows(B: np.ndarray, precision: int | None) -> np.ndarray:
    if precision is None:
        norms = np.linalg.norm(B, axis=1, keepdims=True)
        return B[norms[:, 0] > 0] / norms[norms[:, 0] > 0]
    import mpmath

    out = []
    for row in B:
        norm = mpmath.sqrt(sum(x * x for x in row))
        if norm != 0:
            out.append(row / norm)
    return np.array(out, dtype=object).reshape(len(out), B.shape[1])


def _count(
    model: Callable[..., Any],
    theta: Any,
    inputs: Any,
    *,
    precision: int | None,
    arithmetic: Arithmetic,
    max_depth: int,
    oversample: int,
    seed: int,
) -> ConservationLaws:
    rng = np.random.default_rng(seed)
    fm = flat_model(model, theta, inputs, precision)
    n = int(fm.t.shape[0])
    calc = jax_calculus() if precision is None else backend_calculus(get_backend(precision))
    rows, failure, product = _jacobian_rows(fm, precision, rng, oversample)
    M = int(np.asarray(fm.F(fm.t)).shape[0]) if precision is not None else int(jax.eval_shape(fm.F, fm.t).shape[0])
    level1: RankSplit = split_rows(rows, arithmetic, product=product)
    del rows  # factored in place when large
    complement = level1.complement
    dims, bracket_values = [level1.rank], []
    gap, ambiguous, depth, converged = level1.gap, level1.ambiguous, 1, False
    for d in range(2, max_depth + 1):
        remaining = n - dims[-1]
        if remaining == 0:
            converged = True
            break
        C = rng.standard_normal((remaining + oversample, d, M))
        B = _unit_rows(_bracket_sampler(fm, calc, d, precision)(C), precision)
        split = split_rows(B @ complement, arithmetic, unit_rows=True)
        bracket_values.append(split.values)
        ambiguous = ambiguous or split.ambiguous
        if split.rank == 0:
            dims.append(dims[-1])
            gap = min(gap, split.gap)
            converged = True
            break
        gap = min(gap, split.gap)
        depth = d
        complement = complement @ split.complement
        dims.append(dims[-1] + split.rank)
    else:
        converged = n == dims[-1]
    rank = dims[-1]
    return ConservationLaws(
        count=n - rank,
        rank=rank,
        n=n,
        gap=float(gap),
        depth=depth,
        dims=tuple(dims),
        singular_values=level1.values,
        bracket_values=tuple(bracket_values),
        converged=converged,
        ambiguous=ambiguous,
        digits=precision,
        failure_probability=failure + level1.failure_probability,
    )


def conservation_laws(
    model: Callable[..., Any],
    theta: Any,
    inputs: Any = None,
    *,
    precision: int | str | None = "auto",
    max_depth: int = 6,
    oversample: int = 10,
    seed: int = 0,
) -> ConservationLaws:
    """Count the independent conservation laws of gradient flow of ``model`` near ``theta``.

    Parameters
    ----------
    model : callable
        ``model(θ, x) -> array`` (``model(θ)`` when ``inputs is None``); a keyword argument ``xp``
        makes it backend-neutral (then it can be recomputed at high precision).
    theta : pytree of arrays
        A generic point: the count holds near points where ``dim Lie(W)`` is locally constant.
    inputs : array or None
        Data points along the leading axis. Laws of the architecture (for every data set) need
        enough generic inputs that ``W`` is spanned: ``N · m`` at least the number of parameters is
        a safe choice.
    precision : ``"auto"``, None or int
        ``None``: float64 only. An integer: compute at that many digits. ``"auto"``: float64, then
        :data:`ESCALATION_DIGITS` digits if a rank is ambiguous and the model is backend-neutral.
    max_depth : int
        Deepest bracket tried.
    oversample : int
        Extra random draws per depth, and extra rows of the depth-1 sketch.
    seed : int
        Seed of every random draw (the escalation reuses them).

    Returns
    -------
    ConservationLaws
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"max_depth must be a positive integer, got {max_depth!r}")
    if isinstance(oversample, bool) or not isinstance(oversample, int) or oversample < 2:
        raise ValueError(f"oversample must be an integer >= 2, got {oversample!r}")
    options = dict(max_depth=max_depth, oversample=oversample, seed=seed)
    if precision not in ("auto", None):
        if isinstance(precision, bool) or not isinstance(precision, int) or precision < 20:
            raise ValueError(f"precision must be 'auto', None or an integer >= 20 digits, got {precision!r}")
        return _count_at(model, theta, inputs, precision, **options)
    result = _count(model, theta, inputs, precision=None, arithmetic=FLOAT64, **options)
    if precision == "auto" and result.ambiguous and accepts_xp(model):
        return _count_at(model, theta, inputs, ESCALATION_DIGITS, **options)._replace(float64=result)
    return result


def _count_at(model: Callable[..., Any], theta: Any, inputs: Any, digits: int, **options: Any) -> ConservationLaws:
    """:func:`_count` in the mpmath backend's working precision of ``digits`` digits."""
    with get_backend(digits).context():
        return _count(model, theta, inputs, precision=digits, arithmetic=mp_arithmetic(digits), **options)
