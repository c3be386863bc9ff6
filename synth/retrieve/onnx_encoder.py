"""A query encoder without torch: an exported transformer run by ONNX Runtime, tokenised by `tokenizers`.

A cached hybrid draft encodes one query. Loading torch and sentence-transformers for it cost 5-6 s of CPU
and 500 MiB; onnxruntime, a tokenizer and an int8 graph add 0.08-0.12 s and 55-85 MiB to a BM25 draft
(eval/README.md, "Dense retrieval without the start-up tax"). The folder is written by `MiniLM.export_onnx`:

    model.onnx      inputs input_ids / attention_mask (int64, batch x tokens), output token embeddings
    model.data      its weights, kept beside the graph so that onnxruntime maps the file rather than copying
    tokenizer.json  the model's own tokenizer (Hugging Face `tokenizers` format)
    meta.json       format, encoder (the vector space: documents must be embedded by the same model),
                    max_length, the onnxruntime version that optimised the graph, the files that must exist
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import RetrievalError

log = logging.getLogger(__name__)

QUERY_MODEL_FORMAT = 1
"""Bumped when the folder layout or the graph's contract changes, so old exports are redone."""


def read_meta(folder: Path, encoder: str) -> dict[str, Any] | None:
    """The folder's meta.json when it holds a complete query model of this format for `encoder`, else None."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != QUERY_MODEL_FORMAT or meta.get("encoder") != encoder:
        return None
    if not all((folder / name).is_file() for name in meta.get("files", ["model.onnx", "tokenizer.json"])):
        return None
    return dict(meta)


def runtime_available() -> bool:
    """Whether onnxruntime and tokenizers can be imported (checked without importing them)."""
    from importlib.util import find_spec

    return find_spec("onnxruntime") is not None and find_spec("tokenizers") is not None


class OnnxEncoder:
    """Mean-pooled, L2-normalised token embeddings of an exported model; loads on first use."""

    def __init__(self, folder: Path, encoder: str, batch_size: int = 32) -> None:
        meta = read_meta(folder, encoder)
        if meta is None:
            raise RetrievalError(
                f"{folder} holds no query model for {encoder}; rebuild it with synth index build --dense"
            )
        self.folder, self.meta, self.name, self.batch_size = folder, meta, encoder, batch_size

    @cached_property
    def tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(int(self.meta.get("max_length", 256)))
        tokenizer.enable_padding()  # to the longest text of a batch, whatever the file says
        return tokenizer

    @cached_property
    def session(self) -> Any:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise RetrievalError("fast dense queries need onnxruntime: pip install 'synth[dense]'") from e
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: onnxruntime's warnings are not the user's business
        # One thread: a query is a few hundred tokens, and more threads cost more CPU than they save time.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        if self.meta.get("onnxruntime") == ort.__version__:
            # Optimised by this version when exported: doing it again at every start-up is wasted CPU.
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        return ort.InferenceSession(str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalised float32 row per text."""
        rows = [self._batch(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        wanted = {i.name for i in self.session.get_inputs()}
        tokens = self.session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)
