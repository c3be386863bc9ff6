import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth.cli import app


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


def test_version(run) -> None:
    from synth import __version__

    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"synth {__version__}"


def test_draft_markdown_on_the_sample_corpus(run) -> None:
    result = run("draft", "program synthesis from examples")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("## Related Work") and "### References" in out
    body, refs = out.split("### References")
    cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]", body) for n in group.split(",")}
    listed = [line for line in refs.strip().splitlines() if line.startswith("[")]
    assert cited == set(range(1, len(listed) + 1))  # References lists exactly the cited papers
    assert body.count("\n\n") >= 3  # heading + at least two paragraphs
    assert "no LLM configured" in result.stderr and result.stderr.count("no LLM configured") == 1


def test_draft_json_from_query_file_and_latex_with_bib(run, tmp_path: Path, fixtures: Path) -> None:
    query = tmp_path / "abstract.txt"
    query.write_text("Neural program synthesis\nWe write programs from input-output examples.")
    out = tmp_path / "rw.json"
    result = run(
        "draft", "--query-file", str(query), "--corpus", str(fixtures / "papers.jsonl"), "-k", "3", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["query"].startswith("Neural program synthesis") and len(data["hits"]) == 3
    assert data["settings"]["retrieval"]["k"] == 3

    tex, bib = tmp_path / "rw.tex", tmp_path / "rw.bib"
    result = run(
        "draft", "search for programs", "-c", str(fixtures / "papers.jsonl"), "-o", str(tex), "--bib", str(bib)
    )
    assert result.exit_code == 0, result.output
    latex = tex.read_text()
    assert latex.startswith("\\section{Related Work}")
    cited = {key for group in re.findall(r"\\cite\{([^}]+)\}", latex) for key in group.split(",")}
    assert cited and set(re.findall(r"@\w+\{([^,]+),", bib.read_text())) == cited


def test_query_from_stdin_heading_and_quiet(run) -> None:
    result = run(
        "-q", "draft", "--heading", "Prior Work", "--heading-level", "3", "-k", "4", input="language model agents"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("### Prior Work") and result.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["draft", "x", "--corpus", "missing.jsonl"], "error: corpus file not found: missing.jsonl"),
        (["draft", "qqzzxx yyqq"], "error: no paper in sample corpus matches the query"),
        (["draft", "x", "--format", "pdf"], "error: unknown format 'pdf'"),
        (["draft", "program synthesis", "--model", "gpt-4o-mini"], "error: model gpt-4o-mini needs OPENAI_API_KEY"),
        (["draft", "x", "-k", "0"], "error: invalid setting k"),
    ],
)
def test_errors_are_one_line_and_exit_1(run, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in result.output


def test_strict_corpus(run, fixtures: Path) -> None:
    lenient = run("draft", "graph", "-c", str(fixtures / "bad.jsonl"))
    assert lenient.exit_code == 0 and "skipped 3 bad records" in lenient.stderr
    strict = run("draft", "graph", "-c", str(fixtures / "bad.jsonl"), "--strict")
    assert strict.exit_code == 1 and "bad.jsonl:2: invalid JSON" in strict.stderr


def test_corpus_stats(run, fixtures: Path) -> None:
    result = run("corpus", "stats", str(fixtures / "papers.bib"))
    assert result.exit_code == 0
    assert "papers: 2" in result.stdout and "skipped records: 2" in result.stdout
    assert "papers.bib:16: malformed BibTeX entry" in result.stdout
