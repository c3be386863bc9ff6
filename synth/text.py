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

# Words of any alphabet (Latin, Cyrillic, Greek, ...); scripts written without spaces are split apart below.
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# Han, kana and Hangul: no spaces between words, so they are indexed as overlapping character pairs.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: Snowball English, a C extension

    return Stemmer.Stemmer("english")


_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Text without terminal escape sequences, control characters or bidi overrides (line breaks kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def normalise(text: str) -> str:
    """Lowercase, strip accents and fold punctuation and whitespace: the form used to compare titles."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def words(text: str) -> list[str]:
    """Lowercased word tokens (hyphenated words kept whole); Chinese, Japanese and Korean as character pairs."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if not _CJK.search(word):
            out.append(word)
            continue
        for part in re.split(f"({_CJK.pattern})", word):
            if not part:
                continue
            if _CJK.fullmatch(part):
                out += [part[i : i + 2] for i in range(max(1, len(part) - 1))]
            else:
                out.append(part)
    return out


def terms(text: str) -> list[str]:
    """Stemmed content terms: the tokens that retrieval and similarity work on."""
    tokens: list[str] = []
    for w in words(text):
        if w in STOPWORDS or (len(w) < 2 and not _CJK.match(w)):
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
_NEXT_WORD = re.compile(r"\S{0,64}")
_LOOK = 64  # characters inspected on either side of a boundary: enough for any word, and keeps this linear


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, surviving "et al.", "e.g.", "Eq. 3", decimals and "v1.2".

    A boundary is end punctuation followed by whitespace, except after a known abbreviation, an initial
    ("J. Smith"), or an enumerator such as "(i)." and when the next token starts in lower case. Each
    boundary looks at a bounded window around it, so the time is linear in the text's length.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        window = text[max(start, m.start() - _LOOK) : m.start()]
        written = window.rsplit(None, 1)[-1].rstrip(".") if window.strip() else ""
        # An acronym in capitals ("CF", "NO", "ST") is a word, not the abbreviation "cf." or "no.".
        last = written.lower() if not (len(written) > 1 and written.isupper()) else written
        after = text[end : end + 1]
        following = _NEXT_WORD.match(text, end)
        next_word = following.group().lower().strip("\"'(") if following else ""
        initial = len(last) == 1 and last.isalpha() and next_word not in STOPWORDS  # "J. Smith", not "X. We"
        if m.group().startswith(".") and (
            last in _ABBREVIATIONS
            or initial
            or re.fullmatch(r"[a-z]\.[a-z]", last) is not None  # e.g / i.e written without final dot
        ):
            continue
        if after and (after.islower() or after.isdigit()):
            continue  # "Eq. 3", "approx. five": lower case or a number rarely starts a sentence
        spans.append(_strip_span(text, start, m.start() + len(m.group().rstrip())))
        start = end
    if text[start:].strip():
        spans.append(_strip_span(text, start, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` (see `sentence_spans`), each with its whitespace folded to single spaces."""
    return [" ".join(text[a:b].split()) for a, b in sentence_spans(text)]


def full_stop(text: str) -> str:
    """The sentence with its whitespace collapsed, ending in a full stop when it has no closing punctuation."""
    text = " ".join(text.split())
    return text if text[-1:] in ".!?" else text + "."
