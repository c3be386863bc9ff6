import subprocess
import sys
from pathlib import Path

import pytest

import synth
from synth import Synthesizer
from synth.errors import LLMError, SettingsError, SynthError
from synth.models import Hit, Paragraph, Section, Sentence


def test_all_matches_public_names() -> None:
    import types

    defined = {n for n, v in vars(synth).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    public = (defined | set(synth._LAZY) | {"__version__"}) - {"annotations", "TYPE_CHECKING", "Any"}
    assert sorted(synth.__all__) == synth.__all__
    assert set(synth.__all__) == public
    for name in synth.__all__:
        assert getattr(synth, name) is not None


def test_draft_on_a_corpus_file(fixtures: Path) -> None:
    s = Synthesizer(corpus=str(fixtures / "papers.jsonl"), k=5)
    section = s.draft("language models for program synthesis and question answering")
    assert len(section.hits) == 5 and section.hits[0].rank == 1
    assert {c.paper.id for c in section.citations} <= {h.paper.id for h in section.hits}
    assert "[1]" in section.markdown and "References" in section.markdown
    assert section.settings["retrieval"]["k"] == 5 and "retrieval_s" in section.timings


def test_module_level_draft_uses_the_sample_corpus() -> None:
    section = synth.draft("program synthesis from examples", k=4)
    assert len(section.hits) == 4 and section.sentences


def test_stages_can_be_injected(fixtures: Path) -> None:
    class OneHit:
        def search(self, query: str, k: int) -> list[Hit]:
            corpus = synth.load_corpus(fixtures / "papers.jsonl")
            return [Hit(paper=corpus.papers[0], score=1.0, rank=1)]

    class Echo:
        name = "echo"

        async def adraft(self, query: str, hits: list[Hit]) -> Section:
            return Section(
                query=query, paragraphs=[Paragraph(sentences=[Sentence(text=query, citations=[hits[0].paper.id])])]
            )

    section = Synthesizer(retriever=OneHit(), drafter=Echo(), verify=False).draft("hello there")
    assert section.drafter == "echo" and section.markdown.count("[1]") == 2  # text and reference list


def test_errors() -> None:
    with pytest.raises(SynthError, match="query is empty"):
        Synthesizer().draft("   ")
    with pytest.raises(SynthError, match="no paper in sample corpus matches"):
        Synthesizer().draft("qqqzzz xxyyq")
    with pytest.raises(LLMError, match="model gpt-4o-mini needs OPENAI_API_KEY: set it in the environment"):
        Synthesizer(model="gpt-4o-mini").draft("program synthesis")
    with pytest.raises(SettingsError, match="--drafter llm needs a model"):
        Synthesizer(drafter="llm").draft("program synthesis")


def test_import_is_light() -> None:
    code = "import sys, synth.cli; bad = {'litellm', 'torch', 'bm25s', 'scipy', 'numpy', 'jinja2'} & set(sys.modules); print(sorted(bad))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_stage_packages_do_not_shadow_the_functions() -> None:
    import synth.check.metrics
    import synth.draft.extractive

    assert callable(synth.draft) and callable(synth.check)
    assert synth.draft.__module__ == "synth" and synth.check.__module__ == "synth"
