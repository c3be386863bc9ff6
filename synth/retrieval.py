"""Retrievers: the `Retriever` protocol and BM25 over title + abstract, with an on-disk index cache.

bm25s builds the index (its BM25 weighting, precomputed per term and document). The index is saved as the
sparse term-by-document score matrix, and queries are answered from it with numpy alone: importing bm25s
(and scipy with it) costs more than half a second, which a cached `synth draft` cannot afford.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from synth._version import __version__
from synth.corpus import Corpus
from synth.errors import RetrievalError
from synth.models import Hit
from synth.text import terms

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
"""Bumped whenever tokenisation or the file layout changes, so old caches are rebuilt."""


class Retriever(Protocol):
    """Anything that ranks the papers of a corpus for a query."""

    def search(self, query: str, k: int) -> list[Hit]:
        """The k best hits for the query, best first; fewer when fewer papers match."""
        ...


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
        out = np.zeros(self.num_docs, dtype=np.float32)
        for term in query_terms:
            t = self.vocab.get(term)
            if t is None or t + 1 >= len(self.indptr):  # unknown, or bm25s's column-less empty token
                continue
            lo, hi = self.indptr[t], self.indptr[t + 1]
            out[self.indices[lo:hi]] += self.data[lo:hi]
        return out

    def save(self, folder: Path, meta: dict[str, object]) -> None:
        """Write the index atomically: a killed write leaves any previous index in place."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=folder.parent))
        try:
            for name in ("data", "indices", "indptr"):
                np.save(tmp / f"{name}.npy", getattr(self, name))
            (tmp / "vocab.json").write_text(json.dumps(self.vocab), encoding="utf-8")
            # meta.json last: its presence marks a complete index.
            (tmp / "meta.json").write_text(json.dumps({**meta, "num_docs": self.num_docs}), encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, meta: dict[str, object]) -> BM25Index | None:
        """Read a saved index; None when it is missing, stale or unreadable."""
        meta_file = folder / "meta.json"
        if not meta_file.is_file():
            return None
        try:
            saved = json.loads(meta_file.read_text(encoding="utf-8"))
            if any(saved.get(k) != v for k, v in meta.items()):
                log.info("index at %s is stale; rebuilding", folder)
                return None
            arrays = {n: np.load(folder / f"{n}.npy", allow_pickle=False) for n in ("data", "indices", "indptr")}
            vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            index = cls(**arrays, vocab=vocab, num_docs=int(saved["num_docs"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("index at %s is unreadable (%s); rebuilding", folder, e)
            return None
        if index.indptr[-1] != len(index.data) or len(index.indices) != len(index.data):
            log.warning("index at %s is inconsistent; rebuilding", folder)
            return None
        return index


class BM25Retriever:
    """BM25 (bm25s weighting, Snowball English stems, stopwords removed) over title + abstract."""

    def __init__(self, corpus: Corpus, cache_dir: Path | None = None) -> None:
        self.corpus = corpus
        self.index = self._open(corpus, cache_dir)

    @staticmethod
    def _open(corpus: Corpus, cache_dir: Path | None) -> BM25Index:
        if cache_dir is None:
            return BM25Index.build(corpus)
        meta = {"format": INDEX_FORMAT, "fingerprint": corpus.fingerprint, "synth": __version__}
        folder = cache_dir / f"bm25-{corpus.fingerprint[:24]}"
        index = BM25Index.load(folder, meta)
        if index is not None:
            log.debug("loaded BM25 index from %s", folder)
            return index
        index = BM25Index.build(corpus)
        try:
            index.save(folder, meta)
        except OSError as e:  # a read-only cache must not stop a draft
            log.warning("could not cache the index in %s (%s); continuing without cache", folder, e)
        return index

    def search(self, query: str, k: int) -> list[Hit]:
        """Rank papers by BM25; ties break by corpus order so results are deterministic."""
        if k < 1:
            raise RetrievalError(f"k must be at least 1, got {k}")
        scores = self.index.scores(terms(query))
        matched = np.flatnonzero(scores > 0)
        # Sort by score descending, then by position: stable and reproducible.
        order = matched[np.lexsort((matched, -scores[matched]))][:k]
        return [
            Hit(paper=self.corpus.papers[i], score=float(scores[i]), rank=r) for r, i in enumerate(order.tolist(), 1)
        ]
