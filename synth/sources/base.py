"""The shapes every source shares: the date window of a search, a skipped record, the `Source` protocol."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from synth.errors import SettingsError

if TYPE_CHECKING:
    from synth.models import Paper


@dataclass(frozen=True)
class DateWindow:
    """Publication dates a search keeps: from `first` to `last`, both included; None is open."""

    first: date | None = None
    last: date | None = None

    @classmethod
    def parse(cls, before: str | None = None, after: str | None = None) -> DateWindow:
        """The window of `--before` (exclusive) and `--after` (inclusive), YYYY[-MM[-DD]] as in date filters."""
        from synth.retrieve.filters import date_range

        try:
            last = date_range(before)[0] - timedelta(days=1) if before else None
            first = date_range(after)[0] if after else None
        except ValueError as e:
            raise SettingsError(f"{e}") from None
        if first and last and first > last:
            raise SettingsError(f"--after {after} is not earlier than --before {before}: give a range that holds days")
        return cls(first, last)

    def __bool__(self) -> bool:
        return self.first is not None or self.last is not None


@dataclass(frozen=True)
class Skipped:
    """A record a source returned that cannot be a paper, and why."""

    kind: Literal["no abstract", "malformed"]
    detail: str = ""


class Source(Protocol):
    """A search service: a query in, papers (best first) or the records it had to skip out."""

    name: str

    def search(self, query: str, limit: int, window: DateWindow) -> Iterator[Paper | Skipped]:
        """Up to `limit` results for the query published within the window, best first, page by page."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


SourceFactory = Callable[..., Source]
"""Called as `factory(limits=Limits(...))`; returns a ready `Source`."""


_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
_VERSION = re.compile(r"v\d+$")


def arxiv_key(identifier: str) -> str:
    """The paper id of an arXiv paper: "arXiv:2101.00001" from "2101.00001v3" or "arXiv:2101.00001".

    Old-style ids keep their archive with "_" for "/" ("arXiv:hep-th_9901001"), so the id is also a valid
    BibTeX key and `\\cite{}` in LaTeX output finds it again when the text is checked.
    """
    core = _VERSION.sub("", identifier.strip().removeprefix("arXiv:").removeprefix("arxiv:"))
    return "arXiv:" + core.replace("/", "_")


def to_paper(
    *,
    title: object,
    abstract: object,
    authors: list[str],
    published: str | None = None,
    year: int | None = None,
    venue: str | None = None,
    url: str | None = None,
    doi: str | None = None,
    arxiv_id: str | None = None,
) -> Paper | Skipped:
    """A Paper from a source's fields, or why not. Ids: the arXiv id, else derived from the DOI, else the title."""
    from synth.corpus import paper_id
    from synth.models import Paper

    title_text, abstract_text = _clean(title), _clean(abstract)
    if not title_text:
        return Skipped("malformed", "a record without a title")
    if not abstract_text:
        return Skipped("no abstract", title_text)
    if doi:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi.strip(), flags=re.I) or None
    found = _ARXIV_DOI.match(doi or "")
    arxiv_id = arxiv_id or (found.group(1) if found else None)
    if year is None and published:
        m = re.match(r"(\d{4})", published)
        year = int(m.group(1)) if m else None
    return Paper(
        id=arxiv_key(arxiv_id) if arxiv_id else paper_id(None, doi, title_text),
        title=title_text,
        abstract=abstract_text,
        authors=[a for a in (_clean(n) for n in authors) if a],
        year=year,
        date=published or None,
        venue=_clean(venue) or None,
        url=url or None,
        doi=doi,
    )


def _clean(value: object) -> str:
    """Whitespace folded (arXiv wraps titles and abstracts at 80 columns); non-text is no text."""
    return " ".join(value.split()) if isinstance(value, str) else ""
