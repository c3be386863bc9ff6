"""Shared fixtures: every test runs offline, with its own SYNTH_HOME and no provider keys."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PROVIDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "MISTRAL_API_KEY",
                 "COHERE_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY", "AZURE_API_KEY")  # fmt: skip


class NetworkAccessError(AssertionError):
    """A test tried to open a network connection that no cassette serves."""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private SYNTH_HOME, no SYNTH_* settings or provider keys from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("SYNTH_") or name in PROVIDER_KEYS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SYNTH_HOME", str(tmp_path / "synth-home"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens an internet socket: cassettes replay above the socket layer."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise NetworkAccessError(f"test tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)

    def refuse(address: object, *args: object, **kwargs: object) -> socket.socket:
        raise NetworkAccessError(f"test tried to connect to {address!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def fixtures() -> Path:
    """The folder of small hand-written corpora."""
    return FIXTURES
