"""The one-shot LLM drafter: `prompts/draft*.j2` in, the JSON of `draft/reply.py` out, made safe here.

What reaches the section:
- citation safety: the model sees sources numbered 1..n and can cite only those; anything else is removed and
  reported in `section.issues`, never rendered;
- the whole reply: a reply cut at the token limit is asked again with room when the window allows, else its
  complete part is kept and the section says what was lost;
- the window: asked of the server when it can say, else the model table, else an assumption the section states.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from synth.draft.ask import asked_again, brief
from synth.draft.budget import fit_sources
from synth.draft.reply import OUTPUT_EXAMPLE, SCHEMA, Parsed, citations, parse_reply
from synth.errors import ContextWindowExceeded, LLMError
from synth.llm.base import LLM, Message, Reply, Window, run_sync
from synth.models import Hit, Paragraph, Section, Sentence
from synth.templates import Prompts
from synth.text import full_stop

log = logging.getLogger(__name__)


@dataclass
class _Prepared:
    messages: list[Message]
    shown: list[Hit]  # the hits in the prompt, numbered 1..n in this order
    issues: list[str]
    room: int  # tokens the window leaves for the answer


class LLMDrafter:
    """Drafts with a language model in one call, from the numbered abstracts of the hits."""

    name = "one-shot"

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

    async def adraft(self, query: str, hits: list[Hit]) -> Section:
        """Ask once; once more with the error if the reply does not validate; again with room if it was cut."""
        window = await self._window()
        prepared = self._prepare(query, hits, window)
        try:
            reply = await self._ask(prepared.messages)
        except ContextWindowExceeded as e:  # the server knows its window better than we guessed
            served = getattr(e, "window", None)
            if not served or served >= window.tokens:
                raise
            window = Window(served, "server error")
            prepared = self._prepare(query, hits, window)
            reply = await self._ask(prepared.messages)
        try:
            parsed = parse_reply(reply.text)
        except (ValueError, ValidationError) as error:
            retry = await self._ask(asked_again(prepared.messages, reply, error))
            try:
                parsed = parse_reply(retry.text)
            except (ValueError, ValidationError) as second:
                raise LLMError(
                    f"{self.llm.model} gave no valid draft in two attempts: {brief(second)} (first: {brief(error)})"
                ) from second
            prepared.issues.append(f"first reply was invalid and asked again: {brief(error)}")
            reply = retry
        if not parsed.complete or reply.truncated:
            reply, parsed = await self._complete(prepared, reply, parsed)
        return self._section(query, prepared, parsed)

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """The sync form of `adraft`."""
        return run_sync(self.adraft(query, hits))

    # -- calls ----------------------------------------------------------------------------------------------

    async def _ask(self, messages: list[Message], max_tokens: int | None = None) -> Reply:
        options: dict[str, Any] = {"schema": SCHEMA, "stage": "draft"}
        if max_tokens:
            options["max_tokens"] = max_tokens
        return await self.llm.acomplete(messages, **options)

    async def _complete(self, prepared: _Prepared, reply: Reply, parsed: Parsed) -> tuple[Reply, Parsed]:
        """A cut reply: ask again with the room the window leaves, or keep its complete part and say so."""
        limit = reply.usage.completion_tokens or self.reserve_tokens
        room = prepared.room
        if room > limit * 1.25:
            again = await self._ask(prepared.messages, max_tokens=room)
            try:
                fuller = parse_reply(again.text)
            except (ValueError, ValidationError):
                fuller = None
            if fuller is not None and fuller.complete and not again.truncated:
                prepared.issues.append(f"the reply was cut at {limit} tokens; asked again with room for {room}")
                return again, fuller
            if fuller is not None and _size(fuller) > _size(parsed):
                reply, parsed = again, fuller
        kept = _size(parsed)
        prepared.issues.append(
            f"the model's reply was cut at its token limit: kept the {kept} complete sentences, lost the rest "
            f"(it went on: {parsed.dropped[:60]!r}); raise --max-output-tokens or lower --k"
        )
        return reply, parsed

    async def _window(self) -> Window:
        if self.context_window:
            return Window(self.context_window, "setting")
        return await self.llm.context_window()

    # -- prompt and budget ----------------------------------------------------------------------------------

    def _messages(self, query: str, sources: list[dict[str, Any]]) -> list[Message]:
        numbered = [{**s, "n": n} for n, s in enumerate(sources, 1)]
        user = self.prompts.render(
            "draft", query=query, sources=numbered, words=self.words, style=self.style, output_example=OUTPUT_EXAMPLE
        )
        return [{"role": "system", "content": self.prompts.render("system")}, {"role": "user", "content": user}]

    def _prepare(self, query: str, hits: list[Hit], window: Window) -> _Prepared:
        """Fit the prompt in the window: cut, then drop, the least relevant abstracts first."""
        fitted = fit_sources(
            hits,
            lambda sources: self._messages(query, sources),
            self.llm.count_tokens,
            budget=window.tokens - self.reserve_tokens,
        )
        issues = []
        if window.source == "assumed":
            issues.append(
                f"the context window of {self.llm.model} is unknown: assumed {window.tokens} tokens "
                "(set --context-window to the server's size)"
            )
        if fitted.dropped or fitted.cut:
            issues.append(
                f"to fit {window.tokens} tokens ({window.source}): {fitted.dropped} sources dropped, {fitted.cut} abstracts cut"
            )
        used = self.llm.count_tokens(fitted.messages)
        return _Prepared(messages=fitted.messages, shown=fitted.shown, issues=issues, room=max(0, window.tokens - used))

    # -- reply -> section -----------------------------------------------------------------------------------

    def _section(self, query: str, prepared: _Prepared, parsed: Parsed) -> Section:
        issues = list(prepared.issues)
        shown = prepared.shown
        paragraphs, rejected, out_of_range, uncited = [], [], [], 0
        for p in parsed.reply.paragraphs:
            sentences = []
            for s in p.sentences:
                text, cited = citations(s, len(shown))
                if not text:
                    continue
                rejected += cited.rejected
                out_of_range += cited.out_of_range
                ids = [shown[n - 1].paper.id for n in cited.numbers]
                uncited += not ids and not s.about_query
                sentences.append(Sentence(text=full_stop(text), citations=ids, about_query=s.about_query))
            if sentences:
                paragraphs.append(Paragraph(sentences=sentences, theme=p.theme))
        if out_of_range:
            numbers = ", ".join(f"[{n}]" for n in out_of_range)
            issues.append(f"removed {len(out_of_range)} citations to sources that do not exist: {numbers}")
        if rejected:
            issues.append(f"removed {len(rejected)} citations that are not source numbers: {', '.join(rejected[:10])}")
        if uncited:
            issues.append(f"{uncited} sentences cite no source")
        return Section(query=query, paragraphs=paragraphs, drafter=self.name, issues=issues)


def _size(parsed: Parsed) -> int:
    return sum(len(p.sentences) for p in parsed.reply.paragraphs)
