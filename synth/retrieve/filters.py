"""Date filters: dates as users and corpora write them (YYYY, YYYY-MM or YYYY-MM-DD), compared as ranges."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synth.models import Hit

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def date_range(value: str) -> tuple[date, date]:
    """The first and last day that a YYYY[-MM[-DD]] value can mean: "2024" is all of 2024, "2024-03" all of March.

    Raises ValueError, saying what is wrong, for anything else.
    """
    span = _span(value, whole=True)
    if span is None:
        raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    return span


def leading_date_range(value: str) -> tuple[date, date] | None:
    """As `date_range` for the valid date a value starts with ("2024-03-05T10:00Z" is 5 March); None if none."""
    try:
        return _span(value, whole=False)
    except ValueError:
        return None


def _span(value: str, whole: bool) -> tuple[date, date] | None:
    m = _DATE.match(value)
    if m is None or (whole and m.end() != len(value.rstrip())):
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if day is None:
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{value!r} is not a valid date")
        last = calendar.monthrange(year, int(month))[1]
        return date(year, int(month), 1), date(year, int(month), last)
    try:
        exact = date(year, int(month), int(day))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date") from None
    return exact, exact


def check_date(value: str | None) -> str | None:
    """A settings validator: the value unchanged when it is a valid date (or None)."""
    if value is not None:
        date_range(value)
    return value


def within_dates(hits: list[Hit], before: str | None, after: str | None) -> tuple[list[Hit], int]:
    """Hits not known to fall outside [after, before) (dates YYYY[-MM[-DD]]), re-ranked from 1.

    Dates are compared as ranges, and a paper is left out only when it is certainly out of range: one dated
    2025-05-02 is not before 2025-04-01, but one dated only "2025" may be, so it is kept, like a paper with
    no date at all. The second value counts the papers kept without being certainly in range.
    """
    first = date_range(before)[0] if before else None
    start = date_range(after)[0] if after else None
    kept, uncertain = [], 0
    for hit in hits:
        when = hit.paper.date or (str(hit.paper.year) if hit.paper.year else None)
        span = leading_date_range(when) if when else None
        if span is not None:
            lo, hi = span
            if (first and lo >= first) or (start and hi < start):
                continue
            if not ((first is None or hi < first) and (start is None or lo >= start)):
                uncertain += 1
        else:
            uncertain += 1
        kept.append(hit)
    return [h.model_copy(update={"rank": r}) for r, h in enumerate(kept, 1)], uncertain
