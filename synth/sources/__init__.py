"""Live sources: search arXiv, OpenAlex or Semantic Scholar and keep what they return as a corpus file.

The registry is here, the shared shapes in `base.py`, one module per source, the HTTP client in `http.py`,
and `fetcher.py` runs the queries, merges the results and caches them. No HTTP library is imported, and no
connection is made, until a source is asked to search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synth.sources.base import DateWindow, Skipped, Source, SourceFactory
from synth.sources.fetcher import Fetched, fetch, fetch_corpus

if TYPE_CHECKING:
    from synth.sources.http import Limits


def _arxiv(limits: Limits, **options: Any) -> Source:
    from synth.sources.arxiv import ArxivSource

    return ArxivSource(limits=limits, **options)


def _openalex(limits: Limits, **options: Any) -> Source:
    from synth.sources.openalex import OpenAlexSource

    return OpenAlexSource(limits=limits, **options)


def _semanticscholar(limits: Limits, **options: Any) -> Source:
    from synth.sources.semanticscholar import SemanticScholarSource

    return SemanticScholarSource(limits=limits, **options)


SOURCES: dict[str, SourceFactory] = {"arxiv": _arxiv, "openalex": _openalex, "semanticscholar": _semanticscholar}
"""Name -> factory. Register another source by adding a factory that takes `limits=` and returns a `Source`."""

__all__ = ["SOURCES", "DateWindow", "Fetched", "Skipped", "Source", "SourceFactory", "fetch", "fetch_corpus"]
