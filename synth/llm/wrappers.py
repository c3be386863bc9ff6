"""Wrappers around a model, each with one job: retry, cache, account. Each takes and gives the LLM interface.

`make_llm` composes them as Accounted(Cached(Retrying(client))): a cached answer is never retried, and
every answer, cached or not, is counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from synth.errors import LLMError
from synth.files import write_text
from synth.llm.base import LLM, Message, Reply, Window
from synth.llm.secrets import scrub
from synth.llm.usage import record
from synth.models import Usage
from synth.text import clean_text

log = logging.getLogger(__name__)

CACHE_FORMAT = 2


class _Wrapper:
    """Passes the LLM interface through to `inner`."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.model = inner.model

    def count_tokens(self, messages: list[Message], *, exact: bool = False) -> int:
        return self.inner.count_tokens(messages, exact=exact)

    async def context_window(self) -> Window:
        return await self.inner.context_window()

    def identity(self) -> dict[str, Any]:
        identity = getattr(self.inner, "identity", None)
        return identity() if callable(identity) else {"model": self.model}

    def __getattr__(self, name: str) -> Any:  # settings the inner client exposes (timeout, api_base, ...)
        return getattr(self.inner, name)


class Retrying(_Wrapper):
    """Retries what may succeed on a second try, with exponential backoff and jitter, honouring Retry-After.

    Only errors marked `retryable` are retried (rate limits, server errors, lost connections, and timeouts of
    remote servers): a wrong key, a bad reply or a timed-out local server would fail the same way again.
    """

    def __init__(
        self,
        inner: LLM,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(inner)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep or asyncio.sleep

    def wait(self, attempt: int, error: BaseException | None) -> float:
        """Seconds before retry `attempt` (1-based): Retry-After when the server gave one, else backoff."""
        after = getattr(error, "retry_after", None)
        if isinstance(after, (int, float)) and after >= 0:
            return min(float(after), self.max_wait)
        return min(self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5), self.max_wait)

    async def acomplete(self, messages: list[Message], **options: Any) -> Reply:
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        def retryable(error: BaseException) -> bool:
            return isinstance(error, LLMError) and error.retryable

        def before_sleep(state: Any) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning("LLM call failed (%s); retry %d of %d", error, state.attempt_number, self.max_retries)

        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=lambda state: self.wait(state.attempt_number, state.outcome.exception() if state.outcome else None),
            before_sleep=before_sleep,
            reraise=True,
            sleep=self.sleep,
        )
        async for attempt in retrying:
            with attempt:
                return await self.inner.acomplete(messages, **options)
        raise AssertionError("unreachable: tenacity reraises the last error")


class _Entry(BaseModel):
    """One cached reply, validated on read: a damaged or foreign file is a miss, never a crash."""

    format: int
    model: str
    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Cached(_Wrapper):
    """Answers a request seen before from `folder` (one JSON file per request), at no cost."""

    def __init__(self, inner: LLM, folder: Path) -> None:
        super().__init__(inner)
        self.folder = folder

    def key(self, messages: list[Message], options: dict[str, Any]) -> str:
        """The cache key: the request's content (messages, schema, token limit) and the model's identity."""
        request = {
            "identity": self.identity(),
            "messages": messages,
            **{k: v for k, v in options.items() if k != "stage"},
        }
        return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()

    async def acomplete(self, messages: list[Message], **options: Any) -> Reply:
        path = self.folder / f"{self.key(messages, options)}.json"
        if (hit := self._read(path)) is not None:
            return hit
        reply = await self.inner.acomplete(messages, **options)
        self._write(path, reply)
        return reply

    def _read(self, path: Path) -> Reply | None:
        try:
            mode = path.stat().st_mode
        except OSError:
            return None  # not cached
        if not stat.S_ISREG(mode):  # a FIFO would block the read, a folder cannot be read
            log.warning("LLM cache entry %s is not a regular file; ignoring it", path.name)
            return None
        try:
            entry = _Entry.model_validate_json(path.read_bytes())
        except (OSError, ValueError, ValidationError, RecursionError):
            log.warning("LLM cache entry %s is unreadable; asking the model again", path.name)
            return None
        if entry.format != CACHE_FORMAT or entry.model != self.model:
            return None
        usage = Usage(prompt_tokens=entry.prompt_tokens, completion_tokens=entry.completion_tokens, cached_calls=1)
        # Replayed text is cleaned like a live reply: a poisoned entry cannot reach the terminal with escapes.
        return Reply(text=clean_text(entry.text), usage=usage, cached=True, finish_reason=entry.finish_reason)

    def _write(self, path: Path, reply: Reply) -> None:
        entry = _Entry(
            format=CACHE_FORMAT,
            model=self.model,
            text=scrub(reply.text),
            finish_reason=reply.finish_reason,
            prompt_tokens=reply.usage.prompt_tokens,
            completion_tokens=reply.usage.completion_tokens,
        )
        try:
            if path.exists() and not path.is_file():
                raise IsADirectoryError(f"{path} is not a regular file")
            write_text(path, entry.model_dump_json())
        except OSError as e:  # a read-only or odd cache must not fail a draft
            log.warning("could not cache an LLM reply in %s (%s)", path.parent, e)


class Accounted(_Wrapper):
    """Adds every reply's usage to the open `metering()` blocks, with synth's own prompt-token estimate."""

    async def acomplete(self, messages: list[Message], **options: Any) -> Reply:
        reply = await self.inner.acomplete(messages, **options)
        reply.usage.estimated_prompt_tokens = self.count_tokens(messages)
        record(reply.usage, options.get("stage", ""))
        return reply
