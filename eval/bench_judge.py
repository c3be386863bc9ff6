"""Validate the offline judge on human-written related-work sections (DeepScholar dev suite).

Run from the project root:
    python eval/bench_judge.py
From each section, the sentences (of at least 50 characters) that cite exactly one paper give:
positives = (sentence, the cited paper); hard negatives = (sentence, each other paper cited elsewhere in
the same section); easy negatives = (sentence, each of 5 random corpus papers). Prints ROC-AUC of positives against
each kind, accuracy at the shipped threshold, and the threshold sweep it was chosen from. Then checks the
human sections as written against the same sections with their citations shuffled among their own papers.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

from synth.check.judges import OFFLINE_THRESHOLD, OfflineJudge
from synth.check.metrics import check
from synth.check.parse import parse
from synth.corpus import load_corpus

SUITE = Path("eval/suites/deepscholar-dev")


def auc(pos: list[float], neg: list[float]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main() -> None:
    corpus = load_corpus(SUITE / "corpus.jsonl")
    queries = [json.loads(line) for line in (SUITE / "queries.jsonl").open()]
    judge = OfflineJudge(corpus)
    rng = random.Random(0)
    scores: dict[str, list[float]] = {"pos": [], "hard": [], "easy": []}
    docs = {}
    for q in queries:
        doc = parse(q["related_work"], corpus, kind="latex")
        docs[q["id"]] = doc
        section_papers = sorted({c for s in doc.sentences for c in s.cited})
        for s in doc.sentences:
            if len(s.cited) != 1 or len(s.text) < 50:
                continue
            true = s.cited[0]
            pairs = [("pos", true)] + [("hard", c) for c in section_papers if c != true]
            pairs += [("easy", p.id) for p in rng.sample(corpus.papers, 5) if p.id != true]
            for kind, pid in pairs:
                scores[kind].append(judge.support(s.text, [corpus.by_id[pid]]).score)

    n = {k: len(v) for k, v in scores.items()}
    print(f"pairs: {n['pos']} positives, {n['hard']} hard negatives, {n['easy']} easy negatives (20 sections)")
    print("| judge | ROC-AUC vs hard | ROC-AUC vs easy | accuracy at threshold (pos+hard+easy) |")
    print("|---|---|---|---|")
    labelled = [(s, k == "pos") for k, v in scores.items() for s in v]
    accuracy = sum((s >= OFFLINE_THRESHOLD) == y for s, y in labelled) / len(labelled)
    print(f"| offline, lexical (threshold {OFFLINE_THRESHOLD}) | {auc(scores['pos'], scores['hard']):.3f} | "
          f"{auc(scores['pos'], scores['easy']):.3f} | {accuracy:.3f} |")  # fmt: skip
    print("\nthreshold sweep (accuracy on all pairs; balanced accuracy: mean of the rates on positives and negatives):")
    for t in [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8]:
        acc = sum((s >= t) == y for s, y in labelled) / len(labelled)
        tpr = sum(s >= t for s in scores["pos"]) / n["pos"]
        tnr = sum(s < t for k in ("hard", "easy") for s in scores[k]) / (n["hard"] + n["easy"])
        print(f"  {t:.2f}: accuracy {acc:.3f}, balanced {(tpr + tnr) / 2:.3f}")

    # True citations against the same sections with citations shuffled among their own papers.
    true_p, shuffled_p, wins, started, checked = [], [], 0, time.perf_counter(), 0
    for q in queries:
        doc = docs[q["id"]]
        report = check(doc, corpus, judge)
        papers = [c for s in doc.sentences for c in s.cited]
        shuffled = papers[:]
        for _ in range(20):  # a derangement where possible: no citation keeps its place
            rng.shuffle(shuffled)
            if all(a != b for a, b in zip(papers, shuffled, strict=True)):
                break
        it = iter(shuffled)
        for s in doc.sentences:
            s.cited = [next(it) for _ in s.cited]
        fake = check(doc, corpus, judge)
        checked += len(papers) * 2
        if report.citation_precision is None or fake.citation_precision is None:
            continue
        true_p.append(report.citation_precision)
        shuffled_p.append(fake.citation_precision)
        wins += report.citation_precision > fake.citation_precision
    elapsed = time.perf_counter() - started
    print("\n| human sections | mean citation precision | sections where true > shuffled |")
    print("|---|---|---|")
    print(f"| citations as written | {statistics.mean(true_p):.3f} | {wins} of {len(true_p)} |")
    print(f"| citations shuffled within the section | {statistics.mean(shuffled_p):.3f} | |")
    print(f"\nchecked {checked} citations in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
