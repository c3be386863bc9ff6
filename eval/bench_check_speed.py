"""Speed of the offline judge: check a 500-word section with 30 citations (dev suite corpus, 633 abstracts).

Run from the project root:
    python eval/bench_check_speed.py
The section is made of the human-written dev sections' own sentences (with their citations), taken in
order until it holds 500 words and 30 citations. Times: building the judge (BM25 index of the corpus, and the
background vocabulary from the sample corpus), then checking the section with a fresh judge each time
(no cached sentence or paper), with a paper being written as the query; then the replacement search the
verified-drafting pipeline will run: each sentence judged against its 20 best BM25 candidates, one at a time.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from synth.check.evidence import background_df
from synth.check.judges import OfflineJudge
from synth.check.metrics import check
from synth.check.parse import Document
from synth.check.parse import parse_text as parse
from synth.corpus import load_corpus
from synth.retrieve.bm25 import BM25Retriever

SUITE = Path("eval/suites/deepscholar-dev")


def main() -> None:
    corpus = load_corpus(SUITE / "corpus.jsonl")
    first = json.loads((SUITE / "queries.jsonl").open().readline())
    query = f"{first['title']}\n{first['abstract']}"  # the paper being written competes with every citation
    sentences = []
    for line in (SUITE / "queries.jsonl").open():
        for s in parse(json.loads(line)["related_work"], corpus, kind="latex").sentences:
            if s.cited and len(s.text) >= 50:
                sentences.append(s)
    section, words, citations = [], 0, 0
    for s in sentences:
        if words >= 500 and citations >= 30:
            break
        section.append(s)
        words += len(s.text.split())
        citations += len(s.cited)
    doc = Document(sentences=section)

    start = time.perf_counter()
    judge = OfflineJudge(corpus)
    judge.index  # noqa: B018 - build the index now, as loading a model would be
    background_df()  # the judge's background vocabulary (the sample corpus), loaded once per process
    build = time.perf_counter() - start
    runs = []
    for _ in range(5):
        fresh = OfflineJudge(corpus, index=judge.index)  # no per-sentence cache carried over
        start = time.perf_counter()
        report = check(doc, corpus, fresh, query=query)
        runs.append(time.perf_counter() - start)
    print(f"section: {len(section)} sentences, {words} words, {citations} citations; corpus {len(corpus)} abstracts")
    print("| judge set-up (index build) s | check, median of 5 s | check, best s | citation precision |")
    print("|---|---|---|---|")
    print(f"| {build:.3f} | {statistics.median(runs):.3f} | {min(runs):.3f} | {report.citation_precision} |")

    # Picking a replacement citation: every sentence judged against each of its 20 best BM25 candidates.
    retriever = BM25Retriever(corpus)
    retriever.index = judge.index
    candidates = [[h.paper for h in retriever.search(s.text, 20)] for s in section]
    fresh = OfflineJudge(corpus, index=judge.index)
    start = time.perf_counter()
    calls = sum(
        len([fresh.support(s.text, [p], query=query) for p in ps]) for s, ps in zip(section, candidates, strict=True)
    )
    elapsed = time.perf_counter() - start
    print(f"\nreplacement search: {calls} support() calls (20 candidates per sentence) in {elapsed:.3f} s")


if __name__ == "__main__":
    main()
