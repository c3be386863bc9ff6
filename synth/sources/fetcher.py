"""Run a source's searches for a query, merge and dedupe what they find, and keep it as a corpus file.

The file is JSONL that `load_corpus` reads, written under `home/sources/` and named by a hash of the source,
the searches and the parameters, with a `.meta.json` beside it saying what was asked and what came back. An
identical fetch reuses it without a network call (`refresh=True` fetches again), so a draft made from it can
be made again offline. A fetch cut short (a failed query, the deadline) is written but not reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synth._version import __version__
from synth.errors import SettingsError, SourceError
from synth.models import Paper
from synth.sources.base import DateWindow, Skipped, Source
from synth.sources.http import DeadlineExceeded, Limits, Unreachable
from synth.sources.queries import plan_queries
from synth.text import normalise

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
"""progress(done, total, query): records received so far of at most `total`, and the query being searched."""

CACHE_VERSION = 1  # bump when the corpus files written here change shape
FIRST_QUERY_WEIGHT = 2.0  # the user's own query (or the paper's title) counts double in the merge


@dataclass
class Fetched:
    """A fetched corpus file and what it took."""

    path: Path
    source: str
    queries: list[str]
    papers: int
    without_abstract: int = 0
    malformed: int = 0
    requests: int = 0
    from_cache: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every search ran to its end (only complete fetches are reused)."""
        return not self.errors


def fetch_corpus(
    source: str,
    query: str,
    *,
    max_results: int,
    before: str | None = None,
    after: str | None = None,
    home: Path,
    queries: list[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Fetch papers for a query (a topic, or a title and abstract) from a source, or reuse the cache;
    return the path of the corpus file under `home/sources/`. See `fetch` for the details.
    """
    return fetch(
        source, query, max_results=max_results, before=before, after=after, home=home, queries=queries,
        progress=progress,
    ).path  # fmt: skip


def fetch(
    source: str,
    query: str,
    *,
    max_results: int,
    home: Path,
    before: str | None = None,
    after: str | None = None,
    queries: list[str] | None = None,
    progress: Progress | None = None,
    refresh: bool = False,
    timeout: float = 30.0,
    deadline: float = 300.0,
    limits: Limits | None = None,
) -> Fetched:
    """Search `source` for the query's title and key phrases plus `queries`, merge the rankings (reciprocal
    rank fusion, the first query counting double), keep the best `max_results` papers with an abstract.

    `before` (exclusive) and `after` (inclusive) are YYYY[-MM[-DD]], applied by the source's own date filter.
    `timeout` bounds each request and `deadline` the whole fetch, in seconds (`limits`, a
    `synth.sources.http.Limits`, replaces both). Raises SourceError when nothing could be fetched.
    """
    from synth.sources import SOURCES

    if source not in SOURCES:
        raise SettingsError(f"unknown source {source!r}: use one of {', '.join(sorted(SOURCES))}")
    if max_results < 1:
        raise SettingsError(f"--max must be at least 1, not {max_results}")
    window = DateWindow.parse(before, after)
    searches = plan_queries(query, queries)
    if not searches:
        raise SettingsError("the query is empty: give a topic, or a title and abstract")
    key = {
        "v": CACHE_VERSION,
        "source": source,
        "queries": searches,
        "max": max_results,
        "before": before,
        "after": after,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    path = Path(home) / "sources" / f"{source}-{digest}.jsonl"
    if not refresh and (cached := _cached(path)) is not None:
        log.info("%s: reusing %s (%d papers, fetched before)", source, path, cached.papers)
        return cached
    bounds = limits or Limits.within(deadline, timeout=timeout)
    found = SOURCES[source](limits=bounds)
    try:
        papers, result = _search_all(found, searches, max_results, window, progress)
        result.requests = getattr(found, "requests", 0)  # optional: a source may not count its requests
    finally:
        found.close()
    if not papers:
        if result.errors:
            raise SourceError(result.errors[0])
        skipped = f" ({result.without_abstract} without an abstract skipped)" if result.without_abstract else ""
        raise SourceError(f"{source} found no paper with an abstract{skipped}; try other words or a wider date range")
    result.path, result.papers = path, len(papers)
    _write(path, papers, result, query, key)
    if result.errors:
        log.warning(
            "%s: the fetch is incomplete (%s); kept %d papers, not reused next time",
            source,
            result.errors[0],
            len(papers),
        )
    return result


def per_query(max_results: int, queries: int) -> int:
    """How many results each of several queries asks for: twice an even share, at least 20, at most all."""
    if queries <= 1:
        return max_results
    return min(max_results, max(20, math.ceil(2 * max_results / queries)))


def _search_all(
    found: Source, searches: list[str], max_results: int, window: DateWindow, progress: Progress | None
) -> tuple[list[Paper], Fetched]:
    result = Fetched(path=Path(), source=found.name, queries=searches, papers=0)
    budget = per_query(max_results, len(searches))
    total = budget * len(searches)
    rankings: list[list[Paper]] = []
    for i, query in enumerate(searches):
        ranking: list[Paper] = []
        received = 0
        try:
            for item in found.search(query, budget, window):
                received += 1
                if isinstance(item, Skipped):
                    if item.kind == "no abstract":
                        result.without_abstract += 1
                    else:
                        result.malformed += 1
                        log.warning("%s: skipped a malformed record (%s)", found.name, item.detail)
                else:
                    ranking.append(item)
                if progress:
                    progress(i * budget + min(received, budget), total, query)
        except (Unreachable, DeadlineExceeded) as e:  # the next query would fare no better
            result.errors.append(str(e))
            rankings.append(ranking)
            break
        except (SourceError, SettingsError) as e:  # this query failed (or cannot be asked); try the others
            result.errors.append(f"{e} (query {query!r})")
        rankings.append(ranking)
        if progress:
            progress((i + 1) * budget, total, query)
    return _merge(rankings, max_results), result


def _merge(rankings: list[list[Paper]], limit: int) -> list[Paper]:
    """Papers by reciprocal-rank fusion of the rankings; one paper found under several ids, DOIs or titles once."""
    from synth.retrieve.fusion import reciprocal_rank_fusion

    canonical: dict[str, str] = {}  # id / doi / title key -> the id the paper is kept under
    papers: dict[str, Paper] = {}
    ids: list[list[str]] = []
    for ranking in rankings:
        ids.append([])
        for paper in ranking:
            keys = [f"id:{paper.id}", f"title:{normalise(paper.title)}"] + (
                [f"doi:{paper.doi.lower()}"] if paper.doi else []
            )
            pid = next((canonical[k] for k in keys if k in canonical), paper.id)
            for k in keys:
                canonical.setdefault(k, pid)
            papers.setdefault(pid, paper)
            if pid not in ids[-1]:
                ids[-1].append(pid)
    weights = [FIRST_QUERY_WEIGHT] + [1.0] * (len(ids) - 1)
    fused = reciprocal_rank_fusion(ids, weights=weights)
    first_seen = {pid: n for n, pid in enumerate(papers)}
    best = sorted(fused, key=lambda pid: (-fused[pid], first_seen[pid]))[:limit]
    return [papers[pid] for pid in best]


def _write(path: Path, papers: list[Paper], result: Fetched, query: str, key: dict[str, object]) -> None:
    from synth.files import write_text

    lines = [
        json.dumps({**p.model_dump(exclude_none=True), "source": result.source}, ensure_ascii=False) for p in papers
    ]
    write_text(path, "\n".join(lines) + "\n")
    meta = {
        **key,
        "query": query,
        "synth": __version__,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    meta |= {k: v for k, v in asdict(result).items() if k not in ("path", "from_cache")}
    write_text(_meta_path(path), json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".jsonl") + ".meta.json")


def _cached(path: Path) -> Fetched | None:
    """The earlier fetch kept at `path`, when it exists and ran to its end."""
    try:
        meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not path.is_file() or meta.get("errors") or meta.get("v") != CACHE_VERSION:
        return None
    return Fetched(
        path=path, source=meta["source"], queries=meta["queries"], papers=meta.get("papers", 0),
        without_abstract=meta.get("without_abstract", 0), malformed=meta.get("malformed", 0), from_cache=True,
    )  # fmt: skip
