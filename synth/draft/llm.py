"""The LLM drafter: `prompts/draft*.j2` in, JSON out, parsed and made safe here (template and parser live together).

Citation safety: the model sees sources numbered 1..n and can only cite those. A number outside that range
is removed and counted in `section.issues`, never rendered. A sentence left without a citation is kept and
flagged (`uncited` in the JSON output).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from synth.errors import LLMError
from synth.llm import LLM, Message, Reply
from synth.models import Hit, Paragraph, Section, Sentence, Usage
from synth.templates import Prompts
from synth.text import split_sentences

log = logging.getLogger(__name__)

# The reply contract, shared by the template (shown to the model), the parser and the tests.
OUTPUT_EXAMPLE = json.dumps(
    {"paragraphs": [{"sentences": [{"text": "A claim the sources support, without markers.", "cites": [1, 2]}]}]}
)
_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")


class ReplySentence(BaseModel):
    """One sentence of the model's reply."""

    text: str = Field(min_length=1)
    cites: list[int] = Field(default_factory=list)

    @field_validator("cites", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> list[int]:
        # Models write [1, 2], ["1", "2"], "[1][2]" or "1, 2": take every integer.
        if value is None:
            return []
        if isinstance(value, (int, str)):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("cites must be a list of source numbers")
        numbers = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, str)):
                raise ValueError(f"cites holds {item!r}, not a source number")
            numbers += [int(n) for n in re.findall(r"\d+", str(item))]
        return numbers


class ReplyParagraph(BaseModel):
    sentences: list[ReplySentence] = Field(min_length=1)


class DraftReply(BaseModel):
    """The JSON object `prompts/draft.j2` asks for."""

    paragraphs: list[ReplyParagraph] = Field(min_length=1)


def parse_reply(text: str) -> DraftReply:
    """Find the JSON object in a reply (code fences and chatter around it are fine) and validate it.

    Raises ValueError saying what is wrong, for the retry message.
    """
    data = _first_json_object(text)
    if data is None:
        raise ValueError("the reply holds no JSON object")
    if isinstance(data.get("sentences"), list) and "paragraphs" not in data:
        data = {"paragraphs": [data]}  # one paragraph without its wrapper
    reply = DraftReply.model_validate(data)
    for paragraph in reply.paragraphs:
        for sentence in paragraph.sentences:
            _move_inline_markers(sentence)
    return reply


def _first_json_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _move_inline_markers(sentence: ReplySentence) -> None:
    """ "X holds [2, 3]." -> text "X holds.", cites [2, 3]: markers belong in `cites`."""
    found = [int(n) for group in _MARKER.findall(sentence.text) for n in re.findall(r"\d+", group)]
    if found:
        sentence.text = _MARKER.sub("", sentence.text).strip()
        sentence.cites = list(dict.fromkeys([*sentence.cites, *found]))


_SCHEMA = DraftReply.model_json_schema()  # sent with every draft request: built once


@dataclass
class _Prepared:
    messages: list[Message]
    shown: list[Hit]  # the hits in the prompt, numbered 1..n in this order
    issues: list[str]


class LLMDrafter:
    """Drafts with a language model from the numbered abstracts of the hits."""

    name = "llm"

    def __init__(
        self,
        llm: LLM,
        *,
        prompts: Prompts | None = None,
        words: int = 300,
        style: str = "thematic paragraphs",
        context_window: int | None = None,
        reserve_tokens: int = 2048,
    ) -> None:
        self.llm = llm
        self.prompts = prompts or Prompts()
        self.words = words
        self.style = style
        self.context_window = context_window
        self.reserve_tokens = reserve_tokens

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """Ask the model once, and once more with the error if its reply does not validate."""
        prepared = self._prepare(query, hits)
        reply = self.llm.complete(prepared.messages, schema=_SCHEMA)
        try:
            return self._section(query, prepared, reply.text, reply.usage)
        except ValueError as error:
            retry = self.llm.complete(self._retry_messages(prepared, reply, error), schema=_SCHEMA)
            return self._section(query, prepared, retry.text, reply.usage + retry.usage, error, final=True)

    async def adraft(self, query: str, hits: list[Hit]) -> Section:
        """`draft` without blocking the event loop."""
        prepared = self._prepare(query, hits)
        reply = await self.llm.acomplete(prepared.messages, schema=_SCHEMA)
        try:
            return self._section(query, prepared, reply.text, reply.usage)
        except ValueError as error:
            messages = self._retry_messages(prepared, reply, error)
            retry = await self.llm.acomplete(messages, schema=_SCHEMA)
            return self._section(query, prepared, retry.text, reply.usage + retry.usage, error, final=True)

    # -- prompt and budget --------------------------------------------------------------------------------

    def _messages(self, query: str, sources: list[dict[str, Any]]) -> list[Message]:
        numbered = [{**s, "n": n} for n, s in enumerate(sources, 1)]
        user = self.prompts.render(
            "draft", query=query, sources=numbered, words=self.words, style=self.style, output_example=OUTPUT_EXAMPLE
        )
        return [{"role": "system", "content": self.prompts.render("draft_system")}, {"role": "user", "content": user}]

    def _prepare(self, query: str, hits: list[Hit]) -> _Prepared:
        """Fit the prompt in the context window: cut, then drop, the least relevant abstracts first."""
        window = self.context_window or _window_of(self.llm)
        budget = window - self.reserve_tokens
        sources: list[dict[str, Any] | None] = [_source(h) for h in hits]
        was_cut: set[int] = set()

        def messages() -> list[Message]:
            return self._messages(query, [s for s in sources if s is not None])

        current = messages()
        i = len(sources) - 1
        while _count(self.llm, current) > budget and i >= 0:
            source = sources[i]
            assert source is not None
            short = " ".join(split_sentences(source["abstract"])[:2])
            if i not in was_cut and short != source["abstract"]:
                sources[i] = {**source, "abstract": short}
                was_cut.add(i)
            else:
                sources[i] = None
                i -= 1
            current = messages()
        shown = [h for h, s in zip(hits, sources, strict=True) if s is not None]
        if not shown or _count(self.llm, current) > budget:
            raise LLMError(f"the prompt does not fit {window} tokens minus {self.reserve_tokens} for the answer")
        dropped = len(hits) - len(shown)
        cut = sum(1 for j in was_cut if sources[j] is not None)
        issues = [f"to fit {window} tokens: {dropped} sources dropped, {cut} abstracts cut"] if dropped or cut else []
        return _Prepared(messages=current, shown=shown, issues=issues)

    # -- reply -> section ---------------------------------------------------------------------------------

    def _retry_messages(self, prepared: _Prepared, reply: Reply, error: ValueError) -> list[Message]:
        problem = _brief(error)
        return [
            *prepared.messages,
            {"role": "assistant", "content": reply.text},
            {"role": "user", "content": f"That reply was not valid: {problem}. Reply again with only the JSON object."},
        ]

    def _section(
        self,
        query: str,
        prepared: _Prepared,
        text: str,
        usage: Usage,
        first_error: ValueError | None = None,
        final: bool = False,
    ) -> Section:
        try:
            reply = parse_reply(text)
        except ValueError as error:
            if not final:
                raise
            raise LLMError(
                f"{self.llm.model} gave no valid draft in two attempts: {_brief(error)} (first: {_brief(first_error)})"
            ) from error
        issues = list(prepared.issues)
        if first_error is not None:
            issues.append(f"first reply was invalid and retried: {_brief(first_error)}")
        paragraphs, removed, uncited = [], [], 0
        for p in reply.paragraphs:
            sentences = []
            for s in p.sentences:
                ids = []
                for n in dict.fromkeys(s.cites):
                    if 1 <= n <= len(prepared.shown):
                        ids.append(prepared.shown[n - 1].paper.id)
                    else:
                        removed.append(n)
                uncited += not ids
                sentences.append(Sentence(text=_ensure_stop(s.text), citations=ids))
            paragraphs.append(Paragraph(sentences=sentences))
        if removed:
            numbers = ", ".join(f"[{n}]" for n in removed)
            issues.append(f"removed {len(removed)} citations to sources that do not exist: {numbers}")
        if uncited:
            issues.append(f"{uncited} sentences cite no source")
        return Section(query=query, paragraphs=paragraphs, drafter=self.name, issues=issues, usage=usage)


def _source(hit: Hit) -> dict[str, Any]:
    p = hit.paper
    authors = ", ".join(p.authors[:6]) + (" et al." if len(p.authors) > 6 else "")
    return {"title": p.title, "authors": authors, "year": p.year, "abstract": p.abstract}


def _count(llm: LLM, messages: list[Message]) -> int:
    counter = getattr(llm, "count_tokens", None)
    if counter is None:  # a model without a tokenizer: about four characters a token
        return sum(len(m["content"]) for m in messages) // 4
    return int(counter(messages))


def _window_of(llm: LLM) -> int:
    window = getattr(llm, "context_window", None)
    return int(window()) if callable(window) else 8192


def _brief(error: Exception | None) -> str:
    if error is None:
        return "none"
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(error).splitlines()[0]


def _ensure_stop(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1:] in ".!?" else text + "."
