"""Keep credentials out of everything synth prints or stores: error lines, run records, the LLM cache.

A server may echo the key it was sent (a 401 body quoting it, a proxy's debug output). Every text that
leaves the LLM layer passes through `scrub`, which replaces the values of credential-like environment
variables, any Authorization header value synth sent and any password in a URL with "[redacted]". The CLI's
log handler scrubs every record (`ScrubbingFilter`: HTTP clients log response headers at debug level), and
settings written to result files go through `scrub_data`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_CREDENTIAL = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTH)", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_URL_PASSWORD = re.compile(r"(://[^\s:/@]*:)[^\s@/]+@")  # scheme://user:password@host
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
    """`text` with every known secret, any bearer token and any password in a URL replaced by "[redacted]"."""
    if not text:
        return text
    for secret in secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def redact_url(url: str) -> str:
    """`url` with the password of its user part, and credential-like query values, replaced by "[redacted]"."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL we can take apart: hide it whole rather than guess
        return scrub(url)
    netloc = parts.netloc
    if password:
        netloc = netloc.replace(f":{password}@", f":{REDACTED}@", 1)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if _CREDENTIAL.search(k) else v) for k, v in pairs], safe="[]")
    return scrub(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def scrub_data(value: Any) -> Any:
    """A JSON-like value with every string scrubbed, and URLs' passwords hidden (settings written to files)."""
    if isinstance(value, str):
        return redact_url(value) if "://" in value else scrub(value)
    if isinstance(value, dict):
        return {k: scrub_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_data(v) for v in value]
    return value


class ScrubbingFilter(logging.Filter):
    """Scrubs every log record a handler emits: debug logs of HTTP clients print the headers servers send."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
