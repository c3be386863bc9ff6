"""The offline extractive drafter: the relevant papers, grouped into named themes, quoted from their abstracts.

It never writes a claim of its own. The steps:
1. cite only the hits that clear the relevance bar (`synth.draft.relevance`); the rest go to
   `Section.left_out` with their reason;
2. group the cited papers into themes by their words and name each by a phrase its papers share; a theme
   opens with a topic sentence built from those phrases (`synth.draft.themes`);
3. quote for each paper the abstract sentences closest to the query that stand alone
   (`synth.draft.standalone`), or a sentence together with the one it leans on;
4. attribute each quote to its paper (`synth.draft.attribution`), and strip the abstract's own citation
   markers, which would otherwise read as synth's citations.
Themes come in order of their closest paper to the query, and papers within a theme likewise.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from synth.draft.attribution import ANONYMOUS, attribute
from synth.draft.relevance import MIN_RELATIVE_SCORE, relevance_cut
from synth.draft.standalone import housekeeping, says_what_it_does, standalone
from synth.draft.themes import cluster, name_theme, phrases
from synth.markers import strip_citation_markers
from synth.models import Hit, Paragraph, Section, Sentence
from synth.text import split_sentences, terms

MIN_WORDS, MAX_WORDS = 8, 70
PAIR_PENALTY = 0.1  # a sentence quoted with the one it leans on costs the reader a sentence more
TITLE_WEIGHT = 3  # a title names what a paper is about: its words count as much as three abstract mentions
PAPERS_PER_THEME = 6  # about six papers to a paragraph: measured on the dev suite (eval/README.md)


@dataclass
class _Doc:
    hit: Hit
    sentences: list[str]  # the abstract's sentences, its own citation markers removed
    vectors: np.ndarray  # one L2-normalised tf-idf row per sentence
    vector: np.ndarray  # the whole paper (title weighted + abstract)


class ExtractiveDrafter:
    """Offline drafter: relevant papers only, named themes, standalone sentences from each paper's abstract."""

    name = "extractive"

    def __init__(
        self, max_themes: int = 5, lead_papers: int = 3, min_relative_score: float = MIN_RELATIVE_SCORE
    ) -> None:
        self.max_themes = max_themes
        self.lead_papers = lead_papers  # the best-ranked papers get two sentences, the rest one
        self.min_relative_score = min_relative_score

    async def adraft(self, query: str, hits: list[Hit]) -> Section:
        """The drafter interface: drafting is fast, local work, done in place."""
        return self.draft(query, hits)

    def draft(self, query: str, hits: list[Hit]) -> Section:
        """Cite the relevant hits, grouped into named themes ordered by closeness to the query."""
        if not hits:
            return Section(query=query, paragraphs=[], drafter=self.name)
        kept, left_out = relevance_cut(hits, self.min_relative_score)
        docs, query_vec = self._vectorise(query, kept)
        count = min(self.max_themes, max(1, round(len(docs) / PAPERS_PER_THEME)))
        groups = cluster([d.vector for d in docs], count)
        groups = sorted(groups, key=lambda g: min(docs[i].hit.rank for i in g))  # closest theme first
        found = [phrases(d.hit.paper) for d in docs]
        ids = [d.hit.paper.id for d in docs]
        paragraphs = []
        for group in groups:
            members = sorted(group, key=lambda i: docs[i].hit.rank)
            theme, topic = name_theme(members, found, ids)
            sentences = [topic] if topic else []
            for i in members:
                sentences += self._sentences_for(docs[i], query_vec)
            paragraphs.append(Paragraph(sentences=sentences, theme=theme))
        return Section(query=query, paragraphs=paragraphs, drafter=self.name, left_out=left_out)

    # -- vectors -------------------------------------------------------------------------------------------

    def _vectorise(self, query: str, hits: list[Hit]) -> tuple[list[_Doc], np.ndarray]:
        papers_terms = [terms(h.paper.title) * TITLE_WEIGHT + terms(h.paper.abstract) for h in hits]
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
            sentences = split_sentences(strip_citation_markers(hit.paper.abstract))
            rows = np.array([vec(terms(s)) for s in sentences]) if sentences else np.zeros((0, len(vocab)))
            docs.append(_Doc(hit, sentences, rows, vec(ts)))
        return docs, vec(terms(query))

    # -- sentences -----------------------------------------------------------------------------------------

    def _sentences_for(self, doc: _Doc, query_vec: np.ndarray) -> list[Sentence]:
        """The paper's best quotes: standalone sentences, or a sentence with the one it leans on."""
        budget = 2 if doc.hit.rank <= self.lead_papers else 1
        units = _units(doc, query_vec)
        chosen: list[list[tuple[int, str]]] = []
        used: set[int] = set()
        spent = 0
        for _, unit in units:
            if spent >= budget:
                break
            if any(i in used for i, _ in unit) or (chosen and spent + len(unit) > budget):
                continue
            chosen.append(unit)
            used.update(i for i, _ in unit)
            spent += len(unit)
        quotes = sorted((q for unit in chosen for q in unit), key=lambda q: q[0])  # back in abstract order
        paper = doc.hit.paper
        anonymous = ANONYMOUS[(doc.hit.rank - 1) % len(ANONYMOUS)]
        return [
            Sentence(text=attribute(text, paper, first=(n == 0), anonymous=anonymous), citations=[paper.id])
            for n, (_, text) in enumerate(quotes)
        ]


def _units(doc: _Doc, query_vec: np.ndarray) -> list[tuple[float, list[tuple[int, str]]]]:
    """Candidate quotes, best first: (score, [(sentence index, text)]) with one or two sentences each."""
    scores = []
    for i, s in enumerate(doc.sentences):
        score = float(doc.vectors[i] @ query_vec) + (0.15 if says_what_it_does(s) else 0.0)
        if not MIN_WORDS <= len(s.split()) <= MAX_WORDS or housekeeping(s):
            score -= 1.0  # kept only when nothing better exists
        scores.append(score)
    alone = [standalone(s) for s in doc.sentences]
    units: list[tuple[float, list[tuple[int, str]]]] = []
    for i, s in enumerate(doc.sentences):
        if (text := alone[i]) is not None:
            units.append((scores[i], [(i, text)]))
        elif i > 0 and (before := alone[i - 1]) is not None:
            # It leans on the sentence before it: quote both, the second as written.
            units.append((max(scores[i], scores[i - 1]) - PAIR_PENALTY, [(i - 1, before), (i, s)]))
    if not units and doc.sentences:  # every sentence leans on another: the opening one leans on the least
        units.append((scores[0], [(0, doc.sentences[0])]))
    return sorted(units, key=lambda u: (-u[0], u[1][0][0]))
