"""`synth check --fix` and `synth.repair()`: verify and repair any related-work text, written back in its own format.

The repair engine (`repair.py`) decides; this module writes. Only the sentences that changed are rewritten, in
place, with their citations in the style the text already uses (numbers and a References list, `\\cite{}`,
pandoc `[@key]`, `[id]`); every other character of the input stays as it was. A paper the text did not cite
before gets a new References entry. synth's own JSON is written back as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from synth.check.parse import Document, Style, marker_span
from synth.corpus import Corpus
from synth.models import Change, GroundingReport, Paragraph, Sentence, Verification
from synth.render import reference, to_json


@dataclass
class Repair:
    """A repaired text, every change made, and the grounding reports before and after."""

    text: str
    changes: list[Change]
    report: GroundingReport
    before: GroundingReport
    verification: Verification | None = None


def candidates(doc: Document, corpus: Corpus) -> list[str]:
    """The papers a failed citation may move to besides those retrieval finds for its sentence: the ones the
    text cites or lists, or that synth retrieved for it."""
    ids = [c for s in doc.sentences for c in s.cited]
    ids += list(doc.numbers.values())
    ids += doc.retrieved or []
    return [pid for pid in dict.fromkeys(ids) if pid in corpus.by_id]


def write_back(doc: Document, repaired: list[Sentence | None], corpus: Corpus) -> str:
    """The document with its repaired sentences, in the format it was read in."""
    if doc.section is not None:
        return _section(doc, repaired)
    assert doc.source is not None, "a text document keeps its source"
    source = doc.source
    numbers = {pid: n for n, pid in sorted(doc.numbers.items(), reverse=True)}  # id -> its lowest number
    added: list[str] = []
    default = _dominant(doc)
    edits: list[tuple[tuple[int, int], str]] = []
    for old, new in zip(doc.sentences, repaired, strict=True):
        if old.span is None:
            continue
        if new is None:
            edits.append((old.span, ""))
            continue
        if new.text == old.text and new.citations == old.cited and not old.unresolved:
            continue
        raw = source[old.span[0] : old.span[1]]
        body = marker_span(raw) if new.text == old.text else new.text
        style = old.style or default
        for pid in new.citations:
            if style == "numeric" and pid not in numbers:
                numbers[pid] = max(numbers.values(), default=0) + 1
                added.append(pid)
        edits.append((old.span, _place(body, _marker(new.citations, style, numbers))))
    text = source
    for (a, b), replacement in sorted(edits, reverse=True):
        text = text[:a] + replacement + text[b:]
    if added:
        entries = "".join(f"\n[{numbers[pid]}] {reference(corpus.by_id[pid])}" for pid in added)
        end = _references_end(doc, text, source)
        text = text[:end] + entries + text[end:]
    return text


def _references_end(doc: Document, text: str, source: str) -> int:
    """Where new References entries go in the edited text: after the last entry (edits only precede it)."""
    if doc.references_end is None:
        return len(text.rstrip())
    return doc.references_end + (len(text) - len(source))


def _dominant(doc: Document) -> Style:
    styles = [s.style for s in doc.sentences if s.style]
    if styles:
        return max(set(styles), key=styles.count)
    return "latex" if doc.kind == "latex" else ("numeric" if doc.numbers else "key")


def _marker(ids: list[str], style: Style, numbers: dict[str, int]) -> str:
    if not ids:
        return ""
    if style == "latex":
        return "~\\cite{" + ",".join(ids) + "}"
    if style == "pandoc":
        return "[" + "; ".join(f"@{i}" for i in ids) + "]"
    if style == "numeric":
        return "[" + ", ".join(str(n) for n in sorted({numbers[i] for i in ids})) + "]"
    return "[" + "; ".join(ids) + "]"


def _place(body: str, marker: str) -> str:
    """The marker before the sentence's closing punctuation: "... shown [1]." or "... shown~\\cite{a}."."""
    body = body.rstrip()
    if not marker:
        return body
    m = re.search(r"[.!?]+[\"')\]]*$", body)
    cut = m.start() if m else len(body)
    glue = "" if marker.startswith("~") else " "
    return f"{body[:cut].rstrip()}{glue}{marker}{body[cut:]}"


def _section(doc: Document, repaired: list[Sentence | None]) -> str:
    assert doc.section is not None
    section = doc.section
    it = iter(repaired)
    paragraphs = []
    for paragraph in section.paragraphs:
        kept = [s for s in (next(it) for _ in paragraph.sentences) if s is not None]
        if kept:
            paragraphs.append(Paragraph(sentences=kept, theme=paragraph.theme))
    fixed = section.model_copy(update={"paragraphs": paragraphs})
    if doc.kind == "json":
        return json.dumps(to_json(fixed), indent=2, ensure_ascii=False) + "\n"
    return fixed.markdown
