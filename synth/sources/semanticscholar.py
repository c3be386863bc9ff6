"""Semantic Scholar's paper relevance search (Academic Graph API), as OpenScholar and PaperQA2 search it.

Not through the `semanticscholar` package: it is maintained and its URL can be changed, but it retries a
429 with its own exponential wait of 5-60 s for up to ten tries, ignoring Retry-After, with no overall
deadline, and it hides the response so a caller cannot read the header either. The search is one JSON GET,
made through the shared client.

An API key, when S2_API_KEY is set, is sent in the x-api-key header (never in the URL, never logged).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from synth.errors import SourceError
from synth.models import Paper
from synth.sources.base import DateWindow, Skipped, to_paper
from synth.sources.http import Http, HttpSource, Limits, json_body

log = logging.getLogger(__name__)

FIELDS = "paperId,externalIds,url,title,abstract,venue,year,publicationDate,authors"
MAX_RESULTS = 1000  # the relevance search serves the first 1,000 results of a query and no more


class SemanticScholarSource(HttpSource):
    """Semantic Scholar's relevance search, `page_size` papers a request (at most 100)."""

    name = "semanticscholar"
    default_url = "https://api.semanticscholar.org/graph/v1"
    env_url = "S2_API_URL"
    env_key = "S2_API_KEY"
    delay = 1.0  # the shared pool without a key, and the introductory key rate, are about one request a second

    def __init__(self, *, limits: Limits, base_url: str | None = None, page_size: int = 100) -> None:
        self.url = (base_url or os.environ.get(self.env_url) or self.default_url).rstrip("/") + "/paper/search"
        self.page_size = min(page_size, 100)
        key = os.environ.get(self.env_key)
        hint = f"; check {self.env_key}" if key else f"; setting {self.env_key} (a free key) raises the rate limit"
        self.http = Http(
            self.name, delay=self.delay, limits=limits, headers={"x-api-key": key} if key else None, hint=hint
        )

    def search(self, query: str, limit: int, window: DateWindow) -> Iterator[Paper | Skipped]:
        """Up to `limit` papers for the query, published within the window (publicationDateOrYear)."""
        if limit > MAX_RESULTS:
            log.info("semanticscholar: a search returns at most %d papers; asked for %d", MAX_RESULTS, limit)
            limit = MAX_RESULTS
        params: dict[str, str | int] = {"query": plain(query), "fields": FIELDS}
        if window:
            first, last = (day.isoformat() if day else "" for day in (window.first, window.last))
            params["publicationDateOrYear"] = f"{first}:{last}"
        offset = 0
        while offset < limit:
            size = min(self.page_size, limit - offset)
            data = json_body(self.http.get(self.url, {**params, "offset": offset, "limit": size}), self.name)
            papers = data.get("data") if isinstance(data, dict) else None
            if papers is None and isinstance(data, dict) and data.get("total") == 0:
                papers = []  # no match: some answers leave out the empty data list
            if not isinstance(papers, list):
                raise SourceError("semanticscholar sent a page without a data list; try again later")
            yield from (to_record(p) for p in papers)
            offset += len(papers)
            if not papers or not isinstance(data.get("next"), int):
                break


def plain(query: str) -> str:
    """The query as plain words: the search reads no syntax, and a hyphenated word matches nothing."""
    return " ".join(re.split(r"\W+", query)).strip()


def to_record(record: Any) -> Paper | Skipped:
    """A Paper from a search result, or why it cannot be one."""
    if not isinstance(record, dict):
        return Skipped("malformed", f"a result that is a {type(record).__name__}, not a paper")
    try:
        ids = record.get("externalIds") or {}
        return to_paper(
            title=record.get("title"),
            abstract=record.get("abstract"),
            authors=[a["name"] or "" for a in record.get("authors") or []],
            published=record.get("publicationDate"),
            year=record.get("year"),
            venue=record.get("venue"),
            url=record.get("url"),
            doi=ids.get("DOI"),
            arxiv_id=ids.get("ArXiv"),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:  # ValueError: also pydantic's
        return Skipped(
            "malformed", f"paper {record.get('paperId')!s}: " + " ".join(f"{type(e).__name__} {e}".split())[:200]
        )
