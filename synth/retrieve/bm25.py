"""Retrievers: the `Retriever` protocol and BM25 over title + abstract, with an on-disk index cache.

bm25s builds the index (its BM25 weighting, precomputed per term and document). The index is saved as the
sparse term-by-document score matrix, and queries are answered from it with numpy alone: importing bm25s
(and scipy with it) costs more than half a second, which a cached `synth draft` cannot afford.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.corpus import Corpus
from synth.errors import RetrievalError
from synth.files import write_folder
from synth.models import Hit
from synth.retrieve.checksums import record, verify
from synth.text import terms

log = logging.getLogger(__name__)

INDEX_FORMAT = 3
"""Bumped whenever tokenisation or the file layout changes, so old caches are rebuilt."""


def top_k(scores: np.ndarray, k: int, positive: bool = False) -> np.ndarray:
    """Indices of the k highest scores, best first, ties by index: deterministic, without a full sort.

    Only the candidates at or above the k-th best score are sorted, so a million scores cost a partition.
    """
    candidates = np.flatnonzero(scores > 0) if positive else np.arange(len(scores))
    if len(candidates) > k:
        kth = np.partition(scores[candidates], -k)[-k]
        candidates = candidates[scores[candidates] >= kth]
    return candidates[np.lexsort((candidates, -scores[candidates]))][:k]


@dataclass
class BM25Index:
    """BM25 scores of every (term, document) pair, stored column-wise per term (CSC)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    vocab: dict[str, int]
    num_docs: int

    @classmethod
    def build(cls, corpus: Corpus) -> BM25Index:
        """Tokenise title + abstract of every paper and index them with bm25s."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG on import
        model = bm25s.BM25()
        model.index([terms(p.text) for p in corpus.papers], show_progress=False)
        s = model.scores
        return cls(s["data"], s["indices"], s["indptr"], dict(model.vocab_dict), int(s["num_docs"]))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every document for the query terms (repeated terms count again, as in bm25s)."""
        weights: dict[str, float] = {}
        for term in query_terms:
            weights[term] = weights.get(term, 0.0) + 1.0
        return self.weighted_scores(weights)

    def weighted_scores(self, weights: dict[str, float]) -> np.ndarray:
        """Sum over terms of weight x BM25 score of the term in each document."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        for term, weight in weights.items():
            t = self.vocab.get(term)
            if t is None or t + 1 >= len(self.indptr):  # unknown, or bm25s's column-less empty token
                continue
            lo, hi = self.indptr[t], self.indptr[t + 1]
            out[self.indices[lo:hi]] += weight * self.data[lo:hi]
        return out

    def save(self, folder: Path, meta: dict[str, object]) -> None:
        """Write the index atomically: a killed write leaves any previous index in place."""

        def fill(tmp: Path) -> None:
            for name in ("data", "indices", "indptr"):
                np.save(tmp / f"{name}.npy", getattr(self, name))
            (tmp / "vocab.json").write_text(json.dumps(self.vocab), encoding="utf-8")
            sums = record(tmp, [*(f"{n}.npy" for n in ("data", "indices", "indptr")), "vocab.json"])
            # meta.json last: its presence marks a complete index.
            (tmp / "meta.json").write_text(
                json.dumps({**meta, "num_docs": self.num_docs, "sha256": sums}), encoding="utf-8"
            )

        write_folder(folder, fill)

    @classmethod
    def load(cls, folder: Path, meta: dict[str, object]) -> BM25Index | None:
        """Read a saved index; None when it is missing, stale or unreadable."""
        meta_file = folder / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            saved = json.loads(meta_file.read_text(encoding="utf-8"))
            if not isinstance(saved, dict) or any(saved.get(k) != v for k, v in meta.items()):
                log.info("index at %s is stale; rebuilding", folder)
                return None
            if problem := verify(folder, saved.get("sha256")):
                log.warning("index at %s failed verification (%s); rebuilding", folder, problem)
                return None
            arrays = {n: np.load(folder / f"{n}.npy", allow_pickle=False) for n in ("data", "indices", "indptr")}
            vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            index = cls(**arrays, vocab=vocab, num_docs=int(saved["num_docs"]))
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
            log.warning("index at %s is unreadable (%s); rebuilding", folder, e)
            return None
        if problem := index.problem():
            log.warning("index at %s is inconsistent (%s); rebuilding", folder, problem)
            return None
        return index

    def problem(self) -> str | None:
        """What is structurally wrong with the arrays, if anything (a checksum cannot catch a bad build)."""
        if self.indptr.ndim != 1 or self.indices.ndim != 1 or self.data.ndim != 1 or len(self.indptr) == 0:
            return "arrays of the wrong shape"
        if self.indptr[-1] != len(self.data) or len(self.indices) != len(self.data):
            return "postings and offsets disagree"
        if len(self.indptr) > 1 and (np.diff(self.indptr) < 0).any():
            return "offsets go backwards"
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= self.num_docs):
            return "a posting names a document that does not exist"
        if not np.isfinite(self.data).all():
            return "scores that are not numbers"
        if any(not isinstance(t, int) or t < 0 or t + 1 > len(self.indptr) for t in self.vocab.values()):
            return "a term points outside the postings"
        return None


class BM25Retriever:
    """BM25 (bm25s weighting, Snowball English stems, stopwords removed) over title + abstract.

    With `prf`, RM3-style pseudo-relevance feedback: the `prf_terms` strongest terms of the `prf_docs` best
    first-pass documents (term frequency in each, weighted by that document's share of the top scores) are
    mixed into the query with weight `prf_weight`, and the corpus is scored again.
    """

    def __init__(
        self,
        corpus: Corpus,
        cache_dir: Path | None = None,
        *,
        index: BM25Index | None = None,
        prf: bool = False,
        prf_docs: int = 10,
        prf_terms: int = 20,
        prf_weight: float = 0.5,
    ) -> None:
        self.corpus = corpus
        if index is None:
            from synth.retrieve.index import CorpusIndex

            index = CorpusIndex(corpus, cache_dir).bm25
        self.index = index
        self.prf, self.prf_docs, self.prf_terms, self.prf_weight = prf, prf_docs, prf_terms, prf_weight

    def search(self, query: str, k: int) -> list[Hit]:
        """Rank papers by BM25; ties break by corpus order so results are deterministic."""
        if k < 1:
            raise RetrievalError(f"k must be at least 1, got {k}")
        query_terms = terms(query)
        scores = self.index.scores(query_terms)
        if self.prf and query_terms:
            scores = self.index.weighted_scores(self.expand(query_terms, scores))
        order = top_k(scores, k, positive=True)
        return [
            Hit(paper=self.corpus.papers[i], score=float(scores[i]), rank=r) for r, i in enumerate(order.tolist(), 1)
        ]

    def expand(self, query_terms: list[str], first_pass: np.ndarray) -> dict[str, float]:
        """RM3: P(t|q') = (1 - w) P(t|q) + w P(t|R), R the top documents of the first pass."""
        top = np.argsort(-first_pass, kind="stable")[: self.prf_docs]
        top = top[first_pass[top] > 0]
        total = float(first_pass[top].sum())
        relevance: dict[str, float] = {}
        for i in top.tolist():
            doc = terms(self.corpus.papers[i].text)
            share = float(first_pass[i]) / total
            for term, count in Counter(doc).items():
                relevance[term] = relevance.get(term, 0.0) + share * count / len(doc)
        best = sorted(relevance, key=lambda t: (-relevance[t], t))[: self.prf_terms]
        norm = sum(relevance[t] for t in best) or 1.0
        original = Counter(query_terms)
        weights = {t: (1 - self.prf_weight) * c / len(query_terms) for t, c in original.items()}
        for t in best:
            weights[t] = weights.get(t, 0.0) + self.prf_weight * relevance[t] / norm
        return weights
