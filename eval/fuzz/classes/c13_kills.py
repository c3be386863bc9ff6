"""13. SIGKILL `synth eval run` (and `synth draft`) at random moments: torn or duplicated records? does resume finish?

An uninterrupted reference run gives the expected records. Then the same command is started on one run
folder again and again and killed (the whole process group, SIGKILL) after a random delay; after every kill
records.jsonl may end in one torn line (the next start cuts it) but must hold no torn line in the middle and
no query twice; no temporary files may pile up. When a folder is complete a new one starts, so kills land
in every phase (start-up, manifest, drafting, appending). At the end every folder is resumed to completion
and its sections must equal the reference run's. A few kills hit an LLM run (slow fake model, 4 workers)
and `synth draft` while it builds the index and writes the LLM cache.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import write_suite
from ..core import CaseResult, Observed
from ..fakeserver import Answer
from ..runner import _kill_group

CLS = "c13"
TITLE = "SIGKILL during runs"
QUERIES = [
    "program synthesis from input-output examples", "language model agents that browse the web",
    "retrieval-augmented generation for question answering", "reinforcement learning from human feedback",
    "evaluating generated research summaries", "neural code generation benchmarks", "graph neural networks",
    "chain of thought prompting", "instruction tuning of language models", "diffusion models for images",
    "machine translation with transformers", "speech recognition end to end",
]  # fmt: skip
LLM_REPLY = json.dumps({"paragraphs": [{"sentences": [{"text": "Programs are synthesized from examples.", "cites": [1]},
                                                      {"text": "Search is guided by neural models.", "cites": [2]}]}]})  # fmt: skip


def run(ctx: Any) -> list[CaseResult]:
    rng = random.Random(ctx.seed)
    d = ctx.work / CLS
    kills = 6 if ctx.quick else 80
    llm_kills = 1 if ctx.quick else 10
    draft_kills = 1 if ctx.quick else 8
    results = _eval_kills(ctx, rng, d / "extractive", kills, llm=False)
    results += _eval_kills(ctx, rng, d / "llm", llm_kills, llm=True)
    results += _draft_kills(ctx, rng, d / "draft", draft_kills)
    return results


def _args(ctx: Any, suite: Path, out: Path, server: Any) -> list[str]:
    if server is None:
        return cli.eval_run(suite, out, workers=2, drafter="extractive")
    return cli.eval_run(suite, out, workers=4, llm_args=cli.llm_nocache_flagless(server.base))


def _start(ctx: Any, args: list[str], home: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(ctx.python), "-m", "synth", *args], env={**ctx.env, cli.HOME_VAR: str(home), **env},
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip


def _eval_kills(ctx: Any, rng: random.Random, d: Path, kills: int, *, llm: bool) -> list[CaseResult]:
    n = 8 if llm else 12
    suite = write_suite(d, QUERIES[:n])
    home = d / "home"
    server = ctx.server(Answer(content=LLM_REPLY, delay=0.3)) if llm else None
    env = cli.llm_env(retries=0) if llm else {}
    kind = "llm" if llm else "extractive"
    results: list[CaseResult] = []
    try:
        ref = d / "reference"
        t0 = time.monotonic()
        obs = ctx.synth(_args(ctx, suite, ref, server), home=home, env=env, timeout=300, mode="proc")
        duration = time.monotonic() - t0
        if obs.rc != 0:
            return [ctx.judge(CLS, f"{kind}: reference run", obs, case_dir=None)]
        reference = _sections(ref)
        folders: list[Path] = []
        current: Path | None = None
        for i in range(kills):
            if current is None or _complete(current, n):
                current = d / f"run-{len(folders):03d}"
                folders.append(current)
            delay = rng.uniform(0.05, duration * 1.1)
            proc = _start(ctx, _args(ctx, suite, current, server), home, d, env)
            time.sleep(delay)
            finished = proc.poll() is not None
            _kill_group(proc.pid)
            proc.wait()
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            name = f"{kind}: kill #{i} at {delay:.2f} s ({current.name})"
            problem = _invariants(current, torn_tail_ok=True)
            if finished and proc.returncode != 0:
                problem = (
                    problem + "; " if problem else ""
                ) + f"a run that finished before the kill exited {proc.returncode}: {err[-300:]}"
            o = Observed(argv=["synth", *_args(ctx, suite, current, server)], rc=0, stderr="", elapsed=round(delay, 2),
                         env={cli.HOME_VAR: str(home), **env})  # fmt: skip
            results.append(ctx.judge(CLS, name, o, oracle=lambda _o, p=problem: p, case_dir=None,
                                     sig="a killed run leaves a torn or duplicated record, or litter"))  # fmt: skip
        for folder in folders:  # resume every folder to the end
            obs = ctx.synth(_args(ctx, suite, folder, server), home=home, env=env, timeout=300, mode="proc")

            def oracle(o: Observed, folder: Path = folder) -> str | None:
                problem = _invariants(folder, torn_tail_ok=False)
                if not _complete(folder, n):
                    problem = (problem + "; " if problem else "") + "not every query has a record after the resume"
                if problem:
                    return problem
                got = _sections(folder)
                differ = sorted(q for q in reference if got.get(q) != reference[q])
                return f"resumed sections differ from an uninterrupted run for {differ}" if differ and not llm else None

            results.append(ctx.judge(CLS, f"{kind}: resume {folder.name}", obs, oracle=oracle, valid_input=True,
                                     case_dir=None, sig="resume after kills"))  # fmt: skip
    finally:
        if server is not None:
            server.close()
    return results


def _records(folder: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """(complete records, torn lines in the middle, torn last line)."""
    path = folder / cli.RECORDS
    if not path.exists():
        return [], 0, False
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends in a newline
    records, torn = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            torn += 1
    return records, torn, bool(tail.strip())


def _invariants(folder: Path, *, torn_tail_ok: bool) -> str | None:
    records, torn, torn_tail = _records(folder)
    problems = []
    twice = sorted(q for q, c in Counter(r.get("query_id") for r in records).items() if c > 1)
    if twice:
        problems.append(f"queries recorded twice: {twice}")
    if torn:
        problems.append(f"{torn} torn record(s) in the middle of records.jsonl")
    if torn_tail and not torn_tail_ok:
        problems.append("records.jsonl ends in a torn line after a clean run")
    litter = (
        [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".tmp" in p.name] if folder.is_dir() else []
    )
    if len(litter) > 3:
        problems.append(f"{len(litter)} temporary files left in the run folder: {litter[:3]}")
    bad = [r.get("query_id") for r in records if not r.get("ok")]
    if bad:
        problems.append(f"failed records: {bad[:5]} ({records[0].get('error', '')[:120] if records else ''})")
    return "; ".join(problems) or None


def _complete(folder: Path, n: int) -> bool:
    records, _, _ = _records(folder)
    return len({r.get("query_id") for r in records}) >= n


def _sections(folder: Path) -> dict[str, Any]:
    records, _, _ = _records(folder)
    return {r["query_id"]: (r.get("section") or {}).get("paragraphs") for r in records if r.get("ok")}


def _draft_kills(ctx: Any, rng: random.Random, d: Path, kills: int) -> list[CaseResult]:
    """Kill `synth draft` (index build + LLM cache write) and draft again: the same section, no litter."""
    server = ctx.server(Answer(content=LLM_REPLY))
    results: list[CaseResult] = []
    try:
        args = cli.draft(QUERIES[0], llm_args=cli.llm(server.base, cache=True))
        base = ctx.synth(args, home=d / "baseline-home", env=cli.llm_env(retries=0), timeout=120, mode="proc")
        if base.rc != 0:
            return [ctx.judge(CLS, "draft: baseline", base, case_dir=None)]
        for i in range(kills):
            home = d / f"home-{i}"
            delay = rng.uniform(0.2, max(0.5, base.elapsed))
            proc = _start(ctx, args, home, d, cli.llm_env(retries=0))
            time.sleep(delay)
            _kill_group(proc.pid)
            proc.wait()
            obs = ctx.synth(args, home=home, env=cli.llm_env(retries=0), timeout=120, mode="proc")

            def oracle(o: Observed, home: Path = home) -> str | None:
                problems = []
                if o.stdout != base.stdout:
                    problems.append("the draft after the kill differs from the baseline")
                litter = [p.name for p in home.rglob("*") if ".tmp" in p.name]
                if litter:
                    problems.append(f"temporary files left under SYNTH_HOME: {litter[:3]}")
                return "; ".join(problems) or None

            results.append(ctx.judge(CLS, f"draft: kill #{i} at {delay:.2f} s, then draft again", obs, oracle=oracle,
                                     valid_input=True, case_dir=None, sig="a killed draft leaves litter or a bad cache"))  # fmt: skip
    finally:
        server.close()
    return results
