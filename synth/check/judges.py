"""Judges decide whether cited papers support a sentence: `support(sentence, papers, query=) -> Verdict`.

- `OfflineJudge` (default, no LLM): lexical evidence scored against the whole corpus (`evidence.py`). The
  score is the product of three factors, each 1.0 when nothing speaks against the citation:
  fit (BM25 against the cited paper / the best BM25 against any corpus paper or the paper being written),
  a residual factor (falls when the terms the cited paper lacks are what another paper is about) and an
  unknown-words factor (halves for each distinctive word beyond the first that neither the cited abstract
  nor the field's vocabulary has). Supported at `OFFLINE_THRESHOLD`. Scores of different candidate papers
  for one sentence are comparable. Calibrated and validated in eval/bench_judge.py (figures in eval/README.md).
- `LLMJudge`: `prompts/support.j2` asks the model whether the abstracts support the claim (1/0), with an
  optional majority vote over several trials.
A set of papers supports a sentence when one of them does (offline) or when the model says so of the
abstracts together (LLM).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from synth.check.evidence import CorpusEvidence, Evidence
from synth.corpus import Corpus
from synth.models import Paper, Verdict
from synth.retrieve.bm25 import BM25Index
from synth.text import split_sentences, terms

if TYPE_CHECKING:
    from synth.llm import LLM
    from synth.templates import Prompts

# Calibrated on the dev bench (eval/bench_judge.py --calibrate): the grid point with the best balanced accuracy
# of human citations against the four kinds of negatives (hard, easy, self-claims, topical false claims).
OFFLINE_THRESHOLD = 0.65
RESIDUAL_LIMIT = 0.8
QUERY_WEIGHT = 1.0
"""The paper being written competes with its BM25 score times this weight (above 1: it wins more easily)."""
"""The residual (another paper's score on what the cited paper lacks / the cited paper's score) above which
the score is scaled down by RESIDUAL_LIMIT / residual."""
UNKNOWN_ALLOWED = 1
"""Unknown distinctive words tolerated before the score halves for each further one (a name, a typo)."""
LOW_COVERAGE = 0.1
"""Below this share of its distinctive terms found in the cited paper, even one unknown word halves the score:
"[1] proves the Riemann hypothesis for program synthesis" has one unknown word and nothing beyond the topic that
[1] mentions. 0.0 and 0.1 tie on the dev bench; 0.2 costs human citations."""
UNKNOWN_PENALTY = 0.5
MAX_HALVINGS = 2  # a LaTeX table parsed as a sentence must not sink below every random pairing


def combine(
    evidence: Evidence,
    residual_limit: float = RESIDUAL_LIMIT,
    unknown_allowed: int = UNKNOWN_ALLOWED,
    low_coverage: float = LOW_COVERAGE,
    query_weight: float = QUERY_WEIGHT,
) -> float:
    """The offline score: fit x residual factor x unknown-words factor, in [0, 1]."""
    residual = min(1.0, residual_limit / evidence.residual) if evidence.residual > 0 else 1.0
    return evidence.fit(query_weight) * residual * UNKNOWN_PENALTY ** _halvings(evidence, unknown_allowed, low_coverage)


def _halvings(evidence: Evidence, allowed: int, low_coverage: float) -> int:
    n = len(evidence.unknown)
    return min(MAX_HALVINGS, max(0, n - allowed) + (n >= 1 and evidence.coverage < low_coverage))


DESCRIBES_QUERY = "describes the paper being written"
NOT_MENTIONED = "the cited abstract does not mention: "
FITS_ANOTHER = "another paper fits better: "


class Judge(Protocol):
    """Anything that judges support of a sentence by papers."""

    name: str

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """Whether the papers, together, support the sentence.

        `query` is the paper being written (title and abstract, or a topic), when known: a sentence that
        describes it rather than the cited papers is not supported by them.
        """
        ...


class OfflineJudge:
    """Lexical support relative to the corpus and the paper being written; deterministic, no model, fast."""

    name = "offline"
    note = "offline judge: lexical evidence only (BM25 relative to the corpus); no dense similarity is used"

    def __init__(
        self,
        corpus: Corpus,
        index: BM25Index | None = None,
        threshold: float = OFFLINE_THRESHOLD,
        residual_limit: float = RESIDUAL_LIMIT,
    ) -> None:
        self.corpus = corpus
        self.threshold = threshold
        self.residual_limit = residual_limit
        self._index = index

    @cached_property
    def index(self) -> BM25Index:
        """The BM25 index of the corpus (built here when not given)."""
        return self._index or BM25Index.build(self.corpus)

    @cached_property
    def evidence_source(self) -> CorpusEvidence:
        """Measures the evidence for each (sentence, paper) pair."""
        return CorpusEvidence(self.corpus, self.index)

    def measure(self, sentence: str, paper: Paper, query: str | None = None) -> Evidence:
        """The lexical evidence that `paper` supports `sentence` (for inspection and calibration)."""
        return self.evidence_source.measure(sentence, paper, query)

    def score(self, evidence: Evidence) -> float:
        """Fit x residual factor x unknown-words factor, in [0, 1]."""
        return combine(evidence, self.residual_limit)

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """The best single-paper score among the papers; evidence from that paper's abstract."""
        if not papers:
            return Verdict(supported=False, score=0.0, papers=[], evidence="", reason="no paper cited")
        measured = [(self.measure(sentence, p, query), p) for p in papers]
        scored = [(self.score(e), e, p) for e, p in measured]
        score, found, best = max(scored, key=lambda t: t[0])
        supported = score >= self.threshold
        return Verdict(
            supported=supported,
            score=round(score, 4),
            papers=[p.id for p in papers],
            evidence=self.evidence(sentence, best),
            reason="" if supported else self.reason(found),
        )

    def reason(self, evidence: Evidence) -> str:
        """Why the evidence falls short, in a few words."""
        papers = self.corpus.papers
        if evidence.query_wins(QUERY_WEIGHT):
            return DESCRIBES_QUERY
        if _halvings(evidence, UNKNOWN_ALLOWED, LOW_COVERAGE):
            return NOT_MENTIONED + ", ".join(evidence.unknown[:5])
        if evidence.fit(QUERY_WEIGHT) < self.threshold and evidence.best_other is not None:
            return FITS_ANOTHER + _short(papers[evidence.best_other].title)
        if evidence.residual > self.residual_limit and evidence.residual_paper is not None:
            words = ", ".join(evidence.missing[:5])
            return f"{NOT_MENTIONED}{words} (another paper does: {_short(papers[evidence.residual_paper].title)})"
        return NOT_MENTIONED + ", ".join(evidence.missing[:5]) if evidence.missing else "too little in common"

    def evidence(self, sentence: str, paper: Paper) -> str:
        """The abstract sentence (or the title) sharing the most IDF-weighted terms with the sentence."""
        wanted = set(terms(sentence))
        idf = self.evidence_source.idf
        candidates = [paper.title, *split_sentences(paper.abstract)]
        return max(candidates, key=lambda c: sum(idf(t) for t in wanted & set(terms(c))))


def _short(title: str, limit: int = 80) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


_VOTE = re.compile(r"\b([01])\b")


class LLMJudge:
    """Asks a language model, DeepScholar-style: does the reference support the claim? 1 or 0."""

    name = "llm"

    def __init__(self, llm: LLM, prompts: Prompts | None = None, trials: int = 1) -> None:
        from synth.templates import Prompts

        self.llm = llm
        self.prompts = prompts or Prompts()
        self.trials = trials

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """Majority of `trials` answers; an answer without a clear 1 or 0 counts as 0."""
        if not papers:
            return Verdict(supported=False, score=0.0, papers=[], evidence="")
        prompt = self.prompts.render("support", claim=sentence, sources=[_source(p) for p in papers])
        votes = []
        for trial in range(self.trials):
            # The trial number makes each request distinct, so the cache does not answer all trials at once.
            messages = [{"role": "user", "content": prompt + ("" if trial == 0 else f"\n(Trial {trial + 1}.)")}]
            votes.append(parse_vote(self.llm.complete(messages).text))
        score = sum(votes) / len(votes)
        return Verdict(supported=score > 0.5, score=score, papers=[p.id for p in papers], evidence="")


def parse_vote(text: str) -> int:
    """The first standalone 1 or 0 in a reply (also "yes"/"no"); 0 when there is none."""
    if m := _VOTE.search(text):
        return int(m.group(1))
    lowered = text.strip().lower()
    return 1 if lowered.startswith("yes") else 0


def _source(paper: Paper) -> dict[str, str]:
    return {"title": paper.title, "abstract": paper.abstract}
