"""One settings object. Precedence: explicit value (CLI flag, keyword) > SYNTH_* environment > config file > default.

pydantic-settings would do this layering, but its import alone costs ~0.3 s, more than the whole budget of a
cached `synth draft`; the layering is a dozen lines here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from synth.errors import SettingsError
from synth.retrieve.filters import check_date

ENV_PREFIX = "SYNTH_"


def default_home() -> Path:
    """The per-user cache folder synth keeps indexes and LLM replies in."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("synth"))


class Settings(BaseModel):
    """Everything that changes what synth does. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    home: Path = Field(default_factory=default_home, description="Cache folder for indexes (SYNTH_HOME).")
    corpus: str = Field("sample", description="Corpus file, or 'sample' for the corpus shipped with synth.")
    strict: bool = Field(False, description="Fail on the first bad corpus record instead of skipping it.")
    k: int = Field(12, ge=1, le=1000, description="How many papers retrieval returns.")
    retriever: Literal["auto", "bm25", "dense", "hybrid"] = Field(
        "auto", description="Retrieval: auto is hybrid when the dense extra is installed, else bm25."
    )
    prf: bool = Field(False, description="BM25 pseudo-relevance feedback (RM3 query expansion).")
    llm_queries: int = Field(0, ge=0, le=10, description="With a model: extra search queries the LLM writes (0: off).")
    fusion: Literal["rrf", "weighted"] = Field("rrf", description="Hybrid: reciprocal-rank or weighted-score fusion.")
    embeddings: Path | None = Field(None, description="Dense: a .npy of paper embeddings computed elsewhere.")
    before: str | None = Field(None, description="Only papers published before this date (YYYY[-MM[-DD]]).")
    after: str | None = Field(None, description="Only papers published on or after this date.")
    drafter: Literal["auto", "extractive", "llm"] = Field(
        "auto", description="'auto' uses the LLM when a model is set, else the offline extractive drafter."
    )
    model: str | None = Field(None, description="litellm model name, e.g. gpt-4o-mini or openai/local.")
    api_base: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    words: int = Field(300, ge=50, le=5000, description="Target length of an LLM-drafted section, in words.")
    style: str = Field("thematic paragraphs", description="How the LLM should write the section.")
    prompts: Path | None = Field(None, description="Folder of your own prompt templates (any subset of prompts/).")
    cache: bool = Field(True, description="Serve identical LLM requests from the cache under home.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="LLM sampling temperature.")
    max_output_tokens: int = Field(2048, ge=64, description="Tokens reserved for the LLM's answer.")
    context_window: int | None = Field(None, ge=512, description="Override the model's context window (tokens).")
    timeout: float = Field(120.0, gt=0, description="Seconds before one LLM call times out.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries on rate limits, timeouts and server errors.")
    json_mode: Literal["auto", "schema", "object-schema", "object", "off"] = Field(
        "auto",
        description="How to ask for JSON: OpenAI's json_schema, json_object with a schema (llama.cpp, vLLM), "
        "plain json_object, or instructions only. auto picks by provider.",
    )
    judge: Literal["offline", "llm"] = Field("offline", description="Who checks citations: offline or the LLM.")
    judge_trials: int = Field(1, ge=1, le=15, description="LLM judge: answers per question, majority wins.")
    window: int = Field(1, ge=0, le=10, description="Claim coverage: sources cited within ±window sentences count.")
    min_chars: int = Field(50, ge=0, description="Sentences shorter than this are not checked.")
    heading: str = Field("Related Work", description="Heading text of the section.")
    heading_level: int = Field(2, ge=1, le=6, description="Markdown heading level; in LaTeX 1-2 are \\section.")

    _dates = field_validator("before", "after")(check_date)

    @classmethod
    def load(cls, config: str | Path | None = None, **explicit: Any) -> Settings:
        """Build settings from explicit values, the environment, and a TOML config file.

        The config file is `config`, else $SYNTH_CONFIG, else `<home>/config.toml` when it exists.
        Explicit values that are None count as not given.
        """
        given = {k: v for k, v in explicit.items() if v is not None}
        env = {
            name: os.environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if os.environ.get(ENV_PREFIX + name.upper())
        }
        layered = {**env, **given}
        path = config or os.environ.get(ENV_PREFIX + "CONFIG")
        if path is None:
            home = Path(layered["home"]) if "home" in layered else default_home()
            candidate = home / "config.toml"
            path = candidate if candidate.is_file() else None
        file_values = _read_config(Path(path)) if path else {}
        try:
            return cls(**{**file_values, **layered})
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            raise SettingsError(f"invalid setting {where}: {first['msg'].removeprefix('Value error, ')}") from e

    def public(self) -> dict[str, Any]:
        """The settings as JSON-ready values, for result files (no secrets are settings)."""
        return self.model_dump(mode="json")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SettingsError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: invalid TOML ({e})") from e
    # Accept both a flat file and one with a [synth] table.
    return dict(data.get("synth", data))
