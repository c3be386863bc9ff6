"""Batch evaluation: run a suite of queries through draft + check, durably, resumably, concurrently.

A run folder holds `manifest.json` (what produced it) and `records.jsonl` (one complete JSON record per
finished query). Killing the process at any moment loses at most the queries in flight: on restart a
half-written last line is cut off and every query with a successful record of the same fingerprint is
skipped. The fingerprint covers the settings that change results, every prompt template and the corpus:
resuming after any of them changed is refused unless `force`. One run at a time may write a folder.
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
from synth.errors import LLMError, SettingsError, SynthError
from synth.evaluate.metrics import Result, measure
from synth.evaluate.runlog import MANIFEST, RECORDS, append_record, latest_records, read_records, repair, write_json
from synth.evaluate.suite import Query, Suite
from synth.llm.secrets import scrub
from synth.settings import Settings
from synth.synthesizer import Synthesizer

log = logging.getLogger(__name__)

LOCK = ".lock"
# Settings that do not change results.
_IRRELEVANT = {"home", "cache", "strict", "prompts", "timeout", "max_retries"}


def fingerprint(synth: Synthesizer, suite: Suite) -> dict[str, Any]:
    """What decides a run's results: the relevant settings, every prompt template's hash, the corpus."""
    relevant = {k: v for k, v in synth.settings.flat().items() if k not in _IRRELEVANT}
    parts = {
        "settings": json.loads(json.dumps(relevant, default=str)),
        "prompts": synth.prompts.hashes(),
        "corpus": synth.corpus.fingerprint,
        "synth": __version__,
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    return {"fingerprint": digest, **parts}


def _manifest(synth: Synthesizer, suite: Suite, print_: dict[str, Any]) -> dict[str, Any]:
    return {
        "synth_version": __version__,
        "suite": str(suite.path),
        "queries": len(suite.queries),
        "fingerprint": print_["fingerprint"],
        "settings": synth.settings.public(),
        "prompt_hashes": print_["prompts"],
        "corpus_fingerprint": print_["corpus"],
        "model": synth.settings.llm.model,
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
    limit: int | None = None,
) -> Run:
    """Draft and check every query of `suite` (the first `limit` of them), appending a record per query to
    `out`/records.jsonl.

    Queries with a successful record of this run's fingerprint are not run again (failed ones are). Running
    with another fingerprint into the same folder is refused unless `force`, which starts the run over. A
    model error that no retry can fix (a wrong key, a server that is not there) stops the run: it raises,
    and the queries it would have failed are not recorded as failures.
    """
    from filelock import FileLock, Timeout

    suite = suite if isinstance(suite, Suite) else Suite.load(suite)
    if limit is not None:
        suite = Suite(path=suite.path, queries=suite.queries[:limit], corpus=suite.corpus)
    settings = settings or Settings.load()
    if synthesizer is None:
        synthesizer = Synthesizer(settings=settings.updated(corpus=suite.corpus))
    run = Path(out)
    if run.exists() and not run.is_dir():
        raise SynthError(f"{run} is a file; --out needs a folder for the run")
    run.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(run / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SynthError(f"another synth eval run is writing to {run}; wait for it or use another --out") from None
    try:
        return _evaluate(synthesizer, suite, run, workers, force, timeout, on_record)
    finally:
        lock.release()


def _evaluate(
    synth: Synthesizer,
    suite: Suite,
    run: Path,
    workers: int,
    force: bool,
    timeout: float | None,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> Run:
    _warm(synth)  # a misconfigured stage or a missing key fails here, before any query
    print_ = fingerprint(synth, suite)
    manifest = _manifest(synth, suite, print_)
    old = json.loads((run / MANIFEST).read_text()) if (run / MANIFEST).is_file() else None
    if old and old.get("fingerprint") != print_["fingerprint"]:
        if not force:
            changed = [
                k
                for k in ("settings", "prompt_hashes", "corpus_fingerprint", "synth_version")
                if old.get(k) != manifest.get(k)
            ]
            what = ", ".join(changed) or "settings"
            raise SettingsError(
                f"{run} holds a run made with other {what}; use another --out, or --force to start it over"
            )
        (run / RECORDS).unlink(missing_ok=True)
        old = None
    if old:
        manifest["started"] = old.get("started", manifest["started"])
    write_json(run / MANIFEST, manifest)
    repair(run / RECORDS)
    done = {r["query_id"] for r in read_records(run) if r.get("ok") and r.get("fingerprint") == print_["fingerprint"]}
    todo = [q for q in suite.queries if q.id not in done]
    log.info("%s: %d queries done, %d to run", run, len(done), len(todo))
    asyncio.run(_run_all(synth, todo, run, workers, timeout, print_["fingerprint"], on_record))
    manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(run / MANIFEST, manifest)
    return Run(path=run, records=[r for r in latest_records(run) if r.get("fingerprint") == print_["fingerprint"]])


def _warm(synth: Synthesizer) -> None:
    """Build every stage once, before workers share them; check the model can be used at all."""
    from synth.llm import preflight

    preflight(synth.settings.llm)
    synth.corpus, synth.retriever, synth.drafter, synth.judge  # noqa: B018


async def _run_all(
    synth: Synthesizer,
    queries: list[Query],
    run: Path,
    workers: int,
    timeout: float | None,
    print_: str,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> None:
    gate = asyncio.Semaphore(max(1, workers))

    async def one(q: Query) -> None:
        async with gate:
            try:
                record = await asyncio.wait_for(_evaluate_one(synth, q), timeout)
            except LLMError as e:
                if e.fatal:
                    raise  # no later query can succeed: stop the run, record nothing for this one
                record = {"ok": False, "error": f"{type(e).__name__}: {e}"[:500]}
            except Exception as e:  # one failing query is recorded and the run goes on
                kind = "timeout" if isinstance(e, TimeoutError) else type(e).__name__
                record = {"ok": False, "error": scrub(f"{kind}: {e}")[:500]}
            record = {"query_id": q.id, "fingerprint": print_, **record}
            append_record(run / RECORDS, record)  # the event loop thread is the only writer
            if on_record:
                on_record(record)

    tasks = [asyncio.create_task(one(q)) for q in queries]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def _evaluate_one(synth: Synthesizer, q: Query) -> dict[str, Any]:
    from synth.llm import metering

    start = time.perf_counter()
    with metering() as meter:
        section = await synth.adraft(q.text, before=q.before)
        checked = time.perf_counter()
        report = await synth.acheck(section, gold=q.gold or None)
    done = time.perf_counter()
    usage = meter.usage  # drafting and checking together
    timing = {
        "retrieval_s": section.timings.get("retrieval_s", 0.0),
        "llm_s": usage.latency_s,
        "draft_other_s": max(0.0, section.timings.get("draft_s", 0.0) - section.usage.latency_s),
        "check_s": done - checked,
        "total_s": done - start,
    }
    return {
        "ok": True,
        "metrics": measure(Result(query=q, section=section, report=report)),
        "usage": usage.model_dump(),
        "timing": {k: round(v, 4) for k, v in timing.items()},
        "section": section.model_dump(mode="json", exclude={"settings"}),
        "verdicts": [s.model_dump(mode="json") for s in report.sentences],
        "issues": section.issues,
    }
