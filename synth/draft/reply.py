"""The one-shot reply contract of `prompts/draft.j2` and its parser (the template and this file change together).

`{"paragraphs": [{"sentences": [{"text": "...", "cites": [1, 2]}]}]}`: users' own templates rely on it, so
it stays as it is. Parsing is lenient about the wrapper (fences, chatter, a lone paragraph) and strict
about citations: only plain positive integers naming a shown source count. Everything else, in `cites`
or as a bracketed marker left in the text, is removed and reported, never coerced into a number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, field_validator

from synth.llm.replies import find_json
from synth.markers import plain_number, source_numbers, strip_markers

_NUMBER_LIST = re.compile(r"\s*\[?\s*[1-9]\d{0,5}(?:\s*,\s*[1-9]\d{0,5})*\s*\]?\s*")
OUTPUT_EXAMPLE = json.dumps(
    {"paragraphs": [{"sentences": [{"text": "A claim the sources support, without markers.", "cites": [1, 2]}]}]}
)


class ReplySentence(BaseModel):
    """One sentence of the model's reply; `cites` as the model wrote it (checked later, not coerced)."""

    text: str = Field(min_length=1)
    cites: list[Any] = Field(default_factory=list)
    about_query: bool = Field(default=False, description="The model marks a sentence about the paper being written.")

    @field_validator("cites", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> list[Any]:
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


class ReplyParagraph(BaseModel):
    sentences: list[ReplySentence] = Field(min_length=1)
    theme: str | None = None


class DraftReply(BaseModel):
    """The JSON object `prompts/draft.j2` asks for."""

    paragraphs: list[ReplyParagraph] = Field(min_length=1)


SCHEMA = DraftReply.model_json_schema()  # sent with every draft request: built once


@dataclass
class Parsed:
    """A validated reply, and whether it was cut short."""

    reply: DraftReply
    complete: bool = True
    dropped: str = ""


def parse_reply(text: str) -> Parsed:
    """Find the JSON object in a reply and validate it; ValueError says what is wrong (for the retry message).

    A reply cut inside its JSON gives the paragraphs and sentences that closed before the cut, marked incomplete.
    """
    found = find_json(text)
    if found is None:
        raise ValueError("the reply holds no JSON object")
    data = found.value
    if isinstance(data, dict) and isinstance(data.get("sentences"), list) and "paragraphs" not in data:
        data = {"paragraphs": [data]}  # one paragraph without its wrapper
    if not found.complete and isinstance(data, dict):
        # The last paragraph may have closed with no sentence in it yet: drop what cannot validate.
        paragraphs = [p for p in data.get("paragraphs") or [] if isinstance(p, dict) and p.get("sentences")]
        data = {**data, "paragraphs": paragraphs}
        if not paragraphs:
            raise ValueError(f"the reply was cut before its first paragraph closed (it ends: {found.dropped[:60]!r})")
    return Parsed(DraftReply.model_validate(data), found.complete, found.dropped)


@dataclass
class Citations:
    """What a sentence cites, as source numbers in range, and what was rejected."""

    numbers: list[int] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # raw values that are not plain numbers
    out_of_range: list[int] = field(default_factory=list)


def citations(sentence: ReplySentence, sources: int) -> tuple[str, Citations]:
    """The sentence text without markers, and its citations (from `cites` and any marker left in the text)."""
    text, markers = strip_markers(sentence.text)
    found = Citations()
    raw: list[int] = []
    for value in sentence.cites:
        number = plain_number(value)
        if number is not None:
            raw.append(number)
        elif isinstance(value, str) and _NUMBER_LIST.fullmatch(value):  # "[1]", "1, 2": plain numbers only
            raw += [int(n) for n in re.findall(r"\d+", value)]
        else:
            found.rejected.append(value if isinstance(value, str) else json.dumps(value))
    for content in markers:
        numbers, rejected = source_numbers(content)
        raw += numbers
        found.rejected += [f"[{r}]" for r in rejected]
    for number in dict.fromkeys(raw):
        (found.numbers if 1 <= number <= sources else found.out_of_range).append(number)
    return text, found
