"""The Retry-After header, as the LLM clients and the live sources both read it."""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Callable
from typing import Any

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is waited out this long, then the retry decides
# ASCII digits only: float() also reads "1_0" as 10 and Arabic-Indic digits, which no server means.
_SECONDS = re.compile(r"\s*(\d+(?:\.\d+)?)\s*", re.ASCII)


def retry_after_from(headers: Any) -> float | None:
    """Seconds the headers of a reply ask to wait: `retry-after-ms` (OpenAI's, more precise), else `retry-after`."""
    if not hasattr(headers, "get"):
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None and (m := _SECONDS.fullmatch(str(milliseconds))):
        return min(float(m.group(1)) / 1000, MAX_RETRY_AFTER)
    return retry_after(headers.get("retry-after"))


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), at most MAX_RETRY_AFTER.

    None when absent or unusable: not a number or date, NaN, infinite, or in the past.
    """
    if value is None:
        return None
    if m := _SECONDS.fullmatch(value):
        seconds = float(m.group(1))
    else:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError, IndexError):
            return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)
