"""A cached index that fails verification is rebuilt with a notice, never trusted; old indexes can be pruned."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from synth import Synthesizer
from synth.cli import app
from synth.retrieve.index import entries, prune

QUERY = "program synthesis from examples"


def _index_folder(home: Path) -> Path:
    (folder,) = [p for p in (home / "indexes").iterdir() if p.name.startswith("bm25-")]
    return folder


def _ranking(home: Path) -> list[str]:
    return [h.paper.id for h in Synthesizer(k=10, home=home).search(QUERY)]


def _corruptions() -> dict[str, object]:
    def zero(folder: Path) -> None:
        (folder / "data.npy").write_bytes(b"")

    def truncate(folder: Path) -> None:
        path = folder / "indices.npy"
        path.write_bytes(path.read_bytes()[:-16])

    def scale_scores(folder: Path) -> None:  # a valid array with other values: wrong rankings, silently
        data = np.load(folder / "data.npy")
        np.save(folder / "data.npy", data[::-1].copy())

    def vocab(folder: Path) -> None:
        words = json.loads((folder / "vocab.json").read_text())
        (folder / "vocab.json").write_text(json.dumps(dict(zip(words, reversed(list(words.values())), strict=True))))

    def meta(folder: Path) -> None:
        (folder / "meta.json").write_text("{not json")

    def checksum_removed(folder: Path) -> None:
        saved = json.loads((folder / "meta.json").read_text())
        saved.pop("sha256")
        (folder / "meta.json").write_text(json.dumps(saved))

    def num_docs(folder: Path) -> None:  # meta.json holds the checksums: nothing else vouches for this
        saved = json.loads((folder / "meta.json").read_text())
        (folder / "meta.json").write_text(json.dumps({**saved, "num_docs": 10**12}))

    return {f.__name__: f for f in (zero, truncate, scale_scores, vocab, meta, checksum_removed, num_docs)}


@pytest.mark.parametrize("damage", list(_corruptions()))
def test_a_damaged_index_is_rebuilt_with_a_notice_and_ranks_as_before(tmp_path: Path, damage: str, caplog) -> None:
    home = tmp_path / "home"
    before = _ranking(home)
    _corruptions()[damage](_index_folder(home))  # type: ignore[operator]
    with caplog.at_level(logging.INFO):
        after = _ranking(home)
    assert after == before
    assert "rebuilding" in caplog.text
    assert _ranking(home) == before  # and the rebuilt index is sound


def test_prune_by_size_and_age_keeps_the_most_recently_used(tmp_path: Path) -> None:
    folder = tmp_path / "indexes"
    for i, age_days in enumerate((40, 20, 1)):
        path = folder / f"bm25-{i}"
        path.mkdir(parents=True)
        (path / "meta.json").write_text("{}")
        (path / "data.npy").write_bytes(b"x" * 1000)
        old = time.time() - age_days * 86400
        for f in path.iterdir():
            os.utime(f, (old, old))
    assert [e.path.name for e in entries(folder)] == ["bm25-0", "bm25-1", "bm25-2"]
    assert [e.path.name for e in prune(folder, older_than_days=30)] == ["bm25-0"]
    assert [e.path.name for e in prune(folder, max_bytes=1500)] == ["bm25-1"]
    assert [e.path.name for e in entries(folder)] == ["bm25-2"]


def test_cli_prune(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ranking(home)
    result = CliRunner().invoke(app, ["index", "prune", "--max-size", "0MB", "--home", str(home)])
    assert result.exit_code == 0 and "pruned 1 indexes" in result.stdout
    bad = CliRunner().invoke(app, ["index", "prune", "--max-size", "lots", "--home", str(home)])
    assert bad.exit_code == 1 and "is not a size" in bad.stderr
