"""How the staged filter should combine the model's answers with retrieval's scores (issue #11, stage b).

Run from the project root with a model server (replies are cached under SYNTH_HOME, so a re-run is free):
    python eval/bench_filter.py --model openai/local --api-base http://127.0.0.1:8765/v1 --votes runs/votes.jsonl

For every query of the dev suite, the candidates staged drafting sees (`pool` = 40, the query's date cutoff)
and the model's answer to `prompts/filter.j2` for each, sent exactly as staged drafting sends them (so the
LLM cache is shared with `synth eval run --pipeline staged`). The votes are saved (`--votes`; an existing
file is read instead of asking again), then each selection rule is applied at k = 12 and scored against the
papers the authors cited: papers kept, the share of them the authors cited, and the share of the authors'
papers kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections.abc import Callable
from pathlib import Path

from synth import Synthesizer
from synth.draft.filter import select, vote
from synth.evaluate.suite import Suite
from synth.models import Hit, Paper
from synth.settings import Settings

SUITE = Path("eval/suites/deepscholar-dev")
K = 12
Rule = Callable[[list[dict]], list[str]]


async def collect(settings: Settings, path: Path) -> None:
    """Ask the model about every candidate of every query; one JSON line per query."""
    suite = Suite.load(SUITE)
    synth = Synthesizer(settings=settings.updated(corpus=str(suite.corpus), pipeline="staged", k=K))
    drafter = synth.drafter
    system = [{"role": "system", "content": drafter.prompts.render("system")}]
    with path.open("w") as out:
        for q in suite.queries:
            query = " ".join(q.text.split())  # as Synthesizer.adraft cleans it
            hits, _ = await synth.asearch(query, drafter.candidates, before=q.before)
            votes, _ = await vote(drafter.llm, drafter.prompts, system, query, hits, concurrency=1)
            rows = [{"id": h.paper.id, "rank": h.rank, "score": h.score, "yes": votes[h.paper.id]} for h in hits]
            out.write(json.dumps({"id": q.id, "gold": sorted(q.gold), "hits": rows}) + "\n")
            print(f"{q.id}: {sum(votes.values())} of {len(hits)} called related", flush=True)


def by_bar(yes_bar: float, no_bar: float, floor: int = 0) -> Rule:
    """Keep what reaches yes_bar (model said related) or no_bar (turned down) x the best score."""

    def rule(rows: list[dict]) -> list[str]:
        best = max(r["score"] for r in rows)
        order = sorted(rows, key=lambda r: (not r["yes"], r["rank"]))
        kept = [r for r in order if r["score"] >= (yes_bar if r["yes"] else no_bar) * best][:K]
        kept += [r for r in order if r not in kept][: max(0, floor - len(kept))]
        return [r["id"] for r in kept]

    return rule


def union_with_floor(rows: list[dict], floor: int = 8) -> list[str]:
    """The rule before: the model's yes or score >= 0.5 x best, yes first, at least `floor`."""
    best = max(r["score"] for r in rows)
    order = sorted(rows, key=lambda r: (not r["yes"], r["rank"]))
    kept = [r for r in order if r["yes"] or r["score"] >= 0.5 * best][:K]
    kept += [r for r in order if r not in kept][: max(0, floor - len(kept))]
    return [r["id"] for r in kept]


def shipped(rows: list[dict]) -> list[str]:
    hits = [Hit(paper=Paper(id=r["id"], title=r["id"], abstract="-"), score=r["score"], rank=r["rank"]) for r in rows]
    kept, _ = select(hits, {r["id"]: r["yes"] for r in rows}, K)
    return [h.paper.id for h in kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--api-base")
    parser.add_argument("--votes", type=Path, required=True, help="where the votes are saved (read if it exists)")
    args = parser.parse_args()
    if not args.votes.exists():
        settings = Settings.load(model=args.model, api_base=args.api_base)
        asyncio.run(collect(settings, args.votes))
    records = [json.loads(line) for line in args.votes.open()]

    gold_rows = [r for q in records for r in q["hits"] if r["id"] in q["gold"]]
    other_rows = [r for q in records for r in q["hits"] if r["id"] not in q["gold"]]
    print(f"{len(records)} queries; called related: {sum(r['yes'] for r in gold_rows)} of {len(gold_rows)} "
          f"candidates the authors cited, {sum(r['yes'] for r in other_rows)} of {len(other_rows)} others\n")  # fmt: skip
    rules: list[tuple[str, Rule]] = [
        ("the model's yes only, at least 3", lambda rows: by_bar(0.0, 2.0, floor=3)(rows)),
        ("the model's yes or score >= 0.5 x best, at least 8 (before)", union_with_floor),
        ("score >= 0.5 x best (retrieval alone)", by_bar(0.5, 0.5)),
        ("score >= 0.4 x best", by_bar(0.4, 0.4)),
        ("yes >= 0.3, no >= 0.5 x best", by_bar(0.3, 0.5)),
        ("yes >= 0.4, no >= 0.55 x best", by_bar(0.4, 0.55)),
        ("yes >= 0.4, no >= 0.6 x best", by_bar(0.4, 0.6)),
        ("yes >= 0.4, no >= 0.55 x best, at least 3 (shipped: synth.draft.filter.select)", shipped),
    ]
    print("| rule | papers kept (min) | share the authors cited | share of the authors' papers kept |")
    print("|---|---|---|---|")
    for name, rule in rules:
        kept = [(rule(q["hits"]), set(q["gold"])) for q in records]
        precision = statistics.mean(sum(k in g for k in ids) / len(ids) for ids, g in kept)
        coverage = statistics.mean(sum(k in g for k in ids) / len(g) for ids, g in kept)
        sizes = [len(ids) for ids, _ in kept]
        print(f"| {name} | {statistics.mean(sizes):.1f} ({min(sizes)}) | {precision:.3f} | {coverage:.3f} |")


if __name__ == "__main__":
    main()
