"""What synth knows about a model without calling it: context window, prices, and a token count.

Windows and prices come from the table litellm ships (`model_prices_and_context_window_backup.json`),
read as a file: importing litellm to ask costs seconds. Token counts use tiktoken with the encodings
litellm bundles, and never download one (tiktoken's default on first use).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 8192
_ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def _litellm_dir() -> Path | None:
    spec = find_spec("litellm")  # locates the package without running it
    return Path(spec.origin).parent if spec and spec.origin else None


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    folder = _litellm_dir()
    if folder is None:
        return {}
    try:
        data = json.loads((folder / "model_prices_and_context_window_backup.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.debug("no model table from litellm (%s)", e)
        return {}
    return data if isinstance(data, dict) else {}


def model_entry(model: str) -> dict[str, Any]:
    """litellm's entry for `model` ("gpt-4o-mini" or "openai/gpt-4o-mini"); empty when unknown."""
    table = _table()
    for name in (model, model.split("/", 1)[-1]):
        entry = table.get(name)
        if isinstance(entry, dict):
            return entry
    return {}


def known_window(model: str) -> int | None:
    """The model's input limit in tokens, when the table knows it."""
    entry = model_entry(model)
    value = entry.get("max_input_tokens") or entry.get("max_tokens")
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for the tokens at the table's list prices; None when the model has no known price."""
    entry = model_entry(model)
    inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if not isinstance(inp, (int, float)) or not isinstance(out, (int, float)):
        return None
    return prompt_tokens * float(inp) + completion_tokens * float(out)


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any:
    """A bundled tiktoken encoding, or None when it is not on disk (then we estimate instead)."""
    folder = _litellm_dir()
    bundled = folder / "litellm_core_utils" / "tokenizers" if folder else None
    cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or (str(bundled) if bundled else ""))
    if not (cache / hashlib.sha1(_ENCODING_URL.format(name).encode()).hexdigest()).is_file():
        return None
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # a damaged file: estimate rather than fail a draft
        log.debug("tiktoken encoding %s unusable (%s)", name, e)
        return None


CHARS_PER_TOKEN = 4.5
"""For the fast estimate: abstracts and prompts run about 5.3 characters a token with cl100k (the dev corpus);
4.5 errs on the side of more tokens, so a prompt the estimate lets through fits."""


def count_tokens(model: str, texts: list[str], *, exact: bool = False) -> int:
    """Tokens in the texts of one request: a fast estimate from their length, or, with `exact`, tiktoken's
    count (exact for OpenAI models, +10 % for others). Chat framing adds ~4 tokens per message, 3 per request.

    Loading an encoding costs ~0.5 s of CPU, more than the rest of a draft's own work; the estimate serves
    everywhere a prompt is far from its budget, and the exact count where it is close (`draft/budget.py`).
    """
    framing = 4 * len(texts) + 3
    if not exact:
        # Letters outside ASCII (Chinese, accented, Cyrillic) are about a token each: counted so, never under.
        wide = sum(sum(1 for c in t if ord(c) > 127) for t in texts)
        return int((sum(len(t) for t in texts) - wide) / CHARS_PER_TOKEN) + wide + framing
    name = model.split("/", 1)[-1].lower()
    openai_like = name.startswith(("gpt-", "o1", "o3", "o4", "chatgpt"))
    encoding = _encoding(
        "o200k_base" if name.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")) else "cl100k_base"
    )
    if encoding is None:
        encoding = _encoding("cl100k_base")
    if encoding is None:
        return count_tokens(model, texts)
    framed = sum(len(encoding.encode(t, disallowed_special=())) for t in texts) + framing
    return framed if openai_like else int(framed * 1.1)
