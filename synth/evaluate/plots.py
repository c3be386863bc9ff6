"""Plots of runs (the `plot` extra: matplotlib); every function returns None when matplotlib is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.evaluate.summary import quality


def plot_run(records: list[dict[str, Any]], path: Path) -> Path | None:
    """Distribution per query of the quality metrics as a PNG; None without matplotlib (the plot extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    ok = [r for r in records if r.get("ok")]
    names = [m for m in quality() if any(r["metrics"].get(m) is not None for r in ok)]
    fig, ax = plt.subplots(figsize=(1.8 * max(1, len(names)) + 2, 4))
    ax.boxplot([[r["metrics"][m] for r in ok if r["metrics"].get(m) is not None] for m in names])
    ax.set_xticks(range(1, len(names) + 1), names, rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"per-query metrics ({len(ok)} queries)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_compare(summaries: dict[str, dict[str, Any]], path: Path) -> Path | None:
    """Bars with 95% intervals per quality metric, one bar per run; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    metrics = [m for m in quality() if any(m in s["metrics"] for s in summaries.values())]
    fig, ax = plt.subplots(figsize=(2.2 * max(1, len(metrics)) + 2, 4))
    width = 0.8 / max(1, len(summaries))
    for i, (name, s) in enumerate(summaries.items()):
        cells = [s["metrics"].get(m, {"mean": 0, "lo": 0, "hi": 0}) for m in metrics]
        means = [c["mean"] for c in cells]
        errors = [[c["mean"] - c["lo"] for c in cells], [c["hi"] - c["mean"] for c in cells]]
        ax.bar([j + i * width for j in range(len(metrics))], means, width, yerr=errors, capsize=3, label=name)
    ax.set_xticks([j + width * (len(summaries) - 1) / 2 for j in range(len(metrics))], metrics, rotation=15)
    ax.set_ylim(0, 1.05)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
