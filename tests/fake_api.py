"""A scriptable HTTP API on 127.0.0.1 for the live-source tests: fixture pages, errors, slow answers.

Each GET takes the next scripted `Reply` (the last one repeats), or asks `route(path, params)` for one when
given. Every request is kept in `requests` (path, query parameters, headers) so tests can check what was sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).parent / "fixtures" / "sources"


@dataclass
class Reply:
    """One scripted answer: a body (text, bytes, or a fixture file name under fixtures/sources/)."""

    body: str | bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering

    @classmethod
    def page(cls, name: str, **options: object) -> Reply:
        """A fixture page from tests/fixtures/sources/."""
        return cls((PAGES / name).read_bytes(), **options)  # type: ignore[arg-type]


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class FakeAPI:
    """Start with `with FakeAPI(Reply(...), ...) as api:`; `api.base` is its http://127.0.0.1:port URL."""

    def __init__(self, *replies: Reply, route: Callable[[str, dict[str, str]], Reply] | None = None) -> None:
        self.replies = list(replies) or [Reply(b"{}")]
        self.route = route
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.address: tuple[str, int] = ("127.0.0.1", int(self._server.server_address[1]))
        self.base = f"http://127.0.0.1:{self.address[1]}"

    def __enter__(self) -> FakeAPI:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(Request(path, params, headers))
            if self.route is not None:
                return self.route(path, params)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                reply = fake._next(url.path, params, {k.lower(): v for k, v in self.headers.items()})
                time.sleep(reply.delay)
                data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: what the timeout tests want

        return Handler
