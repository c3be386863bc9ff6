"""Drafting with a model, pipeline against pipeline: what each eval run folder's sections are worth and cost.

Reads the records of finished `synth eval run` folders (see eval/README.md, "Staged drafting with a local
model") and prints one row per folder: the sections' quality (citation precision and claim coverage by the
offline checking judge, reference precision against the authors' citations, words and papers cited), how
many sections meet each target of issue #11, what verification changed, tokens per section, their price at a
hosted model's list prices, and the model's seconds per stage over the calls that were not served from the
cache (a cached reply costs no time).

    python eval/bench_staged.py runs/staged runs/staged-noverify runs/extractive runs/one-shot

With `--llm-judge MODEL` (and `--api-base`), the first `--sections` sections of each run are checked again by
the LLM judge (`prompts/judge.j2`, the paper being written named), with the suite's corpus.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from synth.evaluate.runlog import read_records
from synth.llm import model_info

TARGETS = {
    "citation_precision": 0.95,
    "claim_coverage": 0.95,
    "words": 250,
    "papers_cited": 8,
    "reference_precision": 0.6,
}
PRICED = "gpt-4o-mini"


def records(folder: Path) -> list[dict]:
    """The run's finished records (the last one per query, as a resumed run keeps it)."""
    found: dict[str, dict] = {}
    for record in read_records(folder):  # in the order written: --sections takes the first ones
        if record.get("ok"):
            found[record["query_id"]] = record
    return list(found.values())


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def row(folder: Path, ids: set[str] | None) -> dict:
    rs = [r for r in records(folder) if ids is None or r["query_id"] in ids]
    metric = lambda name: [r["metrics"][name] for r in rs if r["metrics"].get(name) is not None]  # noqa: E731
    met = {name: sum(v >= bar for v in metric(name)) for name, bar in TARGETS.items()}
    changes: Counter[str] = Counter()
    for r in rs:
        changes.update(c["kind"] for c in r["section"].get("changes", []))
    about = [sum(x.get("about_query", False) for p in r["section"]["paragraphs"] for x in p["sentences"]) for r in rs]
    # claim coverage over the sentences about sources only: a closing sentence about the paper being written
    # cites nothing by design (it was checked against that paper's abstract instead)
    sources_only = []
    for r in rs:
        closing = {x["text"] for p in r["section"]["paragraphs"] for x in p["sentences"] if x.get("about_query")}
        checked = [c for c in r.get("verdicts", []) if not c.get("skipped") and c["text"] not in closing]
        if checked:
            sources_only.append(
                sum(bool(c.get("coverage") and c["coverage"]["supported"]) for c in checked) / len(checked)
            )
    usage = [r["section"].get("usage") or {} for r in rs]
    prompt = mean([u.get("prompt_tokens", 0) for u in usage])
    completion = mean([u.get("completion_tokens", 0) for u in usage])
    price = model_info.cost(PRICED, int(prompt), int(completion))
    stage_s: dict[str, list[float]] = defaultdict(list)
    for u in usage:
        for stage, s in (u.get("stages") or {}).items():
            if s.get("calls") and not s.get("cached_calls"):  # timed only when every call went to the model
                stage_s[stage].append(s["latency_s"])
    return {
        "run": folder.name,
        "n": len(rs),
        **{
            name: mean(metric(name))
            for name in (
                "citation_precision",
                "claim_coverage",
                "reference_precision",
                "words",
                "papers_cited",
                "invalid_citations",
                "dangling_openings",
            )
        },
        "about_query": mean(about),
        "coverage_sources": mean(sources_only),
        "met": met,
        "changes": {k: v / max(1, len(rs)) for k, v in changes.items()},
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "usd": price,
        "stage_s": {k: (statistics.median(v), len(v)) for k, v in stage_s.items()},
    }


def llm_judged(folder: Path, corpus: Path, model: str, api_base: str | None, n: int) -> tuple[float, float, int]:
    """Mean cite-P and claim coverage of the run's first `n` sections under the LLM judge, and how many."""
    from synth import Synthesizer
    from synth.models import Section

    synth = Synthesizer(corpus=str(corpus), judge="llm", model=model, api_base=api_base)
    precision, coverage = [], []
    for record in records(folder)[:n]:
        section = Section.model_validate(record["section"])
        if not section.sentences:
            continue
        report = synth.check(section)
        if report.citation_precision is not None:
            precision.append(report.citation_precision)
        if report.claim_coverage is not None:
            coverage.append(report.claim_coverage)
    return mean(precision), mean(coverage), len(precision)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--common", action="store_true", help="only the queries every run finished")
    ap.add_argument("--llm-judge", metavar="MODEL", help="also check sections with the LLM judge of this model")
    ap.add_argument("--api-base")
    ap.add_argument("--sections", type=int, default=5, help="sections per run for the LLM judge")
    ap.add_argument("--corpus", type=Path, default=Path("eval/suites/deepscholar-dev/corpus.jsonl"))
    args = ap.parse_args()
    ids = None
    if args.common:
        ids = set.intersection(*({r["query_id"] for r in records(f)} for f in args.runs))
    rows = [row(f, ids) for f in args.runs]
    print("| run | n | cite-P | coverage | closing sentences (coverage without them) | ref. precision | words | papers cited | invalid | dangling | "
          f"sections meeting P / cov / words / papers / ref-P | tokens in / out | USD at {PRICED} |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        met = " / ".join(str(r["met"][k]) for k in TARGETS)
        usd = f"{r['usd']:.4f}" if r["usd"] is not None else "n/a"
        print(f"| {r['run']} | {r['n']} | {r['citation_precision']:.3f} | {r['claim_coverage']:.3f} | {r['about_query']:.1f} ({r['coverage_sources']:.3f}) | "
              f"{r['reference_precision']:.3f} | {r['words']:.0f} | {r['papers_cited']:.1f} | "
              f"{r['invalid_citations']:.3f} | {r['dangling_openings']:.3f} | {met} | "
              f"{r['prompt_tokens']:,.0f} / {r['completion_tokens']:,.0f} | {usd} |")  # fmt: skip
    print()
    for r in rows:
        changes = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["changes"].items())) or "none"
        stages = ", ".join(f"{k} {s:.0f} s (n={n})" for k, (s, n) in sorted(r["stage_s"].items())) or "all cached"
        print(f"- {r['run']}: changes per section: {changes}; model seconds per stage, median: {stages}")
    if args.llm_judge:
        print(f"\nLLM judge ({args.llm_judge}):\n\n| run | sections | cite-P | claim coverage |\n|---|---|---|---|")
        for folder in args.runs:
            p, c, n = llm_judged(folder, args.corpus, args.llm_judge, args.api_base, args.sections)
            print(f"| {folder.name} | {n} | {p:.3f} | {c:.3f} |", flush=True)


if __name__ == "__main__":
    main()
