import json
import logging
import re
from pathlib import Path

import pytest

from synth.corpus import load_corpus, paper_id, stats
from synth.errors import CorpusError


def test_sample_corpus_ships_with_the_package() -> None:
    corpus = load_corpus()
    assert len(corpus) == 388
    assert corpus.problems == [] and corpus.duplicates == 0
    assert all(p.title and p.abstract for p in corpus.papers)


def test_jsonl_fields(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "papers.jsonl")
    first = corpus.by_id["synth1"]
    assert first.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert (first.year, first.doi) == (2019, "10.1000/synth.1")
    assert corpus.by_id["synth2"].authors == ["Edsger Dijkstra", "Barbara Liskov"]  # "A and B" string
    assert corpus.by_id["synth2"].year == 2020  # year given as a string
    assert corpus.by_id["ret3"].venue == "NeurIPS"


def test_bad_jsonl_records_are_reported_with_file_line_and_reason(fixtures: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        corpus = load_corpus(fixtures / "bad.jsonl")
    assert [p.id for p in corpus.papers] == ["ok1", "ok2"]
    reasons = [str(p) for p in corpus.problems]
    assert reasons[0].startswith(f"{fixtures / 'bad.jsonl'}:2: invalid JSON")
    assert reasons[1].endswith(":3: missing abstract")
    assert reasons[2].endswith(":4: expected a JSON object, got list")
    assert "bad.jsonl:2: invalid JSON" in caplog.text
    assert "skipped 3 bad records" in caplog.text


def test_duplicates_are_merged_and_counted(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "bad.jsonl")
    assert corpus.duplicates == 1
    # The first record wins, the duplicate fills the year it lacked.
    assert corpus.by_id["ok1"].abstract.startswith("Graph neural networks")
    assert corpus.by_id["ok1"].year == 2021


def test_strict_fails_on_the_first_bad_record(fixtures: Path) -> None:
    with pytest.raises(CorpusError, match=r"bad\.jsonl:2: invalid JSON"):
        load_corpus(fixtures / "bad.jsonl", strict=True)


def test_bibtex(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "papers.bib")
    assert [p.id for p in corpus.papers] == ["lovelace2019neural", "karpukhin2020dense"]
    first = corpus.papers[0]
    assert first.title == "Neural Program Synthesis from Input-Output Examples"  # braces removed
    assert first.authors == ["Ada Lovelace", "Alan Turing"]  # "Last, First" flipped
    assert first.venue == "Journal of Synthesis"
    problems = [str(p) for p in corpus.problems]
    assert problems[0].endswith("papers.bib:10: missing abstract")
    assert "papers.bib:16: malformed BibTeX entry" in problems[1]


def test_csv(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "papers.csv")
    assert [p.id for p in corpus.papers] == ["c1"]
    assert corpus.papers[0].abstract == "An abstract with a comma, inside quotes."
    assert corpus.papers[0].authors == ["Jane Doe", "John Roe"]
    problems = [str(p) for p in corpus.problems]
    assert problems[0].endswith("papers.csv:3: missing abstract")
    assert problems[1].endswith("papers.csv:4: 6 cells for 5 columns")


def test_json_array_with_derived_ids_and_doi_dedupe(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "papers.json")
    assert len(corpus) == 1 and corpus.duplicates == 1
    paper = corpus.papers[0]
    assert paper.doi == "10.5555/ABC"  # the resolver prefix is stripped
    assert paper.id == paper_id(None, "10.5555/abc", "anything")  # DOI-derived, case-insensitive
    assert next(str(p) for p in corpus.problems).endswith("entry 2: missing abstract")


def test_ids_are_stable_and_prefer_given_then_doi_then_title() -> None:
    assert paper_id("mine", "10.1/x", "T") == "mine"
    assert paper_id(None, "10.1/X", "T") == paper_id(None, "10.1/x", "Other title")
    assert paper_id(None, None, "A  Title!") == paper_id(None, None, "a title")
    assert paper_id(None, None, "A title") != paper_id(None, None, "Another title")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", "", "no usable abstracts"),
        ("noabs.jsonl", '{"title": "x"}\n{"title": "y"}\n', r"no usable abstracts \(2 records skipped\).*missing"),
        ("notarray.json", '{"a": 1}', "expected a JSON array"),
        ("broken.json", "[{", r"broken\.json:1: invalid JSON"),
        ("papers.txt", "x", "unknown corpus format '.txt'"),
    ],
)
def test_unusable_corpora_are_clear_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CorpusError, match=message):
        load_corpus(path)


def test_missing_file_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope.jsonl")
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps({"title": "Caf\xe9", "abstract": "x"}, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus(path)


def test_fingerprint_tracks_content(fixtures: Path, tmp_path: Path) -> None:
    original = load_corpus(fixtures / "papers.jsonl")
    copy = tmp_path / "copy.jsonl"
    copy.write_text((fixtures / "papers.jsonl").read_text())
    assert load_corpus(copy).fingerprint == original.fingerprint
    copy.write_text((fixtures / "papers.jsonl").read_text().replace("80%", "81%"))
    assert load_corpus(copy).fingerprint != original.fingerprint


def test_stats(fixtures: Path) -> None:
    lines = stats(load_corpus(fixtures / "bad.jsonl"))
    assert "papers: 2" in lines and "skipped records: 3" in lines and "duplicates merged: 1" in lines
    assert any("missing abstract" in line for line in lines)


def test_a_directory_is_not_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(tmp_path))} is a directory, not a corpus file$"):
        load_corpus(tmp_path)


def test_csv_without_an_abstract_column_names_the_columns_it_found(tmp_path: Path) -> None:
    path = tmp_path / "papers.csv"
    path.write_text("Title,Summary,Year\nA paper,Some text,2020\n")
    with pytest.raises(
        CorpusError, match=r"papers.csv: no 'abstract' column in the header \(found: 'title', 'summary', 'year'\)"
    ):
        load_corpus(path)


def test_bibtex_accents_and_author_lists_are_decoded_by_bibtexparser(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{mueller2020,\n"
        "  title = {A {S}tudy of {M}{\\\"u}ller's Method},\n"
        "  author = {M{\\\"u}ller, Hans and de la Fuente, Ana and Jos{\\'e} Garc{\\'\\i}a},\n"
        "  abstract = {We show that 50\\% of the gains come from \\emph{one} change.},\n"
        "  year = 2020\n}\n"
    )
    (paper,) = load_corpus(bib).papers
    assert paper.title == "A Study of Müller's Method"
    assert paper.authors == ["Hans Müller", "Ana de la Fuente", "José García"]
    assert paper.abstract == "We show that 50% of the gains come from one change." and paper.id == "mueller2020"


def _write(path: Path, records: list[dict], sep: str = "\n") -> Path:
    path.write_text(sep.join(json.dumps(r, ensure_ascii=False) for r in records) + sep, encoding="utf-8")
    return path


A = {"id": "x1", "title": "Graph neural networks", "abstract": "We study graphs.", "doi": "10.1/a", "year": 2020}
B = {"id": "x1", "title": "Protein folding at scale", "abstract": "We fold proteins.", "doi": "10.2/b", "year": 2023}


def test_the_same_id_on_different_papers_keeps_both_and_grafts_nothing(tmp_path: Path, caplog) -> None:
    path = _write(tmp_path / "c.jsonl", [A, B])
    with caplog.at_level(logging.WARNING):
        corpus = load_corpus(path)
    first, second = corpus.papers
    assert (first.id, first.doi, first.year) == ("x1", "10.1/a", 2020)  # nothing of B's on A
    assert (second.id, second.title, second.doi) == ("x1-2", "Protein folding at scale", "10.2/b")
    assert corpus.duplicates == 0
    assert (
        "c.jsonl:2: id 'x1' is already used by a different paper (line 1: 'Graph neural networks'); this one is kept as 'x1-2'"
        in caplog.text
    )
    with pytest.raises(CorpusError, match=r"c.jsonl:2: id 'x1' is already used by a different paper \(line 1"):
        load_corpus(path, strict=True)


def test_the_same_paper_twice_is_merged_first_wins(tmp_path: Path) -> None:
    again = {**A, "id": "other", "year": None, "venue": "ICML"}  # same DOI: the same paper
    corpus = load_corpus(_write(tmp_path / "c.jsonl", [A, again]))
    (paper,) = corpus.papers
    assert (paper.id, paper.year, paper.venue, corpus.duplicates) == ("x1", 2020, "ICML", 1)


LONG = " ".join(f"word{i}" for i in range(40))


@pytest.mark.parametrize(
    ("second", "merged"),
    [
        ({"title": "GRAPH neural networks!", "abstract": "We study graphs"}, True),  # same title and abstract
        ({"title": "Graph neural networks", "abstract": "We study trees."}, False),  # same title only
        ({"title": "Graph neural networks", "abstract": "We study graphs.", "doi": "10.9/z"}, False),  # DOIs differ
        ({"title": "A later title", "abstract": "We study graphs.", "doi": "10.1/A"}, True),  # DOI and abstract
        ({"title": "Another paper", "abstract": "We fold proteins.", "doi": "10.1/a"}, False),  # DOI only
    ],
)
def test_records_are_merged_only_when_they_describe_the_same_paper(
    tmp_path: Path, caplog, second: dict, merged: bool
) -> None:
    with caplog.at_level(logging.WARNING):
        corpus = load_corpus(_write(tmp_path / "c.jsonl", [{**A, "id": None}, {**second, "year": 2030}]))
    assert (len(corpus), corpus.duplicates) == ((1, 1) if merged else (2, 0))
    assert corpus.papers[0].year == 2020  # the first record's fields are never overwritten
    if not merged:
        assert corpus.papers[1].year == 2030 and len({p.id for p in corpus.papers}) == 2
        assert "c.jsonl:2: shares a" in caplog.text and "kept as a different paper" in caplog.text


def test_a_truncated_abstract_of_the_same_title_is_a_duplicate(tmp_path: Path) -> None:
    full = {"title": "Graph neural networks", "abstract": LONG + " and more words at the end."}
    cut = {"title": "Graph Neural Networks", "abstract": LONG + "...", "venue": "ICML"}
    corpus = load_corpus(_write(tmp_path / "c.jsonl", [full, cut]))
    (paper,) = corpus.papers
    assert paper.abstract.endswith("at the end.") and paper.venue == "ICML"


def test_titles_without_letters_do_not_make_different_papers_one(tmp_path: Path) -> None:
    records = [{"title": t, "abstract": f"zebrafish {t} abstract {i}."} for i, t in enumerate(["🧬🔬", "🚀🌕", "..."])]
    corpus = load_corpus(_write(tmp_path / "c.jsonl", records))
    assert [p.title for p in corpus.papers] == ["🧬🔬", "🚀🌕", "..."]
    assert len({p.id for p in corpus.papers}) == 3 and not any(p.id.endswith("-2") for p in corpus.papers)


@pytest.mark.parametrize("sep", ["\r", "\r\n", "\n"])
def test_jsonl_with_any_line_ending(tmp_path: Path, sep: str) -> None:
    records = [{"title": f"Paper {i}", "abstract": f"Abstract number {i}."} for i in range(5)]
    corpus = load_corpus(_write(tmp_path / "c.jsonl", records, sep))
    assert [p.title for p in corpus.papers] == [f"Paper {i}" for i in range(5)]


def test_crlf_cut_between_reads_is_one_line_break(tmp_path: Path) -> None:
    from synth.corpus import _raw_lines

    path = tmp_path / "c.jsonl"
    path.write_bytes(b"one\r\ntwo\r\nthree")
    for chunk in range(1, 8):  # every place a read can end, including between \r and \n
        assert list(_raw_lines(path, __import__("hashlib").sha256(), chunk=chunk)) == [b"one", b"two", b"three"]


def test_deep_json_and_huge_numbers_are_clear_errors_naming_the_file(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CorpusError, match=r"deep.json: JSON nested too deeply to read"):
        load_corpus(deep)
    lines = tmp_path / "c.jsonl"
    lines.write_text(
        '{"title": "T", "abstract": "A", "year": ' + "1" * 5000 + "}\n" + "[" * 100_000 + "\n" + json.dumps(A) + "\n"
    )
    with pytest.raises(CorpusError, match=r"c.jsonl:1: invalid JSON \(Exceeds the limit"):
        load_corpus(lines, strict=True)
    corpus = load_corpus(lines)
    assert [p.reason for p in corpus.problems] == [corpus.problems[0].reason, "JSON nested too deeply to read"]
    assert len(corpus.papers) == 1


def test_a_corpus_without_latin_letters_drafts(tmp_path: Path) -> None:
    from synth import Synthesizer

    records = [
        {
            "title": "Синтез программ по примерам",
            "abstract": "Мы синтезируем программы по примерам входов и выходов. Метод быстрый.",
        },
        {"title": "Машинный перевод", "abstract": "Мы переводим тексты с одного языка на другой."},
        {"title": "Σύνθεση προγραμμάτων", "abstract": "Συνθέτουμε προγράμματα από παραδείγματα."},
        {"title": "程序合成的研究", "abstract": "我们从输入输出例子合成程序。"},
    ]
    corpus = load_corpus(_write(tmp_path / "ru.jsonl", records))
    assert len(corpus.papers) == 4 and len({p.id for p in corpus.papers}) == 4  # titles no longer all equal
    section = Synthesizer(corpus=str(tmp_path / "ru.jsonl"), k=2).draft("синтез программ")
    assert section.citations and section.citations[0].paper.title == "Синтез программ по примерам"
    cjk = Synthesizer(corpus=str(tmp_path / "ru.jsonl"), k=2).search("程序合成")
    assert cjk and cjk[0].paper.title == "程序合成的研究"
