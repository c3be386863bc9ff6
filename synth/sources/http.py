"""The one HTTP client the sources share: polite pacing, bounded retries, Retry-After, a deadline, clear errors.

Retries (tenacity) cover what a later try can fix: timeouts, dropped connections, 429 and 5xx. A host that
cannot be reached at all, or a request the server refuses (4xx), fails at once with one plain sentence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from synth._version import __version__
from synth.errors import SourceError
from synth.retry_after import retry_after_from

if TYPE_CHECKING:
    import httpx
    import tenacity

log = logging.getLogger(__name__)

USER_AGENT = f"synth/{__version__} (related-work drafting; +https://pypi.org/project/synth/)"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class Limits:
    """How long and how often a source may try. `deadline` is a `clock()` time after which nothing is sent."""

    timeout: float = 30.0  # seconds for one request
    retries: int = 3  # further tries after a failed one
    deadline: float | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def within(cls, seconds: float, **options: Any) -> Limits:
        """Limits whose deadline is `seconds` from now."""
        limits = cls(**options)
        limits.deadline = limits.clock() + seconds
        return limits


class Unreachable(SourceError):
    """The host could not be reached at all (no network, DNS failure, connection refused)."""


class DeadlineExceeded(SourceError):
    """The fetch ran out of time."""


class _Transient(Exception):
    """A failure a later try may not repeat; `retry_after` is the server's own advice, when usable."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Http:
    """GET requests to one API, at most one every `delay` seconds, retried within `limits`."""

    def __init__(
        self,
        name: str,
        *,
        delay: float,
        limits: Limits,
        headers: Mapping[str, str] | None = None,
        describe: Callable[[bytes], str] | None = None,
        hint: str = "",
    ) -> None:
        self.name = name
        self.delay = delay
        self.limits = limits
        self.describe = describe or _describe
        self.hint = hint  # appended to refusals: what the user can change (a key, the query)
        self.requests = 0
        import httpx  # imported here: only a fetch pays for it
        import tenacity

        self._httpx, self._tenacity = httpx, tenacity
        self._client: httpx.Client = self._httpx.Client(
            headers={"User-Agent": USER_AGENT, **(headers or {})}, follow_redirects=True
        )
        self._last: float | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def get(self, url: str, params: Mapping[str, str | int]) -> bytes:
        """The body of a 200 answer to GET url?params; raises SourceError when the tries or the time run out."""
        t = self._tenacity
        ran_out = False

        def stop(state: tenacity.RetryCallState) -> bool:
            nonlocal ran_out
            deadline = self.limits.deadline
            ran_out = deadline is not None and self.limits.clock() + (state.upcoming_sleep or 0) >= deadline
            return ran_out or state.attempt_number > self.limits.retries

        retrying = t.Retrying(
            retry=t.retry_if_exception_type(_Transient),
            wait=self._wait,
            stop=stop,
            sleep=self.limits.sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )
        try:
            body: bytes = retrying(self._once, url, params)
        except _Transient as e:
            if ran_out:
                raise DeadlineExceeded(
                    f"{self.name}: out of time ({e.reason}); allow more time or ask for fewer papers"
                ) from None
            tries = self.limits.retries + 1
            raise SourceError(f"{self.name}: {e.reason} on {tries} tries; try again later{self.hint}") from None
        return body

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info("%s: %s; trying again in %.1f s", self.name, error, state.upcoming_sleep)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        backoff: float = self._tenacity.wait_exponential_jitter(initial=1, max=30, jitter=1)(state)
        return backoff

    def _pace(self) -> float:
        """Wait out the polite delay since the last request; the seconds left for this one."""
        clock, deadline = self.limits.clock, self.limits.deadline
        if self._last is not None:
            pause = self._last + self.delay - clock()
            if deadline is not None and clock() + max(pause, 0) >= deadline:
                raise DeadlineExceeded(f"{self.name}: out of time; allow more time or ask for fewer papers")
            if pause > 0:
                self.limits.sleep(pause)
        left = self.limits.timeout if deadline is None else min(self.limits.timeout, deadline - clock())
        if left <= 0:
            raise DeadlineExceeded(f"{self.name}: out of time; allow more time or ask for fewer papers")
        return left

    def _once(self, url: str, params: Mapping[str, str | int]) -> bytes:
        httpx = self._httpx
        timeout = self._pace()
        self.requests += 1
        try:
            response = self._client.get(url, params=dict(params), timeout=timeout)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:  # a mistyped *_API_URL, not a network fault
            raise SourceError(f"{self.name}: cannot use the URL {url!r} ({e}); give an http(s) address") from None
        except httpx.ConnectError as e:
            host = urlsplit(url).netloc
            raise Unreachable(f"{self.name}: cannot reach {host} ({e}); check the network connection") from None
        except httpx.TimeoutException:
            raise _Transient(f"no answer within {timeout:.1f} s") from None
        except httpx.TransportError as e:  # a dropped or garbled connection
            raise _Transient(f"connection failed ({type(e).__name__})") from None
        finally:
            self._last = self.limits.clock()
        status = response.status_code
        if status in RETRY_STATUS:
            reason = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status})"
            raise _Transient(reason, retry_after_from(response.headers))
        if status >= 400:
            detail = self.describe(response.content)
            raise SourceError(
                f"{self.name} refused the request (HTTP {status}{': ' + detail if detail else ''}){self.hint}"
            )
        return response.content


def json_body(body: bytes, name: str) -> Any:
    """A JSON answer, parsed; a page that is not JSON is an error of this request, not of the program."""
    import json

    try:
        return json.loads(body)
    except ValueError:
        raise SourceError(f"{name} sent a page that is not JSON; try again later") from None


def _describe(body: bytes) -> str:
    """The first line of an error body, short: enough to say what the server objected to."""
    import json

    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "detail"):
            if isinstance(data.get(key), str):
                text = data[key]
                break
    first = text.splitlines()[0] if text else ""
    return first[:200]


class HttpSource:
    """What the sources built on `Http` share: their request count and closing the connection."""

    http: Http

    @property
    def requests(self) -> int:
        """HTTP requests sent so far."""
        return self.http.requests

    def close(self) -> None:
        """Release the connection."""
        self.http.close()
