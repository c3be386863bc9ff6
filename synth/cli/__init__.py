"""The `synth` command: a thin layer over the Python API. Each command parses options, calls it, prints."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from synth._version import __version__
from synth.errors import SynthError

log = logging.getLogger("synth")


class _Group(TyperGroup):
    """Turns every error into one line on stderr and exit code 1: never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SynthError as e:
            message = str(e)
        except KeyboardInterrupt:
            typer.echo("aborted", err=True)
            raise typer.Exit(130) from None
        except Exception as e:
            # The framework's own exits, usage errors and aborts pass through untouched.
            if type(e).__module__.split(".")[0] in ("click", "typer"):
                raise
            log.debug("unexpected error", exc_info=True)
            message = f"unexpected {type(e).__name__}: {e} (run with -vv for the traceback)"
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)


def _app(help: str) -> typer.Typer:
    return typer.Typer(cls=_Group, help=help, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False, rich_markup_mode=None)  # fmt: skip


app = _app("Write the related-work section of a paper from a corpus of abstracts, and prove what it cites.")
corpus_app = _app("Inspect corpora.")
app.add_typer(corpus_app, name="corpus")
eval_app = _app("Run evaluation suites, and report and compare runs.")
app.add_typer(eval_app, name="eval")
index_app = _app("Build, inspect and clear the retrieval indexes under SYNTH_HOME.")
app.add_typer(index_app, name="index")
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="litellm model name.")]
ApiBaseOpt = Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible server URL.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")]
QueryFileOpt = Annotated[Path | None, typer.Option("--query-file", "-f", help="Read the query from a file.")]
DrafterOpt = Annotated[str | None, typer.Option("--drafter", help="auto, extractive or llm.")]
JudgeOpt = Annotated[str | None, typer.Option("--judge", help="Who checks citations: offline or llm.")]
QueryArg = Annotated[str | None, typer.Argument(help="Topic, or a paper's title and abstract.")]
RetrieverOpt = Annotated[str | None, typer.Option("--retriever", help="auto, bm25, dense or hybrid.")]
PrfOpt = Annotated[bool | None, typer.Option("--prf/--no-prf", help="BM25 query expansion from the top hits.")]
LlmQueriesOpt = Annotated[
    int | None, typer.Option("--llm-queries", help="With a model: extra search queries it writes.")
]
BeforeOpt = Annotated[str | None, typer.Option("--before", help="Only papers published before this date.")]
AfterOpt = Annotated[str | None, typer.Option("--after", help="Only papers published on or after this date.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"synth {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s: %(message)s", force=True)
    # litellm and HTTP clients are chatty at INFO; they speak only when asked for debug output.
    for noisy in ("LiteLLM", "litellm", "httpx", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


FORMATS = {".md": "markdown", ".markdown": "markdown", ".json": "json", ".tex": "latex"}
CorpusOpt = Annotated[
    str | None, typer.Option("--corpus", "-c", help="Corpus file (.jsonl .json .csv .tsv .bib); default: sample.")
]


def _read_query(query: str | None, query_file: Path | None) -> str:
    if query_file is not None:
        return sys.stdin.read() if str(query_file) == "-" else query_file.read_text(encoding="utf-8")
    if query:
        return query
    if not sys.stdin.isatty():
        return sys.stdin.read()
    raise SynthError("give a query: an argument, --query-file FILE, or text on stdin")


@app.command()
def draft(
    query: QueryArg = None,
    query_file: QueryFileOpt = None,
    corpus: CorpusOpt = None,
    k: Annotated[int | None, typer.Option("--k", "-k", help="Papers to retrieve.")] = None,
    output: OutputOpt = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="markdown, json or latex (default: from -o's suffix, else markdown).")
    ] = None,
    bib: Annotated[Path | None, typer.Option("--bib", help="With latex: write the cited papers' BibTeX here.")] = None,
    drafter: DrafterOpt = None,
    model: ModelOpt = None,
    api_base: ApiBaseOpt = None,
    words: Annotated[int | None, typer.Option("--words", help="LLM: target length in words.")] = None,
    style: Annotated[str | None, typer.Option("--style", help="LLM: how to write, e.g. 'thematic paragraphs'.")] = None,
    prompts: Annotated[Path | None, typer.Option("--prompts", help="LLM: folder of your own prompt templates.")] = None,
    cache: Annotated[bool | None, typer.Option("--cache/--no-cache", help="LLM: reuse identical past replies.")] = None,
    json_mode: Annotated[
        str | None, typer.Option("--json-mode", help="LLM: auto, schema, object-schema, object or off.")
    ] = None,
    retriever: RetrieverOpt = None,
    prf: PrfOpt = None,
    llm_queries: LlmQueriesOpt = None,
    before: BeforeOpt = None,
    after: AfterOpt = None,
    check: Annotated[bool, typer.Option("--check", help="Check the citations and print the report too.")] = False,
    judge: JudgeOpt = None,
    heading: Annotated[str | None, typer.Option("--heading", help="Section heading text.")] = None,
    heading_level: Annotated[int | None, typer.Option("--heading-level", help="Heading level, 1-6.")] = None,
    strict: Annotated[bool | None, typer.Option("--strict/--lenient", help="Fail on a bad corpus record.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Retrieve papers for a query and draft a cited related-work section."""
    from synth.render import render, to_bibtex, to_json
    from synth.settings import Settings
    from synth.synthesizer import Synthesizer

    fmt = fmt or (FORMATS.get(output.suffix.lower(), "markdown") if output else "markdown")
    if fmt not in ("markdown", "json", "latex"):
        raise SynthError(f"unknown format {fmt!r}: use markdown, json or latex")
    settings = Settings.load(
        config, corpus=corpus, k=k, drafter=drafter, model=model, api_base=api_base, words=words, style=style,
        prompts=prompts, cache=cache, json_mode=json_mode, heading=heading, heading_level=heading_level, strict=strict,
        judge=judge, retriever=retriever, prf=prf, before=before, after=after, llm_queries=llm_queries,
    )  # fmt: skip
    synth = Synthesizer(settings=settings)
    section = synth.draft(_read_query(None if query_file else query, query_file))
    if not synth.uses_llm and settings.drafter == "auto":
        _notice("no LLM configured: used the offline extractive drafter (set --model or SYNTH_MODEL to use one)")
    report = synth.check(section) if check else None
    if fmt == "json" and report is not None:
        _emit(json.dumps({**to_json(section), "grounding": report.model_dump(mode="json")}, indent=2) + "\n", output)
    else:
        _emit(render(section, fmt), output)  # type: ignore[arg-type]
        if report is not None:
            from synth.check.report import report_markdown

            sys.stdout.write("\n" + report_markdown(report))
    if bib is not None:
        _emit(to_bibtex(section), bib)


def _notice(message: str) -> None:
    """A line for the user on stderr, silenced by -q."""
    if logging.getLogger().isEnabledFor(logging.WARNING):
        typer.echo(f"note: {message}", err=True)


def _emit(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    from synth.files import write_text

    write_text(path, text)  # never leave a half-written file where the user expects the result
    log.info("wrote %s", path)


@app.command("check")
def check_command(
    path: Annotated[
        Path, typer.Argument(help="The text to check: .md (with a References list), .tex or synth's .json.")
    ],
    corpus: CorpusOpt = None,
    judge: JudgeOpt = None,
    model: ModelOpt = None,
    api_base: ApiBaseOpt = None,
    trials: Annotated[int | None, typer.Option("--trials", help="LLM judge: answers per question.")] = None,
    window: Annotated[int | None, typer.Option("--window", help="Claim coverage window, in sentences.")] = None,
    min_chars: Annotated[int | None, typer.Option("--min-chars", help="Skip shorter sentences.")] = None,
    gold: Annotated[
        Path | None, typer.Option("--gold", help="File of gold references (ids, DOIs or titles), one a line.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown or json.")] = "markdown",
    output: OutputOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Check every citation of a related-work text against the cited abstracts."""
    from synth.check.report import report_markdown
    from synth.settings import Settings
    from synth.synthesizer import Synthesizer

    if not path.is_file():
        raise SynthError(f"file not found: {path}")
    settings = Settings.load(config, corpus=corpus, judge=judge, model=model, api_base=api_base,
                             judge_trials=trials, window=window, min_chars=min_chars)  # fmt: skip
    references = [line.strip() for line in gold.read_text().splitlines() if line.strip()] if gold else None
    report = Synthesizer(settings=settings).check(path, gold=references)
    text = report.model_dump_json(indent=2) + "\n" if fmt == "json" else report_markdown(report)
    _emit(text, output)


@app.command()
def search(
    query: QueryArg = None,
    query_file: QueryFileOpt = None,
    corpus: CorpusOpt = None,
    k: Annotated[int | None, typer.Option("--k", "-k", help="Papers to list.")] = None,
    retriever: RetrieverOpt = None,
    prf: PrfOpt = None,
    llm_queries: LlmQueriesOpt = None,
    model: ModelOpt = None,
    api_base: ApiBaseOpt = None,
    before: BeforeOpt = None,
    after: AfterOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """List the papers retrieval ranks best for a query, with scores; no drafting."""
    from synth.settings import Settings
    from synth.synthesizer import Synthesizer

    settings = Settings.load(config, corpus=corpus, k=k, retriever=retriever, prf=prf, before=before, after=after,
                             llm_queries=llm_queries, model=model, api_base=api_base)  # fmt: skip
    hits = Synthesizer(settings=settings).search(_read_query(None if query_file else query, query_file))
    if fmt == "json":
        typer.echo(json.dumps([h.model_dump(mode="json") for h in hits], indent=2))
        return
    for h in hits:
        year = f" ({h.paper.year})" if h.paper.year else ""
        typer.echo(f"{h.rank:>3}  {h.score:8.4f}  {h.paper.id}  {h.paper.title}{year}")


@index_app.command("build")
def index_build(
    corpus: Annotated[str, typer.Argument(help="Corpus file, or 'sample'.")] = "sample",
    dense: Annotated[bool, typer.Option("--dense", help="Also compute dense embeddings (the dense extra).")] = False,
) -> None:
    """Build (or reuse) the indexes of a corpus now, so drafts do not wait for them."""
    from synth.settings import Settings
    from synth.synthesizer import Synthesizer

    synth = Synthesizer(settings=Settings.load(corpus=corpus, retriever="hybrid" if dense else "bm25"))
    synth.retriever  # noqa: B018 - building is the point
    typer.echo(f"indexed {len(synth.corpus)} papers of {synth.corpus.source} in {synth.settings.home / 'indexes'}")


@index_app.command("info")
def index_info() -> None:
    """List the cached indexes: kind, corpus fingerprint, papers, size."""
    from synth.settings import Settings

    folder = Settings.load().home / "indexes"
    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    for entry in entries:
        size = sum(f.stat().st_size for f in ([entry] if entry.is_file() else entry.rglob("*")) if f.is_file())
        meta = entry / "meta.json"
        papers = json.loads(meta.read_text()).get("num_docs", "?") if meta.is_file() else "?"
        typer.echo(f"{entry.name}  papers={papers}  {size / 1e6:.1f} MB")
    if not entries:
        typer.echo(f"no indexes in {folder}")


@index_app.command("clear")
def index_clear() -> None:
    """Delete every cached index; they are rebuilt when next needed."""
    import shutil

    from synth.settings import Settings

    folder = Settings.load().home / "indexes"
    shutil.rmtree(folder, ignore_errors=True)
    typer.echo(f"cleared {folder}")


@eval_app.command("run")
def eval_run(
    suite: Annotated[Path, typer.Argument(help="Suite folder: queries.jsonl and a corpus.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: records, manifest, reports.")],
    workers: Annotated[int, typer.Option("--workers", "-w", help="Queries in flight at once.")] = 4,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per query before it fails.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Start over when the folder holds other settings.")] = False,
    k: Annotated[int | None, typer.Option("--k", "-k", help="Papers to retrieve.")] = None,
    drafter: DrafterOpt = None,
    model: ModelOpt = None,
    api_base: ApiBaseOpt = None,
    judge: JudgeOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Draft and check every query of a suite; resumes where an interrupted run stopped."""
    from synth.evaluate import Suite, evaluate
    from synth.evaluate.summary import summary_markdown
    from synth.settings import Settings

    settings = Settings.load(config, k=k, drafter=drafter, model=model, api_base=api_base, judge=judge)
    loaded = Suite.load(suite)
    with _progress(len(loaded.queries), out) as on_record:
        run = evaluate(loaded, settings, out=out, workers=workers, force=force, timeout=timeout, on_record=on_record)
    typer.echo(summary_markdown(run.summary, title=str(out)))


def _progress(total: int, out: Path) -> Any:
    """A rich progress bar with ETA, running cost and failures on stderr (quiet when not a terminal)."""
    from contextlib import contextmanager

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from synth.evaluate.runlog import latest_records

    @contextmanager
    def bar() -> Any:
        already = len(latest_records(out))
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

    return bar()


@eval_app.command("report")
def eval_report(run: Annotated[Path, typer.Argument(help="A run folder.")]) -> None:
    """Print a run's summary table; write summary.json, queries.csv and (with matplotlib) metrics.png."""
    from synth.evaluate.plots import plot_run
    from synth.evaluate.runlog import latest_records
    from synth.evaluate.summary import records_csv, summarise, summary_markdown

    records = latest_records(run)
    if not records:
        raise SynthError(f"{run} holds no records: run `synth eval run SUITE --out {run}` first")
    summary = summarise(records)
    (run / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (run / "queries.csv").write_text(records_csv(records), encoding="utf-8")
    plot = plot_run(records, run / "metrics.png")
    typer.echo(summary_markdown(summary, title=str(run)))
    typer.echo(f"wrote {run / 'summary.json'}, {run / 'queries.csv'}" + (f", {plot}" if plot else ""), err=True)


@eval_app.command("compare")
def eval_compare(
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
    typer.echo(compare_markdown(summaries))
    if plot is not None and plot_compare(summaries, plot) is None:
        raise SynthError("plots need matplotlib: pip install 'synth[plot]'")


@eval_app.command("import-deepscholar")
def eval_import(
    dataset: Annotated[Path, typer.Argument(help="DeepScholar-bench's dataset/ folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Suite folder to write.")],
) -> None:
    """Turn the DeepScholar-bench dataset layout into a synth suite."""
    from synth.evaluate.deepscholar import import_deepscholar

    stats = import_deepscholar(dataset, out)
    typer.echo(
        f"wrote {out}: {stats.queries} queries, {stats.papers} papers; {stats.citations} citations read, "
        f"{stats.without_abstract} without an abstract, {stats.unmapped_keys} \\cite keys not found"
    )


@corpus_app.command("stats")
def corpus_stats(
    path: Annotated[str, typer.Argument(help="Corpus file, or 'sample'.")] = "sample",
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first bad record.")] = False,
) -> None:
    """Count papers, skipped records and merged duplicates in a corpus."""
    from synth.corpus import load_corpus, stats

    for line in stats(load_corpus(path, strict=strict)):
        typer.echo(line)


from synth.cli.fetch import fetch as _fetch  # noqa: E402 - a command in its own module, registered here

app.command("fetch")(_fetch)


def main() -> None:
    """Entry point of the `synth` console script."""
    # pydantic scans every installed package's entry points for plugins on first use (~15 ms); the CLI
    # process has none to load. A user who relies on one can set the variable to an empty value.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    app(prog_name="synth")
