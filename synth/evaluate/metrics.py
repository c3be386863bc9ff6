"""Metrics as data: each is a name, a function of one query's result, a direction, and whether it enters the
summary's geometric mean. Tables, CSV, plots and comparisons iterate over `METRICS`; adding a metric is adding
one entry here (or `METRICS.append(...)` from your own code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synth.evaluate.suite import Query
    from synth.models import GroundingReport, Section


@dataclass(frozen=True)
class Result:
    """What one query produced: the section, its grounding report, and the query with its references."""

    query: Query
    section: Section
    report: GroundingReport


@dataclass(frozen=True)
class Metric:
    """One figure per query."""

    name: str
    of: Callable[[Result], float | None]  # None: not defined for this query (no gold references, ...)
    description: str
    higher_is_better: bool = True
    in_geomean: bool = False  # a quality figure in [0, 1], as in DeepScholar-bench's summary


def _cited(r: Result) -> set[str]:
    return {pid for s in r.section.sentences for pid in s.citations}


def _recall_at_k(r: Result) -> float | None:
    gold = set(r.query.gold)
    return len(gold & {h.paper.id for h in r.section.hits}) / len(gold) if gold else None


def _reference_precision(r: Result) -> float | None:
    from synth.evaluate.reference import reference_precision

    return reference_precision(_cited(r), r.query.gold) if r.query.gold else None


def _organisation(r: Result, shuffled: bool = False) -> float | None:
    """Pairwise F1 of paragraph co-membership against the human section (or its shuffled baseline)."""
    from synth.evaluate.reference import (
        human_paragraphs,
        organisation_agreement,
        section_paragraphs,
        shuffled_organisation,
    )

    if not r.query.exemplar:
        return None
    draft = section_paragraphs(r.section)
    human = human_paragraphs(r.query.exemplar)
    if not shuffled:
        return organisation_agreement(draft, human).f1
    rounds = [a.f1 for a in shuffled_organisation(draft, human) if a.f1 is not None]
    return sum(rounds) / len(rounds) if rounds else None


def _dangling(r: Result) -> float | None:
    from synth.evaluate.reference import dangling_rate

    return dangling_rate(r.section)


def _words(r: Result) -> float:
    return float(sum(len(s.text.split()) for s in r.section.sentences))


METRICS: list[Metric] = [
    Metric("recall_at_k", _recall_at_k, "share of the gold references retrieval returned", in_geomean=True),
    Metric(
        "citation_precision",
        lambda r: r.report.citation_precision,
        "citations whose source alone supports the sentence",
        in_geomean=True,
    ),
    Metric(
        "claim_coverage",
        lambda r: r.report.claim_coverage,
        "sentences supported by sources cited within the window",
        in_geomean=True,
    ),
    Metric(
        "reference_coverage",
        lambda r: r.report.reference_coverage,
        "share of the gold references the section cites",
        in_geomean=True,
    ),
    Metric("reference_precision", _reference_precision, "share of the cited papers that are gold references"),
    Metric("organisation_f1", _organisation, "pairs of papers grouped in one paragraph as the human author did (F1)"),
    Metric(
        "organisation_f1_shuffled",
        lambda r: _organisation(r, shuffled=True),
        "the same with the draft's paragraphs shuffled (baseline)",
    ),
    Metric(
        "dangling_openings",
        _dangling,
        "sentences opening on words that point at a sentence not there",
        higher_is_better=False,
    ),
    Metric(
        "citation_precision_loo", lambda r: r.report.citation_precision_loo, "ALCE leave-one-out citation precision"
    ),
    Metric("citation_recall", lambda r: r.report.citation_recall, "sentences supported by their own citations"),
    Metric("uncited_rate", lambda r: r.report.uncited_rate, "sentences that cite nothing", higher_is_better=False),
    Metric(
        "invalid_citations",
        lambda r: float(r.report.invalid_citations),
        "markers that resolve to no paper",
        higher_is_better=False,
    ),
    Metric("papers_cited", lambda r: float(len(_cited(r))), "distinct papers the section cites"),
    Metric("sentences", lambda r: float(len(r.section.sentences)), "sentences in the section"),
    Metric("words", _words, "words in the section"),
]


def by_name() -> dict[str, Metric]:
    """The registered metrics by name (in registration order)."""
    return {m.name: m for m in METRICS}


def measure(result: Result) -> dict[str, float | None]:
    """Every registered metric of one result, rounded for the records file."""
    values: dict[str, float | None] = {}
    for metric in METRICS:
        value = metric.of(result)
        values[metric.name] = None if value is None else round(float(value), 4)
    return values
