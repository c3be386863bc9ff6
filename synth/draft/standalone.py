"""Sentences that stand alone: an abstract sentence quoted without its neighbours must still make sense.

`standalone` drops what only links a sentence to the one before it (a leading "However," or "To address
this,", a "Based on this observation," clause) and refuses a sentence whose subject points back ("These
findings…", "This approach…", "It…"), which no edit can repair. The drafter then quotes such a sentence
only together with the sentence before it.
"""

from __future__ import annotations

import re

_CONNECTIVE = (
    "however|moreover|furthermore|additionally|in addition|also|besides|further|thus|therefore|hence|"
    "consequently|accordingly|as a result|as such|specifically|in particular|notably|importantly|finally|"
    "lastly|overall|in summary|in short|in sum|in conclusion|to this end|to that end|to do so|for this purpose|"
    "meanwhile|nevertheless|nonetheless|instead|similarly|likewise|first|firstly|second|secondly|third|"
    "thirdly|then|next|concretely|in practice|in this way|by doing so|in contrast|by contrast|conversely|"
    "on the other hand|still|yet|but|and|so|here|herein|note that|in other words|that is"
)
# A leading connective, with its comma (or, for a few, without one: "Thus we show").
_LEADING = re.compile(rf"^(?:{_CONNECTIVE})(?:\s*,\s*|\s+(?=we\b|our\b))", re.I)
_NOTE_THAT = re.compile(r"^note that\s+", re.I)
_REFERRING = r"(?:this|these|that|those|such|it|them|both|its|their|the (?:above|aforementioned|observation|observations|insight|insights|finding|findings|analysis|limitation|limitations|issue|issues|problem|problems|challenge|challenges|gap|gaps|idea|fact|intuition|motivation|results?))\b"
# A leading clause that only motivates the main one by pointing back: "To address these issues, …",
# "Based on this observation, …", "Motivated by these findings, …". Dropped with its comma.
_LEADING_CLAUSE = re.compile(
    rf"^(?:to \w+|based on|motivated by|inspired by|building (?:up)?on|driven by|guided by|following|given|"
    rf"in light of|in view of|with|by|from|unlike|compared (?:to|with)|in contrast to|as opposed to)\s+{_REFERRING}"
    rf"(?:(?!\b(?:we|our|us)\b)[^,;]){{0,60}},\s*",  # the clause ends before the main one ("… , we …")
    re.I,
)
# Openings that point back and cannot be dropped: the sentence needs the one before it.
_LEANS = re.compile(
    r"^(?:(?:this|these|those|that|such|both|its|either|neither|the former|the latter|the above|"
    r"the aforementioned|the resulting|the same|they|their|them)\b(?!-)"
    r"|it\b(?!\s+(?:is|was|has been|remains|becomes|seems|appears)\s+\w+\s+(?:to|that|whether|how)\b))",
    re.I,
)
# "This paper …", "These experiments show that we …": the paper speaking of itself, which attribution rewrites.
_SELF = re.compile(r"^(?:this|the present|our) (?:paper|work|study|article|letter|note|survey|thesis)\b", re.I)


def standalone(sentence: str) -> str | None:
    """The sentence without what ties it to the one before, or None when its subject points back."""
    text = sentence.strip()
    for _ in range(3):  # "However, to address this, we …": peel at most three layers
        m = _LEADING.match(text) or _NOTE_THAT.match(text) or _LEADING_CLAUSE.match(text)
        if not m:
            break
        text = capitalise(text[m.end() :])
    if not text or (_LEANS.match(text) and not _SELF.match(text)):
        return None
    return text


def without_referring_clause(sentence: str) -> str:
    """The sentence without a leading clause that points back ("To address these problems, …"); else as is.

    For a model's sentence, whose connectives ("However, …") may relate it to the sentence before: only the
    clause that names something the reader was never given goes.
    """
    m = _LEADING_CLAUSE.match(sentence.strip())
    rest = sentence.strip()[m.end() :] if m else ""
    return capitalise(rest) if rest and not _LEANS.match(rest) else sentence


def leans_on_previous(sentence: str) -> bool:
    """Whether the sentence cannot be quoted without the sentence before it."""
    return standalone(sentence) is None


def capitalise(text: str) -> str:
    """Upper-case the first letter of a plain lower-case word ("we" -> "We"); names ("iPhone", "k-NN") stay."""
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        return text[:1].upper() + text[1:]
    return text


# A sentence that states what the paper itself does: the best candidate to represent it.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study|article))\b.{0,60}?\b(propose|present|introduce|develop|design|show|find|"
    r"demonstrate|achieve|outperform|describe|study|investigate|evaluate)\w*",
    re.I,
)
# Where the code is, not what the paper found: never a sentence of a related-work section.
_HOUSEKEEPING = re.compile(
    r"https?://|www\.|github|publicly available|(?:code|data|dataset)s? (?:is|are|will be) (?:available|released)", re.I
)


def says_what_it_does(sentence: str) -> bool:
    """Whether an abstract's sentence states the paper's own contribution ("We propose …")."""
    return bool(_CONTRIBUTION.search(sentence))


def housekeeping(sentence: str) -> bool:
    """Whether the sentence says where code or data are rather than what a paper found."""
    return bool(_HOUSEKEEPING.search(sentence))
