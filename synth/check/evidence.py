"""Lexical evidence that a cited abstract supports a sentence, measured against the whole corpus.

For a sentence, a cited paper and (optionally) the paper being written, `Evidence` holds three measurements:

- fit: the BM25 score of the sentence against the cited paper divided by its best score against any
  corpus paper *or the paper being written*. The paper being written is a competitor, not a source: a
  sentence it explains better than any cited paper describes it.
- unknown words: distinctive words of the sentence that the cited abstract lacks and that the corpus (and
  synth's sample corpus, a background vocabulary) hardly knows: a claim from outside the field, such as
  "proves the Riemann hypothesis", that relative scores cannot see because no paper matches it.
- residual: what the cited paper does not explain (the sentence's distinctive terms missing from it),
  scored against every other paper, relative to the cited paper's own score: high when part of the claim
  belongs to another paper.

Distinctive terms are the sentence's content terms minus generic academic words, the topic (the terms of
the paper being written) and author names ("Smith et al."). The numbers are combined in `scoring.py`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from synth.corpus import Corpus
from synth.models import Paper
from synth.retrieve.bm25 import BM25Index
from synth.text import terms

# bm25s's defaults (method "lucene"), so that the paper being written is scored like a corpus paper.
K1, B = 1.5, 0.75
# A paper being written shorter than this (in content terms) is a topic, not a paper: it defines the topic
# words but does not compete (a 4-word topic would outscore any abstract through length normalisation).
MIN_QUERY_TERMS = 25

# Words that say how a claim is made, not what it is about: they are never distinctive.
GENERIC_WORDS = """
et al etal also although among another approach approaches achieve achieves achieved addition additionally address
addresses advance aim aims allow allows alternative analysis analyse analyze apply applied applies area around aspect
author authors available base based baseline baselines besides better both build builds built can case cases challenge
challenges closest common commonly compare compared comparison consider considered contrast contribution contributions
current currently demonstrate demonstrated demonstrates describe described design designed despite develop developed
develops different direction directions discuss due effective effectively effort efforts either employ employed employs
enable enables especially establish evaluate evaluated even example examples exist existing explore explored explores
extend extended extends far field fields finally find finding findings first focus focused focuses following follow
form framework frameworks further furthermore general generally given good great however idea ideas identify improve
improved improves improvement include included includes including instance introduce introduced introduces investigate
investigated issue issues key known lack large largely later lead leads leverage leverages leveraged like limited line
lines literature main mainly make makes many method methods moreover most namely nature notably novel number often one
order others overall paper papers part particular particularly perform performance performed perspective pioneering
popular possible present presented presents previous previously primarily prior problem problems propose proposed
proposes provide provided provides recent recently related rely relies research researcher researchers result results
reveal revealed same several show showed shown shows significant significantly similar similarly since solution
solutions some specific specifically still studied studies study subsequent subsequently success successful suggest
suggested suggests support task tasks technique techniques term terms therefore thus towards type typical typically
understanding use used uses using utilize utilizes various version way ways well whereas whether widely work works yet
"""

_ET_AL = re.compile(r"([A-Z][\w'’-]+)(?:\s+(?:and|&)\s+[A-Z][\w'’-]+)?\s*(?:\\etal|et\s+al)")
_SURFACE = re.compile(r"[A-Za-z0-9][\w'’-]*")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")  # \textsf, \cite: markup left in a parsed LaTeX sentence


@lru_cache(maxsize=1)
def generic_terms() -> frozenset[str]:
    """Stems of the generic academic words."""
    return frozenset(terms(GENERIC_WORDS))


BACKGROUND = "background_df.json"
"""Shipped in synth/data: the document frequency of each term of the sample corpus, counted once (tokenising the
388 abstracts at every check would cost ~0.3 s). A test keeps it equal to what `terms` gives today."""


@lru_cache(maxsize=1)
def background_df() -> Counter[str]:
    """Document frequency of each term in synth's sample corpus (388 ML abstracts): the field's vocabulary.

    It keeps a tiny corpus (a 5-entry .bib) from calling every word it lacks unknown.
    """
    import json
    from importlib import resources

    return Counter(json.loads((resources.files("synth") / "data" / BACKGROUND).read_text(encoding="utf-8")))


@dataclass
class Evidence:
    """What the corpus says about one (sentence, cited paper) pair."""

    own: float
    """BM25 of the sentence against the cited paper."""
    best: float
    """Best BM25 of the sentence against any corpus paper (the cited one included)."""
    query: float
    """BM25 of the sentence against the paper being written (0 when there is none, or it is only a topic)."""
    best_other: int | None
    """Corpus position of the best-matching paper when it is not the cited one."""
    rare: list[tuple[str, int]] = field(default_factory=list)
    """Distinctive words missing from the cited abstract that may be unknown (not labels such as "BERT" or
    "Ekman's"), each with the number of documents of the corpus and the background that hold it."""
    missing: list[str] = field(default_factory=list)
    """Distinctive words of the sentence missing from the cited abstract, rarest first."""
    coverage: float = 1.0
    """IDF-weighted share of the sentence's distinctive terms found in the cited paper (1.0 when it has none)."""
    residual: float = 0.0
    """Best score of another paper on the missing terms / the cited paper's score on the sentence."""
    residual_paper: int | None = None
    """Corpus position of that other paper."""
    residual_coverage: float = 0.0
    """IDF-weighted share of the missing terms that the other paper holds: 1.0 when it has all of them."""
    query_words: list[tuple[str, int]] = field(default_factory=list)
    """Words of the sentence that the paper being written has and the cited abstract lacks, each with the number
    of documents of the corpus and the background that hold it: few means a name the paper being written
    coined ("ChebyCF"), which no source can support."""

    def query_names(self, max_df: int) -> list[str]:
        """The words of `query_words` held by at most `max_df` documents: the paper being written's own."""
        return [word for word, df in self.query_words if df <= max_df]

    def unknown_at(self, max_df: int) -> list[str]:
        """The missing words held by at most `max_df` documents of the corpus and the background."""
        return [word for word, df in self.rare if df <= max_df]

    def fit(self, query_weight: float = 1.0) -> float:
        """Own score / the best score of any rival: a corpus paper, or the paper being written (weighted)."""
        top = max(self.best, query_weight * self.query, self.own)
        return self.own / top if top > 0 else 0.0

    def query_wins(self, query_weight: float = 1.0) -> bool:
        """The paper being written explains the sentence better than the cited paper and every corpus paper."""
        return query_weight * self.query > max(self.own, self.best)


@dataclass
class _Sentence:
    """Everything about a sentence that does not depend on the cited paper (computed once per sentence)."""

    terms: list[str]
    scores: np.ndarray
    best: float
    query_score: float
    distinctive: list[str]
    surface: dict[str, str]
    rarity: dict[str, int]  # documents (corpus and background) holding each word that may be unknown
    from_query: dict[str, int]  # the same count for each content word the paper being written also has


class CorpusEvidence:
    """Measures `Evidence` against a corpus and its BM25 index (shared with retrieval)."""

    def __init__(self, corpus: Corpus, index: BM25Index) -> None:
        self.corpus = corpus
        self.index = index
        self.position = {p.id: i for i, p in enumerate(corpus.papers)}
        self._df = np.diff(index.indptr)  # documents holding each vocabulary term
        self._last: tuple[tuple[str, str | None], _Sentence] | None = None
        self._terms: dict[str, frozenset[str]] = {}

    @cached_property
    def _avgdl(self) -> float:
        lengths = [len(terms(p.text)) for p in self.corpus.papers]
        return sum(lengths) / len(lengths) if lengths else 1.0

    def df(self, term: str) -> int:
        """Corpus documents containing the term."""
        t = self.index.vocab.get(term)
        return int(self._df[t]) if t is not None and t < len(self._df) else 0

    def idf(self, term: str) -> float:
        """BM25 (lucene) inverse document frequency, as the index uses it."""
        n, df = self.index.num_docs, self.df(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def paper_terms(self, paper: Paper) -> frozenset[str]:
        """The stems of a paper's title and abstract (kept: drafts cite the same papers again and again)."""
        found = self._terms.get(paper.id)
        if found is None:
            found = self._terms[paper.id] = frozenset(terms(paper.text))
        return found

    def external_score(self, sentence_terms: list[str], doc_terms: list[str]) -> float:
        """BM25 of the sentence against a document outside the index, with the corpus's statistics."""
        tf = Counter(doc_terms)
        norm = K1 * (1 - B + B * len(doc_terms) / self._avgdl)
        score = 0.0
        for t in sentence_terms:
            f = tf.get(t, 0)
            if f and self.df(t):
                score += self.idf(t) * f / (norm + f)
        return score

    def _sentence(self, sentence: str, query: str | None) -> _Sentence:
        key, last = (sentence, query), self._last  # one read: other threads may replace it
        if last is not None and last[0] == key:
            return last[1]
        sentence_terms = terms(sentence)
        scores = self.index.scores(sentence_terms)
        query_terms = terms(query) if query else []
        competes = len(set(query_terms)) >= MIN_QUERY_TERMS
        query_score = self.external_score(sentence_terms, query_terms) if competes else 0.0
        names = set(terms(" ".join(m.group(1) for m in _ET_AL.finditer(sentence))))
        skip = generic_terms() | set(query_terms) | names
        prose = _LATEX_COMMAND.sub(" ", sentence)
        distinctive = [t for t in dict.fromkeys(terms(prose)) if t not in skip]
        surface: dict[str, str] = {}
        rarity: dict[str, int] = {}
        from_query: dict[str, int] = {}
        in_query = set(query_terms) - generic_terms() - names if competes else set()
        background = background_df()
        for word in _SURFACE.findall(prose):
            for t in terms(word):
                surface.setdefault(t, word.strip("'’-"))
                if t in in_query:
                    from_query[t] = self.df(t) + background.get(t, 0)
                # Names of systems (BERT, GraphSAGE), numbers and possessives ("Ekman's") are unverifiable
                # labels rather than claims: they never count as unknown words.
                label = any(c.isdigit() for c in word) or sum(c.isupper() for c in word) > 1
                possessive = word.endswith(("'s", "’s"))
                if not label and not possessive and t in distinctive:
                    rarity[t] = self.df(t) + background.get(t, 0)
        view = _Sentence(
            terms=sentence_terms,
            scores=scores,
            best=float(scores.max()) if scores.size else 0.0,
            query_score=query_score,
            distinctive=distinctive,
            surface=surface,
            rarity=rarity,
            from_query=from_query,
        )
        self._last = (key, view)
        return view

    def measure(self, sentence: str, paper: Paper, query: str | None = None) -> Evidence:
        """The evidence that `paper` supports `sentence`, with `query` (the paper being written) competing."""
        view = self._sentence(sentence, query)
        i = self.position.get(paper.id)
        have = self.paper_terms(paper) | _surnames(paper)
        # A paper outside the corpus is scored like the paper being written.
        own = self.external_score(view.terms, terms(paper.text)) if i is None else float(view.scores[i])
        best_other = int(np.argmax(view.scores)) if view.scores.size else None
        if best_other is not None and (best_other == i or view.scores[best_other] <= own):
            best_other = None
        missing = [t for t in view.distinctive if t not in have]
        missing.sort(key=lambda t: -self.idf(t))
        total = sum(self.idf(t) for t in view.distinctive)
        coverage = max(0.0, 1.0 - sum(self.idf(t) for t in missing) / total) if total > 0 else 1.0
        evidence = Evidence(
            own=own,
            best=view.best,
            query=view.query_score,
            best_other=best_other,
            rare=[(view.surface.get(t, t), view.rarity[t]) for t in missing if t in view.rarity],
            missing=[view.surface.get(t, t) for t in missing],
            coverage=coverage,
            query_words=[(view.surface.get(t, t), df) for t, df in view.from_query.items() if t not in have],
        )
        if missing and own > 0:
            rest = self.index.scores(missing)
            if i is not None:
                rest[i] = 0.0
            j = int(np.argmax(rest))
            evidence.residual, evidence.residual_paper = float(rest[j]) / own, j
            other = self.paper_terms(self.corpus.papers[j])
            weight = sum(self.idf(t) for t in missing)
            evidence.residual_coverage = sum(self.idf(t) for t in missing if t in other) / weight if weight else 0.0
        return evidence


def _surnames(paper: Paper) -> set[str]:
    """Stems of the authors' last names: "Lovelace et al." is evidence, not an unknown word."""
    return {t for a in paper.authors if a.split() for t in terms(a.split()[-1])}
