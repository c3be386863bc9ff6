"""Judges decide whether cited papers support a sentence: `support(sentence, papers, query=) -> Verdict`.

- `OfflineJudge` (default, no LLM): lexical evidence measured against the whole corpus and the paper being
  written (`evidence.py`), combined into one score with calibrated parameters (`scoring.py`): the relative
  BM25 fit, capped when what the cited paper lacks belongs to another paper or is unknown to the field.
  Scores of different candidate papers for one sentence are comparable. Calibrated and validated in
  eval/bench_judge.py (figures in eval/README.md).
- `LLMJudge`: `prompts/judge.j2` asks the model whether the abstracts support the claim (1/0), with an
  optional majority vote over several trials.
A set of papers supports a sentence when one of them does (offline) or when the model says so of the
abstracts together (LLM).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from synth.check.evidence import CorpusEvidence, Evidence
from synth.check.scoring import Params, combine, fit, halvings, residual_limit
from synth.corpus import Corpus
from synth.models import Paper, Verdict
from synth.retrieve.bm25 import BM25Index
from synth.text import split_sentences, terms

if TYPE_CHECKING:
    from synth.llm import LLM
    from synth.templates import Prompts

OFFLINE_THRESHOLD = Params().threshold

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


async def judge_once(judge: Judge, sentence: str, papers: list[Paper], query: str | None) -> Verdict:
    """The judge's verdict, through its async form when it has one (an LLM judge)."""
    asupport = getattr(judge, "asupport", None)
    if asupport is not None:
        verdict: Verdict = await asupport(sentence, papers, query=query)
        return verdict
    return judge.support(sentence, papers, query=query)


class OfflineJudge:
    """Lexical support relative to the corpus and the paper being written; deterministic, no model, fast."""

    name = "offline"
    note = (
        "offline judge: lexical evidence only (BM25 relative to the corpus and, when given, the paper being"
        " written); no dense similarity is used"
    )

    def __init__(self, corpus: Corpus, index: BM25Index | None = None, params: Params | None = None) -> None:
        self.corpus = corpus
        self.params = params or Params()
        self._index = index

    @property
    def threshold(self) -> float:
        """Scores at or above it are supported."""
        return self.params.threshold

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
        """The calibrated score in [0, 1] (scoring.py)."""
        return combine(evidence, self.params)

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
        papers, params = self.corpus.papers, self.params
        if evidence.query_wins(params.query_weight):
            return DESCRIBES_QUERY
        if params.query_names and (own := evidence.query_names(params.unknown_max_df)):
            return f"{DESCRIBES_QUERY} (names {', '.join(own[:3])})"
        if halvings(evidence, params):
            return NOT_MENTIONED + ", ".join(evidence.unknown_at(params.unknown_max_df)[:5])
        if evidence.coverage < params.min_coverage:
            return f"the cited abstract holds only {evidence.coverage:.0%} of what it says (missing: {', '.join(evidence.missing[:5])})"
        if fit(evidence, params) < self.threshold and evidence.best_other is not None:
            return FITS_ANOTHER + _short(papers[evidence.best_other].title)
        if evidence.residual > residual_limit(evidence, params) and evidence.residual_paper is not None:
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
    """Asks a language model, DeepScholar-style: does the cited paper support the claim? 1 or 0.

    The prompt names the paper being written, when known, so that a claim about it is not credited to the
    papers it cites.
    """

    name = "llm"

    def __init__(self, llm: LLM, prompts: Prompts | None = None, trials: int = 1) -> None:
        from synth.templates import Prompts

        self.llm = llm
        self.prompts = prompts or Prompts()
        self.trials = trials

    async def asupport(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """Majority of `trials` answers; an answer without a clear 1 or 0 counts as 0."""
        if not papers:
            return Verdict(supported=False, score=0.0, papers=[], evidence="")
        prompt = self.prompts.render("judge", claim=sentence, sources=[_source(p) for p in papers], query=query or "")
        votes = []
        for trial in range(self.trials):
            # The trial number makes each request distinct, so the cache does not answer all trials at once.
            messages = [{"role": "user", "content": prompt + ("" if trial == 0 else f"\n(Trial {trial + 1}.)")}]
            reply = await self.llm.acomplete(messages, max_tokens=8, stage="judge")
            votes.append(parse_vote(reply.text))
        score = sum(votes) / len(votes)
        reason = "" if score > 0.5 else "the model judged it unsupported"
        return Verdict(supported=score > 0.5, score=score, papers=[p.id for p in papers], evidence="", reason=reason)

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """The sync form of `asupport`."""
        from synth.llm.base import run_sync

        return run_sync(self.asupport(sentence, papers, query=query))


def parse_vote(text: str) -> int:
    """The vote in a reply: its leading digit, else its last standalone 1 or 0 (a model echoing the instructions
    quotes both first), else "yes"/"no"; 0 when there is none."""
    stripped = text.strip()
    if stripped[:1] in ("0", "1") and not stripped[1:2].isdigit():
        return int(stripped[0])
    if votes := _VOTE.findall(text):
        return int(votes[-1])
    return 1 if stripped.lower().startswith("yes") else 0


def _source(paper: Paper) -> dict[str, str]:
    return {"title": paper.title, "abstract": paper.abstract}
