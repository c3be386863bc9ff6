"""Keep credentials out of everything synth prints or stores: error lines, run records, the LLM cache.

A server may echo the key it was sent (a 401 body quoting it, a proxy's debug output). Every text that
leaves the LLM layer passes through `scrub`, which replaces the values of credential-like environment
variables, and any Authorization header value synth sent, with "[redacted]".
"""

from __future__ import annotations

import os
import re
import threading

_CREDENTIAL = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTH)", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_sent: set[str] = set()
_lock = threading.Lock()

REDACTED = "[redacted]"
MIN_LENGTH = 6  # shorter values ("1", "true") would redact ordinary words


def remember(value: str | None) -> None:
    """Treat `value` (a key synth sent) as a secret from now on."""
    if value and len(value) >= MIN_LENGTH:
        with _lock:
            _sent.add(value)


def secrets() -> list[str]:
    """The values to hide: credential-like environment variables and keys synth has sent, longest first."""
    found = {v for k, v in os.environ.items() if _CREDENTIAL.search(k) and len(v) >= MIN_LENGTH}
    with _lock:
        found |= _sent
    return sorted(found, key=len, reverse=True)


def scrub(text: str) -> str:
    """`text` with every known secret, and any bearer token, replaced by "[redacted]"."""
    if not text:
        return text
    for secret in secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
