"""2. Duplicate ids (and DOIs, titles) with different content: are records merged and fields grafted?

Each corpus mixes a first record, a second one that collides with it on one key (same id, same DOI, same
normalised title) but has other content, and bystanders. `synth search --format json` over a word every
abstract holds lists what synth kept. The oracle: every paper synth returns must be one input record, field
for field (no DOI, year, venue, authors or URL taken from another record); a record that collides with no
other must be there; two records with different ids and different DOIs are two papers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import WRITERS
from ..core import CaseResult, Observed

CLS = "c02"
TITLE = "Duplicate ids with different content"
WORD = "zebrafish"
OPTIONAL = ("doi", "year", "venue", "authors", "url", "date")


def _rec(i: int, **kw: Any) -> dict[str, Any]:
    r = {"id": f"d{i}", "title": f"Paper {i} on {['graphs', 'proofs', 'robots', 'parsers', 'compilers'][i % 5]}",
         "abstract": f"A {WORD} study number {i}: we report results about topic {i} and its {i * 7} variants."}  # fmt: skip
    r.update(kw)
    return {k: v for k, v in r.items() if v is not None}


def _full(i: int) -> dict[str, Any]:
    return _rec(i, doi=f"10.5555/dup.{i}", year=2000 + i, venue=f"Venue {i}", authors=[f"Author {i}"],
                url=f"https://example.org/{i}", date=f"{2000 + i}-01-0{1 + i % 9}")  # fmt: skip


def cases(quick: bool) -> list[tuple[str, list[dict[str, Any]], str]]:
    """(name, records, format)."""
    out: list[tuple[str, list[dict[str, Any]], str]] = []
    formats = ["jsonl", "json", "csv", "bib"] if not quick else ["jsonl", "csv"]
    lacking = OPTIONAL if not quick else ("doi", "year")
    for fmt, missing in itertools.product(formats, lacking):
        first = {k: v for k, v in _rec(1, doi="10.5555/dup.1").items()}
        first.pop(missing, None)
        second = _full(2) | {"id": "d1"}
        out.append((f"same id, first lacks {missing} [{fmt}]", [first, second, _full(3)], fmt))
    for fmt in formats:
        out.append(
            (
                f"same DOI, other id and title [{fmt}]",
                [_rec(1, doi="10.5555/X"), _full(2) | {"doi": "10.5555/x"}, _full(3)],
                fmt,
            )
        )
        out.append(
            (
                f"same DOI via doi.org URL [{fmt}]",
                [_rec(1, doi="10.5555/Y"), _full(2) | {"doi": "https://doi.org/10.5555/y"}],
                fmt,
            )
        )
        out.append(
            (
                f"same title, different DOIs [{fmt}]",
                [_full(1), _full(2) | {"title": _full(1)["title"].upper() + "!"}],
                fmt,
            )
        )
        out.append((f"cascade: B shares A's id, C shares B's title [{fmt}]",
                    [_rec(1), _rec(2) | {"id": "d1"}, _full(3) | {"title": _rec(2)["title"]}, _full(4)], fmt))  # fmt: skip
        out.append((f"cascade through DOI [{fmt}]",
                    [_rec(1), _rec(2, doi="10.5555/c") | {"id": "d1"}, _rec(3, doi="10.5555/C")], fmt))  # fmt: skip
        derived = "p" + hashlib.sha1(b"doi:10.5555/z").hexdigest()[:10]
        out.append((f"given id equals another's DOI-derived id [{fmt}]",
                    [_rec(1, doi="10.5555/z") | {"id": None}, _rec(2) | {"id": derived}], fmt))  # fmt: skip
    scripts = {
        "Cyrillic": ["Синтез программ по примерам", "Нейронные сети для графов", "Обучение с подкреплением"],
        "Greek": ["Σύνθεση προγραμμάτων", "Νευρωνικά δίκτυα γράφων", "Ενισχυτική μάθηση"],
        "CJK": ["程序合成研究", "图神经网络", "强化学习方法"],
        "Arabic": ["توليف البرامج", "الشبكات العصبية", "التعلم المعزز"],
        "emoji": ["🧬🔬", "🚀🌕", "🤖🧠"],
        "punctuation": ["???", "—", "..."],
    }
    for script, titles in scripts.items():
        recs = [{"title": t, "abstract": f"{WORD} {t} abstract {i}."} for i, t in enumerate(titles)]
        out.append((f"{script} titles without ids [jsonl]", recs, "jsonl"))
        if not quick:
            out.append(
                (
                    f"{script} titles with DOIs [jsonl]",
                    [r | {"doi": f"10.5555/s.{i}"} for i, r in enumerate(recs)],
                    "jsonl",
                )
            )
    return out


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        v = " ".join(v.split())
        v = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", v, flags=re.I)
        return v.lower()
    if isinstance(v, list):
        return [_norm(x) for x in v]
    return v


def _oracle(records: list[dict[str, Any]], fmt: str) -> Any:
    def check(o: Observed) -> str | None:
        hits = json.loads(o.stdout)
        papers = [h["paper"] for h in hits]
        problems = []
        for p in papers:
            source = [
                r
                for r in records
                if _norm(r["title"]) == _norm(p["title"]) and _norm(r["abstract"]) == _norm(p["abstract"])
            ]
            if not source:
                problems.append(f"paper {p['id']} matches no input record")
                continue
            r = source[0]
            for f in OPTIONAL:
                got = p.get(f)
                if got in (None, [], ""):
                    continue
                wants = [s.get(f) for s in source]
                if f == "year":
                    wants += [int(str(s["date"])[:4]) for s in source if s.get("date")]
                    wants = [int(str(w)[:4]) if w is not None else None for w in wants]
                if any(w is not None and _norm(got) == _norm(w) for w in wants):
                    continue
                if fmt in ("csv", "tsv", "bib") and f in ("authors",) and any(w is not None for w in wants):
                    continue  # flattened by the format
                problems.append(f"{p['id']} ({r['title'][:30]}) has {f}={got!r} from another record")
        kept = {(_norm(p["title"]), _norm(p["abstract"])) for p in papers}
        for i, r in enumerate(records):
            others = records[:i] + records[i + 1 :]
            if any(_collide(r, s) for s in others):
                continue
            if (_norm(r["title"]), _norm(r["abstract"])) not in kept:
                problems.append(
                    f"record {r.get('id', '(no id)')} '{r['title'][:30]}' collides with nothing but was dropped"
                )
        for x in records:
            if (_norm(x["title"]), _norm(x["abstract"])) in kept:
                continue
            partners = [y for y in records if y is not x and _collide(x, y)]
            if partners and all(_distinct(x, y) for y in partners):
                names = ", ".join(str(y.get("id")) for y in partners)
                problems.append(
                    f"{x.get('id')} was merged into {names} though their ids and DOIs differ (title key only)"
                )
        return "; ".join(dict.fromkeys(problems)) or None

    return check


def _collide(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("id") and a.get("id") == b.get("id"):
        return True
    if a.get("doi") and b.get("doi") and _norm(a["doi"]) == _norm(b["doi"]):
        return True
    return _title_key(a["title"]) == _title_key(b["title"]) != ""


def _distinct(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Different ids and different DOIs: two papers, whatever their titles."""
    return bool(a.get("id") and b.get("id") and a["id"] != b["id"] and a.get("doi") and b.get("doi")
                and _norm(a["doi"]) != _norm(b["doi"]))  # fmt: skip


def _title_key(t: str) -> str:
    return " ".join(re.findall(r"\w+", t.lower()))


def run(ctx: Any) -> list[CaseResult]:
    def one(item: tuple[str, list[dict[str, Any]], str]) -> CaseResult:
        name, records, fmt = item
        d = ctx.case_dir(CLS, name)
        path = d / f"corpus.{fmt}"
        path.write_text(WRITERS[fmt](records), encoding="utf-8")
        home = d / "home"
        stats = ctx.synth(cli.corpus_stats(path), home=home, timeout=60)
        obs = ctx.synth(cli.search(WORD, corpus=path, k=1000), home=home, timeout=60)
        if stats.rc not in (0, 1) or "unexpected" in stats.stderr:
            obs = stats
        sig = "records with different content merged, fields grafted" if "same id" in name or "cascade" in name \
            else "distinct papers merged (title or DOI key)"  # fmt: skip
        if any(s in name for s in ("Cyrillic", "Greek", "CJK", "Arabic", "emoji", "punctuation")):
            sig = "non-Latin titles all normalise to '' and merge"
        return ctx.judge(CLS, name, obs, oracle=_oracle(records, fmt), valid_input=True, case_dir=d, sig=sig,
                         note=_stats_line(stats))  # fmt: skip

    return ctx.pool(one, cases(ctx.quick))


def _stats_line(stats: Observed) -> str:
    m = re.search(r"papers: (\d+).*?duplicates merged: (\d+)", stats.stdout, re.S)
    return f"corpus stats: {m.group(1)} papers, {m.group(2)} merged" if m else ""


del Path
