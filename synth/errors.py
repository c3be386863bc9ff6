"""The exceptions synth raises. Each message says what went wrong and what to do next."""

from __future__ import annotations


class SynthError(Exception):
    """Base of every error synth raises on purpose; the CLI prints it as one line."""


class CorpusError(SynthError):
    """A corpus file cannot be read, or holds no usable abstracts."""


class SettingsError(SynthError):
    """A setting, environment variable or config file value is invalid."""


class RetrievalError(SynthError):
    """A retrieval index cannot be built or read."""


class LLMError(SynthError):
    """The language model could not be reached or gave no usable answer."""


class SourceError(SynthError):
    """A live source (arXiv, OpenAlex, Semantic Scholar) could not be searched."""
