"""Read a related-work text into sentences and the corpus papers each one cites.

Markers understood: `[1]`, `[1, 3]`, `[1]–[4]`, `[2-5]`, `[p0a1b2c3d4]` (a corpus id), pandoc `[@key; @other]`,
and LaTeX `\\cite{a,b}`, `\\citep[p.~3]{a}`, `\\citet{a}`. Numbers resolve through the document's own
References list (each entry matched by title to the corpus) or, for synth's JSON, through its ids.
A marker that resolves to no corpus paper is kept as unresolved: reported, never silently dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

from synth.corpus import Corpus
from synth.errors import SynthError
from synth.models import Section
from synth.text import normalise, split_sentences

Kind = Literal["markdown", "latex", "json", "text"]


@dataclass
class CitedSentence:
    """A sentence, its text without markers, the corpus ids it cites and the markers that resolved to nothing."""

    text: str
    cited: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


@dataclass
class Document:
    """A parsed related-work text."""

    sentences: list[CitedSentence]
    retrieved: list[str] | None = None  # synth's own output knows what was retrieved
    notes: list[str] = field(default_factory=list)
    query: str | None = None  # synth's own output knows what it was written for


_NUMERIC = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\](?:\s*[–-]\s*\[(\d+)\])?")
_BRACKET = re.compile(r"\[([^\[\]\s,;]+(?:\s*[,;]\s*[^\[\]\s,;]+)*)\]")
_PANDOC = re.compile(r"\[(-?@[^\[\]]+)\]")
_CITE = re.compile(r"~?\\cite[tp]?\*?(?:\[[^\]]*\]){0,2}\{([^}]*)\}")
_KEY_LIKE = re.compile(r"(?=.*[A-Za-z])(?=.*\d)[\w:.\-]+")  # "smith2021", "p0a1b2c3d4": letters and digits
_REFERENCES_HEADING = re.compile(r"^\s*(#+\s*|\\section\*?\{|\*\*)?\s*(references|bibliography|works cited)\b", re.I)
_REFERENCE_ENTRY = re.compile(r"^\s*\[(\d+)\]\s*(.+)$")


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
        return _from_section(source)
    if isinstance(source, dict):
        return _from_json(source)
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
    if kind == "json" or (kind is None and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise SynthError(f"not a synth JSON result: {e}") from None
        return _from_json(data)
    if kind == "latex" or (kind is None and "\\cite" in text):
        return _from_text(_strip_latex(text), corpus, {})
    body, references = _split_references(text)
    return _from_text(body, corpus, _resolve_references(references, corpus))


def _from_section(section: Section) -> Document:
    sentences = [
        CitedSentence(text=s.text, cited=list(dict.fromkeys(s.citations)))
        for p in section.paragraphs
        for s in p.sentences
    ]
    return Document(sentences=sentences, retrieved=[h.paper.id for h in section.hits] or None, query=section.query)


def _from_json(data: object) -> Document:
    try:
        return _from_section(Section.model_validate(data))
    except ValueError as e:
        raise SynthError(f"not a synth JSON result: {str(e).splitlines()[0]}") from None


def _split_references(text: str) -> tuple[str, dict[int, str]]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _REFERENCES_HEADING.match(line):
            entries = {}
            for entry in lines[i + 1 :]:
                if m := _REFERENCE_ENTRY.match(entry):
                    entries[int(m.group(1))] = m.group(2)
            return "\n".join(lines[:i]), entries
    return text, {}


def _resolve_references(entries: dict[int, str], corpus: Corpus) -> dict[int, str]:
    """Match each References entry to a corpus paper by its title; unmatched numbers stay unresolved."""
    titles = [(normalise(p.title), p.id) for p in corpus.papers]
    resolved = {}
    for number, entry in entries.items():
        norm = normalise(entry)
        found = next((pid for title, pid in titles if title and title in norm), None)
        if found is None and titles:  # a slightly different title: the closest one, if close enough
            ratios = ((SequenceMatcher(None, t, norm[: len(t) + 40]).ratio(), pid) for t, pid in titles)
            score, pid = max(ratios, key=lambda r: r[0])  # ties: the first in corpus order, as before
            found = pid if score >= 0.85 else None
        if found is not None:
            resolved[number] = found
    return resolved


def _strip_latex(text: str) -> str:
    text = re.sub(r"(?<!\\)%.*", "", text)  # comments
    text = re.sub(r"\\(sub)*section\*?\{[^}]*\}|\\paragraph\{[^}]*\}", "\n\n", text)
    text = re.sub(r"\\(emph|textit|textbf|textsc|texttt)\{([^}]*)\}", r"\2", text)
    return text.replace("~", " ").replace("\\&", "&").replace("\\%", "%")


def _from_text(body: str, corpus: Corpus, numbered: dict[int, str]) -> Document:
    sentences: list[CitedSentence] = []
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip() and not p.lstrip().startswith("#")]
    for paragraph in paragraphs:
        for raw in split_sentences(paragraph):
            sentences.append(_markers(raw, corpus, numbered))
    notes = []
    if not numbered and any(u.isdigit() for s in sentences for u in s.unresolved):
        notes.append("the text has [n] citations but no References list to resolve them")
    return Document(sentences=sentences, notes=notes)


def _markers(raw: str, corpus: Corpus, numbered: dict[int, str]) -> CitedSentence:
    cited: list[str] = []
    unresolved: list[str] = []

    def take(key: str) -> None:
        key = key.strip().lstrip("-@").strip()
        if not key:
            return
        if key in corpus.by_id:
            cited.append(key)
        elif key.isdigit() and int(key) in numbered:
            cited.append(numbered[int(key)])
        else:
            unresolved.append(key)

    def cite(m: re.Match[str]) -> str:
        for key in m.group(1).split(","):
            take(key)
        return ""

    def numeric(m: re.Match[str]) -> str:
        numbers = _expand(m.group(1))
        if m.group(2):  # "[1]–[4]"
            numbers = list(range(numbers[-1], int(m.group(2)) + 1)) if numbers else []
        for n in numbers:
            take(str(n))
        return ""

    def pandoc(m: re.Match[str]) -> str:
        for key in re.split(r"[;,]", m.group(1)):
            take(key)
        return ""

    def bracket(m: re.Match[str]) -> str:
        keys = [k.strip() for k in re.split(r"[,;]", m.group(1))]
        if not any(k in corpus.by_id or _KEY_LIKE.fullmatch(k) for k in keys):
            return m.group(0)  # ordinary bracketed text ("[sic]"), not a citation
        for key in keys:
            take(key)
        return ""

    text = _CITE.sub(cite, raw)
    text = _PANDOC.sub(pandoc, text)
    text = _NUMERIC.sub(numeric, text)
    text = _BRACKET.sub(bracket, text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split()))
    return CitedSentence(text=text, cited=list(dict.fromkeys(cited)), unresolved=unresolved)


def _expand(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        if m := re.fullmatch(r"(\d+)\s*[–-]\s*(\d+)", part):
            lo, hi = int(m.group(1)), int(m.group(2))
            numbers += list(range(lo, hi + 1)) if 0 < hi - lo <= 50 else [lo, hi]
        elif part.isdigit():
            numbers.append(int(part))
    return numbers
