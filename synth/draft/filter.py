"""Stage (b) of staged drafting: which candidates the section should cite, decided with the model paper by paper.

`prompts/filter.j2` shows one candidate (title and the start of its abstract) and asks whether it is on a
related topic. Small models answer one short question far better than they rate a batch (a 1.5B model gave
eight candidates the same ratings in every batch, whatever they were), and the wording matters: asked
whether the paper would be *cited*, it said no to all 40 candidates of two dev queries; asked whether it is
on a *related topic*, it said yes to 48% of the papers the authors cited and 15% of the others (5 queries,
eval/README.md). Its answer and retrieval's score are combined: a candidate is kept when the model says yes
or its score clears the extractive drafter's bar; those the model accepts come first; at most k, and at
least `min_keep` (the best-ranked others fill in). A candidate whose reply fails twice is decided by retrieval.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.draft.relevance import MIN_RELATIVE_SCORE
from synth.llm.base import LLM, Message
from synth.models import Hit, LeftOut
from synth.templates import Prompts
from synth.text import split_sentences


class Vote(BaseModel):
    """The reply `prompts/filter.j2` asks for."""

    related: int = Field(ge=0, le=1)


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
    """Whether the model calls each hit related (False where it gave no usable reply); and notes on fallbacks."""
    gate = asyncio.Semaphore(concurrency)

    async def one(hit: Hit) -> tuple[bool, bool]:
        prompt = prompts.render("filter", query=query, source=_shown(hit))
        async with gate:
            reply, _ = await ask(
                llm, [*system, {"role": "user", "content": prompt}], Vote, stage="filter", max_tokens=16
            )
        if reply is None:
            return False, True
        return reply.related == 1, False

    results = await asyncio.gather(*(one(h) for h in hits))
    fell_back = sum(failed for _, failed in results)
    notes = (
        [f"filter: the model gave no usable answer for {fell_back} of {len(hits)} candidates; used retrieval there"]
        if fell_back
        else []
    )
    return {h.paper.id: keep for h, (keep, _) in zip(hits, results, strict=True)}, notes


def select(hits: list[Hit], votes: dict[str, bool], k: int, min_keep: int) -> tuple[list[Hit], list[LeftOut]]:
    """Kept: the model's yes or retrieval's bar, those the model accepts first, then by rank; up to k, at
    least `min_keep` (the best-ranked others fill in)."""
    best = max((h.score for h in hits), default=0.0)

    def clears_bar(h: Hit) -> bool:
        return bool(best) and h.score >= MIN_RELATIVE_SCORE * best

    order = sorted(hits, key=lambda h: (not votes.get(h.paper.id), h.rank))
    kept = [h for h in order if votes.get(h.paper.id) or clears_bar(h)][:k]
    if len(kept) < min_keep:
        kept += [h for h in order if h not in kept][: min_keep - len(kept)]
    chosen = {h.paper.id for h in kept}
    left_out = [
        LeftOut(id=h.paper.id, title=h.paper.title, score=h.score,
                reason="judged unrelated by the model, below retrieval's bar" if not (votes.get(h.paper.id) or clears_bar(h))
                else f"only the best {k} are cited")
        for h in hits if h.paper.id not in chosen
    ]  # fmt: skip
    return sorted(kept, key=lambda h: (not votes.get(h.paper.id), h.rank)), left_out
