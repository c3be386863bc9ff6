"""Batch evaluation: suites of queries run through draft + check, durably and resumably, and their summaries."""

from __future__ import annotations

from synth.evaluate.runner import Run, evaluate
from synth.evaluate.suite import Query, Suite

__all__ = ["Query", "Run", "Suite", "evaluate"]
