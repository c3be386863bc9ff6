"""One place that counts every LLM call: tokens, cost, time, by stage.

A `metering()` block collects the usage of every call made inside it, in any task or thread started from
it (context variables follow asyncio tasks and `asyncio.to_thread`). Blocks nest: a call inside a check
inside an evaluation counts for both. Concurrent drafts each see only their own calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from synth.models import Usage

_meters: ContextVar[tuple[Meter, ...]] = ContextVar("synth_usage_meters", default=())


class Meter:
    """A running total of usage, safe to add to from several threads."""

    def __init__(self) -> None:
        self._usage = Usage()
        self._lock = threading.Lock()

    def add(self, usage: Usage, stage: str = "") -> None:
        """Add one call's usage (filed under `stage` too, when given)."""
        with self._lock:
            self._usage = self._usage + (usage.in_stage(stage) if stage else usage)

    @property
    def usage(self) -> Usage:
        """The total so far."""
        with self._lock:
            return self._usage.model_copy(deep=True)


@contextmanager
def metering() -> Iterator[Meter]:
    """Count the usage of every LLM call made inside the block."""
    meter = Meter()
    token = _meters.set((*_meters.get(), meter))
    try:
        yield meter
    finally:
        _meters.reset(token)


def record(usage: Usage, stage: str = "") -> None:
    """Add one call's usage to every open `metering()` block."""
    for meter in _meters.get():
        meter.add(usage, stage)
