"""The human-readable grounding report: metrics, then each unsupported sentence with its closest evidence."""

from __future__ import annotations

from synth.models import Change, GroundingReport


def report_markdown(report: GroundingReport) -> str:
    """A readable report: the metrics, then each sentence that fails with its citation and closest evidence."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    counted = [s for s in report.sentences if not s.skipped]
    lines = [
        f"## Grounding report ({report.judge} judge, window ±{report.window})",
        "",
        "| metric | value |",
        "|---|---|",
        f"| citation precision | {pct(report.citation_precision)} |",
        f"| citation precision, leave-one-out | {pct(report.citation_precision_loo)} |",
        f"| claim coverage | {pct(report.claim_coverage)} |",
        f"| citation recall (window 0) | {pct(report.citation_recall)} |",
        f"| uncited sentences | {pct(report.uncited_rate)} |",
        f"| invalid citations | {report.invalid_citations} |",
        f"| sentences checked | {len(counted)} of {len(report.sentences)} (min {report.min_chars} characters) |",
    ]
    if report.never_cited is not None:
        lines.append(f"| retrieved but never cited | {len(report.never_cited)} |")
    if report.reference_coverage is not None:
        lines.append(f"| reference coverage | {pct(report.reference_coverage)} |")
    lines += ["", *[f"Note: {n}" for n in report.notes]]
    failing = report.unsupported
    if failing:
        lines += [f"### Unsupported ({len(failing)})", ""]
    for s in failing:
        lines.append(f"- **Sentence {s.index + 1}:** {s.text}")
        for paper, verdict in zip(s.cited, s.citations, strict=True):
            mark = "supports" if verdict.supported else "does not support"
            lines.append(f"  - `{paper}` {mark} it (score {verdict.score:.2f}); closest: “{verdict.evidence}”")
        if not s.cited:
            lines.append("  - cites nothing" + (f" (unresolved: {', '.join(s.unresolved)})" if s.unresolved else ""))
    return "\n".join(lines).rstrip() + "\n"


def repair_markdown(before: GroundingReport, after: GroundingReport, changes: list[Change]) -> str:
    """What `synth check --fix` did: precision and coverage before and after, then every change."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    lines = [
        "## Repair report",
        "",
        "| | before | after |",
        "|---|---|---|",
        f"| citation precision | {pct(before.citation_precision)} | {pct(after.citation_precision)} |",
        f"| claim coverage | {pct(before.claim_coverage)} | {pct(after.claim_coverage)} |",
        f"| invalid citations | {before.invalid_citations} | {after.invalid_citations} |",
        "",
        f"### Changes ({len(changes)})" if changes else "No change was needed.",
        "",
    ]
    for c in changes:
        moved = f"{', '.join(c.papers_before) or '-'} -> {', '.join(c.papers_after) or '-'}"
        lines.append(f"- **Sentence {c.sentence + 1}, {c.kind}** ({moved}): {c.reason}")
        lines.append(f"  - before: {c.before}")
        if c.after is not None and c.after != c.before:
            lines.append(f"  - after: {c.after}")
    return "\n".join(lines).rstrip() + "\n\n" + report_markdown(after)
