"""Judges decide whether cited papers support a sentence: `support(sentence, papers) -> Verdict`.

- `OfflineJudge` (default, no LLM): lexical evidence scored against the whole corpus. The score is the BM25
  score of the sentence against the cited paper divided by its best BM25 score over every corpus paper: 1.0
  when the cited paper is the best textual match the corpus has, lower the more another paper fits better.
  Validated on human-written sections (eval/bench_judge.py; figures in eval/README.md).
- `LLMJudge`: `prompts/judge.j2` asks the model whether the abstracts support the claim (1/0), with an
  optional majority vote over several trials.
A set of papers supports a sentence when one of them does (offline) or when the model says so of the
abstracts together (LLM).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np

from synth.corpus import Corpus
from synth.models import Paper, Verdict
from synth.retrieve.bm25 import BM25Index
from synth.text import split_sentences, terms

if TYPE_CHECKING:
    from synth.llm import LLM
    from synth.templates import Prompts

# Calibrated on the dev bench (eval/bench_judge.py): the threshold with the best balanced accuracy of true
# citations against hard and easy negatives.
OFFLINE_THRESHOLD = 0.65


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
    """Lexical support relative to the corpus; deterministic, no model, fast."""

    name = "offline"
    note = "offline judge: lexical evidence only (BM25 relative to the corpus); no dense similarity is used"

    def __init__(self, corpus: Corpus, index: BM25Index | None = None, threshold: float = OFFLINE_THRESHOLD) -> None:
        self.corpus = corpus
        self.threshold = threshold
        self._index = index
        self._position = {p.id: i for i, p in enumerate(corpus.papers)}
        # check() asks about one sentence several times in a row: keep that sentence's scores, one entry per
        # thread (eval runs checks in worker threads), so the cache neither grows nor is shared.
        self._last = threading.local()

    @cached_property
    def index(self) -> BM25Index:
        """The BM25 index of the corpus (built here when not given)."""
        return self._index or BM25Index.build(self.corpus)

    @cached_property
    def _idf(self) -> dict[str, float]:
        df = Counter(t for p in self.corpus.papers for t in set(terms(p.text)))
        n = len(self.corpus.papers)
        return {t: math.log(1 + n / (1 + c)) for t, c in df.items()}

    def scores(self, sentence: str) -> np.ndarray:
        """Relative BM25 score of the sentence against every corpus paper (the last sentence is kept)."""
        if getattr(self._last, "sentence", None) != sentence:
            raw = self.index.scores(terms(sentence))
            top = float(raw.max()) if raw.size else 0.0
            self._last.sentence, self._last.scores = sentence, (raw / top if top > 0 else raw)
        scores: np.ndarray = self._last.scores
        return scores

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """The best single-paper score among the papers; evidence from that paper's abstract."""
        if not papers:
            return Verdict(supported=False, score=0.0, papers=[], evidence="")
        all_scores = self.scores(sentence)
        scored = []
        for p in papers:
            i = self._position.get(p.id)
            scored.append((float(all_scores[i]) if i is not None else self._outside(sentence, p), p))
        score, best = max(scored, key=lambda t: t[0])
        return Verdict(
            supported=score >= self.threshold,
            score=round(score, 4),
            papers=[p.id for p in papers],
            evidence=self.evidence(sentence, best),
        )

    def _outside(self, sentence: str, paper: Paper) -> float:
        # A paper missing from the corpus: fall back to the IDF-weighted share of the sentence's terms it holds.
        wanted = list(dict.fromkeys(terms(sentence)))
        weights = [self._idf.get(t, 1.0) for t in wanted]
        have = set(terms(paper.text))
        total = sum(weights)
        return sum(w for t, w in zip(wanted, weights, strict=True) if t in have) / total if total else 0.0

    def evidence(self, sentence: str, paper: Paper) -> str:
        """The abstract sentence (or the title) sharing the most IDF-weighted terms with the sentence."""
        wanted = set(terms(sentence))
        candidates = [paper.title, *split_sentences(paper.abstract)]
        return max(candidates, key=lambda c: sum(self._idf.get(t, 1.0) for t in wanted & set(terms(c))))


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
        reason = "" if score > 0.5 else "the model judged that the cited abstract does not support it"
        return Verdict(supported=score > 0.5, score=score, papers=[p.id for p in papers], evidence="", reason=reason)

    def support(self, sentence: str, papers: list[Paper], *, query: str | None = None) -> Verdict:
        """The sync form of `asupport`."""
        from synth.llm.base import run_sync

        return run_sync(self.asupport(sentence, papers, query=query))


def parse_vote(text: str) -> int:
    """The first standalone 1 or 0 in a reply (also "yes"/"no"); 0 when there is none."""
    if m := _VOTE.search(text):
        return int(m.group(1))
    lowered = text.strip().lower()
    return 1 if lowered.startswith("yes") else 0


def _source(paper: Paper) -> dict[str, str]:
    return {"title": paper.title, "abstract": paper.abstract}
