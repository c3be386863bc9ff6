"""Matching a title written somewhere (a References entry, a gold list) to a corpus paper: one matcher, one bar.

Titles are compared normalised (case, accents, punctuation folded). A title found whole in the text matches
at once; otherwise rapidfuzz's partial ratio (the best-aligned stretch of the longer text) must reach
`THRESHOLD`. Very short titles must be found whole: "Attention" inside any entry proves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from synth.text import normalise

THRESHOLD = 90.0  # rapidfuzz scores, 0-100
MIN_FUZZY_CHARS = 20


def best_match(text: str, titles: Sequence[str]) -> int | None:
    """The index of the title that `text` names (a References entry, a title), or None."""
    from rapidfuzz import fuzz

    wanted = normalise(text)
    if not wanted:
        return None
    normalised = [normalise(t) for t in titles]
    whole = [i for i, t in enumerate(normalised) if t and t in wanted]
    if whole:
        return max(whole, key=lambda i: len(normalised[i]))  # the longest title found whole
    best, best_score = None, 0.0
    for i, title in enumerate(normalised):
        if len(title) < MIN_FUZZY_CHARS:
            continue
        score = fuzz.partial_ratio(title, wanted) if len(title) <= len(wanted) else fuzz.ratio(title, wanted)
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= THRESHOLD else None
