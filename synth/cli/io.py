"""What the commands read and write: the query, output files, notices and progress bars."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from synth.errors import SynthError

log = logging.getLogger("synth")

_CLOSED_STDIN = "stdin is closed; give the query as an argument or with --query-file FILE"
FORMATS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".tex": "latex"}


def read_query(query: str | None, query_file: Path | None) -> str:
    """The query: from `--query-file` (`-` is stdin), the argument, or text piped on stdin."""
    if query_file is not None:
        if str(query_file) == "-":
            return _stdin()
        if query_file.is_dir():
            raise SynthError(f"{query_file} is a directory, not a query file")
        if not query_file.is_file():
            raise SynthError(f"query file not found: {query_file}")
        try:
            return query_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise SynthError(f"{query_file}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    if query:
        return query
    if sys.stdin is not None and not sys.stdin.closed and not sys.stdin.isatty():
        return _stdin()
    raise SynthError("give a query: an argument, --query-file FILE, or text on stdin")


def _stdin() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise SynthError(_CLOSED_STDIN)
    try:
        return sys.stdin.read()
    except UnicodeDecodeError as e:
        raise SynthError(f"stdin is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        if e.errno == errno.EBADF:
            raise SynthError(_CLOSED_STDIN) from None
        raise SynthError(f"stdin could not be read ({e.strerror or e}); use --query-file FILE") from None


def check_output(*paths: Path | None) -> None:
    """Fail before any work (or any paid LLM call) when an output path cannot be a file."""
    for path in paths:
        if path is None:
            continue
        if path.is_dir():
            raise SynthError(f"{path} is a directory; give a file name to write to")
        if path.parent.exists() and not path.parent.is_dir():
            raise SynthError(f"cannot write {path}: {path.parent} is a file, not a folder")


def emit(text: str, path: Path | None) -> None:
    """Write `text` to `path` atomically, or to stdout."""
    if path is None:
        if sys.stdout is None or sys.stdout.closed:
            raise SynthError("stdout is closed; write the output to a file with -o FILE")
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from synth.files import write_text

    write_text(path, text)  # never leave a half-written file where the user expects the result
    log.info("wrote %s", path)


def notice(message: str) -> None:
    """A line for the user on stderr, silenced by -q."""
    if logging.getLogger().isEnabledFor(logging.WARNING):
        typer.echo(f"note: {message}", err=True)


def install_progress() -> None:
    """Show library progress (embedding, fetching) as rich bars on stderr, when stderr is a terminal."""
    if not (sys.stderr is not None and sys.stderr.isatty()):
        return
    from synth import progress

    @contextmanager
    def bar(description: str, total: int) -> Iterator[progress.Advance]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=Console(stderr=True), transient=True) as shown:
            task = shown.add_task(description, total=total)
            yield lambda n: shown.advance(task, n)

    progress.set_reporter(bar)
