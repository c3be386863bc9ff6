import re
from pathlib import Path

import pytest

from synth.corpus import load_corpus
from synth.draft.attribution import ANONYMOUS, attribute, author_name
from synth.draft.extractive import ExtractiveDrafter
from synth.models import Paper
from synth.retrieve.bm25 import BM25Retriever
from synth.text import stem_words, words

# Words the drafter may add: attribution subjects and pronoun swaps, never content.
ATTRIBUTION = set(words(" ".join(ANONYMOUS))) | {
    "as", "note", "notes", "the", "authors", "of", "paper", "by", "in", "one", "they", "their", "them", "theirs", "and", "et", "al",
}  # fmt: skip


def _added_words(sentence: str, paper: Paper) -> set[str]:
    """Stems in the sentence that neither the paper nor the attribution vocabulary supplies.

    Stems, not words: a verb put in agreement with a one-author subject ("we find" -> "Knuth finds") is
    the same claim.
    """
    source = " ".join([paper.abstract, paper.title, *paper.authors])
    allowed = set(stem_words(words(source))) | set(stem_words(sorted(ATTRIBUTION)))
    return set(stem_words(words(sentence))) - allowed


QUERIES = ["program synthesis from examples", "retrieval augmented generation", "citation precision of answers"]


@pytest.mark.parametrize("query", QUERIES)
def test_every_sentence_cites_one_retrieved_paper_and_only_uses_its_words(fixtures: Path, query: str) -> None:
    corpus = load_corpus(fixtures / "papers.jsonl")
    hits = BM25Retriever(corpus).search(query, 8)
    section = ExtractiveDrafter().draft(query, hits)
    retrieved = {h.paper.id: h.paper for h in hits}
    assert section.sentences
    for sentence in section.sentences:
        assert len(sentence.citations) == 1 and sentence.citations[0] in retrieved
        assert _added_words(sentence.text, retrieved[sentence.citations[0]]) == set(), sentence.text


def test_faithful_on_the_sample_corpus() -> None:
    corpus = load_corpus()
    retriever = BM25Retriever(corpus)
    for query in ["program synthesis from input-output examples", "language model agents for web browsing"]:
        hits = retriever.search(query, 15)
        section = ExtractiveDrafter().draft(query, hits)
        cited = {c for s in section.sentences for c in s.citations}
        assert cited == {h.paper.id for h in hits}  # every retrieved paper is used
        for sentence in section.sentences:
            assert _added_words(sentence.text, corpus.by_id[sentence.citations[0]]) == set(), sentence.text


def test_themes_are_between_two_and_five_and_ordered_by_relevance() -> None:
    corpus = load_corpus()
    hits = BM25Retriever(corpus).search("large language models for code generation", 20)
    section = ExtractiveDrafter().draft("large language models for code generation", hits)
    assert 2 <= len(section.paragraphs) <= 5
    rank = {h.paper.id: h.rank for h in hits}
    best = [min(rank[c] for s in p.sentences for c in s.citations) for p in section.paragraphs]
    assert best == sorted(best) and best[0] == 1
    assert all(p.theme for p in section.paragraphs)


def test_deterministic() -> None:
    corpus = load_corpus()
    hits = BM25Retriever(corpus).search("reinforcement learning from human feedback", 12)
    a = ExtractiveDrafter().draft("rlhf", hits)
    b = ExtractiveDrafter().draft("rlhf", list(hits))
    assert a.model_dump() == b.model_dump()


def test_few_hits_make_one_paragraph_and_no_hits_none(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "papers.jsonl")
    hits = BM25Retriever(corpus).search("citation", 2)
    assert len(ExtractiveDrafter().draft("citation", hits).paragraphs) == 1
    assert ExtractiveDrafter().draft("x", []).paragraphs == []


def _paper(**kw) -> Paper:
    return Paper(**{"id": "p", "title": "T", "abstract": "We study things.", **kw})


@pytest.mark.parametrize(
    ("sentence", "paper", "expected"),
    [
        (
            "We propose a model.",
            _paper(authors=["Ada Lovelace", "Alan Turing", "G H"]),
            "Lovelace et al. propose a model.",
        ),
        ("In this paper, we show our gains.", _paper(authors=["A Smith", "B Lee"]), "Smith and Lee show their gains."),
        ("This paper presents X.", _paper(authors=["A Smith"]), "The paper by Smith presents X."),
        ("In this work, results hold.", _paper(authors=["A Smith"]), "In the paper by Smith, results hold."),
        (
            "Motivated by this, we build Y.",
            _paper(title="Ybuild: A Tool"),
            "Motivated by this, the authors of Ybuild build Y.",
        ),
        ("However, models fail.", _paper(), "As other authors note, models fail."),
        ("Transformers scale well", _paper(), "As other authors note, transformers scale well."),
        ("BERT is strong.", _paper(), "As other authors note, BERT is strong."),
        ("We also study X.", _paper(authors=["Donald Knuth"]), "Knuth also studies X."),
        ("We have shown Y.", _paper(authors=["Donald Knuth"]), "Knuth has shown Y."),
        ("We can fix Z.", _paper(authors=["Donald Knuth"]), "Knuth can fix Z."),
        ("Thus, we push the limit.", _paper(authors=["Donald Knuth"]), "Knuth pushes the limit."),
        ("Models fail.", _paper(authors=["Donald Knuth"]), "As Knuth notes, models fail."),
    ],
)
def test_attribution(sentence: str, paper: Paper, expected: str) -> None:
    assert attribute(sentence, paper) == expected


def test_later_sentences_use_they() -> None:
    assert attribute("We also release code.", _paper(authors=["A Smith"]), first=False) == "They also release code."
    assert attribute("Results improve.", _paper(), first=False) == "Results improve."


def test_author_name() -> None:
    assert author_name(_paper()) is None
    assert author_name(_paper(authors=["Jane van Doe"])) == "Doe"


def test_no_invented_citation_markers_in_text() -> None:
    corpus = load_corpus()
    hits = BM25Retriever(corpus).search("retrieval", 10)
    for s in ExtractiveDrafter().draft("retrieval", hits).sentences:
        assert not re.search(r"\[\d+\]", s.text)
