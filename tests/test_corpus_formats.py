"""Reference-manager exports as corpora: CSL-JSON (Zotero, Better BibTeX, pandoc) and RIS (Mendeley, EndNote)."""

import json
import re
from pathlib import Path

import pytest

from synth import Synthesizer
from synth.corpus import load_corpus
from synth.errors import CorpusError
from synth.render import to_bibtex, to_latex

ZOTERO_KEYS = {"min2022rethinking", "yoo2022ground", "li2023unified", "liucontext", "kang2024context",
               "gao2024noise", "fei2023mitigating"}  # fmt: skip


def test_zotero_csl_json_keeps_citation_keys_and_fields(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "zotero.json")
    assert {p.id for p in corpus.papers} == ZOTERO_KEYS  # citation-key, else the CSL id ("li2023unified")
    first = corpus.by_id["min2022rethinking"]
    assert first.title.startswith("Rethinking the Role of Demonstrations")
    assert first.authors[:2] == ["Sewon Min", "Xinxi Lyu"]  # {family, given} -> "Given Family"
    assert (first.year, first.date, first.venue) == (2022, "2022", "arXiv")
    assert first.doi == "10.48550/arXiv.2202.12837" and first.url == "http://arxiv.org/abs/2202.12837v2"
    assert corpus.by_id["yoo2022ground"].authors[0] == "Kang Min Yoo"  # a {literal} name
    assert corpus.by_id["liucontext"].year is None  # no `issued`
    # The book without an abstract is skipped, located by its entry number as for plain JSON.
    assert [str(p) for p in corpus.problems] == [f"{fixtures / 'zotero.json'}:entry 8: missing abstract"]


def test_plain_synth_json_is_not_taken_for_csl(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "papers.json")
    assert [p.title for p in corpus.papers] == ["JSON Paper One"]
    assert corpus.papers[0].doi == "10.5555/ABC" and corpus.duplicates == 1


def _write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_csl_dates_and_names(tmp_path: Path) -> None:
    base = {"type": "article-journal", "abstract": "An abstract."}
    items = [
        {**base, "id": "a", "title": "A", "issued": {"date-parts": [["2021", "5"]]}},
        {**base, "id": "b", "title": "B", "issued": {"raw": "2019-11-02"}},
        {**base, "id": "c", "title": "C", "issued": {"literal": "Spring 2018"}, "container-title": ["Journal C"]},
        {
            **base,
            "id": "d",
            "title": "D",
            "author": [{"given": "Ludwig", "non-dropping-particle": "van", "family": "B"}],
        },
    ]
    corpus = load_corpus(_write(tmp_path, "lib.json", items))
    got = {p.id: (p.date, p.year) for p in corpus.papers}
    assert got == {"a": ("2021-05", 2021), "b": ("2019-11-02", 2019), "c": ("2018", 2018), "d": (None, None)}
    assert corpus.by_id["c"].venue == "Journal C"
    assert corpus.by_id["d"].authors == ["Ludwig van B"]


def test_bad_csl_items_are_reported_by_entry_number(tmp_path: Path) -> None:
    good = {"id": "ok", "type": "article", "title": "Fine", "abstract": "Fine abstract."}
    items = [
        good,
        {**good, "id": "x1", "title": "Other", "author": "Ada Lovelace"},  # a string, not a list of names
        {**good, "id": "x2", "title": "Third", "issued": {"date-parts": [["spring"]]}},
        "not an object",
    ]
    path = _write(tmp_path, "lib.json", items)
    reasons = [str(p) for p in load_corpus(path).problems]
    assert reasons == [
        f"{path}:entry 2: malformed CSL item (author is a str, not a list of names)",
        f"{path}:entry 3: malformed CSL item (issued.date-parts holds ['spring'], not numbers)",
        f"{path}:entry 4: expected an object, got str",
    ]
    with pytest.raises(CorpusError, match=r"lib\.json:entry 2: malformed CSL item"):
        load_corpus(path, strict=True)


def test_ris_export_loads_with_id_tags_as_keys(fixtures: Path) -> None:
    corpus = load_corpus(fixtures / "mendeley.ris")
    zotero = load_corpus(fixtures / "zotero.json")
    assert len(corpus) == 7 and corpus.problems == []
    # Entries with an ID tag keep it; the others get the id derived from their DOI, as any corpus would.
    assert {"min2022rethinking", "li2023unified", "kang2024context", "fei2023mitigating"} <= set(corpus.by_id)
    derived = [p for p in corpus.papers if p.id not in ZOTERO_KEYS]
    assert len(derived) == 3 and all(re.fullmatch(r"p[0-9a-f]{10}", p.id) for p in derived)
    first = corpus.by_id["min2022rethinking"]
    assert first.abstract == zotero.by_id["min2022rethinking"].abstract  # the continuation line is rejoined
    assert first.authors == zotero.by_id["min2022rethinking"].authors  # "Min, Sewon" -> "Sewon Min"
    assert (first.date, first.year, first.venue) == ("2022-01-10", 2022, "arXiv preprint")
    assert first.doi == "10.48550/arXiv.2202.12837" and first.url == "http://arxiv.org/abs/2202.12837v2"


RIS_OK = "TY  - JOUR\nTI  - {title}\nAU  - Lovelace, Ada\nAB  - An abstract about {title}.\nPY  - 2020///\nER  - \n"


def test_bad_ris_entries_are_reported_at_the_line_they_start(tmp_path: Path) -> None:
    text = "\n".join([
        "Provider: a database that writes a header",  # line 1: ignored, as reference managers do
        RIS_OK.format(title="First"),  # lines 2-7, then a blank line
        "TY  - JOUR",  # line 9: no ER before the next TY
        "TI  - Unclosed",
        RIS_OK.format(title="Third"),  # lines 11-16, blank
        "TY  - JOUR\nTI  - No abstract here\nER  - \n",  # lines 18-20, blank
        "TY  - JOUR\nTI  - Cut off",  # line 22: the file ends inside it
    ])  # fmt: skip
    path = _write(tmp_path, "refs.ris", text)
    assert text.splitlines()[8] == text.splitlines()[21] == "TY  - JOUR"
    corpus = load_corpus(path)
    assert [p.title for p in corpus.papers] == ["First", "Third"]
    assert corpus.papers[0].authors == ["Ada Lovelace"] and corpus.papers[0].date == "2020"
    assert [str(p) for p in corpus.problems] == [
        f"{path}:9: malformed RIS entry (no ER line before the next TY)",
        f"{path}:18: missing abstract",
        f"{path}:22: malformed RIS entry (the file ends before its ER line)",
    ]
    with pytest.raises(CorpusError, match=r"refs\.ris:9: malformed RIS entry"):
        load_corpus(path, strict=True)


def test_a_ris_file_without_entries_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"no RIS entries .*is it a RIS export"):
        load_corpus(_write(tmp_path, "refs.ris", "@article{key, title={BibTeX in disguise}}\n"))


@pytest.mark.parametrize("export", ["zotero.json", "mendeley.ris"])
def test_reference_manager_exports_draft_with_the_users_cite_keys(fixtures: Path, export: str) -> None:
    path = fixtures / export
    corpus = load_corpus(path)
    section = Synthesizer(corpus=path, k=5).draft("how demonstrations and noisy labels affect in-context learning")
    latex = to_latex(section)
    cited = {key for group in re.findall(r"\\cite\{([^}]*)\}", latex) for key in group.split(",")}
    assert cited, latex
    assert cited <= set(corpus.by_id)  # every \cite key is a paper id of the export, unchanged
    assert cited & ZOTERO_KEYS  # and the user's own keys are among them
    bib_keys = set(re.findall(r"^@\w+\{([^,]+),", to_bibtex(section), flags=re.M))
    assert bib_keys == cited
