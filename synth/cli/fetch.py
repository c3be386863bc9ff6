"""`synth fetch`: search arXiv, OpenAlex or Semantic Scholar and keep the papers as a corpus file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from synth.errors import SynthError


def fetch(
    source: Annotated[str, typer.Argument(help="arxiv, openalex or semanticscholar.")],
    query: Annotated[str | None, typer.Argument(help="A topic to search for.")] = None,
    from_abstract: Annotated[
        Path | None,
        typer.Option(
            "--from-abstract", help="A title and abstract ('-': stdin): its title and key phrases are searched."
        ),
    ] = None,
    max_results: Annotated[int, typer.Option("--max", help="Papers to keep.")] = 100,
    before: Annotated[str | None, typer.Option("--before", help="Only papers published before this date.")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Only papers published on or after this date.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the corpus (JSONL) here; else print the cached file's path."),
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Search again even when the same fetch is cached.")
    ] = False,
) -> None:
    """Search a live source and save the papers as a corpus file (cached: a repeated fetch makes no call)."""
    from synth.settings import Settings
    from synth.sources import fetch as run

    if from_abstract is not None:
        text = sys.stdin.read() if str(from_abstract) == "-" else _read(from_abstract)
        extra = [query] if query else None
    elif query:
        text, extra = query, None
    else:
        raise SynthError("give a query or --from-abstract FILE (a title and abstract)")
    home = Settings.load().home
    with _progress() as progress:
        fetched = run(source, text, max_results=max_results, before=before, after=after, home=home,
                      queries=extra, progress=progress, refresh=refresh)  # fmt: skip
    if output is not None:
        from synth.files import write_bytes

        write_bytes(output, fetched.path.read_bytes())
    else:
        typer.echo(str(fetched.path))
    if logging.getLogger().isEnabledFor(logging.WARNING):
        skipped = f"; {fetched.without_abstract} without an abstract skipped" if fetched.without_abstract else ""
        how = "from the cache" if fetched.from_cache else f"{len(fetched.queries)} queries, {fetched.requests} requests"
        where = f" -> {output}" if output else ""
        typer.echo(f"{fetched.papers} papers from {source} ({how}{skipped}){where}", err=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise SynthError(f"cannot read {path}: {e.strerror}") from None


@contextmanager
def _progress() -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar on stderr while searching (none when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=True) as bar:
        task = bar.add_task("searching", total=None)

        def update(done: int, total: int, query: str) -> None:
            bar.update(task, completed=done, total=total, description=f"searching {query[:40]!r}")

        yield update
