"""``pyspec bench``: time and peak memory of the matrix-free path against one gradient.

For each size ``n`` of a :mod:`pyspec.catalog.large` model, each operation runs in a **fresh
subprocess** (``python -m pyspec.bench --worker SPEC``), which

1. builds the model and binds it (:func:`pyspec.equivariance.bind`), then AOT-compiles the operation
   (``compile_s``);
2. releases freed heap (``malloc_trim``), reads the resident set size, and resets the kernel's
   high-water mark (``/proc/self/clear_refs``);
3. runs the operation once (warm-up) and reads the high-water mark ``VmHWM``: ``peak_bytes`` is the
   rise of the resident set over step 2, i.e. the operation's own buffers (outputs, temporaries,
   residuals), excluding the Python/JAX runtime, the model's parameters and compilation;
4. runs it ``repeats`` more times and reports the median wall time (``time_s``).

On an accelerator the peak is read from the device allocator instead (:func:`measure`).

Operations: ``grad`` (a) one gradient; ``hvp`` (b) one Hessian-vector product (forward-over-reverse);
``theorem1`` (c) the Theorem 1 identities with ``k`` directions, reduced on the device
(:func:`pyspec.matrix_free.theorem1_program` with ``keep_arrays=False`` plus the host-side checks;
the hypothesis checks, good position and equivariance, are timed apart as ``hypotheses``);
``theorem1_arrays`` (c′) the same returning the ``n × k`` arrays; ``floor`` the model-side work of (c)
alone (one linearization of ``θ ↦ (f, ∇L)`` applied to ``k + 1`` tangents and ``3k + 1`` pullbacks of
``f``: what (c) costs with free ``T``- and ``S``-side work); ``power`` (d) 20 power iterations on HVPs
(one linearization); ``sharpness`` (e) ``θᵀHθ/‖θ‖²`` (one HVP); ``dense`` the dense Theorem 1
(``n ≤ DENSE_LIMIT``); ``sketched`` the sketched Theorem 1 (:mod:`pyspec.matrix_free.sketch`, ``p = 8`` probes on
each side, program plus host-side checks, hypotheses excluded as for (c)).

``--suite sketch`` measures (a), (b), (c) and the sketch for the ``k = 4`` entry (``mlp``, last layer)
and the large-``k`` entries (``mlp_gl8``, ``k = 64``; ``attention``, ``k = 256``), with the ratios of the
sketch against ``(a) + k(b)`` and against (c). The exact (c) is skipped where ``v`` alone (``n × k``
floats) would exceed :data:`EXACT_MAX_BYTES`.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["OPERATIONS", "DENSE_LIMIT", "measure", "run", "ratios", "render", "render_sketch", "sketch_targets", "main"]

OPERATIONS = ("grad", "hvp", "theorem1", "theorem1_arrays", "floor", "hypotheses", "power", "sharpness", "dense",
              "sketched")
DENSE_LIMIT = 10_000
"""Largest ``n`` at which the dense path is measured."""
POWER_ITERATIONS = 20
EXACT_MAX_BYTES = 2**30
"""``--suite sketch`` skips the exact check (c) when ``8 n k`` (the ``k`` columns of ``v`` it holds)
exceeds this (1 GiB: at n = 10⁶ it runs for k = 64, not for k = 256, whose 256 directions alone
would take most of a 15-minute run)."""
SUITE_SKETCH = (("mlp", "last_layer"), ("mlp_gl8", "reparameterization"), ("attention", "reparameterization"))
"""The ``(model, symmetry)`` pairs of ``--suite sketch``: ``k = 4``, ``64``, ``256``."""
SUITE_SKETCH_OPS = ("grad", "hvp", "theorem1", "sketched")


# --- memory ----------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _hwm_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _reset_peak() -> int:
    """Trim the heap, reset the high-water mark, and return the resident set size."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:  # some sandboxes lack it; then the high-water mark is the process's
        pass
    return _rss_bytes()


# --- operations (worker side) ----------------------------------------------------------------------


def _operation(op: str, model: str, n: int, symmetry: str, batch: int | None = None) -> tuple[Callable[[], Any], dict[str, Any]]:
    """A compiled zero-argument callable for ``op`` and facts about the instance (``n``, ``k``)."""
    import jax
    import jax.numpy as jnp

    from pyspec import linalg, matrix_free
    from pyspec.matrix_free.solvers import is_diagonal, is_iterative
    from pyspec.backends import get_backend
    from pyspec.backends.jax_backend import compile_options
    from pyspec.catalog.large import build
    from pyspec.characteristic import _nearby
    from pyspec.equivariance import bind

    inst = build(model, n, symmetry, batch=batch)
    B = get_backend(None)
    problem, a, theta = bind(inst.eq, inst.loss, inst.a(None), inst.theta(None), B)
    facts: dict[str, Any] = {"n": problem.n, "k": problem.k, "m": problem.m}
    u = jax.random.normal(jax.random.PRNGKey(1), (problem.n,))
    u = u / jnp.linalg.norm(u)

    options = compile_options()  # as the matrix-free path

    def aot(fun: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        compiled = jax.jit(fun).lower(*args).compile(options)
        return lambda: jax.block_until_ready(compiled(*args))

    grad_L = jax.grad(problem.L)
    if op == "grad":
        return aot(grad_L, theta), facts
    if op == "hvp":
        return aot(lambda t, x: jax.jvp(grad_L, (t,), (x,))[1], theta, u), facts
    if op == "sharpness":
        return aot(lambda t: jnp.vdot(t, jax.jvp(grad_L, (t,), (t,))[1]) / jnp.vdot(t, t), theta), facts
    if op == "power":

        def power(t: jax.Array, x: jax.Array) -> jax.Array:
            hvp = jax.linearize(grad_L, t)[1]
            return linalg.power_iteration(hvp, problem.n, num_iter=POWER_ITERATIONS, tol=0.0, v0=x).eigenvalue

        return aot(power, theta, u), facts
    opts = matrix_free.SolverOptions()
    structures = matrix_free.row_structures(problem, a, theta)
    sT = structures[0]
    solver = "none" if is_diagonal(sT) else "GMRES" if is_iterative(sT, opts) else "LU"
    facts["active_rows"] = f"{int(sT.active.shape[0]):,} ({solver})"
    if op == "sketched":
        from pyspec.matrix_free import sketch

        sk = sketch.SketchOptions()
        sketch_program = sketch.theorem1_sketch_program(problem, structures, opts, sk)
        jax.block_until_ready(sketch_program(a, theta))  # compile

        def sketched() -> Any:
            q = jax.device_get(sketch_program(a, theta))
            return sketch.theorem1_sketch_checks(problem, q, 1.0, structures, opts, sk.probes)

        return sketched, facts
    if op in ("theorem1", "theorem1_arrays"):
        program = matrix_free.theorem1_program(problem, structures, opts, keep_arrays=op == "theorem1_arrays")
        jax.block_until_ready(program(a, theta))  # compile

        def full() -> Any:
            q = B.to_host(program(a, theta))
            return matrix_free.theorem1_checks_mf(problem, q, 1.0, structures, opts)

        return full, facts
    if op == "floor":  # the model-side work of (c) alone: 1 linearization, k + 1 tangents, 3k + 1 pullbacks
        grad_loss = jax.grad(problem.loss)

        def f_and_grad(t: jax.Array) -> tuple[jax.Array, jax.Array]:
            y_, pull_ = jax.vjp(problem.f, t)
            return y_, pull_(grad_loss(y_))[0]

        def model_side(t: jax.Array, X: jax.Array, C: jax.Array) -> Any:
            (_, grad), lin = jax.linearize(f_and_grad, t)
            pull = jax.vjp(problem.f, t)[1]
            return grad, jax.lax.map(lin, X), jax.lax.map(lambda c: pull(c)[0], C)

        k = problem.k
        X = jnp.tile(u, (k + 1, 1))
        C = jax.random.normal(jax.random.PRNGKey(2), (3 * k + 1, problem.m))
        return aot(model_side, theta, X, C), facts
    if op == "hypotheses":  # good position (Lanczos on ∂θTᵀ∂θT, ∂ySᵀ∂yS) and eq. (1) at 4 points
        conds = matrix_free.condition_program(problem, structures, opts)
        sides = jax.jit(lambda a_, t_: (problem.f(problem.T(a_, t_)), problem.S(a_, problem.f(t_))))
        points = _nearby(problem, a, theta, True)
        sides_c = sides.lower(*points[0]).compile(options)
        jax.block_until_ready(conds(a, theta))
        return (lambda: jax.block_until_ready((conds(a, theta), [sides_c(*p) for p in points]))), facts
    if op == "dense":  # every quantity (dense Jacobians) and the checks, good position excluded
        from pyspec.theorem1 import theorem1_checks, theorem1_terms

        compiled = B.compile(lambda a_, t_: theorem1_terms(problem, a_, t_))  # as the dense path
        jax.block_until_ready(compiled(a, theta))
        return (lambda: theorem1_checks(problem, B.to_host(compiled(a, theta)), 1.0)), facts
    raise ValueError(f"unknown operation {op!r}; choose from {OPERATIONS}")


def _device_bytes() -> tuple[int, int] | None:
    """``(bytes_in_use, peak_bytes_in_use)`` of the accelerator's allocator; ``None`` on CPU."""
    import jax

    stats = jax.devices()[0].memory_stats() if jax.default_backend() != "cpu" else None
    return None if not stats else (int(stats["bytes_in_use"]), int(stats["peak_bytes_in_use"]))


def measure(op: str, model: str, n: int, symmetry: str, repeats: int, batch: int | None = None) -> dict[str, Any]:
    """Worker: compile, measure peak memory on the first run, time ``repeats`` further runs.

    On an accelerator the peak is the allocator's ``peak_bytes_in_use`` after the run minus its
    ``bytes_in_use`` before (an upper bound on the operation's rise: the peak counter also holds the
    set-up's); on CPU the resident-set rise (module docstring)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    fn, facts = _operation(op, model, n, symmetry, batch)
    compile_s = time.perf_counter() - start
    device = _device_bytes()
    base = _reset_peak()
    fn()
    peak = _hwm_bytes() - base
    if device is not None:
        after = _device_bytes()
        if after is None:  # unreachable: `device` came from this accelerator's allocator before the run
            raise RuntimeError("the device allocator stopped reporting its statistics")
        peak = after[1] - device[0]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return facts | {"op": op, "compile_s": compile_s, "time_s": statistics.median(times), "peak_bytes": peak,
                    "memory": "device allocator" if device is not None else "resident set"}


# --- driver ----------------------------------------------------------------------------------------


def _spawn(op: str, model: str, n: int, symmetry: str, repeats: int, timeout: float, batch: int | None) -> dict[str, Any]:
    spec = json.dumps({"op": op, "model": model, "n": n, "symmetry": symmetry, "repeats": repeats, "batch": batch})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pyspec.bench", "--worker", spec],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return {"op": op, "error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"op": op, "error": f"exit {done.returncode}: {tail[0][:200]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    """The machine the benchmark ran on."""
    import jax

    mem = None
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) * 1024
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": mem,
        "python": platform.python_version(),
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
        "gpu": (jax.devices()[0].device_kind if jax.default_backend() == "gpu"
                else "not measured (this run is on CPU)"),
    }


def run(
    sizes: Sequence[int],
    *,
    model: str = "mlp",
    symmetry: str = "last_layer",
    repeats: int = 3,
    timeout: float = 1800.0,
    dense_limit: int = DENSE_LIMIT,
    batch: int | None = None,
    operations: Sequence[str] = OPERATIONS,
    progress: Callable[[str], Any] | None = None,
    exact_max_bytes: int | None = None,
) -> dict[str, Any]:
    """Measure the operations at every size (one subprocess each); returns the JSON document.

    With ``exact_max_bytes``, (c) and (c′) are not run where ``8 n k`` exceeds it (``k`` from an
    earlier operation of the row)."""
    rows = []
    for n in sizes:
        ops = [op for op in operations if op != "dense" or n <= dense_limit]
        row: dict[str, Any] = {"n_requested": n}
        for op in ops:
            if progress is not None:
                progress(f"n={n:.0e} {op}")
            v_bytes = 8 * row.get("n", n) * row.get("k", 0)
            if exact_max_bytes is not None and op in ("theorem1", "theorem1_arrays") and v_bytes > exact_max_bytes:
                row[op] = {"op": op, "skipped": f"v alone is {v_bytes / 2**30:.1f} GiB"}
                continue
            result = _spawn(op, model, n, symmetry, repeats, timeout, batch)
            row[op] = result
            for key in ("n", "k", "m"):
                if key in result:
                    row[key] = result[key]
        row["ratios"] = ratios(row)
        rows.append(row)
    return {"model": model, "symmetry": symmetry, "batch": batch, "repeats": repeats, "machine": machine(), "rows": rows}


def ratios(row: dict[str, Any]) -> dict[str, float | None]:
    """The targets, (c)/((a)+k(b)) ≤ 1.5, (b)/(a) ≤ 2.5, (d)/(e) ≥ 10, peak(c)/peak(a) ≤ 10, and
    what bounds the first: the model-side floor of (c) against (a)+k(b), and (c) against that floor."""

    def t(op: str) -> float | None:
        return row.get(op, {}).get("time_s")

    def mem(op: str) -> float | None:
        return row.get(op, {}).get("peak_bytes")

    def div(x: float | None, y: float | None) -> float | None:
        return x / y if x is not None and y else None

    a, b, c, d, e, k = t("grad"), t("hvp"), t("theorem1"), t("power"), t("sharpness"), row.get("k")
    a_kb = a + k * b if a is not None and b is not None and k is not None else None
    out: dict[str, float | None] = {
        "c_over_a_plus_kb": div(c, a_kb),
        "b_over_a": div(b, a),
        "d_over_e": div(d, e),
        "floor_over_a_plus_kb": div(t("floor"), a_kb),
        "c_over_floor": div(c, t("floor")),
        "c_arrays_over_a_plus_kb": div(t("theorem1_arrays"), a_kb),
        "sketched_over_a_plus_kb": div(t("sketched"), a_kb),
        "sketched_over_exact": div(t("sketched"), c),
    }
    for op in ("hvp", "theorem1", "theorem1_arrays", "power", "sharpness", "sketched"):
        out[f"peak_{op}_over_grad"] = div(mem(op), mem("grad"))
    return out


TARGETS = {"c_over_a_plus_kb": ("≤", 1.5), "b_over_a": ("≤", 2.5), "d_over_e": ("≥", 10.0), "peak_theorem1_over_grad": ("≤", 10.0)}
BOUNDS = ("floor_over_a_plus_kb", "c_over_floor", "c_arrays_over_a_plus_kb", "peak_theorem1_arrays_over_grad")
"""Ratios that explain the first target: (c)'s model-side floor against (a)+k(b), (c) against it."""


def _fmt_time(x: dict[str, Any] | None) -> str:
    if not x:
        return "—"
    if "error" in x:
        return f"failed ({x['error']})"
    if "skipped" in x:
        return f"not run ({x['skipped']})"
    return f"{x['time_s']:.3g} s"


def _fmt_mem(x: dict[str, Any] | None) -> str:
    if not x or "peak_bytes" not in x:
        return "—"
    return f"{x['peak_bytes'] / 2**20:.0f} MiB"


def render(doc: dict[str, Any]) -> str:
    """A Markdown report of :func:`run`'s document."""
    m = doc["machine"]
    memory = next((r[op]["memory"] for r in doc["rows"] for op in OPERATIONS if "memory" in r.get(op, {})),
                  "resident set")
    lines = [
        f"Model `{doc['model']}` (`pyspec.catalog.large`, batch {doc.get('batch') or 'default'}), Theorem 1 with "
        f"the `{doc['symmetry']}` equivariance; "
        f"median of {doc['repeats']} runs after one warm-up; peak = rise of the {memory} during the "
        "warm-up run in a fresh subprocess, compile excluded. (c) is the report reduced on the device (`keep_arrays=False`), "
        "(c′) the one that returns the n × k arrays; floor = (c)'s model-side work alone (one linearization "
        "of θ ↦ (f, ∇L) applied to k + 1 tangents, 3k + 1 pullbacks of f).",
        "",
        f"Machine: {m['processor']}, {m['cpu_count']} CPU cores, "
        f"{(m['memory_bytes'] or 0) / 2**30:.0f} GiB RAM, {m['platform']}, Python {m['python']}, JAX {m['jax']} "
        f"on `{m['device']}`. GPU: {m['gpu']}.",
        "",
        "| n | k | active rows of ∂θT (solve) | (a) grad | (b) HVP | (c) Theorem 1 | (c′) with arrays | floor | hypotheses "
        "| (d) 20 power it. | (e) θᵀHθ/‖θ‖² | dense Theorem 1 | sketched |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        active = next((r[op]["active_rows"] for op in OPERATIONS if "active_rows" in r.get(op, {})), "—")
        lines.append(
            f"| {r.get('n', r['n_requested']):,} | {r.get('k', '—')} | {active} | "
            + " | ".join(_fmt_time(r.get(op)) for op in
                         ("grad", "hvp", "theorem1", "theorem1_arrays", "floor", "hypotheses", "power", "sharpness", "dense",
                          "sketched"))
            + " |"
        )
    lines += ["", "Peak memory (rise) and compile time:", "",
              "| n | (a) grad | (b) HVP | (c) Theorem 1 | (c′) with arrays | (d) power | (e) sharpness | dense "
              "| sketched | compile (a)/(c)/dense |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in doc["rows"]:
        comp = "/".join(f"{r[op]['compile_s']:.1f} s" if r.get(op) and "compile_s" in r[op] else "—"
                        for op in ("grad", "theorem1", "dense"))
        lines.append(
            f"| {r.get('n', r['n_requested']):,} | "
            + " | ".join(_fmt_mem(r.get(op)) for op in
                         ("grad", "hvp", "theorem1", "theorem1_arrays", "power", "sharpness", "dense", "sketched"))
            + f" | {comp} |"
        )
    lines += ["", "Ratios against the targets, and what bounds the first:", "", "| n | " + " | ".join(
        [f"{k} {s} {v:g}" for k, (s, v) in TARGETS.items()] + list(BOUNDS)) + " |",
        "|---" * (len(TARGETS) + len(BOUNDS) + 1) + "|"]
    for r in doc["rows"]:
        cells = []
        for key, (sign, bound) in TARGETS.items():
            x = r["ratios"].get(key)
            ok = x is not None and (x <= bound if sign == "≤" else x >= bound)
            cells.append("—" if x is None else f"{x:.2f} {'✓' if ok else '✗'}")
        cells += ["—" if r["ratios"].get(key) is None else f"{r['ratios'][key]:.2f}" for key in BOUNDS]
        lines.append(f"| {r.get('n', r['n_requested']):,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def sketch_targets(k: int) -> dict[str, float]:
    """Issue 17's targets of the sketch: ``sketched/((a)+k(b)) ≤ 1`` at ``k = 4``, ``≤ 0.2`` and
    ``sketched/(c) ≤ 0.1`` from ``k = 64``; peak memory ``≤ 10×`` a gradient's."""
    out = {"sketched_over_a_plus_kb": 1.0 if k < 64 else 0.2, "peak_sketched_over_grad": 10.0}
    return out | ({"sketched_over_exact": 0.1} if k >= 64 else {})


def render_sketch(docs: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of ``--suite sketch`` (one document per ``(model, symmetry)``)."""
    m = docs[0]["machine"]
    lines = [
        f"Sketched Theorem 1 (`pyspec.matrix_free.sketch`, p = 8 probes each side) against (a) one gradient, (b) one HVP and (c) "
        f"the exact matrix-free check (`keep_arrays=False`); median of {docs[0]['repeats']} run(s) after one warm-up, "
        "peak = rise during the warm-up in a fresh subprocess, compile excluded.",
        "",
        f"Machine: {m['processor']}, {m['cpu_count']} CPU cores, {(m['memory_bytes'] or 0) / 2**30:.0f} GiB RAM, "
        f"JAX {m['jax']} on `{m['device']}`. GPU: {m['gpu']}.",
        "",
        "| model | n | k | (a) grad | (b) HVP | (c) exact | sketched | sketched/((a)+k(b)) | sketched/(c) "
        "| peak grad | peak sketched | peak sketched/grad | compile sketched |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(r: dict[str, Any], key: str, targets: dict[str, float]) -> str:
        x = r["ratios"].get(key)
        if x is None:
            return "—"
        return f"{x:.3g}" + ("" if key not in targets else (" ✓" if x <= targets[key] else f" ✗ (≤ {targets[key]:g})"))

    for doc in docs:
        for r in doc["rows"]:
            k = r.get("k", 0)
            targets = sketch_targets(k)
            sk = r.get("sketched") or {}
            lines.append(
                f"| {doc['model']} ({doc['symmetry']}) | {r.get('n', r['n_requested']):,} | {k} | "
                + " | ".join(_fmt_time(r.get(op)) for op in ("grad", "hvp", "theorem1", "sketched")) + " | "
                + " | ".join(cell(r, key, targets) for key in ("sketched_over_a_plus_kb", "sketched_over_exact")) + " | "
                + f"{_fmt_mem(r.get('grad'))} | {_fmt_mem(sk)} | {cell(r, 'peak_sketched_over_grad', targets)} | "
                + (f"{sk['compile_s']:.1f} s" if "compile_s" in sk else "—") + " |"
            )
    return "\n".join(lines) + "\n"


def _main_suite(args: argparse.Namespace) -> int:
    """``pyspec bench --suite sketch``."""
    sizes = [int(float(s)) for s in (args.sizes or ("2e4" if args.quick else "1e6,1e7")).split(",")]
    repeats = 1 if args.quick else args.repeats
    from pyspec.progress import Progress

    progress = Progress(len(sizes) * len(SUITE_SKETCH) * len(SUITE_SKETCH_OPS), "bench")
    docs = [run(sizes, model=model, symmetry=symmetry, repeats=repeats, batch=args.batch, operations=SUITE_SKETCH_OPS,
                progress=progress.step, exact_max_bytes=EXACT_MAX_BYTES) for model, symmetry in SUITE_SKETCH]
    progress.finish()
    text = render_sketch(docs)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps({"suite": "sketch", "documents": docs}, indent=1) + "\n")
        (out / "RESULTS.md").write_text("# Benchmarks: sketched Theorem 1 (`pyspec bench --suite sketch`)\n\n" + text)
    return 1 if any("error" in r.get(op, {}) for doc in docs for r in doc["rows"] for op in OPERATIONS) else 0


def main(args: argparse.Namespace) -> int:
    """``pyspec bench`` (see :func:`add_arguments`)."""
    if getattr(args, "suite", ""):
        return _main_suite(args)
    sizes = [1_000] if args.quick and not args.sizes else [int(float(s)) for s in (args.sizes or "1e4,1e5,1e6,1e7").split(",")]
    repeats = 1 if args.quick else args.repeats
    unknown = sorted(set(args.ops.split(",")) - set(OPERATIONS)) if args.ops else []
    if unknown:
        print(f"pyspec bench: unknown operation(s) {', '.join(unknown)}; choose from {', '.join(OPERATIONS)}", file=sys.stderr)
        return 2
    operations = args.ops.split(",") if args.ops else OPERATIONS
    from pyspec.progress import Progress

    progress = Progress(sum(op != "dense" or n <= args.dense_limit for n in sizes for op in operations), "bench")
    doc = run(sizes, model=args.model, symmetry=args.symmetry, repeats=repeats, dense_limit=args.dense_limit,
              batch=args.batch, operations=operations, progress=progress.step)
    progress.finish()
    text = render(doc)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
        (out / "RESULTS.md").write_text("# Benchmarks: matrix-free Theorem 1 (`pyspec bench`)\n\n" + text)
    failed = [r for r in doc["rows"] for op in OPERATIONS if "error" in r.get(op, {})]
    return 1 if failed else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``pyspec bench``."""
    parser.add_argument("--quick", action="store_true", help="n = 1e3 only (with the dense path), one timed run (< 1 minute)")
    parser.add_argument("--sizes", default="", help="comma-separated parameter counts (default 1e4,1e5,1e6,1e7)")
    parser.add_argument("--out", default="", help="directory for results.json and RESULTS.md")
    parser.add_argument("--model", default="mlp", help="pyspec.catalog.large entry (mlp, transformer)")
    parser.add_argument("--symmetry", default="last_layer", help="equivariance of the Theorem 1 check")
    parser.add_argument("--dense-limit", type=int, default=DENSE_LIMIT, help="largest n for the dense path")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up")
    parser.add_argument("--batch", type=int, default=None, help="samples per batch (default: the model's)")
    parser.add_argument("--suite", default="", choices=("", "sketch"),
                        help="sketch: grad, HVP, exact and sketched Theorem 1 for k = 4, 64, 256 (default sizes 1e6,1e7)")
    parser.add_argument("--ops", default="", help=f"comma-separated subset of {','.join(OPERATIONS)} (default: all)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m pyspec.bench")
    parser.add_argument("--worker", required=True, help="JSON spec of one measurement (internal)")
    spec = json.loads(parser.parse_args().worker)
    print(json.dumps(measure(spec["op"], spec["model"], spec["n"], spec["symmetry"], spec["repeats"], spec["batch"])))
