"""Models reached through litellm: Anthropic, Gemini, Ollama, Bedrock, Azure, ... (OpenAI-compatible ones use
`openai_compat`, which starts faster).

litellm is imported on first use (it takes seconds), offline (`LITELLM_LOCAL_MODEL_COST_MAP`), and without
reading a `.env` from the working directory. Its exceptions become synth's `LLMError` classes here, by type.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from synth.errors import (
    ContextWindowExceeded,
    LLMBadReply,
    LLMError,
    LLMRateLimited,
    LLMRejected,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
)
from synth.llm import model_info
from synth.llm.base import Message, Reply, Window
from synth.llm.client import ChatClient, read_completion, response_format
from synth.llm.secrets import scrub
from synth.retry_after import retry_after_from

log = logging.getLogger(__name__)
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
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
            logging.getLogger(name).setLevel(logging.WARNING)
        _litellm = litellm
    return _litellm


class LiteLLMClient(ChatClient):
    """A model reached through litellm (its settings: `ChatClient`)."""

    async def context_window(self) -> Window:
        """From litellm's model table when it knows the model, else 8192 assumed."""
        known = model_info.known_window(self.model)
        return Window(known, "model table") if known else Window(model_info.DEFAULT_WINDOW, "assumed")

    async def acomplete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        stage: str = "",
    ) -> Reply:
        """One call through litellm, bounded by the deadline."""
        litellm = import_litellm()
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": max_tokens or self.max_tokens,
            "timeout": self.timeout,
            "max_retries": 0,  # synth retries, with backoff; the provider SDK must not retry behind it
        }
        if self.api_base:
            request["api_base"] = self.api_base
        if schema is not None and (fmt := self._response_format(litellm, schema)) is not None:
            request["response_format"] = fmt
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                response = await litellm.acompletion(**request)
        except TimeoutError:
            raise LLMTimeout(f"{self.model}: no answer within {self.timeout:g} s; a slow server needs a longer --timeout",
                             retryable=not self.loopback) from None  # fmt: skip
        except Exception as error:
            raise self._classify(litellm, error) from None
        latency = time.perf_counter() - start
        data = response.model_dump() if hasattr(response, "model_dump") else response
        text, finish, usage = read_completion(data)
        usage.latency_s, usage.calls = latency, 1
        try:
            usage.cost_usd = float(litellm.completion_cost(completion_response=response))
        except Exception:  # no price for this model (local servers, new models)
            usage.cost_usd = model_info.cost(self.model, usage.prompt_tokens, usage.completion_tokens)
        return Reply(text=text, usage=usage, finish_reason=finish)

    def _response_format(self, litellm: Any, schema: dict[str, Any]) -> dict[str, Any] | None:
        mode = self.json_mode
        if mode == "auto":
            try:
                if litellm.supports_response_schema(model=self.model):
                    mode = "schema"
                else:
                    params = litellm.get_supported_openai_params(model=self.model) or []
                    mode = "object" if "response_format" in params else "off"
            except Exception:  # an unknown model: plain JSON mode is the safest ask
                mode = "object"
        return response_format(mode, schema)

    def _classify(self, litellm: Any, error: Exception) -> LLMError:
        """litellm's exception as synth's, by type; the message scrubbed of secrets."""
        ex = litellm.exceptions
        first = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
        text = f"{self.model}: {type(error).__name__}: {scrub(first)}"
        headers = (
            getattr(error, "litellm_response_headers", None)
            or getattr(getattr(error, "response", None), "headers", None)
            or {}
        )
        after = retry_after_from(headers)
        if isinstance(error, ex.ContextWindowExceededError):
            return ContextWindowExceeded(text + " (lower --k or set --context-window)")
        if isinstance(error, (ex.AuthenticationError, ex.PermissionDeniedError)):
            return LLMRejected(text + " (check the API key in the environment)", fatal=True)
        if isinstance(error, ex.NotFoundError):
            return LLMRejected(text + " (check the model name and --api-base)", fatal=True)
        if isinstance(error, ex.RateLimitError):
            return LLMRateLimited(text + " (rate limited; try later or lower --workers)", retry_after=after)
        if isinstance(error, ex.Timeout):
            return LLMTimeout(text + " (a slow server needs a longer --timeout)", retryable=not self.loopback)
        if isinstance(error, ex.APIConnectionError):
            return LLMUnreachable(text + " (is the server running? check --api-base and the network)")
        if isinstance(error, (ex.BadRequestError, ex.UnprocessableEntityError, ex.ContentPolicyViolationError)):
            return LLMRejected(text + " (the provider rejected the request)")
        if isinstance(error, (ex.InternalServerError, ex.ServiceUnavailableError, ex.BadGatewayError, ex.APIError)):
            return LLMServerError(text + " (server error)", retry_after=after)
        if isinstance(error, (IndexError, KeyError, TypeError, AttributeError, ValueError, RecursionError)):
            return LLMBadReply(f"{self.model}: the reply could not be read ({type(error).__name__}: {scrub(first)})")
        return LLMError(text)
