import json
import re

import pytest

from synth.corpus import load_corpus
from synth.models import Hit, Paper, Paragraph, Section, Sentence
from synth.render import cite_keys, latex_escape, reference, render, to_bibtex, to_latex


def _paper(pid: str, **kw) -> Paper:
    return Paper(**{"id": pid, "title": f"Title {pid}", "abstract": f"Abstract {pid}.", **kw})


@pytest.fixture
def section() -> Section:
    papers = [
        _paper("a", authors=["Ada Lovelace"], year=2019, doi="10.1/a"),
        _paper("b", url="https://b.example"),
        _paper("c_1 x"),
        _paper("unused"),
    ]
    hits = [Hit(paper=p, score=1.0 / (i + 1), rank=i + 1) for i, p in enumerate(papers)]
    paragraphs = [
        Paragraph(sentences=[Sentence(text="B says 50% & more.", citations=["b"]),
                             Sentence(text="A and B agree!", citations=["a", "b", "a"])]),
        Paragraph(sentences=[Sentence(text="C is quoted \"here.\"", citations=["c_1 x"]),
                             Sentence(text="A ghost cites nothing.", citations=["not-retrieved"])]),
    ]  # fmt: skip
    return Section(query="q", paragraphs=paragraphs, hits=hits, heading="Background", heading_level=2)


def test_markdown_numbers_by_first_appearance_and_lists_exactly_the_cited(section: Section) -> None:
    md = section.markdown
    assert md.startswith("## Background\n")
    assert "B says 50% & more [1]. A and B agree [1, 2]!" in md
    assert "A ghost cites nothing." in md and "nothing [" not in md  # unknown ids are never rendered
    refs = md.split("### References")[1].strip().splitlines()
    assert refs == [
        "[1] Title b. https://b.example",
        "[2] Ada Lovelace (2019). Title a. https://doi.org/10.1/a",
        "[3] Title c_1 x.",
    ]


def test_marker_goes_before_closing_punctuation(section: Section) -> None:
    assert 'C is quoted "here [3]."' in section.markdown


def test_json_has_everything(section: Section) -> None:
    data = json.loads(render(section, "json"))
    assert data["query"] == "q" and len(data["hits"]) == 4 and data["hits"][0]["score"] == 1.0
    assert data["citations"] == [{"number": 1, "id": "b"}, {"number": 2, "id": "a"}, {"number": 3, "id": "c_1 x"}]
    flags = [s["uncited"] for p in data["paragraphs"] for s in p["sentences"]]
    assert flags == [False, False, False, True]
    assert data["markdown"] == section.markdown


def test_latex_and_bib_cite_exactly_the_cited(section: Section) -> None:
    tex = to_latex(section)
    assert tex.startswith("\\section{Background}")
    assert r"B says 50\% \& more~\cite{b}." in tex
    assert r"A and B agree~\cite{a,b}!" in tex  # the sentence's own order, duplicates dropped
    assert r"\cite{c_1_x}" in tex
    bib = to_bibtex(section)
    keys = re.findall(r"@\w+\{([^,]+),", bib)
    assert keys == ["b", "a", "c_1_x"]
    assert "doi = {10.1/a}" in bib and "author = {Ada Lovelace}" in bib


def test_cite_keys_are_valid_and_unique() -> None:
    keys = cite_keys([_paper("a b"), _paper("a_b"), _paper("é")])
    assert list(keys.values()) == ["a_b", "a_b_2", "_"]


def test_latex_escape_keeps_math_and_commands_and_escapes_the_rest() -> None:
    assert (
        latex_escape("50% of $x_1$ {ok} ~ ^ \\")
        == r"50\% of $x_1$ \{ok\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert latex_escape(r"costs $5 and $10, a \emph{new} \frac{1}{2} bound & 3_a") == (
        r"costs \$5 and \$10, a \emph{new} \frac{1}{2} bound \& 3\_a"
    )


def test_reference_forms() -> None:
    many = _paper("m", authors=[f"A{i} B" for i in range(8)], year=2020, venue="ACL")
    assert reference(many).endswith("A5 B, et al. (2020). Title m. *ACL*.")
    assert reference(_paper("y", year=2021)) == "Title y (2021)."


def test_bibtex_of_a_real_corpus_parses_back() -> None:
    import bibtexparser

    papers = load_corpus().papers[:5]
    hits = [Hit(paper=p, score=1, rank=i + 1) for i, p in enumerate(papers)]
    section = Section(query="q", hits=hits, paragraphs=[Paragraph(sentences=[
        Sentence(text="x.", citations=[p.id]) for p in papers])])  # fmt: skip
    library = bibtexparser.parse_string(to_bibtex(section))
    assert [e.key for e in library.entries] == [p.id for p in papers] and not library.failed_blocks


def test_bibtex_output_is_written_by_bibtexparser_and_reads_back() -> None:
    import bibtexparser

    from synth.models import Citation, Hit, Paper, Paragraph, Section, Sentence
    from synth.render import to_bibtex

    paper = Paper(
        id="mueller2020",
        title="Müller's method: 50% & more",
        abstract="We show $O(n^2)$ time & café-level gains {sic}.",
        authors=["Hans Müller", "Ana de la Fuente"],
        year=2020,
        venue="NeurIPS",
    )
    section = Section(query="q", paragraphs=[Paragraph(sentences=[Sentence(text="A claim.", citations=[paper.id])])],
                      hits=[Hit(paper=paper, score=1, rank=1)])  # fmt: skip
    assert [c.number for c in section.citations] == [1] and isinstance(section.citations[0], Citation)
    text = to_bibtex(section)
    assert '\\"uller' in text and "50\\%" in text and "\\&" in text and "$O(n^2)$" in text  # encoded, math kept
    entry = bibtexparser.parse_string(text).entries[0]
    assert (entry.key, entry.entry_type) == ("mueller2020", "article") and entry["year"] == "2020"
