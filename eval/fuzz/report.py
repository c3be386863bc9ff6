"""report.json (every case) and report.md (per class counts, then each distinct failure with a reproducer)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .core import OUTCOMES, CaseResult

COLUMNS = ("tried", "correct", "clear_error", "wrong", "unexpected", "hang", "leak", "could_not_run", "failures")


def counts(results: list[CaseResult]) -> dict[str, int]:
    c = Counter(r.outcome for r in results)
    row = {"tried": len(results), **{o: c.get(o, 0) for o in OUTCOMES}}
    row["failures"] = sum(r.failure for r in results)
    return row


def write(out: Path, meta: dict[str, Any], classes: list[tuple[str, str, list[CaseResult], float, str]]) -> None:
    data = {
        "meta": meta,
        "classes": [
            {"id": cid, "title": title, "seconds": round(secs, 1), "note": note, "counts": counts(rs),
             "cases": [r.as_dict() for r in rs]}
            for cid, title, rs, secs, note in classes
        ],
    }  # fmt: skip
    (out / "report.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
    (out / "report.md").write_text(markdown(meta, classes))


def markdown(meta: dict[str, Any], classes: list[tuple[str, str, list[CaseResult], float, str]]) -> str:
    lines = [
        "# synth fuzz report",
        "",
        f"- checkout: `{meta['checkout']}` ({meta.get('revision', '?')})",
        f"- mode: {'quick' if meta['quick'] else 'full'}, seed {meta['seed']}, {meta['seconds']:.0f} s wall",
        "- outcomes: correct · clear error · wrong (exit 0 or refusal, but the oracle fails) · unexpected "
        "(`error: unexpected`, traceback, signal) · hang (over the case's bound) · leak (a secret in any output) · "
        "could not run. A clear error counts as a failure when the input had a valid answer.",
        "",
        "| class | " + " | ".join(COLUMNS) + " | s |",
        "|---|" + "---|" * (len(COLUMNS) + 1),
    ]
    total: Counter[str] = Counter()
    for cid, title, rs, secs, _note in classes:
        row = counts(rs)
        total.update(row)
        lines.append(f"| {cid} {title} | " + " | ".join(str(row[c]) for c in COLUMNS) + f" | {secs:.0f} |")
    lines.append("| **total** | " + " | ".join(f"**{total[c]}**" for c in COLUMNS) + " | |")
    lines += ["", "## Failures, grouped by cause", ""]
    for cid, title, rs, _secs, note in classes:
        if note:
            lines += [f"_{cid}: {note}_", ""]
        groups: dict[str, list[CaseResult]] = defaultdict(list)
        for r in rs:
            if r.failure:
                groups[r.signature or f"{cid}: {r.outcome}"].append(r)
        if not groups:
            continue
        lines += [f"### {cid} {title}", ""]
        for sig, members in groups.items():
            first = members[0]
            names = ", ".join(f"`{m.name}`" for m in members[:12]) + (
                f" … (+{len(members) - 12})" if len(members) > 12 else ""
            )
            lines += [f"**{sig}** — {len(members)} case(s): {names}", ""]
            if first.where:
                lines.append(f"- where: `{first.where}`")
            lines.append(f"- e.g. `{first.name}`: {first.detail}")
            if first.repro:
                lines.append(f"- reproducer: `{first.repro}`")
            seen = first.observed.replace("\n", " ⏎ ")
            lines += [f"- seen: `{seen[:500]}`", ""]
    return "\n".join(lines) + "\n"
