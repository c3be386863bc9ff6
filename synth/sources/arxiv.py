"""arXiv, searched through its public query API (Atom XML), as DeepScholar-base searches it.

Not through the `arxiv` package: it is maintained and its URL can be changed, but it sends requests with no
timeout (a stalled server hangs the fetch), retries a 429 or 503 after a fixed pause without reading
Retry-After, and has no overall deadline. The API is one GET that returns Atom, read here with the standard
library through the shared client in `http.py`.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date

from synth.errors import SettingsError, SourceError
from synth.models import Paper
from synth.sources.base import DateWindow, Skipped, to_paper
from synth.sources.http import Http, HttpSource, Limits
from synth.sources.queries import terms

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}
AND_TERMS = 6  # a query of up to this many content words must match all of them; a longer one (a title) any
_ABS = re.compile(r"arxiv\.org/abs/(.+?)/?$")
_EARLIEST, _LATEST = date(1991, 1, 1), date(2999, 12, 31)  # arXiv opened in 1991


class ArxivSource(HttpSource):
    """arXiv's query API: relevance-ranked, `page_size` results a request, one request every 3 seconds."""

    name = "arxiv"
    default_url = "https://export.arxiv.org/api/query"
    env_url = "ARXIV_API_URL"  # a mirror, or a local server in tests
    delay = 3.0  # arXiv's API terms of use: no more than one request every three seconds

    def __init__(self, *, limits: Limits, base_url: str | None = None, page_size: int = 100) -> None:
        self.url = base_url or os.environ.get(self.env_url) or self.default_url
        self.page_size = page_size
        self.http = Http(self.name, delay=self.delay, limits=limits, describe=_error_summary)

    def search(self, query: str, limit: int, window: DateWindow) -> Iterator[Paper | Skipped]:
        """Up to `limit` entries for the query, submitted within the window (arXiv's submittedDate filter)."""
        search_query = build_query(query, window)
        start = 0
        while start < limit:
            size = min(self.page_size, limit - start)
            params: dict[str, str | int] = {"search_query": search_query, "start": start, "max_results": size,
                                            "sortBy": "relevance", "sortOrder": "descending"}  # fmt: skip
            entries, total = parse_feed(self.http.get(self.url, params))
            yield from (to_entry(e) for e in entries)
            start += len(entries)
            if not entries or start >= total:
                break


def build_query(query: str, window: DateWindow) -> str:
    """arXiv's search_query syntax for a plain-text query: all:word terms, and a submittedDate range."""
    words = terms(query)
    if not words:
        raise SettingsError(f"the query {query!r} has no words to search arXiv for: give a topic")
    if len(words) <= AND_TERMS:
        text = " AND ".join(f"all:{w}" for w in words)
    else:  # any of the words, ranked by relevance: papers matching most of a title come first
        text = "(" + " OR ".join(f"all:{w}" for w in words) + ")"
    if window:
        first, last = window.first or _EARLIEST, window.last or _LATEST
        text += f" AND submittedDate:[{first:%Y%m%d}0000 TO {last:%Y%m%d}2359]"
    return text


def parse_feed(body: bytes) -> tuple[list[ET.Element], int]:
    """The entries of an Atom page and the total the query matched; an error feed raises SourceError."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise SourceError(f"arxiv sent a page that is not Atom XML ({e}); try again later") from None
    entries = root.findall("atom:entry", NS)
    for entry in entries:
        if "/api/errors" in (entry.findtext("atom:id", "", NS)):
            raise SourceError(f"arxiv rejected the query: {_text(entry, 'atom:summary')}")
    total_text = root.findtext("opensearch:totalResults", "", NS).strip()
    total = int(total_text) if total_text.isdigit() else len(entries)
    return entries, total


def to_entry(entry: ET.Element) -> Paper | Skipped:
    """A Paper from an Atom entry, or why it cannot be one."""
    found = _ABS.search(_text(entry, "atom:id"))
    if found is None:
        return Skipped("malformed", f"an entry without an arXiv id: {_text(entry, 'atom:title')[:80]!r}")
    published = _text(entry, "atom:published")[:10]
    return to_paper(
        title=_text(entry, "atom:title"),
        abstract=_text(entry, "atom:summary"),
        authors=[_text(a, "atom:name") for a in entry.findall("atom:author", NS)],
        published=published if re.fullmatch(r"\d{4}-\d{2}-\d{2}", published) else None,
        venue=_text(entry, "arxiv:journal_ref") or "arXiv",
        url=f"https://arxiv.org/abs/{found.group(1)}",
        doi=_text(entry, "arxiv:doi") or None,
        arxiv_id=found.group(1),
    )


def _text(element: ET.Element, path: str) -> str:
    return " ".join((element.findtext(path, "", NS) or "").split())


def _error_summary(body: bytes) -> str:
    """arXiv answers a bad query with HTTP 400 and an Atom feed whose one entry's summary says why."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body.decode("utf-8", "replace").strip()[:200]
    entry = root.find("atom:entry", NS)
    return _text(entry, "atom:summary") if entry is not None else ""
