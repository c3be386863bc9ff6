"""Dates as users and corpora write them (YYYY, YYYY-MM or YYYY-MM-DD), compared as date ranges."""

from __future__ import annotations

import calendar
import re
from datetime import date

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def date_range(value: str, *, strict: bool = True) -> tuple[date, date] | None:
    """The first and last day that `value` can mean: "2024" is all of 2024, "2024-03" all of March.

    With `strict`, anything but a whole valid YYYY[-MM[-DD]] raises ValueError; otherwise only a valid
    leading date is read ("2024-03-05T10:00Z" is 5 March) and None is returned when there is none.
    """
    m = _DATE.match(value)
    if m is None or (strict and m.end() != len(value.rstrip())):
        if strict:
            raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            last = calendar.monthrange(year, int(month))[1]
            return date(year, int(month), 1), date(year, int(month), last)
        exact = date(year, int(month), int(day))
    except ValueError:
        if strict:
            raise ValueError(f"{value!r} is not a valid date") from None
        return None
    return exact, exact


def check_date(value: str | None) -> str | None:
    """A settings validator: the value unchanged when it is a valid date (or None)."""
    if value is not None:
        date_range(value)
    return value
