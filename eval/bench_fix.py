"""`synth check --fix` on human-written sections whose citations were shuffled: how many does it put back?

For each of the dev suite's 20 human sections (citations as `[paper-id]`), the citations are permuted among
the section's own citation places (a derangement: none stays where it was; seeded). `synth.repair()` then
repairs the shuffled text, offline, with the section's paper as the paper being written. Reported: the share
of the original (sentence, paper) citations found again after repair, and citation precision (offline judge)
of the sections as written, shuffled, and repaired. From the project root:
    python eval/bench_fix.py
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
from pathlib import Path

import synth
from synth.check.parse import parse_text
from synth.corpus import load_corpus

SUITE = Path(__file__).resolve().parent / "suites" / "deepscholar-dev"
MARKER = re.compile(r"\[([A-Za-z0-9_:.\-]+)\]")


def derangement(items: list[str], rng: random.Random) -> list[str]:
    """A permutation of `items` where no position keeps its item, when one exists (else the best found)."""
    best = items[:]
    for _ in range(200):
        shuffled = items[:]
        rng.shuffle(shuffled)
        if sum(a == b for a, b in zip(shuffled, items, strict=True)) < sum(
            a == b for a, b in zip(best, items, strict=True)
        ):
            best = shuffled
        if all(a != b for a, b in zip(best, items, strict=True)):
            break
    return best


def pairs(text: str, corpus) -> list[set[str]]:  # type: ignore[no-untyped-def]
    return [set(s.cited) for s in parse_text(text, corpus, "latex").sentences]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = load_corpus(SUITE / "corpus.jsonl")
    queries = [json.loads(line) for line in (SUITE / "queries.jsonl").read_text().splitlines() if line.strip()]
    s = synth.Synthesizer(corpus=corpus)
    rng = random.Random(args.seed)
    rows = []
    for q in queries:
        text, query = q["related_work"], f"{q['title']}\n{q['abstract']}"
        places = [m for m in MARKER.finditer(text) if m.group(1) in corpus.by_id]
        ids = [m.group(1) for m in places]
        moved = derangement(ids, rng)
        shuffled, last = [], 0
        for m, pid in zip(places, moved, strict=True):
            shuffled += [text[last : m.start()], f"[{pid}]"]
            last = m.end()
        shuffled_text = "".join([*shuffled, text[last:]])
        written = s.check(text=text, query=query)
        fixed = s.repair(text=shuffled_text, query=query)
        original = pairs(text, corpus)
        after = pairs(fixed.text, corpus)
        wanted = [(i, pid) for i, cited in enumerate(original) for pid in cited]
        back = sum(1 for i, pid in wanted if i < len(after) and pid in after[i])
        rows.append({
            "id": q["id"], "citations": len(wanted), "restored": back / len(wanted) if wanted else None,
            "written": written.citation_precision, "shuffled": fixed.before.citation_precision,
            "repaired": fixed.report.citation_precision, "changes": len(fixed.changes),
        })  # fmt: skip
    ok = [r for r in rows if r["restored"] is not None]

    def mean(key: str) -> float:
        values = [r[key] for r in ok if r[key] is not None]
        return statistics.mean(values)

    total = sum(r["citations"] for r in ok)
    restored = sum(r["restored"] * r["citations"] for r in ok) / total
    print(f"{len(ok)} sections, {total} citations; seed {args.seed}")
    print("| citations put back on their original paper | precision as written | shuffled | after --fix |")
    print("|---|---|---|---|")
    print(
        f"| {restored:.1%} (per section {mean('restored'):.1%}) | {mean('written'):.3f} | {mean('shuffled'):.3f} | {mean('repaired'):.3f} |"
    )


if __name__ == "__main__":
    main()
