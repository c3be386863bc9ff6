"""Retrieval quality on an evaluation suite: recall@k of the papers the authors cited, and MRR.

Run from the project root:
    python eval/bench_retrieval.py                                  # the DeepScholar dev suite, BM25
    python eval/bench_retrieval.py --configs bm25 bm25+prf dense hybrid hybrid-weighted   # dense needs synth[dense]
    python eval/bench_retrieval.py --configs bm25+llm-queries --model openai/local --api-base http://127.0.0.1:8080/v1
The query is each paper's title and abstract; gold = the papers its related-work section cites.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from synth import Synthesizer

CONFIGS = {
    "bm25": {"retriever": "bm25"},
    "bm25+prf": {"retriever": "bm25", "prf": True},
    "dense": {"retriever": "dense"},
    "hybrid": {"retriever": "hybrid"},
    "hybrid+prf": {"retriever": "hybrid", "prf": True},
    "hybrid-weighted": {"retriever": "hybrid", "fusion": "weighted"},
    "bm25+llm-queries": {"retriever": "bm25", "llm_queries": 4},
    "hybrid+llm-queries": {"retriever": "hybrid", "llm_queries": 4},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=Path("eval/suites/deepscholar-dev"))
    parser.add_argument("--k", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--configs", nargs="+", default=["bm25"], choices=sorted(CONFIGS))
    parser.add_argument("--model", help="for the llm-queries configs, e.g. openai/local")
    parser.add_argument("--api-base", help="for the llm-queries configs, e.g. http://127.0.0.1:8080/v1")
    args = parser.parse_args()

    queries = [json.loads(line) for line in (args.suite / "queries.jsonl").open()]
    print(f"suite: {args.suite} ({len(queries)} queries)")
    print("| retriever | " + " | ".join(f"recall@{k}" for k in args.k) + " | MRR | seconds (incl. index build) |")
    print("|---|" + "---|" * (len(args.k) + 2))
    with tempfile.TemporaryDirectory() as home:
        for name in args.configs:
            llm = {"model": args.model, "api_base": args.api_base} if "llm_queries" in CONFIGS[name] else {}
            synth = Synthesizer(corpus=str(args.suite / "corpus.jsonl"), home=home, **CONFIGS[name], **llm)
            started = time.perf_counter()
            recalls: dict[int, list[float]] = {k: [] for k in args.k}
            reciprocal_ranks = []
            for q in queries:
                gold = set(q["gold"])
                ranked = [h.paper.id for h in synth.search(f"{q['title']}\n{q['abstract']}", max(args.k))]
                for k in args.k:
                    recalls[k].append(len(gold & set(ranked[:k])) / len(gold))
                first = next((i for i, pid in enumerate(ranked, 1) if pid in gold), None)
                reciprocal_ranks.append(1 / first if first else 0.0)
            elapsed = time.perf_counter() - started
            cells = [f"{statistics.mean(recalls[k]):.3f}" for k in args.k]
            print(f"| {name} | " + " | ".join(cells) + f" | {statistics.mean(reciprocal_ranks):.3f} | {elapsed:.2f} |")


if __name__ == "__main__":
    main()
