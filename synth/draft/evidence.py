"""Stage (c) of staged drafting: evidence cards, each claim backed by a quote that code finds in the abstract.

`prompts/evidence.j2` asks, one paper per call (a small model answers a batch for its first paper only), for
one or two claims relevant to the paper being written, each with a quote. A quote must be in the abstract: verbatim (ignoring case and spacing), or close
enough to one of its sentences (rapidfuzz), which then replaces it. A claim whose quote is nowhere is dropped.
A paper left with no claim, or whose reply failed, gets its most query-relevant abstract sentences instead.
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


class Claims(BaseModel):
    """The reply `prompts/evidence.j2` asks for."""

    claims: list[ReplyClaim] = Field(default_factory=list)


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
    """One card per paper, in the given order, and notes on papers whose claims came from the abstract."""
    gate = asyncio.Semaphore(concurrency)

    async def one(paper: Paper) -> Card:
        source = {"title": paper.title, "abstract": strip_citation_markers(paper.abstract)}
        prompt = prompts.render("evidence", query=query, source=source, output_example=OUTPUT_EXAMPLE)
        async with gate:
            reply, _ = await ask(
                llm, [*system, {"role": "user", "content": prompt}], Claims, stage="evidence", max_tokens=300
            )
        claims = []
        for c in reply.claims[:2] if reply is not None else []:
            quote = verify_quote(c.quote, paper.abstract)
            if quote is not None:
                claims.append(Claim(" ".join(c.claim.split()), quote))
        return Card(paper, claims) if claims else offline_card(paper, query)

    made = list(await asyncio.gather(*(one(p) for p in papers)))
    unverified = sum(not c.from_model for c in made)
    notes = (
        [f"evidence: {unverified} of {len(made)} papers had no verified quote from the model; used their abstracts"]
        if unverified
        else []
    )
    return made, notes
