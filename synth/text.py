"""Text primitives shared by retrieval, drafting and checking: terms, stems and sentences."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A compact English stopword list: function words only, so that content terms survive.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just let may me might more most
    must my no nor not now of off on once only or other our ours out over own same she should so some
    such than that the their theirs them then there these they this those through to too under until up
    upon us very via was we were what when where which while who whom why will with within without would
    you your yours""".split()
)

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: Snowball English, a C extension

    return Stemmer.Stemmer("english")


def normalise(text: str) -> str:
    """Lowercase, strip accents and fold whitespace: the form used to compare titles."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def words(text: str) -> list[str]:
    """Lowercased word tokens (hyphenated words kept whole)."""
    return _WORD.findall(text.lower())


def terms(text: str) -> list[str]:
    """Stemmed content terms: the tokens that retrieval and similarity work on."""
    tokens: list[str] = []
    for w in words(text):
        if w in STOPWORDS or len(w) < 2:
            continue
        # Split hyphenated words as well as keeping their parts, so "input-output" meets "input output".
        tokens.extend(w.replace("'", "").split("-"))
    return stem_words(tokens)


def stem_words(tokens: list[str]) -> list[str]:
    """Snowball English stems of lowercase tokens."""
    stems: list[str] = _stemmer().stemWords(tokens)
    return stems


# Tokens after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """al e.g i.e etc cf vs fig figs eq eqs sec secs tab ref refs no nos vol pp approx resp dr mr ms prof
    st jr sr inc ltd co corp dept univ ch app def thm lem prop cor ex est viz""".split()
)
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, surviving "et al.", "e.g.", "Eq. 3", decimals and "v1.2".

    A boundary is end punctuation followed by whitespace, except after a known abbreviation, an
    initial ("J. Smith"), or an enumerator such as "(i)." and when the next token starts in lower case.
    """
    text = " ".join(text.split())
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        before = text[start : m.start()].split()
        last = before[-1].lower().rstrip(".") if before else ""
        after = text[end : end + 1]
        next_word = text[end:].split(" ", 1)[0].lower().strip("\"'(")
        initial = len(last) == 1 and last.isalpha() and next_word not in STOPWORDS  # "J. Smith", not "X. We"
        if m.group().startswith(".") and (
            last in _ABBREVIATIONS
            or initial
            or re.fullmatch(r"[a-z]\.[a-z]", last) is not None  # e.g / i.e written without final dot
        ):
            continue
        if after and (after.islower() or after.isdigit()):
            continue  # "Eq. 3", "approx. five": lower case or a number rarely starts a sentence
        sentences.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


# Citation markers that abstracts carry from their own papers: "[2]", "[ 14 ]", "[1, 3-5]", "［１３］", "【13】",
# "[12a]", a corpus-id-like key "[pd26379a69f]", "[arXiv:1710.08005]", "[Song and Yu, ICML'21]". Left in a
# drafted sentence they would read as synth's own citations, pointing at unrelated papers. Bracketed words
# without digits ("[CLS]", "[MASK]", "[sic]") and intervals ("[0, 1]", "[-1, 1]", "[0.5, 2]") are text and stay.
_OPEN, _CLOSE = re.escape("[［【〔"), re.escape("]］】〕")
_ONE = rf"[{_OPEN}][^{_OPEN}{_CLOSE}]{{1,80}}[{_CLOSE}]"
_MARKERS = re.compile(rf"\s*{_ONE}(?:\s*[,;–—-]?\s*{_ONE})*")  # "[1]–[4]", "[2][5]", "[3], [7]": one run
_INSIDE = re.compile(rf"[{_OPEN}]([^{_OPEN}{_CLOSE}]+)[{_CLOSE}]")
_NUMBER = r"[1-9]\d{0,3}[a-z]?"  # 1-based, no decimals: "0" or "0.5" belong to an interval
_NUMBERS = re.compile(rf"{_NUMBER}(?:\s*(?:[,;]|[–—-])\s*{_NUMBER})*")
# An id or key: letters and at least three digits ("p0a1b2c3d4", "arXiv:1710.08005", "smith2020"), not "GPT-4".
_KEY = re.compile(r"(?=(?:\S*\d){3})(?=\S*[A-Za-z])[\w:./\-]{4,40}")
_AUTHOR_YEAR = re.compile(r"^[A-Z][^\d]*(?:\bet al\b|,|\band\b|&|\s)[^\d]*(?:\b(?:19|20)\d\d[a-z]?\b|'\d\d)(?:\W.*)?$")


def _is_citation(inside: str) -> bool:
    inside = " ".join(unicodedata.normalize("NFKC", inside).split())  # fullwidth digits become ASCII
    keys = [k.strip() for k in re.split(r"[,;]", inside)]
    return bool(
        _NUMBERS.fullmatch(inside)
        or all(_KEY.fullmatch(k) or _NUMBERS.fullmatch(k) for k in keys)
        or _AUTHOR_YEAR.match(inside)
    )


def strip_citation_markers(text: str) -> str:
    """Remove bracketed citation markers an abstract carries ("[2]", "［１３］", "[p0a1b2c3d4]"), keep other brackets.

    The space before a removed marker goes with it, so "synthesis [2], which" becomes "synthesis, which".
    """
    if not re.search(rf"[{_OPEN}]", text):
        return text

    def drop(m: re.Match[str]) -> str:
        return "" if all(_is_citation(i) for i in _INSIDE.findall(m.group())) else m.group()

    out = _MARKERS.sub(drop, text)
    return re.sub(r"\s+([.,;:!?])", r"\1", out).strip()
