"""`synth corpus`: inspect corpora."""

from __future__ import annotations

from typing import Annotated

import typer

from synth.cli import sub_app

corpus_app = sub_app("Inspect corpora.")


@corpus_app.command("stats")
def stats(
    path: Annotated[str, typer.Argument(help="Corpus file, or 'sample'.")] = "sample",
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad record.")] = False,
) -> None:
    """Count papers, skipped records and merged duplicates in a corpus."""
    from synth.corpus import load_corpus
    from synth.corpus import stats as corpus_stats

    for line in corpus_stats(load_corpus(path, strict=strict)):
        typer.echo(line)
