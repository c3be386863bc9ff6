"""`synth draft` and `synth search`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from synth.cli.io import FORMATS, check_output, emit, notice, read_query
from synth.cli.options import with_settings
from synth.errors import SynthError
from synth.settings import Settings

QueryArg = Annotated[str | None, typer.Argument(help="Topic, or a paper's title and abstract.")]
QueryFileOpt = Annotated[
    Path | None, typer.Option("--query-file", "-f", help="Read the query from a file ('-': stdin).")
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")]
# Flags that only an LLM drafter reads.
LLM_ONLY = {"words", "style", "pipeline"}


@with_settings("retrieval", "llm", "draft", "check")
def draft(
    query: QueryArg = None,
    query_file: QueryFileOpt = None,
    output: OutputOpt = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="markdown, json or latex [default: from -o's suffix, else markdown]")
    ] = None,
    bib: Annotated[Path | None, typer.Option("--bib", help="With latex: write the cited papers' BibTeX here.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Check the citations and print the report too.")] = False,
    *,
    settings: Settings,
    given: set[str],
) -> None:
    """Retrieve papers for a query and draft a cited related-work section."""
    from synth.render import render, to_bibtex, to_json
    from synth.synthesizer import Synthesizer

    fmt = fmt or (FORMATS.get(output.suffix.lower(), "markdown") if output else "markdown")
    if fmt not in ("markdown", "json", "latex"):
        raise SynthError(f"unknown format {fmt!r}: use markdown, json or latex")
    check_output(output, bib)  # before any work, and before any paid LLM call
    text = read_query(None if query_file else query, query_file)
    synth = Synthesizer(settings=settings)
    if not synth.uses_llm and (unused := sorted(given & LLM_ONLY)):
        notice(f"{', '.join('--' + u for u in unused)} only apply to LLM drafting; the extractive drafter ignores them")
    if bib is not None and fmt != "latex":
        notice("--bib is written only with --format latex (or -o FILE.tex); ignoring it")
        bib = None
    section = synth.draft(text)
    if not synth.uses_llm and settings.draft.drafter == "auto":
        notice("no LLM configured: used the offline extractive drafter (set --model or SYNTH_MODEL to use one)")
    if section.left_out:
        notice(f"{len(section.left_out)} retrieved papers were not relevant enough to cite (listed in --format json)")
    if section.verification is not None:
        notice(section.verification.summary())
    report = synth.check(section) if check else None
    if fmt == "json" and report is not None:
        emit(json.dumps({**to_json(section), "grounding": report.model_dump(mode="json")}, indent=2) + "\n", output)
    else:
        emit(render(section, fmt), output)  # type: ignore[arg-type]
        if report is not None:
            from synth.check.report import report_markdown

            emit("\n" + report_markdown(report), None)
    if bib is not None:
        emit(to_bibtex(section), bib)


@with_settings("retrieval", "llm")
def search(
    query: QueryArg = None,
    query_file: QueryFileOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    *,
    settings: Settings,
) -> None:
    """List the papers retrieval ranks best for a query, with scores; no drafting."""
    from synth.synthesizer import Synthesizer

    hits = Synthesizer(settings=settings).search(read_query(None if query_file else query, query_file))
    if fmt == "json":
        emit(json.dumps([h.model_dump(mode="json") for h in hits], indent=2) + "\n", None)
        return
    for h in hits:
        year = f" ({h.paper.year})" if h.paper.year else ""
        emit(f"{h.rank:>3}  {h.score:8.4f}  {h.paper.id}  {h.paper.title}{year}\n", None)
