"""Overhead of the evaluation runner, with a fake LLM (no model): throughput and real concurrency.

Run from the project root:
    python eval/bench_runner.py
1. A fake LLM that answers instantly: 1,000 queries (the sample suite's five topics, repeated) through
   LLM drafting and the offline judge: queries per second of the whole pipeline minus the model.
2. A fake LLM that takes 1 s per call (awaited, not blocking): 64 queries with 8 workers. Sequentially
   this would take 64 s; a pool that really runs concurrently needs about 8 s plus the CPU work.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from synth import Synthesizer
from synth.evaluate import evaluate
from synth.testing import FakeLLM

REPLY = {"paragraphs": [{"sentences": [{"text": "Programs are synthesised from examples.", "cites": [1, 2]},
                                       {"text": "Agents browse the web.", "cites": [3]}]}]}  # fmt: skip
TOPICS = ["program synthesis from examples", "language model agents that browse the web",
          "retrieval-augmented generation for question answering", "reinforcement learning from human feedback",
          "evaluating generated research summaries"]  # fmt: skip


def suite(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    lines = [json.dumps({"id": f"q{i:04d}", "query": TOPICS[i % len(TOPICS)]}) for i in range(n)]
    (folder / "queries.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "suite.json").write_text(json.dumps({"corpus": "sample"}))
    return folder


def timed_run(root: Path, name: str, n: int, delay: float, workers: int) -> tuple[float, int]:
    # One call per query, in the one-shot contract REPLY follows (staged drafting asks ~60 small questions);
    # unverified: the canned reply is no real draft, and the judge would send each query to rewrites.
    synth = Synthesizer(
        corpus="sample",
        llm=FakeLLM(REPLY, repeat=True, delay=delay),
        k=12,
        pipeline="one-shot",
        verify=False,
        home=str(root / "home"),
    )
    start = time.perf_counter()
    run = evaluate(suite(root / name, n), synth.settings, out=root / f"run-{name}", synthesizer=synth, workers=workers)
    elapsed = time.perf_counter() - start
    return elapsed, sum(r["ok"] for r in run.records)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fast, ok_fast = timed_run(root, "instant", 1000, 0.0, 8)
        slow, ok_slow = timed_run(root, "slow", 64, 1.0, 8)
    print("| run | queries (ok) | workers | wall s | queries/s |")
    print("|---|---|---|---|---|")
    print(f"| fake LLM, instant | 1000 ({ok_fast}) | 8 | {fast:.1f} | {1000 / fast:.1f} |")
    print(f"| fake LLM, 1 s per call | 64 ({ok_slow}) | 8 | {slow:.1f} | {64 / slow:.2f} |")


if __name__ == "__main__":
    main()
