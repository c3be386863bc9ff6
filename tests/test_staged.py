"""Staged drafting with a fake model answering each stage: what each stage keeps, verifies and falls back on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synth import Synthesizer
from synth.corpus import load_corpus
from synth.draft.evidence import verify_quote
from synth.draft.filter import select
from synth.errors import LLMRejected, LLMServerError
from synth.models import Hit, Paper
from synth.testing import FakeLLM

QUERY = "programs synthesized by search and neural guidance, with retrieval of passages"


def stage(messages) -> str:
    prompt = next(m["content"] for m in messages if m["role"] == "user")  # the stage's own prompt, also on a retry
    for name, marker in (("filter", "Is the candidate paper on a topic"), ("evidence", "Write one or two claims"),
                         ("outline", "Group them into"), ("write", "Write one paragraph")):  # fmt: skip
        if marker in prompt:
            return name
    return "other"


def numbered(messages) -> dict[int, str]:
    """The sources a stage prompt shows: n -> title (a lone source is number 1)."""
    prompt = next(m["content"] for m in messages if m["role"] == "user")
    return (
        {int(n): t for n, t in re.findall(r'<source n="(\d+)">\nTitle: ([^\n]+)', prompt)}
        or {int(n): t for n, t in re.findall(r"^(\d+)\. ([^:\n]+):", prompt, flags=re.M)}
        or dict(enumerate(re.findall(r"<source>\nTitle: ([^\n]+)", prompt), 1))
    )


class Model:
    """Answers every stage sensibly, except where a test asks it to misbehave."""

    def __init__(self, corpus, broken: set[str] = frozenset(), fake_quote: bool = False):
        self.by_title = {p.title: p for p in corpus.papers}
        self.broken = set(broken)
        self.fake_quote = fake_quote
        self.seen: list[str] = []

    def __call__(self, messages) -> str:
        name = stage(messages)
        self.seen.append(name)
        if name in self.broken:
            return "I would rather not."
        shown = numbered(messages)
        if name == "filter":
            (title,) = shown.values()
            return json.dumps({"related": 1 if "Program" in title else 0})
        if name == "evidence":
            (title,) = shown.values()
            first = self.by_title[title].abstract.split(". ")[0]
            quote = "Programs were discovered on Mars in 1850" if self.fake_quote else first
            return json.dumps({"claims": [{"claim": f"It studies: {first}", "quote": quote}]})
        if name == "outline":
            return json.dumps(
                {"themes": [{"name": "Searching for programs", "papers": list(shown), "relation": "It searches too."}]}
            )
        if name == "write":
            sentences = [
                {"text": self.by_title[t].abstract.split(". ")[0] + ".", "cites": [n]} for n, t in shown.items()
            ]
            sentences.append(
                {
                    "text": "Unlike these works, the paper being written combines neural guidance with search.",
                    "cites": [],
                    "about_query": True,
                }
            )
            sentences.append({"text": "A source outside the theme.", "cites": [len(shown) + 3]})
            return json.dumps({"sentences": sentences})
        return "{}"


@pytest.fixture
def corpus(fixtures: Path):
    return load_corpus(fixtures / "papers.jsonl")


def draft(corpus, model: Model, **settings):
    llm = FakeLLM(model, repeat=True)
    section = Synthesizer(corpus=corpus, llm=llm, k=4, pool=8, **settings).draft(QUERY)
    return section, llm


def test_each_stage_does_its_part(corpus) -> None:
    model = Model(corpus)
    section, llm = draft(corpus, model)
    assert section.drafter == "staged"
    cited = {pid for s in section.sentences for pid in s.citations}
    assert cited and cited <= {"synth1", "synth2", "synth3"}  # only papers the model calls related
    retrieved = {h.paper.id for h in section.hits}
    assert {"ret1", "synth1"} <= retrieved
    assert {lo.id for lo in section.left_out} | cited == retrieved
    assert all(lo.reason.startswith(("judged unrelated by the model", "called related")) for lo in section.left_out)
    assert section.paragraphs[0].theme == "Searching for programs"
    about = [s for s in section.sentences if s.about_query]
    assert len(about) == 1 and about[0].citations == [] and about[0].text.startswith("Unlike these works")
    assert any("outside the theme's sources" in i for i in section.issues)  # the [n+3] was removed and said so
    # the sentence left citing nothing, and not about the paper being written, does not stand
    assert "A source outside the theme." not in [s.text for s in section.sentences]
    assert any(c.kind == "sentence dropped" and c.before == "A source outside the theme." for c in section.changes)
    assert {"filter_s", "evidence_s", "outline_s", "write_s", "verify_s"} <= set(section.timings)
    assert {"filter", "evidence", "outline", "write"} <= set(section.usage.stages)
    # sentences the model copied as their source wrote them ("We propose ...") are attributed
    assert not any(re.match(r"(We|Our|This paper|In this paper)\b", s.text) for s in section.sentences)
    assert any(s.text.startswith("Lovelace et al. propose") for s in section.sentences)
    # every stage prompt opens the same way, so a local server can reuse its cached prefix
    openings = {call[-1]["content"].split("</query>")[0] for call in llm.calls}
    assert len(openings) == 1


@pytest.mark.parametrize("broken", ["filter", "evidence", "outline", "write"])
def test_a_stage_that_fails_twice_falls_back_and_the_draft_goes_on(corpus, broken: str) -> None:
    model = Model(corpus, broken={broken})
    section, _ = draft(corpus, model)
    expected = {
        "filter": "filter: the model gave no usable answer for",
        "evidence": "evidence: ",
        "outline": "outline: the model's reply was invalid twice",
        "write": "write: the model's reply was invalid twice",
    }[broken]
    assert section.sentences and any(i.startswith(expected) for i in section.issues), section.issues
    assert model.seen.count(broken) >= 2  # asked once more with the error before falling back
    assert all(pid in {h.paper.id for h in section.hits} for s in section.sentences for pid in s.citations)


def test_quotes_not_in_the_abstract_are_not_evidence(corpus) -> None:
    section, _ = draft(corpus, Model(corpus, fake_quote=True))
    assert any("no verified quote from the model" in i for i in section.issues)
    assert "Mars" not in section.markdown


def test_verify_quote_accepts_verbatim_and_near_quotes_only() -> None:
    abstract = "We present a neural search over programs. It finds programs that fit input-output examples quickly."
    assert verify_quote("it FINDS programs that fit   input-output examples", abstract) == (
        "It finds programs that fit input-output examples quickly."
    )
    assert verify_quote("It finds programs that fit input output examples quickly", abstract).startswith("It finds")
    assert verify_quote("It proves the Riemann hypothesis for programs", abstract) is None


def test_a_model_error_in_a_stage_falls_back_but_a_fatal_one_stops(corpus) -> None:
    answers = Model(corpus)
    flaky = FakeLLM(LLMServerError("server error"), *[answers] * 30)
    section = Synthesizer(corpus=corpus, llm=flaky, k=4, pool=8).draft(QUERY)
    assert section.sentences and any(
        i.startswith("filter: the model gave no usable answer for 1 of") for i in section.issues
    )
    with pytest.raises(LLMRejected):
        Synthesizer(corpus=corpus, llm=FakeLLM(LLMRejected("HTTP 401", fatal=True)), k=4, pool=8).draft(QUERY)


def _hits(scores: dict[str, float]) -> list[Hit]:
    return [
        Hit(paper=Paper(id=pid, title=pid, abstract="An abstract."), score=score, rank=rank)
        for rank, (pid, score) in enumerate(scores.items(), start=1)
    ]


def test_the_models_answer_moves_retrievals_bar() -> None:
    # best 10: a yes needs 4 (YES_BAR), a no 5.5 (NO_BAR)
    hits = _hits({"a": 10.0, "b": 6.0, "c": 5.0, "d": 4.5, "e": 3.0})
    votes = {"a": False, "b": False, "c": False, "d": True, "e": True}
    kept, left_out = select(hits, votes, k=4)
    assert [h.paper.id for h in kept] == ["d", "a", "b"]  # the model's yes first, then by rank
    reasons = {lo.id: lo.reason for lo in left_out}
    assert reasons == {
        "c": "judged unrelated by the model, and below retrieval's bar",
        "e": "called related by the model, but below retrieval's bar",
    }
    kept, left_out = select(hits, votes, k=1)
    assert [h.paper.id for h in kept] == ["d"]
    assert {lo.id: lo.reason for lo in left_out}["a"] == "only the best 1 are cited"
    # a model that turns everything down (or never answers) leaves retrieval's own bar, and at least three
    kept, _ = select(hits, dict.fromkeys(votes, False), k=4)
    assert [h.paper.id for h in kept] == ["a", "b", "c"]
    dominant = _hits({"a": 10.0, "b": 1.0, "c": 0.9, "d": 0.8})
    kept, _ = select(dominant, {"a": False, "b": False, "c": False, "d": True}, k=4)
    assert [h.paper.id for h in kept] == ["a", "d", "b"]  # the model's yes joins first


def test_written_sentences_are_split_and_lose_what_was_copied_from_the_prompt() -> None:
    from synth.llm.replies import tidy

    assert tidy("The evidence states that trees encode code structure.") == "Trees encode code structure."
    assert tidy('They reach 90% accuracy (quote: "we reach 90% accuracy").') == "They reach 90% accuracy."
    assert tidy("They alleviate it. (quote: 'Tools help.').") == "They alleviate it."
    assert (
        tidy("Smith et al. weigh the evidence that trees help.") == "Smith et al. weigh the evidence that trees help."
    )
    assert tidy("The cited papers' abstracts state that trees help.") == "Trees help."
    assert tidy("(Towards that end, TreeNet encodes code.).") == "Towards that end, TreeNet encodes code."
    assert tidy("Trees help (Smith et al.).") == "Trees help (Smith et al.)."


def test_a_rewritten_sentence_names_its_source() -> None:
    from synth.check.rewrite import parse_rewrite

    paper = Paper(id="a", title="POG: outfits", abstract="-", authors=["Ann Chen", "Bo Li", "Cy Ng"])
    for said, written in [("The cited papers' abstracts state that they build a dataset.", "Chen et al. build a dataset."),
                          ("They build a dataset.", "Chen et al. build a dataset."),
                          ("The cited paper builds a dataset.", "The paper by Chen et al. builds a dataset.")]:  # fmt: skip
        sentence = parse_rewrite(json.dumps({"text": said, "cites": [1]}), [paper])
        assert sentence is not None and sentence.text == written, said
    # where the code is says nothing a related-work section needs
    assert (
        parse_rewrite(json.dumps({"text": "Their code is at https://github.com/x/y.", "cites": [1]}), [paper]) is None
    )


def test_an_item_holding_two_sentences_becomes_two_each_judged(corpus) -> None:
    model = Model(corpus)
    two = "Programs are written from examples by a neural model. Passages are retrieved for open-domain questions."

    def write_two(messages):  # type: ignore[no-untyped-def]
        if stage(messages) == "write":
            return json.dumps({"sentences": [{"text": two, "cites": [1]}]})
        return model(messages)

    section = Synthesizer(corpus=corpus, llm=FakeLLM(write_two, repeat=True), k=4, pool=8).draft(QUERY)
    texts = [s.text for s in section.sentences]
    assert not any(two in t for t in texts)  # never one sentence of two claims
    # the retrieval claim is judged on its own: not what the cited paper says, it moves to the retrieval paper
    passages = [s for s in section.sentences if s.text == "Passages are retrieved for open-domain questions."]
    assert [s.citations for s in passages] == [["ret1"]]
    assert any(c.kind == "citation replaced" and c.papers_after == ["ret1"] for c in section.changes)


def test_one_sentence_about_the_paper_being_written_per_theme_and_no_contrast_on_a_source() -> None:
    from synth.draft.evidence import Card, Claim
    from synth.draft.outline import Theme
    from synth.draft.write import write
    from synth.llm.base import run_sync
    from synth.templates import Prompts

    paper = Paper(id="a", title="Lead sheets", abstract="We generate lead sheets.", authors=["Ann Lee", "Bo Kim"])
    theme = Theme(name="Music", cards=[Card(paper=paper, claims=[Claim(text="x", quote="We generate lead sheets.")])])
    reply = {"sentences": [
        {"text": "Unlike these works, we generate lead sheets.", "cites": [1]},
        {"text": "The authors generate lead sheets.", "cites": [1]},
        {"text": "To address these problems, we generate lead sheets.", "cites": [1]},
        {"text": "Code is available at https://github.com/x/sheets.", "cites": [1]},
        {"text": "Unlike these works, we score music. Our model has two stages. It is fast.", "cites": [], "about_query": True},
        {"text": "We also release a dataset.", "cites": [], "about_query": True},
    ]}  # fmt: skip
    llm = FakeLLM(lambda messages: json.dumps(reply), repeat=True)
    paragraph, notes = run_sync(write(llm, Prompts(), [], "We score music.", theme, words=80, style="prose"))
    texts = [s.text for s in paragraph.sentences]
    # the source's sentence loses the contrast meant for the closing sentence, and speaks of its authors
    # "the authors": which, the reader is told; "these problems": not the reader's, the clause goes
    assert texts[:3] == ["Lee and Kim generate lead sheets."] * 3
    # the first sentence about the paper being written stays; the abstract the model went on to copy does not
    assert texts[3:] == ["Unlike these works, we score music."] and paragraph.sentences[3].about_query
    assert any("dropped 3 more" in n for n in notes)


def test_a_chosen_paper_no_surviving_sentence_cites_gets_a_quoted_one(corpus) -> None:
    model = Model(corpus)
    closing = "Unlike these works, the paper being written combines neural guidance with search."

    def write_one(messages):  # type: ignore[no-untyped-def]
        if stage(messages) == "write":
            first = model.by_title[numbered(messages)[1]]
            return json.dumps({"sentences": [
                {"text": first.abstract.split(". ")[0] + ".", "cites": [1]},
                {"text": "Programs were discovered on Mars in 1850.", "cites": [2]},  # rejected, then dropped
                {"text": closing, "cites": [], "about_query": True},
            ]})  # fmt: skip
        return model(messages)

    section = Synthesizer(corpus=corpus, llm=FakeLLM(write_one, repeat=True), k=4, pool=8).draft(QUERY)
    chosen = {h.paper.id for h in section.hits} - {lo.id for lo in section.left_out}
    cited = [pid for s in section.sentences for pid in s.citations]
    assert set(cited) == chosen and len(cited) == len(chosen)  # every chosen paper, once
    added = [c for c in section.changes if c.kind == "sentence added"]
    assert len(added) == len(chosen) - 1 == section.verification.added
    for change in added:  # each is a sentence of the paper's own abstract, attributed to its authors
        paper = corpus.by_id[change.papers_after[0]]
        assert any(part.split()[-1] in change.after for part in paper.abstract.split(". "))
    assert section.sentences[-1].text == closing  # added before the closing sentence
    # verdicts follow the final text: each names a sentence that cites its paper
    assert {(v.sentence, v.paper) for v in section.verdicts} == {
        (i, pid) for i, s in enumerate(section.sentences) for pid in s.citations
    }


def test_the_quoted_sentence_says_what_the_paper_does() -> None:
    from synth.draft.evidence import Card, Claim
    from synth.draft.outline import Theme
    from synth.draft.write import reserve

    abstract = ("Graph filtering is popular for recommendation. However, its theory remains elusive. "
                "In this paper, we propose a linkage score for bipartite graphs. This score is fast.")  # fmt: skip
    paper = Paper(id="a", title="Links", abstract=abstract, authors=["Ann Fu", "Bo Li", "Cy Ng"])
    background = Claim(text="x", quote="Graph filtering is popular for recommendation.")
    (sentence,) = reserve(Theme(name="t", cards=[Card(paper=paper, claims=[background])]))
    assert sentence.text == "Fu et al. propose a linkage score for bipartite graphs." and sentence.citations == ["a"]
