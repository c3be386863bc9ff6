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
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synth._version import __version__
from synth.errors import SettingsError
from synth.evaluate.runlog import MANIFEST, RECORDS, append_record, latest_records, read_records, repair, write_json
from synth.evaluate.suite import Query, Suite
from synth.models import Section
from synth.settings import Settings
from synth.synthesizer import Synthesizer

log = logging.getLogger(__name__)

# Settings that change results; the others (home, cache, prompts folder path) do not.
_IRRELEVANT = {"home", "cache", "strict"}


def settings_hash(settings: Settings) -> str:
    """A short hash of the settings that change results."""
    relevant = {k: v for k, v in settings.public().items() if k not in _IRRELEVANT}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


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


@dataclass
class Run:
    """What a run produced: its records (one per query) and their summary."""

    path: Path
    records: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, Any]:
        """Means with 95% bootstrap intervals per metric, over successful queries."""
        from synth.evaluate.summary import summarise

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
    write_json(run / MANIFEST, manifest)
    repair(run / RECORDS)
    done = {r["query_id"] for r in read_records(run)}
    todo = [q for q in suite.queries if q.id not in done]
    log.info("%s: %d queries done, %d to run", run, len(done), len(todo))
    _warm(synthesizer)
    asyncio.run(_run_all(synthesizer, todo, run, workers, timeout, manifest["settings_hash"], on_record))
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(run / MANIFEST, manifest)
    return Run(path=run, records=latest_records(run))


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
