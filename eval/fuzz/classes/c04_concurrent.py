"""4. Two `synth eval run` on one --out folder at once: records written twice? settings mixed?

Two real processes start together (or one a moment after the other) on the same run folder, with the same
settings or with different ones. Afterwards records.jsonl must hold one record per query, every record must
carry the settings hash of the manifest, and every query must be done; refusing the second run with a clear
error ("in use") is a correct answer too.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import write_suite
from ..core import CaseResult, Observed, exit_kind
from ..fakeserver import Answer

CLS = "c04"
TITLE = "Concurrent runs on one folder"
QUERIES = [
    "program synthesis from input-output examples", "language model agents that browse the web",
    "retrieval-augmented generation for question answering", "reinforcement learning from human feedback",
    "evaluating generated research summaries", "neural code generation benchmarks", "graph neural networks",
    "chain of thought prompting", "instruction tuning of language models", "diffusion models for images",
]  # fmt: skip


def run(ctx: Any) -> list[CaseResult]:
    plans = [("same settings, started together", (None, None), 0.0, False)]
    if not ctx.quick:
        plans += [("different --k, started together", (5, 9), 0.0, False),
                  ("same settings, second 1 s later", (None, None), 1.0, False),
                  ("different --k, second 1.5 s later", (4, 7), 1.5, False),
                  ("same settings, started together (2)", (None, None), 0.0, False),
                  ("different --k, started together (2)", (6, 10), 0.0, False),
                  ("different --k, started together (3)", (7, 11), 0.0, False),
                  ("different --k, started together (4)", (3, 12), 0.0, False),
                  ("LLM drafter (slow fake model), same settings", (None, None), 0.0, True),
                  ("LLM drafter (slow fake model), different --k", (5, 8), 0.3, True)]  # fmt: skip
    return ctx.pool(lambda p: _case(ctx, *p), plans, jobs=1, cls=CLS)


def _case(ctx: Any, name: str, ks: tuple[int | None, int | None], stagger: float, llm: bool) -> CaseResult:
    d = ctx.case_dir(CLS, name)
    n = 6 if ctx.quick else 10
    suite = write_suite(d, QUERIES[:n])
    run_dir = d / "run"
    home = d / "home"
    server = ctx.server(Answer(content=json.dumps({"paragraphs": [{"sentences": [{"text": "A claim about the topic.", "cites": [1]}]}]}), delay=0.4)) if llm else None  # fmt: skip
    llm_args = cli.llm_nocache_flagless(server.base) if server else []
    # Warm the index so both runs start at the same point.
    ctx.synth(cli.index_build("sample"), home=home, timeout=60, mode="proc")
    results: list[Observed | None] = [None, None]

    def go(i: int) -> None:
        time.sleep(stagger * i)
        results[i] = ctx.synth(cli.eval_run(suite, run_dir, workers=2, k=ks[i], drafter=None if llm else "extractive",
                                            llm_args=llm_args), home=home, timeout=180, mode="proc")  # fmt: skip

    threads = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        a, b = results
        assert a is not None and b is not None
        kinds = [exit_kind(a), exit_kind(b)]
        worst = next((o for o in (a, b) if exit_kind(o) in ("unexpected", "hang")), None)
        obs = worst or (a if exit_kind(a) != "ok" else b if exit_kind(b) != "ok" else a)

        def oracle(_: Observed) -> str | None:
            return _check(run_dir, n, kinds)

        result = ctx.judge(CLS, name, obs if worst else a, oracle=oracle, case_dir=d, server=server,
                           sig="two runs on one folder: no lock", note=f"exits: {kinds}")  # fmt: skip
        if not worst and result.outcome == "clear_error":
            # One run refused (e.g. "the folder is in use"): right, as long as the other finished cleanly.
            problem = _check(run_dir, n, kinds)
            result.outcome, result.failure = ("wrong", True) if problem else ("correct", False)
            result.detail = problem or f"one run refused: {a.error_lines() or b.error_lines()}"
        return result
    finally:
        if server:
            server.close()


def _check(run_dir: Path, n: int, kinds: list[str]) -> str | None:
    lines = (
        [x for x in (run_dir / cli.RECORDS).read_bytes().split(b"\n") if x.strip()]
        if (run_dir / cli.RECORDS).exists()
        else []
    )
    records = []
    torn = 0
    for x in lines:
        try:
            records.append(json.loads(x))
        except ValueError:
            torn += 1
    manifest = json.loads((run_dir / cli.MANIFEST).read_text()) if (run_dir / cli.MANIFEST).exists() else {}
    problems = []
    twice = sorted(q for q, c in Counter(r.get("query_id") for r in records).items() if c > 1)
    if twice:
        problems.append(f"{len(twice)} of {n} queries have more than one record ({len(records)} records)")
    hashes = Counter(r.get("settings_hash") for r in records)
    if len(hashes) > 1 or (hashes and manifest.get("settings_hash") not in hashes):
        problems.append(
            f"records of different settings mixed in one folder: {dict(hashes)}, manifest {manifest.get('settings_hash')}"
        )
    missing = n - len({r.get("query_id") for r in records})
    if missing and "ok" in kinds:
        problems.append(f"{missing} queries have no record though a run finished")
    if torn:
        problems.append(f"{torn} torn lines")
    if manifest and manifest.get("finished") is None and "ok" in kinds:
        problems.append("manifest not marked finished")
    return "; ".join(problems) or None
