"""Hybrid retrieval: fuse the rankings of several retrievers (reciprocal-rank or weighted scores)."""

from __future__ import annotations

from typing import Literal

from synth.models import Hit, Paper
from synth.retrieve import Retriever

Method = Literal["rrf", "weighted"]


def reciprocal_rank_fusion(
    rankings: list[list[str]], k: int = 60, weights: list[float] | None = None
) -> dict[str, float]:
    """RRF (Cormack et al. 2009): each list adds weight / (k + rank) to the ids it ranks (weight 1 by default)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, pid in enumerate(ranking, 1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return fused


def weighted_fusion(scored: list[dict[str, float]], weights: list[float]) -> dict[str, float]:
    """Min-max normalise each retriever's scores to [0, 1], then sum them with the weights."""
    fused: dict[str, float] = {}
    for scores, weight in zip(scored, weights, strict=True):
        if not scores:
            continue
        lo, hi = min(scores.values()), max(scores.values())
        for pid, s in scores.items():
            fused[pid] = fused.get(pid, 0.0) + weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
    return fused


def fused_hits(results: list[list[Hit]], fused: dict[str, float], k: int) -> list[Hit]:
    """The k best papers by fused score as hits ranked from 1; ties broken by paper id (deterministic)."""
    papers: dict[str, Paper] = {h.paper.id: h.paper for hits in results for h in hits}
    best = sorted(fused, key=lambda pid: (-fused[pid], pid))[:k]
    return [Hit(paper=papers[pid], score=fused[pid], rank=r) for r, pid in enumerate(best, 1)]


class HybridRetriever:
    """Several retrievers, each asked for `depth` hits, fused by RRF or by weighted normalised scores."""

    def __init__(
        self,
        retrievers: list[Retriever],
        method: Method = "rrf",
        weights: list[float] | None = None,
        depth: int = 100,
        rrf_k: int = 60,
    ) -> None:
        self.retrievers = retrievers
        self.method = method
        self.weights = weights or [1.0] * len(retrievers)
        self.depth = depth
        self.rrf_k = rrf_k

    def search(self, query: str, k: int) -> list[Hit]:
        """The k best papers by fused score; ties broken by paper id so results are deterministic."""
        results = [r.search(query, max(k, self.depth)) for r in self.retrievers]
        if self.method == "rrf":
            fused = reciprocal_rank_fusion([[h.paper.id for h in hits] for hits in results], self.rrf_k)
        else:
            fused = weighted_fusion([{h.paper.id: h.score for h in hits} for hits in results], self.weights)
        return fused_hits(results, fused, k)
