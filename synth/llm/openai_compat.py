"""OpenAI-compatible chat completions over httpx: OpenAI itself, llama.cpp, vLLM, LM Studio, any such server.

Why not the openai SDK or litellm here: importing them costs 0.6 s and 2.9 s of CPU (eval/README.md), more
than a whole cached draft, and a plain client lets synth bound everything a hostile server could stretch:
- one deadline for the whole call (a body dripping a byte a second cannot outlast it);
- a cap on the reply's size, counted after decompression (a gzip bomb is refused, not inflated);
- a reply of the wrong shape is one clear error, never an IndexError deep inside a library.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import time
import zlib
from functools import lru_cache
from typing import Any

from synth.errors import (
    ContextWindowExceeded,
    LLMBadReply,
    LLMError,
    LLMRateLimited,
    LLMRejected,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
)
from synth.llm import model_info
from synth.llm.base import Message, Reply, Window
from synth.llm.client import ChatClient, read_completion, response_format
from synth.llm.secrets import remember, scrub
from synth.retry_after import retry_after_from

log = logging.getLogger(__name__)

OPENAI_BASE = "https://api.openai.com/v1"
MAX_REPLY_BYTES = 4_000_000  # a related-work reply is a few kB; 4 MB is far beyond any real one
_WINDOW_IN_ERROR = re.compile(r"(?:context (?:window|length) (?:of|is)|maximum context length is)\s+(\d+)", re.I)


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # built once: it is the slow part of a new HTTPS client


class OpenAICompatible(ChatClient):
    """A chat model behind the OpenAI chat-completions protocol."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        timeout: float | None = None,
        json_mode: str = "auto",
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        super().__init__(model, api_base=api_base, temperature=temperature, max_tokens=max_tokens, timeout=timeout,
                         json_mode=json_mode)  # fmt: skip
        self.wire_model = model.split("/", 1)[1] if model.startswith("openai/") else model
        self.api_base: str = (api_base or OPENAI_BASE).rstrip("/")  # always a URL here
        self.self_hosted = api_base is not None
        self.api_key = api_key
        remember(api_key)
        self.max_reply_bytes = max_reply_bytes
        self._window: Window | None = None

    # -- the LLM interface ----------------------------------------------------------------------------------

    async def context_window(self) -> Window:
        """Asked of the server when it says (llama.cpp /props, vLLM /models), else the model table, else 8192."""
        if self._window is None:
            served = await self._served_window() if self.self_hosted else None
            known = None if self.self_hosted else model_info.known_window(self.model)
            if served:
                self._window = Window(served, "server")
            elif known:
                self._window = Window(known, "model table")
            else:
                self._window = Window(model_info.DEFAULT_WINDOW, "assumed")
        return self._window

    async def acomplete(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        stage: str = "",
    ) -> Reply:
        """One call, bounded by the deadline; errors are classified `LLMError`s."""
        body: dict[str, Any] = {
            "model": self.wire_model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": max_tokens or self.max_tokens,
        }
        if schema is not None and (fmt := self._response_format(schema)) is not None:
            body["response_format"] = fmt
        start = time.perf_counter()
        status, headers, raw = await self._post("/chat/completions", body)
        latency = time.perf_counter() - start
        if status >= 400:
            raise self._http_error(status, headers, raw)
        data = _json(raw)
        text, finish, usage = read_completion(data)
        usage.latency_s = latency
        usage.calls = 1
        usage.cost_usd = model_info.cost(self.model, usage.prompt_tokens, usage.completion_tokens)
        return Reply(text=text, usage=usage, finish_reason=finish)

    # -- HTTP -----------------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept-encoding": "gzip, deflate, identity"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        return headers

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return await self._send("POST", path, body, self.timeout)

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, deadline: float, url: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        import httpx

        url = url or self.api_base + path
        # httpx's timeout applies to each read; the deadline bounds the whole exchange.
        limits = httpx.Timeout(deadline, connect=min(10.0, deadline))
        try:
            async with (
                asyncio.timeout(deadline),
                httpx.AsyncClient(timeout=limits, verify=_ssl_context(), trust_env=False) as client,
                client.stream(method, url, json=body, headers=self._headers()) as response,
            ):
                raw = await self._read(response)
                return response.status_code, {k.lower(): v for k, v in response.headers.items()}, raw
        except TimeoutError:
            raise self._timeout(deadline) from None
        except httpx.TimeoutException as e:
            if isinstance(e, httpx.ConnectTimeout):
                raise self._unreachable("the connection timed out") from None
            raise self._timeout(deadline) from None
        except httpx.ConnectError as e:
            raise self._unreachable(_reason(e)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
            raise LLMServerError(f"{self.model}: the connection to {self.api_base} broke ({_reason(e)})") from None
        except httpx.InvalidURL as e:
            raise LLMRejected(f"{self.api_base} is not a usable URL ({e}); check --api-base", fatal=True) from None

    async def _read(self, response: Any) -> bytes:
        """The body, decompressed here with a cap (httpx would inflate a gzip bomb whole)."""
        encoding = response.headers.get("content-encoding", "identity").lower().strip()
        if encoding not in ("identity", "", "gzip", "deflate"):
            raise LLMBadReply(
                f"{self.model}: the server sent a reply encoded as {encoding!r}, which synth does not read"
            )
        inflater = (
            zlib.decompressobj(wbits=47 if encoding == "gzip" else 15) if encoding in ("gzip", "deflate") else None
        )
        out = bytearray()
        async for chunk in response.aiter_raw():
            if inflater is not None:
                chunk = inflater.decompress(chunk, self.max_reply_bytes + 1 - len(out))
                if inflater.unconsumed_tail:
                    raise self._too_big()
            out += chunk
            if len(out) > self.max_reply_bytes:
                raise self._too_big()
        return bytes(out)

    async def _served_window(self) -> int | None:
        root = re.sub(r"/v1$", "", self.api_base)
        probes = [(root + "/props", _props_window), (self.api_base + "/models", _models_window)]
        for url, read in probes:
            try:
                status, _, raw = await self._send("GET", "", None, 5.0, url=url)
                if status == 200 and (found := read(_json(raw))):
                    log.debug("context window %d tokens, from %s", found, url)
                    return found
            except LLMError:
                continue
        return None

    # -- errors ---------------------------------------------------------------------------------------------

    def _too_big(self) -> LLMBadReply:
        return LLMBadReply(f"{self.model}: the reply is larger than {self.max_reply_bytes // 1_000_000} MB; refused")

    def _timeout(self, deadline: float) -> LLMTimeout:
        where = "the server on this machine" if self.loopback else self.api_base
        message = f"{self.model}: no complete answer from {where} within {deadline:g} s; a slow or busy server needs a longer --timeout"
        # A local server is still working on the request: sending it again queues a second copy behind it.
        return LLMTimeout(message + ("" if not self.loopback else " (not retried: the local server is still busy with it)"),
                          retryable=not self.loopback)  # fmt: skip

    def _unreachable(self, reason: str) -> LLMUnreachable:
        return LLMUnreachable(
            f"{self.model}: could not connect to {self.api_base} ({reason}); is the server running? check --api-base"
        )

    def _http_error(self, status: int, headers: dict[str, str], raw: bytes) -> LLMError:
        detail = _error_message(raw)
        text = f"{self.model}: HTTP {status}" + (f": {detail}" if detail else "")
        if status == 429:
            return LLMRateLimited(
                text + " (rate limited; try later or lower --workers)",
                retry_after=retry_after_from(headers),
            )
        if status in (401, 403):
            return LLMRejected(text + " (check the API key in the environment)", fatal=True)
        if status == 404:
            return LLMRejected(text + " (check the model name and --api-base)", fatal=True)
        if status in (400, 413) and (
            m := _WINDOW_IN_ERROR.search(detail) or re.search(r"context|too long|too many tokens", detail, re.I)
        ):
            error = ContextWindowExceeded(text + " (the prompt does not fit; lower --k or set --context-window)")
            error.window = int(m.group(1)) if m and m.groups() else None  # type: ignore[attr-defined]
            return error
        if status >= 500:
            return LLMServerError(text + " (server error)", retry_after=retry_after_from(headers))
        return LLMRejected(text + " (the server rejected the request)")

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        mode = self.json_mode
        if mode == "auto":
            if self.self_hosted:
                mode = "object-schema"  # llama.cpp and vLLM take a schema inside json_object
            else:
                mode = "schema" if model_info.model_entry(self.model).get("supports_response_schema") else "object"
        return response_format(mode, schema)


def _reason(error: BaseException) -> str:
    """Why a connection failed, from the deepest cause httpx kept (it says "All connection attempts failed")."""
    import socket

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "unknown host"
        seen = seen.__cause__ or seen.__context__
    text = str(error) or type(error).__name__
    return scrub(text.splitlines()[0][:200])


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise LLMBadReply("the reply's JSON is nested too deeply to read") from None
    except ValueError as e:
        start = raw[:80].decode("utf-8", "replace")
        raise LLMBadReply(
            f"the reply is not JSON ({e.__class__.__name__}: {str(e)[:80]}; it starts {start!r})"
        ) from None


def _error_message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str):
            return scrub(" ".join(error.split())[:300])
    return scrub(" ".join(raw[:300].decode("utf-8", "replace").split()))


def _props_window(data: Any) -> int | None:
    if isinstance(data, dict):
        settings = data.get("default_generation_settings")
        for value in (data.get("n_ctx"), settings.get("n_ctx") if isinstance(settings, dict) else None):
            if isinstance(value, int) and value > 0:
                return value
    return None


def _models_window(data: Any) -> int | None:
    entries = data.get("data") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            for key in ("max_model_len", "context_length", "max_context_length"):
                value = entry.get(key)
                if isinstance(value, int) and value > 0:
                    return value
    return None
