"""Fuzz a synth checkout with hostile inputs, hostile LLM replies, kills and concurrent runs; write a report.

    python eval/fuzz/run.py --checkout /path/to/checkout --out /tmp/fuzz-report [--quick] [--python PY]

See eval/fuzz/README.md for the classes and how outcomes are classified.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # eval/ on the path: `fuzz` is a package

from fuzz import report
from fuzz.context import Ctx
from fuzz.core import CaseResult
from fuzz.runner import ensure_python

CLASSES = [
    "c01_citations",
    "c02_duplicates",
    "c03_hangs",
    "c04_concurrent",
    "c05_index",
    "c06_shapes",
    "c07_retry_after",
    "c08_secrets",
    "c09_cache",
    "c10_injection",
    "c11_corpora",
    "c12_templates",
    "c13_kills",
]
# Long classes first, so the short ones fill the gaps when classes run side by side.
ORDER = ["c13", "c03", "c06", "c11", "c08", "c05", "c01", "c12", "c09", "c07", "c04", "c10", "c02"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkout", required=True, type=Path, help="the synth checkout to test")
    p.add_argument("--out", required=True, type=Path, help="report folder (created; never inside the checkout)")
    p.add_argument("--python", help="an existing interpreter with that checkout installed (skips the venv)")
    p.add_argument("--venv", type=Path, help="where to create the venv (default: CHECKOUT/.venv-fuzz)")
    p.add_argument("--quick", action="store_true", help="a subset of every class: about 3 minutes")
    p.add_argument("--seed", type=int, default=12, help="seed of the generated inputs")
    p.add_argument("--jobs", type=int, default=2, help="cases in flight at once (in-process workers)")
    p.add_argument("--only", help="comma-separated class ids or names, e.g. c01,c06")
    p.add_argument("--proc-only", action="store_true", help="run every case as a real subprocess (slow)")
    p.add_argument("--class-jobs", type=int, default=None, help="classes run at once (default: 2, quick: 3)")
    p.add_argument("--budget", type=float, default=None, help="seconds; classes not started by then are skipped")
    p.add_argument("--keep-work", action="store_true", help="keep OUT/work (the generated inputs and homes)")
    args = p.parse_args(argv)

    checkout, out = args.checkout.resolve(), args.out.resolve()
    if checkout == out or checkout in out.parents:
        p.error("--out must be outside the checkout")
    out.mkdir(parents=True, exist_ok=True)
    logfile = open(out / "run.log", "a", buffering=1)  # noqa: SIM115 - open for the whole run

    def log(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, file=sys.stderr, flush=True)
        logfile.write(line + "\n")

    python = ensure_python(checkout, args.python, args.venv, log)
    budget = args.budget or (150.0 if args.quick else 1000.0)
    ctx = Ctx(checkout=checkout, python=python, out=out, quick=args.quick, seed=args.seed, jobs=args.jobs,
              proc_only=args.proc_only, log=log)  # fmt: skip
    wanted = [c.strip() for c in args.only.split(",")] if args.only else None
    start = time.monotonic()
    done: list[tuple[str, str, list[CaseResult], float, str]] = []
    lock = threading.Lock()
    chosen = []
    for name in sorted(CLASSES, key=lambda n: ORDER.index(n.split("_", 1)[0]) if n.split("_", 1)[0] in ORDER else 99):
        cid = name.split("_", 1)[0]
        if wanted and cid not in wanted and name not in wanted:
            continue
        try:
            chosen.append((cid, importlib.import_module(f"fuzz.classes.{name}")))
        except ModuleNotFoundError:
            continue

    def one(item: tuple[str, Any]) -> None:
        cid, module = item
        if time.monotonic() - start > budget:
            with lock:
                done.append((cid, module.TITLE, [], 0.0, "skipped: over the time budget"))
            return
        log(f"{cid} {module.TITLE} ...")
        t0 = time.monotonic()
        note = ""
        try:
            results = module.run(ctx)
        except Exception:  # a broken class must not lose the others' results
            results = []
            note = "the harness failed in this class: " + traceback.format_exc().strip().splitlines()[-1]
            log(traceback.format_exc())
        secs = time.monotonic() - t0
        log(f"{cid}: {len(results)} cases, {sum(r.failure for r in results)} failures, {secs:.0f} s")
        with lock:
            done.append((cid, module.TITLE, results, secs, note))
            done.sort(key=lambda t: t[0])
            report.write(out, _meta(checkout, args, time.monotonic() - start), done)

    class_jobs = args.class_jobs or (3 if args.quick else 2)
    try:
        with ThreadPoolExecutor(max_workers=class_jobs) as ex:
            list(ex.map(one, chosen))
    finally:
        ctx.close()
    report.write(out, _meta(checkout, args, time.monotonic() - start), done)
    if not args.keep_work:
        import shutil

        shutil.rmtree(ctx.work, ignore_errors=True)
    log(f"wrote {out / 'report.md'} and {out / 'report.json'}")
    return 0


def _meta(checkout: Path, args: argparse.Namespace, seconds: float) -> dict[str, object]:
    rev = subprocess.run(
        ["git", "-C", str(checkout), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return {
        "checkout": str(checkout),
        "revision": rev.stdout.strip() or "not a git checkout",
        "quick": args.quick,
        "seed": args.seed,
        "seconds": seconds,
        "argv": sys.argv,
    }


if __name__ == "__main__":
    sys.exit(main())
