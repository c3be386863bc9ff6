"""A scriptable, hostile OpenAI-compatible chat server on 127.0.0.1 (extends tests/fake_openai.py).

Each POST to .../chat/completions takes the next scripted `Answer` (the last one repeats): a completion with
any content, an HTTP error with headers, a slow or dripping body, a raw body, a gzip bomb, or a body that
echoes the caller's API key. Every request (time, headers, body) is kept, so cases can check what synth
sent and how long it waited between retries.

Stand-alone, for reproducers:  python eval/fuzz/fakeserver.py script.json [--port N]
(script.json: a list of Answer fields, e.g. [{"status": 429, "headers": {"retry-after": "NaN"}}, {"content": "..."}])
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted answer."""

    content: Any = ""  # message content: any JSON value (wrong types too)
    status: int = 200
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    usage: Any = None  # None: computed from the lengths
    body: str | None = None  # sent as is instead of a completion (text)
    body_b64: str | None = None  # sent as is (bytes)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes
    choices: Any = None  # overrides the choices list
    message_extra: dict[str, Any] | None = None  # merged into the message object
    gzip_pad: int = 0  # gzip the body, padded with this many spaces before compression (a gzip bomb)
    echo: bool = False  # replace {KEY} and {AUTH} in content, body and headers with what the caller sent
    error_message: str | None = None  # for status != 200: the error message (default: str(content))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v != getattr(Answer(), k)}


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """The JSON body of a chat completion carrying `answer`."""
    content = answer.content
    usage = answer.usage
    if usage is None:
        size = len(content.split()) if isinstance(content, str) else 1
        usage = {"prompt_tokens": 100, "completion_tokens": size, "total_tokens": 100 + size}
    choices = answer.choices
    if choices is None:
        message = {"role": "assistant", "content": content, **(answer.message_extra or {})}
        choices = [{"index": 0, "message": message, "finish_reason": answer.finish_reason}]
    return {
        "id": "chatcmpl-fuzz",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def _dynamic(value: str) -> str:
    """`{HTTPDATE+N}`: an HTTP date N seconds after the moment the answer is sent (for Retry-After)."""
    m = re.fullmatch(r"\{HTTPDATE([+-]\d+)\}", value)
    return email.utils.formatdate(time.time() + int(m.group(1)), usegmt=True) if m else value


@lru_cache(maxsize=4)
def gzip_bomb(prefix: bytes, pad: int) -> bytes:
    """`prefix` followed by `pad` spaces, gzip-compressed in chunks (never held whole)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(prefix)]
    chunk = b" " * (1 << 20)
    left = pad
    while left > 0:
        parts.append(comp.compress(chunk[: min(left, len(chunk))]))
        left -= len(chunk)
    parts.append(comp.flush())
    return b"".join(parts)


class FakeServer:
    """`with FakeServer([Answer(...), ...]) as server:`; `server.base` is the /v1 URL."""

    def __init__(self, answers: list[Answer] | None = None, port: int = 0) -> None:
        self.answers = list(answers or [Answer(content="{}")])
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self) -> list[dict[str, Any]]:
        return [a.to_dict() for a in self.answers]

    def bodies(self) -> list[dict[str, Any]]:
        """The parsed JSON bodies synth sent."""
        return [r["json"] for r in self.requests if isinstance(r.get("json"), dict)]

    def _next(self, record: dict[str, Any]) -> Answer:
        with self._lock:
            self.requests.append(record)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "local"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    parsed = json.loads(raw or b"{}")
                except ValueError:
                    parsed = None
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = {"t": time.monotonic(), "path": self.path, "headers": headers, "raw": raw[:5_000_000].decode("utf-8", "replace"), "json": parsed}  # fmt: skip
                answer = fake._next(record)
                if answer.delay:
                    fake.stopped.wait(answer.delay)
                auth = headers.get("authorization", "")
                key = auth.split(" ", 1)[1] if " " in auth else auth

                def echo(text: str) -> str:
                    return text.replace("{KEY}", key).replace("{AUTH}", auth) if answer.echo else text

                model = parsed.get("model", "local") if isinstance(parsed, dict) else "local"
                if answer.body_b64 is not None:
                    data = base64.b64decode(answer.body_b64)
                elif answer.body is not None:
                    data = echo(answer.body).encode()
                elif answer.status != 200:
                    message = answer.error_message if answer.error_message is not None else str(answer.content)
                    data = json.dumps(
                        {"error": {"message": echo(message), "type": "error", "code": answer.status}}
                    ).encode()
                else:
                    content = echo(answer.content) if isinstance(answer.content, str) else answer.content
                    data = json.dumps(completion(Answer(**{**asdict(answer), "content": content}), model)).encode()
                extra = {k: _dynamic(echo(v)) for k, v in answer.headers.items()}
                if answer.gzip_pad:
                    data = gzip_bomb(data, answer.gzip_pad)
                    extra["content-encoding"] = "gzip"
                self._send(answer.status, data, extra, answer.drip)

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
                            if fake.stopped.is_set():
                                break
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            fake.stopped.wait(drip)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up

        return Handler


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve a scripted list of answers as an OpenAI-compatible server.")
    parser.add_argument("script", help="JSON file: a list of Answer fields")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as f:
        answers = [Answer.from_dict(a) for a in json.load(f)]
    with FakeServer(answers, port=args.port) as server:
        print(server.base, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
