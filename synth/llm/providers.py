"""Which provider serves a model name, and which key it needs: answered without importing litellm.

Knowing the key is missing must take milliseconds (before the corpus loads or retrieval runs), not the
seconds litellm's import costs.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

# Environment variables litellm reads for each provider's key (any one of them is enough).
KEYS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "mistral": ("MISTRAL_API_KEY",),
    "cohere": ("COHERE_API_KEY", "CO_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "fireworks_ai": ("FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"),
    "perplexity": ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"),
    "azure": ("AZURE_API_KEY",),
}
# Bare model names litellm maps to a provider without a prefix.
_BARE = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-", "text-davinci"), "openai"),
    (("claude",), "anthropic"),
    (("command",), "cohere"),
    (("mistral-", "codestral", "open-mistral", "open-mixtral"), "mistral"),
)


def provider(model: str) -> str | None:
    """The provider a model name points at ("openai/local" -> openai, "claude-3-5-haiku" -> anthropic)."""
    if "/" in model:
        return model.split("/", 1)[0].lower()
    lowered = model.lower()
    for prefixes, name in _BARE:
        if lowered.startswith(prefixes):
            return name
    return None


def is_loopback(api_base: str | None) -> bool:
    """Whether the server is on this machine (a local model: slow, and busy with one request at a time)."""
    if not api_base:
        return False
    host = urlparse(api_base if "//" in api_base else "//" + api_base).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


def missing_key(model: str, api_base: str | None) -> str | None:
    """A sentence naming the key a hosted model needs and the environment lacks; None when nothing is missing.

    A server of the user's own (`api_base`) needs whatever they set up, so nothing is required here.
    """
    if api_base:
        return None
    names = KEYS.get(provider(model) or "")
    if not names or any(os.environ.get(n) for n in names):
        return None
    return f"model {model} needs {' or '.join(names)}: set it in the environment"


def uses_openai_protocol(model: str, api_base: str | None) -> bool:
    """Whether to talk to the model with the OpenAI chat-completions protocol directly (no litellm)."""
    name = provider(model)
    return name == "openai" or (api_base is not None and name in (None, "hosted_vllm", "lm_studio", "llamafile"))
