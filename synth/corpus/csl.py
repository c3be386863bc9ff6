"""CSL-JSON, the JSON that Zotero, Better BibTeX and pandoc export: items with `issued`, `author`, `DOI`...

Each item becomes the record dict the corpus loader turns into a `Paper`. The citation key is kept as the
paper id (Better BibTeX's `citation-key`, else the CSL `id`), so `\\cite{}` in LaTeX output matches the
user's own keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Fields that only CSL-JSON writes (synth's own JSON spells them `doi`, `url`, `year`, `venue`, `authors`).
_CSL_ONLY = ("issued", "container-title", "citation-key", "citationKey", "DOI", "URL")
# Better BibTeX without native CSL support kept the key in Zotero's Extra field, exported as `note`.
_NOTE_KEY = re.compile(r"^\s*Citation Key:\s*(\S+)\s*$", re.M | re.I)


def is_csl(items: list[Any]) -> bool:
    """Whether a JSON array looks like CSL-JSON rather than synth's own paper records."""
    for item in items:
        if isinstance(item, dict) and (
            any(k in item for k in _CSL_ONLY)
            or (isinstance(item.get("author"), list) and any(isinstance(a, dict) for a in item["author"]))
        ):
            return True
    return False


def csl_records(items: list[Any]) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """(location, record or reason) for each item of a CSL-JSON array, located by entry number."""
    for n, item in enumerate(items, 1):
        where = f"entry {n}"
        if not isinstance(item, dict):
            yield where, f"expected an object, got {type(item).__name__}"
            continue
        try:
            yield where, _record(item)
        except _Malformed as e:
            yield where, f"malformed CSL item ({e})"


class _Malformed(ValueError):
    pass


def _record(item: dict[str, Any]) -> dict[str, Any]:
    date = _issued(item.get("issued"))
    return {
        "id": _citation_key(item),
        "title": _text(item.get("title"), "title"),
        "abstract": _text(item.get("abstract"), "abstract"),
        "authors": _names(item.get("author")),
        "date": date,
        "venue": _text(item.get("container-title"), "container-title") or _text(item.get("event-title"), "event-title"),
        "doi": _text(item.get("DOI"), "DOI"),
        "url": _text(item.get("URL"), "URL"),
    }


def _citation_key(item: dict[str, Any]) -> str:
    for field in ("citation-key", "citationKey"):
        key = _text(item.get(field), field)
        if key:
            return key
    note = item.get("note")
    found = _NOTE_KEY.search(note) if isinstance(note, str) else None
    if found:
        return found.group(1)
    given = item.get("id")
    return str(given).strip() if isinstance(given, (str, int)) else ""


def _text(value: Any, field: str) -> str:
    """A CSL string field; some writers give a one-element list (container-title) or a number."""
    if value is None:
        return ""
    if isinstance(value, list) and len(value) <= 1 and all(isinstance(v, str) for v in value):
        return " ".join(value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise _Malformed(f"{field} is a {type(value).__name__}, not text")


def _names(value: Any) -> list[str]:
    """CSL names, {family, given} or {literal}, as "Given Family" strings."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Malformed(f"author is a {type(value).__name__}, not a list of names")
    names = []
    for person in value:
        if not isinstance(person, dict):
            raise _Malformed("an author is not an object with family/given or literal")
        if person.get("literal"):
            names.append(_text(person["literal"], "literal"))
            continue
        parts = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")
        name = " ".join(_text(person.get(p), p) for p in parts if person.get(p))
        if name:
            names.append(name)
    return names


def _issued(value: Any) -> str | None:
    """`issued` as YYYY[-MM[-DD]]: from date-parts ([[2021, 5, 3]]), else its raw or literal text."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Malformed(f"issued is a {type(value).__name__}, not a date object")
    parts = value.get("date-parts")
    if parts:
        if not (isinstance(parts, list) and isinstance(parts[0], list) and parts[0]):
            raise _Malformed("issued.date-parts is not a list of [year, month, day] lists")
        try:
            numbers = [int(p) for p in parts[0][:3]]
        except (TypeError, ValueError):
            raise _Malformed(f"issued.date-parts holds {parts[0]!r}, not numbers") from None
        return "-".join([f"{numbers[0]:04d}", *(f"{p:02d}" for p in numbers[1:])])
    for field in ("raw", "literal"):
        text = value.get(field)
        if isinstance(text, str):
            # "2021-05-03" is kept whole; "Spring 2021" only tells the year.
            iso = re.match(r"\s*\d{4}(-\d{1,2}(-\d{1,2})?)?\b", text)
            if iso:
                return iso.group().strip()
            year = re.search(r"\b(\d{4})\b", text)
            if year:
                return year.group(1)
    return None
