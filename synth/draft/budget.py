"""Fit numbered sources into a prompt's token budget: cut, then drop, the least relevant abstracts first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synth.errors import LLMError
from synth.llm.base import Message
from synth.models import Hit
from synth.text import split_sentences


@dataclass
class Fitted:
    """The prompt that fits, the hits it shows (numbered 1..n in this order), and what was cut or dropped."""

    messages: list[Message]
    shown: list[Hit]
    dropped: int
    cut: int


def source(hit: Hit) -> dict[str, Any]:
    """A hit as the templates show it: title, authors, year, abstract."""
    p = hit.paper
    authors = ", ".join(p.authors[:6]) + (" et al." if len(p.authors) > 6 else "")
    return {"title": p.title, "authors": authors, "year": p.year, "abstract": p.abstract}


def fit_sources(
    hits: list[Hit],
    render: Callable[[list[dict[str, Any]]], list[Message]],
    count: Callable[..., int],
    budget: int,
) -> Fitted:
    """The messages `render` makes from as many sources as fit `budget` tokens, cutting abstracts first.

    The least relevant source (last hit) is cut to two sentences, then dropped, and so on upwards. `count`
    gives a fast estimate, and with `exact=True` the tokenizer's count, asked only near the budget.
    """

    def over(messages: list[Message]) -> bool:
        estimate = count(messages)
        return estimate > budget and (
            (estimate < 1.2 * budget and count(messages, exact=True) > budget) or estimate >= 1.2 * budget
        )

    sources: list[dict[str, Any] | None] = [source(h) for h in hits]
    was_cut: set[int] = set()

    def messages() -> list[Message]:
        return render([s for s in sources if s is not None])

    current = messages()
    i = len(sources) - 1
    while i >= 0 and over(current):
        entry = sources[i]
        assert entry is not None
        short = " ".join(split_sentences(entry["abstract"])[:2])
        if i not in was_cut and short != entry["abstract"]:
            sources[i] = {**entry, "abstract": short}
            was_cut.add(i)
        else:
            sources[i] = None
            i -= 1
        current = messages()
    shown = [h for h, s in zip(hits, sources, strict=True) if s is not None]
    if not shown or over(current):
        raise LLMError(
            f"the prompt does not fit the {budget} tokens the context window leaves; lower --k or raise --context-window"
        )
    cut = sum(1 for j in was_cut if sources[j] is not None)
    return Fitted(messages=current, shown=shown, dropped=len(hits) - len(shown), cut=cut)
