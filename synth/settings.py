"""One settings object, nested by stage. Precedence: explicit value (CLI flag, keyword) > SYNTH_* > config file > default.

Every field is defined once, here: its name is the CLI flag (`--max-output-tokens`), the environment variable
(`SYNTH_MAX_OUTPUT_TOKENS`) and the config key (flat, or under its group's table: `[llm] max_output_tokens`).
Names are unique across groups, so flat keyword arguments (`Synthesizer(k=20, model="gpt-4o-mini")`) work.

pydantic-settings would do this layering, but its import alone costs ~0.3 s, more than the whole budget of a
cached `synth draft`; the layering is a few dozen lines here.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synth.errors import SettingsError
from synth.retrieve.filters import check_date

log = logging.getLogger(__name__)

ENV_PREFIX = "SYNTH_"
# SYNTH_* variables that are not settings: read elsewhere, never warned about.
OTHER_VARIABLES = {"CONFIG", "RECORD"}


def default_home() -> Path:
    """The per-user cache folder synth keeps indexes and LLM replies in."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("synth"))


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RetrievalSettings(_Group):
    """Which papers are candidates for citation."""

    k: int = Field(12, ge=1, le=1000, description="Most papers a section cites (a ceiling, not a quota).")
    pool: int = Field(40, ge=1, le=1000, description="LLM drafting: candidates retrieved before the relevance filter.")
    retriever: str = Field(
        "auto", description="bm25, dense, hybrid, or auto (hybrid when dense embeddings are cached)."
    )
    prf: bool = Field(False, description="BM25 pseudo-relevance feedback (RM3 query expansion).")
    llm_queries: int = Field(0, ge=0, le=10, description="With a model: extra search queries the LLM writes (0: off).")
    fusion: Literal["rrf", "weighted"] = Field("rrf", description="Hybrid: reciprocal-rank or weighted-score fusion.")
    embeddings: Path | None = Field(None, description="Dense: a .npy of paper embeddings computed elsewhere.")
    source: str | None = Field(
        None,
        description="Search a live source for each query (arxiv, openalex, semanticscholar) instead of a corpus file.",
    )
    source_max: int = Field(200, ge=1, le=10_000, description="Live source: most papers to fetch for a query.")
    before: str | None = Field(None, description="Only papers published before this date (YYYY[-MM[-DD]]).")
    after: str | None = Field(None, description="Only papers published on or after this date (YYYY[-MM[-DD]]).")

    _dates = field_validator("before", "after")(check_date)

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str | None) -> str | None:
        from synth.sources import SOURCES

        return None if value is None else _registered(value, list(SOURCES), "source")

    @field_validator("retriever")
    @classmethod
    def _known_retriever(cls, value: str) -> str:
        from synth.retrieve import RETRIEVERS

        return _registered(value, ["auto", *RETRIEVERS], "retriever")


class LLMSettings(_Group):
    """Which language model, and how synth talks to it."""

    model: str | None = Field(
        None, description="Model name, e.g. gpt-4o-mini, openai/local, anthropic/claude-3-5-haiku-latest."
    )
    api_base: str | None = Field(None, description="Base URL of an OpenAI-compatible server (llama.cpp, vLLM, ...).")
    prompts: Path | None = Field(None, description="Folder of your own prompt templates (any subset of prompts/).")
    cache: bool = Field(True, description="Serve identical LLM requests from the cache under SYNTH_HOME.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="LLM sampling temperature.")
    max_output_tokens: int = Field(2048, ge=64, description="Most tokens the LLM may write in one reply.")
    context_window: int | None = Field(
        None,
        ge=512,
        description="The model's context window in tokens (default: asked of the server, else known, else 8192).",
    )
    timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds one LLM call may take in all (default: 120, or 900 for a server on this machine).",
    )
    max_retries: int = Field(3, ge=0, le=10, description="Retries on rate limits, server errors and lost connections.")
    json_mode: Literal["auto", "schema", "object-schema", "object", "off"] = Field(
        "auto",
        description="How to ask for JSON: json_schema, json_object with a schema (llama.cpp, vLLM), "
        "plain json_object, or instructions only; auto picks by provider.",
    )
    backend: Literal["auto", "openai", "litellm"] = Field(
        "auto", description="Client: openai (OpenAI-compatible HTTP), litellm (any provider), or auto."
    )


class DraftSettings(_Group):
    """How the section is written."""

    drafter: Literal["auto", "extractive", "llm"] = Field(
        "auto", description="auto: the LLM when a model is set, else the offline extractive drafter."
    )
    pipeline: str = Field(
        "staged", description="LLM drafting: staged (filter, evidence, outline, write: small calls) or one-shot."
    )
    verify: bool = Field(True, description="Check every citation and repair what fails before output.")
    words: int = Field(300, ge=50, le=5000, description="LLM drafting: target length in words.")
    style: str = Field("thematic paragraphs", description="LLM drafting: how to write the section.")
    heading: str = Field("Related Work", description="Heading text of the section.")
    heading_level: int = Field(2, ge=1, le=6, description="Markdown heading level; in LaTeX 1-2 are \\section.")

    @field_validator("pipeline")
    @classmethod
    def _known_pipeline(cls, value: str) -> str:
        from synth.draft import PIPELINES

        return _registered(value, list(PIPELINES), "pipeline")


class CheckSettings(_Group):
    """How citations are judged."""

    judge: str = Field("offline", description="Who judges citations: offline (no model) or llm.")
    judge_trials: int = Field(1, ge=1, le=15, description="LLM judge: answers per question, majority wins.")
    window: int = Field(1, ge=0, le=10, description="Claim coverage: sources cited within ±window sentences count.")
    min_chars: int = Field(50, ge=0, description="Sentences shorter than this are not checked.")

    @field_validator("judge")
    @classmethod
    def _known_judge(cls, value: str) -> str:
        from synth.check import JUDGES

        return _registered(value, list(JUDGES), "judge")


def _registered(value: str, names: list[str], what: str) -> str:
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}: use {', '.join(names)}")
    return value


GROUPS: dict[str, type[_Group]] = {
    "retrieval": RetrievalSettings,
    "llm": LLMSettings,
    "draft": DraftSettings,
    "check": CheckSettings,
}


class Settings(BaseModel):
    """Everything that changes what synth does, by stage. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    home: Path = Field(default_factory=default_home, description="Cache folder for indexes and LLM replies.")
    corpus: str = Field("sample", description="Corpus file, or 'sample' for the corpus shipped with synth.")
    strict: bool = Field(False, description="Fail on the first bad corpus record instead of skipping it.")
    retrieval: RetrievalSettings = Field(default_factory=lambda: RetrievalSettings.model_validate({}))
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings.model_validate({}))
    draft: DraftSettings = Field(default_factory=lambda: DraftSettings.model_validate({}))
    check: CheckSettings = Field(default_factory=lambda: CheckSettings.model_validate({}))

    @model_validator(mode="after")
    def _one_source_of_papers(self) -> Settings:
        if self.retrieval.source is not None and self.corpus != "sample":
            raise ValueError("give either a corpus (--corpus) or a live source (--source), not both")
        return self

    @classmethod
    def load(cls, config: str | Path | None = None, **explicit: Any) -> Settings:
        """Build settings from explicit flat values, SYNTH_* variables and a TOML config file.

        The config file is `config`, else $SYNTH_CONFIG, else `<home>/config.toml` when it exists. Explicit
        values that are None count as not given.
        """
        given = {k: v for k, v in explicit.items() if v is not None}
        _unknown(given, "setting")
        env = _environment()
        layered = {**env, **given}
        path = config or os.environ.get(ENV_PREFIX + "CONFIG")
        if path is None:
            home = Path(layered["home"]) if "home" in layered else default_home()
            candidate = home / "config.toml"
            path = candidate if candidate.is_file() else None
        file_values = _read_config(Path(path)) if path else {}
        return cls.build({**file_values, **layered})

    @classmethod
    def build(cls, flat: dict[str, Any]) -> Settings:
        """Settings from flat names (`k`, `model`, ...); a SettingsError names the first invalid value."""
        try:
            return cls.model_validate(_nest(flat))
        except ValidationError as e:
            first = e.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            if not first["loc"]:  # a rule across settings: its message says it all
                raise SettingsError(message) from e
            raise SettingsError(f"invalid setting {first['loc'][-1]}: {message}") from e

    def updated(self, **flat: Any) -> Settings:
        """A copy with some flat values changed (None values are ignored)."""
        given = {k: v for k, v in flat.items() if v is not None}
        if not given:
            return self
        _unknown(given, "setting")
        return Settings.build({**self.flat(), **given})

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name."""
        data = self.model_dump()
        out = {k: v for k, v in data.items() if k not in GROUPS}
        for group in GROUPS:
            out.update(data[group])
        return out

    def public(self) -> dict[str, Any]:
        """The settings as JSON-ready values, nested by stage, for result files: no key is a setting, and a
        password in the API base URL, or any known secret, is replaced by "[redacted]"."""
        from synth.llm.secrets import scrub_data

        return scrub_data(self.model_dump(mode="json"))


TOP_LEVEL = {name: field for name, field in Settings.model_fields.items() if name not in GROUPS}
# flat name -> group name (None for the top-level fields)
GROUP_OF: dict[str, str | None] = {name: None for name in TOP_LEVEL}
for _group, _model in GROUPS.items():
    for _name in _model.model_fields:
        assert _name not in GROUP_OF, f"setting {_name} is defined twice"
        GROUP_OF[_name] = _group


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        group = GROUP_OF.get(name)
        if group is None:
            nested[name] = value
        else:
            nested.setdefault(group, {})[name] = value
    return nested


def _unknown(values: dict[str, Any], what: str) -> None:
    unknown = sorted(set(values) - set(GROUP_OF))
    if unknown:
        raise SettingsError(f"unknown {what} {unknown[0]!r}; see `synth draft --help` for the settings")


def _environment() -> dict[str, str]:
    """Settings from SYNTH_* variables; an unknown SYNTH_* variable is warned about (a typo changes nothing)."""
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        if not key.startswith(ENV_PREFIX) or not value:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in GROUP_OF:
            found[name] = value
        elif name.upper() not in OTHER_VARIABLES:
            log.warning("ignoring %s: no such setting", key)
    return found


def _read_config(path: Path) -> dict[str, Any]:
    """A TOML config file as flat values: flat keys, group tables ([retrieval], [llm], ...), or a [synth] table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SettingsError(f"config file not found: {path}") from e
    except IsADirectoryError as e:
        raise SettingsError(f"config file {path} is a directory") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: invalid TOML ({e})") from e
    data = dict(data.get("synth", data))
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in GROUPS and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    _unknown(flat, f"key in {path}:")
    return flat
