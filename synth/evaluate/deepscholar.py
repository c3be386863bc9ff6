"""Import the DeepScholar-bench dataset layout into a synth suite.

Reads `papers_with_related_works.csv` (one row per query paper: arxiv_id, title, abstract, published_date,
clean_latex_related_works, ...) and `recovered_citations.csv` (one row per citation: parent_paper_arxiv_id,
citation_shorthand = the \\cite key, cited_paper_title, cited_paper_abstract, bib_paper_authors,
bib_paper_year, bib_paper_doi, cited_paper_arxiv_link, bib_paper_url, ...). Writes `queries.jsonl` and
`corpus.jsonl`: cited papers with an abstract become the corpus, each query's `\\cite{}` keys in its human
section become `[paper-id]` markers, and its gold list is the cited papers found in the corpus.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from synth.corpus import paper_id
from synth.errors import SynthError

_CITE = re.compile(r"~?\\cite[tp]?\*?(?:\[[^\]]*\]){0,2}\{([^}]*)\}")


@dataclass
class ImportStats:
    """What an import produced."""

    queries: int
    papers: int
    citations: int
    without_abstract: int
    unmapped_keys: int


def import_deepscholar(dataset: str | Path, out: str | Path) -> ImportStats:
    """Convert a DeepScholar-bench `dataset/` folder into a suite folder at `out`."""
    root = Path(dataset)
    papers_csv, citations_csv = root / "papers_with_related_works.csv", root / "recovered_citations.csv"
    for required in (papers_csv, citations_csv):
        if not required.is_file():
            raise SynthError(f"{required} not found: point at the dataset folder of DeepScholar-bench")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # related-work sections are long cells

    corpus: dict[str, dict[str, object]] = {}
    keys: dict[tuple[str, str], str] = {}  # (parent arxiv id, cite key) -> corpus id
    citations = without = 0
    with citations_csv.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            citations += 1
            title = " ".join((row.get("cited_paper_title") or row.get("original_title") or "").split())
            abstract = " ".join((row.get("cited_paper_abstract") or "").split())
            if not title or not abstract:
                without += 1
                continue
            doi = (row.get("bib_paper_doi") or "").strip() or None
            pid = paper_id(None, doi, title)
            year = re.match(r"\d{4}", row.get("bib_paper_year") or "")
            corpus.setdefault(
                pid,
                {
                    "id": pid,
                    "title": title,
                    "abstract": abstract,
                    "authors": [
                        a.strip() for a in re.split(r"\s+and\s+", row.get("bib_paper_authors") or "") if a.strip()
                    ],
                    "year": int(year.group()) if year else None,
                    "url": row.get("cited_paper_arxiv_link") or row.get("bib_paper_url") or None,
                    "doi": doi,
                    "venue": row.get("bib_paper_journal") or None,
                },
            )
            keys[(row["parent_paper_arxiv_id"], row["citation_shorthand"].strip())] = pid

    queries, unmapped = [], 0
    with papers_csv.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            arxiv = row["arxiv_id"]
            section = row.get("clean_latex_related_works") or row.get("raw_latex_related_works") or ""

            def replace(m: re.Match[str], arxiv: str = arxiv) -> str:
                nonlocal unmapped
                ids = []
                for key in (k.strip() for k in m.group(1).split(",")):
                    if (arxiv, key) in keys:
                        ids.append(keys[(arxiv, key)])
                    elif key:
                        unmapped += 1
                return "".join(f"[{i}]" for i in ids)

            text = _CITE.sub(replace, section)
            gold = sorted({pid for (parent, _), pid in keys.items() if parent == arxiv})
            queries.append(
                {
                    "id": arxiv,
                    "title": " ".join(row["title"].split()),
                    "abstract": " ".join(row["abstract"].split()),
                    "date": (row.get("published_date") or "")[:10] or None,
                    "gold": gold,
                    "related_work": text,
                }
            )
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    (target / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (target / "corpus.jsonl").write_text("".join(json.dumps(p) + "\n" for p in corpus.values()), encoding="utf-8")
    return ImportStats(len(queries), len(corpus), citations, without, unmapped)
