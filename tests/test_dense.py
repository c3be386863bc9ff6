"""Dense retrieval without the start-up tax: the torch-free query encoder, `auto`'s choice, progress, quiet.

A tiny committed model (tests/fixtures/tiny-encoder, see make_tiny_encoder.py) stands in for the exported
MiniLM, so the real onnxruntime + tokenizers path runs here without torch or the dense extra.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import synth.retrieve.dense as dense_module
from synth import Synthesizer
from synth.corpus import load_corpus
from synth.errors import RetrievalError
from synth.retrieve.bm25 import BM25Retriever
from synth.retrieve.dense import DenseRetriever, MiniLM, dense_ready, query_model_folder, quiet_third_party
from synth.retrieve.fusion import HybridRetriever
from synth.retrieve.onnx_encoder import OnnxEncoder, read_meta

TINY = Path(__file__).parent / "fixtures" / "tiny-encoder"


def _tiny(folder: Path, encoder: str = "tiny-bag-of-words") -> OnnxEncoder:
    """A copy of the tiny model, labelled as `encoder`'s vector space."""
    shutil.copytree(TINY, folder)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "encoder": encoder}))
    return OnnxEncoder(folder, encoder)


def _cache_as_minilm(fixtures: Path, home: Path) -> Path:
    """A SYNTH_HOME where the fixture corpus looks embedded by MiniLM, with its query model exported.

    The tiny model plays MiniLM on both sides (a consistent vector space); nothing loads torch.
    """
    cache = home / "indexes"
    encoder = _tiny(query_model_folder(cache), MiniLM.name)
    DenseRetriever(load_corpus(fixtures / "papers.jsonl"), encoder=encoder, cache_dir=cache)
    return cache


def test_onnx_encoder_pools_and_normalises_whatever_the_batch(tmp_path: Path) -> None:
    encoder = _tiny(tmp_path / "tiny")
    texts = ["Program synthesis from input-output examples", "dense retrieval", "unknownword"]
    together = encoder.encode(texts)
    alone = np.concatenate([encoder.encode([t]) for t in texts])
    assert together.shape == (3, 16) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-6)
    assert np.allclose(together, alone, atol=1e-6)  # padding in a batch changes nothing
    same_words = encoder.encode(["examples input-output from synthesis Program"])[0]
    assert float(same_words @ together[0]) == pytest.approx(1.0, abs=1e-6)  # mean of the same word vectors
    assert float(together[0] @ together[1]) < 0.9


def test_query_model_folder_must_match_format_and_encoder(tmp_path: Path) -> None:
    folder = tmp_path / "q"
    _tiny(folder)
    assert read_meta(folder, "tiny-bag-of-words") is not None
    assert read_meta(folder, MiniLM.name) is None  # another model's vector space
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format": 0}))
    assert read_meta(folder, "tiny-bag-of-words") is None  # an older export is redone, not trusted
    (folder / "meta.json").write_text(json.dumps({**meta, "files": ["model.onnx", "model.data"]}))
    assert read_meta(folder, "tiny-bag-of-words") is None  # a file it needs is missing
    with pytest.raises(RetrievalError, match="no query model"):
        OnnxEncoder(folder, "tiny-bag-of-words")


def test_auto_is_hybrid_only_once_the_corpus_is_embedded(fixtures: Path, tmp_path: Path) -> None:
    corpus = str(fixtures / "papers.jsonl")
    home = tmp_path / "home"
    before = Synthesizer(corpus=corpus, home=str(home))
    assert isinstance(before.retriever, BM25Retriever)  # nothing cached: no implicit embedding of a corpus
    assert not (home / "indexes" / f"embeddings-{MiniLM.name}").exists()

    cache = _cache_as_minilm(fixtures, home)
    synth = Synthesizer(corpus=corpus, home=str(home))
    hybrid = synth.retriever
    assert isinstance(hybrid, HybridRetriever)
    dense = hybrid.retrievers[1]
    assert isinstance(dense, DenseRetriever) and isinstance(dense.query_encoder, OnnxEncoder)
    ret1 = next(p for p in synth.corpus.papers if p.id == "ret1")
    assert dense.search(ret1.text, 1)[0].paper.id == "ret1"  # the query encoder and the stored vectors agree
    assert "ret1" in [
        h.paper.id for h in synth.search("dense passage retrieval for open-domain question answering", k=2)
    ]
    assert "model" not in vars(dense.encoder)  # MiniLM (torch) was never loaded
    assert dense_ready(load_corpus(corpus), cache)

    bigger = tmp_path / "bigger.jsonl"
    extra = {"id": "new1", "title": "A new paper", "abstract": "About graph neural networks."}
    bigger.write_text((fixtures / "papers.jsonl").read_text() + json.dumps(extra) + "\n")
    assert not dense_ready(load_corpus(bigger), cache)  # one paper not embedded: auto stays BM25
    assert isinstance(Synthesizer(corpus=str(bigger), home=str(home)).retriever, BM25Retriever)


def test_auto_is_bm25_without_the_query_runtime(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache_as_minilm(fixtures, tmp_path / "home")
    corpus = load_corpus(fixtures / "papers.jsonl")
    assert dense_ready(corpus, cache)
    monkeypatch.setattr(dense_module, "runtime_available", lambda: False)
    assert not dense_ready(corpus, cache)
    shutil.rmtree(query_model_folder(cache))
    monkeypatch.setattr(dense_module, "runtime_available", lambda: True)
    monkeypatch.setattr(dense_module, "dense_available", lambda: False)
    assert not dense_ready(corpus, cache)  # no query model, and nothing installed that could export one


@pytest.mark.slow
def test_cached_hybrid_draft_does_not_import_torch(fixtures: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cache_as_minilm(fixtures, home)
    poison = tmp_path / "poison"
    for name in ("torch", "transformers", "sentence_transformers"):
        (poison / name).mkdir(parents=True)
        (poison / name / "__init__.py").write_text(f"raise RuntimeError('{name} imported by a cached draft')\n")
    env = {**os.environ, "SYNTH_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(poison), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-m", "synth", "-v", "draft", "dense passage retrieval", "-c", str(fixtures / "papers.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "retriever: hybrid (auto)" in result.stderr
    assert "imported by a cached draft" not in result.stderr
    assert "### References" in result.stdout


class Bag:
    """A toy encoder: a normalised bag of letters."""

    name = "bag"

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    rows[i, ord(ch) - 97] += 1
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def test_papers_and_queries_must_share_a_vector_space(fixtures: Path, tmp_path: Path) -> None:
    corpus = load_corpus(fixtures / "papers.jsonl")
    vectors = tmp_path / "e.npy"
    np.save(vectors, np.ones((len(corpus), 384)))  # e.g. computed elsewhere with another model
    dense = DenseRetriever(corpus, encoder=Bag(), embeddings=vectors)
    with pytest.raises(RetrievalError, match="have 384 dimensions but bag gives 26"):
        dense.search("program synthesis", 3)


def test_embedding_reports_progress_and_says_so_once(
    fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(dense_module, "CHUNK", 3)
    corpus = load_corpus(fixtures / "papers.jsonl")
    calls: list[tuple[int, int]] = []
    with caplog.at_level(logging.WARNING, logger="synth"):
        DenseRetriever(
            corpus, encoder=Bag(), cache_dir=tmp_path, progress=lambda done, total: calls.append((done, total))
        )
    assert calls == [(3, 8), (6, 8), (8, 8)]
    notices = [r.getMessage() for r in caplog.records if "embedding" in r.getMessage()]
    assert notices == ["embedding 8 of 8 papers with bag for dense retrieval; done once, then cached"]
    caplog.clear()
    calls.clear()
    DenseRetriever(corpus, encoder=Bag(), cache_dir=tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [] and not caplog.records  # cached: no work, nothing to say


def test_the_implicit_embedding_notice_gives_the_time_it_will_take(caplog: pytest.LogCaptureFixture) -> None:
    class Slow(Bag):
        name = "slow"

        @staticmethod
        def estimate_seconds(n: int) -> float:
            return 30.0 * n

    corpus = load_corpus("sample")
    with caplog.at_level(logging.WARNING, logger="synth"):
        DenseRetriever(corpus, encoder=Slow())
    assert f"embedding {len(corpus)} of {len(corpus)} papers with slow" in caplog.text
    assert f"about {30 * len(corpus) / 60:.0f} min on this CPU" in caplog.text
    assert MiniLM.estimate_seconds(1000) > MiniLM.estimate_seconds(10) > 0


QUIET_CHILD = """
import io, json, logging, sys
from synth.retrieve.dense import quiet_third_party
assert "tqdm" not in sys.modules and "huggingface_hub" not in sys.modules  # as at the CLI's -q
quiet_third_party()
from tqdm import tqdm
from huggingface_hub.utils import are_progress_bars_disabled
bar = io.StringIO()
list(tqdm(range(3), file=bar))
print(json.dumps([bar.getvalue(), are_progress_bars_disabled(), logging.getLogger("sentence_transformers").level]))
"""


@pytest.mark.slow
def test_quiet_third_party_silences_bars_of_libraries_loaded_later() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TQDM_", "HF_HUB_", "TRANSFORMERS_"))}
    result = subprocess.run([sys.executable, "-c", QUIET_CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["", True, logging.ERROR]
    loud = subprocess.run(
        [sys.executable, "-c", QUIET_CHILD.replace("quiet_third_party()", "pass")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    bar, disabled, level = json.loads(loud.stdout)  # the same child, not quieted
    assert "3/3" in bar and not disabled and level == logging.NOTSET


def test_quiet_third_party_tells_libraries_already_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.utils import are_progress_bars_disabled, enable_progress_bars

    for name in (
        "TQDM_DISABLE",
        "HF_HUB_DISABLE_PROGRESS_BARS",
        "TRANSFORMERS_VERBOSITY",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS",
    ):
        monkeypatch.setenv(name, "")  # restored after the test
    for name in ("transformers", "sentence_transformers", "huggingface_hub", "torch", "onnxruntime", "onnxscript"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    transformers = sys.modules.get("transformers")
    verbosity = transformers.utils.logging.get_verbosity() if transformers else None
    try:
        quiet_third_party()
        assert are_progress_bars_disabled()
        assert logging.getLogger("onnxruntime").getEffectiveLevel() == logging.ERROR
        if transformers:  # imported by an earlier test where the dense extra is installed
            assert transformers.utils.logging.get_verbosity() == logging.ERROR
    finally:
        enable_progress_bars()
        if transformers:
            transformers.utils.logging.set_verbosity(verbosity)
            transformers.utils.logging.enable_progress_bar()
        import onnxruntime

        onnxruntime.set_default_logger_severity(2)
