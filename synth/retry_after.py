"""The Retry-After header, as the LLM clients and the live sources both read it."""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable

MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is waited out this long, then the retry decides


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), at most MAX_RETRY_AFTER.

    None when absent or unusable: not a number or date, NaN, infinite, or in the past.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError, IndexError):
            return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)
