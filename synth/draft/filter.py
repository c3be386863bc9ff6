"""Stage (b) of staged drafting: the model rates the candidates' relevance in batches; the best k are kept.

`prompts/filter.j2` shows a batch of candidates (title and the start of the abstract) and asks for one 0-3
rating each. Papers rated 2 or 3 are kept, best rated first and by retrieval rank within a rating, up to k;
when fewer than `min_keep` are, the best rated 1 fill in. A batch whose reply fails twice is rated from
retrieval instead (the extractive drafter's relevance bar). The draft cites what is relevant, not k papers by quota.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.draft.relevance import MIN_RELATIVE_SCORE
from synth.llm.base import LLM, Message
from synth.models import Hit, LeftOut
from synth.templates import Prompts
from synth.text import split_sentences

BATCH = 8
OUTPUT_EXAMPLE = json.dumps({"ratings": [{"n": 1, "relevance": 3}, {"n": 2, "relevance": 0}]})


class Rating(BaseModel):
    n: int
    relevance: int = Field(ge=0, le=3)


class Ratings(BaseModel):
    """The reply `prompts/filter.j2` asks for."""

    ratings: list[Rating]


@dataclass
class Filtered:
    """The hits to cite (best first), the ones left out, and notes on stages that fell back."""

    kept: list[Hit]
    left_out: list[LeftOut]
    notes: list[str]


def _shown(hit: Hit, n: int) -> dict[str, object]:
    opening = " ".join(split_sentences(hit.paper.abstract)[:3])
    return {"n": n, "title": hit.paper.title, "abstract": opening}


def _offline(batch: list[Hit], best: float) -> dict[str, int]:
    return {h.paper.id: 2 if best and h.score >= MIN_RELATIVE_SCORE * best else 1 for h in batch}


async def rate(
    llm: LLM, prompts: Prompts, system: list[Message], query: str, hits: list[Hit], *, concurrency: int = 1
) -> tuple[dict[str, int], list[str]]:
    """A 0-3 rating per hit id, from the model in batches (from retrieval where a batch fails), and notes."""
    best = max((h.score for h in hits), default=0.0)
    gate = asyncio.Semaphore(concurrency)

    async def one(batch: list[Hit]) -> tuple[dict[str, int], str | None]:
        sources = [_shown(h, n) for n, h in enumerate(batch, 1)]
        prompt = prompts.render("filter", query=query, sources=sources, output_example=OUTPUT_EXAMPLE)
        async with gate:
            reply, note = await ask(llm, [*system, {"role": "user", "content": prompt}], Ratings, stage="filter",
                                    max_tokens=40 + 16 * len(batch))  # fmt: skip
        ratings = _offline(batch, best)
        if reply is not None:
            given = {r.n: r.relevance for r in reply.ratings if 1 <= r.n <= len(batch)}
            if len(given) < len(batch) // 2:  # the model lost count: trust retrieval for this batch
                note = "filter: the model rated too few candidates in a batch; used retrieval there"
            else:
                ratings.update({batch[n - 1].paper.id: r for n, r in given.items()})
        return ratings, note

    batches = [hits[i : i + BATCH] for i in range(0, len(hits), BATCH)]
    results = await asyncio.gather(*(one(b) for b in batches))
    ratings: dict[str, int] = {}
    notes = []
    for found, note in results:
        ratings.update(found)
        if note:
            notes.append(note)
    return ratings, notes


def select(hits: list[Hit], ratings: dict[str, int], k: int, min_keep: int) -> tuple[list[Hit], list[LeftOut]]:
    """Rated 2-3 first (best rated, then by retrieval rank), up to k; rated 1 fill up to `min_keep`."""
    order = sorted(hits, key=lambda h: (-ratings.get(h.paper.id, 0), h.rank))
    kept = [h for h in order if ratings.get(h.paper.id, 0) >= 2][:k]
    if len(kept) < min_keep:
        kept += [h for h in order if ratings.get(h.paper.id, 0) == 1][: min_keep - len(kept)]
    chosen = {h.paper.id for h in kept}
    left_out = [
        LeftOut(id=h.paper.id, title=h.paper.title, score=h.score,
                reason=f"rated {ratings.get(h.paper.id, 0)}/3 for relevance" + ("" if ratings.get(h.paper.id, 0) < 2 else f"; only the best {k} are cited"))
        for h in hits if h.paper.id not in chosen
    ]  # fmt: skip
    return sorted(kept, key=lambda h: (-ratings.get(h.paper.id, 0), h.rank)), left_out
