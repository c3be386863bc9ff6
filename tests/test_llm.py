"""The LLM layer: each wrapper alone, the usage meter, secret scrubbing, and the HTTP client against a real
(scripted) server on loopback: slow servers, absent servers, hostile replies, context windows."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import Answer

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
from synth.llm import complete, metering
from synth.llm.base import Reply, run_sync
from synth.llm.openai_compat import OpenAICompatible
from synth.llm.secrets import scrub
from synth.llm.wrappers import Accounted, Cached, Retrying
from synth.models import Usage
from synth.retry_after import retry_after, retry_after_from
from synth.testing import FakeLLM

MESSAGES = [{"role": "user", "content": "hello there"}]


def no_sleep():
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return waits, sleep


# -- Retrying ---------------------------------------------------------------------------------------------


def test_retryable_errors_are_retried_with_growing_waits() -> None:
    waits, sleep = no_sleep()
    inner = FakeLLM(LLMRateLimited("429"), LLMServerError("500"), LLMUnreachable("reset"), "ok")
    reply = complete(Retrying(inner, max_retries=3, backoff=1.0, sleep=sleep), MESSAGES)
    assert reply.text == "ok" and len(inner.calls) == 4 and len(waits) == 3
    for attempt, wait in enumerate(waits, 1):
        assert 0.5 * 2 ** (attempt - 1) <= wait <= 1.5 * 2 ** (attempt - 1)  # exponential, with jitter


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    waits, sleep = no_sleep()
    inner = FakeLLM(*[LLMServerError(f"failure {i}") for i in range(3)], "never")
    with pytest.raises(LLMServerError, match="failure 2"):
        complete(Retrying(inner, max_retries=2, sleep=sleep), MESSAGES)
    assert len(waits) == 2 and len(inner.calls) == 3


@pytest.mark.parametrize(
    "error",
    [
        LLMRejected("HTTP 401", fatal=True),
        LLMBadReply("no choices"),
        ContextWindowExceeded("too long"),
        LLMTimeout("local server busy", retryable=False),
    ],
)
def test_errors_that_would_repeat_are_not_retried(error: LLMError) -> None:
    waits, sleep = no_sleep()
    inner = FakeLLM(error, "never")
    with pytest.raises(type(error)):
        complete(Retrying(inner, sleep=sleep), MESSAGES)
    assert waits == [] and len(inner.calls) == 1


def test_retry_after_is_honoured_and_clamped() -> None:
    waits, sleep = no_sleep()
    inner = FakeLLM(LLMRateLimited("429", retry_after=7.0), LLMRateLimited("429", retry_after=3600.0), "ok")
    complete(Retrying(inner, sleep=sleep, max_wait=60.0), MESSAGES)
    assert waits == [7.0, 60.0]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), (" 2.5 ", 2.5), ("0", 0.0), ("nan", None), ("-3", None), ("soon", None), ("1e9", None),
     ("90", 60.0), ("1_0", None), ("\u0661\u0660", None), ("", None), (None, None)],
)  # fmt: skip
def test_retry_after_header_values(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_ms_is_read_first() -> None:
    assert retry_after_from({"retry-after-ms": "2500", "retry-after": "3"}) == 2.5
    assert retry_after_from({"retry-after-ms": "soon", "retry-after": "3"}) == 3.0
    assert retry_after_from({}) is None and retry_after_from(None) is None


# -- Cached -----------------------------------------------------------------------------------------------


def test_identical_requests_are_answered_from_the_cache(tmp_path: Path) -> None:
    inner = FakeLLM("first", "second")
    cached = Cached(inner, tmp_path)
    first = complete(cached, MESSAGES, schema={"type": "object"})
    again = complete(cached, MESSAGES, schema={"type": "object"})
    assert (first.text, first.cached, again.text, again.cached) == ("first", False, "first", True)
    assert again.usage.cached_calls == 1 and again.usage.calls == 0 and len(inner.calls) == 1
    other = complete(cached, MESSAGES, schema={"type": "object"}, max_tokens=10)  # another request
    assert other.text == "second"


@pytest.mark.parametrize(
    "poison",
    [
        "not json",
        '{"format": 2}',
        '{"format": 2, "model": "fake", "text": 5}',
        "[" * 100_000,
        '{"format": 1, "model": "fake", "text": "old"}',
    ],
)
def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path, poison: str, caplog: pytest.LogCaptureFixture) -> None:
    cached = Cached(FakeLLM("from the model"), tmp_path)
    (tmp_path / f"{cached.key(MESSAGES, {})}.json").write_text(poison)
    with caplog.at_level(logging.WARNING):
        assert complete(cached, MESSAGES).text == "from the model"


def test_a_fifo_or_a_folder_at_a_cache_path_is_a_miss(tmp_path: Path) -> None:
    cached = Cached(FakeLLM("one", "two"), tmp_path)
    path = tmp_path / f"{cached.key(MESSAGES, {})}.json"
    os.mkfifo(path)  # opening it to read would block forever
    assert complete(cached, MESSAGES).text == "one"
    path.unlink()
    path.mkdir()
    assert complete(cached, MESSAGES).text == "two"  # and storing beside it fails softly


def test_cached_text_is_cleaned_of_terminal_escapes(tmp_path: Path) -> None:
    cached = Cached(FakeLLM("unused"), tmp_path)
    entry = {"format": 2, "model": "fake", "text": "safe \x1b[2J\x1b]0;owned\x07text\x00", "finish_reason": "stop"}
    (tmp_path / f"{cached.key(MESSAGES, {})}.json").write_text(json.dumps(entry))
    assert complete(cached, MESSAGES).text == "safe text"


# -- Accounted and the meter ------------------------------------------------------------------------------


def test_every_call_is_counted_by_stage_and_meters_nest() -> None:
    llm = Accounted(FakeLLM("a", "b", "c"))
    with metering() as outer:
        complete(llm, MESSAGES, stage="expand")
        with metering() as inner:
            complete(llm, MESSAGES, stage="draft")
            complete(llm, MESSAGES, stage="draft")
    assert (outer.usage.calls, inner.usage.calls) == (3, 2)
    assert {k: v.calls for k, v in outer.usage.stages.items()} == {"expand": 1, "draft": 2}
    assert outer.usage.estimated_prompt_tokens == 3 * FakeLLM().count_tokens(MESSAGES)


def test_concurrent_meters_see_only_their_own_calls() -> None:
    llm = Accounted(FakeLLM("x", repeat=True, delay=0.05))

    async def one(n: int) -> int:
        with metering() as meter:
            for _ in range(n):
                await llm.acomplete(MESSAGES)
        return meter.usage.calls

    async def both() -> list[int]:
        return await asyncio.gather(one(1), one(3))

    assert asyncio.run(both()) == [1, 3]


def test_run_sync_works_inside_a_running_loop_and_keeps_the_meter() -> None:
    llm = Accounted(FakeLLM("x"))

    async def caller() -> tuple[str, int]:
        with metering() as meter:
            reply = run_sync(llm.acomplete(MESSAGES))  # a sync API used from async code
        return reply.text, meter.usage.calls

    assert asyncio.run(caller()) == ("x", 1)


# -- secrets ----------------------------------------------------------------------------------------------


def test_scrub_hides_keys_from_the_environment_and_bearer_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-abcdef123456")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-98765432")
    text = "bad key sk-live-abcdef123456; header Authorization: Bearer abc.def.ghi123; tok-98765432"
    assert scrub(text) == "bad key [redacted]; header Authorization: Bearer [redacted]; [redacted]"
    assert scrub("POST http://me:hunter2x@host/v1 failed") == "POST http://me:[redacted]@host/v1 failed"


def test_settings_written_to_results_hide_a_password_in_the_api_base() -> None:
    from synth.settings import Settings

    url = "http://user:pw-secret-123@127.0.0.1:9/v1?api_key=qk-secret-456&region=eu"
    public = Settings.build({"model": "openai/local", "api_base": url}).public()
    written = json.dumps(public)
    assert "pw-secret-123" not in written and "qk-secret-456" not in written
    assert public["llm"]["api_base"].startswith("http://user:[redacted]@127.0.0.1:9/v1?")
    assert "region=eu" in public["llm"]["api_base"]  # only credentials are hidden


def test_debug_logs_of_what_a_server_echoes_are_scrubbed(fake_openai, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from synth.cli import app

    monkeypatch.setenv("OPENAI_API_KEY", "sk-header-echo-778899")
    server = fake_openai(Answer(content="{}", headers={"x-echo-key": "sk-header-echo-778899"}))
    result = CliRunner().invoke(app, ["-vv", "draft", "program synthesis", "--model", "openai/local",
                                      "--api-base", server.base, "--no-cache", "--pipeline", "one-shot"])  # fmt: skip
    assert server.requests  # the server was reached, and its headers logged at debug level
    assert "x-echo-key" in result.stderr
    assert "sk-header-echo-778899" not in result.output + result.stderr


# -- the OpenAI-compatible client, against a scripted server ------------------------------------------------


def client(server, **options) -> OpenAICompatible:
    return OpenAICompatible("openai/local", api_base=server.base, **options)


def test_a_normal_reply_with_usage_and_finish_reason(fake_openai) -> None:
    server = fake_openai(Answer(content='{"a": 1}', usage={"prompt_tokens": 40, "completion_tokens": 6}))
    reply = complete(client(server), MESSAGES, schema={"type": "object"})
    assert (reply.text, reply.finish_reason, reply.usage.prompt_tokens, reply.usage.calls) == (
        '{"a": 1}',
        "stop",
        40,
        1,
    )
    sent = server.requests[0]
    assert sent["model"] == "local" and sent["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    assert "authorization" not in server.headers[0]  # a local server gets no key


def test_a_cut_reply_is_reported_as_truncated(fake_openai) -> None:
    server = fake_openai(Answer(content='{"paragraphs": [', finish_reason="length"))
    assert complete(client(server), MESSAGES).truncated


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            Answer(status=401, content="Incorrect API key"),
            LLMRejected,
            "HTTP 401: Incorrect API key .*check the API key",
        ),
        (Answer(status=404, content="model not found"), LLMRejected, "check the model name"),
        (Answer(status=422, content="unprocessable"), LLMRejected, "HTTP 422"),
        (
            Answer(status=400, content="This model's maximum context length is 4096 tokens"),
            ContextWindowExceeded,
            "does not fit",
        ),
        (Answer(choices=[]), LLMBadReply, "no choices"),
        (Answer(content=["a", "list"]), LLMBadReply, "content is a list"),
        (Answer(content=42), LLMBadReply, "content is a int"),
        (Answer(content={"a": 1}), LLMBadReply, "content is a dict"),
        (Answer(body=b"[" * 200_000), LLMBadReply, "nested too deeply"),
        (Answer(body=b"<html>gateway</html>"), LLMBadReply, "not JSON"),
        (Answer(body=b'"just a string"'), LLMBadReply, "not a chat completion"),
    ],
)
def test_replies_that_cannot_succeed_are_one_clear_error_and_not_retried(fake_openai, answer, error, message) -> None:
    server = fake_openai(answer, Answer(content="would succeed"))
    llm = Retrying(client(server), max_retries=3, sleep=no_sleep()[1])
    with pytest.raises(error, match=message):
        complete(llm, MESSAGES)
    assert len(server.requests) == 1


def test_the_window_in_a_context_error_is_read(fake_openai) -> None:
    server = fake_openai(Answer(status=400, content="Requested tokens (9000) exceed context window of 4096"))
    with pytest.raises(ContextWindowExceeded) as caught:
        complete(client(server), MESSAGES)
    assert caught.value.window == 4096  # type: ignore[attr-defined]


def test_wrong_usage_types_are_counted_as_zero_not_a_crash(fake_openai, caplog: pytest.LogCaptureFixture) -> None:
    server = fake_openai(Answer(content="fine", usage={"prompt_tokens": "many", "completion_tokens": [1]}))
    with caplog.at_level(logging.WARNING):
        reply = complete(client(server), MESSAGES)
    assert reply.text == "fine" and reply.usage.prompt_tokens == 0 and "malformed" in caplog.text


def test_rate_limit_then_success_honours_retry_after(fake_openai) -> None:
    waits, sleep = no_sleep()
    server = fake_openai(Answer(status=429, content="slow down", headers={"retry-after": "2"}), Answer(content="ok"))
    reply = complete(Retrying(client(server), sleep=sleep), MESSAGES)
    assert reply.text == "ok" and waits == [2.0] and len(server.requests) == 2


def test_a_dripping_body_cannot_outlast_the_deadline(fake_openai) -> None:
    body = json.dumps({"choices": [{"message": {"content": "x" * 50}, "finish_reason": "stop"}]}).encode()
    server = fake_openai(Answer(body=body, drip=0.2))
    llm = client(server, timeout=1.0)
    with pytest.raises(LLMTimeout, match="no complete answer from the server on this machine within 1 s"):
        complete(llm, MESSAGES)


def test_a_slow_local_server_is_told_apart_and_not_asked_again(fake_openai) -> None:
    waits, sleep = no_sleep()
    server = fake_openai(Answer(content="late", delay=1.5))
    with pytest.raises(LLMTimeout, match=r"within 0.5 s; a slow or busy server needs a longer --timeout .*not retried"):
        complete(Retrying(client(server, timeout=0.5), sleep=sleep), MESSAGES)
    assert waits == [] and len(server.requests) == 1


def test_a_refused_connection_says_the_server_is_not_there(allow_local) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    allow_local("127.0.0.1", port)
    llm = OpenAICompatible("openai/local", api_base=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(
        LLMUnreachable,
        match=rf"could not connect to http://127.0.0.1:{port}/v1 \(connection refused\); is the server running",
    ):
        complete(llm, MESSAGES)


def test_oversized_and_bomb_replies_are_refused(fake_openai) -> None:
    big = json.dumps({"choices": [{"message": {"content": "x" * 200_000}}]}).encode()
    server = fake_openai(Answer(body=big))
    with pytest.raises(LLMBadReply, match="larger than"):
        complete(client(server, max_reply_bytes=100_000), MESSAGES)
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of spaces in about 50 kB
    server = fake_openai(Answer(body=bomb, headers={"content-encoding": "gzip"}))
    with pytest.raises(LLMBadReply, match="larger than"):
        complete(client(server), MESSAGES)


def test_a_gzip_reply_within_bounds_is_read(fake_openai) -> None:
    body = gzip.compress(json.dumps({"choices": [{"message": {"content": "zipped"}}]}).encode())
    server = fake_openai(Answer(body=body, headers={"content-encoding": "gzip"}))
    assert complete(client(server), MESSAGES).text == "zipped"


def test_a_key_echoed_by_the_server_is_scrubbed(fake_openai, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-echo-secret-000111")
    server = fake_openai(Answer(status=401, content="Incorrect API key provided: sk-echo-secret-000111"))
    llm = OpenAICompatible("openai/local", api_base=server.base, api_key=os.environ["OPENAI_API_KEY"])
    with pytest.raises(LLMRejected) as caught:
        complete(llm, MESSAGES)
    assert "sk-echo-secret" not in str(caught.value) and "[redacted]" in str(caught.value)
    assert server.headers[0]["authorization"] == "Bearer sk-echo-secret-000111"  # it was sent, never shown


def test_the_context_window_is_asked_of_the_server_or_the_assumption_stated(fake_openai) -> None:
    served = fake_openai(Answer(content="x"), context_size=32768)
    window = run_sync(client(served).context_window())
    assert (window.tokens, window.source) == (32768, "server")
    silent = fake_openai(Answer(content="x"))
    window = run_sync(client(silent).context_window())
    assert (window.tokens, window.source) == (8192, "assumed")


def test_an_injected_model_is_wrapped_so_its_calls_are_counted(fixtures: Path) -> None:
    from synth import Synthesizer

    reply = {"paragraphs": [{"sentences": [{"text": "Programs are searched.", "cites": [1]}]}]}
    section = Synthesizer(corpus=str(fixtures / "papers.jsonl"), llm=FakeLLM(reply), k=2, pipeline="one-shot").draft(
        "program synthesis"
    )
    assert section.usage.calls == 1 and section.usage.stages["draft"].calls == 1


# -- import hygiene ---------------------------------------------------------------------------------------


def test_importing_synth_imports_no_litellm_or_http_client() -> None:
    code = (
        "import sys, synth, synth.llm, synth.draft.llm, synth.synthesizer, synth.cli; "
        "print(sorted({'litellm', 'httpx', 'openai', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_only_the_llm_package_imports_litellm_and_only_the_network_clients_import_httpx() -> None:
    root = Path(__file__).resolve().parents[1] / "synth"

    def importers(module: str) -> set[str]:
        return {
            p.relative_to(root).parts[0]
            for p in root.rglob("*.py")
            if f"import {module}" in p.read_text()
            or f"from {module}" in p.read_text()
            or f"'{module}'" in p.read_text()
        }

    assert importers("litellm") == {"llm"}
    assert importers("httpx") <= {"llm", "sources"}


@pytest.mark.slow
def test_litellm_import_loads_no_dotenv_and_uses_the_local_cost_map(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SYNTH_DOTENV_PROBE=leaked\nOPENAI_API_KEY=sk-from-dotenv\n")
    code = (
        "import os; from synth.llm.litellm_client import import_litellm; import_litellm(); "
        "print(os.environ.get('SYNTH_DOTENV_PROBE'), os.environ.get('OPENAI_API_KEY'), "
        "os.environ.get('LITELLM_LOCAL_MODEL_COST_MAP'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "LITELLM_LOCAL_MODEL_COST_MAP")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["None", "None", "True"]


def test_a_model_without_its_key_fails_at_once_before_any_work() -> None:
    from synth import Synthesizer

    synth = Synthesizer(model="gpt-4o-mini")
    with pytest.raises(LLMRejected, match="model gpt-4o-mini needs OPENAI_API_KEY: set it in the environment"):
        synth.draft("program synthesis")
    assert "corpus" not in synth.__dict__  # nothing was loaded, retrieved or embedded first


def test_reply_type_is_plain_data() -> None:
    assert Reply(text="x", usage=Usage(calls=1), finish_reason="length").truncated
