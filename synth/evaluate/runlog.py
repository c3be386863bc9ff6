"""A run folder: `manifest.json` (what produced it) and `records.jsonl` (one complete JSON record a line).

Records are appended as one write of a whole line and fsync'd; a half-written last line left by a killed
run is cut off before the next append.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from synth.files import write_text
from synth.llm.secrets import scrub

log = logging.getLogger(__name__)

RECORDS, MANIFEST = "records.jsonl", "manifest.json"


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


def repair(path: Path) -> None:
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
    # Scrubbed: a server may have echoed a key into an error or a reply.
    line = (scrub(json.dumps(record, ensure_ascii=False, separators=(",", ":"))) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # the umask applies
    try:
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a JSON file atomically."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False))


def latest_records(run: Path) -> list[dict[str, Any]]:
    """One record per query (the last one written), in query-id order."""
    latest = {r["query_id"]: r for r in read_records(run)}
    return [latest[q] for q in sorted(latest)]
