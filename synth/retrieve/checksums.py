"""Checksums for the files of a cached index: what fails verification is rebuilt, never trusted.

A cached index is read on every draft; a truncated, zero-length or edited file in it must not crash a run or,
worse, rank papers wrongly without a word. The writer records each file's sha256 in the index's meta; the
reader verifies them before use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def digest(path: Path) -> str:
    """sha256 of a file."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def record(folder: Path, names: list[str]) -> dict[str, str]:
    """The checksums of `names` in `folder`, for its meta."""
    return {name: digest(folder / name) for name in names}


def verify(folder: Path, expected: object) -> str | None:
    """None when every file matches its recorded checksum, else what is wrong, in a few words."""
    if not isinstance(expected, dict) or not expected:
        return "no checksums recorded"
    for name, want in expected.items():
        path = folder / str(name)
        if not path.is_file():
            return f"{name} is missing"
        if digest(path) != want:
            return f"{name} does not match its checksum"
    return None
