"""Verdicts on random models: false alarms, inconclusive counts, detection of violations.

Draws models from the independent generator :mod:`tests.random_models` (12 families, 6 losses,
saturated regimes, ``cond(∂θT)`` up to 5e7) and, for each, runs Theorem 1 (continuous families) or
Theorem 2 (discrete, at a fixed point) on

* the valid model: any ``"fails"`` verdict or hypothesis error is a **false alarm**; an inconclusive
  float64 verdict escalates to 50 digits automatically (the generator's models are backend-neutral)
  and counts as ``inconclusive→holds`` when it then holds (not a false alarm);
* the model plus ``ε·s·sin(c·θ + φ)`` (:func:`tests.random_models.violated`), ``ε`` cycling through
  :data:`EPSILONS`: **caught** when a hypothesis check raises or the verdict is ``"fails"``; a
  ``"holds"`` verdict is a **false pass**.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/verdicts.py --models 10000 --workers 2 --out benchmarks/VERDICTS.md

``--minutes`` stops drawing new models after that wall time and reports the count reached;
``--resume --jsonl FILE`` continues such a run (seeds already in ``FILE`` are kept, not redrawn). Each worker
process evaluates with ``jit=False`` (JAX caches every operation's compilation by shape, and a family's
callables are reused across its models).
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from typing import Any

EPSILONS = (1e-2, 1e-4, 1e-6, 1e-8)
"""Relative sizes of the equivariance violations (one per model, cycling)."""


def _evaluate(case: Any) -> dict[str, Any]:
    import pyspec as ps

    check = ps.theorem2 if case.discrete else ps.theorem1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = check(case.eq, case.loss, case.a, case.theta, jit=False)
        except ps.PyspecError as error:
            return {"outcome": "error", "error": type(error).__name__, "message": str(error)[:300]}
    checks = report.checks
    worst = max((c.residual / c.tolerance for c in checks), default=0.0)
    return {"outcome": report.verdict, "escalated": bool(report.escalated), "worst_ratio": worst,
            "reason": (report.reason or "")[:300], "cond": report.position.condition if hasattr(report, "position") else 1.0}


def _one(seed: int) -> dict[str, Any]:
    import jax

    jax.config.update("jax_enable_x64", True)
    from tests.random_models import draw, violated

    start = time.perf_counter()
    case = draw(seed)
    row = {"seed": seed, "family": case.family, "loss": case.loss_name, "saturation": case.saturation,
           "target_condition": case.target_condition}
    row["valid"] = _evaluate(case)
    eps = EPSILONS[seed % len(EPSILONS)]
    row["epsilon"] = eps
    row["violated"] = _evaluate(violated(case, eps, seed))
    row["seconds"] = time.perf_counter() - start
    return row


def _bucket(cond: float) -> str:
    return "1" if cond <= 1.0 + 1e-9 else "≤1e4" if cond <= 1e4 else "≤1e8"


def summarize(rows: list[dict[str, Any]]) -> str:
    """The markdown table of the results."""
    n = len(rows)
    valid = collections.Counter()
    for r in rows:
        v = r["valid"]
        if v["outcome"] == "error":
            valid[f"error: {v['error']}"] += 1
        elif v["outcome"] == "holds" and v.get("escalated"):
            valid["inconclusive → holds at 50 digits"] += 1
        elif v["outcome"] == "inconclusive" and "vacuous" in v.get("reason", ""):
            valid["inconclusive: vacuous (a check is exactly 0 = 0)" + (" after 50 digits" if v.get("escalated") else "")] += 1
        else:
            valid[v["outcome"] + (" (after 50 digits)" if v.get("escalated") else "")] += 1
    false_alarms = sum(r["valid"]["outcome"] in ("fails", "error") for r in rows)
    lines = [f"Models: **{n}** (valid) + {n} violated; false alarms: **{false_alarms}**", "",
             "| valid models: verdict | count |", "|---|---:|"]
    lines += [f"| {k} | {c} |" for k, c in sorted(valid.items())]
    per_family = collections.defaultdict(collections.Counter)
    for r in rows:
        per_family[r["family"]][r["valid"]["outcome"]] += 1
    lines += ["", "| family | holds | inconclusive | fails | error |", "|---|---:|---:|---:|---:|"]
    for fam, c in sorted(per_family.items()):
        lines.append(f"| {fam} | {c['holds']} | {c['inconclusive']} | {c['fails']} | {c['error']} |")
    table = collections.defaultdict(collections.Counter)
    for r in rows:
        v = r["violated"]
        caught = v["outcome"] in ("fails", "error")
        kind = "caught" if caught else "false pass" if v["outcome"] == "holds" else "inconclusive"
        table[(r["epsilon"], _bucket(r["target_condition"]))][kind] += 1
    lines += ["", "Detection of `ε·s·sin(c·θ + φ)` violations (caught = hypothesis error or `fails`):", "",
              "| ε | cond(∂θT) | models | caught | inconclusive | false pass |", "|---:|---|---:|---:|---:|---:|"]
    for (eps, bucket), c in sorted(table.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        total = sum(c.values())
        lines.append(f"| {eps:.0e} | {bucket} | {total} | {c['caught']} | {c['inconclusive']} | {c['false pass']} |")
    seconds = [r["seconds"] for r in rows]
    if seconds:
        lines += ["", f"Mean {sum(seconds) / n:.2f} s per model (valid + violated), per worker."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=25.0, help="stop drawing after this wall time")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--out", default="benchmarks/VERDICTS.md")
    parser.add_argument("--jsonl", default="", help="also write one JSON line per model to this file")
    parser.add_argument("--resume", action="store_true",
                        help="keep the models already in --jsonl, append new seeds to it, summarize all")
    parser.add_argument("--note", default="", help="a line on the machine (e.g. 'contended: 8 jobs on 2 cores')")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    if args.resume and not args.jsonl:
        parser.error("--resume needs --jsonl")
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    if args.resume and os.path.exists(args.jsonl):
        with open(args.jsonl) as previous:
            rows = [json.loads(line) for line in previous if line.strip()]
    done = {r["seed"] for r in rows}
    seeds = [s for s in range(args.seed, args.seed + args.models) if s not in done]
    log = open(args.jsonl, "a" if args.resume else "w") if args.jsonl else None  # noqa: SIM115 - closed below
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers) as pool:
        for row in pool.imap_unordered(_one, seeds, chunksize=4):
            rows.append(row)
            if log is not None:
                log.write(json.dumps(row) + "\n")
                log.flush()
            if time.perf_counter() - start > 60 * args.minutes:
                pool.terminate()
                break
    if log is not None:
        log.close()
    elapsed = time.perf_counter() - start
    header = ["# Verdicts on random models (benchmarks/verdicts.py)", "",
              f"`PYTHONPATH=. python benchmarks/verdicts.py --models {args.models} --workers {args.workers} "
              f"--minutes {args.minutes:g}`: {len(rows)} models"
              + (f" ({len(rows) - len(done)} in this run of {elapsed / 60:.1f} min, the rest resumed from "
                 f"{args.jsonl})" if done else f" in {elapsed / 60:.1f} min")
              + (f" ({args.note})" if args.note else "") + ".", ""]
    text = "\n".join(header) + summarize(rows) + "\n"
    with open(args.out, "w") as out:
        out.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
