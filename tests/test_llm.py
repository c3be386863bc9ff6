"""The LLM gateway: retries, backoff, cache, key hygiene, lazy and offline litellm import."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import synth.llm as llm_module
from synth.errors import LLMError
from synth.llm import LiteLLM, _retrying


def error(name: str, status: int | None = None) -> Exception:
    cls = type(name, (Exception,), {})
    e = cls(f"{name} happened")
    e.status_code = status  # type: ignore[attr-defined]
    return e


def flaky(*outcomes: object):
    queue = list(outcomes)

    def call():
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call


def test_rate_limits_and_server_errors_are_retried_with_growing_waits() -> None:
    client = LiteLLM("m", max_retries=3, backoff=1.0)
    waits: list[float] = []
    call = flaky(error("RateLimitError", 429), error("InternalServerError", 500), error("Timeout"), "ok")
    result, _ = _retrying(call, client._retry_delay, "m", sleep=waits.append)
    assert result == "ok" and len(waits) == 3
    for attempt, wait in enumerate(waits, 1):
        assert 0.5 * 2 ** (attempt - 1) <= wait <= 1.5 * 2 ** (attempt - 1)  # exponential, with jitter


def test_retries_are_bounded() -> None:
    client = LiteLLM("m", max_retries=2, backoff=0.0)
    waits: list[float] = []
    call = flaky(*[error("ServiceUnavailableError", 503)] * 3, "never")
    with pytest.raises(LLMError, match=r"m: ServiceUnavailableError"):
        _retrying(call, client._retry_delay, "m", sleep=waits.append)
    assert len(waits) == 2


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("AuthenticationError", "check the API key"),
        ("BadRequestError", "rejected the request"),
        ("NotFoundError", "check the model name"),
        ("ContextWindowExceededError", "lower --k"),
    ],
)
def test_no_retry_on_client_errors(name: str, hint: str) -> None:
    waits: list[float] = []
    with pytest.raises(LLMError, match=rf"gpt-x: {name}: .*{hint}"):
        _retrying(flaky(error(name, 400)), LiteLLM("gpt-x")._retry_delay, "gpt-x", sleep=waits.append)
    assert waits == []


class FakeLitellm:
    """Stands in for the litellm module: records calls, answers with an OpenAI-shaped response."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def completion(self, **kwargs):
        self.calls.append(kwargs)
        message = SimpleNamespace(content=f"reply {len(self.calls)}")
        usage = SimpleNamespace(prompt_tokens=11, completion_tokens=3)
        return SimpleNamespace(choices=[SimpleNamespace(message=message)], usage=usage)

    def completion_cost(self, completion_response):
        return 0.25

    def validate_environment(self, model):
        return {"keys_in_environment": True, "missing_keys": []}

    def supports_response_schema(self, model):
        return True

    def get_llm_provider(self, model):
        return model, "openai", None, None


@pytest.fixture
def fake_litellm(monkeypatch: pytest.MonkeyPatch) -> FakeLitellm:
    fake = FakeLitellm()
    monkeypatch.setattr(llm_module, "import_litellm", lambda: fake)
    return fake


MESSAGES = [{"role": "user", "content": "hello"}]


def test_identical_requests_are_served_from_the_cache(fake_litellm: FakeLitellm, tmp_path: Path) -> None:
    client = LiteLLM("gpt-x", cache_dir=tmp_path)
    first = client.complete(MESSAGES, schema={"type": "object"})
    assert (first.text, first.usage.calls, first.usage.cost_usd, first.cached) == ("reply 1", 1, 0.25, False)
    again = client.complete(MESSAGES, schema={"type": "object"})
    assert (again.text, again.cached, again.usage.cached_calls, again.usage.cost_usd) == ("reply 1", True, 1, None)
    assert len(fake_litellm.calls) == 1
    LiteLLM("gpt-x", cache_dir=tmp_path, temperature=0.7).complete(MESSAGES)  # other parameters: a new request
    LiteLLM("gpt-x", cache_dir=None).complete(MESSAGES)  # --no-cache
    assert len(fake_litellm.calls) == 3


def test_schema_mode_is_asked_for_and_local_servers_get_a_placeholder_key(fake_litellm: FakeLitellm) -> None:
    LiteLLM("gpt-x").complete(MESSAGES, schema={"type": "object"})
    assert fake_litellm.calls[0]["response_format"]["type"] == "json_schema"
    assert fake_litellm.calls[0]["max_retries"] == 0  # the SDK must not retry behind our backoff
    LiteLLM("openai/local", api_base="http://127.0.0.1:1/v1").complete(MESSAGES, schema={"type": "object"})
    call = fake_litellm.calls[1]
    assert call["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    assert call["api_key"] == llm_module.LOCAL_PLACEHOLDER_KEY and call["api_base"] == "http://127.0.0.1:1/v1"


def test_keys_are_never_logged_or_cached(
    fake_litellm: FakeLitellm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123")
    with caplog.at_level(logging.DEBUG):
        client = LiteLLM("gpt-x", cache_dir=tmp_path)
        client.complete(MESSAGES)
        client.complete(MESSAGES)
    stored = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "sk-secret" not in caplog.text and "sk-secret" not in stored
    assert json.loads(stored)["text"] == "reply 1"


def test_importing_synth_does_not_import_litellm() -> None:
    code = "import sys, synth, synth.llm, synth.draft.llm, synth.synthesizer; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_litellm_import_loads_no_dotenv_and_uses_the_local_cost_map(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SYNTH_DOTENV_PROBE=leaked\nOPENAI_API_KEY=sk-from-dotenv\n")
    code = (
        "import os, synth.llm as m; m.import_litellm(); "
        "print(os.environ.get('SYNTH_DOTENV_PROBE'), os.environ.get('OPENAI_API_KEY'), "
        "os.environ.get('LITELLM_LOCAL_MODEL_COST_MAP'))"
    )
    env = {
        k: v for k, v in __import__("os").environ.items() if k not in ("OPENAI_API_KEY", "LITELLM_LOCAL_MODEL_COST_MAP")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["None", "None", "True"]
