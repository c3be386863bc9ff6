"""Verified drafting: every citation is judged, and what fails is repaired before the user sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth import Synthesizer
from synth.check.repair import repair
from synth.corpus import load_corpus
from synth.llm.base import run_sync
from synth.models import Paper, Sentence, Verdict
from synth.testing import FakeLLM

QUERY = "retrieval for question answering and program synthesis"


def reply(*sentences: tuple[str, list[int]]) -> dict:
    return {"paragraphs": [{"sentences": [{"text": t, "cites": c} for t, c in sentences]}]}


@pytest.fixture
def corpus(fixtures: Path):
    return load_corpus(fixtures / "papers.jsonl")


def synthesizer(corpus, *replies, **settings) -> Synthesizer:
    return Synthesizer(corpus=corpus, llm=FakeLLM(*replies), pipeline="one-shot", k=8, **settings)


def test_an_unsupported_citation_and_an_unsupported_sentence_never_reach_the_output(corpus) -> None:
    hits = Synthesizer(corpus=corpus, k=8).search(QUERY)
    number = {h.paper.id: n for n, h in enumerate(hits, 1)}
    draft = reply(
        # A true claim about dense passage retrieval, cited to the enumerative-search paper: a wrong source.
        (
            "A dual encoder maps questions and passages into one vector space for open-domain retrieval.",
            [number["synth2"]],
        ),
        # A claim no paper makes, cited to a real one.
        ("Enumerative search was proven to solve the halting problem for every Turing machine.", [number["synth2"]]),
        (
            "Programs are found by enumerative search over a grammar, pruned by observational equivalence.",
            [number["synth2"]],
        ),
    )
    rewrite = {
        "text": "Enumerative search also settles every open problem in number theory.",
        "cites": [1],
    }  # still unsupported
    synth = synthesizer(corpus, draft, rewrite)
    section = synth.draft(QUERY)
    texts = [s.text for s in section.sentences]
    assert not any("halting problem" in t or "number theory" in t for t in texts)  # dropped after a failed rewrite
    dense = next(s for s in section.sentences if s.text.startswith("A dual encoder"))
    assert dense.citations == ["ret1"]  # moved to the paper that supports it
    kinds = [c.kind for c in section.changes]
    assert "citation replaced" in kinds and "sentence dropped" in kinds
    replaced = next(c for c in section.changes if c.kind == "citation replaced")
    assert (replaced.papers_before, replaced.papers_after) == (["synth2"], ["ret1"])
    # Every citation that reaches the output was judged supported (or supported after repair).
    final = {(v.sentence, v.paper) for v in section.verdicts if v.status in ("supported", "repaired")}
    assert final == {(i, pid) for i, s in enumerate(section.sentences) for pid in s.citations}
    assert section.verification is not None and section.verification.dropped == 1 and section.verification.repaired >= 1
    assert section.usage.stages["rewrite"].calls == 1  # the one rewrite was asked, and counted


def test_a_draft_verification_empties_is_written_offline_instead(corpus) -> None:
    draft = reply(("Enumerative search was proven to solve the halting problem for every Turing machine.", [1]))
    rewrite = {"text": "Enumerative search also settles every open problem in number theory.", "cites": [1]}
    section = synthesizer(corpus, draft, rewrite).draft(QUERY)
    assert section.sentences and section.drafter == "extractive"  # the user still gets a grounded section
    assert not any("halting" in s.text for s in section.sentences)
    assert any("no sentence of the model's draft was supported" in i for i in section.issues)
    assert all(v.status in ("supported", "repaired") for v in section.verdicts)
    assert section.usage.stages["draft"].calls == 1  # the model's work is still counted


def test_no_verify_keeps_the_draft_as_written(corpus) -> None:
    hits = Synthesizer(corpus=corpus, k=8).search(QUERY)
    wrong = next(n for n, h in enumerate(hits, 1) if h.paper.id == "synth2")
    draft = reply(("Enumerative search was proven to solve the halting problem for every Turing machine.", [wrong]))
    section = synthesizer(corpus, draft, verify=False).draft(QUERY)
    assert section.sentences[0].citations == ["synth2"] and section.verification is None and section.changes == []


def test_a_good_rewrite_is_kept_and_judged(corpus) -> None:
    hits = Synthesizer(corpus=corpus, k=8).search(QUERY)
    n = next(n for n, h in enumerate(hits, 1) if h.paper.id == "synth2")
    draft = reply(("Enumerative search was proven to solve the halting problem for every Turing machine.", [n]))
    good = {
        "text": "Enumerative search finds programs that fit input-output examples by exploring a grammar bottom-up.",
        "cites": [1],
    }
    section = synthesizer(corpus, draft, good).draft(QUERY)
    (sentence,) = section.sentences
    assert sentence.text == good["text"] and sentence.citations == ["synth2"]
    assert [c.kind for c in section.changes] == ["citation removed", "sentence rewritten"]


def test_sentences_about_the_paper_being_written_stand_uncited_when_its_abstract_says_them(corpus) -> None:
    paper = ("Verified drafting. Our method drafts related work with retrieval for question answering and "
             "program synthesis, and verifies every citation before output.")  # fmt: skip
    draft = {"paragraphs": [{"sentences": [
        {"text": "Unlike these systems, our method verifies every citation before output.", "cites": [], "about_query": True},
        {"text": "Our method generates code with large language models at scale.", "cites": [], "about_query": True},
    ]}]}  # fmt: skip
    section = synthesizer(corpus, draft).draft(paper)
    assert section.sentences[0].about_query and section.sentences[0].citations == []
    # a cited paper's topic claimed for the paper being written is not in its abstract: dropped, and said so
    assert "Our method generates code with large language models at scale." not in [s.text for s in section.sentences]
    (dropped,) = [c for c in section.changes if c.kind == "sentence dropped"]
    assert dropped.before.startswith("Our method generates code") and "marked as about the paper" in dropped.reason


class Scripted:
    """A judge that supports exactly the (paper, word) pairs it is given."""

    name = "scripted"

    def __init__(self, supports: dict[str, str]) -> None:
        self.supports = supports

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        ok = [p for p in papers if self.supports.get(p.id, "\0") in sentence]
        return Verdict(supported=bool(ok), score=1.0 if ok else 0.0, papers=[p.id for p in papers],
                       evidence="", reason="" if ok else "scripted: no")  # fmt: skip


def test_the_engine_alone_replaces_removes_and_keeps_a_users_sentences() -> None:
    papers = {pid: Paper(id=pid, title=pid, abstract=f"About {pid}.") for pid in ("a", "b", "c")}
    judge = Scripted({"a": "apples", "b": "bananas"})
    sentences = [
        Sentence(text="This is about bananas.", citations=["a"]),  # wrong paper: b supports it
        Sentence(text="This is about cherries.", citations=["a"]),  # nobody supports it
        Sentence(text="This is about apples.", citations=["a", "zz"]),  # zz is not in the corpus
    ]
    result = run_sync(
        repair(sentences, judge=judge, papers=papers, candidates=list(papers.values()), drop_unsupported=False)
    )
    assert [s.citations if s else None for s in result.sentences] == [["b"], [], ["a"]]
    assert [c.kind for c in result.changes] == [
        "citation replaced",
        "citation removed",
        "left uncited",
        "citation removed",
    ]
    assert result.verification is not None and (result.verification.supported, result.verification.repaired) == (1, 1)
