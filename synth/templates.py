"""Load and render the prompt templates (`prompts/*.j2`, shipped as `synth/prompts`): sandboxed, strict, overridable.

Templates are trusted code; everything passed in (queries, abstracts) is data. jinja never renders a
variable's value as template source, so `{{ ... }}` inside an abstract stays literal text.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from synth.errors import SettingsError

# The tags that frame data in the templates; data must not be able to open or close one.
_FRAME_TAG = re.compile(r"<\s*/?\s*(query|source|claim)\b", re.IGNORECASE)


def as_data(value: object) -> str:
    """The `data` filter: untrusted text with any framing tag defused ("</source>" -> "‹/source>")."""
    return _FRAME_TAG.sub(lambda m: "‹" + m.group()[1:], str(value))


def package_prompts_dir() -> Path:
    """The templates shipped inside the package (`synth/prompts`, built from the top-level `prompts/`)."""
    installed = Path(str(resources.files("synth") / "prompts"))
    if not (installed / "draft.j2").is_file():
        raise SettingsError(f"synth's prompt templates are missing from {installed}; reinstall synth")
    return installed


class Prompts:
    """Templates by name (`draft` -> `draft.j2`), from `override_dir` first, else the shipped ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        if override_dir is not None and not Path(override_dir).is_dir():
            raise SettingsError(f"prompts folder not found: {override_dir}")
        self.dirs = [d for d in (override_dir, package_prompts_dir()) if d is not None]

    @cached_property
    def _env(self) -> Any:
        from jinja2 import FileSystemLoader, StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment(
            loader=FileSystemLoader([str(d) for d in self.dirs]),
            undefined=StrictUndefined,  # a missing variable is an error, never an empty string
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["data"] = as_data
        return env

    def render(self, name: str, **variables: Any) -> str:
        """Render template `name` with the variables; a missing template or variable raises SettingsError."""
        from jinja2 import TemplateError

        try:
            return str(self._env.get_template(f"{name}.j2").render(**variables)).strip()
        except TemplateError as e:
            raise SettingsError(f"prompt template {name}.j2: {e}") from e
        except (RecursionError, MemoryError, OverflowError) as e:  # a user template that recurses or explodes
            raise SettingsError(f"prompt template {name}.j2 could not be rendered ({type(e).__name__})") from e

    def hashes(self) -> dict[str, str]:
        """sha256 of every template in use (an override replaces the shipped file of its name)."""
        names = sorted({p.stem for d in self.dirs for p in Path(d).glob("*.j2")})
        return {name: self.source_hash(name) for name in names}

    def source_hash(self, name: str) -> str:
        """sha256 of the template file actually used, for reproducible run manifests."""
        for d in self.dirs:
            path = Path(d) / f"{name}.j2"
            if path.is_file():
                return hashlib.sha256(path.read_bytes()).hexdigest()
        raise SettingsError(f"prompt template {name}.j2 not found in {', '.join(map(str, self.dirs))}")
