"""`Synthesizer`: the one object users touch. It wires corpus, retriever and drafter from settings."""

from __future__ import annotations

import logging
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synth.corpus import Corpus, load_corpus
from synth.draft import Drafter
from synth.draft.extractive import ExtractiveDrafter
from synth.errors import SettingsError, SynthError
from synth.models import GroundingReport, Hit, Section
from synth.retrieve import Retriever
from synth.retrieve.bm25 import BM25Retriever
from synth.settings import Settings

if TYPE_CHECKING:  # annotations only: importing these costs start-up time a plain draft does not need
    from synth.check.judges import Judge
    from synth.llm import LLM

log = logging.getLogger(__name__)


class Synthesizer:
    """Retrieve, draft and render related-work sections.

    Every stage can be passed in (a `Corpus`, a `Retriever`, a `Drafter`, an `LLM`); what is not passed is
    built from `settings`, itself built from keyword overrides, SYNTH_* variables and the config file.
    `drafter="llm"` or `retriever="bm25"` (a name, not an object) is a setting like any other.

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
        # A name ("llm", "bm25") is a setting; an object is the stage itself.
        if isinstance(drafter, str):
            overrides["drafter"], drafter = drafter, None
        if isinstance(retriever, str):
            overrides["retriever"], retriever = retriever, None
        if isinstance(judge, str):
            overrides["judge"], judge = judge, None
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = Settings(**{**settings.model_dump(), **overrides})
        self.settings = settings
        if isinstance(corpus, Corpus):
            self.corpus = corpus  # fills the cached property
        if retriever is not None:
            self.retriever = retriever
        if drafter is not None:
            self.drafter = drafter
        if llm is not None:
            self.llm = llm
        if judge is not None:
            self.judge = judge

    @cached_property
    def corpus(self) -> Corpus:
        """The corpus named by the settings, loaded on first use."""
        return load_corpus(self.settings.corpus, strict=self.settings.strict)

    @cached_property
    def retriever(self) -> Retriever:
        """The retriever named by the settings, with LLM query expansion when asked for and a model is set."""
        base = self._base_retriever()
        if self.settings.llm_queries and self.llm is not None:
            from synth.retrieve.expand import ExpandedRetriever
            from synth.templates import Prompts

            return ExpandedRetriever(
                base, self.llm, n=self.settings.llm_queries, prompts=Prompts(self.settings.prompts)
            )
        return base

    def _base_retriever(self) -> Retriever:
        """The retriever named by the settings, its indexes cached under SYNTH_HOME."""
        from synth.retrieve.dense import DenseRetriever, dense_ready
        from synth.retrieve.fusion import HybridRetriever

        s, cache = self.settings, self.settings.home / "indexes"
        # auto: hybrid only when the corpus's embeddings are cached, so a draft never embeds a corpus unasked.
        name = s.retriever
        if name == "auto":
            name = "hybrid" if dense_ready(self.corpus, cache, s.embeddings) else "bm25"
            log.info("retriever: %s (auto)", name)
        if name == "bm25":
            return BM25Retriever(self.corpus, cache_dir=cache, prf=s.prf)
        dense = DenseRetriever(self.corpus, cache_dir=cache, embeddings=s.embeddings)
        if name == "dense":
            return dense
        return HybridRetriever([BM25Retriever(self.corpus, cache_dir=cache, prf=s.prf), dense], method=s.fusion)

    @cached_property
    def llm(self) -> LLM | None:
        """The language model named by the settings (reached through litellm), or None."""
        s = self.settings
        if not s.model:
            return None
        from synth.llm import LiteLLM

        return LiteLLM(
            s.model,
            api_base=s.api_base,
            temperature=s.temperature,
            max_tokens=s.max_output_tokens,
            timeout=s.timeout,
            max_retries=s.max_retries,
            json_mode=s.json_mode,
            cache_dir=s.home / "llm-cache" if s.cache else None,
        )

    @cached_property
    def drafter(self) -> Drafter:
        """The LLM drafter when a model is configured (or asked for), else the offline extractive one."""
        s = self.settings
        if s.drafter == "extractive" or (s.drafter == "auto" and self.llm is None):
            return ExtractiveDrafter()
        if self.llm is None:
            raise SettingsError("--drafter llm needs a model: set --model or SYNTH_MODEL")
        from synth.draft.llm import LLMDrafter
        from synth.templates import Prompts

        return LLMDrafter(
            self.llm,
            prompts=Prompts(s.prompts),
            words=s.words,
            style=s.style,
            context_window=s.context_window,
            reserve_tokens=s.max_output_tokens,
        )

    @cached_property
    def judge(self) -> Judge:
        """The judge named by the settings: offline (sharing the retrieval index) or the LLM."""
        from synth.check.judges import LLMJudge, OfflineJudge

        if self.settings.judge == "llm":
            if self.llm is None:
                raise SettingsError("--judge llm needs a model: set --model or SYNTH_MODEL")
            from synth.templates import Prompts

            return LLMJudge(self.llm, Prompts(self.settings.prompts), trials=self.settings.judge_trials)
        retriever = getattr(self.retriever, "base", self.retriever)
        parts = getattr(retriever, "retrievers", [retriever])
        index = next((r.index for r in parts if isinstance(r, BM25Retriever)), None)  # reuse, do not rebuild
        return OfflineJudge(self.corpus, index=index)

    def check(self, source: str | Path | Section | dict[str, Any], gold: list[str] | None = None) -> GroundingReport:
        """Check every citation of a section, a file or a text against this synthesizer's corpus."""
        from synth.check.metrics import check

        s = self.settings
        return check(source, self.corpus, self.judge, window=s.window, min_chars=s.min_chars, gold=gold)

    @property
    def uses_llm(self) -> bool:
        """Whether drafting will call a language model."""
        return self.drafter.name != "extractive"

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """The k best papers for the query (k from settings), within the date range when one is set."""
        return self._search(_clean_query(query), k)[0]

    def _search(self, query: str, k: int | None) -> tuple[list[Hit], list[str]]:
        k = k or self.settings.k
        s = self.settings
        if not (s.before or s.after):
            return self.retriever.search(query, k), []
        from synth.retrieve.filters import within_dates

        hits, undated = within_dates(self.retriever.search(query, len(self.corpus)), s.before, s.after)
        return hits[:k], [f"date filter: {undated} papers without a date were kept"] if undated else []

    def draft(self, query: str, k: int | None = None) -> Section:
        """Retrieve papers for the query and draft a cited section from them."""
        query, drafter, hits, started = self._retrieve(query, k)
        section = drafter.draft(query, hits)
        return self._finish(query, drafter, hits, section, started)

    async def adraft(self, query: str, k: int | None = None) -> Section:
        """`draft` for concurrent use: the LLM call does not block the event loop."""
        query, drafter, hits, started = self._retrieve(query, k)
        import asyncio

        adraft = getattr(drafter, "adraft", None)
        if adraft is not None:
            section = await adraft(query, hits)
        else:  # an offline drafter: run it beside the loop
            section = await asyncio.to_thread(drafter.draft, query, hits)
        return self._finish(query, drafter, hits, section, started)

    def _retrieve(self, query: str, k: int | None) -> tuple[str, Drafter, list[Hit], tuple[float, float, list[str]]]:
        query = _clean_query(query)
        drafter = self.drafter  # resolve first: a misconfigured drafter fails before any work
        t0 = time.perf_counter()
        hits, notes = self._search(query, k)
        if not hits:
            raise SynthError(f"no paper in {self.corpus.source} matches the query; try other words")
        return query, drafter, hits, (t0, time.perf_counter(), notes)

    def _finish(
        self, query: str, drafter: Drafter, hits: list[Hit], section: Section, started: tuple[float, float, list[str]]
    ) -> Section:
        t0, t1, notes = started
        t2 = time.perf_counter()
        timings = {**section.timings, "retrieval_s": t1 - t0, "draft_s": t2 - t1, "llm_s": section.usage.latency_s}
        return section.model_copy(
            update={
                "query": query,
                "hits": hits,
                "drafter": drafter.name,
                "issues": [*notes, *section.issues],
                "heading": self.settings.heading,
                "heading_level": self.settings.heading_level,
                "timings": timings,
                "settings": self.settings.public(),
            }
        )


def _clean_query(query: str) -> str:
    query = " ".join(query.split())
    if not query:
        raise SynthError("the query is empty; give a topic, or a title and abstract")
    return query
