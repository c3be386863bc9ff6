"""The LLM interface every stage uses: async first, one sync helper derived from it."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from synth.models import Usage

Message = dict[str, str]
T = TypeVar("T")


@dataclass
class Reply:
    """What a model answered, and what it cost."""

    text: str
    usage: Usage = field(default_factory=Usage)
    cached: bool = False
    finish_reason: str | None = None

    @property
    def truncated(self) -> bool:
        """The model stopped because it reached its token limit: the text is cut."""
        return self.finish_reason == "length"


@dataclass(frozen=True)
class Window:
    """A context window in tokens, and how synth knows it."""

    tokens: int
    source: str  # "setting", "server", "model table" or "assumed"


class LLM(Protocol):
    """Anything that completes chat messages. `synth.testing.FakeLLM` is one for tests."""

    model: str

    async def acomplete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        stage: str = "",
    ) -> Reply:
        """Complete the conversation. `schema` asks for JSON of that shape where the model supports it;
        `max_tokens` caps the reply (default: the model's setting); `stage` labels the call in usage."""
        ...

    def count_tokens(self, messages: list[Message], *, exact: bool = False) -> int:
        """synth's count of the prompt tokens of `messages`: a fast estimate, or the tokenizer's with `exact`."""
        ...

    async def context_window(self) -> Window:
        """The model's context window (asked of the server when it can say)."""
        ...


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    if not running:
        return asyncio.run(coro)
    # Inside a running loop (a notebook, an async caller using the sync API): run it on a loop of its own.
    result: list[T] = []
    error: list[BaseException] = []
    context = contextvars.copy_context()  # usage meters and other context follow the call into the thread

    def target() -> None:
        try:
            result.append(context.run(asyncio.run, coro))
        except BaseException as e:  # handed to the caller's thread below
            error.append(e)

    thread = threading.Thread(target=target, name="synth-run-sync")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def complete(llm: LLM, messages: list[Message], **options: Any) -> Reply:
    """The sync form of `llm.acomplete`."""
    return run_sync(llm.acomplete(messages, **options))
