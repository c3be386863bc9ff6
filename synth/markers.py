"""The shapes of citation markers, shared by the reply parser, the checker, the drafters and the tests.

A bracketed marker is any of `[...]`, `［...］` (fullwidth), `【...】`, `〔...〕` whose content looks like
citations: numbers (`14`, ` 14 `, `１３`, `12a`, `-1`), ranges and lists (`1-3`, `2, 5`), or keys with letters
and digits (`pd26379a69f`, `smith2021`). Bracketed words (`[CLS]`, `[MASK]`, `[sic]`) are not markers.
"""

from __future__ import annotations

import re

_OPEN, _CLOSE = "[［【〔", "]］】〕"
_ITEM = r"(?:-?\d+[a-z]?|\d+\s*[-–]\s*\d+|@?[a-z][\w:.\-]*\d[\w:.\-]*)"
_MARKER = re.compile(rf"\s*[{re.escape(_OPEN)}]\s*({_ITEM}(?:\s*[,;]\s*{_ITEM})*)\s*[{re.escape(_CLOSE)}]")
_PLAIN_NUMBER = re.compile(r"[1-9]\d{0,5}")


_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _fold(text: str) -> str:
    """Fullwidth ASCII as ASCII, so `［１３］` reads like `[13]`; nothing else changes (NFKC would fold "x²")."""
    return text.translate(_FULLWIDTH)


def find_markers(text: str) -> list[str]:
    """The contents of the citation markers in `text`, in order (`"X [1, 2] and [p0a1]"` -> ["1, 2", "p0a1"])."""
    return [m.group(1) for m in _MARKER.finditer(_fold(text))]


def strip_markers(text: str) -> tuple[str, list[str]]:
    """`text` without its citation markers, and their contents; spacing before punctuation is repaired."""
    folded = _fold(text)
    found = [m.group(1) for m in _MARKER.finditer(folded)]
    if not found:
        return text, []
    cleaned = _MARKER.sub("", folded)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(cleaned.split()))
    return cleaned, found


def source_numbers(content: str) -> tuple[list[int], list[str]]:
    """The source numbers in a marker's content, and the items that are not plain source numbers.

    Only plain positive integers count ("3"); ranges are expanded when short ("1-3"); "12a", "-1", "1.5"
    and keys are rejected, never coerced into numbers.
    """
    numbers: list[int] = []
    rejected: list[str] = []
    for item in re.split(r"\s*[,;]\s*", content.strip()):
        if _PLAIN_NUMBER.fullmatch(item):
            numbers.append(int(item))
        elif m := re.fullmatch(r"([1-9]\d{0,5})\s*[-–]\s*([1-9]\d{0,5})", item):
            lo, hi = int(m.group(1)), int(m.group(2))
            if 0 < hi - lo <= 20:
                numbers.extend(range(lo, hi + 1))
            else:
                rejected.append(item)
        elif item:
            rejected.append(item)
    return numbers, rejected


def plain_number(value: object) -> int | None:
    """`value` as a source number when it is a plain positive integer (3 or "3"); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return None
