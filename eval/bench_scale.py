"""BM25 at scale: synthetic corpora of 10k -> 100k -> 1M abstracts made by recombining real sentences.

Run from the project root (1M needs ~25 min and several GB of disk in the work folder):
    python eval/bench_scale.py --sizes 10000 100000 1000000 --work /tmp/synth-scale
For each size, in fresh processes: generate the corpus (seeded), build the BM25 index (time and peak
memory of the whole process), load the cached index (time), and time queries: 100 short topic queries
and 100 long ones (a dev-suite title + abstract), reporting p50 and p95 latency.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from synth.corpus import load_corpus
from synth.text import split_sentences, terms

SOURCES = ["synth/data/seed_abstracts.jsonl", "eval/suites/deepscholar-dev/corpus.jsonl"]


def generate(n: int, path: Path, seed: int = 0) -> None:
    """n abstracts of 5-10 sentences drawn from the real ones; titles recombined from real titles."""
    papers = [p for source in SOURCES for p in load_corpus(source).papers]
    sentences = [s for p in papers for s in split_sentences(p.abstract) if len(s.split()) >= 5]
    title_words = [p.title.split() for p in papers]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            words = rng.choice(title_words)[:4] + rng.choice(title_words)[-4:]
            abstract = " ".join(rng.sample(sentences, rng.randint(5, 10)))
            year = rng.randint(1995, 2025)
            f.write(json.dumps({"id": f"s{i:07d}", "title": " ".join(words), "abstract": abstract, "year": year}))
            f.write("\n")


def child_build(corpus: str, cache: str) -> None:
    from synth.retrieve.bm25 import BM25Retriever

    start = time.perf_counter()
    loaded = load_corpus(corpus)
    parsed = time.perf_counter()
    BM25Retriever(loaded, cache_dir=Path(cache))
    done = time.perf_counter()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(json.dumps({"parse_s": parsed - start, "index_s": done - parsed, "peak_gb": peak_gb}))


def child_query(corpus: str, cache: str) -> None:
    from synth._version import __version__
    from synth.corpus import Corpus
    from synth.retrieve.bm25 import INDEX_FORMAT, BM25Index, BM25Retriever

    # The index folder is keyed by the corpus fingerprint; find it without parsing the corpus.
    folder = next(Path(cache).glob("bm25-*"))
    meta = json.loads((folder / "meta.json").read_text())
    start = time.perf_counter()
    index = BM25Index.load(folder, {"format": INDEX_FORMAT, "fingerprint": meta["fingerprint"], "synth": __version__})
    load_s = time.perf_counter() - start
    assert index is not None
    retriever = BM25Retriever.__new__(BM25Retriever)  # queries need the index; papers only for the hits
    retriever.index, retriever.prf = index, False
    retriever.corpus = Corpus(papers=[], source=corpus)
    short = ["program synthesis from examples", "language model agents", "retrieval augmented generation",
             "reinforcement learning from human feedback", "graph neural networks"] * 20  # fmt: skip
    dev = [json.loads(line) for line in Path("eval/suites/deepscholar-dev/queries.jsonl").read_text().splitlines()]
    long = [f"{q['title']}\n{q['abstract']}" for q in dev] * 5
    timings = {}
    for name, queries in (("short", short), ("long", long)):
        times = []
        for q in queries:
            t = time.perf_counter()
            scores = index.scores(terms(q))
            scores.argpartition(-20)[-20:]
            times.append(time.perf_counter() - t)
        times.sort()
        timings[name] = {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * len(times))]}
    print(json.dumps({"load_s": load_s, **timings}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/synth-scale"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print("| papers | generate s | parse s | index build s | peak memory GB | cached index load s | "
          "query p50 / p95 ms (short) | query p50 / p95 ms (title + abstract) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        corpus, cache = args.work / f"corpus-{n}.jsonl", args.work / f"cache-{n}"
        start = time.perf_counter()
        if not corpus.is_file():
            generate(n, corpus)
        gen_s = time.perf_counter() - start
        shutil.rmtree(cache, ignore_errors=True)  # the build must not find an index from an earlier run
        build = json.loads(_child("build", corpus, cache))
        query = json.loads(_child("query", corpus, cache))
        print(f"| {n:,} | {gen_s:.0f} | {build['parse_s']:.1f} | {build['index_s']:.1f} | {build['peak_gb']:.2f} | "
              f"{query['load_s']:.2f} | {query['short']['p50_ms']:.1f} / {query['short']['p95_ms']:.1f} | "
              f"{query['long']['p50_ms']:.1f} / {query['long']['p95_ms']:.1f} |", flush=True)  # fmt: skip


def _child(kind: str, corpus: Path, cache: Path) -> str:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(corpus), str(cache)],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return out.strip().splitlines()[-1]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        {"build": child_build, "query": child_query}[sys.argv[2]](sys.argv[3], sys.argv[4])
    else:
        main()
