"""Stage (e) of staged drafting: one paragraph per theme, from that theme's evidence cards only.

`prompts/write.j2` numbers the theme's papers 1..n locally, so a sentence can cite only the theme's papers;
citations are parsed by the one-shot contract's rules (plain in-range numbers only). A theme whose reply
fails twice is written offline, from its cards' quotes with attribution (the extractive drafter's way).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.draft.attribution import attribute
from synth.draft.evidence import Card
from synth.draft.outline import Theme
from synth.draft.reply import ReplySentence, citations
from synth.llm.base import LLM, Message
from synth.models import Paragraph, Sentence
from synth.templates import Prompts

OUTPUT_EXAMPLE = json.dumps(
    {
        "sentences": [
            {"text": "A sentence about what a source does, without markers.", "cites": [1], "about_query": False},
            {"text": "How the paper being written relates to these works.", "cites": [], "about_query": True},
        ]
    }
)


class ThemeParagraph(BaseModel):
    """The reply `prompts/write.j2` asks for."""

    sentences: list[ReplySentence] = Field(min_length=1)


def _source(n: int, card: Card) -> dict[str, object]:
    p = card.paper
    authors = ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
    claims = [{"claim": c.text, "quote": c.quote} for c in card.claims]
    return {"n": n, "title": p.title, "authors": authors, "year": p.year, "claims": claims}


def offline(theme: Theme) -> Paragraph:
    """The theme's quotes, each attributed to its paper (no model)."""
    sentences = [
        Sentence(text=attribute(claim.quote, card.paper, first=(i == 0)), citations=[card.paper.id])
        for card in theme.cards
        for i, claim in enumerate(card.claims)
    ]
    return Paragraph(sentences=sentences, theme=theme.name)


def _ensure_stop(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1:] in ".!?" else text + "."


async def write(
    llm: LLM, prompts: Prompts, system: list[Message], query: str, theme: Theme, *, words: int, style: str
) -> tuple[Paragraph, list[str]]:
    """The theme's paragraph, and notes (a fallback, citations removed)."""
    sources = [_source(n, card) for n, card in enumerate(theme.cards, 1)]
    prompt = prompts.render("write", query=query, theme=theme.name, relation=theme.relation, sources=sources,
                            words=words, style=style, output_example=OUTPUT_EXAMPLE)  # fmt: skip
    reply, note = await ask(llm, [*system, {"role": "user", "content": prompt}], ThemeParagraph, stage="write",
                            max_tokens=max(256, words * 3))  # fmt: skip
    if reply is None:
        return offline(theme), [note] if note else []
    notes = []
    sentences = []
    for s in reply.sentences:
        text, cited = citations(s, len(theme.cards))
        if not text:
            continue
        if cited.rejected or cited.out_of_range:
            bad = [*cited.rejected, *(str(n) for n in cited.out_of_range)]
            notes.append(f"write: removed citations outside the theme's sources: {', '.join(bad)}")
        ids = [theme.cards[n - 1].paper.id for n in cited.numbers]
        sentences.append(Sentence(text=_ensure_stop(text), citations=ids, about_query=s.about_query and not ids))
    if not sentences:
        return offline(theme), [*notes, "write: the model wrote no usable sentence; used the offline way"]
    return Paragraph(sentences=sentences, theme=theme.name), notes
