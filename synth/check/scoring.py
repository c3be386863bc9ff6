"""The offline judge's score: `Evidence` (evidence.py) and calibrated parameters in, one number in [0, 1] out.

score = min(fit, residual cap, unknown-words cap), supported at `threshold`:
- fit: BM25 against the cited paper / the best BM25 against any corpus paper or the paper being written;
- residual cap: threshold x limit / residual. Above the limit the cap falls below the threshold: what the
  cited paper lacks is what another paper is about. The limit is lower (`borrowed_limit`) when that other
  paper holds nearly all the missing terms: a claim borrowed whole from another paper;
- unknown-words cap: 0.9 x threshold, halved for each further halving, when the sentence has more than
  `unknown_allowed` words missing from the cited abstract that the field hardly knows, or any such word while
  the cited paper holds less than `low_coverage` of the sentence's distinctive terms;
- drafting only (`query_names`): 0.9 x threshold when the sentence uses a word of the paper being written that
  the cited abstract lacks and the field hardly knows: a name that paper coined, which no source supports.
Caps rather than factors: a cap only binds when it speaks against the citation, so the fit still orders the
rest (ranking candidates for a replacement citation, and the bench's AUCs).
"""

from __future__ import annotations

from dataclasses import dataclass

from synth.check.evidence import Evidence

BORROWED_SHARE = 0.8
"""The other paper holds at least this share (IDF-weighted) of the missing terms: the claim is borrowed."""
MAX_HALVINGS = 2


@dataclass(frozen=True)
class Params:
    """Calibrated on the dev bench: `python eval/bench_judge.py --calibrate` picks the grid point closest to
    the targets (self-claims and topical claims accepted <= 10%, human sections' precision >= 0.579) and
    prints its leave-one-query-out figures (eval/README.md). `low_coverage` is 0.0 (off) there."""

    threshold: float = 0.6
    residual_limit: float = 1.0
    borrowed_limit: float = 0.6
    unknown_max_df: int = 2
    unknown_allowed: int = 1
    low_coverage: float = 0.0
    query_weight: float = 1.25
    min_coverage: float = 0.0
    """Below this IDF-weighted share of its distinctive terms in the cited abstract, a sentence is not supported.
    Off (0.0) for checking a human's text, whose authors cite what the full paper says; `DRAFTING` sets it."""
    query_names: bool = False
    """A sentence naming what only the paper being written has ("ChebyCF") is not supported. Off for a
    human's text, where "Unlike [3], ChebyCF …" is a fair contrast; `DRAFTING` sets it: a draft's sentence about
    the paper being written cites nothing."""


DRAFTING = Params(min_coverage=0.4, query_names=True)
"""The bar for synth's own drafts, whose every sentence is written from the cited abstracts: most of what a
sentence says must be found in its source. A human section checked this way scores lower (eval/README.md)."""


def fit(evidence: Evidence, params: Params) -> float:
    """Own BM25 / best rival's (corpus papers and, weighted, the paper being written)."""
    return evidence.fit(params.query_weight)


def residual_limit(evidence: Evidence, params: Params) -> float:
    """The residual limit that applies: lower for a claim borrowed whole from another paper."""
    if evidence.residual_coverage >= BORROWED_SHARE:
        return min(params.residual_limit, params.borrowed_limit)
    return params.residual_limit


def halvings(evidence: Evidence, params: Params) -> int:
    """How many times the unknown-words cap halves (0: no cap)."""
    n = len(evidence.unknown_at(params.unknown_max_df))
    extra = max(0, n - params.unknown_allowed) + (n >= 1 and evidence.coverage < params.low_coverage)
    return min(MAX_HALVINGS, extra)


def combine(evidence: Evidence, params: Params) -> float:
    """The score, in [0, 1]."""
    score = fit(evidence, params)
    if evidence.residual > 0:
        score = min(score, params.threshold * residual_limit(evidence, params) / evidence.residual)
    if h := halvings(evidence, params):
        score = min(score, 0.9 * params.threshold * 0.5 ** (h - 1))
    if evidence.coverage < params.min_coverage:
        score = min(score, 0.9 * params.threshold * evidence.coverage / params.min_coverage)
    if params.query_names and evidence.query_names(params.unknown_max_df):
        score = min(score, 0.9 * params.threshold)
    return score
