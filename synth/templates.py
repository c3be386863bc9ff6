"""Load and render the prompt templates (`prompts/*.j2`, shipped as `synth/prompts`): sandboxed, strict, overridable.

Templates are trusted code; everything passed in (queries, abstracts) is data. jinja never renders a
variable's value as template source, so `{{ ... }}` inside an abstract stays literal text.
"""

from __future__ import annotations

import hashlib
import re
import time
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from synth.errors import SettingsError

MAX_RENDER_CHARS = 2_000_000  # far beyond any model's context window (about 500,000 tokens)
MAX_RENDER_SECONDS = 10.0  # the shipped templates render in milliseconds
MAX_EXPONENT = 10_000

# The tags that frame data in the templates; data must not be able to open or close one.
_FRAME_TAG = re.compile(r"<\s*/?\s*(query|source|claim)\b", re.IGNORECASE)
# Characters that render as nothing: they can split a tag so that a pattern misses it while a model reads it.
# Control characters other than tab and newline (a NUL can end a string in a server's C code) go too.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
# Brackets that look like < and >, and letters of other scripts that look like Latin ones.
_ANGLES = str.maketrans(
    {"\uff1c": "<", "\ufe64": "<", "\u3008": "<", "\u2329": "<", "\u27e8": "<",
     "\uff1e": ">", "\ufe65": ">", "\u3009": ">", "\u232a": ">", "\u27e9": ">", "\uff0f": "/", "\u2044": "/",
     "\u2215": "/", "\u29f8": "/"}
)  # fmt: skip
_LOOKALIKES = str.maketrans(
    "аеорсуіјѕһԛхАВЕКМНОРСТХѕαοτυνρκεΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyijshqxABEKMHOPCTXsaotuvpkeABEZHIKMNOPTYX",
)
# Chat-template control tokens of common model families: in data they could end a turn or start one.
_CONTROL_TOKEN = re.compile(
    r"<[|\uff5c][^|\uff5c<>\n]{1,40}[|\uff5c]>|<\s*/?\s*(?:s|start_of_turn|end_of_turn|bos|eos|unk|pad)\s*>|\[/?INST\]|<<\s*/?\s*SYS\s*>>",
    re.IGNORECASE,
)


def as_data(value: object) -> str:
    """The `data` filter: untrusted text that cannot open or close a frame tag or a chat turn.

    Framing tags are defused ("</source>" -> "‹/source>"), also when written with invisible characters,
    fullwidth brackets or look-alike letters of other scripts; chat control tokens ("<|im_start|>",
    "[INST]", "<start_of_turn>") lose their brackets.
    """
    text = _INVISIBLE.sub("", str(value))
    text = _CONTROL_TOKEN.sub(lambda m: "‹" + m.group()[1:-1] + "›", text)
    # Find tags on a folded copy (same length: every fold maps one character to one), defuse them in the text.
    folded = text.translate(_ANGLES).translate(_LOOKALIKES)
    spans = [m.start() for m in _FRAME_TAG.finditer(folded)]
    if not spans:
        return text
    chars = list(text)
    for start in spans:
        chars[start] = "‹"
    return "".join(chars)


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
        from jinja2.utils import generate_lorem_ipsum

        class Bounded(SandboxedEnvironment):
            """The sandbox, with the operators that can build a huge value in one step held to the render cap."""

            intercepted_binops = frozenset({"*", "**"})

            def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
                if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
                    raise ValueError(f"an exponent above {MAX_EXPONENT}")
                if operator == "*":
                    sized, times = (left, right) if isinstance(right, int) else (right, left)
                    sequence = isinstance(sized, str | list | tuple) and isinstance(times, int)
                    if sequence and len(sized) * times > MAX_RENDER_CHARS:
                        raise ValueError(f"a value longer than {MAX_RENDER_CHARS:,} characters")
                return super().call_binop(context, operator, left, right)

        env = Bounded(
            loader=FileSystemLoader([str(d) for d in self.dirs]),
            undefined=StrictUndefined,  # a missing variable is an error, never an empty string
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["data"] = as_data
        env.globals["lipsum"] = lambda n=5, **kw: generate_lorem_ipsum(min(int(n), 100), **kw)
        return env

    def render(self, name: str, **variables: Any) -> str:
        """Render template `name` with the variables; a missing template or variable raises SettingsError.

        A user's template is code that could run away: its output is capped at MAX_RENDER_CHARS and its
        rendering at MAX_RENDER_SECONDS (checked as it writes; a loop that writes nothing is not caught).
        """
        from jinja2 import TemplateError

        try:
            chunks: list[str] = []
            size, deadline = 0, time.monotonic() + MAX_RENDER_SECONDS
            for chunk in self._env.get_template(f"{name}.j2").generate(**variables):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RENDER_CHARS:
                    raise ValueError(f"its output passed {MAX_RENDER_CHARS:,} characters")
                if time.monotonic() > deadline:
                    raise ValueError(f"it ran for more than {MAX_RENDER_SECONDS:.0f} s")
            return "".join(chunks).strip()
        except TemplateError as e:
            raise SettingsError(f"prompt template {name}.j2: {e}") from e
        except UnicodeDecodeError as e:
            raise SettingsError(f"prompt template {name}.j2 is not UTF-8 text ({e.reason} at byte {e.start})") from e
        except Exception as e:  # a user's template is code: 1/0, a failed pop, a bad format string
            detail = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            raise SettingsError(f"prompt template {name}.j2 could not be rendered ({detail[:200]})") from e

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
