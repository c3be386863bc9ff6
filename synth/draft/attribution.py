"""Attribution edits: "We propose X" -> "Smith et al. propose X", and the pronouns that go with it.

These are the only changes the extractive drafter makes to an abstract sentence.
"""

from __future__ import annotations

import re

from synth.models import Paper
from synth.text import STOPWORDS

_WE_START = re.compile(r"^(?:(?:In this|In the present|Here,?|Herein,?)[^,]{0,20},?\s+)?[Ww]e\s+")
_THIS_PAPER = re.compile(r"^(This|The present|Our) (paper|work|study|article|letter|note)\b")
_IN_THIS_PAPER = re.compile(r"^In (this|the present|our) (paper|work|study|article|letter|note),\s*")
_OUR_START = re.compile(r"^Our\s+")
_I_START = re.compile(
    r"^(?:(?:In this|Here,?|Herein,?)[^,]{0,20},?\s+)?I\s+(?=[a-z])"
)  # a single author's "I"  # "Our method ...": the possessive subject of a first sentence
# First-person pronouns as words of their own: not inside a name ("We-Math", "sample.We", "Ours-Net").
_PRONOUNS = {"we": "they", "our": "their", "us": "them", "ours": "theirs", "my": "their"}
_PRONOUN = re.compile(r"(?<![\w\-.'’/])(we|our|us|ours|my)(?![\w\-'’/])")


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


def attribute(sentence: str, paper: Paper, first: bool = True, anonymous: str = ANONYMOUS[0]) -> str:
    """Attribute an abstract sentence to its paper, changing only the subject and first-person pronouns.

    `first` is the paper's first sentence in the section (it names the paper); later ones say "they". The
    sentence should already stand alone (`synth.draft.standalone`). Names and titles are never edited: a
    pronoun is replaced only as a word of its own, and a sentence whose first word might be a name is not
    put behind an "As X note," frame, which would have to lower-case it.
    """
    name, title = author_name(paper), short_title(paper)
    # "The X paper", but a title that opens on an article brings its own: "The Gauss-Markov Adjunction paper".
    titled = None if title is None else title if re.match(r"(?:The|A|An)\s", title) else f"the {title}"
    if not first:
        people, work, where, whose = "They", "Their paper", "In their paper", "Their"
    else:
        people = name or (f"The authors of {title}" if title else anonymous)
        work = f"The paper by {name}" if name else f"{_upper(titled)} paper" if titled else "One paper"
        where = f"In the paper by {name}" if name else f"In {titled} paper" if titled else "In one paper"
        whose = f"{name}'s" if name else ""  # "Smith et al.'s method"; without a name the frame below applies
    inner = people if (first and name) else people[:1].lower() + people[1:]  # the subject mid-sentence
    singular = first and len(paper.authors) == 1  # "we find" -> "Knuth finds"
    text = sentence.strip()
    text = text[:1].upper() + text[1:] if text[:1].islower() and text.split(" ", 1)[0].isalpha() else text
    if m := _WE_START.match(text):
        text = f"{people} {_agree(text[m.end() :], singular)}"
    elif m := _I_START.match(text):  # one author: the verb agrees with a singular subject
        author = (
            name if (first and name) else people if not first else "The author of " + title if title else "One author"
        )
        text = f"{author} {_agree(text[m.end() :], first)}"
    elif m := _IN_THIS_PAPER.match(text):
        text = f"{where}, {text[m.end() :]}"
    elif m := _THIS_PAPER.match(text):
        text = work + text[m.end() :]
    elif (m := _OUR_START.match(text)) and whose:
        text = f"{whose} {text[m.end() :]}"
    elif m := re.search(r"(?<![\w\-.'’/])we(?![\w\-'’/])", text):  # "Motivated by this, we present ..."
        text = text[: m.start()] + inner + " " + _agree(text[m.end() :].lstrip(), singular)
    elif first and (lowered := _lower_first(text, paper)) is not None:
        frame = f"As {inner} {'notes' if singular else 'note'},"
        if lowered.split(" ", 1)[0].lower().strip(",") not in {"as", "note", "notes"}:  # no "note, note that"
            text = f"{frame} {lowered}"
    text = _PRONOUN.sub(lambda m: _PRONOUNS[m.group()], text)
    return text if text[-1:] in ".!?" else text + "."


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


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
    stop = re.search(r"[.,;:!?)]+$", verb)  # "we build." -> "builds."
    if stop:
        verb, tail, sep = verb[: stop.start()], stop.group() + sep + tail, ""
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


def _lower_first(text: str, paper: Paper) -> str | None:
    """The sentence with its first word lower-cased for a mid-sentence position, or None when that is unsafe.

    Safe: a function word ("A", "The", "In"), or a word the paper itself writes in lower case elsewhere; a
    name-like word ("BERT", "GPT-4") needs no change.
    A word it never writes in lower case may be a name ("Bayesian", "Transformers" as a model) and stays
    where it is, so the sentence goes without the frame.
    """
    first, _, rest = text.partition(" ")
    word = first.rstrip(",;:")
    if not word[:1].isalpha():
        return None  # "(Good)", "*Data*": markup first; no frame rather than a capital left mid-sentence
    if not word[:1].isupper() or word == "I" or any(c.isupper() or c.isdigit() for c in word[1:]):
        return text  # "BERT", "GPT-4", "I/O", "k-NN": names, written as they are after the frame too
    low = word.lower()
    if low in STOPWORDS or re.search(rf"(?<![\w-]){re.escape(low)}(?![\w-])", f"{paper.title} {paper.abstract}"):
        return low + first[len(word) :] + (f" {rest}" if rest else "")
    return None


# A model's sentence that speaks as its source ("This paper introduces...", "In this paper, we...", "We
# propose..."): it would read as a claim of the paper being written.
_SPEAKS_AS_SOURCE = re.compile(
    r"^(?:in (?:this|the present) (?:paper|work|study|article),\s*)?(?:(?:this|the) (?:paper|work|study|article)\b)"
    r"|\b(?:we|our|us)\b",
    re.IGNORECASE,
)
# "The authors propose …", "The cited paper describes …": which, the reader cannot tell. Named like a "we"
# (plural verb) or a "this paper" (singular verb).
_VAGUE_AUTHORS = re.compile(
    r"^(?:(?:the|its|their) authors|the cited (?:paper|work|study|source)(?:s|'s authors))\b"
    r"(?=\s+(?!of\b|in\b|and\b)[a-z])",
    re.IGNORECASE,
)
_VAGUE_PAPER = re.compile(r"^the cited (?:paper|work|study|source)\b(?=\s+(?!of\b|in\b|and\b)[a-z])", re.I)


def name_source(text: str, paper: Paper) -> str:
    """A model's sentence about one paper, with that paper named instead of "this paper", "we", "the authors"
    or "the cited paper"."""
    text = _VAGUE_PAPER.sub("This paper", _VAGUE_AUTHORS.sub("We", text))
    if not _SPEAKS_AS_SOURCE.search(text):
        return text
    return attribute(re.sub(r"^The (paper|work|study|article)\b", r"This \1", text), paper, first=True)
