"""Batch evaluation: run a suite of queries through draft + check, durably, resumably, concurrently.

A run directory holds `manifest.json` (what produced it) and `records.jsonl` (one complete JSON record per
finished query, appended and fsync'd). Killing the process at any moment loses at most the query in flight:
on restart a half-written last line is cut off and every query with a record is skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synth._version import __version__
from synth.errors import SettingsError, SynthError
from synth.files import write_text
from synth.models import Section
from synth.settings import Settings
from synth.synthesizer import Synthesizer

log = logging.getLogger(__name__)

RECORDS, MANIFEST = "records.jsonl", "manifest.json"
# Settings that change results; the others (home, cache, prompts folder path) do not.
_IRRELEVANT = {"home", "cache", "strict"}


@dataclass
class Query:
    """One query of a suite."""

    id: str
    text: str
    gold: list[str] = field(default_factory=list)
    exemplar: str | None = None  # a human-written section, when the suite has one
    before: str | None = None  # cutoff date (YYYY-MM-DD)


@dataclass
class Suite:
    """A folder with `queries.jsonl` and a corpus (`corpus.jsonl`, or `suite.json` naming one)."""

    path: Path
    queries: list[Query]
    corpus: str

    @classmethod
    def load(cls, path: str | Path) -> Suite:
        """Read a suite folder; a malformed query line is an error naming file and line."""
        root = Path(path)
        file = root / "queries.jsonl"
        if not file.is_file():
            raise SynthError(f"{root} is not a suite: {file} is missing")
        queries = []
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                queries.append(_query(json.loads(line)))
            except (ValueError, KeyError, TypeError) as e:
                raise SynthError(f"{file}:{n}: {e}") from e
        ids = [q.id for q in queries]
        if len(set(ids)) != len(ids):
            raise SynthError(f"{file}: query ids must be unique")
        corpus = root / "corpus.jsonl"
        config = root / "suite.json"
        if config.is_file():
            named = str(json.loads(config.read_text(encoding="utf-8")).get("corpus", ""))
            corpus_name = named if named == "sample" else str((root / named).resolve())
        elif corpus.is_file():
            corpus_name = str(corpus)
        else:
            raise SynthError(f"{root} has no corpus.jsonl and no suite.json naming a corpus")
        return cls(path=root, queries=queries, corpus=corpus_name)


def _query(data: dict[str, Any]) -> Query:
    text = data.get("query") or "\n".join(x for x in (data.get("title"), data.get("abstract")) if x)
    if not text or "id" not in data:
        raise ValueError("a query needs an id and a query (or a title and abstract)")
    gold = data.get("gold") or []
    if isinstance(gold, str):  # some exports store the list as its repr
        gold = json.loads(gold.replace("'", '"'))
    return Query(
        id=str(data["id"]),
        text=text,
        gold=[str(g) for g in gold],
        exemplar=data.get("related_work"),
        before=data.get("before") or data.get("date"),
    )


# -- run directory ----------------------------------------------------------------------------------------


def settings_hash(settings: Settings) -> str:
    """A short hash of the settings that change results."""
    relevant = {k: v for k, v in settings.public().items() if k not in _IRRELEVANT}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def read_records(run: Path) -> list[dict[str, Any]]:
    """The complete records of a run; a torn or corrupt line is skipped (and cut off before appending)."""
    path = run / RECORDS
    if not path.is_file():
        return []
    records = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            log.warning("%s: discarding an incomplete record", path)
    return records


def _repair(path: Path) -> None:
    """Cut a half-written last line, so the next append starts on a fresh line."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        log.warning("%s: cut a half-written record left by an interrupted run", path)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one write of a whole line, then fsync: the line is complete or absent."""
    line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # the umask applies
    try:
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False))


def _manifest(synth: Synthesizer, suite: Suite) -> dict[str, Any]:
    prompts: dict[str, str] = {}
    if synth.settings.model or synth.settings.judge == "llm":
        from synth.templates import Prompts

        p = Prompts(synth.settings.prompts)
        prompts = {name: p.source_hash(name) for name in ("draft", "draft_system", "support")}
    return {
        "synth_version": __version__,
        "suite": str(suite.path),
        "queries": len(suite.queries),
        "settings_hash": settings_hash(synth.settings),
        "settings": synth.settings.public(),
        "prompt_hashes": prompts,
        "corpus_fingerprint": synth.corpus.fingerprint,
        "model": synth.settings.model,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished": None,
    }


# -- running ----------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run produced: its records (one per query) and their summary."""

    path: Path
    records: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, Any]:
        """Means with 95% bootstrap intervals per metric, over successful queries."""
        from synth.summary import summarise

        return summarise(self.records)


def evaluate(
    suite: str | Path | Suite,
    settings: Settings | None = None,
    *,
    out: str | Path,
    workers: int = 4,
    force: bool = False,
    timeout: float | None = None,
    synthesizer: Synthesizer | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> Run:
    """Draft and check every query of `suite`, appending a record per query to `out`/records.jsonl.

    Queries that already have a record are not run again. Running with other settings into the same
    folder is refused unless `force`, which starts the run over.
    """
    suite = suite if isinstance(suite, Suite) else Suite.load(suite)
    settings = settings or Settings.load()
    if synthesizer is None:
        synthesizer = Synthesizer(settings=Settings(**{**settings.model_dump(), "corpus": suite.corpus}))
    run = Path(out)
    run.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(synthesizer, suite)
    old = json.loads((run / MANIFEST).read_text()) if (run / MANIFEST).is_file() else None
    if old and old.get("settings_hash") != manifest["settings_hash"]:
        if not force:
            raise SettingsError(
                f"{run} holds a run with other settings ({old.get('settings_hash')}); "
                "use another --out, or --force to start it over"
            )
        (run / RECORDS).unlink(missing_ok=True)
        old = None
    if old:
        manifest["started"] = old.get("started", manifest["started"])
    _write_json(run / MANIFEST, manifest)
    _repair(run / RECORDS)
    done = {r["query_id"] for r in read_records(run)}
    todo = [q for q in suite.queries if q.id not in done]
    log.info("%s: %d queries done, %d to run", run, len(done), len(todo))
    _warm(synthesizer)
    asyncio.run(_run_all(synthesizer, todo, run, workers, timeout, manifest["settings_hash"], on_record))
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_json(run / MANIFEST, manifest)
    return Run(path=run, records=latest_records(run))


def latest_records(run: Path) -> list[dict[str, Any]]:
    """One record per query (the last one written), in query-id order."""
    latest = {r["query_id"]: r for r in read_records(run)}
    return [latest[q] for q in sorted(latest)]


def _warm(synth: Synthesizer) -> None:
    # Build every stage once, before workers share them.
    synth.corpus, synth.retriever, synth.drafter, synth.judge  # noqa: B018


async def _run_all(
    synth: Synthesizer,
    queries: list[Query],
    run: Path,
    workers: int,
    timeout: float | None,
    shash: str,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> None:
    gate = asyncio.Semaphore(max(1, workers))

    async def one(q: Query) -> None:
        async with gate:
            try:
                record = await asyncio.wait_for(_evaluate_one(synth, q), timeout)
            except Exception as e:  # one failing query is recorded and the run goes on
                kind = "timeout" if isinstance(e, TimeoutError) else type(e).__name__
                record = {"ok": False, "error": f"{kind}: {e}"[:500]}
            record = {"query_id": q.id, "settings_hash": shash, **record}
            append_record(run / RECORDS, record)  # the event loop thread is the only writer
            if on_record:
                on_record(record)

    await asyncio.gather(*(one(q) for q in queries))


async def _evaluate_one(synth: Synthesizer, q: Query) -> dict[str, Any]:
    start = time.perf_counter()
    section: Section = await synth.adraft(q.text)
    checked = time.perf_counter()
    report = await asyncio.to_thread(synth.check, section, q.gold or None)
    done = time.perf_counter()
    retrieved = [h.paper.id for h in section.hits]
    gold = set(q.gold)
    metrics = {
        "citation_precision": report.citation_precision,
        "citation_precision_loo": report.citation_precision_loo,
        "claim_coverage": report.claim_coverage,
        "citation_recall": report.citation_recall,
        "uncited_rate": report.uncited_rate,
        "invalid_citations": report.invalid_citations,
        "never_cited": len(report.never_cited or []),
        "recall_at_k": round(len(gold & set(retrieved)) / len(gold), 4) if gold else None,
        "reference_coverage": report.reference_coverage,
        "sentences": len(section.sentences),
        "words": sum(len(s.text.split()) for s in section.sentences),
    }
    usage = section.usage
    timing = {
        "retrieval_s": section.timings.get("retrieval_s", 0.0),
        "llm_s": usage.latency_s,
        "draft_other_s": max(0.0, section.timings.get("draft_s", 0.0) - usage.latency_s),
        "check_s": done - checked,
        "total_s": done - start,
    }
    return {
        "ok": True,
        "metrics": metrics,
        "usage": usage.model_dump(),
        "timing": {k: round(v, 4) for k, v in timing.items()},
        "section": section.model_dump(mode="json", exclude={"settings"}),
        "verdicts": [s.model_dump(mode="json") for s in report.sentences],
        "issues": section.issues,
    }
