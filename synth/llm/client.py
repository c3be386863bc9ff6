"""What the two chat clients (`openai_compat`, `litellm_client`) share: their settings, the cache identity, the
token count, the JSON-mode request and the reading of a chat completion."""

from __future__ import annotations

import logging
from typing import Any

from synth.errors import LLMBadReply
from synth.llm import model_info
from synth.llm.base import Message
from synth.llm.providers import is_loopback
from synth.models import Usage
from synth.text import clean_text

log = logging.getLogger(__name__)

LOCAL_TIMEOUT = 900.0  # a local model on a CPU takes minutes for a long prompt
HOSTED_TIMEOUT = 120.0  # hosted ones answer in seconds


class ChatClient:
    """A chat model's settings, and what follows from them alone."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        timeout: float | None = None,
        json_mode: str = "auto",
    ) -> None:
        self.model = model
        self.api_base = api_base
        self.loopback = is_loopback(api_base)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout or (LOCAL_TIMEOUT if self.loopback else HOSTED_TIMEOUT)
        self.json_mode = json_mode

    def identity(self) -> dict[str, Any]:
        """What, besides the messages, decides the reply: part of the cache key."""
        return {
            "model": self.model,
            "api_base": self.api_base,
            "temperature": self.temperature,
            "json_mode": self.json_mode,
        }

    def count_tokens(self, messages: list[Message], *, exact: bool = False) -> int:
        """synth's count of the prompt's tokens: a fast estimate, or tiktoken's count with `exact` (a provider
        library's own counter may fetch tokenizers)."""
        return model_info.count_tokens(self.model, [m["content"] for m in messages], exact=exact)


def response_format(mode: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The `response_format` a JSON mode asks for ("schema", "object-schema", "object"; else none)."""
    if mode == "schema":
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
    if mode == "object-schema":
        return {"type": "json_object", "schema": schema}
    if mode == "object":
        return {"type": "json_object"}
    return None


def read_completion(data: Any) -> tuple[str, str | None, Usage]:
    """Text, finish reason and usage of a chat completion; LLMBadReply saying what is wrong otherwise."""
    if not isinstance(data, dict):
        raise LLMBadReply(f"the reply is a JSON {type(data).__name__}, not a chat completion")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise LLMBadReply("the reply has no choices: the server returned no completion")
    first = choices[0]
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        raise LLMBadReply("the reply's first choice has no message")
    content = message.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise LLMBadReply(f"the reply's content is a {type(content).__name__}, not text")
    finish = first.get("finish_reason")
    return clean_text(content), finish if isinstance(finish, str) else None, _usage(data.get("usage"))


def _usage(value: Any) -> Usage:
    def count(name: str) -> int:
        n = value.get(name) if isinstance(value, dict) else None
        return n if isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 10**9 else 0

    if value is not None and not (count("prompt_tokens") or count("completion_tokens")):
        log.warning("the server's token counts are missing or malformed; usage counts them as 0")
    return Usage(prompt_tokens=count("prompt_tokens"), completion_tokens=count("completion_tokens"))
