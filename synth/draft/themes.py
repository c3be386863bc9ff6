"""Themes of a section: papers clustered by their words, each theme named by a phrase its papers share.

A theme's name is the phrase (one to three words, as the abstracts write it) that most of its papers use
and few other retrieved papers do. Its topic sentence says which papers share that phrase and is built
from nothing but such phrases and a fixed frame ("Several works study … and …"), so the judge can verify it
like any quoted sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from synth.markers import strip_citation_markers
from synth.models import Paper, Sentence
from synth.text import STOPWORDS, split_sentences, stem_words

# Words that say nothing about what a theme is about, whatever their frequency.
_GENERIC = frozenset(
    """paper papers work works method methods approach approaches model models propose proposed proposes
    present presents introduce introduces result results show shows shown performance task tasks framework
    frameworks novel new existing based using use used uses different various several state art
    experiment experiments experimental extensive significantly significant effective effectively efficient
    study studies problem problems demonstrate demonstrates achieve achieves outperform outperforms improve
    improves improved improvement key two three one four five well however first second third furthermore
    moreover specifically recent recently many often further finally paper's find findings way ways able
    effectiveness superior better best large across propose address addresses typically particular given
    towards toward via beyond revisiting rethinking understanding learning generates generate generated
    generating enhancing improving leveraging exploring issues data text language""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?:['’][A-Za-z]*)?")
_CLAUSE = re.compile(r"[,.;:()\[\]!?\"“”]")


@dataclass
class Phrases:
    """The candidate phrases of one paper: stem keys, and how each was written."""

    keys: set[tuple[str, ...]]
    title: set[tuple[str, ...]]  # the ones in the title: a title is a noun phrase, so they read as names
    written: dict[tuple[str, tuple[str, ...]], float]  # (surface form, key) -> weighted occurrences


def phrases(paper: Paper) -> Phrases:
    """Runs of one to three content words inside a clause of the title or abstract, the first not generic."""
    keys: set[tuple[str, ...]] = set()
    title: set[tuple[str, ...]] = set()
    written: dict[tuple[str, tuple[str, ...]], float] = {}
    text = strip_citation_markers(paper.abstract)
    clauses = [
        (sentence is paper.title, _WORD.findall(clause))
        for sentence in [paper.title, *split_sentences(text)]
        for clause in _CLAUSE.split(sentence)
    ]
    all_stems = iter(stem_words([t.lower() for _, tokens in clauses for t in tokens]))  # one call: fast
    for in_title, tokens in clauses:
        stems = [next(all_stems) for _ in tokens]
        content = [_content(t) for t in tokens]
        for i, token in enumerate(tokens):
            if not content[i] or token.lower() in _GENERIC:
                continue  # "incremental learning", not "generates question"
            for n in (1, 2, 3):
                if i + n > len(tokens) or not content[i + n - 1]:
                    break
                if n == 1 and len(token) < 4:
                    continue
                run, key = tokens[i : i + n], tuple(stems[i : i + n])
                keys.add(key)
                if in_title:
                    title.add(key)
                # How the abstract writes it; a title's Title Case (and a clause's first capital) is how the
                # position writes it, so those count only in lower case, and far less.
                if in_title or i == 0:
                    form, weight = " ".join(t.lower() if t[1:].islower() else t for t in run), 0.01
                else:
                    form, weight = " ".join(run), 1.0
                written[(form, key)] = written.get((form, key), 0.0) + weight
    return Phrases(keys, title, written)


def _content(token: str) -> bool:
    low = token.lower()
    # A possessive or contraction ("program's") reads wrong out of its sentence.
    return low not in STOPWORDS and len(low) > 1 and "'" not in low and "’" not in low


def name_theme(members: list[int], found: list[Phrases], ids: list[str]) -> tuple[str | None, Sentence | None]:
    """The theme's name and its topic sentence (None when fewer than two of its papers share a phrase)."""
    pool = Counter(k for f in found for k in f.keys)
    inside = Counter(k for i in members for k in found[i].keys)
    size, n = len(members), len(found)
    if size < 2:
        return None, None

    def score(key: tuple[str, ...]) -> float:
        # Shared by the theme, rare in the rest of the pool, and longer phrases read better as names.
        return inside[key] / size * math.log(1 + n / pool[key]) * (1.0, 2.0, 2.5)[len(key) - 1]

    # A name is a phrase from a member's title (titles are noun phrases, abstracts are not), shared by two
    # members or more, and it must describe the theme's closest paper, which the paragraph opens on.
    lead = found[members[0]].keys
    titles = {k for i in members for k in found[i].title}
    shared = sorted(
        (k for k, c in inside.items() if c >= 2 and k in lead and k in titles), key=lambda k: (-score(k), k)
    )
    if not shared:
        return None, None
    best = shared[0]
    cited = [i for i in members if best in found[i].keys]
    # A second phrase every cited paper also has, not overlapping the first: a more specific sentence.
    second = next(
        (k for k in shared[1:] if len(k) > 1 and all(k in found[i].keys for i in cited) and not set(k) & set(best)),
        None,
    )
    name = _written(best, [found[i] for i in cited])
    body = name if second is None else f"{name} and {_written(second, [found[i] for i in cited])}"
    count = "Two" if len(cited) == 2 else "Several"
    return name, Sentence(text=f"{count} works study {body}.", citations=[ids[i] for i in cited])


def _written(key: tuple[str, ...], found: list[Phrases]) -> str:
    """How the papers write the phrase: the most frequent form, lower case on ties (deterministic)."""
    forms: dict[str, float] = {}
    for f in found:
        for (surface, k), c in f.written.items():
            if k == key:
                forms[surface] = forms.get(surface, 0.0) + c
    if not forms:
        return " ".join(key)
    return min(forms, key=lambda s: (-forms[s], s != s.lower(), s))


def cluster(vectors: list[np.ndarray], count: int) -> list[list[int]]:
    """`count` themes by Ward clustering, without one-paper themes where two or more remain; by index."""
    n = len(vectors)
    if n <= 2 or count <= 1:
        return [list(range(n))]
    clusters = ward(vectors, min(count, n))
    # A one-paper theme makes a paragraph without a topic; fold it into its nearest theme.
    while len(clusters) > 1 and any(len(c) == 1 for c in clusters):
        clusters = ward(vectors, len(clusters) - 1)
    return [sorted(c) for c in clusters]


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
