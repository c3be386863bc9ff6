"""Test doubles for code that uses synth: a fake LLM that answers from a queue and records what it was asked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from synth.llm.base import Message, Reply, Window
from synth.models import Usage


class FakeLLM:
    """Answers each call with the next queued reply: a string, a dict (sent as JSON) or a `Reply`.

    `delay` seconds of non-blocking waiting per call stand in for a real model's latency. Every call's
    messages are kept in `calls` (and the options in `options`), so tests can check what the model was asked.
    A callable reply is called with the messages and its result is used, for replies that depend on the prompt.
    """

    def __init__(
        self,
        *replies: Any,
        model: str = "fake",
        delay: float = 0.0,
        repeat: bool = False,
        window: int = 8192,
    ) -> None:
        self.model = model
        self.replies = list(replies)
        self.delay = delay
        self.repeat = repeat  # keep answering with the last reply instead of running out
        self.window = window
        self.calls: list[list[Message]] = []
        self.options: list[dict[str, Any]] = []

    def count_tokens(self, messages: list[Message], *, exact: bool = False) -> int:
        """About a token a word: enough for budgets in tests (the same either way)."""
        return sum(len(m["content"].split()) for m in messages)

    async def context_window(self) -> Window:
        """The window given to the constructor."""
        return Window(self.window, "setting")

    async def acomplete(self, messages: list[Message], **options: Any) -> Reply:
        """The next queued reply, after a non-blocking delay."""
        self.calls.append(messages)
        self.options.append(options)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.replies:
            raise AssertionError("FakeLLM has no reply left")
        queued = self.replies[0] if self.repeat and len(self.replies) == 1 else self.replies.pop(0)
        if callable(queued):
            queued = queued(messages)
        if isinstance(queued, Exception):
            raise queued
        if isinstance(queued, Reply):
            return queued
        text = queued if isinstance(queued, str) else json.dumps(queued)
        usage = Usage(prompt_tokens=self.count_tokens(messages), completion_tokens=len(text.split()), calls=1)
        return Reply(text=text, usage=usage, finish_reason="stop")
