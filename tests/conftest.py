"""Shared fixtures: every test runs offline, with its own SYNTH_HOME and no provider keys."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import Answer, FakeOpenAI

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "MISTRAL_API_KEY",
                 "COHERE_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY", "AZURE_API_KEY")  # fmt: skip


class NetworkAccessError(AssertionError):
    """A test tried to open a network connection that no cassette serves."""


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """The process environment as it was before the test: the CLI's -q sets variables for the whole process."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private SYNTH_HOME, no SYNTH_* settings or provider keys from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("SYNTH_") or name in PROVIDER_KEYS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SYNTH_HOME", str(tmp_path / "synth-home"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


RECORDING = os.environ.get("SYNTH_RECORD") == "1"  # see tests/README.md: re-recording cassettes


def _loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else ""
    return host in ("127.0.0.1", "localhost", "::1")


_GIVEN: set[tuple[str, int]] = set()  # loopback servers the running test started itself


def _given(address: object) -> bool:
    return isinstance(address, tuple) and len(address) >= 2 and (str(address[0]), int(address[1])) in _GIVEN


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a network socket: cassettes replay above the socket layer.

    While re-recording (SYNTH_RECORD=1) the local model server on loopback is allowed, nothing else.
    """
    real_connect = socket.socket.connect
    _GIVEN.clear()

    def guarded(self: socket.socket, address: object) -> object:
        if self.family == socket.AF_UNIX or _given(address) or (RECORDING and _loopback(address)):
            return real_connect(self, address)
        raise NetworkAccessError(f"test tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)

    real_create = socket.create_connection

    def refuse(address: object, *args: object, **kwargs: object) -> socket.socket:
        if _given(address) or (RECORDING and _loopback(address)):
            return real_create(address, *args, **kwargs)  # type: ignore[arg-type]
        raise NetworkAccessError(f"test tried to connect to {address!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI points the root logger at its stderr; CliRunner closes that stream after each invoke."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def allow_local() -> Iterator[Callable[[str, int], None]]:
    """`allow_local(host, port)`: let this test connect to a server it started on loopback, nothing else."""

    def allow(host: str, port: int) -> None:
        assert _loopback((host, port)), "only loopback servers can be allowed"
        _GIVEN.add((host, port))

    yield allow
    _GIVEN.clear()


@pytest.fixture
def fake_openai(allow_local: Callable[[str, int], None]) -> Iterator[Callable[..., FakeOpenAI]]:
    """`fake_openai(Answer(...), ...)` starts a scripted OpenAI-compatible server this test may reach."""
    servers: list[FakeOpenAI] = []

    def start(*answers: Answer, **options: Any) -> FakeOpenAI:
        server = FakeOpenAI(*answers, **options).__enter__()
        servers.append(server)
        allow_local(*server.address)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def fixtures() -> Path:
    """The folder of small hand-written corpora."""
    return FIXTURES


def _same_request(r1: object, r2: object) -> None:
    """Requests match when model, messages and response format match (other fields may vary by version)."""
    import json

    def key(r: object) -> object:
        body = json.loads(getattr(r, "body", None) or b"{}")
        return body.get("model"), body.get("messages"), body.get("response_format")

    assert key(r1) == key(r2), "request body differs from the recorded one"


@pytest.fixture
def cassette(request: pytest.FixtureRequest):
    """Replay (or, with SYNTH_RECORD=1, record) tests/cassettes/<module>/<test>.yaml; no other HTTP is allowed."""
    import vcr

    module = Path(request.node.fspath).stem
    folder = Path(__file__).parent / "cassettes" / module
    if RECORDING:  # record mode "all" appends to an existing cassette: start afresh, or stale requests stay
        (folder / f"{request.node.name}.yaml").unlink(missing_ok=True)
    recorder = vcr.VCR(
        cassette_library_dir=str(folder),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "scheme", "host", "port", "path", "same_request"],
        filter_headers=["authorization", "api-key", "x-api-key", "openai-organization", "cookie", "set-cookie"],
        decode_compressed_response=True,
    )
    recorder.register_matcher("same_request", _same_request)
    with recorder.use_cassette(f"{request.node.name}.yaml", allow_playback_repeats=False) as recorded:
        yield recorded
