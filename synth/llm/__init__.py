"""The one place synth talks to language models. Nothing outside `synth/llm/` imports litellm or an HTTP client.

- `LLM` (base.py): the async-first interface every stage uses; `complete()` / `run_sync()` derive sync calls.
- Clients: `OpenAICompatible` (OpenAI and OpenAI-compatible servers, over httpx) and `LiteLLMClient` (other
  providers, through litellm, imported only then); `ChatClient` (client.py) holds what they share.
- Wrappers (wrappers.py): `Retrying`, `Cached`, `Accounted`, composed by `make_llm`.
- `metering()` (usage.py) collects the usage of every call made inside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from synth.llm.base import LLM, Message, Reply, Window, complete, run_sync
from synth.llm.usage import Meter, metering

if TYPE_CHECKING:
    from synth.settings import LLMSettings

__all__ = ["LLM", "Message", "Meter", "Reply", "Window", "complete", "make_llm", "metering", "preflight", "run_sync"]


def preflight(settings: LLMSettings) -> None:
    """Fail at once, before any other work, when the configured model cannot be used (a missing key)."""
    from synth.errors import LLMRejected
    from synth.llm.providers import missing_key

    if settings.model and (problem := missing_key(settings.model, settings.api_base)):
        raise LLMRejected(problem, fatal=True)


def make_llm(settings: LLMSettings, cache_dir: Path | None = None) -> LLM:
    """The configured model with retries, the reply cache (when `cache_dir` is given) and usage accounting."""
    import os

    from synth.llm.providers import uses_openai_protocol
    from synth.llm.wrappers import Accounted, Cached, Retrying

    assert settings.model, "make_llm needs a model"
    preflight(settings)
    client: LLM
    backend = settings.backend
    if backend == "openai" or (backend == "auto" and uses_openai_protocol(settings.model, settings.api_base)):
        from synth.llm.openai_compat import OpenAICompatible

        client = OpenAICompatible(
            settings.model,
            api_base=settings.api_base,
            api_key=os.environ.get("OPENAI_API_KEY"),
            temperature=settings.temperature,
            max_tokens=settings.max_output_tokens,
            timeout=settings.timeout,
            json_mode=settings.json_mode,
        )
    else:
        from synth.llm.litellm_client import LiteLLMClient

        client = LiteLLMClient(
            settings.model,
            api_base=settings.api_base,
            temperature=settings.temperature,
            max_tokens=settings.max_output_tokens,
            timeout=settings.timeout,
            json_mode=settings.json_mode,
        )
    model: LLM = Retrying(client, max_retries=settings.max_retries)
    if cache_dir is not None:
        model = Cached(model, cache_dir)
    return Accounted(model)
