"""The offline extractive drafter: themes by clustering, sentences taken from each paper's own abstract.

It never writes a claim of its own. Each sentence is a sentence of the cited paper's abstract; the only
edits are attribution (`synth.draft.attribution`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from synth.draft.attribution import ANONYMOUS, attribute
from synth.models import Hit, Paragraph, Section, Sentence
from synth.text import STOPWORDS, split_sentences, stem_words, terms, words

# A sentence that states what the paper itself does: the best candidate to represent it.
_CONTRIBUTION = re.compile(
    r"\b(we|this (paper|work|study|article))\b.{0,60}?\b(propose|present|introduce|develop|design|show|find|"
    r"demonstrate|achieve|outperform|describe|study|investigate|evaluate)\w*",
    re.I,
)
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

    async def adraft(self, query: str, hits: list[Hit]) -> Section:
        """The drafter interface: drafting is fast, local work, done in place."""
        return self.draft(query, hits)

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
