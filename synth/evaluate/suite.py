"""Evaluation suites: a folder with `queries.jsonl` and a corpus."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import SynthError


@dataclass
class Query:
    """One query of a suite."""

    id: str
    text: str
    gold: list[str] = field(default_factory=list)
    exemplar: str | None = None  # a human-written section, when the suite has one
    before: str | None = None  # cutoff date (YYYY-MM-DD)


@dataclass
class Suite:
    """A folder with `queries.jsonl` and a corpus (`corpus.jsonl`, or `suite.json` naming one)."""

    path: Path
    queries: list[Query]
    corpus: str

    @classmethod
    def load(cls, path: str | Path) -> Suite:
        """Read a suite folder; a malformed query line is an error naming file and line."""
        root = Path(path)
        file = root / "queries.jsonl"
        if not file.is_file():
            raise SynthError(f"{root} is not a suite: {file} is missing")
        queries = []
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                queries.append(_query(json.loads(line)))
            except (ValueError, KeyError, TypeError) as e:
                raise SynthError(f"{file}:{n}: {e}") from e
        ids = [q.id for q in queries]
        if len(set(ids)) != len(ids):
            raise SynthError(f"{file}: query ids must be unique")
        corpus = root / "corpus.jsonl"
        config = root / "suite.json"
        if config.is_file():
            named = str(json.loads(config.read_text(encoding="utf-8")).get("corpus", ""))
            corpus_name = named if named == "sample" else str((root / named).resolve())
        elif corpus.is_file():
            corpus_name = str(corpus)
        else:
            raise SynthError(f"{root} has no corpus.jsonl and no suite.json naming a corpus")
        return cls(path=root, queries=queries, corpus=corpus_name)


def _query(data: dict[str, Any]) -> Query:
    text = data.get("query") or "\n".join(x for x in (data.get("title"), data.get("abstract")) if x)
    if not text or "id" not in data:
        raise ValueError("a query needs an id and a query (or a title and abstract)")
    gold = data.get("gold") or []
    if isinstance(gold, str):  # some exports store the list as its repr
        gold = json.loads(gold.replace("'", '"'))
    return Query(
        id=str(data["id"]),
        text=text,
        gold=[str(g) for g in gold],
        exemplar=data.get("related_work"),
        before=data.get("before") or data.get("date"),
    )
