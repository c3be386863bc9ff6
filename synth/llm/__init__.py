"""The one place synth talks to language models: litellm behind a small interface.

litellm is imported on first use (it takes seconds), with its hygiene settings: the local model cost map
(no network at import) and no `.env` loaded from the working directory. Keys come only from the
environment and are never logged or stored. Calls are retried with backoff on rate limits, timeouts and
server errors, and identical requests are answered from an on-disk cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from synth.errors import LLMError
from synth.files import write_text
from synth.models import Usage

log = logging.getLogger(__name__)

Message = dict[str, str]
JsonMode = Literal["auto", "schema", "object-schema", "object", "off"]

# A key local servers ignore; the OpenAI client refuses to start without one.
LOCAL_PLACEHOLDER_KEY = "sk-no-key-needed"


@dataclass
class Reply:
    """What a model answered, and what it cost."""

    text: str
    usage: Usage = field(default_factory=Usage)
    cached: bool = False


class LLM(Protocol):
    """Anything that completes chat messages. `synth.testing.FakeLLM` is one for tests."""

    model: str

    def complete(self, messages: list[Message], *, schema: dict[str, Any] | None = None) -> Reply:
        """Complete the conversation; `schema` asks for JSON of that shape where the model supports it."""
        ...

    async def acomplete(self, messages: list[Message], *, schema: dict[str, Any] | None = None) -> Reply:
        """The same, without blocking the event loop."""
        ...


_litellm: Any = None


def import_litellm() -> Any:
    """Import litellm once, offline and without reading a `.env` from the working directory."""
    global _litellm
    if _litellm is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        previous = os.environ.get("LITELLM_MODE")
        os.environ["LITELLM_MODE"] = "PRODUCTION"  # in its default "DEV" mode litellm loads ./.env at import
        try:
            import litellm
        finally:
            if previous is None:
                os.environ.pop("LITELLM_MODE", None)
            else:
                os.environ["LITELLM_MODE"] = previous
        litellm.telemetry = False
        litellm.suppress_debug_info = True
        litellm.drop_params = True  # a parameter a provider does not take is dropped, not an error
        _litellm = litellm
    return _litellm


def _off_main_thread(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a blocking litellm call in a worker thread.

    litellm's sync path calls asyncio.get_event_loop() for its service hooks. In the main thread that creates
    and installs an event loop which is never closed (a ResourceWarning at exit, and a loop a later
    asyncio.run() in the caller's code silently replaces). In a worker thread the call finds no loop and
    litellm falls back to asyncio.run(), which cleans up after itself.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, **kwargs).result()


def _offline_tiktoken() -> None:
    """Point tiktoken at the encodings litellm ships; else tiktoken downloads them on first use."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        bundled = Path(import_litellm().__file__).parent / "litellm_core_utils" / "tokenizers"
        if bundled.is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)


class LiteLLM:
    """A model reached through litellm: OpenAI, Anthropic, Gemini, Ollama, vLLM, any OpenAI-compatible server."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        timeout: float = 120.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        json_mode: JsonMode = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        self.model = model
        self.api_base = api_base
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.json_mode = json_mode
        self.cache_dir = cache_dir

    # -- public -------------------------------------------------------------------------------------------

    def complete(self, messages: list[Message], *, schema: dict[str, Any] | None = None) -> Reply:
        """Complete with retries; served from the cache when the same request was answered before."""
        request = self._request(messages, schema)
        if (hit := self._cached(request)) is not None:
            return hit
        litellm = import_litellm()
        secrets = self._secrets()
        reply = _retrying(
            lambda: _off_main_thread(litellm.completion, **request, **secrets), self._retry_delay, self.model
        )
        return self._finish(request, reply)

    async def acomplete(self, messages: list[Message], *, schema: dict[str, Any] | None = None) -> Reply:
        """Complete without blocking the event loop; same retries and cache."""
        request = self._request(messages, schema)
        if (hit := self._cached(request)) is not None:
            return hit
        litellm = import_litellm()
        secrets = self._secrets()
        reply = await _aretrying(lambda: litellm.acompletion(**request, **secrets), self._retry_delay, self.model)
        return self._finish(request, reply)

    def context_window(self, default: int = 8192) -> int:
        """The model's input limit in tokens, when litellm knows it; else `default`."""
        try:
            info = import_litellm().get_model_info(self.model)
            return int(info.get("max_input_tokens") or info.get("max_tokens") or default)
        except Exception:  # unknown model: litellm raises a plain Exception
            return default

    def count_tokens(self, messages: list[Message]) -> int:
        """Prompt tokens: tiktoken's encoding for OpenAI models, cl100k plus 10 % for others.

        litellm's own counter loads Hugging Face tokenizers for some providers, over the network.
        """
        _offline_tiktoken()
        import tiktoken

        try:
            encoding, margin = tiktoken.encoding_for_model(self.model.split("/")[-1]), 1.0
        except KeyError:
            encoding, margin = tiktoken.get_encoding("cl100k_base"), 1.1
        text_tokens = sum(len(encoding.encode(m["content"], disallowed_special=())) + 4 for m in messages)
        return int(text_tokens * margin) + 3

    # -- request, cache, accounting -----------------------------------------------------------------------

    def _request(self, messages: list[Message], schema: dict[str, Any] | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "timeout": self.timeout,
        }
        if self.api_base:
            request["api_base"] = self.api_base
        if schema is not None and (fmt := self._response_format(schema)) is not None:
            request["response_format"] = fmt
        return request

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        mode = self.json_mode
        if mode == "auto" and self.api_base and self._provider() == "openai":
            mode = "object-schema"  # self-hosted OpenAI-compatible servers (llama.cpp, vLLM) take a schema here
        elif mode == "auto":
            litellm = import_litellm()
            try:
                if litellm.supports_response_schema(model=self.model):
                    mode = "schema"
                else:
                    params = litellm.get_supported_openai_params(model=self.model) or []
                    mode = "object" if "response_format" in params else "off"
            except Exception:
                mode = "object"
        if mode == "schema":
            return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
        if mode == "object-schema":
            return {"type": "json_object", "schema": schema}
        if mode == "object":
            return {"type": "json_object"}
        return None

    def _secrets(self) -> dict[str, Any]:
        """Call-only arguments: credentials and client settings, never part of the cache key, a log or a result."""
        extra: dict[str, Any] = {"max_retries": 0}  # the provider SDK must not retry behind our backoff
        if self.api_base and self._provider() == "openai" and not os.environ.get("OPENAI_API_KEY"):
            return {**extra, "api_key": LOCAL_PLACEHOLDER_KEY}
        missing = self._missing_keys()
        if missing:
            raise LLMError(f"model {self.model} needs {' and '.join(missing)}: set it in the environment")
        return extra

    def _provider(self) -> str:
        if "/" in self.model:
            return self.model.split("/", 1)[0]
        try:
            return str(import_litellm().get_llm_provider(self.model)[1])
        except Exception:
            return "unknown"

    def _missing_keys(self) -> list[str]:
        if self.api_base:  # a self-hosted server: whatever it needs, the user has set up
            return []
        try:
            found = import_litellm().validate_environment(model=self.model)
        except Exception:
            return []
        return list(found.get("missing_keys") or [])

    def _key(self, request: dict[str, Any]) -> str:
        stable = {k: v for k, v in request.items() if k != "timeout"}
        return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()

    def _cached(self, request: dict[str, Any]) -> Reply | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{self._key(request)}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        usage = Usage(prompt_tokens=data["prompt_tokens"], completion_tokens=data["completion_tokens"], cached_calls=1)
        log.debug("LLM reply served from cache %s", path.name)
        return Reply(text=data["text"], usage=usage, cached=True)

    def _finish(self, request: dict[str, Any], reply: tuple[Any, float]) -> Reply:
        response, latency = reply
        text = response.choices[0].message.content or ""
        tokens = getattr(response, "usage", None)
        usage = Usage(
            prompt_tokens=getattr(tokens, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(tokens, "completion_tokens", 0) or 0,
            cost_usd=self._cost(response),
            latency_s=latency,
            calls=1,
        )
        if self.cache_dir is not None:
            self._store(request, text, usage)
        return Reply(text=text, usage=usage)

    def _cost(self, response: Any) -> float | None:
        try:
            return float(import_litellm().completion_cost(completion_response=response))
        except Exception:  # no price known for this model (local servers, new models)
            return None

    def _store(self, request: dict[str, Any], text: str, usage: Usage) -> None:
        assert self.cache_dir is not None
        data = {"model": self.model, "text": text, **usage.model_dump(include={"prompt_tokens", "completion_tokens"})}
        write_text(self.cache_dir / f"{self._key(request)}.json", json.dumps(data))

    def _retry_delay(self, attempt: int, error: Exception) -> float | None:
        """Seconds to wait before retry `attempt` (1-based), or None to give up now."""
        if attempt > self.max_retries or not _retryable(error):
            return None
        after = _retry_after(error)
        base = self.backoff * 2 ** (attempt - 1)
        return after if after is not None else base * random.uniform(0.5, 1.5)  # jitter spreads out clients


# -- retries ----------------------------------------------------------------------------------------------

_RETRYABLE = ("RateLimitError", "Timeout", "APIConnectionError", "InternalServerError", "ServiceUnavailableError",
              "BadGatewayError", "APIError")  # fmt: skip


def _retryable(error: Exception) -> bool:
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    if name in ("AuthenticationError", "PermissionDeniedError", "BadRequestError", "NotFoundError",
                "ContextWindowExceededError", "UnprocessableEntityError", "ContentPolicyViolationError"):  # fmt: skip
        return False
    return name in _RETRYABLE or (isinstance(status, int) and (status == 429 or status >= 500))


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = float(headers.get("retry-after", ""))
    except (TypeError, ValueError):
        return None
    return min(value, 60.0)


def _as_llm_error(error: Exception, model: str) -> LLMError:
    name = type(error).__name__
    message = str(error).splitlines()[0][:300] if str(error) else name
    hint = {
        "AuthenticationError": "check the API key in the environment",
        "PermissionDeniedError": "the key is not allowed to use this model",
        "NotFoundError": "check the model name (and --api-base)",
        "BadRequestError": "the provider rejected the request",
        "ContextWindowExceededError": "lower --k or the context window setting",
        "RateLimitError": "rate limited even after retries; try again later or lower the concurrency",
    }.get(name, "the provider could not be reached; check --api-base and the network")
    return LLMError(f"{model}: {name}: {message} ({hint})")


def _on_failure(error: Exception, attempt: int, delay: Callable[[int, Exception], float | None], model: str) -> float:
    """Seconds to wait before trying again, or raise the error as a clear `LLMError`."""
    if isinstance(error, LLMError):
        raise error
    wait = delay(attempt, error)
    if wait is None:
        raise _as_llm_error(error, model) from error
    log.warning("LLM call failed (%s); retry %d in %.1f s", type(error).__name__, attempt, wait)
    return wait


def _retrying(call: Callable[[], Any], delay: Callable[[int, Exception], float | None], model: str,
              sleep: Callable[[float], None] = time.sleep) -> tuple[Any, float]:  # fmt: skip
    for attempt in itertools.count(1):
        start = time.perf_counter()
        try:
            return call(), time.perf_counter() - start
        except Exception as error:
            sleep(_on_failure(error, attempt, delay, model))
    raise AssertionError("unreachable")


async def _aretrying(call: Callable[[], Awaitable[Any]], delay: Callable[[int, Exception], float | None], model: str,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> tuple[Any, float]:  # fmt: skip
    for attempt in itertools.count(1):
        start = time.perf_counter()
        try:
            return await call(), time.perf_counter() - start
        except Exception as error:
            await sleep(_on_failure(error, attempt, delay, model))
    raise AssertionError("unreachable")
