"""Which retrieved papers a section cites: k is a ceiling, not a quota.

A hit is cited when its retrieval score is at least `min_relative_score` times the best hit's. Retrieval
scores of one query share a scale (BM25 sums the query's term weights a paper matches), so the ratio to the
best hit says how much of what made the best paper relevant this one has; an absolute score would not carry
from a short topic query to a whole abstract. Measured on the dev suite (eval/README.md, "Extractive
drafting"): with BM25, 0.5 cites 11.6 of 20 hits per query, raising the share the authors also cited from
0.38 to 0.67 while keeping 0.51 of their references (0.65 when citing all 20).

Reciprocal-rank fusion (hybrid retrieval) squeezes scores into a narrow band, so a fused score's ratio
means something else: there the bar to use is about 0.8 (measured the same way); see `RRF_RELATIVE_SCORE`.
"""

from __future__ import annotations

from synth.models import Hit, LeftOut

MIN_RELATIVE_SCORE = 0.5  # BM25 scores (the default retriever)
RRF_RELATIVE_SCORE = 0.8  # fused reciprocal-rank scores (hybrid retrieval)


def relevance_cut(hits: list[Hit], min_relative_score: float = MIN_RELATIVE_SCORE) -> tuple[list[Hit], list[LeftOut]]:
    """Split hits into the ones to cite (best first) and the ones left out, each with its reason.

    The best hit is always cited. With a best score of zero or less there is no scale to compare against,
    and every hit is kept.
    """
    if not hits:
        return [], []
    ranked = sorted(hits, key=lambda h: h.rank)
    best = ranked[0].score
    if best <= 0:
        return ranked, []
    bar = min_relative_score * best
    kept = [ranked[0], *(h for h in ranked[1:] if h.score >= bar)]
    left_out = [
        LeftOut(
            id=h.paper.id,
            title=h.paper.title,
            score=h.score,
            reason=f"relevance {h.score / best:.0%} of the best hit's score, below the {min_relative_score:.0%} bar",
        )
        for h in ranked[1:]
        if h.score < bar
    ]
    return kept, left_out
