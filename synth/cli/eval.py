"""`synth eval`: run suites, report and compare runs, import DeepScholar-bench."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from synth.cli import sub_app
from synth.cli.io import emit
from synth.cli.options import with_settings
from synth.errors import SynthError
from synth.settings import Settings

eval_app = sub_app("Run evaluation suites, and report and compare runs.")


@eval_app.command("run")
@with_settings("retrieval", "llm", "draft", "check")
def run(
    suite: Annotated[Path, typer.Argument(help="Suite folder: queries.jsonl and a corpus.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: records, manifest, reports.")],
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Queries in flight at once. [default: 4]")] = 4,
    query_timeout: Annotated[
        float | None, typer.Option("--query-timeout", help="Seconds per query before it is recorded as failed.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start over when the folder holds a run made otherwise.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Run only the suite's first N queries.")] = None,
    *,
    settings: Settings,
) -> None:
    """Draft and check every query of a suite; resumes where an interrupted run stopped."""
    from synth.evaluate import Suite, evaluate
    from synth.evaluate.summary import summary_markdown

    loaded = Suite.load(suite)
    total = min(limit or len(loaded.queries), len(loaded.queries))
    with _progress(total, out) as on_record:
        result = evaluate(
            loaded, settings, out=out, workers=workers, force=force, timeout=query_timeout, on_record=on_record,
            limit=limit,
        )  # fmt: skip
    emit(summary_markdown(result.summary, title=str(out)), None)


@contextmanager
def _progress(total: int, out: Path) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A rich progress bar with ETA, running cost and failures on stderr (quiet when not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from synth.evaluate.runlog import latest_records

    already = len([r for r in latest_records(out) if r.get("ok")]) if out.is_dir() else 0
    console = Console(stderr=True)
    state = {"cost": 0.0, "failed": 0}
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("${task.fields[cost]:.4f}  failed {task.fields[failed]}")]  # fmt: skip
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("queries", total=total, completed=min(already, total), cost=0.0, failed=0)

        def on_record(record: dict[str, Any]) -> None:
            state["cost"] += (record.get("usage") or {}).get("cost_usd") or 0.0
            state["failed"] += not record.get("ok")
            progress.update(task, advance=1, cost=state["cost"], failed=state["failed"])

        yield on_record


@eval_app.command("report")
def report(run: Annotated[Path, typer.Argument(help="A run folder.")]) -> None:
    """Print a run's summary table; write summary.json, queries.csv and (with matplotlib) metrics.png."""
    from synth.evaluate.plots import plot_run
    from synth.evaluate.runlog import latest_records, write_json
    from synth.evaluate.summary import records_csv, summarise, summary_markdown
    from synth.files import write_text

    records = latest_records(run)
    if not records:
        raise SynthError(f"{run} holds no records: run `synth eval run SUITE --out {run}` first")
    summary = summarise(records)
    write_json(run / "summary.json", summary)
    write_text(run / "queries.csv", records_csv(records))
    plot = plot_run(records, run / "metrics.png")
    emit(summary_markdown(summary, title=str(run)), None)
    typer.echo(f"wrote {run / 'summary.json'}, {run / 'queries.csv'}" + (f", {plot}" if plot else ""), err=True)


@eval_app.command("compare")
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Two or more run folders.")],
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a bar chart with intervals here (PNG).")] = None,
) -> None:
    """Compare runs side by side per metric, marking differences whose intervals do not overlap."""
    from synth.evaluate.plots import plot_compare
    from synth.evaluate.runlog import latest_records
    from synth.evaluate.summary import compare_markdown, summarise

    summaries = {str(r): summarise(latest_records(r)) for r in runs}
    if any(s["queries"] == 0 for s in summaries.values()):
        raise SynthError("every run to compare needs records")
    emit(compare_markdown(summaries), None)
    if plot is not None and plot_compare(summaries, plot) is None:
        raise SynthError("plots need matplotlib: pip install 'synth[plot]'")


@eval_app.command("import-deepscholar")
def import_deepscholar(
    dataset: Annotated[Path, typer.Argument(help="DeepScholar-bench's dataset/ folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Suite folder to write.")],
) -> None:
    """Turn the DeepScholar-bench dataset layout into a synth suite."""
    from synth.evaluate.deepscholar import import_deepscholar as convert

    stats = convert(dataset, out)
    typer.echo(
        f"wrote {out}: {stats.queries} queries, {stats.papers} papers; {stats.citations} citations read, "
        f"{stats.without_abstract} without an abstract, {stats.unmapped_keys} \\cite keys not found"
    )
