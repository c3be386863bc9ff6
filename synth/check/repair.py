"""Verify and repair: judge every (sentence, citation) and fix what fails, recording every change.

For each citation the judge rejects, the candidate paper that supports the sentence best takes its place; if
none does, the citation is removed. A sentence left with no supported citation is rewritten once from the
evidence by the model (when there is one) and judged again; failing that it is dropped (drafts) or kept and
reported without a citation (a user's own text, which synth does not delete). A sentence the writer marked as
being about the paper being written may stand without a citation when the query (that paper's title and
abstract, or the topic) supports it; in a draft, one it does not support is dropped.

The same engine serves verified drafting and `synth check --fix`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from synth.check.judges import Judge, judge_once
from synth.models import Change, CitationVerdict, Paper, Paragraph, Sentence, Verdict, Verification
from synth.text import terms


class Rewriter(Protocol):
    """Rewrites an unsupported sentence from evidence (the LLM does this; see `synth/check/rewrite.py`)."""

    async def rewrite(self, sentence: str, evidence: list[tuple[Paper, str]], query: str | None) -> Sentence | None:
        """A new sentence citing only papers of `evidence` (by id), or None when the model gave nothing usable."""
        ...


QUERY_ID = "(the paper being written)"  # the query as a pseudo-paper, to judge sentences about it


@dataclass
class Repaired:
    """The sentences after repair (None where one was dropped), and what verification found and did."""

    sentences: list[Sentence | None]
    verdicts: list[CitationVerdict] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    verification: Verification | None = None


def lexical_order(sentence: str, candidates: Sequence[Paper]) -> list[Paper]:
    """Candidates by the IDF-weighted share of the sentence's terms they contain (a cheap pre-filter)."""
    wanted = set(terms(sentence))
    docs = [set(terms(p.text)) for p in candidates]
    df = Counter(t for d in docs for t in d & wanted)
    idf = {t: math.log(1 + len(docs) / (1 + df[t])) for t in wanted}
    scored = [(sum(idf[t] for t in wanted & d), -i) for i, d in enumerate(docs)]
    order = sorted(range(len(candidates)), key=lambda i: scored[i], reverse=True)
    return [candidates[i] for i in order]


@dataclass
class _Engine:
    judge: Judge
    papers: dict[str, Paper]
    candidates: list[Paper]
    query: str | None
    rewriter: Rewriter | None
    drop_unsupported: bool
    max_candidates: int | None
    lookup: Callable[[str], list[Paper]] | None = None

    async def best_replacement(self, text: str, exclude: set[str]) -> Verdict | None:
        """The candidate that supports `text` best, when any does: first among the given candidates (a draft's
        retrieved papers, or the references a text already has), then among the papers `lookup` finds."""
        seen = set(exclude)
        for tier in (self.candidates, self.lookup(text) if self.lookup else []):
            pool = [p for p in tier if p.id not in seen]
            seen.update(p.id for p in pool)
            if self.max_candidates is not None:
                pool = lexical_order(text, pool)[: self.max_candidates]
            best: Verdict | None = None
            for paper in pool:
                verdict = await judge_once(self.judge, text, [paper], self.query)
                if verdict.supported and (best is None or verdict.score > best.score):
                    best = verdict
            if best is not None:
                return best
        return None

    async def one(
        self, index: int, sentence: Sentence
    ) -> tuple[Sentence | None, list[Change], list[tuple[str, CitationVerdict]]]:
        """Repair one sentence: (the new sentence or None, changes, verdicts keyed by final paper id)."""
        text = sentence.text
        kept: list[str] = []
        changes: list[Change] = []
        verdicts: list[tuple[str, CitationVerdict]] = []
        failed: list[tuple[Paper, Verdict]] = []
        if sentence.about_query and not sentence.citations and self.drop_unsupported and self.query:
            # Uncited by design, so it must say what the paper being written says: a weak model fills this
            # sentence with a cited paper's method ("relates to these works by proposing <their method>").
            verdict = await judge_once(self.judge, text, [Paper(id=QUERY_ID, title="", abstract=self.query)], None)
            if not verdict.supported:
                changes.append(Change(kind="sentence dropped", sentence=index, before=text,
                                      reason="marked as about the paper being written, whose abstract does not "
                                      f"say it ({verdict.reason or 'not supported'})"))  # fmt: skip
                return None, changes, []
            return sentence, changes, verdicts
        if not sentence.citations and not sentence.about_query and self.drop_unsupported:
            # A draft's sentence must cite its source unless the writer marked it as about the paper being
            # written: give it the paper that supports it, if one does, else it goes.
            found = await self.best_replacement(text, set())
            if found is not None:
                pid = found.papers[0]
                changes.append(Change(kind="citation added", sentence=index, before=text, papers_after=[pid],
                                      reason="it cited nothing; this retrieved paper supports it"))  # fmt: skip
                return (
                    sentence.model_copy(update={"citations": [pid]}),
                    changes,
                    [(pid, _verdict(pid, "repaired", found))],
                )
            changes.append(Change(kind="sentence dropped", sentence=index, before=text,
                                  reason="it cites nothing, and no retrieved paper supports it"))  # fmt: skip
            return None, changes, []
        for pid in dict.fromkeys(sentence.citations):
            paper = self.papers.get(pid)
            if paper is None:  # not a paper of this corpus: it cannot be verified
                changes.append(Change(kind="citation removed", sentence=index, before=text, papers_before=[pid],
                                      reason="not a paper of the corpus"))  # fmt: skip
                continue
            verdict = await judge_once(self.judge, text, [paper], self.query)
            if verdict.supported:
                kept.append(pid)
                verdicts.append((pid, _verdict(pid, "supported", verdict)))
                continue
            failed.append((paper, verdict))
            replacement = (
                None if sentence.about_query else await self.best_replacement(text, {*sentence.citations, *kept})
            )
            if replacement is not None:
                new = replacement.papers[0]
                kept.append(new)
                verdicts.append((new, _verdict(new, "repaired", replacement, replaced=pid, reason=verdict.reason)))
                changes.append(Change(kind="citation replaced", sentence=index, before=text, papers_before=[pid],
                                      papers_after=[new], reason=verdict.reason or "not supported"))  # fmt: skip
            else:
                verdicts.append((pid, _verdict(pid, "removed", verdict, reason=verdict.reason)))
                changes.append(Change(kind="citation removed", sentence=index, before=text, papers_before=[pid],
                                      reason=verdict.reason or "not supported, and no retrieved paper supports it"))  # fmt: skip
        kept = list(dict.fromkeys(kept))
        if kept or sentence.about_query or not sentence.citations:
            # Supported, about the paper being written, or never cited (an uncited sentence is the checker's to
            # report, not the repairer's to delete).
            return sentence.model_copy(update={"citations": kept}), changes, verdicts
        rewritten = await self.rewrite(index, sentence, failed)
        if rewritten is not None:
            new_sentence, new_verdicts = rewritten
            changes.append(Change(kind="sentence rewritten", sentence=index, before=text, after=new_sentence.text,
                                  papers_before=list(sentence.citations), papers_after=list(new_sentence.citations),
                                  reason="no cited or retrieved paper supported it"))  # fmt: skip
            return new_sentence, changes, new_verdicts
        if self.drop_unsupported:
            changes.append(Change(kind="sentence dropped", sentence=index, before=text,
                                  papers_before=list(sentence.citations), reason="no paper supports it"))  # fmt: skip
            return None, changes, []
        changes.append(Change(kind="left uncited", sentence=index, before=text, after=text,
                              papers_before=list(sentence.citations), reason="no paper supports it; needs a source or a rewrite"))  # fmt: skip
        return sentence.model_copy(update={"citations": []}), changes, []

    async def rewrite(
        self, index: int, sentence: Sentence, failed: list[tuple[Paper, Verdict]]
    ) -> tuple[Sentence, list[tuple[str, CitationVerdict]]] | None:
        """Ask the model once for a sentence the evidence supports; keep it only if the judge agrees."""
        if self.rewriter is None:
            return None
        evidence = [(paper, verdict.evidence or paper.title) for paper, verdict in failed]
        new = await self.rewriter.rewrite(sentence.text, evidence, self.query)
        if new is None or not new.citations:
            return None
        verdicts = []
        for pid in new.citations:
            paper = self.papers.get(pid)
            verdict = await judge_once(self.judge, new.text, [paper], self.query) if paper else None
            if verdict is None or not verdict.supported:
                return None
            verdicts.append((pid, _verdict(pid, "repaired", verdict, reason="rewritten from the evidence")))
        return new, verdicts


def _verdict(
    pid: str, status: str, verdict: Verdict, *, replaced: str | None = None, reason: str = ""
) -> CitationVerdict:
    return CitationVerdict(sentence=-1, paper=pid, status=status, score=verdict.score,  # type: ignore[arg-type]
                           evidence=verdict.evidence, replaced=replaced, reason=reason)  # fmt: skip


async def repair(
    sentences: Sequence[Sentence],
    *,
    judge: Judge,
    papers: dict[str, Paper],
    candidates: Sequence[Paper],
    query: str | None = None,
    rewriter: Rewriter | None = None,
    drop_unsupported: bool = True,
    max_candidates: int | None = None,
    lookup: Callable[[str], list[Paper]] | None = None,
) -> Repaired:
    """Verify every citation of `sentences` and repair what fails (see the module docstring).

    `papers` resolves cited ids; `candidates` are the papers a failed citation may be replaced by (the
    retrieved papers of a draft, or the papers a user's text already cites); `lookup(sentence)` adds papers
    retrieved for that sentence. `max_candidates` limits how many candidates the judge is asked about per
    failed citation, after a lexical pre-filter (for a costly judge).
    """
    engine = _Engine(judge, papers, list(candidates), query, rewriter, drop_unsupported, max_candidates, lookup)
    out: list[Sentence | None] = []
    changes: list[Change] = []
    verdicts: list[CitationVerdict] = []
    final_index = 0
    for index, sentence in enumerate(sentences):
        new, sentence_changes, sentence_verdicts = await engine.one(index, sentence)
        out.append(new)
        changes += sentence_changes
        for _, v in sentence_verdicts:
            verdicts.append(v.model_copy(update={"sentence": final_index if new is not None else -1}))
        if new is not None:
            final_index += 1
    count = Counter(v.status for v in verdicts)
    kinds = Counter(c.kind for c in changes)
    verification = Verification(
        judge=getattr(judge, "name", type(judge).__name__),
        citations=sum(len(s.citations) for s in sentences),
        supported=count["supported"],
        repaired=kinds["citation replaced"] + kinds["citation added"],
        removed=kinds["citation removed"],
        rewritten=kinds["sentence rewritten"],
        dropped=kinds["sentence dropped"],
        left_uncited=kinds["left uncited"],
    )
    return Repaired(sentences=out, verdicts=verdicts, changes=changes, verification=verification)


async def regroup(
    paragraphs: Sequence[Paragraph],
    result: Repaired,
    *,
    judge: Judge,
    papers: dict[str, Paper],
    query: str | None = None,
) -> tuple[list[Paragraph], Repaired]:
    """The repaired sentences back in their paragraphs (an emptied paragraph goes), topped up from reserves.

    A paragraph's `reserve` holds a quoted sentence per paper of its theme: one is added, before the paragraph's
    closing sentences about the paper being written, for each paper no surviving sentence cites, when the judge
    supports it. Verdict indices follow the final text.
    """
    repaired = iter(result.sentences)
    groups: list[tuple[Paragraph, list[tuple[int | None, Sentence]]]] = []
    final = 0
    for paragraph in paragraphs:
        kept: list[tuple[int | None, Sentence]] = []
        for sentence in (next(repaired) for _ in paragraph.sentences):
            if sentence is not None:
                kept.append((final, sentence))
                final += 1
        groups.append((paragraph, kept))
    cited = {pid for _, kept in groups for _, s in kept for pid in s.citations}
    added: dict[int, CitationVerdict] = {}  # id() of an added sentence -> its verdict
    changes = list(result.changes)
    for paragraph, kept in groups:
        for sentence in paragraph.reserve:
            pid = sentence.citations[0]
            paper = papers.get(pid)
            if pid in cited or paper is None:
                continue
            verdict = await judge_once(judge, sentence.text, [paper], query)
            if not verdict.supported:
                continue
            cited.add(pid)
            at = len(kept)
            while at > 0 and kept[at - 1][1].about_query:
                at -= 1
            kept.insert(at, (None, sentence))
            added[id(sentence)] = _verdict(pid, "supported", verdict)
            changes.append(Change(kind="sentence added", sentence=-1, before="", after=sentence.text,
                                  papers_after=[pid], reason="no surviving sentence cited this selected paper; "
                                  "quoted from its abstract"))  # fmt: skip
    index: dict[int, int] = {}
    verdicts: list[CitationVerdict] = []
    out: list[Paragraph] = []
    n = 0
    for paragraph, kept in groups:
        for old, sentence in kept:
            if old is None:
                verdicts.append(added[id(sentence)].model_copy(update={"sentence": n}))
            else:
                index[old] = n
            n += 1
        if kept:
            out.append(paragraph.model_copy(update={"sentences": [s for _, s in kept]}))
    verdicts += [v.model_copy(update={"sentence": index.get(v.sentence, -1)}) for v in result.verdicts]
    verdicts.sort(key=lambda v: (v.sentence < 0, v.sentence))
    verification = result.verification
    if verification is not None and added:
        # an added sentence's citation was verified like the others, and supported
        n = len(added)
        verification = verification.model_copy(
            update={"added": n, "citations": verification.citations + n, "supported": verification.supported + n}
        )
    return out, Repaired(
        sentences=[s for _, kept in groups for _, s in kept],
        verdicts=verdicts,
        changes=changes,
        verification=verification,
    )
