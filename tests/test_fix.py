"""`synth check --fix` and `synth.repair()`: any text repaired, written back in its own format, every change reported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import synth
from synth.cli import app

DPR = "A dual encoder embeds questions and passages into one vector space for open-domain question answering"
ENUM = "A bottom-up enumerative search with equivalence pruning finds programs consistent with a few examples"

MARKDOWN = f"""## Related Work

Some *context* first, which cites nothing at all here.
{DPR} [2]. {ENUM} [1].

### References

[1] Enumerative Search for Programming by Example.
[2] Neural Program Synthesis from Input-Output Examples.
"""


@pytest.fixture
def corpus(fixtures: Path) -> str:
    return str(fixtures / "papers.jsonl")


def test_markdown_citations_move_to_the_paper_that_supports_them(corpus, tmp_path: Path) -> None:
    path = tmp_path / "rw.md"
    path.write_text(MARKDOWN)
    fixed = synth.repair(path, corpus=corpus)
    # DPR's claim was cited to [2] (neural program synthesis): it moves to the DPR paper, a new entry [3].
    assert f"{DPR} [3]." in fixed.text and f"{ENUM} [1]." in fixed.text
    assert (
        "[3] Vladimir Karpukhin, Barlas Oguz (2020). Dense Passage Retrieval for Open-Domain Question Answering."
        in fixed.text
    )
    assert fixed.text.startswith("## Related Work\n\nSome *context* first")  # everything else untouched
    (change,) = fixed.changes
    assert (change.kind, change.papers_before, change.papers_after) == ("citation replaced", ["synth1"], ["ret1"])
    assert fixed.before.citation_precision == 0.5 and fixed.report.citation_precision == 1.0


def test_latex_keeps_its_markup_and_cite_style(corpus) -> None:
    emphasised = DPR.replace("dual", "\\emph{dual}")
    text = "\\section{Related Work}\n" + emphasised + "~\\cite{synth1}. " + ENUM + "~\\cite{synth2}.\n"
    fixed = synth.repair(text=text, corpus=corpus)
    assert "\\emph{dual}" in fixed.text and "question answering~\\cite{ret1}." in fixed.text
    assert f"{ENUM}~\\cite{{synth2}}." in fixed.text and "synth1" not in fixed.text


def test_pandoc_and_id_styles_are_kept(corpus) -> None:
    fixed = synth.repair(text=f"{DPR} [@synth1; @ret1]. {ENUM} [synth2].\n", corpus=corpus)
    assert f"{DPR} [@ret1]." in fixed.text and f"{ENUM} [synth2]." in fixed.text


def test_a_user_sentence_nothing_supports_is_kept_and_reported(corpus) -> None:
    claim = "Enumerative search settles the Riemann hypothesis through zeta-regularised hypergraph sheaves"
    fixed = synth.repair(text=f"{claim} [synth2]. {ENUM} [synth2].\n", corpus=corpus)
    assert f"{claim}. {ENUM} [synth2]." in fixed.text  # kept, without the false citation
    assert [(c.kind, c.papers_before) for c in fixed.changes] == [
        ("citation removed", ["synth2"]),
        ("left uncited", ["synth2"]),
    ]
    assert "Riemann" in fixed.changes[0].reason


def test_synth_json_is_written_back_as_json(corpus, tmp_path: Path) -> None:
    section = synth.Synthesizer(corpus=corpus, k=4, verify=False).draft("program synthesis search")
    from synth.render import to_json

    data = to_json(section)
    data["paragraphs"][0]["sentences"][0]["citations"] = ["cite1"]  # break one citation
    path = tmp_path / "rw.json"
    path.write_text(json.dumps(data))
    fixed = synth.repair(path, corpus=corpus)
    repaired = json.loads(fixed.text)
    assert repaired["paragraphs"][0]["sentences"][0]["citations"] != ["cite1"]
    assert any(c.papers_before == ["cite1"] for c in fixed.changes)


def test_cli_fix_writes_the_text_and_the_report(corpus, tmp_path: Path) -> None:
    path, out, report = tmp_path / "rw.md", tmp_path / "rw.fixed.md", tmp_path / "report.md"
    path.write_text(MARKDOWN)
    result = CliRunner().invoke(
        app, ["check", str(path), "--corpus", corpus, "--fix", "-o", str(out), "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert f"{DPR} [3]." in out.read_text()
    assert "| citation precision | 50.0% | 100.0% |" in report.read_text() and "citation replaced" in report.read_text()
    assert re.search(r"citation precision 50.0% before repair, 100.0% after; 1 changes", result.stderr)
