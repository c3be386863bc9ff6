"""A scriptable OpenAI-compatible chat server on 127.0.0.1, for tests that need a real HTTP peer.

Each request to /v1/chat/completions takes the next scripted `Answer` (the last one repeats): a normal
completion, an HTTP error with headers, a slow or dripping body, a body that is not JSON. Every request
body is kept in `requests`, so tests can check what synth sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted answer."""

    content: Any = ""  # the message content (any JSON value: tests send wrong types too)
    status: int = 200
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    usage: Any = None  # None: computed from the lengths
    body: bytes | None = None  # sent as is instead of a completion
    delay: float = 0.0  # seconds before the headers
    drip: float = 0.0  # seconds between body bytes
    choices: Any = None  # overrides the choices list


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """The JSON body of a chat completion carrying `answer`."""
    content = answer.content
    usage = answer.usage
    if usage is None:
        size = len(content.split()) if isinstance(content, str) else 1
        usage = {"prompt_tokens": 100, "completion_tokens": size, "total_tokens": 100 + size}
    choices = answer.choices
    if choices is None:
        message = {"role": "assistant", "content": content}
        choices = [{"index": 0, "message": message, "finish_reason": answer.finish_reason}]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": choices,
        "usage": usage,
    }


class FakeOpenAI:
    """Start with `with FakeOpenAI(Answer(...), ...) as server:`; `server.base` is the /v1 URL."""

    def __init__(self, *answers: Answer, context_size: int | None = None) -> None:
        self.answers = list(answers) or [Answer(content="{}")]
        self.context_size = context_size  # served at /props as llama.cpp does, when set
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.address: tuple[str, int] = ("127.0.0.1", int(self._server.server_address[1]))
        self.base = f"http://127.0.0.1:{self.address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Answer:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.endswith("/props") and fake.context_size:
                    self._send(200, json.dumps({"default_generation_settings": {"n_ctx": fake.context_size}}).encode())
                elif self.path.endswith("/models"):
                    self._send(
                        200, json.dumps({"object": "list", "data": [{"id": "local", "object": "model"}]}).encode()
                    )
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw or b"{}")
                answer = fake._next(body, {k.lower(): v for k, v in self.headers.items()})
                time.sleep(answer.delay)
                data = (
                    answer.body
                    if answer.body is not None
                    else json.dumps(completion(answer, body.get("model", "local"))).encode()
                )
                if answer.status != 200 and answer.body is None:
                    data = json.dumps({"error": {"message": str(answer.content), "type": "error"}}).encode()
                self._send(answer.status, data, answer.headers, answer.drip)

            def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None, drip: float = 0.0) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    if drip:
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(drip)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: that is what some tests want

        return Handler
