"""The indexes of one corpus, built or loaded once and shared: the BM25 retriever and the offline judge both ask here."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from synth._version import __version__
from synth.corpus import Corpus
from synth.retrieve.bm25 import INDEX_FORMAT, BM25Index

log = logging.getLogger(__name__)


class CorpusIndex:
    """The indexes of `corpus`, cached in `folder` (keyed by the corpus content) when one is given."""

    def __init__(self, corpus: Corpus, folder: Path | None) -> None:
        self.corpus = corpus
        self.folder = folder

    @cached_property
    def bm25(self) -> BM25Index:
        """The BM25 index: loaded from the cache when it is there and sound, else built (and cached)."""
        if self.folder is None:
            return BM25Index.build(self.corpus)
        # num_docs too: meta.json carries the checksums, so nothing else vouches for it (a 10^12 there is 4 TB)
        meta = {"format": INDEX_FORMAT, "fingerprint": self.corpus.fingerprint, "synth": __version__,
                "num_docs": len(self.corpus)}  # fmt: skip
        path = self.folder / f"bm25-{self.corpus.fingerprint[:24]}"
        index = BM25Index.load(path, meta)
        if index is not None:
            log.debug("loaded BM25 index from %s", path)
            _touch(path)
            return index
        index = BM25Index.build(self.corpus)
        try:
            index.save(path, meta)
            prune(self.folder, max_bytes=MAX_CACHE_BYTES, keep={path.name})
        except OSError as e:  # a read-only cache must not stop a draft
            log.warning("could not cache the index in %s (%s); continuing without cache", path, e)
        return index


MAX_CACHE_BYTES = 4 * 1024**3
"""Cached indexes beyond this total are pruned, least recently used first, whenever a new one is built."""


@dataclass
class Entry:
    """One cached index: its folder, size and when a draft last used it."""

    path: Path
    bytes: int
    used: float


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):  # "last used" is what pruning goes by; a read-only cache is fine
        os.utime(path / "meta.json")


def entries(folder: Path) -> list[Entry]:
    """The cached indexes in `folder`, least recently used first."""
    found = []
    for path in folder.iterdir() if folder.is_dir() else []:
        if not path.is_dir() or ".tmp-" in path.name:
            continue
        files = [f for f in path.rglob("*") if f.is_file()]
        used = max((f.stat().st_mtime for f in files), default=path.stat().st_mtime)
        found.append(Entry(path, sum(f.stat().st_size for f in files), used))
    return sorted(found, key=lambda e: e.used)


def prune(
    folder: Path,
    *,
    max_bytes: int | None = None,
    older_than_days: float | None = None,
    keep: frozenset[str] | set[str] = frozenset(),
) -> list[Entry]:
    """Delete cached indexes unused for `older_than_days`, then the least recently used until the rest fit
    `max_bytes`; never those named in `keep`. Returns what was deleted."""
    current = entries(folder)
    removed = []
    if older_than_days is not None:
        cutoff = time.time() - older_than_days * 86400
        removed += [e for e in current if e.used < cutoff and e.path.name not in keep]
    total = sum(e.bytes for e in current if e not in removed)
    for e in current:
        if max_bytes is None or total <= max_bytes:
            break
        if e not in removed and e.path.name not in keep:
            removed.append(e)
            total -= e.bytes
    for e in removed:
        shutil.rmtree(e.path, ignore_errors=True)
        log.info("pruned the cached index %s (%.1f MB)", e.path.name, e.bytes / 1e6)
    return removed
