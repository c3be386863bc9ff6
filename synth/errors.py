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
    """The language model could not be reached or gave no usable answer.

    `retryable`: trying the same request again may succeed. `fatal`: no later request will succeed either
    (a wrong key or model, a server that is not there), so a batch run stops. `retry_after`: the seconds the
    server asked for. Messages are scrubbed of secrets before they are stored.
    """

    retryable = False
    fatal = False

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        fatal: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        from synth.llm.secrets import scrub

        super().__init__(scrub(message))
        if retryable is not None:
            self.retryable = retryable
        if fatal is not None:
            self.fatal = fatal
        self.retry_after = retry_after


class LLMUnreachable(LLMError):
    """No connection to the server (refused, unknown host, reset before any answer)."""

    retryable = True
    fatal = True


class LLMTimeout(LLMError):
    """The server did not answer within the timeout."""

    retryable = True


class LLMRateLimited(LLMError):
    """The provider asked us to slow down (HTTP 429)."""

    retryable = True


class LLMServerError(LLMError):
    """The server failed (HTTP 5xx)."""

    retryable = True


class LLMRejected(LLMError):
    """The provider refused the request (HTTP 4xx): a key, a model name, a parameter."""


class ContextWindowExceeded(LLMRejected):
    """The prompt and the answer do not fit the model's context window."""


class LLMBadReply(LLMError):
    """The reply is not a chat completion synth can read (the same request would give the same reply)."""


class SourceError(SynthError):
    """A live source (arXiv, OpenAlex, Semantic Scholar) could not be searched."""
