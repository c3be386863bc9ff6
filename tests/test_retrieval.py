import json
from pathlib import Path

import numpy as np
import pytest

from synth.corpus import load_corpus
from synth.retrieve.bm25 import BM25Index, BM25Retriever
from synth.text import terms


@pytest.fixture
def corpus(fixtures: Path):
    return load_corpus(fixtures / "papers.jsonl")


def test_ranking_on_fixture(corpus) -> None:
    hits = BM25Retriever(corpus).search("programming by example search", 3)
    assert next(h.paper.id for h in hits) == "synth2"
    assert {h.paper.id for h in hits} <= {"synth1", "synth2", "synth3"}
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score > 0


def test_stemming_matches_word_forms(corpus) -> None:
    hits = BM25Retriever(corpus).search("retrieving passages", 2)
    assert hits[0].paper.id == "ret1"


def test_k_and_no_match(corpus) -> None:
    retriever = BM25Retriever(corpus)
    assert len(retriever.search("models", 2)) == 2
    assert retriever.search("zzyzx quux", 5) == []


def test_scores_equal_bm25s(corpus) -> None:
    import bm25s

    model = bm25s.BM25()
    model.index([terms(p.text) for p in corpus.papers], show_progress=False)
    query = terms("dense retrieval of passages for question answering question")
    assert np.allclose(model.get_scores(query), BM25Index.build(corpus).scores(query))


def test_index_is_cached_and_reused(corpus, tmp_path: Path, monkeypatch) -> None:
    first = BM25Retriever(corpus, cache_dir=tmp_path).search("question answering", 3)
    saved = list(tmp_path.glob("bm25-*/meta.json"))
    assert len(saved) == 1

    def no_build(_corpus):
        raise AssertionError("the cached index should have been used")

    monkeypatch.setattr(BM25Index, "build", no_build)
    assert BM25Retriever(corpus, cache_dir=tmp_path).search("question answering", 3) == first


def test_stale_or_corrupt_index_is_rebuilt(corpus, tmp_path: Path, caplog) -> None:
    BM25Retriever(corpus, cache_dir=tmp_path)
    folder = next(tmp_path.glob("bm25-*"))
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format": -1}))
    assert BM25Retriever(corpus, cache_dir=tmp_path).search("question answering", 1)
    assert json.loads((folder / "meta.json").read_text())["format"] == meta["format"]

    (folder / "data.npy").write_bytes(b"garbage")
    hits = BM25Retriever(corpus, cache_dir=tmp_path).search("question answering", 1)
    assert hits and "failed verification" in caplog.text


def test_unwritable_cache_does_not_stop_retrieval(corpus, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert BM25Retriever(corpus, cache_dir=blocker / "indexes").search("question answering", 1)


def test_ties_break_by_corpus_order(tmp_path: Path) -> None:
    path = tmp_path / "twins.jsonl"
    rows = [{"id": f"t{i}", "title": f"Twin {i}", "abstract": "identical words about graphs"} for i in range(4)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    hits = BM25Retriever(load_corpus(path)).search("graphs", 4)
    assert [h.paper.id for h in hits] == ["t0", "t1", "t2", "t3"]


def test_top_k_is_the_full_sort_prefix_with_ties_by_index() -> None:
    from synth.retrieve.bm25 import top_k

    rng = np.random.default_rng(1)
    scores = rng.integers(0, 5, size=500).astype(np.float32)  # many ties
    full = np.lexsort((np.arange(500), -scores))
    for k in (1, 7, 50, 499, 500, 600):
        assert top_k(scores, k).tolist() == full[:k].tolist()
    positive = top_k(scores, 600, positive=True)
    assert len(positive) == int((scores > 0).sum()) and all(scores[positive] > 0)
