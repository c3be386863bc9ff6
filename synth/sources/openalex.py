"""OpenAlex works search (`/works?search=`), the open catalogue of scholarly works.

Not through `pyalex`: it is maintained, but it builds every URL on https://api.openalex.org whatever its
configured base URL says (so it cannot be pointed at a test server), sends requests with no timeout, and
keeps its settings in one global object. The API is one JSON GET, made through the shared client.

Keys from the environment: OPENALEX_API_KEY (a free key; the API has required one since February 2026
beyond a small daily allowance) and OPENALEX_MAILTO (an address, for the polite pool). Neither is logged.
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

FIELDS = (
    "id,doi,title,display_name,publication_year,publication_date,authorships,primary_location,abstract_inverted_index"
)
_ABS = re.compile(r"arxiv\.org/abs/([^?#]+?)/?$")


class OpenAlexSource(HttpSource):
    """OpenAlex's works search, `page_size` works a request (at most 100)."""

    name = "openalex"
    default_url = "https://api.openalex.org"
    env_url = "OPENALEX_API_URL"
    env_key = "OPENALEX_API_KEY"
    env_mailto = "OPENALEX_MAILTO"
    delay = 0.2  # far under the 100 requests a second OpenAlex allows; each search is billed anyway

    def __init__(self, *, limits: Limits, base_url: str | None = None, page_size: int = 100) -> None:
        self.url = (base_url or os.environ.get(self.env_url) or self.default_url).rstrip("/") + "/works"
        self.page_size = min(page_size, 100)
        key, mailto = os.environ.get(self.env_key), os.environ.get(self.env_mailto)
        self.identity = {name: value for name, value in (("api_key", key), ("mailto", mailto)) if value}
        hint = f"; check {self.env_key}" if key else f"; set {self.env_key} (a free key from openalex.org)"
        self.http = Http(self.name, delay=self.delay, limits=limits, hint=hint)
        httpx_log = logging.getLogger("httpx")
        if key and not any(isinstance(f, _Redact) and f.secret == key for f in httpx_log.filters):
            httpx_log.addFilter(_Redact(key))  # the key travels as a query parameter: keep it out of request logs

    def search(self, query: str, limit: int, window: DateWindow) -> Iterator[Paper | Skipped]:
        """Up to `limit` works for the query, published within the window (from/to_publication_date)."""
        per_page = min(self.page_size, limit)  # page-based paging needs the same page size throughout
        params: dict[str, str | int] = {"search": plain(query), "per_page": per_page, "select": FIELDS}
        if window:
            bounds = [("from_publication_date", window.first), ("to_publication_date", window.last)]
            params["filter"] = ",".join(f"{name}:{day.isoformat()}" for name, day in bounds if day)
        params |= self.identity
        seen, page = 0, 1
        while seen < limit:
            data = json_body(self.http.get(self.url, {**params, "page": page}), self.name)
            results = data.get("results") if isinstance(data, dict) else None
            if not isinstance(results, list):
                raise SourceError("openalex sent a page without a results list; try again later")
            for work in results[: limit - seen]:
                yield to_work(work)
            seen += len(results)
            count = (data.get("meta") or {}).get("count")
            if not results or (isinstance(count, int) and seen >= count):
                break
            page += 1


def plain(query: str) -> str:
    """The query as lowercase words: OpenAlex reads AND/OR/NOT, quotes and brackets in a search as operators."""
    return " ".join(re.split(r"\W+", query)).strip().lower()


def to_work(work: Any) -> Paper | Skipped:
    """A Paper from an OpenAlex work, or why it cannot be one."""
    if not isinstance(work, dict):
        return Skipped("malformed", f"a result that is a {type(work).__name__}, not a work")
    try:
        location = work.get("primary_location") or {}
        landing = location.get("landing_page_url") or None
        arxiv = _ABS.search(landing or "")
        return to_paper(
            title=work.get("title") or work.get("display_name"),
            abstract=abstract(work.get("abstract_inverted_index")),
            authors=[a["author"]["display_name"] or "" for a in work.get("authorships") or []],
            published=work.get("publication_date"),
            year=work.get("publication_year"),
            venue=(location.get("source") or {}).get("display_name"),
            url=landing or work.get("doi") or work.get("id"),
            doi=work.get("doi"),
            arxiv_id=arxiv.group(1) if arxiv else None,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:  # ValueError: also pydantic's
        return Skipped("malformed", f"work {work.get('id')!s}: " + " ".join(f"{type(e).__name__} {e}".split())[:200])


def abstract(index: Any) -> str:
    """The abstract from OpenAlex's inverted index ({word: [positions]}), words put back in order."""
    if not index:
        return ""
    if not isinstance(index, dict):
        raise TypeError("abstract_inverted_index is not an object")
    placed = sorted((position, word) for word, positions in index.items() for position in positions)
    return " ".join(word for _, word in placed)


class _Redact(logging.Filter):
    """Replaces a secret in log records' messages and arguments."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(str(a).replace(self.secret, "***") if self.secret in str(a) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = record.msg.replace(self.secret, "***")
        return True
