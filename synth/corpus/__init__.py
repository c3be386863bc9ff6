"""Read corpora (JSONL, JSON, CSL-JSON, CSV/TSV, BibTeX, RIS) into Papers, with ids, dedupe and clear errors."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from synth.corpus.csl import csl_records, is_csl
from synth.corpus.ris import ris_records
from synth.errors import CorpusError
from synth.models import Paper
from synth.text import clean_text, normalise

log = logging.getLogger(__name__)

SAMPLE_CORPUS = "sample"
"""The name that selects the sample corpus shipped inside the package."""

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".bib": "bib",
           ".ris": "ris"}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """A record that could not be used, and where it is."""

    source: str
    location: str  # "line 12" or "entry 3"
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.location.removeprefix('line ')}: {self.reason}"


@dataclass
class Corpus:
    """The usable papers of a corpus, and what was skipped or merged on the way."""

    papers: list[Paper]
    source: str
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
    digest: str | None = field(default=None, repr=False)  # hash of the file it was read from, when known

    def __post_init__(self) -> None:
        self.by_id: dict[str, Paper] = {p.id: p for p in self.papers}

    def __len__(self) -> int:
        return len(self.papers)

    @property
    def fingerprint(self) -> str:
        """A hash of the papers' content and order: the key of every index built on this corpus.

        For a corpus read from a file it is the hash of the file's bytes (cheap); indexes also record the
        synth version, so a change in how files are parsed still invalidates them.
        """
        if self.digest:
            return self.digest
        h = hashlib.sha256()
        for p in self.papers:
            h.update(p.model_dump_json().encode())
            h.update(b"\n")
        return h.hexdigest()


def paper_id(given: str | None, doi: str | None, title: str) -> str:
    """The stable id of a paper: the given id, else one derived from its DOI, else from its title."""
    if given:
        return given
    basis = f"doi:{doi.lower()}" if doi else f"title:{normalise(title) or title}"
    return "p" + hashlib.sha1(basis.encode()).hexdigest()[:10]


def load_corpus(path: str | Path | None = None, *, strict: bool = False) -> Corpus:
    """Load a corpus file; None or "sample" loads the sample corpus that ships with synth.

    Bad records are skipped with a warning naming file and line (or raise `CorpusError` when `strict`).
    The same paper read twice is merged (see `_Known`). No usable paper at all is an error.
    """
    if path is None or str(path) == SAMPLE_CORPUS:
        ref = resources.files("synth") / "data" / "seed_abstracts.jsonl"
        with resources.as_file(ref) as sample:
            return _load(sample, "jsonl", "sample corpus", strict)
    p = Path(path)
    if p.is_dir():
        raise CorpusError(f"{p} is a directory, not a corpus file")
    if not p.is_file():
        raise CorpusError(f"corpus file not found: {p}")
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise CorpusError(f"{p}: unknown corpus format {p.suffix!r}; use one of {known}")
    return _load(p, fmt, str(p), strict)


def _load(path: Path, fmt: str, name: str, strict: bool) -> Corpus:
    digest = hashlib.sha256(f"{fmt}:{strict}:".encode())
    records: Iterator[Record]
    if fmt == "jsonl":
        # Streamed line by line: a million-abstract file is never held whole, as bytes and text at once.
        records = _jsonl_lines(path, name, digest)
    else:
        raw = path.read_bytes()
        digest.update(raw)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CorpusError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from e
        records = {"json": _json, "csv": _csv, "tsv": _csv, "bib": _bib, "ris": ris_records}[fmt](text, name, fmt)
    problems: list[Problem] = []
    known = _Known(name, strict)
    for location, record in records:
        if isinstance(record, str):  # the reader could not parse this record
            problem = Problem(name, location, record)
        else:
            paper_or_reason = _to_paper(record)
            if isinstance(paper_or_reason, Paper):
                known.add(paper_or_reason, location)
                continue
            problem = Problem(name, location, paper_or_reason)
        if strict:
            raise CorpusError(str(problem))
        log.warning("skipped %s", problem)
        problems.append(problem)
    papers = known.papers
    if not papers:
        detail = f"; first problem: {problems[0]}" if problems else ""
        raise CorpusError(f"{name}: no usable abstracts ({len(problems)} records skipped){detail}")
    if problems:
        log.warning("%s: skipped %d bad records", name, len(problems))
    return Corpus(papers=papers, source=name, problems=problems, duplicates=known.duplicates, digest=digest.hexdigest())


class _Known:
    """The papers read so far: the same paper read twice is merged, different papers are kept apart.

    Two records are the same paper when they agree on title and abstract (after folding case, accents and
    punctuation; an abstract that is the start of the other counts, sources often truncate), or share a DOI
    and agree on one of the two. The first record wins and later ones only fill fields it lacks. Anything
    else is a different paper, whatever key it shares: a shared DOI or title is warned about, and a taken id
    is replaced by a new one, with a warning naming both records (`strict`: an error). Merging on a key
    alone would graft one paper's authors, year and DOI onto another, or lose it.
    """

    def __init__(self, name: str, strict: bool) -> None:
        self.name = name
        self.strict = strict
        self.papers: list[Paper] = []
        self.where: list[str] = []  # where each paper was read
        self.index: dict[str, list[int]] = {}  # "id:" / "doi:" / "title:" keys -> positions
        self.duplicates = 0

    def add(self, paper: Paper, location: str) -> None:
        doi = (paper.doi or "").lower()
        keys = [f"doi:{doi}"] if doi else []
        keys += [f"title:{_title_key(paper)}", f"id:{paper.id}"]
        sharing = list(dict.fromkeys(i for key in keys for i in self.index.get(key, [])))
        same = next((i for i in sharing if _same_paper(self.papers[i], paper)), None)
        if same is not None:
            first = self.papers[same]
            filled = {k: v for k, v in paper.model_dump().items() if v and not getattr(first, k) and k != "id"}
            self.papers[same] = first.model_copy(update=filled)
            self._remember(paper, same)
            self.duplicates += 1
            return
        taken = self.index.get(f"id:{paper.id}")
        derived = paper.id == paper_id(None, paper.doi, paper.title)
        if taken and derived:  # a DOI or title shared by two papers: the id is derived from the content too
            basis = f"paper:{_title_key(paper)}|{normalise(paper.abstract)}"
            paper = paper.model_copy(update={"id": "p" + hashlib.sha1(basis.encode()).hexdigest()[:10]})
            taken = self.index.get(f"id:{paper.id}")
        if taken:
            paper = self._renamed(paper, taken[0], location)
        for key in keys[:-1]:  # the DOI and the title: a taken id was reported above
            if self.index.get(key):
                earlier = self.index[key][0]
                log.warning(
                    "%s:%s: shares a %s with %s (%s) but not its content; kept as a different paper",
                    self.name, location.removeprefix("line "), {"doi": "DOI", "title": "title"}[key.split(":")[0]],
                    self.papers[earlier].id, self.where[earlier],
                )  # fmt: skip
                break
        self._remember(paper, len(self.papers))
        self.papers.append(paper)
        self.where.append(location)

    def _remember(self, paper: Paper, position: int) -> None:
        keys = [f"id:{paper.id}", f"title:{_title_key(paper)}"]
        keys += [f"doi:{paper.doi.lower()}"] if paper.doi else []
        for key in keys:
            positions = self.index.setdefault(key, [])
            if position not in positions:
                positions.append(position)

    def _renamed(self, paper: Paper, first: int, location: str) -> Paper:
        taken = self.papers[first]
        message = (
            f"{self.name}:{location.removeprefix('line ')}: id {paper.id!r} is already used by a different paper "
            f"({self.where[first]}: {taken.title[:60]!r})"
        )
        if self.strict:
            raise CorpusError(message)
        n = 2
        while f"id:{paper.id}-{n}" in self.index:
            n += 1
        log.warning("%s; this one is kept as %r", message, f"{paper.id}-{n}")
        return paper.model_copy(update={"id": f"{paper.id}-{n}"})


def _title_key(paper: Paper) -> str:
    """The title, folded; a title with no letters or digits (emoji, punctuation) is kept as written."""
    return normalise(paper.title) or paper.title


def _same_paper(a: Paper, b: Paper) -> bool:
    """Whether two records describe one paper (see `_Known`)."""
    doi_a, doi_b = (a.doi or "").lower(), (b.doi or "").lower()
    if doi_a and doi_b and doi_a != doi_b:
        return False
    title = _title_key(a) == _title_key(b)
    abstract_a, abstract_b = normalise(a.abstract), normalise(b.abstract)
    shorter, longer = sorted((abstract_a, abstract_b), key=len)
    # a truncated copy: the shorter is the start of the longer and long enough to tell papers apart
    abstract = abstract_a == abstract_b or (len(shorter.split()) >= 20 and longer.startswith(shorter))
    if doi_a and doi_a == doi_b:
        return title or abstract
    return title and abstract


Record = tuple[str, "dict[str, Any] | str"]


_LINE_END = re.compile(rb"\r\n|\r|\n")


def _raw_lines(path: Path, digest: Any, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The lines of a file, whatever its line endings (\\n, \\r\\n or a lone \\r); `digest` sees every byte."""
    with path.open("rb") as f:
        pending = b""
        while block := f.read(chunk):
            digest.update(block)
            pending += block
            # A final \r may be the first half of a \r\n cut by the block: it waits for the next block.
            held = pending.endswith(b"\r")
            parts = _LINE_END.split(pending[:-1] if held else pending)
            pending = parts.pop() + (b"\r" if held else b"")  # the last part may be cut too
            yield from parts
        if pending.rstrip(b"\r"):
            yield pending.rstrip(b"\r")


def _loads(text: str) -> tuple[Any, str | None]:
    """A JSON value, or the reason it cannot be read, in words (json raises three kinds of error)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"invalid JSON ({e.msg} at column {e.colno})"
    except RecursionError:
        return None, "JSON nested too deeply to read"
    except ValueError as e:  # a number too long to convert ("Exceeds the limit (4300 digits)")
        return None, f"invalid JSON ({str(e).split(';')[0][:80]})"


def _jsonl_lines(path: Path, name: str, digest: Any) -> Iterator[Record]:
    """Records of a JSONL file, read one line at a time; `digest` is fed every byte as it is read."""
    for n, raw in enumerate(_raw_lines(path, digest), 1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as e:
            raise CorpusError(f"{name}:{n}: not UTF-8 text ({e.reason} at byte {e.start})") from e
        if not line.strip():
            continue
        obj, reason = _loads(line)
        if reason is not None:
            yield f"line {n}", reason
            continue
        yield f"line {n}", obj if isinstance(obj, dict) else f"expected a JSON object, got {type(obj).__name__}"


def _json(text: str, name: str, fmt: str) -> Iterator[Record]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CorpusError(f"{name}:{e.lineno}: invalid JSON ({e.msg})") from e
    except (RecursionError, ValueError):
        reason = _loads(text)[1] if len(text) < 10_000_000 else "invalid JSON"
        raise CorpusError(f"{name}: {reason}") from None
    if isinstance(data, dict) and isinstance(data.get("papers"), list):
        data = data["papers"]
    if not isinstance(data, list):
        raise CorpusError(f"{name}: expected a JSON array of papers (or an object with a 'papers' array)")
    if is_csl(data):  # Zotero / Better BibTeX / pandoc export
        yield from csl_records(data)
        return
    for n, obj in enumerate(data, 1):
        yield f"entry {n}", obj if isinstance(obj, dict) else f"expected an object, got {type(obj).__name__}"


def _csv(text: str, name: str, fmt: str) -> Iterator[Record]:
    reader = csv.DictReader(text.splitlines(), delimiter="\t" if fmt == "tsv" else ",")
    if not reader.fieldnames:
        return
    columns = [c.strip().lower() for c in reader.fieldnames if c]
    missing = [c for c in ("title", "abstract") if c not in columns]
    if missing:
        found = ", ".join(repr(c) for c in columns) or "none"
        raise CorpusError(f"{name}: no {' or '.join(repr(m) for m in missing)} column in the header (found: {found})")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield f"line {reader.line_num}", f"malformed {fmt.upper()} ({e})"
            continue
        if None in row:  # more cells than header columns
            yield f"line {reader.line_num}", f"{len(row) - 1 + len(row[None])} cells for {len(row) - 1} columns"
            continue
        yield f"line {reader.line_num}", {k.strip().lower(): v for k, v in row.items() if k}


def _bib(text: str, name: str, fmt: str) -> Iterator[Record]:
    import bibtexparser  # imported here: only BibTeX corpora pay for it
    from bibtexparser import middlewares as mw

    logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # we report bad entries ourselves
    # bibtexparser's own middlewares: LaTeX accents and braces decoded (M{\"u}ller -> Müller), author lists
    # split on "and", each name read in any BibTeX form and written "First von Last".
    decode = [mw.LatexDecodingMiddleware(), mw.SeparateCoAuthors(), mw.SplitNameParts(), mw.MergeNameParts("first")]
    library = bibtexparser.parse_string(text, append_middleware=decode)
    blocks: list[tuple[int, Any]] = [(b.start_line or 0, b) for b in library.failed_blocks]
    blocks += [(e.start_line or 0, e) for e in library.entries]
    for start, block in sorted(blocks, key=lambda t: t[0]):
        where = f"line {start + 1}"
        entry = block if isinstance(block, bibtexparser.model.Entry) else None
        if entry is None:
            reason = str(getattr(block, "error", "")).strip().splitlines()
            yield where, f"malformed BibTeX entry ({reason[0] if reason else 'unbalanced braces or quotes'})"
            continue
        fields: dict[str, Any] = {
            k.lower(): f.value if isinstance(f.value, list) else " ".join(str(f.value).split())
            for k, f in entry.fields_dict.items()
        }
        fields.setdefault("id", entry.key)
        yield where, fields


def _to_paper(record: dict[str, Any]) -> Paper | str:
    """Build a Paper from a raw record, or say why it cannot be one."""
    title = _clean(record.get("title"))
    abstract = _clean(record.get("abstract"))
    missing = [k for k, v in (("title", title), ("abstract", abstract)) if not v]
    if missing:
        return f"missing {' and '.join(missing)}"
    doi = _clean(record.get("doi")) or None
    if doi:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi, flags=re.I)
    date = _clean(record.get("date") or record.get("published")) or None
    year = _year(record.get("year")) or _year(date)
    return Paper(
        id=paper_id(_clean(record.get("id")) or None, doi, title),
        title=title,
        abstract=abstract,
        authors=_authors(record.get("authors", record.get("author"))),
        year=year,
        date=date,
        venue=_clean(record.get("venue") or record.get("journal") or record.get("booktitle")) or None,
        url=_clean(record.get("url")) or None,
        doi=doi,
    )


def _clean(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(clean_text(str(value)).split())  # no terminal escapes: `synth search` prints these


def _year(value: Any) -> int | None:
    m = re.match(r"\s*(\d{4})", str(value)) if value else None
    return int(m.group(1)) if m else None


def _authors(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [_clean(a) for a in value if _clean(a)]
    text = _clean(value)
    separator = r"\s+and\s+|;" if (" and " in text or ";" in text) else ","
    return [_first_last(a) for a in re.split(separator, text) if a.strip()]


def _first_last(name: str) -> str:
    """ "Smith, Jane" -> "Jane Smith"; other forms unchanged."""
    name = name.strip()
    if name.count(",") == 1:
        last, first = (s.strip() for s in name.split(","))
        return f"{first} {last}".strip()
    return name


def stats(corpus: Corpus) -> list[str]:
    """Human-readable facts about a corpus: size, coverage of optional fields, what was skipped."""
    n = len(corpus)
    years = sorted(p.year for p in corpus.papers if p.year)
    lengths = sorted(len(p.abstract.split()) for p in corpus.papers)

    def share(count: int) -> str:
        return f"{count} ({100 * count / n:.0f}%)"

    lines = [
        f"corpus: {corpus.source}",
        f"papers: {n}",
        f"skipped records: {len(corpus.problems)}",
        f"duplicates merged: {corpus.duplicates}",
        f"with year: {share(len(years))}" + (f", {years[0]}-{years[-1]}" if years else ""),
        f"with authors: {share(sum(1 for p in corpus.papers if p.authors))}",
        f"with DOI or URL: {share(sum(1 for p in corpus.papers if p.doi or p.url))}",
        f"abstract words: median {lengths[n // 2]}, min {lengths[0]}, max {lengths[-1]}",
    ]
    lines += [f"  {p}" for p in corpus.problems[:20]]
    if len(corpus.problems) > 20:
        lines.append(f"  ... and {len(corpus.problems) - 20} more")
    return lines
