"""Stage (c) of staged drafting: evidence cards, each claim backed by a quote that code finds in the abstract.

`prompts/evidence.j2` asks, for a few papers at a time, for one or two claims relevant to the paper being
written, each with a quote. A quote must be in the abstract: verbatim (ignoring case and spacing), or close
enough to one of its sentences (rapidfuzz), which then replaces it. A claim whose quote is nowhere is dropped.
A paper left with no claim, or whose batch failed, gets its most query-relevant abstract sentences instead.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.llm.base import LLM, Message
from synth.markers import strip_citation_markers
from synth.models import Paper
from synth.templates import Prompts
from synth.text import split_sentences, terms

BATCH = 3
MATCH = 88  # rapidfuzz partial ratio (0-100) a paraphrased quote needs to be taken as that abstract sentence
OUTPUT_EXAMPLE = json.dumps(
    {
        "cards": [
            {
                "n": 1,
                "claims": [{"claim": "What the paper does or finds.", "quote": "A sentence copied from its abstract."}],
            }
        ]
    }
)


class ReplyClaim(BaseModel):
    claim: str = Field(min_length=1)
    quote: str = ""


class ReplyCard(BaseModel):
    n: int
    claims: list[ReplyClaim] = Field(default_factory=list)


class Cards(BaseModel):
    """The reply `prompts/evidence.j2` asks for."""

    cards: list[ReplyCard]


@dataclass
class Claim:
    text: str  # the model's statement (or the quote itself, offline)
    quote: str  # a sentence of the abstract


@dataclass
class Card:
    """What one paper contributes to the section, with the abstract sentences that show it."""

    paper: Paper
    claims: list[Claim] = field(default_factory=list)
    from_model: bool = True


def verify_quote(quote: str, abstract: str) -> str | None:
    """The abstract sentence a quote comes from (the quote itself when verbatim), or None."""
    from rapidfuzz import fuzz

    sentences = split_sentences(abstract)
    wanted = " ".join(quote.split()).strip(" \"'“”").casefold()
    if len(wanted) < 12:
        return None
    for s in sentences:
        if wanted in s.casefold():
            return s
    scored = [(fuzz.partial_ratio(wanted, s.casefold()), s) for s in sentences]
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] >= MATCH else None


def offline_card(paper: Paper, query: str, count: int = 2) -> Card:
    """The paper's abstract sentences sharing the most terms with the query (no model)."""
    wanted = set(terms(query))
    sentences = split_sentences(strip_citation_markers(paper.abstract))
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & set(terms(sentences[i]))), i))
    chosen = sorted(ranked[:count])
    return Card(paper, [Claim(sentences[i], sentences[i]) for i in chosen], from_model=False)


async def cards(
    llm: LLM, prompts: Prompts, system: list[Message], query: str, papers: list[Paper], *, concurrency: int = 1
) -> tuple[list[Card], list[str]]:
    """One card per paper, in the given order, and notes on batches that fell back."""
    gate = asyncio.Semaphore(concurrency)

    async def one(batch: list[Paper]) -> tuple[list[Card], str | None]:
        sources = [
            {"n": n, "title": p.title, "abstract": strip_citation_markers(p.abstract)} for n, p in enumerate(batch, 1)
        ]
        prompt = prompts.render("evidence", query=query, sources=sources, output_example=OUTPUT_EXAMPLE)
        async with gate:
            reply, note = await ask(llm, [*system, {"role": "user", "content": prompt}], Cards, stage="evidence",
                                    max_tokens=120 + 170 * len(batch))  # fmt: skip
        by_n = {c.n: c for c in reply.cards} if reply is not None else {}
        out = []
        for n, paper in enumerate(batch, 1):
            claims = []
            for c in by_n[n].claims[:2] if n in by_n else []:
                quote = verify_quote(c.quote, paper.abstract)
                if quote is not None:
                    claims.append(Claim(" ".join(c.claim.split()), quote))
            out.append(Card(paper, claims) if claims else offline_card(paper, query))
        return out, note

    batches = [papers[i : i + BATCH] for i in range(0, len(papers), BATCH)]
    results = await asyncio.gather(*(one(b) for b in batches))
    notes = [note for _, note in results if note]
    made = [card for found, _ in results for card in found]
    unverified = sum(not c.from_model for c in made)
    if unverified and not notes:
        notes.append(
            f"evidence: {unverified} of {len(made)} papers had no verified quote from the model; used their abstracts"
        )
    return made, notes
