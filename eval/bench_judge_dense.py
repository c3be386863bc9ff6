"""Would a dense (MiniLM) component help the offline judge? Measured on the same dev bench as bench_judge.py.

Run from the project root, in an environment with the dense extra (README: install torch first):
    python eval/bench_judge_dense.py
Dense features of a (sentence, paper) pair: the best cosine between the sentence and the paper's title or
abstract sentences (`dense max`), and that minus the best such cosine over every corpus paper and the paper
being written (`dense relative`, the dense analogue of the lexical fit). A logistic regression (numpy,
L2 = 1, features standardised) learns a combination with the lexical score, trained on positives against
hard and easy negatives; each section's pairs are scored by a model fitted on the other 19 sections
(leave-one-query-out). Prints the AUCs of the lexical score alone, the dense features alone, and the
combination, in-sample and held out.
"""

from __future__ import annotations

import json
import time

import numpy as np
from bench_judge import KINDS, SUITE, Pair, auc, build, query_text

from synth.check.judges import OfflineJudge
from synth.check.scoring import Params, combine
from synth.corpus import load_corpus
from synth.retrieve.dense import MiniLM
from synth.text import split_sentences


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Weighted L2 logistic regression by Newton steps; the last coefficient is the intercept."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    penalty = np.eye(xb.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ beta))
        gradient = xb.T @ (weights * (p - y)) + penalty @ beta
        hessian = (xb * (weights * p * (1 - p))[:, None]).T @ xb + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def dense_features(pairs: list[Pair], corpus, queries: list[dict]) -> np.ndarray:
    """`dense max` and `dense relative` for every pair."""
    encoder = MiniLM()
    started = time.perf_counter()
    owners, texts = [], []
    for i, paper in enumerate(corpus.papers):
        for s in [" ".join(paper.title.split()), *split_sentences(paper.abstract)]:
            owners.append(i)
            texts.append(s)
    owner = np.array(owners)
    passages = encoder.encode(texts)
    sentences = sorted({p.sentence for p in pairs})
    vectors = dict(zip(sentences, encoder.encode(sentences), strict=True))
    query_sentences = {q["id"]: encoder.encode(split_sentences(" ".join(query_text(q).split()))) for q in queries}
    print(f"embedded {len(texts)} abstract sentences and {len(sentences)} bench sentences in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    position = {p.id: i for i, p in enumerate(corpus.papers)}
    best_per_paper: dict[str, np.ndarray] = {}
    out = np.zeros((len(pairs), 2))
    for k, pair in enumerate(pairs):
        if pair.sentence not in best_per_paper:
            cosines = passages @ vectors[pair.sentence]
            best = np.full(len(corpus.papers), -1.0)
            np.maximum.at(best, owner, cosines)
            best_per_paper[pair.sentence] = best
        best = best_per_paper[pair.sentence]
        own = best[position[pair.paper]]
        rival = max(float(best.max()), float((query_sentences[pair.query] @ vectors[pair.sentence]).max()))
        out[k] = own, own - rival
    return out


def main() -> None:
    corpus = load_corpus(SUITE / "corpus.jsonl")
    queries = [json.loads(line) for line in (SUITE / "queries.jsonl").open()]
    judge = OfflineJudge(corpus)
    pairs, _ = build(corpus, queries, judge)
    pairs = [p for p in pairs if p.kind in KINDS]
    lexical = np.array([[combine(p.evidence, Params()), p.evidence.fit()] for p in pairs])
    dense = dense_features(pairs, corpus, queries)
    kind = np.array([p.kind for p in pairs])
    group = np.array([p.query for p in pairs])
    train = np.isin(kind, ["pos", "hard", "easy"])
    y = (kind == "pos").astype(float)
    weights = np.where(kind == "pos", 1.0, (kind == "pos").sum() / np.isin(kind, ["hard", "easy"]).sum())

    def held_out(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = (x - x.mean(0)) / (x.std(0) + 1e-9)
        xb = np.hstack([x, np.ones((len(x), 1))])
        inside = xb @ fit_logistic(x[train], y[train], weights[train])
        out = np.zeros(len(x))
        for g in sorted(set(group)):
            rest = train & (group != g)
            out[group == g] = (xb @ fit_logistic(x[rest], y[rest], weights[rest]))[group == g]
        return inside, out

    def row(name: str, s: np.ndarray) -> str:
        pos = list(s[kind == "pos"])
        return f"| {name} | " + " | ".join(f"{auc(pos, list(s[kind == k])):.3f}" for k in KINDS[1:]) + " |"

    print("\n| score | AUC vs hard | AUC vs easy | AUC vs self-claims | AUC vs topical |")
    print("|---|---|---|---|---|")
    print(row("lexical (shipped score)", lexical[:, 0]))
    print(row("dense relative alone", dense[:, 1]))
    for name, x in (("lexical + dense (logistic)", np.hstack([lexical, dense])), ("lexical (logistic)", lexical)):
        inside, out = held_out(x)
        print(row(f"{name}, in-sample", inside))
        print(row(f"{name}, leave-one-query-out", out))


if __name__ == "__main__":
    main()
