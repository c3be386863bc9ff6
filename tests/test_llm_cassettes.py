"""The LLM path on real recorded HTTP: exchanges with a llama.cpp server (Qwen2.5-Coder-1.5B) on loopback.

Replayed with record mode "none": a request that is not in the cassette fails the test. How to re-record:
tests/README.md. The model is small, so its prose is modest; these tests check that the pipeline is right.
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
from synth.draft.reply import citations, parse_reply
from synth.errors import LLMError

BASE = "http://127.0.0.1:8081/{}/v1"  # tests/record/proxy.py in front of the model server
QUERY = "program synthesis from input-output examples"


def synthesizer(behaviour: str, k: int = 4) -> Synthesizer:
    return Synthesizer(model="openai/local", api_base=BASE.format(behaviour), k=k, pipeline="one-shot", words=150)


def test_cli_draft_against_a_local_model(cassette, tmp_path: Path) -> None:
    out = tmp_path / "rw.json"
    args = ["draft", QUERY, "--model", "openai/local", "--api-base", BASE.format("ok"), "-k", "4", "-o", str(out),
            "--pipeline", "one-shot", "--words", "150"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["drafter"] == "one-shot" and data["usage"]["calls"] == 1 and data["usage"]["prompt_tokens"] > 500
    # synth's own token estimate travels beside the server's count
    assert 0.7 < data["usage"]["estimated_prompt_tokens"] / data["usage"]["prompt_tokens"] < 1.4
    body, _, refs = data["markdown"].partition("### References")
    cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]", body) for n in group.split(",")}
    listed = re.findall(r"^\[(\d+)\]", refs, flags=re.M)
    assert cited and cited == {int(n) for n in listed}  # valid citations only, References complete
    retrieved = {h["paper"]["id"] for h in data["hits"]}
    assert {c["id"] for c in data["citations"]} <= retrieved
    assert [r.method for r in cassette.requests].count("POST") == 1


def test_citations_the_model_made_up_never_reach_the_section(cassette) -> None:
    section = synthesizer("ok", k=2).draft(QUERY)  # two sources shown
    bodies = [r["body"]["string"] for r in cassette.responses]
    reply = next(json.loads(b) for b in bodies if b"choices" in (b if isinstance(b, bytes) else b.encode()))
    raw = parse_reply(reply["choices"][0]["message"]["content"]).reply
    wrote = [n for p in raw.paragraphs for s in p.sentences for n in citations(s, sources=2)[1].out_of_range]
    removed = next((i for i in section.issues if i.startswith("removed") and "do not exist" in i), None)
    # What the real model did decides which branch is exercised; the invariant holds either way.
    assert (removed is None) == (not wrote)
    if wrote:
        assert removed.startswith(f"removed {len(wrote)} citations to sources that do not exist")
    assert {c for s in section.sentences for c in s.citations} <= {h.paper.id for h in section.hits}
    assert "[3]" not in section.markdown.split("### References")[0]


def test_prose_reply_is_retried_once_with_the_error(cassette) -> None:
    section = synthesizer("prose-once").draft(QUERY)
    posts = [r for r in cassette.requests if r.method == "POST"]
    assert section.usage.stages["draft"].calls == 2 and len(posts) == section.usage.calls
    assert any(i.startswith("first reply was invalid and asked again") for i in section.issues)
    retry = json.loads(posts[1].body)["messages"]
    assert retry[-1]["content"].startswith("That reply was not valid:")
    assert retry[-2]["role"] == "assistant"  # the bad reply is shown back to the model
    assert section.citations


def test_rate_limit_is_retried(cassette, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        section = synthesizer("ratelimit-once").draft(QUERY)
    posts = [resp for req, resp in zip(cassette.requests, cassette.responses, strict=True) if req.method == "POST"]
    assert [r["status"]["code"] for r in posts] == [429, 200]
    assert "HTTP 429" in caplog.text and "retry 1" in caplog.text
    assert section.usage.calls == 1 and section.citations


def test_auth_error_is_one_clear_error_and_not_retried(cassette) -> None:
    with pytest.raises(LLMError, match=r"openai/local: HTTP 401: Incorrect API key provided.*check the API key"):
        synthesizer("auth-fail").draft(QUERY)
    assert [r.method for r in cassette.requests].count("POST") == 1


def test_cassettes_hold_no_credentials() -> None:
    for path in (Path(__file__).parent / "cassettes").rglob("*.yaml"):
        text = path.read_text().lower()
        assert "authorization" not in text and "sk-no-key" not in text and "api-key" not in text, path


def test_llm_judge_against_a_local_model(cassette, fixtures: Path) -> None:
    import synth

    corpus = synth.load_corpus(fixtures / "papers.jsonl")
    text = "A dual encoder embeds questions and passages into one vector space for question answering [ret1]."
    report = synth.check(
        text=text, corpus=corpus, judge="llm", model="openai/local", api_base=BASE.format("ok"), window=0
    )
    (sentence,) = report.sentences
    assert report.judge == "llm" and sentence.cited == ["ret1"]
    verdict = sentence.citations[0]
    assert verdict.score in (0.0, 1.0) and verdict.supported == (verdict.score == 1.0)
    assert report.citation_precision == verdict.score
    # One question for the citation alone, one for the sentence's citations together (the same here: asked once).
    assert len(cassette.requests) == 1 and report.usage.calls == 1


def test_staged_pipeline_against_a_local_model(cassette) -> None:
    synth = Synthesizer(model="openai/local", api_base=BASE.format("ok"), k=4, pool=6, words=150)
    section = synth.draft(QUERY)  # staged is the default pipeline with a model
    posts = [r for r in cassette.requests if r.method == "POST"]
    assert section.drafter == "staged" and len(posts) == section.usage.calls
    # every stage asked the model: one filter question per candidate, then evidence, outline, paragraphs
    stages = section.usage.stages
    assert stages["filter"].calls == 6 and {"evidence", "outline", "write"} <= set(stages)
    assert {"filter_s", "evidence_s", "outline_s", "write_s", "verify_s"} <= set(section.timings)
    hits = {h.paper.id for h in section.hits}
    cited = {c for s in section.sentences for c in s.citations}
    assert cited and cited <= hits and len(cited) <= 4
    # what reaches the user was verified: each citation it keeps is supported or was repaired to one that is
    kept = [v for v in section.verdicts if v.status != "removed"]
    assert kept and all(v.status in ("supported", "repaired") for v in kept)
    assert {(v.sentence, v.paper) for v in kept} == {
        (i, c) for i, s in enumerate(section.sentences) for c in s.citations
    }
    refs = section.markdown.partition("### References")[2]
    assert len(re.findall(r"^\[(\d+)\]", refs, flags=re.M)) == len(cited)
