"""Attribution edits: "We propose X" -> "Smith et al. propose X", and the pronouns that go with it.

These are the only changes the extractive drafter makes to an abstract sentence.
"""

from __future__ import annotations

import re

from synth.models import Paper

_WE_START = re.compile(r"^(?:(?:In this|In the present|Here,?|Herein,?)[^,]{0,20},?\s+)?[Ww]e\s+")
_THIS_PAPER = re.compile(r"^(This|The present|Our) (paper|work|study|article|letter|note)\b")
_IN_THIS_PAPER = re.compile(r"^In (this|the present|our) (paper|work|study|article|letter|note),\s*")
_PRONOUNS = {"we": "they", "We": "They", "our": "their", "Our": "Their", "us": "them", "ours": "theirs"}
_PRONOUN = re.compile(r"\b(" + "|".join(_PRONOUNS) + r")\b")


def author_name(paper: Paper) -> str | None:
    """ "Smith et al.", "Smith and Lee" or "Smith"; None without authors."""
    last = [a.split()[-1] for a in paper.authors if a.split()]
    if not last:
        return None
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


def short_title(paper: Paper) -> str | None:
    """The name before a title's colon ("RobustFill: Neural ..." -> "RobustFill") when it is short."""
    head, sep, _ = paper.title.partition(":")
    return head.strip() if sep and 0 < len(head.split()) <= 4 else None


# Subjects for a paper with neither authors nor a short title; plural, so "we"'s verb still agrees.
ANONYMOUS = ("Other authors", "Others", "Some researchers", "Other researchers")
_CONNECTIVE = re.compile(
    r"^(However|Moreover|Furthermore|Additionally|In addition|Finally|Thus|Therefore|Hence|Specifically|"
    r"In particular|To this end|To address (this|these) (issue|challenge|problem|limitation)s?|Consequently|"
    r"Further|Besides|Also|Then|Next|Instead|Meanwhile|Overall|In summary|In short|Concretely),\s+"
)


def attribute(sentence: str, paper: Paper, first: bool = True, anonymous: str = ANONYMOUS[0]) -> str:
    """Attribute an abstract sentence to its paper, changing only the subject and first-person pronouns.

    `first` is the paper's first sentence in the section (it names the paper); later ones say "they".
    A leading connective ("However,") is dropped: it points at a sentence that is not quoted.
    """
    name, title = author_name(paper), short_title(paper)
    if not first:
        people, work, where = "They", "Their paper", "In their paper"
    else:
        people = name or (f"The authors of {title}" if title else anonymous)
        work = f"The paper by {name}" if name else f"The {title} paper" if title else "One paper"
        where = f"In the paper by {name}" if name else f"In the {title} paper" if title else "In one paper"
    inner = people if (first and name) else people[:1].lower() + people[1:]  # the subject mid-sentence
    singular = first and len(paper.authors) == 1  # "we find" -> "Knuth finds"
    text = _CONNECTIVE.sub("", sentence.strip())
    text = text[:1].upper() + text[1:]
    if m := _WE_START.match(text):
        text = f"{people} {_agree(text[m.end() :], singular)}"
    elif m := _IN_THIS_PAPER.match(text):
        text = f"{where}, {text[m.end() :]}"
    elif m := _THIS_PAPER.match(text):
        text = work + text[m.end() :]
    elif m := re.search(r"\bwe\b", text):  # "Motivated by this, we present ..."
        text = text[: m.start()] + inner + " " + _agree(text[m.end() :].lstrip(), singular)
    elif first:
        text = f"As {inner} {'notes' if singular else 'note'}, {_lower_first(text, paper.abstract)}"
    text = _PRONOUN.sub(lambda m: _PRONOUNS[m.group()], text)
    return text if text[-1:] in ".!?" else text + "."


_ADVERB = re.compile(r"^(also|further|then|first|here|now|finally|thus|therefore|\w+ly)\b", re.I)
_MODAL = {"can", "could", "will", "would", "may", "might", "must", "should", "shall", "did", "had"}
_IRREGULAR = {"are": "is", "were": "was", "have": "has", "do": "does", "go": "goes"}


def _agree(rest: str, singular: bool) -> str:
    """Put the verb that followed "we" in the third person singular when the new subject is one author."""
    if not singular:
        return rest
    head = ""
    while m := _ADVERB.match(rest):  # "we also propose": the verb comes after the adverb
        head, rest = head + rest[: m.end()] + " ", rest[m.end() :].lstrip()
    verb, sep, tail = rest.partition(" ")
    low = verb.lower()
    if low in _IRREGULAR:
        verb = _IRREGULAR[low]
    elif low in _MODAL or low.endswith("ed") or not low.isalpha():
        pass
    elif re.search(r"(s|x|z|ch|sh|o)$", low):
        verb += "es"
    elif re.search(r"[^aeiou]y$", low):
        verb = verb[:-1] + "ies"
    else:
        verb += "s"
    return head + verb + sep + tail


def _lower_first(text: str, abstract: str) -> str:
    """Lowercase the first word unless it looks like a name (capitalised mid-sentence in the abstract)."""
    first = text.split(" ", 1)[0]
    if len(first) < 2 or not first[1:].islower():  # "BERT", "GPT-4", "I/O": keep
        return text
    if re.search(rf"[a-z,;:] {re.escape(first)}\b", abstract):  # used as a name elsewhere
        return text
    return first[:1].lower() + text[1:]
