"""Progress of long work (embedding a corpus, fetching papers): the library reports it, the CLI shows it.

Library code wraps long work in `with task("embedding 388 papers", total) as advance: ... advance(n)`. Without
a reporter installed (the Python API, tests, `-q`, no terminal) that costs nothing and prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

Advance = Callable[[int], None]  # adds n finished items
Reporter = Callable[[str, int], AbstractContextManager[Advance]]

_reporter: ContextVar[Reporter | None] = ContextVar("synth_progress_reporter", default=None)


def set_reporter(reporter: Reporter | None) -> None:
    """Install how progress is shown (the CLI installs a rich bar on a terminal)."""
    _reporter.set(reporter)


@contextmanager
def task(description: str, total: int) -> Iterator[Advance]:
    """Report progress of `total` items of work."""
    reporter = _reporter.get()
    with reporter(description, total) if reporter else nullcontext(lambda n: None) as advance:
        yield advance
