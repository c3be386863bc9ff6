"""The shapes of citation markers, shared by the reply parser, the drafters, the checker and the tests.

A marker is a bracketed run whose content reads as citations: numbers (`[2]`, `[ 14 ]`, `［１３］`, `【13】`,
`[12a]`, `[-1]`, `[1, 3-5]`, runs like `[1]–[4]` or `[2][5]`), keys with letters and at least three digits
(`[pd26379a69f]`, `[arXiv:1710.08005]`, `[smith2020]`) and author-year (`[Song and Yu, ICML'21]`). Abstracts
carry them from their own papers, and models write them in reply text; left in a sentence they would read as
synth's own citations. Bracketed words without digits (`[CLS]`, `[MASK]`, `[sic]`) and intervals (`[0, 1]`,
`[-1, 1]`, `[0.5, 2]`) are text and stay.
"""

from __future__ import annotations

import re
import unicodedata

_OPEN, _CLOSE = re.escape("[［【〔"), re.escape("]］】〕")
_ONE = rf"[{_OPEN}][^{_OPEN}{_CLOSE}]{{1,80}}[{_CLOSE}]"
_MARKERS = re.compile(rf"\s*{_ONE}(?:\s*[,;–—-]?\s*{_ONE})*")  # "[1]–[4]", "[2][5]", "[3], [7]": one run
_INSIDE = re.compile(rf"[{_OPEN}]([^{_OPEN}{_CLOSE}]+)[{_CLOSE}]")
_NUMBER = r"[1-9]\d{0,3}[a-z]?"  # 1-based, no decimals: "0" or "0.5" belong to an interval
_NUMBERS = re.compile(rf"{_NUMBER}(?:\s*(?:[,;]|[–—-])\s*{_NUMBER})*")
_LONE = re.compile(r"-?\d{1,6}")  # one integer alone, even 0 or negative, is a (broken) marker, not an interval
# An id or key: letters and at least three digits ("p0a1b2c3d4", "arXiv:1710.08005", "smith2020"), not "GPT-4".
_KEY = re.compile(r"(?=(?:\S*\d){3})(?=\S*[A-Za-z])[\w:./\-]{4,40}")
_AUTHOR_YEAR = re.compile(r"^[A-Z][^\d]*(?:\bet al\b|,|\band\b|&|\s)[^\d]*(?:\b(?:19|20)\d\d[a-z]?\b|'\d\d)(?:\W.*)?$")
_PLAIN_NUMBER = re.compile(r"[1-9]\d{0,5}")


def _inside(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())  # fullwidth digits become ASCII


def _is_citation(inside: str) -> bool:
    keys = [k.strip() for k in re.split(r"[,;]", inside)]
    return bool(
        _NUMBERS.fullmatch(inside)
        or _LONE.fullmatch(inside)
        or all(_KEY.fullmatch(k) or _NUMBERS.fullmatch(k) for k in keys)
        or _AUTHOR_YEAR.match(inside)
    )


def strip_markers(text: str) -> tuple[str, list[str]]:
    """`text` without its citation markers, and the markers' contents (ASCII); other brackets are kept.

    The space before a removed marker goes with it, so "synthesis [2], which" becomes "synthesis, which".
    """
    if not re.search(rf"[{_OPEN}]", text):
        return text, []
    found: list[str] = []

    def drop(m: re.Match[str]) -> str:
        insides = [_inside(i) for i in _INSIDE.findall(m.group())]
        if not all(_is_citation(i) for i in insides):
            return m.group()
        found.extend(insides)
        return ""

    out = _MARKERS.sub(drop, text)
    return re.sub(r"\s+([.,;:!?])", r"\1", out).strip(), found


def strip_citation_markers(text: str) -> str:
    """`text` without its citation markers (see `strip_markers`)."""
    return strip_markers(text)[0]


def find_markers(text: str) -> list[str]:
    """The contents of the citation markers in `text`, in order (`"X [1, 2] and [p0a1]"` -> ["1, 2", "p0a1"])."""
    return strip_markers(text)[1]


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
        elif m := re.fullmatch(r"([1-9]\d{0,5})\s*[-–—]\s*([1-9]\d{0,5})", item):
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
