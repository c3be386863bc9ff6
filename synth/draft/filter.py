"""Stage (b) of staged drafting: which candidates the section should cite, decided with the model paper by paper.

`prompts/filter.j2` shows one candidate (title and the start of its abstract) and asks whether it is on a
related topic. Small models answer one short question far better than they rate a batch (a 1.5B model gave
eight candidates the same ratings in every batch, whatever they were), and the wording matters: asked
whether the paper would be *cited*, it said no to all 40 candidates of two dev queries.

The answer moves retrieval's bar rather than replacing it: a candidate the model calls related is kept when
its score reaches YES_BAR x the best score, one it turns down only from NO_BAR x the best. On the 20 dev
queries the 1.5B model called 42% of the authors' papers related and 12% of the others, which is no better
than retrieval's own ranking: with this rule 72.1% of the papers kept are ones the authors cited (8.2 papers a
query), against 72.7% for the bar alone and 56.2% for "the model's yes or the bar, at least 8" (10.4 papers);
eval/README.md. A stronger model's answers are worth more, and the rule lets them count. At least three are
kept (65.5%, 8.5 papers: three queries would otherwise cite one paper), at most k, those the model accepts
first. A candidate whose reply fails twice counts as turned down: retrieval decides it.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.llm.base import LLM, Message
from synth.models import Hit, LeftOut
from synth.templates import Prompts
from synth.text import split_sentences


class Vote(BaseModel):
    """The reply `prompts/filter.j2` asks for."""

    related: int = Field(ge=0, le=1)


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


YES_BAR = 0.4  # of the best retrieval score: the least a candidate the model calls related needs
NO_BAR = 0.55  # the least a candidate the model turns down needs
MIN_PAPERS = 3  # kept whatever the bar says, the model's yes first


def select(hits: list[Hit], votes: dict[str, bool], k: int) -> tuple[list[Hit], list[LeftOut]]:
    """The hits to cite, those the model accepts first, then by rank, at least MIN_PAPERS and at most k; and the
    others with reasons."""
    best = max((h.score for h in hits), default=0.0)

    def clears(h: Hit) -> bool:
        return bool(best) and h.score >= (YES_BAR if votes.get(h.paper.id) else NO_BAR) * best

    order = sorted(hits, key=lambda h: (not votes.get(h.paper.id), h.rank))
    kept = [h for h in order if clears(h)][:k]
    if len(kept) < min(MIN_PAPERS, k):  # one dominant hit would make a one-paper section: the next ones join
        kept += [h for h in order if h not in kept][: min(MIN_PAPERS, k) - len(kept)]
    chosen = {h.paper.id for h in kept}
    left_out = [
        LeftOut(id=h.paper.id, title=h.paper.title, score=h.score,
                reason=f"only the best {k} are cited" if clears(h) else
                ("called related by the model, but" if votes.get(h.paper.id) else "judged unrelated by the model, and")
                + " below retrieval's bar")
        for h in hits if h.paper.id not in chosen
    ]  # fmt: skip
    return kept, left_out
