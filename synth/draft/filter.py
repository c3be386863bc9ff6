"""Stage (b) of staged drafting: the model decides, paper by paper, which candidates the section should cite.

`prompts/filter.j2` shows one candidate (title and the start of its abstract) and asks a yes-or-no question:
small models answer one short question far better than they rate a batch (a 1.5B model gave eight
candidates the same pattern of ratings in every batch, whatever they were). Candidates it accepts are kept in
retrieval order, up to k; when fewer than `min_keep` are, the best-ranked others fill in. A candidate whose
reply fails twice is decided by retrieval instead (the extractive drafter's relevance bar). The draft cites
what is relevant, not k papers by quota.
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

OUTPUT_EXAMPLE = json.dumps({"cite": 1})


class Vote(BaseModel):
    """The reply `prompts/filter.j2` asks for."""

    cite: int = Field(ge=0, le=1)


@dataclass
class Filtered:
    """The hits to cite (best first), the ones left out, and notes on stages that fell back."""

    kept: list[Hit]
    left_out: list[LeftOut]
    notes: list[str]


def _shown(hit: Hit) -> dict[str, object]:
    return {"title": hit.paper.title, "abstract": " ".join(split_sentences(hit.paper.abstract)[:3])}


async def vote(
    llm: LLM, prompts: Prompts, system: list[Message], query: str, hits: list[Hit], *, concurrency: int = 1
) -> tuple[dict[str, bool], list[str]]:
    """Whether each hit should be cited: the model's answer, else retrieval's bar; and notes on fallbacks."""
    best = max((h.score for h in hits), default=0.0)
    gate = asyncio.Semaphore(concurrency)

    async def one(hit: Hit) -> tuple[bool, bool]:
        prompt = prompts.render("filter", query=query, source=_shown(hit), output_example=OUTPUT_EXAMPLE)
        async with gate:
            reply, _ = await ask(
                llm, [*system, {"role": "user", "content": prompt}], Vote, stage="filter", max_tokens=16
            )
        if reply is None:
            return bool(best) and hit.score >= MIN_RELATIVE_SCORE * best, True
        return reply.cite == 1, False

    results = await asyncio.gather(*(one(h) for h in hits))
    fell_back = sum(failed for _, failed in results)
    notes = (
        [f"filter: the model gave no usable answer for {fell_back} of {len(hits)} candidates; used retrieval there"]
        if fell_back
        else []
    )
    return {h.paper.id: keep for h, (keep, _) in zip(hits, results, strict=True)}, notes


def select(hits: list[Hit], votes: dict[str, bool], k: int, min_keep: int) -> tuple[list[Hit], list[LeftOut]]:
    """Accepted hits in retrieval order up to k; when fewer than `min_keep`, the best-ranked others fill in."""
    kept = [h for h in hits if votes.get(h.paper.id)][:k]
    if len(kept) < min_keep:
        kept += [h for h in hits if not votes.get(h.paper.id)][: min_keep - len(kept)]
    chosen = {h.paper.id for h in kept}
    left_out = [
        LeftOut(id=h.paper.id, title=h.paper.title, score=h.score,
                reason="judged not relevant by the model" if not votes.get(h.paper.id) else f"only the best {k} are cited")
        for h in hits if h.paper.id not in chosen
    ]  # fmt: skip
    return sorted(kept, key=lambda h: h.rank), left_out
