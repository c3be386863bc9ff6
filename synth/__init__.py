"""synth: write the related-work section of a paper from a corpus of abstracts, and prove what it cites.

Names are imported on first use (PEP 562), so `import synth` and the CLI start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The stage packages synth.draft and synth.check share their names with the functions defined below. A
# subpackage is bound on its parent once, when first imported: importing both (they are light) before
# the functions are defined lets `synth.draft` and `synth.check` stay the functions for good.
import synth.check
import synth.draft  # noqa: F401
from synth._version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from synth.check.fix import Repair
    from synth.corpus import Corpus, load_corpus
    from synth.errors import CorpusError, LLMError, RetrievalError, SettingsError, SynthError
    from synth.models import Citation, GroundingReport, Hit, Paper, Paragraph, Section, Sentence, Usage, Verdict
    from synth.settings import Settings
    from synth.synthesizer import Synthesizer

_LAZY = {
    "Citation": "synth.models",
    "Corpus": "synth.corpus",
    "CorpusError": "synth.errors",
    "GroundingReport": "synth.models",
    "Hit": "synth.models",
    "LLMError": "synth.errors",
    "Paper": "synth.models",
    "Paragraph": "synth.models",
    "Repair": "synth.check.fix",
    "RetrievalError": "synth.errors",
    "Section": "synth.models",
    "Sentence": "synth.models",
    "Settings": "synth.settings",
    "SettingsError": "synth.errors",
    "SynthError": "synth.errors",
    "Synthesizer": "synth.synthesizer",
    "Usage": "synth.models",
    "Verdict": "synth.models",
    "load_corpus": "synth.corpus",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'synth' has no attribute {name!r}")


def draft(query: str, corpus: str | None = None, **settings: Any) -> Section:
    """Draft a related-work section for `query` in one call (see `Synthesizer` for reuse)."""
    from synth.synthesizer import Synthesizer

    return Synthesizer(corpus, **settings).draft(query)


def check(
    source: str | Path | Section | dict[str, Any] | None = None,
    corpus: str | Path | Corpus | None = None,
    *,
    text: str | None = None,
    judge: str = "offline",
    gold: list[str] | None = None,
    query: str | None = None,
    **settings: Any,
) -> GroundingReport:
    """Check the citations of a file (`source`: .md, .tex, synth's .json), a Section, synth's JSON, or `text`.

    A string `source` is always a file name; pass a text as `text=`. `query` is the paper being written.
    """
    from synth.synthesizer import Synthesizer

    return Synthesizer(corpus, judge=judge, **settings).check(source, text=text, gold=gold, query=query)


def repair(
    source: str | Path | Section | dict[str, Any] | None = None,
    corpus: str | Path | Corpus | None = None,
    *,
    text: str | None = None,
    query: str | None = None,
    **settings: Any,
) -> Repair:
    """Verify and repair the citations of a file (`source`) or a `text`: `.text`, `.changes`, `.report`, `.before`.

    A string `source` is always a file name; pass a text as `text=`. With a model set, unsupported sentences
    may be rewritten from their evidence; offline, failed citations are moved or removed and reported.
    """
    from synth.synthesizer import Synthesizer

    return Synthesizer(corpus, **settings).repair(source, text=text, query=query)


__all__ = [
    "Citation",
    "Corpus",
    "CorpusError",
    "GroundingReport",
    "Hit",
    "LLMError",
    "Paper",
    "Paragraph",
    "Repair",
    "RetrievalError",
    "Section",
    "Sentence",
    "Settings",
    "SettingsError",
    "SynthError",
    "Synthesizer",
    "Usage",
    "Verdict",
    "__version__",
    "check",
    "draft",
    "load_corpus",
    "repair",
]
