"""`synth check`: verdicts on every citation of a related-work text, and the metrics built from them.

Definitions (also in eval/README.md). Sentences shorter than `min_chars` are skipped. Over the rest:
- citation precision (DeepScholar cite-P): precise citations / citations; a citation is precise when its
  source alone supports the sentence;
- leave-one-out precision (ALCE): a citation is imprecise when the sentence's citations together do not
  support it, or when it does not support the sentence alone but the other citations do without it;
- claim coverage (DeepScholar): sentences supported by the sources cited within ±window sentences / sentences;
- citation recall (ALCE): the same with window 0, the sentence's own citations;
- uncited rate: sentences citing no resolvable paper / sentences;
- invalid citations: markers that resolve to no corpus paper; never cited: retrieved papers not cited;
- reference coverage: gold papers the text cites / gold papers (matched by id, DOI or title).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from synth.check.judges import Judge, judge_once
from synth.check.parse import Document, Kind, parse_text, read_source
from synth.corpus import Corpus
from synth.llm.base import run_sync
from synth.models import GroundingReport, Paper, Section, SentenceCheck, Verdict
from synth.titles import best_match


async def acheck(
    doc: Document,
    corpus: Corpus,
    judge: Judge,
    *,
    window: int = 1,
    min_chars: int = 50,
    gold: list[str] | None = None,
    query: str | None = None,
    concurrency: int = 8,
) -> GroundingReport:
    """Judge every citation of `doc` against `corpus` and compute the grounding metrics.

    `query` is the paper being written, when known; the judge treats it as a competitor of the cited papers.
    Sentences are judged concurrently (an LLM judge answers several at once), `concurrency` at a time.
    """
    papers = corpus.by_id
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> SentenceCheck:
        s = doc.sentences[i]
        check = SentenceCheck(index=i, text=s.text, cited=s.cited, unresolved=s.unresolved)
        check.skipped = len(s.text) < min_chars
        if check.skipped:
            return check
        async with gate:
            support = _memo(judge, s.text, query)
            cited = [papers[c] for c in s.cited]
            check.citations = [await support([p]) for p in cited]
            check.precise = [v.supported for v in check.citations]
            check.recall = await support(cited) if cited else None
            check.precise_loo = await _leave_one_out(support, cited, check)
            near = doc.sentences[max(0, i - window) : i + window + 1]
            sources = list(dict.fromkeys(c for n in near for c in n.cited))
            check.coverage = await support([papers[c] for c in sources]) if sources else None
        return check

    checks = list(await asyncio.gather(*(one(i) for i in range(len(doc.sentences)))))
    counted = [c for c in checks if not c.skipped]
    flags = [f for c in counted for f in c.precise]
    loo = [f for c in counted for f in c.precise_loo]
    cited_ids = {c for s in doc.sentences for c in s.cited}
    notes = list(doc.notes)
    if note := getattr(judge, "note", None):
        notes.append(note)
    if not counted:
        notes.append(f"no sentence of at least {min_chars} characters to check")
    return GroundingReport(
        judge=getattr(judge, "name", type(judge).__name__),
        window=window,
        min_chars=min_chars,
        citation_precision=_share(flags),
        citation_precision_loo=_share(loo),
        claim_coverage=_share([bool(c.coverage and c.coverage.supported) for c in counted]),
        citation_recall=_share([bool(c.recall and c.recall.supported) for c in counted]),
        uncited_rate=_share([not c.cited for c in counted]),
        invalid_citations=sum(len(s.unresolved) for s in doc.sentences),
        never_cited=[r for r in doc.retrieved if r not in cited_ids] if doc.retrieved is not None else None,
        reference_coverage=reference_coverage([papers[c] for c in cited_ids], gold, corpus) if gold else None,
        sentences=checks,
        notes=notes,
    )


def check(
    source: str | Path | Section | dict | Document,
    corpus: Corpus,
    judge: Judge,
    *,
    window: int = 1,
    min_chars: int = 50,
    gold: list[str] | None = None,
    kind: Kind | None = None,
    query: str | None = None,
) -> GroundingReport:
    """The sync form of `acheck`, for a `Document`, a Section, synth's JSON, a file `Path`, or text (a `str`)."""
    if isinstance(source, Document):
        doc = source
    elif isinstance(source, str):
        doc = parse_text(source, corpus, kind)
    else:
        doc = read_source(source, None, corpus, kind)
    query = query or doc.query
    return run_sync(acheck(doc, corpus, judge, window=window, min_chars=min_chars, gold=gold, query=query))


Support = Callable[[list[Paper]], Awaitable[Verdict]]


def _memo(judge: Judge, text: str, query: str | None) -> Support:
    """The judge's verdict on one sentence by a set of papers, asked once per set.

    Precision, recall, leave-one-out and coverage often ask about the same set (a one-citation sentence,
    a window holding only the sentence's own citations); an LLM judge would pay for each repeat.
    """
    seen: dict[frozenset[str], Verdict] = {}

    async def support(papers: list[Paper]) -> Verdict:
        key = frozenset(p.id for p in papers)
        if key not in seen:
            seen[key] = await judge_once(judge, text, papers, query)
        return seen[key]

    return support


async def _leave_one_out(support: Support, cited: list[Paper], check: SentenceCheck) -> list[bool]:
    if not cited:
        return []
    if not (check.recall and check.recall.supported):
        return [False] * len(cited)  # the citations together do not support the sentence
    flags = []
    for i, alone in enumerate(check.citations):
        others = cited[:i] + cited[i + 1 :]
        flags.append(alone.supported or not (others and (await support(others)).supported))
    return flags


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def reference_coverage(cited: list[Paper], gold: list[str], corpus: Corpus) -> float:
    """Share of gold references (ids, DOIs or titles) that some cited paper matches."""
    ids = {p.id for p in cited}
    dois = {(p.doi or "").lower() for p in cited if p.doi}
    titles = [p.title for p in cited]

    def found(ref: str) -> bool:
        if ref in corpus.by_id:
            return ref in ids
        return ref.lower().removeprefix("https://doi.org/") in dois or best_match(ref, titles) is not None

    return round(sum(found(g) for g in gold) / len(gold), 4) if gold else 0.0
