"""Drafters turn a query and its hits into a Section. This module: the protocol and the offline drafter.

The extractive drafter never writes a claim of its own. Each sentence is a sentence of the cited paper's
abstract; the only edits are attribution ("We propose" -> "Smith et al. propose") and the matching
pronoun changes (we/our/us -> they/their/them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from synth.models import Hit, Paper, Paragraph, Section, Sentence
from synth.text import STOPWORDS, split_sentences, stem_words, terms, words


class Drafter(Protocol):
    """Anything that writes a cited section from the hits of a query."""

    name: str

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """Write paragraphs whose sentences cite hit paper ids."""
        ...


# A sentence that states what the paper itself does: the best candidate to represent it.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study|article))\b.{0,60}?\b(propose|present|introduce|develop|design|show|find|"
    r"demonstrate|achieve|outperform|describe|study|investigate|evaluate)\w*",
    re.I,
)
_WE_START = re.compile(r"^(?:(?:In this|In the present|Here,?|Herein,?)[^,]{0,20},?\s+)?[Ww]e\s+")
_THIS_PAPER = re.compile(r"^(This|The present|Our) (paper|work|study|article|letter|note)\b")
_IN_THIS_PAPER = re.compile(r"^In (this|the present|our) (paper|work|study|article|letter|note),\s*")
_PRONOUNS = {"we": "they", "We": "They", "our": "their", "Our": "Their", "us": "them", "ours": "theirs"}
_PRONOUN = re.compile(r"\b(" + "|".join(_PRONOUNS) + r")\b")

MIN_WORDS, MAX_WORDS = 8, 70


@dataclass
class _Doc:
    hit: Hit
    sentences: list[str]
    vectors: np.ndarray  # one L2-normalised tf-idf row per sentence
    vector: np.ndarray  # the whole paper (title + abstract)


class ExtractiveDrafter:
    """Offline drafter: themes by clustering, sentences extracted from each paper's own abstract."""

    name = "extractive"

    def __init__(self, max_themes: int = 5, lead_papers: int = 3) -> None:
        self.max_themes = max_themes
        self.lead_papers = lead_papers  # the best-ranked papers get two sentences, the rest one

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """Group hits into themes ordered by relevance and write one paragraph per theme."""
        if not hits:
            return Section(query=query, paragraphs=[], drafter=self.name)
        docs, query_vec, vocab = self._vectorise(query, hits)
        surface = _surface_forms(hits)
        themes = self._themes(docs)
        paragraphs = []
        for members in themes:
            sentences: list[Sentence] = []
            for doc in sorted(members, key=lambda d: d.hit.rank):
                sentences += self._sentences_for(doc, query_vec)
            paragraphs.append(Paragraph(sentences=sentences, theme=self._label(members, vocab, surface)))
        return Section(query=query, paragraphs=paragraphs, drafter=self.name)

    # -- vectors -------------------------------------------------------------------------------------------

    def _vectorise(self, query: str, hits: list[Hit]) -> tuple[list[_Doc], np.ndarray, list[str]]:
        papers_terms = [terms(h.paper.text) for h in hits]
        vocab = {t: i for i, t in enumerate(sorted({t for ts in papers_terms for t in ts}))}
        df = Counter(t for ts in papers_terms for t in set(ts))
        idf = np.zeros(len(vocab))
        for t, i in vocab.items():
            idf[i] = math.log(1 + len(hits) / df[t])

        def vec(ts: list[str]) -> np.ndarray:
            v = np.zeros(len(vocab))
            for t, c in Counter(ts).items():
                if t in vocab:
                    v[vocab[t]] = (1 + math.log(c)) * idf[vocab[t]]
            n = np.linalg.norm(v)
            return v / n if n else v

        docs = []
        for hit, ts in zip(hits, papers_terms, strict=True):
            sentences = split_sentences(hit.paper.abstract)
            rows = np.array([vec(terms(s)) for s in sentences]) if sentences else np.zeros((0, len(vocab)))
            docs.append(_Doc(hit, sentences, rows, vec(ts)))
        return docs, vec(terms(query)), list(vocab)

    # -- themes --------------------------------------------------------------------------------------------

    def _themes(self, docs: list[_Doc]) -> list[list[_Doc]]:
        """Ward clustering of the papers' tf-idf vectors (balanced themes), singletons folded in, by best rank."""
        n = len(docs)
        if n <= 3:
            return [docs]
        target = min(self.max_themes, max(2, round(n / 4)))
        clusters = ward([d.vector for d in docs], target)
        # A one-paper theme makes a one-sentence paragraph; fold it into its nearest theme.
        while len(clusters) > 2 and any(len(c) == 1 for c in clusters):
            clusters = ward([d.vector for d in docs], len(clusters) - 1)
        themes = [[docs[i] for i in sorted(c)] for c in clusters]
        return sorted(themes, key=lambda ds: min(d.hit.rank for d in ds))

    @staticmethod
    def _label(members: list[_Doc], vocab: list[str], surface: dict[str, str]) -> str:
        """The three heaviest terms of the theme, as written in the abstracts."""
        weight = np.sum([d.vector for d in members], axis=0)
        top = np.argsort(-weight, kind="stable")[:3]
        return ", ".join(surface.get(vocab[i], vocab[i]) for i in top if weight[i] > 0)

    # -- sentences -----------------------------------------------------------------------------------------

    def _sentences_for(self, doc: _Doc, query_vec: np.ndarray) -> list[Sentence]:
        if not doc.sentences:
            return []
        count = 2 if doc.hit.rank <= self.lead_papers else 1
        scored = []
        for i, s in enumerate(doc.sentences):
            n_words = len(s.split())
            score = float(doc.vectors[i] @ query_vec) + (0.15 if _CONTRIBUTION.search(s) else 0.0)
            if not MIN_WORDS <= n_words <= MAX_WORDS:
                score -= 1.0  # kept only when nothing better exists
            scored.append((score, -i))
        chosen = sorted(-i for _, i in sorted(scored, reverse=True)[:count])  # back in abstract order
        paper = doc.hit.paper
        out = []
        for n, i in enumerate(chosen):
            anonymous = ANONYMOUS[(doc.hit.rank - 1) % len(ANONYMOUS)]
            text = attribute(doc.sentences[i], paper, first=(n == 0), anonymous=anonymous)
            out.append(Sentence(text=text, citations=[paper.id]))
        return out


def ward(vectors: list[np.ndarray], k: int) -> list[list[int]]:
    """Agglomerative clustering with Ward's criterion into k clusters; deterministic (ties to low indices).

    Merging clusters a and b costs |a||b|/(|a|+|b|) * |c_a - c_b|^2, the rise in within-cluster variance,
    which keeps themes of comparable size where average linkage leaves outliers alone.
    """
    members = [[i] for i in range(len(vectors))]
    centroids = np.array(vectors, dtype=float)
    sizes = np.ones(len(vectors))
    while len(members) > k:
        diff = centroids[:, None, :] - centroids[None, :, :]
        cost = (sizes[:, None] * sizes[None, :] / (sizes[:, None] + sizes[None, :])) * (diff**2).sum(-1)
        np.fill_diagonal(cost, np.inf)
        a, b = divmod(int(np.argmin(cost)), len(members))  # first minimum in row-major order
        a, b = min(a, b), max(a, b)
        centroids[a] = (sizes[a] * centroids[a] + sizes[b] * centroids[b]) / (sizes[a] + sizes[b])
        sizes[a] += sizes[b]
        members[a] += members[b]
        centroids, sizes = np.delete(centroids, b, axis=0), np.delete(sizes, b)
        del members[b]
    return members


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


def _surface_forms(hits: list[Hit]) -> dict[str, str]:
    """For each stem, its most frequent written word, so theme labels read as words."""
    written = [
        part
        for h in hits
        for w in words(h.paper.text)
        if w not in STOPWORDS
        for part in w.replace("'", "").split("-")
        if len(part) > 2
    ]
    counts: dict[str, Counter[str]] = {}
    for word, stem in zip(written, stem_words(written), strict=True):
        counts.setdefault(stem, Counter())[word] += 1
    return {s: c.most_common(1)[0][0] for s, c in counts.items()}
