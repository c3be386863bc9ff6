"""The LLM path on real recorded HTTP: exchanges with a llama.cpp server (Gemma 3 270M) on loopback.

Replayed with record mode "none": a request that is not in the cassette fails the test. How to re-record:
tests/README.md. The model is tiny, so its prose is poor; these tests check that the pipeline is right.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth import Synthesizer
from synth.cli import app
from synth.errors import LLMError

BASE = "http://127.0.0.1:8081/{}/v1"  # tests/record/proxy.py in front of the model server
QUERY = "program synthesis from input-output examples"


def synthesizer(behaviour: str, k: int = 4) -> Synthesizer:
    return Synthesizer(model="openai/local", api_base=BASE.format(behaviour), k=k)


def test_cli_draft_against_a_local_model(cassette, tmp_path: Path) -> None:
    out = tmp_path / "rw.json"
    args = ["draft", QUERY, "--model", "openai/local", "--api-base", BASE.format("ok"), "-k", "4", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["drafter"] == "llm" and data["usage"]["calls"] == 1 and data["usage"]["prompt_tokens"] > 500
    body, _, refs = data["markdown"].partition("### References")
    cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]", body) for n in group.split(",")}
    listed = re.findall(r"^\[(\d+)\]", refs, flags=re.M)
    assert cited and cited == {int(n) for n in listed}  # valid citations only, References complete
    retrieved = {h["paper"]["id"] for h in data["hits"]}
    assert {c["id"] for c in data["citations"]} <= retrieved
    assert len(cassette.requests) == 1


def test_citation_to_a_missing_source_is_removed_and_counted(cassette) -> None:
    section = synthesizer("ok", k=1).draft(QUERY)  # one source shown; the model also cites [2]
    assert any(i.startswith("removed 1 citations to sources that do not exist: [2]") for i in section.issues)
    assert {c for s in section.sentences for c in s.citations} == {section.hits[0].paper.id}
    assert "[2]" not in section.markdown


def test_prose_reply_is_retried_once_with_the_error(cassette) -> None:
    section = synthesizer("prose-once").draft(QUERY)
    assert section.usage.calls == 2 and len(cassette.requests) == 2
    assert any(i.startswith("first reply was invalid and retried") for i in section.issues)
    retry = json.loads(cassette.requests[1].body)["messages"]
    assert retry[-1]["content"].startswith("That reply was not valid:")
    assert retry[-2]["role"] == "assistant"  # the bad reply is shown back to the model
    assert section.citations


def test_rate_limit_is_retried(cassette, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        section = synthesizer("ratelimit-once").draft(QUERY)
    assert [r["status"]["code"] for r in cassette.responses] == [429, 200]
    assert "RateLimitError" in caplog.text and "retry 1" in caplog.text
    assert section.usage.calls == 1 and section.citations


def test_auth_error_is_one_clear_error_and_not_retried(cassette) -> None:
    with pytest.raises(LLMError, match=r"openai/local: AuthenticationError: .*check the API key"):
        synthesizer("auth-fail").draft(QUERY)
    assert len(cassette.requests) == 1


def test_cassettes_hold_no_credentials() -> None:
    for path in (Path(__file__).parent / "cassettes").rglob("*.yaml"):
        text = path.read_text().lower()
        assert "authorization" not in text and "sk-no-key" not in text and "api-key" not in text, path


def test_llm_judge_against_a_local_model(cassette, fixtures: Path) -> None:
    import synth

    corpus = synth.load_corpus(fixtures / "papers.jsonl")
    text = "A dual encoder embeds questions and passages into one vector space for question answering [ret1]."
    report = synth.check(text, corpus, judge="llm", model="openai/local", api_base=BASE.format("ok"), window=0)
    (sentence,) = report.sentences
    assert report.judge == "llm" and sentence.cited == ["ret1"]
    verdict = sentence.citations[0]
    assert verdict.score in (0.0, 1.0) and verdict.supported == (verdict.score == 1.0)
    assert report.citation_precision == verdict.score
    # One question for the citation alone, one for the sentence's citations together (the same here: cached).
    assert len(cassette.requests) == 1
