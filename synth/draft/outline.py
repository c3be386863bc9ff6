"""Stage (d) of staged drafting: an outline of named themes, their papers, and how each relates to the query.

`prompts/outline.j2` lists the papers with one claim each. Every paper ends in exactly one theme: the first
theme that names it keeps it, and a paper no theme names joins the theme whose papers share most of its
words. An outline that fails twice is made offline: the extractive drafter's clustering and theme names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.draft.evidence import Card
from synth.llm.base import LLM, Message
from synth.models import Hit
from synth.templates import Prompts
from synth.text import terms

MAX_THEMES = 4
OUTPUT_EXAMPLE = json.dumps(
    {"themes": [{"name": "A short theme name", "papers": [1, 2], "relation": "How these works relate to the paper."}]}
)


class ReplyTheme(BaseModel):
    name: str = Field(min_length=1)
    papers: list[int] = Field(default_factory=list)
    relation: str = ""


class Outline(BaseModel):
    """The reply `prompts/outline.j2` asks for."""

    themes: list[ReplyTheme] = Field(min_length=1)


@dataclass
class Theme:
    name: str
    cards: list[Card]
    relation: str = ""


def _closest(card: Card, themes: list[Theme]) -> Theme:
    words = set(terms(card.paper.text))
    return max(themes, key=lambda t: sum(len(words & set(terms(c.paper.text))) for c in t.cards) / max(1, len(t.cards)))


def from_reply(reply: Outline, cards: list[Card]) -> list[Theme]:
    """Themes from the model's outline, every card in exactly one, none empty."""
    placed: set[int] = set()
    themes = []
    for t in reply.themes[:MAX_THEMES]:
        members = [n for n in dict.fromkeys(t.papers) if 1 <= n <= len(cards) and n not in placed]
        placed.update(members)
        if members:
            themes.append(
                Theme(" ".join(t.name.split())[:80], [cards[n - 1] for n in members], " ".join(t.relation.split()))
            )
    if not themes:
        return []
    for n, card in enumerate(cards, 1):
        if n not in placed:
            _closest(card, themes).cards.append(card)
    return themes


def offline(query: str, cards: list[Card]) -> list[Theme]:
    """Themes by the extractive drafter's clustering and naming (no model)."""
    from synth.draft.extractive import ExtractiveDrafter

    hits = [Hit(paper=c.paper, score=1.0, rank=i) for i, c in enumerate(cards, 1)]
    section = ExtractiveDrafter(min_relative_score=0.0).draft(query, hits)
    by_id = {c.paper.id: c for c in cards}
    themes = []
    for paragraph in section.paragraphs:
        ids = dict.fromkeys(pid for s in paragraph.sentences for pid in s.citations)
        members = [by_id[pid] for pid in ids if pid in by_id]
        if members:
            themes.append(Theme(paragraph.theme or "Related work", members))
    return themes


async def outline(
    llm: LLM, prompts: Prompts, system: list[Message], query: str, cards: list[Card]
) -> tuple[list[Theme], str | None]:
    """The themes of the section, and a note when the outline was made offline."""
    if len(cards) <= 2:
        return [Theme("Related work", list(cards))], None
    papers = [
        {"n": n, "title": c.paper.title, "claim": c.claims[0].text if c.claims else ""} for n, c in enumerate(cards, 1)
    ]
    prompt = prompts.render("outline", query=query, papers=papers, max_themes=MAX_THEMES, output_example=OUTPUT_EXAMPLE)
    reply, note = await ask(
        llm, [*system, {"role": "user", "content": prompt}], Outline, stage="outline", max_tokens=400
    )
    themes = from_reply(reply, cards) if reply is not None else []
    if not themes:
        return offline(
            query, cards
        ), note or "outline: the model's themes named none of the papers; used the offline way"
    return themes, note
