"""`Synthesizer`: the one object users touch. It wires corpus, retriever, drafter, judge and model from settings.

Async first: `adraft`, `asearch` and `acheck` hold the logic; `draft`, `search` and `check` run them.
"""

from __future__ import annotations

import logging
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth.corpus import Corpus, load_corpus
from synth.errors import SettingsError, SynthError
from synth.llm.base import run_sync
from synth.models import GroundingReport, Hit, Paper, Section
from synth.settings import Settings

if TYPE_CHECKING:  # annotations only: importing these costs start-up time a plain draft does not need
    from synth.check.fix import Repair
    from synth.check.judges import Judge
    from synth.check.parse import Document
    from synth.draft import Drafter
    from synth.llm.base import LLM
    from synth.retrieve import Retriever
    from synth.retrieve.index import CorpusIndex
    from synth.templates import Prompts

log = logging.getLogger(__name__)


class Synthesizer:
    """Retrieve, draft, check and repair related-work sections.

    Every stage can be passed in (a `Corpus`, a `Retriever`, a `Drafter`, a `Judge`, an `LLM`); what is not
    passed is built from `settings`, themselves built from keyword overrides (`k=20, model="gpt-4o-mini"`),
    SYNTH_* variables and the config file. A stage given by name (`retriever="bm25"`) is a setting.

    >>> s = Synthesizer(corpus="papers.jsonl", k=20)      # doctest: +SKIP
    >>> print(s.draft("program synthesis from examples").markdown)  # doctest: +SKIP
    """

    def __init__(
        self,
        corpus: str | Path | Corpus | None = None,
        *,
        settings: Settings | None = None,
        retriever: Retriever | str | None = None,
        drafter: Drafter | str | None = None,
        llm: LLM | None = None,
        judge: Judge | str | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(corpus, (str, Path)):
            overrides["corpus"] = str(corpus)
        for name, stage in (("drafter", drafter), ("retriever", retriever), ("judge", judge)):
            if isinstance(stage, str):
                overrides[name] = stage
        self.settings = Settings.load(**overrides) if settings is None else settings.updated(**overrides)
        if isinstance(corpus, Corpus):
            self.corpus = corpus  # fills the cached property
        if retriever is not None and not isinstance(retriever, str):
            self.retriever = retriever
        if drafter is not None and not isinstance(drafter, str):
            self.drafter = drafter
        if judge is not None and not isinstance(judge, str):
            self.judge = judge
        if llm is not None:
            from synth.llm.wrappers import Accounted

            # Every call a stage makes is counted, also for a model passed in.
            self.llm = llm if isinstance(llm, Accounted) else Accounted(llm)

    # -- stages, built on first use -----------------------------------------------------------------------

    @cached_property
    def corpus(self) -> Corpus:
        """The corpus named by the settings, loaded on first use."""
        return load_corpus(self.settings.corpus, strict=self.settings.strict)

    @cached_property
    def index(self) -> CorpusIndex:
        """The corpus's indexes, cached under SYNTH_HOME and shared by retrieval and the offline judge."""
        from synth.retrieve.index import CorpusIndex

        return CorpusIndex(self.corpus, self.settings.home / "indexes")

    @cached_property
    def prompts(self) -> Prompts:
        """The prompt templates: the shipped ones, overridden file by file from the `prompts` setting."""
        from synth.templates import Prompts

        return Prompts(self.settings.llm.prompts)

    @cached_property
    def llm(self) -> LLM | None:
        """The language model named by the settings, with retries, cache and accounting; None without one."""
        s = self.settings
        if not s.llm.model:
            return None
        from synth.llm import make_llm

        return make_llm(s.llm, cache_dir=s.home / "llm-cache" if s.llm.cache else None)

    def require_llm(self, what: str) -> LLM:
        """The model, or a SettingsError saying that `what` needs one."""
        if self.llm is None:
            raise SettingsError(f"{what} needs a model: set --model or SYNTH_MODEL")
        return self.llm

    @cached_property
    def retriever_name(self) -> str:
        """The retriever the settings name, with `auto` resolved."""
        from synth.retrieve import auto_retriever

        name = self.settings.retrieval.retriever
        if name != "auto":
            return name
        resolved = auto_retriever(self)
        log.info("retriever: %s (auto)", resolved)
        return resolved

    @cached_property
    def retriever(self) -> Retriever:
        """The retriever named by the settings, with LLM query expansion when asked for and a model is set."""
        from synth.retrieve import RETRIEVERS

        r = self.settings.retrieval
        base = RETRIEVERS[self.retriever_name](self)
        if r.llm_queries and self.llm is not None:
            from synth.retrieve.expand import ExpandedRetriever

            return ExpandedRetriever(base, self.llm, n=r.llm_queries, prompts=self.prompts)
        return base

    @cached_property
    def drafter(self) -> Drafter:
        """The LLM pipeline when a model is set (or asked for), else the offline extractive drafter."""
        from synth.draft import PIPELINES, extractive_drafter

        d = self.settings.draft
        if d.drafter == "extractive" or (d.drafter == "auto" and self.llm is None):
            return extractive_drafter(self)
        return PIPELINES[d.pipeline](self)

    @cached_property
    def judge(self) -> Judge:
        """The judge named by the settings (offline by default, sharing the corpus index)."""
        from synth.check import JUDGES

        return JUDGES[self.settings.check.judge](self)

    @property
    def uses_llm(self) -> bool:
        """Whether drafting will call a language model."""
        return self.drafter.name != "extractive"

    # -- the work -----------------------------------------------------------------------------------------

    async def _fetch(self, query: str) -> None:
        """With a live source, the corpus is what the source returns for this query (fetched once, then cached)."""
        r = self.settings.retrieval
        if r.source is None:
            return
        import asyncio

        from synth.sources import fetch_corpus

        path = await asyncio.to_thread(fetch_corpus, r.source, query, max_results=r.source_max, before=r.before,
                                       after=r.after, home=self.settings.home)  # fmt: skip
        if "corpus" not in self.__dict__ or self.corpus.source != str(path):
            self.corpus = load_corpus(path, strict=self.settings.strict)
            for stage in ("index", "retriever", "retriever_name", "judge"):  # built on the previous corpus
                self.__dict__.pop(stage, None)

    async def asearch(
        self, query: str, k: int | None = None, *, before: str | None = None
    ) -> tuple[list[Hit], list[str]]:
        """The k best papers for the query within the date range, and notes on what the filter did."""
        query = _clean_query(query)
        await self._fetch(query)
        return await self._search(query, k, before)

    async def _search(self, query: str, k: int | None, before: str | None) -> tuple[list[Hit], list[str]]:
        """`asearch` for a query already cleaned, on the corpus already fetched."""
        k = k or self.settings.retrieval.k
        r = self.settings.retrieval
        before = before or r.before
        search = getattr(self.retriever, "asearch", None)
        if not (before or r.after):
            return (await search(query, k) if search else self.retriever.search(query, k)), []
        from synth.retrieve.filters import within_dates

        everything = len(self.corpus)
        found = await search(query, everything) if search else self.retriever.search(query, everything)
        hits = within_dates(found, before, r.after)[0][:k]
        unsure = within_dates(hits, before, r.after)[1]  # of the papers returned, those not surely in range
        note = (
            f"date filter: {unsure} of the {len(hits)} papers have no date precise enough to be sure they are in range"
        )
        return hits, [note] if unsure else []

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """The k best papers for the query (k from settings), within the date range when one is set."""
        return run_sync(self.asearch(query, k))[0]

    async def adraft(self, query: str, k: int | None = None, *, before: str | None = None) -> Section:
        """Retrieve papers for the query and draft a cited section from them.

        `before` overrides the date cutoff for this query (an evaluation suite gives one per query).
        """
        from synth.llm import metering, preflight

        query = _clean_query(query)
        drafter = self.drafter  # resolve first: a misconfigured drafter fails before any work
        preflight(self.settings.llm)  # a missing key fails now, not after retrieval
        await self._fetch(query)
        # A drafter that chooses what to cite from a wider pool says how many candidates it wants.
        wanted = k or getattr(drafter, "candidates", None) or self.settings.retrieval.k
        with metering() as meter:
            t0 = time.perf_counter()
            hits, notes = await self._search(query, wanted, before)  # cleaned and fetched above
            if not hits:
                raise SynthError(f"no paper in {self.corpus.source} matches the query; try other words")
            t1 = time.perf_counter()
            section = await drafter.adraft(query, hits)
            t2 = time.perf_counter()
            name = drafter.name
            if self.settings.draft.verify:
                section = await self._verify(section, hits, query)
                if not section.sentences and name != "extractive":
                    section, name = await self._offline_instead(section, hits, query), "extractive"
            t3 = time.perf_counter()
        timings = {
            **section.timings,
            "retrieval_s": t1 - t0,
            "draft_s": t2 - t1,
            "verify_s": t3 - t2,
            "llm_s": meter.usage.latency_s,
        }
        return section.model_copy(
            update={
                "query": query,
                "hits": hits,
                "drafter": name,
                "issues": [*notes, *section.issues],
                "heading": self.settings.draft.heading,
                "heading_level": self.settings.draft.heading_level,
                "timings": timings,
                "usage": meter.usage,
                "settings": self.settings.public(),
            }
        )

    async def _offline_instead(self, failed: Section, hits: list[Hit], query: str) -> Section:
        """The verified extractive section, when no sentence of the model's draft survived verification: the
        user gets a grounded section, and is told why."""
        from synth.draft import extractive_drafter

        section = await extractive_drafter(self).adraft(query, hits[: self.settings.retrieval.k])
        section = await self._verify(section, hits, query)
        dropped = sum(c.kind == "sentence dropped" for c in failed.changes)
        note = (f"no sentence of the model's draft was supported by a paper it could cite ({dropped} dropped); "
                "the offline extractive drafter wrote this section instead")  # fmt: skip
        log.warning(note)
        return section.model_copy(update={"issues": [*failed.issues, note, *section.issues]})

    async def _verify(self, section: Section, hits: list[Hit], query: str) -> Section:
        """Judge every citation of a draft and repair what fails; verdicts and changes travel with the section."""
        from synth.check import drafting_judge
        from synth.check.repair import regroup, repair
        from synth.check.rewrite import LLMRewriter

        papers = {h.paper.id: h.paper for h in hits}
        judge = drafting_judge(self)
        result = await repair(
            section.sentences,
            judge=judge,
            papers=papers,
            candidates=list(papers.values()),
            query=query,
            rewriter=LLMRewriter(self.llm, self.prompts) if self.llm is not None and self.uses_llm else None,
            drop_unsupported=True,
            max_candidates=_replacement_budget(judge),
        )
        paragraphs, result = await regroup(section.paragraphs, result, judge=judge, papers=papers, query=query)
        return section.model_copy(
            update={
                "paragraphs": paragraphs,
                "verdicts": result.verdicts,
                "changes": result.changes,
                "verification": result.verification,
            }
        )

    def draft(self, query: str, k: int | None = None, *, before: str | None = None) -> Section:
        """Retrieve papers for the query and draft a cited section from them."""
        return run_sync(self.adraft(query, k, before=before))

    async def acheck(
        self,
        source: str | Path | Section | dict[str, Any] | None = None,
        *,
        text: str | None = None,
        gold: list[str] | None = None,
        query: str | None = None,
    ) -> GroundingReport:
        """Check every citation of a section, synth's JSON, or a file (`source`) or a `text`, against the corpus.

        `query` is the paper being written, when known: the judge treats it as a competitor of the cited
        papers. A Section brings its own.
        """
        from synth.check.parse import read_source

        doc = read_source(source, text, self.corpus)
        return await self._check_document(doc, gold=gold, query=query or doc.query)

    async def _check_document(self, doc: Document, *, gold: list[str] | None, query: str | None) -> GroundingReport:
        from synth.check.metrics import acheck
        from synth.llm import metering

        s = self.settings.check
        with metering() as meter:
            report = await acheck(
                doc, self.corpus, self.judge, window=s.window, min_chars=s.min_chars, gold=gold, query=query
            )
        return report.model_copy(update={"usage": meter.usage})

    def check(
        self,
        source: str | Path | Section | dict[str, Any] | None = None,
        *,
        text: str | None = None,
        gold: list[str] | None = None,
        query: str | None = None,
    ) -> GroundingReport:
        """Check every citation of a section, synth's JSON, or a file (`source`) or a `text`, against the corpus."""
        return run_sync(self.acheck(source, text=text, gold=gold, query=query))

    async def arepair(
        self,
        source: str | Path | Section | dict[str, Any] | None = None,
        *,
        text: str | None = None,
        query: str | None = None,
    ) -> Repair:
        """Verify every citation of a text and repair what fails, as for a draft; written back in its own format.

        A failed citation moves to the paper that supports the sentence best, among those the text cites or
        lists and those retrieval ranks highest for the sentence;
        with a model, a sentence no such paper supports is rewritten from the evidence; otherwise its citation
        is removed and the change reported. A user's sentence is never deleted.
        """
        from synth.check.fix import Repair, candidates, write_back
        from synth.check.parse import parse_text, read_source
        from synth.check.repair import repair
        from synth.check.rewrite import LLMRewriter
        from synth.llm import metering
        from synth.models import Sentence

        doc = read_source(source, text, self.corpus)
        query = query or doc.query
        before = await self._check_document(doc, gold=None, query=query)
        sentences = [Sentence(text=s.text, citations=s.cited) for s in doc.sentences]
        pool = [self.corpus.by_id[pid] for pid in candidates(doc, self.corpus)]
        with metering() as meter:
            result = await repair(
                sentences,
                judge=self.judge,
                papers=self.corpus.by_id,
                candidates=pool,
                query=query,
                rewriter=LLMRewriter(self.llm, self.prompts) if self.llm is not None else None,
                drop_unsupported=False,
                max_candidates=_replacement_budget(self.judge),
                lookup=self._papers_for,
            )
        fixed = write_back(doc, result.sentences, self.corpus)
        # The report after repair is of the text as written back, so it shows what the user gets.
        after = await self._check_document(
            parse_text(fixed, self.corpus, doc.kind or "markdown"), gold=None, query=query
        )
        after = after.model_copy(update={"usage": after.usage + meter.usage})
        return Repair(text=fixed, changes=result.changes, report=after, before=before, verification=result.verification)

    def _papers_for(self, sentence: str, k: int = 10) -> list[Paper]:
        """The corpus papers BM25 ranks highest for one sentence: where a failed citation may move to."""
        from synth.retrieve.bm25 import BM25Retriever

        return [h.paper for h in BM25Retriever(self.corpus, index=self.index.bm25).search(sentence, k)]

    def repair(
        self,
        source: str | Path | Section | dict[str, Any] | None = None,
        *,
        text: str | None = None,
        query: str | None = None,
    ) -> Repair:
        """The sync form of `arepair`."""
        return run_sync(self.arepair(source, text=text, query=query))


def _replacement_budget(judge: Judge) -> int | None:
    """How many candidates a failed citation is judged against: all offline, the five likeliest with a model."""
    return None if getattr(judge, "name", "") == "offline" else 5


def _clean_query(query: str) -> str:
    query = " ".join(query.split())
    if not query:
        raise SynthError("the query is empty; give a topic, or a title and abstract")
    return query
