"""Hybrid retrieval, query expansion, date filters, dense retrieval with an injected encoder, search CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from synth import Synthesizer
from synth.cli import app
from synth.corpus import load_corpus
from synth.errors import RetrievalError
from synth.models import Hit, Paper
from synth.retrieve.bm25 import BM25Retriever
from synth.retrieve.dense import DenseRetriever, dense_available
from synth.retrieve.filters import within_dates
from synth.retrieve.fusion import HybridRetriever, reciprocal_rank_fusion, weighted_fusion


def test_rrf_arithmetic() -> None:
    weighted = reciprocal_rank_fusion([["a"], ["b"]], k=60, weights=[2.0, 1.0])
    assert weighted == pytest.approx({"a": 2 / 61, "b": 1 / 61})
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63) and fused["d"] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == "b"


def test_weighted_fusion_normalises_each_list() -> None:
    fused = weighted_fusion([{"a": 10.0, "b": 5.0, "c": 0.0}, {"b": 0.9, "c": 0.1}], [1.0, 2.0])
    assert fused == pytest.approx({"a": 1.0, "b": 0.5 + 2.0, "c": 0.0})


class Fixed:
    """A retriever that returns a fixed ranking."""

    def __init__(self, papers: list[Paper]) -> None:
        self.papers = papers

    def search(self, query: str, k: int) -> list[Hit]:
        return [Hit(paper=p, score=1.0 / r, rank=r) for r, p in enumerate(self.papers[:k], 1)]


def _p(pid: str, **kw) -> Paper:
    return Paper(id=pid, title=f"T {pid}", abstract="x", **kw)


def test_hybrid_fuses_rankings() -> None:
    a, b, c = _p("a"), _p("b"), _p("c")
    hybrid = HybridRetriever([Fixed([a, b, c]), Fixed([b, c, a])])
    hits = hybrid.search("q", 2)
    assert [h.paper.id for h in hits] == ["b", "a"] and [h.rank for h in hits] == [1, 2]
    weighted = HybridRetriever([Fixed([a, b, c]), Fixed([b, c, a])], method="weighted").search("q", 3)
    assert weighted[0].paper.id == "b"


def test_prf_finds_a_paper_plain_bm25_misses(tmp_path: Path) -> None:
    rows = [
        {
            "id": "hit1",
            "title": "Neural program synthesis",
            "abstract": "Program synthesis with neural search over a DSL.",
        },
        {
            "id": "hit2",
            "title": "Program synthesis by search",
            "abstract": "Synthesis of programs guided by a DSL grammar.",
        },
        {"id": "target", "title": "Grammar-guided DSL enumeration", "abstract": "Enumerating a DSL grammar bottom up."},
        {"id": "noise", "title": "Image classification", "abstract": "Convolutional networks classify images."},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    corpus = load_corpus(path)
    plain = [h.paper.id for h in BM25Retriever(corpus).search("program synthesis", 5)]
    expanded = [
        h.paper.id for h in BM25Retriever(corpus, prf=True, prf_docs=2, prf_terms=5).search("program synthesis", 5)
    ]
    assert "target" not in plain and "target" in expanded and "noise" not in expanded


def test_date_filter_keeps_undated_and_counts_them() -> None:
    hits = [
        Hit(paper=_p("old", year=2019), score=3, rank=1),
        Hit(paper=_p("new", date="2025-05-01", year=2025), score=2, rank=2),
        Hit(paper=_p("undated"), score=1, rank=3),
        Hit(paper=_p("early", date="2025-01-10", year=2025), score=0.5, rank=4),
    ]
    kept, undated = within_dates(hits, before="2025-04-01", after=None)
    assert [h.paper.id for h in kept] == ["old", "undated", "early"] and [h.rank for h in kept] == [1, 2, 3]
    assert undated == 1
    kept, _ = within_dates(hits, before=None, after="2020")
    assert [h.paper.id for h in kept] == ["new", "undated", "early"]


def test_synthesizer_date_filter_reports_undated(fixtures: Path) -> None:
    section = Synthesizer(corpus=str(fixtures / "papers.jsonl"), before="2020", k=5).draft(
        "retrieval question answering"
    )
    assert all((h.paper.year or 0) < 2020 for h in section.hits)
    assert all(h.paper.year is not None for h in section.hits)  # the fixture has a year for every paper
    hits = Synthesizer(corpus=str(fixtures / "papers.jsonl"), after="2021", k=8).search("models")
    assert {h.paper.id for h in hits} <= {"synth3", "cite1", "cite2"}


class Bag:
    """A toy encoder: a normalised bag of letters, enough to test the dense machinery without a model."""

    name = "bag"

    def __init__(self) -> None:
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        rows = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    rows[i, ord(ch) - 97] += 1
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def test_dense_embeddings_are_cached_and_updated_incrementally(fixtures: Path, tmp_path: Path) -> None:
    corpus = load_corpus(fixtures / "papers.jsonl")
    encoder = Bag()
    first = DenseRetriever(corpus, encoder=encoder, cache_dir=tmp_path)
    assert encoder.texts == 8 and (tmp_path / "embeddings-bag" / "vectors.npy").is_file()
    again = DenseRetriever(corpus, encoder=encoder, cache_dir=tmp_path)
    assert encoder.texts == 8 and np.array_equal(first.matrix, again.matrix)  # nothing embedded again
    bigger = tmp_path / "bigger.jsonl"
    extra = {"id": "new1", "title": "A new paper", "abstract": "About graph neural networks."}
    bigger.write_text((fixtures / "papers.jsonl").read_text() + json.dumps(extra) + "\n")
    grown = DenseRetriever(load_corpus(bigger), encoder=encoder, cache_dir=tmp_path)
    assert encoder.texts == 9 and grown.matrix.shape == (9, 26)  # only the added paper was embedded
    assert np.array_equal(grown.matrix[:8], first.matrix)
    hits = again.search("dense passage retrieval", 3)
    assert [h.rank for h in hits] == [1, 2, 3] and hits[0].score >= hits[1].score


def test_supplied_embeddings_are_checked(fixtures: Path, tmp_path: Path) -> None:
    corpus = load_corpus(fixtures / "papers.jsonl")
    good = tmp_path / "e.npy"
    np.save(good, np.ones((len(corpus), 4)))
    matrix = DenseRetriever(corpus, encoder=Bag(), embeddings=good).matrix
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0)
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((2, 4)))
    with pytest.raises(RetrievalError, match="expected 8 rows"):
        DenseRetriever(corpus, encoder=Bag(), embeddings=bad)


def test_search_cli(fixtures: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["search", "dense passage retrieval", "-c", str(fixtures / "papers.jsonl"), "-k", "2"])
    assert result.exit_code == 0 and result.stdout.splitlines()[0].split()[2] == "ret1"
    result = runner.invoke(app, ["search", "retrieval", "-c", str(fixtures / "papers.jsonl"), "--format", "json"])
    assert json.loads(result.stdout)[0]["rank"] == 1
    result = runner.invoke(app, ["search", "retrieval", "--retriever", "dense", "-c", str(fixtures / "papers.jsonl")])
    if dense_available():
        assert result.exit_code == 0 and len(result.stdout.splitlines()) == 8
    else:  # without the dense extra: one clear line
        assert result.exit_code == 1 and "pip install 'synth[dense]'" in result.stderr


def test_index_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    assert "indexed 388 papers" in runner.invoke(app, ["index", "build"]).stdout
    assert "bm25-" in runner.invoke(app, ["index", "info"]).stdout
    assert "cleared" in runner.invoke(app, ["index", "clear"]).stdout
    assert "no indexes" in runner.invoke(app, ["index", "info"]).stdout


def test_parse_queries() -> None:
    from synth.retrieve.expand import parse_queries

    assert parse_queries('{"queries": ["dense passage retrieval", "x", "dense passage retrieval"]}', 4) == [
        "dense passage retrieval"
    ]
    assert parse_queries("1. program synthesis search\n- neural program induction\n", 4) == [
        "program synthesis search",
        "neural program induction",
    ]
    assert parse_queries('{"queries": ["a b", "c d", "e f"]}', 2) == ["a b", "c d"]
    from synth.retrieve.expand import OUTPUT_EXAMPLE

    assert parse_queries(OUTPUT_EXAMPLE, 4) == []  # a copied contract example is not a query


def test_llm_queries_find_what_the_query_alone_misses(fixtures: Path) -> None:
    from synth.testing import FakeLLM

    corpus = str(fixtures / "papers.jsonl")
    plain = Synthesizer(corpus=corpus, k=3).search("program synthesis")
    assert "cite1" not in {h.paper.id for h in plain}
    llm = FakeLLM({"queries": ["citation verification benchmark", "entailment judges"]})
    synth = Synthesizer(corpus=corpus, k=3, llm=llm, llm_queries=2)
    hits = synth.search("program synthesis")
    assert "cite1" in {h.paper.id for h in hits}
    assert plain[0].paper.id in {h.paper.id for h in hits}  # the query's own best hit is kept
    prompt = llm.calls[0][0]["content"]
    assert "Write 2 short search queries" in prompt and "<query>\nprogram synthesis\n</query>" in prompt


def test_failed_expansion_falls_back_to_the_query(fixtures: Path) -> None:
    from synth.errors import LLMRejected, LLMServerError
    from synth.testing import FakeLLM

    down = FakeLLM(LLMServerError("the server failed"))
    synth = Synthesizer(corpus=str(fixtures / "papers.jsonl"), k=3, llm=down, llm_queries=2)
    alone = Synthesizer(corpus=str(fixtures / "papers.jsonl"), k=3).search("program synthesis")
    assert [h.paper.id for h in synth.search("program synthesis")] == [h.paper.id for h in alone]
    # A wrong key is no reason to go on without expansion: every later call would fail the same way.
    wrong_key = FakeLLM(LLMRejected("HTTP 401", fatal=True))
    with pytest.raises(LLMRejected, match="401"):
        Synthesizer(corpus=str(fixtures / "papers.jsonl"), k=3, llm=wrong_key, llm_queries=2).search(
            "program synthesis"
        )


def test_dates_are_compared_as_ranges_not_strings() -> None:
    hits = [
        Hit(paper=_p("year-only", year=2025), score=3, rank=1),  # may be after 2025-04-01
        Hit(paper=_p("march", date="2025-03"), score=2, rank=2),  # all of March is before April
        Hit(paper=_p("timestamp", date="2025-03-31T23:59:00Z"), score=1, rank=3),
        Hit(paper=_p("unreadable", date="sometime"), score=0.5, rank=4),  # no readable date: kept, counted
    ]
    kept, uncertain = within_dates(hits, before="2025-04-01", after=None)
    assert [h.paper.id for h in kept] == ["year-only", "march", "timestamp", "unreadable"]
    assert uncertain == 2  # "2025" may be before April or not; "sometime" has no date
    kept, uncertain = within_dates(hits, before="2025-03-31", after=None)  # March itself is not wholly before
    assert [h.paper.id for h in kept] == ["year-only", "march", "unreadable"] and uncertain == 3
    kept, _ = within_dates(hits, before="2026", after="2025-04")  # only the year-only paper can be that late
    assert [h.paper.id for h in kept] == ["year-only", "unreadable"]
    kept, uncertain = within_dates(hits, before="2026", after="2025")
    assert [h.paper.id for h in kept] == ["year-only", "march", "timestamp", "unreadable"] and uncertain == 1


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45", "2023-02-29", "2024/01/01"])
def test_invalid_dates_are_setting_errors(value: str) -> None:
    from synth.errors import SettingsError
    from synth.settings import Settings

    with pytest.raises(SettingsError, match=rf"invalid setting before: '{value}' is not a (valid )?date"):
        Settings.load(before=value)
