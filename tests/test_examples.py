"""Every example script runs and prints what it promises."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == {"quickstart.py", "own_corpus_latex.py"}


def test_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.startswith("## Related Work") and "### References" in out and "[8]" in out


def test_own_corpus_latex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["own_corpus_latex.py", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "own_corpus_latex.py"), run_name="__main__")
    tex = (tmp_path / "related_work.tex").read_text()
    bib = (tmp_path / "related_work.bib").read_text()
    cited = {key for keys in re.findall(r"\\cite\{([^}]+)\}", tex) for key in keys.split(",")}
    assert "dijkstra2020enumerative" in cited
    assert set(re.findall(r"@\w+\{([^,]+),", bib)) == cited  # exactly the cited papers
    assert "wrote" in capsys.readouterr().out


def test_sample_corpus_link_points_at_the_shipped_file() -> None:
    assert (EXAMPLES / "sample_corpus.jsonl").resolve() == (
        EXAMPLES.parent / "synth/data/seed_abstracts.jsonl"
    ).resolve()


def test_the_readme_python_example_runs_as_written(tmp_path: Path, monkeypatch) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["section"].citations and namespace["report"].citation_precision is not None
    assert namespace["fixed"].text.startswith("Dense retrieval embeds passages")
