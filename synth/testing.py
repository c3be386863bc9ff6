"""Test doubles for code that uses synth: a fake LLM that answers from a queue and records its prompts."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from synth.llm import Message, Reply
from synth.models import Usage


class FakeLLM:
    """Answers each call with the next queued reply (a string, or a dict sent as JSON).

    `delay` seconds of (non-blocking, in `acomplete`) waiting per call stand in for a real model's latency.
    Every call's messages are kept in `calls`, so tests can check what the model was asked.
    """

    def __init__(self, *replies: str | dict[str, Any], model: str = "fake", delay: float = 0.0, repeat: bool = False):
        self.model = model
        self.replies = [r if isinstance(r, str) else json.dumps(r) for r in replies]
        self.delay = delay
        self.repeat = repeat  # keep answering with the last reply instead of running out
        self.calls: list[list[Message]] = []

    def _next(self, messages: list[Message]) -> Reply:
        self.calls.append(messages)
        if not self.replies:
            raise AssertionError("FakeLLM has no reply left")
        text = self.replies[0] if self.repeat and len(self.replies) == 1 else self.replies.pop(0)
        words = sum(len(m["content"].split()) for m in messages)
        return Reply(text=text, usage=Usage(prompt_tokens=words, completion_tokens=len(text.split()), calls=1))

    def complete(self, messages: list[Message], *, schema: dict[str, Any] | None = None) -> Reply:
        """The next queued reply."""
        if self.delay:
            time.sleep(self.delay)
        return self._next(messages)

    async def acomplete(self, messages: list[Message], *, schema: dict[str, Any] | None = None) -> Reply:
        """The next queued reply, after a non-blocking delay."""
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._next(messages)
