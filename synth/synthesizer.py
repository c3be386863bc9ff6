"""`Synthesizer`: the one object users touch. It wires corpus, retriever and drafter from settings."""

from __future__ import annotations

import logging
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from synth.corpus import Corpus, load_corpus
from synth.drafting import Drafter, ExtractiveDrafter
from synth.errors import SettingsError, SynthError
from synth.models import Hit, Section
from synth.retrieval import BM25Retriever, Retriever
from synth.settings import Settings

log = logging.getLogger(__name__)


class Synthesizer:
    """Retrieve, draft and render related-work sections.

    Every stage can be passed in (a `Corpus`, a `Retriever`, a `Drafter`); what is not passed is built
    from `settings`, itself built from keyword overrides, SYNTH_* variables and the config file.

    >>> s = Synthesizer(corpus="papers.jsonl", k=20)      # doctest: +SKIP
    >>> print(s.draft("program synthesis from examples").markdown)  # doctest: +SKIP
    """

    def __init__(
        self,
        corpus: str | Path | Corpus | None = None,
        *,
        settings: Settings | None = None,
        retriever: Retriever | None = None,
        drafter: Drafter | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(corpus, (str, Path)):
            overrides["corpus"] = str(corpus)
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

    @cached_property
    def corpus(self) -> Corpus:
        """The corpus named by the settings, loaded on first use."""
        return load_corpus(self.settings.corpus, strict=self.settings.strict)

    @cached_property
    def retriever(self) -> Retriever:
        """The retriever named by the settings, its index cached under SYNTH_HOME."""
        return BM25Retriever(self.corpus, cache_dir=self.settings.home / "indexes")

    @cached_property
    def drafter(self) -> Drafter:
        """The LLM drafter when a model is configured (or asked for), else the offline extractive one."""
        s = self.settings
        if s.drafter == "extractive" or (s.drafter == "auto" and not s.model):
            return ExtractiveDrafter()
        raise SettingsError(
            "LLM drafting is not available in this version of synth; "
            "unset SYNTH_MODEL / --model or pass --drafter extractive"
        )

    @property
    def uses_llm(self) -> bool:
        """Whether drafting will call a language model."""
        return self.drafter.name != "extractive"

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """The k best papers for the query (k from settings when not given)."""
        query = _clean_query(query)
        return self.retriever.search(query, k or self.settings.k)

    def draft(self, query: str, k: int | None = None) -> Section:
        """Retrieve papers for the query and draft a cited section from them."""
        query = _clean_query(query)
        drafter = self.drafter  # resolve first: a misconfigured drafter fails before any work
        t0 = time.perf_counter()
        hits = self.retriever.search(query, k or self.settings.k)
        t1 = time.perf_counter()
        if not hits:
            raise SynthError(f"no paper in {self.corpus.source} matches the query; try other words")
        section = drafter.draft(query, hits)
        t2 = time.perf_counter()
        return section.model_copy(
            update={
                "query": query,
                "hits": hits,
                "drafter": drafter.name,
                "heading": self.settings.heading,
                "heading_level": self.settings.heading_level,
                "timings": {**section.timings, "retrieval_s": t1 - t0, "draft_s": t2 - t1},
                "settings": self.settings.public(),
            }
        )


def _clean_query(query: str) -> str:
    query = " ".join(query.split())
    if not query:
        raise SynthError("the query is empty; give a topic, or a title and abstract")
    return query
