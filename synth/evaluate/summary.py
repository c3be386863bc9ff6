"""Summaries of evaluation runs: means with 95% bootstrap intervals, tables, CSV, comparison, plots."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np

from synth.evaluate.metrics import METRICS, Metric

COSTS = ("total_s", "retrieval_s", "llm_s", "draft_other_s", "check_s")


def _registered() -> list[Metric]:
    return list(METRICS)  # read at call time: metrics registered later count too


def quality() -> list[str]:
    """The metrics that enter the geometric mean."""
    return [m.name for m in _registered() if m.in_geomean]


def bootstrap(values: list[float], resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval (deterministic: seeded)."""
    data = np.asarray(values, dtype=float)
    if data.size == 1:
        return float(data[0]), float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(data.mean()), float(lo), float(hi)


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-metric mean and 95% CI over successful queries; failures counted; cost and latency totals."""
    ok = [r for r in records if r.get("ok")]
    summary: dict[str, Any] = {"queries": len(records), "succeeded": len(ok), "failed": len(records) - len(ok)}
    metrics: dict[str, Any] = {}
    for name in (m.name for m in _registered()):
        values = [r["metrics"][name] for r in ok if r["metrics"].get(name) is not None]
        if values:
            mean, lo, hi = bootstrap(values)
            metrics[name] = {"mean": mean, "lo": lo, "hi": hi, "n": len(values)}
    for name in COSTS:
        values = [r["timing"][name] for r in ok if name in r.get("timing", {})]
        if values:
            mean, lo, hi = bootstrap(values)
            metrics[name] = {"mean": mean, "lo": lo, "hi": hi, "n": len(values)}
    summary["metrics"] = metrics
    present = [metrics[m]["mean"] for m in quality() if m in metrics]
    summary["geometric_mean"] = (
        math.exp(sum(math.log(max(v, 1e-9)) for v in present) / len(present)) if present else None
    )
    summary["geometric_mean_of"] = [m for m in quality() if m in metrics]
    costs = [r["usage"].get("cost_usd") for r in ok if r.get("usage")]
    summary["cost_usd"] = sum(c for c in costs if c) if any(c is not None for c in costs) else None
    summary["tokens"] = sum(r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] for r in ok if r.get("usage"))
    summary["errors"] = [{"query_id": r["query_id"], "error": r.get("error")} for r in records if not r.get("ok")]
    return summary


def _cell(m: dict[str, Any] | None) -> str:
    if m is None:
        return "n/a"
    return f"{m['mean']:.3f} [{m['lo']:.3f}, {m['hi']:.3f}]"


def summary_markdown(summary: dict[str, Any], title: str = "") -> str:
    """The table `synth eval report` prints."""
    lines = [f"## {title}" if title else "## Evaluation run", ""]
    lines.append(
        f"{summary['succeeded']} of {summary['queries']} queries succeeded, {summary['failed']} failed; "
        "means with 95% bootstrap intervals over successful queries."
    )
    lines += ["", "| metric | mean [95% CI] | n |", "|---|---|---|"]
    for name, m in summary["metrics"].items():
        lines.append(f"| {_label(name)} | {_cell(m)} | {m['n']} |")
    if summary["geometric_mean"] is not None:
        lines.append(
            f"| geometric mean ({', '.join(summary['geometric_mean_of'])}) | {summary['geometric_mean']:.3f} | |"
        )
    cost = summary["cost_usd"]
    lines.append(f"| cost USD (total) | {'n/a' if cost is None else f'{cost:.4f}'} | |")
    lines.append(f"| tokens (total) | {summary['tokens']} | |")
    for e in summary["errors"][:10]:
        lines.append(f"\nfailed {e['query_id']}: {e['error']}")
    return "\n".join(lines) + "\n"


def _label(name: str) -> str:
    """A metric's name with its direction (↑ higher is better, ↓ lower is better)."""
    metric = next((m for m in _registered() if m.name == name), None)
    return name if metric is None else f"{name} {'↑' if metric.higher_is_better else '↓'}"


def records_csv(records: list[dict[str, Any]]) -> str:
    """One row per query: id, status, every metric and timing."""
    names = [m.name for m in _registered()]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["query_id", "ok", *names, *COSTS, "cost_usd", "error"])
    for r in records:
        m, t, u = r.get("metrics", {}), r.get("timing", {}), r.get("usage", {})
        row = [r["query_id"], r.get("ok"), *(m.get(k) for k in names), *(t.get(k) for k in COSTS)]
        writer.writerow([*row, u.get("cost_usd"), r.get("error", "")])
    return out.getvalue()


def compare_markdown(summaries: dict[str, dict[str, Any]]) -> str:
    """Runs side by side per metric; ★ marks a metric whose intervals do not overlap across the runs."""
    names = list(summaries)
    metrics = [
        m for m in (*(x.name for x in _registered()), *COSTS) if any(m in s["metrics"] for s in summaries.values())
    ]
    lines = ["| metric | " + " | ".join(names) + " | differs |", "|---|" + "---|" * (len(names) + 1)]
    for metric in metrics:
        cells = [summaries[n]["metrics"].get(metric) for n in names]
        present = [c for c in cells if c]
        apart = len(present) > 1 and max(c["lo"] for c in present) > min(c["hi"] for c in present)
        lines.append(f"| {_label(metric)} | " + " | ".join(_cell(c) for c in cells) + f" | {'★' if apart else ''} |")
    geo = " | ".join(
        f"{summaries[n]['geometric_mean']:.3f}" if summaries[n]["geometric_mean"] else "n/a" for n in names
    )
    lines.append(f"| geometric mean | {geo} | |")
    counts = " | ".join(f"{summaries[n]['succeeded']}/{summaries[n]['queries']}" for n in names)
    lines.append(f"| succeeded | {counts} | |")
    return "\n".join(lines) + "\n★: the 95% intervals do not overlap.\n"
