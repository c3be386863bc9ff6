"""Every error a user can cause is one plain sentence and an exit code, never a traceback or "unexpected"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth.cli import app

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def one_line(result, exit_code: int = 1) -> str:
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unexpected" not in lines[0] and "Traceback" not in result.output
    return lines[0]


def test_query_file_missing_or_a_directory(tmp_path: Path) -> None:
    assert (
        one_line(run("draft", "--query-file", str(tmp_path / "none.txt")))
        == f"error: query file not found: {tmp_path / 'none.txt'}"
    )
    assert (
        one_line(run("draft", "--query-file", str(tmp_path))) == f"error: {tmp_path} is a directory, not a query file"
    )


def test_output_that_is_a_directory_fails_before_any_llm_call(tmp_path: Path, fake_openai) -> None:
    from fake_openai import Answer

    server = fake_openai(Answer(content="{}"))
    line = one_line(
        run("draft", "program synthesis", "-o", str(tmp_path), "--model", "openai/local", "--api-base", server.base)
    )
    assert line == f"error: {tmp_path} is a directory; give a file name to write to"
    assert server.requests == []  # nothing was paid for


def test_corpus_that_is_a_directory(tmp_path: Path) -> None:
    assert (
        one_line(run("draft", "x", "--corpus", str(tmp_path))) == f"error: {tmp_path} is a directory, not a corpus file"
    )


def test_csv_without_an_abstract_column(tmp_path: Path) -> None:
    path = tmp_path / "papers.csv"
    path.write_text("title,summary\nA,B\n")
    line = one_line(run("draft", "x", "--corpus", str(path)))
    assert line == f"error: {path}: no 'abstract' column in the header (found: 'title', 'summary')"


@pytest.mark.parametrize(("value", "why"), [("yesterday", "is not a date"), ("2024-13-45", "is not a valid date")])
def test_invalid_dates(value: str, why: str) -> None:
    assert one_line(run("draft", "x", "--before", value)) == f"error: invalid setting before: '{value}' {why}" + (
        ": use YYYY, YYYY-MM or YYYY-MM-DD" if why == "is not a date" else ""
    )


def test_unknown_choice_is_a_usage_error_listing_the_choices() -> None:
    result = run("draft", "x", "--retriever", "tfidf")
    assert (
        result.exit_code == 2
        and "auto" in result.stderr
        and "bm25" in result.stderr
        and "Traceback" not in result.output
    )


def _subprocess(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "synth", *args], env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.mark.slow
def test_closed_stdin_and_stdout_are_one_sentence() -> None:
    empty_in = _subprocess(["draft"], stdin=subprocess.DEVNULL)  # stdin open but empty
    assert (
        empty_in.returncode == 1
        and empty_in.stderr.strip() == "error: the query is empty; give a topic, or a title and abstract"
    )
    code = (
        "import os, sys; os.close(0); os.close(1); sys.argv = ['synth', 'draft', '-f', '-']; "
        "from synth.cli import main; main()"
    )
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=False, stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    assert (
        result.returncode == 1
        and result.stderr.strip() == "error: stdin is closed; give the query as an argument or with --query-file FILE"
    )
    code = "import os, sys; os.close(1); sys.stdout = None; sys.argv = ['synth', 'draft', 'program synthesis']; from synth.cli import main; main()"
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1 and result.stderr.strip().endswith(
        "error: stdout is closed; write the output to a file with -o FILE"
    )


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shell = f"{sys.executable} -m synth -q draft 'program synthesis' -k 12 | head -c 10"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "## Related" and result.stderr == ""


def test_a_model_without_a_key_fails_fast_and_says_which_variable() -> None:
    line = one_line(run("draft", "program synthesis", "--model", "gpt-4o-mini"))
    assert line == "error: model gpt-4o-mini needs OPENAI_API_KEY: set it in the environment"


def test_eval_run_with_an_unusable_model_stops_at_once(tmp_path: Path) -> None:
    suite = ROOT / "eval" / "suites" / "sample"
    result = run("eval", "run", str(suite), "--out", str(tmp_path / "run"), "--model", "gpt-4o-mini")
    assert one_line(result) == "error: model gpt-4o-mini needs OPENAI_API_KEY: set it in the environment"
    assert not (tmp_path / "run" / "records.jsonl").exists()


def test_eval_run_stops_at_the_first_fatal_reply_and_records_nothing_for_it(tmp_path: Path, fake_openai) -> None:
    from fake_openai import Answer

    server = fake_openai(Answer(status=401, content="Incorrect API key provided"))
    suite = ROOT / "eval" / "suites" / "sample"
    result = run("eval", "run", str(suite), "--out", str(tmp_path / "run"), "--model", "openai/local",
                 "--api-base", server.base, "--no-cache", "-w", "1")  # fmt: skip
    assert "HTTP 401" in one_line(result)
    assert len(server.requests) == 1
    records = tmp_path / "run" / "records.jsonl"
    assert not records.exists() or records.read_text() == ""


def test_flags_that_do_nothing_here_say_so_once(tmp_path: Path) -> None:
    result = run("draft", "program synthesis", "--words", "400", "--style", "terse", "--bib", str(tmp_path / "x.bib"))
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes.count("note: --style, --words only apply to LLM drafting; the extractive drafter ignores them") == 1
    assert any("--bib is written only with --format latex" in n for n in notes)
    assert not (tmp_path / "x.bib").exists()


def test_help_shows_defaults_and_completion_is_available() -> None:
    help_text = run("draft", "--help").stdout
    assert "[default: 12]" in help_text and "[default: offline]" in help_text and "[default: auto]" in help_text
    for command in (["search", "--help"], ["check", "--help"], ["eval", "run", "--help"]):
        assert "--retriever" in run(*command).stdout or command[0] == "check"
    assert "--install-completion" in run("--help").stdout
    script = _subprocess(["--show-completion", "bash"])
    assert (
        script.returncode == 0
        and "_SYNTH_COMPLETE=complete_bash" in script.stdout
        and "complete -o default" in script.stdout
    )


def test_check_fail_under_exits_2_below_the_bar(tmp_path: Path, fixtures: Path) -> None:
    text = tmp_path / "rw.md"
    text.write_text(
        "## Related Work\n\nA dual encoder embeds questions and passages for open-domain question answering [1].\n"
        "Programs are synthesised from input-output examples by a neural search [2].\n\n"
        "### References\n\n[1] Dense Passage Retrieval for Open-Domain Question Answering.\n"
        "[2] Citation Verification in Generated Text.\n"  # a real paper, cited for a claim it does not make
    )
    corpus = str(fixtures / "papers.jsonl")
    passed = run("check", str(text), "--corpus", corpus, "--fail-under", "0.0")
    assert passed.exit_code == 0
    failed = run("check", str(text), "--corpus", corpus, "--fail-under", "0.99")
    assert failed.exit_code == 2 and "is below --fail-under 0.99" in failed.stderr
