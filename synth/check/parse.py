"""Read a related-work text into sentences and the corpus papers each one cites.

Markers understood: numbers `[1]`, `[1, 3]`, `[1]–[4]`, `[2-5]` (and `[ 14 ]`, `［１３］`, `【13】`), corpus ids or
keys `[p0a1b2c3d4]`, pandoc `[@key; @other]`, and LaTeX `\\cite{a,b}`, `\\citep[p.~3]{a}`, `\\citet{a}`. Numbers
resolve through the document's own References list (each entry matched by title to the corpus) or, for synth's
JSON, through its ids. When a text has a References list, a key must name one of its entries: a corpus paper the
list does not hold is not a citation of this text. A marker that resolves to nothing is kept as unresolved:
reported as invalid, never silently dropped.

Each sentence keeps its span in the original text and how its markers were written, so a repaired text can be
written back in the input's own format (`synth check --fix`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from synth.corpus import Corpus
from synth.errors import SynthError
from synth.markers import strip_markers
from synth.models import Section
from synth.text import sentence_spans
from synth.titles import best_match

Kind = Literal["markdown", "latex", "json", "text"]
Style = Literal["numeric", "latex", "pandoc", "key"]


@dataclass
class CitedSentence:
    """A sentence, its text without markers, the corpus ids it cites and the markers that resolved to nothing."""

    text: str
    cited: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    span: tuple[int, int] | None = None  # where it stands in Document.source
    style: Style | None = None  # how its markers were written


@dataclass
class Document:
    """A parsed related-work text."""

    sentences: list[CitedSentence]
    retrieved: list[str] | None = None  # synth's own output knows what was retrieved
    notes: list[str] = field(default_factory=list)
    query: str | None = None  # synth's own output knows what it was written for
    kind: Kind | None = None
    source: str | None = None  # the text as read, for writing a repaired copy
    numbers: dict[int, str] = field(default_factory=dict)  # References: number -> corpus id
    references_end: int | None = None  # where a new References entry would go
    section: Section | None = None  # synth's own output, as read


_PANDOC = re.compile(r"\[(-?@[^\[\]]+)\]")
_CITE = re.compile(r"~?\\cite[tp]?\*?(?:\[[^\]]*\]){0,2}\{([^}]*)\}")
_RANGE_RUN = re.compile(r"\[\s*(\d+)\s*\]\s*[–—-]\s*\[\s*(\d+)\s*\]")  # "[1]–[4]"
_ID_BRACKET = re.compile(r"\s*\[([^\[\]\s,;]+(?:\s*[,;]\s*[^\[\]\s,;]+)*)\]")
_REFERENCES_HEADING = re.compile(r"^\s*(#+\s*|\\section\*?\{|\*\*)?\s*(references|bibliography|works cited)\b", re.I)
_REFERENCE_ENTRY = re.compile(r"^\s*\[(\d+)\]\s*(.+)$")
_LATEX_SKIP = re.compile(r"(?<!\\)%[^\n]*|\\(?:sub)*section\*?\{[^}]*\}|\\paragraph\*?\{[^}]*\}")
_HEADING_LINE = re.compile(r"^[ \t]*#[^\n]*", re.M)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")

MAX_PATH_CHARS = 1024


def read_source(
    source: str | Path | Section | dict | None, text: str | None, corpus: Corpus, kind: Kind | None = None
) -> Document:
    """A `Document` from exactly one of: a file path (str or Path), a `Section`, synth's JSON, or `text`.

    A string is always a path, never guessed to be text: text goes in `text`, so a long text cannot be
    mistaken for a missing file (or the reverse).
    """
    if (source is None) == (text is None):
        raise SynthError("give the text to check either as a file (source) or as text=..., not both or neither")
    if text is not None:
        return parse_text(text, corpus, kind)
    if isinstance(source, Section):
        return _from_section(source, corpus)
    if isinstance(source, dict):
        return _from_json(source, corpus)
    assert source is not None
    if isinstance(source, str) and ("\n" in source or len(source) > MAX_PATH_CHARS):
        raise SynthError("that looks like text, not a file name: pass it as text=...")
    path = Path(source)
    if path.is_dir():
        raise SynthError(f"{path} is a directory, not a file to check")
    if not path.is_file():
        raise SynthError(f"file not found: {path}")
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SynthError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    suffixes: dict[str, Kind] = {".json": "json", ".tex": "latex", ".md": "markdown", ".markdown": "markdown"}
    return parse_text(content, corpus, kind or suffixes.get(path.suffix.lower()))


def parse_text(text: str, corpus: Corpus, kind: Kind | None = None) -> Document:
    """Parse markdown (with a References list), LaTeX (\\cite) or synth's JSON text into a `Document`."""
    if kind == "json" or (kind is None and text.lstrip().startswith("{") and _is_json(text)):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise SynthError(f"not a synth JSON result: {e}") from None
        doc = _from_json(data, corpus)
        doc.kind = "json"
        return doc
    if kind == "latex" or (kind is None and "\\cite" in text):
        body = _LATEX_SKIP.sub(lambda m: _blank(m.group()), text)
        return _from_body(text, body, corpus, {}, "latex", None)
    body, numbers, end = _references(text, corpus)
    return _from_body(text, _HEADING_LINE.sub(lambda m: _blank(m.group()), body), corpus, numbers, "markdown", end)


def _is_json(text: str) -> bool:
    """Whether a text that opens with a brace is JSON (LaTeX can open with one too)."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _blank(text: str) -> str:
    """Spaces where `text` was (newlines kept), so offsets into the original stay valid."""
    return re.sub(r"[^\n]", " ", text)


def _from_section(section: Section, corpus: Corpus) -> Document:
    """A drafted section as a document; an id the corpus lacks (drafted from another corpus) is unresolved."""
    sentences = [
        CitedSentence(
            text=s.text,
            cited=[c for c in dict.fromkeys(s.citations) if c in corpus.by_id],
            unresolved=[c for c in dict.fromkeys(s.citations) if c not in corpus.by_id],
        )
        for p in section.paragraphs
        for s in p.sentences
    ]
    missing = {c for s in sentences for c in s.unresolved}
    notes = [f"cited ids not in {corpus.source}: {len(missing)} (was the section drafted from another corpus?)"]
    return Document(
        sentences=sentences,
        retrieved=[h.paper.id for h in section.hits] or None,
        query=section.query,
        section=section,
        notes=notes if missing else [],
    )


def _from_json(data: object, corpus: Corpus) -> Document:
    try:
        section = Section.model_validate(data)
    except ValueError as e:
        raise SynthError(f"not a synth JSON result: {str(e).splitlines()[0]}") from None
    return _from_section(section, corpus)


def _references(text: str, corpus: Corpus) -> tuple[str, dict[int, str], int | None]:
    """The text with its References block blanked, the entries resolved to corpus ids, and where the block ends."""
    offset = 0
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if _REFERENCES_HEADING.match(line):
            entries = {int(m.group(1)): m.group(2) for entry in lines[i + 1 :] if (m := _REFERENCE_ENTRY.match(entry))}
            titles = [p.title for p in corpus.papers]
            numbers = {}
            for number, entry in entries.items():
                found = best_match(entry, titles)
                if found is not None:
                    numbers[number] = corpus.papers[found].id
            end = len(text.rstrip())
            return text[:offset] + _blank(text[offset:]), numbers, end
        offset += len(line)
    return text, {}, None


def _from_body(
    source: str, body: str, corpus: Corpus, numbers: dict[int, str], kind: Kind, references_end: int | None
) -> Document:
    sentences: list[CitedSentence] = []
    listed = set(numbers.values()) if numbers else None  # with a References list, keys must be in it
    start = 0
    for brk in [*_PARAGRAPH_BREAK.finditer(body), None]:
        end = brk.start() if brk else len(body)
        for a, b in sentence_spans(body[start:end]):
            span = (start + a, start + b)
            sentences.append(_markers(source[span[0] : span[1]], corpus, numbers, listed, span, kind))
        start = brk.end() if brk else end
    notes = []
    if not numbers and any(u.isdigit() for s in sentences for u in s.unresolved):
        notes.append("the text has [n] citations but no References list to resolve them")
    return Document(
        sentences=sentences, notes=notes, kind=kind, source=source, numbers=numbers, references_end=references_end
    )


def _markers(
    raw: str, corpus: Corpus, numbers: dict[int, str], listed: set[str] | None, span: tuple[int, int], kind: Kind
) -> CitedSentence:
    cited: list[str] = []
    unresolved: list[str] = []
    styles: list[Style] = []

    def take(key: str) -> None:
        key = key.strip().lstrip("-@").strip()
        if not key:
            return
        if key.isdigit():
            (cited.append(numbers[int(key)]) if int(key) in numbers else unresolved.append(key))
        elif key in corpus.by_id and (listed is None or key in listed):
            cited.append(key)
        else:
            unresolved.append(key)

    def cite(m: re.Match[str]) -> str:
        styles.append("latex")
        for key in m.group(1).split(","):
            take(key)
        return ""

    def pandoc(m: re.Match[str]) -> str:
        styles.append("pandoc")
        for key in re.split(r"[;,]", m.group(1)):
            take(key)
        return ""

    text = _CITE.sub(cite, raw)
    text = _PANDOC.sub(pandoc, text)

    def corpus_ids(m: re.Match[str]) -> str:
        keys = [k.strip() for k in re.split(r"[,;]", m.group(1))]
        if not all(k in corpus.by_id for k in keys):
            return m.group(0)  # ordinary bracketed text ("[sic]"), not a citation
        styles.append("key")
        for key in keys:
            take(key)
        return ""

    text = _RANGE_RUN.sub(lambda m: f"[{m.group(1)}-{m.group(2)}]", text)
    text = _ID_BRACKET.sub(corpus_ids, text)  # ids of this corpus, whatever their shape ("[cite1]")
    text, contents = strip_markers(text)
    for content in contents:
        for item in (i.strip() for i in re.split(r"[,;]", content)):
            if m := re.fullmatch(r"(\d+)\s*[–—-]\s*(\d+)", item):
                lo, hi = int(m.group(1)), int(m.group(2))
                for n in range(lo, hi + 1) if 0 < hi - lo <= 50 else (lo, hi):
                    take(str(n))
                styles.append("numeric")
            else:
                take(item)
                styles.append("numeric" if item.isdigit() else "key")
    if kind == "latex":
        text = _plain_latex(text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split()))
    style: Style | None = Counter(styles).most_common(1)[0][0] if styles else None
    return CitedSentence(text=text, cited=list(dict.fromkeys(cited)), unresolved=unresolved, span=span, style=style)


def _plain_latex(text: str) -> str:
    """LaTeX markup that is not content, removed for judging: \\emph{x} -> x, ~ -> space, \\& -> &."""
    text = re.sub(r"\\(emph|textit|textbf|textsc|texttt)\{([^}]*)\}", r"\2", text)
    return text.replace("~", " ").replace("\\&", "&").replace("\\%", "%")


# -- writing a repaired text back -------------------------------------------------------------------------


def marker_span(raw: str) -> str:
    """The sentence's raw text without its citation markers (formatting kept)."""
    text = _CITE.sub("", raw)
    text = _PANDOC.sub("", text)
    text = _RANGE_RUN.sub("", text)
    text = _ID_BRACKET.sub(
        lambda m: (
            ""
            if re.fullmatch(r"[\w:.\-]+(?:\s*[,;]\s*[\w:.\-]+)*", m.group(1)) and any(c.isdigit() for c in m.group(1))
            else m.group(0)
        ),
        text,
    )
    return strip_markers(text)[0]
