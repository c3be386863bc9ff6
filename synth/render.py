"""Render a Section as markdown, JSON, or LaTeX with a BibTeX file of exactly the cited papers."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from synth._version import __version__
from synth.models import Paper, Section, Sentence

Format = Literal["markdown", "json", "latex"]

MAX_AUTHORS = 6


def render(section: Section, fmt: Format) -> str:
    """The section in the given format."""
    if fmt == "markdown":
        return to_markdown(section)
    if fmt == "json":
        return json.dumps(to_json(section), indent=2, ensure_ascii=False) + "\n"
    if fmt == "latex":
        return to_latex(section)
    raise ValueError(f"unknown format {fmt!r}")


def _with_marker(text: str, marker: str) -> str:
    """Put a citation marker before the sentence's final punctuation: "... shown [1]."."""
    if not marker:
        return text
    m = re.search(r"[.!?]+[\"')\]]*$", text)
    cut = m.start() if m else len(text)
    return f"{text[:cut]} {marker}{text[cut:]}"


def to_markdown(section: Section) -> str:
    """Markdown: paragraphs with [n] markers numbered by first appearance, then a References list."""
    numbers = {c.paper.id: c.number for c in section.citations}
    level = "#" * section.heading_level
    out = [f"{level} {section.heading}", ""]
    for paragraph in section.paragraphs:
        out += [" ".join(_with_marker(s.text, _numbers_marker(s, numbers)) for s in paragraph.sentences), ""]
    if numbers:
        out += [f"{'#' * min(6, section.heading_level + 1)} References", ""]
        out += [f"[{c.number}] {reference(c.paper)}" for c in section.citations]
        out.append("")
    return "\n".join(out)


def _numbers_marker(sentence: Sentence, numbers: dict[str, int]) -> str:
    cited = sorted({numbers[p] for p in sentence.citations if p in numbers})
    return f"[{', '.join(map(str, cited))}]" if cited else ""


def reference(paper: Paper) -> str:
    """One References entry: "Authors (year). Title. *Venue*. DOI or URL" (parts left out when unknown)."""
    title = paper.title.rstrip(".")
    if paper.authors:
        names = ", ".join(paper.authors[:MAX_AUTHORS]) + (", et al." if len(paper.authors) > MAX_AUTHORS else "")
        parts = [f"{names} ({paper.year})." if paper.year else f"{names}.", f"{title}."]
    else:
        parts = [f"{title} ({paper.year})." if paper.year else f"{title}."]
    if paper.venue:
        parts.append(f"*{paper.venue}*.")
    if paper.doi:
        parts.append(f"https://doi.org/{paper.doi}")
    elif paper.url:
        parts.append(paper.url)
    return " ".join(parts)


def to_json(section: Section) -> dict[str, Any]:
    """Everything: query, hits with scores, paragraphs with cited ids and numbers, settings, timings."""
    numbers = {c.paper.id: c.number for c in section.citations}
    data = section.model_dump(mode="json")
    for paragraph in data["paragraphs"]:
        for sentence in paragraph["sentences"]:
            sentence["numbers"] = [numbers[p] for p in sentence["citations"] if p in numbers]
            sentence["uncited"] = not sentence["numbers"]
    data["citations"] = [{"number": c.number, "id": c.paper.id} for c in section.citations]
    data["markdown"] = to_markdown(section)
    data["synth_version"] = __version__
    return data


# -- LaTeX and BibTeX ------------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIAL))


# LaTeX already in the text, kept as written: math ($...$, \(...\)) and commands with their brace arguments
# (\emph{x}, \frac{1}{2}). Models and abstracts write them; escaping them would print "\textbackslash{}times".
_LATEX_KEPT = re.compile(
    r"(?<![\\$])\$(?!\s)[^$\n]{1,300}?(?<![\s\\])\$(?!\$)"  # inline math
    r"|\\\(.{1,300}?\\\)"  # \( ... \)
    r"|\\[A-Za-z]+\*?(?:\[[^\]\n]{0,60}\])?(?:\{[^{}\n]{0,200}\})*"  # \command[opt]{arg}{arg}
)


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters so text prints as written, keeping math and commands it holds."""
    out, last = [], 0
    for m in _LATEX_KEPT.finditer(text):
        out.append(_LATEX_RE.sub(lambda c: _LATEX_SPECIAL[c.group()], text[last : m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_LATEX_RE.sub(lambda c: _LATEX_SPECIAL[c.group()], text[last:]))
    return "".join(out)


def cite_keys(papers: list[Paper]) -> dict[str, str]:
    """A valid, unique BibTeX key for each paper id (the id itself when it is already valid)."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for p in papers:
        base = re.sub(r"[^A-Za-z0-9_:.\-]", "_", p.id) or "paper"
        key, n = base, 1
        while key in used:
            n += 1
            key = f"{base}_{n}"
        keys[p.id] = key
        used.add(key)
    return keys


def to_latex(section: Section) -> str:
    """LaTeX: a \\section (markdown level 1-2) or \\subsection with \\cite{key} before each full stop."""
    cited = [c.paper for c in section.citations]
    keys = cite_keys(cited)
    command = {1: "section", 2: "section", 3: "subsection"}.get(section.heading_level, "subsubsection")
    out = [f"\\{command}{{{latex_escape(section.heading)}}}", ""]
    for paragraph in section.paragraphs:
        sentences = []
        for s in paragraph.sentences:
            ids = [p for p in dict.fromkeys(s.citations) if p in keys]
            marker = f"~\\cite{{{','.join(keys[p] for p in ids)}}}" if ids else ""
            text = _with_marker(latex_escape(s.text), "\0")  # placeholder keeps the escaped text intact
            sentences.append(text.replace(" \0", marker))
        out += [" ".join(sentences), ""]
    return "\n".join(out)


def to_bibtex(section: Section) -> str:
    """BibTeX entries for exactly the papers the section cites, keyed as in `to_latex`, written by bibtexparser.

    Text is LaTeX-encoded (accents, %, &) with math kept as written.
    """
    import bibtexparser
    from bibtexparser import middlewares as mw
    from bibtexparser.model import Entry, Field

    cited = [c.paper for c in section.citations]
    keys = cite_keys(cited)
    library = bibtexparser.Library()
    for p in cited:
        values = {
            "title": p.title,
            "author": " and ".join(p.authors),
            "year": str(p.year or ""),
            "journal": p.venue or "",
            "doi": p.doi or "",
            "url": p.url or "",
            "abstract": p.abstract,
        }
        fields = [Field(k, v) for k, v in values.items() if v]
        library.add(Entry("article" if p.venue else "misc", keys[p.id], fields))
    encode = [mw.LatexEncodingMiddleware(keep_math=True, enclose_urls=False)]
    return str(bibtexparser.write_string(library, prepend_middleware=encode))
