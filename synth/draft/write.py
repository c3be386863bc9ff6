"""Stage (e) of staged drafting: one paragraph per theme, from that theme's evidence cards only.

`prompts/write.j2` numbers the theme's papers 1..n locally, so a sentence can cite only the theme's papers;
citations are parsed by the one-shot contract's rules (plain in-range numbers only). A theme whose reply
fails twice is written offline, from its cards' quotes with attribution (the extractive drafter's way).
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from synth.draft.ask import ask
from synth.draft.attribution import attribute, name_source
from synth.draft.evidence import Card
from synth.draft.outline import Theme
from synth.draft.reply import ReplySentence, citations
from synth.draft.standalone import (
    housekeeping,
    says_what_it_does,
    standalone,
    without_referring_clause,
)
from synth.llm.base import LLM, Message
from synth.llm.replies import tidy
from synth.models import Paragraph, Sentence
from synth.templates import Prompts
from synth.text import full_stop, normalise, split_sentences

OUTPUT_EXAMPLE = json.dumps(
    {
        "sentences": [
            {"text": "A sentence about what a source does, without markers.", "cites": [1], "about_query": False},
            {"text": "Unlike these works, we ... (the paper being written).", "cites": [], "about_query": True},
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


def reserve(theme: Theme) -> list[Sentence]:
    """One sentence per paper of the theme, quoted from its abstract and attributed to it (`_contribution`).

    Verification adds it for a paper that no surviving sentence cites: the filter chose the paper, and a weak
    model may write nothing about it, or only sentences the judge rejects.
    """
    out = []
    for card in theme.cards:
        if quote := _contribution(card):
            out.append(Sentence(text=full_stop(attribute(quote, card.paper)), citations=[card.paper.id]))
    return out


def _contribution(card: Card) -> str | None:
    """The paper's sentence to quote: among the model's quotes, then the abstract, the first that stands alone
    and says what the paper does ("We propose …"); else the first quote that stands alone. Never where its
    code is."""
    quotes = [c.quote for c in card.claims]
    candidates = (standalone(x) for x in [*quotes, *split_sentences(card.paper.abstract)])
    standing = [q for q in candidates if q and not housekeeping(q)]
    return next((q for q in standing if says_what_it_does(q)), standing[0] if standing else None)


def offline(theme: Theme) -> Paragraph:
    """The theme's quotes, each attributed to its paper (no model)."""
    sentences = [
        Sentence(text=attribute(claim.quote, card.paper, first=(i == 0)), citations=[card.paper.id])
        for card in theme.cards
        for i, claim in enumerate(card.claims)
    ]
    return Paragraph(sentences=sentences, theme=theme.name)


def _is_title(text: str, cards: list[Card]) -> bool:
    words = normalise(text)
    return any(words == normalise(c.paper.title) or words == normalise(c.paper.title.split(":")[0]) for c in cards)


async def write(
    llm: LLM, prompts: Prompts, system: list[Message], query: str, theme: Theme, *, words: int, style: str
) -> tuple[Paragraph, list[str]]:
    """The theme's paragraph, and notes (a fallback, citations removed)."""
    sources = [_source(n, card) for n, card in enumerate(theme.cards, 1)]
    prompt = prompts.render("write", query=query, theme=theme.name, relation=theme.relation, sources=sources,
                            words=words, style=style, output_example=OUTPUT_EXAMPLE)  # fmt: skip
    reply, note = await ask(
        llm,
        [*system, {"role": "user", "content": prompt}],
        ThemeParagraph,
        stage="write",
        max_tokens=max(400, words * 6),
    )  # fmt: skip  (models pretty-print their JSON)
    if reply is None:
        return offline(theme), [note] if note else []
    notes = []
    sentences = []
    about_query = 0  # sentences about the paper being written: kept, and dropped beyond the first
    dropped = 0
    for s in reply.sentences:
        text, cited = citations(s, len(theme.cards))
        if cited.rejected or cited.out_of_range:
            bad = [*cited.rejected, *(str(n) for n in cited.out_of_range)]
            notes.append(f"write: removed citations outside the theme's sources: {', '.join(bad)}")
        ids = [theme.cards[n - 1].paper.id for n in cited.numbers]
        # One item may hold several sentences: each is judged on its own, so none rides on another's support.
        # a title alone is no sentence, and where a paper's code is belongs to no related-work section
        parts = [p for p in split_sentences(tidy(text)) if not _is_title(p, theme.cards) and not housekeeping(p)]
        about = s.about_query and not ids
        if about:
            # One sentence relating the paper being written to the theme; a weak model goes on to copy that
            # paper's abstract, which the reader wrote and does not need restated in every paragraph.
            keep = parts[:1] if about_query == 0 else []
            dropped += len(parts) - len(keep)
            about_query += len(keep)
            parts = keep
        for part in parts:
            if ids:  # "Unlike these works, …" (meant for the closing sentence) and "To address these problems, …"
                part = without_referring_clause(part)
            if len(cited.numbers) == 1 and not s.about_query:
                part = name_source(part, theme.cards[cited.numbers[0] - 1].paper)
            sentences.append(Sentence(text=full_stop(part), citations=ids, about_query=about))
    if dropped:
        notes.append(
            f"write: kept one sentence about the paper being written in the theme {theme.name!r}; "
            f"dropped {dropped} more"
        )
    if not sentences:
        return offline(theme), [*notes, "write: the model wrote no usable sentence; used the offline way"]
    return Paragraph(sentences=sentences, theme=theme.name, reserve=reserve(theme)), notes
