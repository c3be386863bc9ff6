"""The LLM judge against the offline judge on a sample of the judge-validation bench (eval/bench_judge.py).

Run from the project root, with an OpenAI-compatible server (replies are cached, so a re-run is free):
    python eval/bench_llm_judge.py --model openai/local --api-base http://127.0.0.1:8765/v1 --per-kind 40

The same pairs as bench_judge.py (true citations of the human sections, the same sentences cited to other
papers of their section (hard) or to random papers (easy), the query paper's own claims (self) and topical
false claims), `--per-kind` of each drawn at random (seeded). The LLM judge answers 1 or 0 (`--trials`
answers averaged), so its AUC is that of a two-valued score: (accepted true + rejected false) / 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # bench_judge.py beside this script

from bench_judge import KINDS, SUITE, auc, build, query_text

from synth.check.judges import LLMJudge, OfflineJudge
from synth.check.scoring import Params, combine
from synth.corpus import load_corpus
from synth.llm import make_llm
from synth.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-base")
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    corpus = load_corpus(SUITE / "corpus.jsonl")
    queries = {q["id"]: q for q in map(json.loads, (SUITE / "queries.jsonl").open())}
    offline = OfflineJudge(corpus)
    pairs, _ = build(corpus, list(queries.values()), offline)
    rng = random.Random(args.seed)
    sample = []
    for kind in KINDS:
        of_kind = [p for p in pairs if p.kind == kind]
        sample += rng.sample(of_kind, min(args.per_kind, len(of_kind)))

    settings = Settings.load(model=args.model, api_base=args.api_base)
    llm = make_llm(settings.llm, cache_dir=settings.home / "llm-cache")
    judge = LLMJudge(llm, trials=args.trials)
    params = Params()

    async def run() -> list[float]:
        scores = []
        start = time.perf_counter()
        for i, p in enumerate(sample, 1):
            verdict = await judge.asupport(p.sentence, [corpus.by_id[p.paper]], query=query_text(queries[p.query]))
            scores.append(verdict.score)
            if i % 20 == 0:
                print(f"  {i}/{len(sample)} pairs, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        return scores

    llm_scores = asyncio.run(run())
    offline_scores = [combine(p.evidence, params) for p in sample]
    print(f"pairs: {len(sample)} ({args.per_kind} per kind, seed {args.seed}); model {args.model}, "
          f"{args.trials} trial(s)\n")  # fmt: skip
    print("| judge | accepted: " + " | ".join(KINDS) + " | AUC vs " + " | AUC vs ".join(KINDS[1:]) + " |")
    print("|---|" + "---|" * (2 * len(KINDS) - 1))
    for name, scores, cut in (("offline", offline_scores, params.threshold), ("LLM", llm_scores, 0.5)):
        by_kind = {k: [s for s, p in zip(scores, sample, strict=True) if p.kind == k] for k in KINDS}
        accepted = " | ".join(f"{statistics.mean(s > cut if name == 'LLM' else s >= cut for s in by_kind[k]):.3f}"
                              for k in KINDS)  # fmt: skip
        aucs = " | ".join(f"{auc(by_kind['pos'], by_kind[k]):.3f}" for k in KINDS[1:])
        print(f"| {name} | {accepted} | {aucs} |")


if __name__ == "__main__":
    main()
