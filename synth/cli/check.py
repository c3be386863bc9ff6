"""`synth check`: verify the citations of any related-work text; `--fix` repairs them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.cli.io import check_output, emit, notice, read_query
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
    fmt: Annotated[str, typer.Option("--format", help="The report: markdown or json.")] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (the report; with --fix, the repaired text).")
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            "--fail-under", min=0.0, max=1.0, help="Exit 2 when citation precision is below this (for a paper's CI)."
        ),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what fails; write the repaired text in the input's format.")
    ] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="With --fix: write the repair report (every change) here.")
    ] = None,
    *,
    settings: Settings,
) -> None:
    """Check every citation of a related-work text against the cited abstracts; --fix repairs what fails."""
    from synth.check.report import repair_markdown, report_markdown
    from synth.synthesizer import Synthesizer

    if fmt not in ("markdown", "json"):
        raise SynthError(f"unknown format {fmt!r}: use markdown or json")
    check_output(output, report_file)
    query = read_query(None, query_file) if query_file else None
    synth = Synthesizer(settings=settings)
    if fix:
        repaired = synth.repair(path, query=query)
        emit(repaired.text, output)
        if report_file is not None:
            emit(repair_markdown(repaired.before, repaired.report, repaired.changes), report_file)
        if repaired.verification is not None:
            notice(repaired.verification.summary())
        before, after = repaired.before.citation_precision, repaired.report.citation_precision
        notice(f"citation precision {_pct(before)} before repair, {_pct(after)} after; {len(repaired.changes)} changes")
        _bar(after, fail_under)
        return
    if report_file is not None:
        notice("--report is written only with --fix; the report goes to -o or stdout")
    references = None
    if gold is not None:
        if not gold.is_file():
            raise SynthError(f"gold file not found: {gold}")
        references = [line.strip() for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = synth.check(path, gold=references, query=query)
    emit(report.model_dump_json(indent=2) + "\n" if fmt == "json" else report_markdown(report), output)
    _bar(report.citation_precision, fail_under)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _bar(precision: float | None, fail_under: float | None) -> None:
    """Exit 2 when citation precision is below --fail-under."""
    if fail_under is not None and (precision is None or precision < fail_under):
        shown = "n/a (no citation checked)" if precision is None else f"{precision:.3f}"
        typer.echo(f"citation precision {shown} is below --fail-under {fail_under:g}", err=True)
        raise typer.Exit(FAILED_BAR)
