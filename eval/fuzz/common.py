"""Helpers the classes share: replies in synth's draft contract, citation invariants of rendered output, corpora."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

QUERY = "program synthesis from input-output examples"


def reply(*sentences: tuple[str, Any], paragraphs: int = 1) -> str:
    """A draft reply: {"paragraphs": [{"sentences": [{"text": ..., "cites": ...}, ...]}]}."""
    ss = [{"text": t, "cites": c} for t, c in sentences]
    return json.dumps({"paragraphs": [{"sentences": ss} for _ in range(paragraphs)]}, ensure_ascii=False)


VALID = reply(("Programs can be synthesized from input-output examples.", [1]), ("Neural models help search.", [2]))

# Marker look-alikes: bracket pairs in several scripts around something with a digit, and corpus-id-like tokens.
_OPEN, _CLOSE = r"\[［【〔〖⟦〚﹝⦋", r"\]］】〕〗⟧〛﹞⦌"
SUSPICIOUS = re.compile(
    rf"[{_OPEN}][^{_OPEN}{_CLOSE}\n]{{0,40}}?[\d０-９][^{_OPEN}{_CLOSE}\n]{{0,40}}?[{_CLOSE}]|\bp[0-9a-f]{{10}}\b"
)
_PROPER = re.compile(r" \[(\d+(?:, \d+)*)\]")


def split_markdown(md: str) -> tuple[str, dict[int, str]]:
    """Body and References entries ({n: text}) of synth's markdown."""
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#+\s*References\s*$", line):
            refs = {}
            for entry in lines[i + 1 :]:
                if m := re.match(r"^\[(\d+)\]\s*(.*)$", entry):
                    refs[int(m.group(1))] = m.group(2)
            return "\n".join(lines[:i]), refs
    return md, {}


def citation_problems(md: str) -> list[str]:
    """What is wrong with the citations of rendered markdown: markers without an entry, look-alike markers."""
    body, refs = split_markdown(md)
    problems = []
    numbers = [int(n) for group in _PROPER.findall(body) for n in group.split(", ")]
    missing = sorted({n for n in numbers if n not in refs})
    if missing:
        problems.append(f"markers without a References entry: {missing}")
    stripped = _PROPER.sub("", body)
    odd = sorted(set(SUSPICIOUS.findall(stripped)))
    if odd:
        problems.append(f"citation-like text rendered in the section: {odd[:8]}")
    unused = sorted(set(refs) - set(numbers))
    if unused:
        problems.append(f"References entries never cited: {unused}")
    return problems


def cited_numbers(md: str) -> list[int]:
    body, _ = split_markdown(md)
    return sorted({int(n) for group in _PROPER.findall(body) for n in group.split(", ")})


# -- corpora --------------------------------------------------------------------------------------------------

FIELDS = ("id", "title", "abstract", "authors", "year", "doi", "venue", "url", "date")


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
            if limit and len(out) >= limit:
                break
    return out


def to_jsonl(records: list[dict[str, Any]], newline: str = "\n") -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + newline for r in records)


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=1)


def to_csv(records: list[dict[str, Any]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    cols = [c for c in FIELDS if any(c in r for r in records)] or ["title", "abstract"]
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(cols)
    for r in records:
        w.writerow(["; ".join(map(str, v)) if isinstance(v := r.get(c, ""), list) else v for c in cols])
    return buf.getvalue()


def to_bib(records: list[dict[str, Any]]) -> str:
    out = []
    for i, r in enumerate(records):
        key = re.sub(r"[^A-Za-z0-9_:-]", "", str(r.get("id") or f"k{i}")) or f"k{i}"
        fields = {"title": r.get("title", ""), "abstract": r.get("abstract", "")}
        if r.get("authors"):
            a = r["authors"]
            fields["author"] = " and ".join(a) if isinstance(a, list) else str(a)
        for k in ("year", "doi", "url"):
            if r.get(k):
                fields[k] = str(r[k])
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
        out.append(f"@article{{{key},\n{body}\n}}\n")
    return "\n".join(out)


WRITERS = {"jsonl": to_jsonl, "json": to_json, "csv": to_csv, "tsv": lambda r: to_csv(r, "\t"), "bib": to_bib}


def small_corpus(n: int = 12) -> list[dict[str, Any]]:
    """A tiny, self-made, English corpus about a few topics (ids f1..fn, DOIs, years)."""
    topics = [
        ("program synthesis", "Programs are synthesized from input-output examples with neural guided search."),
        ("retrieval augmented generation", "Retrieval augmented generation grounds answers in retrieved passages."),
        ("reinforcement learning", "Reinforcement learning from human feedback aligns language models."),
        ("graph neural networks", "Graph neural networks pass messages between nodes to learn representations."),
    ]
    out = []
    for i in range(n):
        topic, sentence = topics[i % len(topics)]
        out.append({
            "id": f"f{i + 1}",
            "title": f"A study of {topic} number {i + 1}",
            "abstract": f"{sentence} This paper, the {i + 1}th on {topic}, reports experiments. Results improve on baselines.",
            "authors": [f"Author {i + 1}", "Coauthor Smith"],
            "year": 2000 + i,
            "doi": f"10.9999/fuzz.{i + 1}",
        })  # fmt: skip
    return out


def write_suite(d: Path, queries: list[str]) -> Path:
    """An eval suite folder over the sample corpus with these queries (ids q00, q01, ...)."""
    suite = d / "suite"
    suite.mkdir(parents=True, exist_ok=True)
    (suite / "queries.jsonl").write_text(
        "".join(json.dumps({"id": f"q{i:02d}", "query": q}) + "\n" for i, q in enumerate(queries))
    )
    (suite / "suite.json").write_text(json.dumps({"corpus": "sample"}))
    return suite
