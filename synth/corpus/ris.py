"""RIS, the tagged format Mendeley, EndNote, Zotero and most databases export, read with rispy.

The file is cut into entries here (`TY  -` ... `ER  -`) so that each bad entry is reported at the line
where it starts and the others still load; rispy parses each entry's tags. The `ID` tag, when present,
is kept as the paper id and so as the `\\cite{}` key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from synth.errors import CorpusError

log = logging.getLogger(__name__)

# Where each field is looked for, best first (rispy's names for the RIS tags in the comments).
_TITLE = ("title", "primary_title")  # TI, T1
_ABSTRACT = ("abstract", "notes_abstract")  # AB, N2 (older EndNote)
_AUTHORS = ("authors", "first_authors")  # AU, A1
_DATE = ("date", "year", "publication_year")  # DA, PY, Y1
# T2 holds the full journal or proceedings name in Zotero and EndNote exports; JO/JF/JA/J2 elsewhere.
_VENUE = ("secondary_title", "alternate_title3", "journal_name", "alternate_title2", "alternate_title1")


def _tag(line: str) -> str | None:
    """The tag of a RIS line ("TY  - JOUR" -> "TY"), or None for a continuation line; as rispy reads it."""
    if line[2:5] == "  -" and line[:2].isupper() and line[:1].isalpha():
        return line[:2]
    return None


def ris_records(text: str, name: str, fmt: str = "ris") -> Iterator[tuple[str, dict[str, Any] | str]]:
    """(location, record or reason) for each entry of a RIS file, located by the line of its TY tag."""
    start: int | None = None
    chunk: list[str] = []
    found = False
    for n, line in enumerate(text.splitlines(), 1):
        tag = _tag(line)
        if tag == "TY":
            if start is not None:
                yield f"line {start}", "malformed RIS entry (no ER line before the next TY)"
            start, chunk, found = n, [line], True
        elif start is not None:
            chunk.append(line)
            if tag == "ER":
                yield f"line {start}", _entry(chunk)
                start = None
        elif line.strip():
            log.debug("%s:%d: text outside a RIS entry ignored", name, n)  # export headers, blank padding
    if start is not None:
        yield f"line {start}", "malformed RIS entry (the file ends before its ER line)"
    if not found:
        raise CorpusError(f"{name}: no RIS entries (lines starting 'TY  - '); is it a RIS export?")


def _entry(lines: list[str]) -> dict[str, Any] | str:
    import rispy  # imported here: only RIS corpora pay for it

    try:
        parsed = rispy.loads("\n".join(lines))
    except Exception as e:  # rispy is lenient; anything it does raise means this entry is unreadable
        return f"malformed RIS entry ({e})"
    if len(parsed) != 1:
        return "malformed RIS entry"
    entry = parsed[0]
    urls = entry.get("urls") or []
    return {
        "id": _first(entry, ("id",)),
        "title": _first(entry, _TITLE),
        "abstract": _first(entry, _ABSTRACT),
        "authors": [_first_last(a) for field in _AUTHORS for a in entry.get(field) or []],
        "date": _date(_first(entry, _DATE)),
        "venue": _first(entry, _VENUE),
        "doi": _first(entry, ("doi",)),
        "url": urls[0] if urls else None,
    }


def _first(entry: dict[str, Any], fields: tuple[str, ...]) -> str:
    for field in fields:
        value = entry.get(field)
        if isinstance(value, list):  # a tag repeated where one was expected
            value = value[0] if value else None
        if value and str(value).strip():
            return str(value).strip()
    return ""


def _date(value: str) -> str | None:
    """RIS dates are "YYYY/MM/DD/other" with any part empty ("2021///"): as YYYY[-MM[-DD]]."""
    m = re.match(r"\s*(\d{4})(?:[/-](\d{1,2}))?(?:[/-](\d{1,2}))?", value)
    if m is None:
        return None
    year, month, day = m.groups()
    if not month or not 1 <= int(month) <= 12:
        return year
    try:
        return date(int(year), int(month), int(day)).isoformat() if day else f"{year}-{int(month):02d}"
    except ValueError:  # 31 February: keep what is certain
        return f"{year}-{int(month):02d}"


def _first_last(name: str) -> str:
    """RIS names are "Last, First[, Suffix]": "Lovelace, Ada" -> "Ada Lovelace"."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        return f"{parts[1]} {parts[0]}"
    if len(parts) == 3 and parts[0] and parts[1]:
        return f"{parts[1]} {parts[0]} {parts[2]}".strip()
    return name.strip()
