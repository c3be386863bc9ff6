"""`synth index`: build, inspect and clear the retrieval indexes under SYNTH_HOME."""

from __future__ import annotations

import json
import re
import shutil
from typing import Annotated

import typer

from synth.cli import sub_app
from synth.cli.options import with_settings
from synth.errors import SynthError
from synth.settings import Settings

index_app = sub_app("Build, inspect and clear the retrieval indexes under SYNTH_HOME.")


@index_app.command("build")
@with_settings("retrieval")
def build(
    corpus_file: Annotated[str | None, typer.Argument(metavar="[CORPUS]", help="Corpus file, or 'sample'.")] = None,
    dense: Annotated[bool, typer.Option("--dense", help="Also compute dense embeddings (the dense extra).")] = False,
    *,
    settings: Settings,
) -> None:
    """Build (or reuse) the indexes of a corpus now, so drafts do not wait for them."""
    from synth.synthesizer import Synthesizer

    settings = settings.updated(corpus=corpus_file, retriever="hybrid" if dense else None)
    synth = Synthesizer(settings=settings)
    synth.retriever  # noqa: B018 - building is the point
    typer.echo(f"indexed {len(synth.corpus)} papers of {synth.corpus.source} in {settings.home / 'indexes'}")


@index_app.command("info")
@with_settings()
def info(*, settings: Settings) -> None:
    """List the cached indexes: kind, corpus fingerprint, papers, size."""
    folder = settings.home / "indexes"
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    for entry in entries:
        size = sum(f.stat().st_size for f in ([entry] if entry.is_file() else entry.rglob("*")) if f.is_file())
        meta = entry / "meta.json"
        try:
            papers = json.loads(meta.read_text()).get("num_docs", "?") if meta.is_file() else "?"
        except (OSError, ValueError, AttributeError):
            papers = "unreadable"
        typer.echo(f"{entry.name}  papers={papers}  {size / 1e6:.1f} MB")
    if not entries:
        typer.echo(f"no indexes in {folder}")


@index_app.command("prune")
@with_settings()
def prune(
    max_size: Annotated[
        str | None,
        typer.Option("--max-size", help="Keep the most recently used indexes within this size (e.g. 500MB, 2GB)."),
    ] = None,
    older_than: Annotated[
        float | None, typer.Option("--older-than", min=0, help="Delete indexes unused for this many days.")
    ] = None,
    *,
    settings: Settings,
) -> None:
    """Delete cached indexes that were not used lately, or beyond a total size."""
    from synth.retrieve.index import prune as prune_indexes

    if max_size is None and older_than is None:
        raise SynthError("say what to prune: --max-size SIZE, --older-than DAYS, or both")
    removed = prune_indexes(settings.home / "indexes", max_bytes=_bytes(max_size) if max_size else None,
                            older_than_days=older_than)  # fmt: skip
    freed = sum(e.bytes for e in removed) / 1e6
    typer.echo(f"pruned {len(removed)} indexes ({freed:.1f} MB) from {settings.home / 'indexes'}")


def _bytes(size: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*", size.lower())
    if m is None:
        raise SynthError(f"--max-size {size!r} is not a size: write it like 500MB or 2GB")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


@index_app.command("clear")
@with_settings()
def clear(*, settings: Settings) -> None:
    """Delete every cached index; they are rebuilt when next needed."""
    folder = settings.home / "indexes"
    shutil.rmtree(folder, ignore_errors=True)
    typer.echo(f"cleared {folder}")
