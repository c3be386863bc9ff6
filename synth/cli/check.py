"""`synth check`: verify the citations of any related-work text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.cli.io import check_output, emit, read_query
from synth.cli.options import with_settings
from synth.errors import SynthError
from synth.settings import Settings

FAILED_BAR = 2  # exit code when --fail-under is not met: distinct from errors (1)


@with_settings("check", "llm")
def check(
    path: Annotated[
        Path, typer.Argument(help="The text to check: .md (with a References list), .tex or synth's .json.")
    ],
    query_file: Annotated[
        Path | None,
        typer.Option(
            "--query-file",
            "-f",
            help="The paper being written (title and abstract): a claim about it is not credited to its citations.",
        ),
    ] = None,
    gold: Annotated[
        Path | None, typer.Option("--gold", help="File of gold references (ids, DOIs or titles), one a line.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown or json.")] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here instead of stdout.")
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            "--fail-under", min=0.0, max=1.0, help="Exit 2 when citation precision is below this (for a paper's CI)."
        ),
    ] = None,
    *,
    settings: Settings,
) -> None:
    """Check every citation of a related-work text against the cited abstracts."""
    from synth.check.report import report_markdown
    from synth.synthesizer import Synthesizer

    if fmt not in ("markdown", "json"):
        raise SynthError(f"unknown format {fmt!r}: use markdown or json")
    check_output(output)
    query = read_query(None, query_file) if query_file else None
    references = None
    if gold is not None:
        if not gold.is_file():
            raise SynthError(f"gold file not found: {gold}")
        references = [line.strip() for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = Synthesizer(settings=settings).check(path, gold=references, query=query)
    emit(report.model_dump_json(indent=2) + "\n" if fmt == "json" else report_markdown(report), output)
    precision = report.citation_precision
    if fail_under is not None and (precision is None or precision < fail_under):
        shown = "n/a (no citation checked)" if precision is None else f"{precision:.3f}"
        typer.echo(f"citation precision {shown} is below --fail-under {fail_under:g}", err=True)
        raise typer.Exit(FAILED_BAR)
