"""Quality of the offline extractive drafter against the human-written sections of the dev suite.

Drafts every dev query with `Synthesizer(corpus=..., k=20)` (k is a ceiling) and reports: reference
precision and coverage against the papers the authors cited; organisation agreement (pairwise F1 of
"same paragraph" over papers cited by both the draft and the human section) beside a seeded shuffled
baseline; the share of dangling openings; damaged names and doubled phrases (also over the sample suite's
five topic queries); citation precision and claim coverage under the offline judge.

Run from the project root (synth installed):
    python eval/bench_extractive.py
    python eval/bench_extractive.py --per-query          # one row per dev query as well
    python eval/bench_extractive.py --show s1            # print one draft and its problems
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from synth import Synthesizer
from synth.check.metrics import check
from synth.corpus import load_corpus
from synth.draft.attribution import attribute
from synth.evaluate.fidelity import damage
from synth.evaluate.reference import (
    PairAgreement,
    dangling_openings,
    human_paragraphs,
    organisation_agreement,
    reference_precision,
    reference_recall,
    section_paragraphs,
    shuffled_organisation,
)
from synth.evaluate.suite import Suite
from synth.models import Section

ROOT = Path(__file__).parent / "suites"


def problems(section: Section, syn: Synthesizer) -> list[tuple[str, str]]:
    """(problem, sentence) for every damaged name, doubled phrase or bad case in the section."""
    by_id = syn.corpus.by_id
    return [(p, s.text) for s in section.sentences for p in damage(s.text, [by_id[c] for c in s.citations])]


def mean(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None and v == v]  # v == v drops NaN
    return statistics.fmean(kept) if kept else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--per-query", action="store_true")
    parser.add_argument("--show", help="print the draft of this query id and its problems")
    args = parser.parse_args()

    dev = Suite.load(ROOT / "deepscholar-dev")
    syn = Synthesizer(corpus=dev.corpus, k=args.k)
    known = syn.corpus.by_id
    rows = []
    pooled, shuffled_rounds = PairAgreement(), [PairAgreement()] * 200
    sentences = dangling = 0
    topic_flags: list[bool] = []
    damaged: list[tuple[str, str, str]] = []
    started = time.perf_counter()
    for q in dev.queries:
        t0 = time.perf_counter()
        section = syn.draft(q.text)
        seconds = time.perf_counter() - t0
        report = syn.check(section)
        # Topic sentences are mostly under the checker's 50 characters: judge them on their own as well.
        topics = {p.sentences[0].text for p in section.paragraphs if p.sentences and len(p.sentences[0].citations) > 1}
        if topics:
            short = check(section, syn.corpus, syn.judge, min_chars=0)
            topic_flags += [f for s in short.sentences if s.text in topics for f in s.precise]
        cited = [c.paper.id for c in section.citations]
        human = human_paragraphs(q.exemplar or "", known)
        draft = section_paragraphs(section)
        agreement = organisation_agreement(draft, human)
        pooled += agreement
        shuffled = shuffled_organisation(draft, human, seed=0, rounds=len(shuffled_rounds))
        shuffled_rounds = [a + b for a, b in zip(shuffled_rounds, shuffled, strict=True)]
        openings = dangling_openings(section)
        sentences += len(section.sentences)
        dangling += len(openings)
        damaged += [(q.id, p, s) for p, s in problems(section, syn)]
        rows.append(
            {
                "id": q.id,
                "cited": len(cited),
                "left_out": len(section.left_out),
                "precision": reference_precision(cited, q.gold),
                "coverage": reference_recall(cited, q.gold),
                "org_f1": agreement.f1,
                "org_shuffled_f1": mean([a.f1 for a in shuffled]),
                "paragraphs": len(section.paragraphs),
                "dangling": len(openings),
                "sentences": len(section.sentences),
                "cite_p": report.citation_precision,
                "coverage_claims": report.claim_coverage,
                "seconds": seconds,
            }
        )
        if args.show == q.id:
            _show(section, openings, problems(section, syn))

    sample = Suite.load(ROOT / "sample")
    sample_syn = Synthesizer(corpus=sample.corpus, k=args.k)
    sample_damage: list[tuple[str, str, str]] = []
    sample_dangling = sample_sentences = 0
    for q in sample.queries:
        section = sample_syn.draft(q.text)
        found = problems(section, sample_syn)
        sample_damage += [(q.id, p, s) for p, s in found]
        openings = dangling_openings(section)
        sample_dangling += len(openings)
        sample_sentences += len(section.sentences)
        if args.show == q.id:
            _show(section, openings, found)
    elapsed = time.perf_counter() - started
    stress, stress_total, stress_examples = _attribute_everything([dev.corpus, sample.corpus])

    if args.per_query:
        keys = list(rows[0])
        print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
        for r in rows:
            print("| " + " | ".join(_fmt(r[k]) for k in keys) + " |")
        print()
    shuffled_f1 = mean([a.f1 for a in shuffled_rounds])
    print(f"dev suite: {len(rows)} queries, k = {args.k} (a ceiling); {elapsed:.1f} s in all\n")
    print("| metric | value | target |\n|---|---|---|")
    print(f"| papers cited per query (mean) | {mean([r['cited'] for r in rows]):.1f} | |")
    print(f"| reference precision (mean over queries) | {mean([r['precision'] for r in rows]):.3f} | >= 0.62 |")
    print(f"| reference coverage (mean over queries) | {mean([r['coverage'] for r in rows]):.3f} | >= 0.50 |")
    print(
        f"| organisation agreement F1, pairs pooled ({pooled.together_human} human / {pooled.together_draft} "
        f"draft pairs) | {_fmt(pooled.f1)} (P {_fmt(pooled.precision)}, R {_fmt(pooled.recall)}) | >= 0.65 |"
    )
    print(f"| organisation agreement F1, shuffled paragraphs (200 seeded rounds, pooled) | {shuffled_f1:.3f} | |")
    print(f"| organisation agreement F1, mean over queries | {mean([r['org_f1'] for r in rows]):.3f} | |")
    print(
        f"| organisation agreement F1, shuffled, mean over queries | {mean([r['org_shuffled_f1'] for r in rows]):.3f} | |"
    )
    print(f"| dangling openings | {dangling}/{sentences} = {dangling / max(1, sentences):.1%} | <= 3% |")
    print(f"| dangling openings, sample suite | {sample_dangling}/{sample_sentences} | |")
    print(f"| damaged names or doubled phrases, dev + sample | {len(damaged)} + {len(sample_damage)} | 0 |")
    print(f"| citation precision, offline judge (mean) | {mean([r['cite_p'] for r in rows]):.3f} | >= 0.95 |")
    print(
        f"| topic-sentence citations the offline judge supports (judged at any length) | "
        f"{sum(topic_flags)}/{len(topic_flags)} = {sum(topic_flags) / max(1, len(topic_flags)):.1%} | |"
    )
    print(f"| claim coverage, offline judge (mean) | {mean([r['coverage_claims'] for r in rows]):.3f} | >= 0.95 |")
    print(
        f"| drafting seconds per query, median (retrieval + draft) | {statistics.median(r['seconds'] for r in rows):.3f} | |"
    )
    print(
        f"| attribution stress test: every abstract sentence of both corpora, attributed as a paper's first "
        f"and as a later sentence: damaged | {stress}/{stress_total} | 0 |"
    )
    for problem, sentence in stress_examples:
        print(f"- stress: {problem} — {sentence}")
    for qid, problem, sentence in [*damaged, *sample_damage][:30]:
        print(f"- {qid}: {problem} — {sentence}")


def _attribute_everything(corpora: list[str]) -> tuple[int, int, list[tuple[str, str]]]:
    """Attribute every abstract sentence of the corpora (first and later) and count the damaged results.

    The examples are the first two of each kind of problem.
    """
    from synth.text import split_sentences

    bad = total = 0
    examples: list[tuple[str, str]] = []
    kinds: dict[str, int] = {}
    for name in corpora:
        for paper in load_corpus(name).papers:
            for sentence in split_sentences(paper.abstract):
                for first in (True, False):
                    text = attribute(sentence, paper, first=first)
                    found = damage(text, [paper])
                    total += 1
                    bad += bool(found)
                    for problem in found[:1]:
                        kind = problem.split(":")[0]
                        kinds[kind] = kinds.get(kind, 0) + 1
                        if kinds[kind] <= 2:
                            examples.append((problem, text))
    examples.insert(0, ("by kind", ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))))
    return bad, total, examples


def _show(section: Section, openings: list[str], found: list[tuple[str, str]]) -> None:
    print(section.markdown)
    for p in section.paragraphs:
        print("theme:", p.theme)
    for lo in section.left_out:
        print(f"left out: {lo.id} {lo.score:.2f} {lo.reason} — {lo.title[:70]}")
    for s in openings:
        print("dangling:", s)
    for p, s in found:
        print("damage:", p, "—", s)
    print()


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
