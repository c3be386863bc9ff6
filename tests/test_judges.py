"""The offline judge against what weak drafters do: describe the paper being written, dress a foreign claim in
the cited paper's topic words, paraphrase an abstract. Small hand-written corpus (tests/fixtures/papers.jsonl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.check.evidence import Evidence
from synth.check.judges import DESCRIBES_QUERY, FITS_ANOTHER, NOT_MENTIONED, OfflineJudge
from synth.check.metrics import check
from synth.check.scoring import Params, combine
from synth.corpus import load_corpus

# The paper being written: program synthesis, close to synth1-synth3 but none of them.
QUERY = (
    "Retrieval-Augmented Program Synthesis with Execution Traces\n"
    "We present a program synthesizer that retrieves similar solved tasks and their execution traces before "
    "searching. A trace encoder summarises how each retrieved program transforms its inputs, and the search is "
    "guided by these summaries. On string manipulation and spreadsheet benchmarks, retrieval of execution traces "
    "halves the number of candidate programs explored."
)
# A sentence of the query's own abstract, as a weak drafter restates it with a citation to a retrieved paper.
SELF_CLAIM = (
    "We present a program synthesizer that retrieves similar solved tasks and their execution traces before searching."
)


@pytest.fixture
def corpus(fixtures: Path):
    return load_corpus(fixtures / "papers.jsonl")


@pytest.fixture
def judge(corpus) -> OfflineJudge:
    return OfflineJudge(corpus)


@pytest.mark.parametrize("pid", ["synth1", "synth2"])
def test_a_sentence_about_the_paper_being_written_is_not_supported_by_a_topical_citation(corpus, judge, pid) -> None:
    paper = corpus.by_id[pid]
    # Without the query, the cited paper is among the corpus's best matches: the old judge passed it.
    alone = judge.support(SELF_CLAIM, [paper])
    assert alone.supported and alone.reason == ""
    verdict = judge.support(SELF_CLAIM, [paper], query=QUERY)
    assert not verdict.supported and verdict.reason == DESCRIBES_QUERY
    assert verdict.score < alone.score


def test_a_true_citation_survives_the_paper_being_written(corpus, judge) -> None:
    sentence = "Enumerative search finds programs consistent with a few examples, with equivalence pruning."
    verdict = judge.support(sentence, [corpus.by_id["synth2"]], query=QUERY)
    assert verdict.supported and verdict.reason == "" and verdict.score >= judge.threshold


def test_a_short_topic_query_does_not_compete_with_the_sources(corpus, judge) -> None:
    # A 3-word topic would outscore any abstract through BM25's length normalisation if it competed.
    sentence = "A neural model writes programs from input-output examples."
    verdict = judge.support(sentence, [corpus.by_id["synth1"]], query="program synthesis examples")
    assert verdict.supported


@pytest.mark.parametrize(
    ("claim", "named"),
    [
        ("Neural program synthesis from input-output examples cures type 2 diabetes in mice.", "mice"),
        ("This work proves the Riemann hypothesis for program synthesisers.", "Riemann"),
    ],
)
def test_topic_words_do_not_carry_a_foreign_claim(corpus, judge, claim: str, named: str) -> None:
    synth1 = corpus.by_id["synth1"]
    for topic_only in ("Neural program synthesis from input-output examples.", "Program synthesis from examples."):
        assert judge.support(topic_only, [synth1], query="program synthesis").supported  # topic words fit synth1
    verdict = judge.support(claim, [synth1], query="program synthesis")
    assert not verdict.supported
    assert verdict.reason.startswith(NOT_MENTIONED) and named in verdict.reason


def test_another_papers_claim_is_not_supported_by_the_cited_one(corpus, judge) -> None:
    # synth1's topic with ret1's claim: synth1 does not embed questions and passages, ret1 does.
    claim = "Neural program synthesis trains a dual encoder that embeds questions and passages into one vector space."
    verdict = judge.support(claim, [corpus.by_id["synth1"]], query="program synthesis")
    assert not verdict.supported
    assert verdict.reason == FITS_ANOTHER + "Dense Passage Retrieval for Open-Domain Question Answering"


@pytest.mark.parametrize(
    ("pid", "paraphrase"),
    [
        ("ret1", "The authors train a dual encoder that maps questions and passages into a shared vector space."),
        ("synth2", "Their bottom-up enumerative search prunes equivalent programs and is ten times faster."),
        ("cite2", "They measure the citation precision and recall of question answering systems."),
    ],
)
def test_a_faithful_paraphrase_of_the_cited_abstract_is_supported(corpus, judge, pid: str, paraphrase: str) -> None:
    verdict = judge.support(paraphrase, [corpus.by_id[pid]], query=QUERY)
    assert verdict.supported, verdict.reason
    wrong = next(p for p in corpus.papers if p.id != pid and p.id[:3] == pid[:3])  # a neighbour on the same topic
    assert judge.support(paraphrase, [wrong], query=QUERY).score < verdict.score


def test_scores_rank_candidates_for_a_replacement_citation(corpus, judge) -> None:
    sentence = "Query expansion adds terms from top-ranked documents to the original query."
    scores = {p.id: judge.support(sentence, [p], query=QUERY).score for p in corpus.papers}
    assert max(scores, key=lambda pid: scores[pid]) == "ret2"
    assert sum(judge.support(sentence, [p], query=QUERY).supported for p in corpus.papers) == 1


def test_reasons_name_the_better_paper(corpus, judge) -> None:
    sentence = "Query expansion adds terms from top-ranked documents to the original query."
    verdict = judge.support(sentence, [corpus.by_id["synth1"]], query=QUERY)
    assert not verdict.supported
    assert verdict.reason == FITS_ANOTHER + "Pseudo-Relevance Feedback with Query Expansion"


def test_check_passes_the_paper_being_written_to_the_judge(corpus, judge) -> None:
    text = SELF_CLAIM.replace(".", " [synth1].")
    assert check(text, corpus, judge, kind="markdown").citation_precision == 1.0
    report = check(text, corpus, judge, kind="markdown", query=QUERY)
    assert report.citation_precision == 0.0
    assert report.sentences[0].citations[0].reason == DESCRIBES_QUERY


def test_verdicts_are_deterministic(corpus) -> None:
    first = OfflineJudge(corpus).support(SELF_CLAIM, list(corpus.papers), query=QUERY)
    again = OfflineJudge(corpus).support(SELF_CLAIM, list(corpus.papers), query=QUERY)
    assert first == again


@pytest.mark.parametrize(
    "sentence",
    [
        "Smith et al. train a neural model that writes programs from input-output examples.",
        "NeuroSynth, a neural model, writes programs from input-output examples.",
        "Lovelace's neural model writes programs from input-output examples.",
    ],
)
def test_names_and_labels_are_not_unknown_words(corpus, judge, sentence: str) -> None:
    # "Smith", "NeuroSynth" and "Lovelace's" appear nowhere in the corpus, but they name things, not claims.
    verdict = judge.support(sentence, [corpus.by_id["synth1"]], query="program synthesis")
    assert verdict.supported, verdict.reason
    assert judge.measure(sentence, corpus.by_id["synth1"]).unknown_at(judge.params.unknown_max_df) == []


def test_several_papers_support_when_one_does_and_the_reason_comes_from_the_best(corpus, judge) -> None:
    sentence = "Query expansion adds terms from top-ranked documents to the original query."
    both = judge.support(sentence, [corpus.by_id["synth1"], corpus.by_id["ret2"]], query=QUERY)
    assert both.supported and both.papers == ["synth1", "ret2"] and both.reason == ""
    none = judge.support(sentence, [corpus.by_id["synth1"], corpus.by_id["cite1"]], query=QUERY)
    assert not none.supported and none.reason.startswith(FITS_ANOTHER)
    assert judge.support(sentence, []).reason == "no paper cited"


# -- the score from evidence (scoring.py), on hand-made evidence -------------------------------------------


def _evidence(**fields) -> Evidence:
    base = {"own": 10.0, "best": 10.0, "query": 0.0, "best_other": None}
    return Evidence(**{**base, **fields})


def test_caps_bind_only_against_the_citation() -> None:
    p = Params()
    assert combine(_evidence(), p) == 1.0
    assert combine(_evidence(own=8.0), p) == pytest.approx(0.8)  # another corpus paper fits better
    assert combine(_evidence(query=10.0), p) == pytest.approx(1 / p.query_weight)  # the paper being written
    small = _evidence(residual=0.5 * p.residual_limit)
    assert combine(small, p) == 1.0  # a small residual leaves the fit alone
    big = _evidence(residual=2 * p.residual_limit)
    assert combine(big, p) == pytest.approx(p.threshold / 2)
    borrowed = _evidence(residual=p.borrowed_limit * 1.2, residual_coverage=0.9)
    assert combine(borrowed, p) < p.threshold <= combine(_evidence(residual=p.borrowed_limit * 1.2), p)


def test_unknown_words_beyond_the_allowance_cap_the_score() -> None:
    p = Params()
    rare = [("riemann", 0), ("voynich", 1), ("hypothesis", 39)]
    one = _evidence(rare=rare[:1] + rare[2:])  # "hypothesis" is known to the field
    assert combine(one, p) == 1.0 and one.unknown_at(p.unknown_max_df) == ["riemann"]
    two = _evidence(rare=rare)
    assert combine(two, p) == pytest.approx(0.9 * p.threshold)
    strict = Params(low_coverage=0.5)
    assert combine(_evidence(rare=rare[:1], coverage=0.2), strict) < strict.threshold


def test_the_shipped_background_vocabulary_is_what_the_sample_corpus_gives_today() -> None:
    from collections import Counter

    from synth.check.evidence import background_df
    from synth.corpus import load_corpus
    from synth.text import terms

    computed = Counter(t for p in load_corpus().papers for t in set(terms(p.text)))
    assert background_df() == computed, "regenerate synth/data/background_df.json (see synth/check/evidence.py)"


def test_a_draft_may_not_give_a_source_the_name_the_paper_being_written_coined(corpus) -> None:
    from synth.check.scoring import DRAFTING

    query = QUERY.replace("We present a program synthesizer", "We present TraceSynth, a program synthesizer")
    sentence = "Lovelace et al. propose TraceSynth, a neural model that writes programs from input-output examples."
    paper = corpus.by_id["synth1"]
    # Everything else in the sentence is synth1's, so the relative fit alone lets it through.
    assert OfflineJudge(corpus).support(sentence, [paper], query=query).supported
    drafting = OfflineJudge(corpus, params=DRAFTING)
    verdict = drafting.support(sentence, [paper], query=query)
    assert not verdict.supported and verdict.reason.startswith(DESCRIBES_QUERY) and "TraceSynth" in verdict.reason
    # the same sentence without the coined name is synth1's claim, and stands
    plain = "Lovelace et al. propose a neural model that writes programs from input-output examples."
    assert drafting.support(plain, [paper], query=query).supported
