"""Damage an edit can do to a quoted sentence: a changed name, a doubled phrase, a case left wrong.

An extractive sentence is an abstract sentence plus attribution edits. Aligning it word by word with the
abstract sentence it came from shows what the edits changed; an edit may replace a first-person subject or
pronoun, add a subject or a frame, and drop a leading connective, and nothing else. `damage` names what went
wrong, one short label per problem:
- `name: We-Math -> They-Math`: a name (a word capitalised mid-sentence in the source, or with capitals or
  digits inside) was changed or dropped;
- `doubled: note note`: a word or phrase repeated back to back that the source does not repeat;
- `lower-case start: transformers`: the sentence opens in lower case on a plain word;
- `mid-sentence capital: A`: a word capitalised only because it opened the source sentence now sits
  mid-sentence ("As some researchers note, A single…").
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from synth.markers import strip_citation_markers
from synth.models import Paper
from synth.text import STOPWORDS, split_sentences

_TOKEN = re.compile(r"[\w][\w'’.\-/]*[\w]|[\w]")


_PRONOUNS = {"We", "Our", "Us", "Ours"}


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _name_like(token: str, first: bool) -> bool:
    """A name: capitals or digits inside ("We-Math", "GPT-4", "2.0"), or a capital mid-sentence."""
    if token in _PRONOUNS:  # "We" mid-sentence is a split the sentence splitter missed, not a name
        return False
    inner = token[1:]
    return any(c.isupper() or c.isdigit() for c in inner) or (not first and token[:1].isupper())


def _variant(name: str, token: str) -> bool:
    """A rewritten form of the name: different, but sharing a part of four characters or more ("-Math")."""
    if name == token:
        return False
    match = SequenceMatcher(None, name, token, autojunk=False).find_longest_match()
    return match.size >= 4


def _source_sentence(sentence: str, paper_sentences: list[str]) -> str | None:
    """The abstract sentence this one was taken from: the closest by words, if it is close at all."""
    words = [w.lower() for w in _tokens(sentence)]
    best, score = None, 0.0
    for candidate in paper_sentences:
        ratio = SequenceMatcher(None, words, [w.lower() for w in _tokens(candidate)], autojunk=False).ratio()
        if ratio > score:
            best, score = candidate, ratio
    return best if score >= 0.5 else None


def _doubled(tokens: list[str]) -> list[str]:
    low = [t.lower() for t in tokens]
    found = []
    for n in (1, 2, 3, 4):
        for i in range(len(low) - 2 * n + 1):
            if low[i : i + n] == low[i + n : i + 2 * n] and not all(t.isdigit() for t in low[i : i + n]):
                found.append(" ".join(tokens[i : i + 2 * n]))
    return found


def damage(sentence: str, papers: list[Paper]) -> list[str]:
    """What an edit damaged in a drafted sentence citing `papers` (empty when nothing).

    Sentences built from phrases rather than taken from one abstract sentence (a theme's topic sentence)
    get the checks that need no alignment: doubling and the case of the first word.
    """
    problems: list[str] = []
    tokens = _tokens(sentence)
    if not tokens:
        return problems
    source_text = " ".join(strip_citation_markers(f"{p.title}. {p.abstract}") for p in papers)
    source_tokens = _tokens(source_text)
    repeated_in_source = {d.lower() for d in _doubled(source_tokens)}
    problems += [f"doubled: {d}" for d in _doubled(tokens) if d.lower() not in repeated_in_source]
    first = tokens[0]
    if first[:1].islower() and not _name_like(first, first=True) and sentence.lstrip()[:1].islower():
        problems.append(f"lower-case start: {first}")
    sentences = [s for p in papers for s in split_sentences(strip_citation_markers(p.abstract))]
    source = _source_sentence(sentence, sentences)
    if source is None:
        return problems
    src = _tokens(source)
    # Words the source itself writes capitalised mid-sentence, or that name an author or the paper: names.
    # Title case capitalises every word of a title, so only its name-like words count.
    proper = {t for s in sentences for t in _tokens(s)[1:] if t[:1].isupper() and t.lower() not in STOPWORDS}
    proper |= {a for p in papers for author in p.authors for a in author.split() if len(a.strip(".")) > 1}
    proper |= {t for t in _tokens(" ".join(p.title for p in papers)) if _name_like(t, first=True)}
    lower_words = {t for t in source_tokens if t.islower()}  # a word the paper also writes in lower case
    matcher = SequenceMatcher(None, [t.lower() for t in src], [t.lower() for t in tokens], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":  # the same words, but an edit may have left their case wrong
            for k in range(i2 - i1):
                was, now, at = src[i1 + k], tokens[j1 + k], j1 + k
                if was != now and was in proper and was.lower() not in lower_words:
                    problems.append(f"name: {was} -> {now}")
                elif i1 + k == 0 and at > 0 and now[:1].isupper() and now not in proper and not _name_like(now, True):
                    problems.append(f"mid-sentence capital: {now}")
                elif i1 + k == 0 and at > 0 and now == "A":
                    problems.append("mid-sentence capital: A")
            continue
        inserted = tokens[j1:j2]
        for i in range(i1, i2):
            word = src[i]
            if not _name_like(word, first=i == 0) or word in tokens:
                continue
            # Before the first unchanged word an edit may drop a leading clause, names and all; what it may
            # not do is rewrite a name ("We-Math" -> "They-Math"). Later, a name must not go at all.
            if i1 > 0 or any(_variant(word, t) for t in inserted):
                problems.append(f"name: {word} -> {' '.join(inserted) or '(dropped)'}")
    return problems
