"""What to search for: a topic as it is; for a title and abstract, the title and a few key phrases.

Two- and three-word phrases only: one word is too broad for a search engine, four or more too narrow.
"""

from __future__ import annotations

import re
from collections import Counter

from synth.text import STOPWORDS

MAX_QUERIES = 8
TOPIC_WORDS = 20  # a text this short is searched as it is
TITLE_WORDS = 25  # a first line this short, with more text after it, is a title

# Words that say how a paper argues rather than what it is about: they make poor search terms.
_GENERIC = frozenset(
    """paper papers propose proposed proposes present presents introduce introduces novel new approach
    approaches method methods result results show shows shown demonstrate demonstrates experiment experiments
    experimental extensive significant significantly outperform outperforms outperforming state art existing
    prior previous work works study studies address addresses based using use used various several different
    well however furthermore moreover first second third finally also key main recent recently effective
    effectively efficient efficiently improve improves improved improvement improvements performance
    superior achieve achieves achieving leverage leverages leveraging task tasks contains consists one two
    three four five""".split()
)
_SPLIT = re.compile(r"[^\w\s'-]+|\s+-+\s+")  # punctuation ends a phrase; a hyphen inside a word does not


def plan_queries(text: str, extra: list[str] | None = None, phrases: int = 3) -> list[str]:
    """The searches to run: the text itself when short (a topic), else its title and `phrases` key phrases;
    then `extra` queries (e.g. written by an LLM). Duplicates dropped, at most MAX_QUERIES, first one first.
    """
    flat = " ".join(text.split())
    planned: list[str] = []
    if len(flat.split()) <= TOPIC_WORDS:
        planned.append(flat)
    else:
        title, body = split_title(text)
        if title:
            planned.append(title)
        # The title stays in the text phrases are drawn from: its words are the paper's own choice of terms.
        planned += key_phrases(f"{title}. {body}" if title else body, phrases)
    planned += [" ".join(q.split()) for q in extra or []]
    unique: dict[str, str] = {}
    for query in planned:
        if query and query.lower() not in unique:
            unique[query.lower()] = query
    return list(unique.values())[:MAX_QUERIES]


def split_title(text: str) -> tuple[str, str]:
    """(title, rest) of a title-and-abstract text; the title is "" when the text does not start with one.

    A title is a first paragraph of at most TITLE_WORDS words with more text after it, or, with no blank
    line, such a first line followed by a line that starts a sentence (a wrapped abstract goes on in lower case).
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(paragraphs) > 1 and len(paragraphs[0].split()) <= TITLE_WORDS:
        first, rest = paragraphs[0], "\n".join(paragraphs[1:])
    elif len(lines) > 1 and len(lines[0].split()) <= TITLE_WORDS and lines[1].lstrip()[:1].isupper():
        first, rest = lines[0], "\n".join(lines[1:])
    else:
        return "", " ".join(text.split())
    return " ".join(first.split()).rstrip("."), " ".join(rest.split())


def key_phrases(text: str, n: int = 3) -> list[str]:
    """The n best two- or three-word phrases of a text, no two sharing a word.

    Candidates are the word pairs and triples inside runs of content words (the text cut at stopwords,
    generic words and punctuation). A phrase scores how often it occurs times how often its words occur,
    so the terms the authors keep coming back to win. Phrases ending in -ed, -ing or -ly are dropped:
    without a tagger, that is the cheapest way to keep verbs out.
    """
    runs = _runs(text)
    frequency = Counter(w.lower() for run in runs for w in run)
    counts: Counter[str] = Counter()
    forms: dict[str, str] = {}
    for run in runs:
        for size in (2, 3):
            for i in range(len(run) - size + 1):
                words = run[i : i + size]
                if _verbish(words[-1]) or words[0].lower().endswith("ly"):
                    continue
                key = " ".join(words).lower()
                counts[key] += 1
                forms.setdefault(key, " ".join(words))
    score = {k: c * sum(frequency[w] for w in k.split()) / len(k.split()) ** 0.5 for k, c in counts.items()}
    chosen: list[str] = []
    used: set[str] = set()
    for key in sorted(score, key=lambda k: (-score[k], k)):
        if used.isdisjoint(key.split()):
            chosen.append(forms[key])
            used.update(key.split())
        if len(chosen) == n:
            break
    return chosen


def _runs(text: str) -> list[list[str]]:
    """Runs of content words: the text cut at punctuation, stopwords, generic words and numbers."""
    runs: list[list[str]] = []
    for chunk in _SPLIT.split(text):
        run: list[str] = []
        for token in [*chunk.split(), ""]:  # "" closes the last run
            word = token.strip("'-")
            lower = word.lower()
            if word and lower not in STOPWORDS and lower not in _GENERIC and not word.isdigit():
                run.append(word)
                continue
            if run:
                runs.append(run)
            run = []
    return runs


def _verbish(word: str) -> bool:
    return "-" not in word and word.lower().endswith(("ed", "ing", "ly"))


def terms(query: str, limit: int = 12) -> list[str]:
    """The content words of a query, for engines whose syntax needs single words (arXiv): no stopwords."""
    words = re.split(r"\W+", query)  # "exemplar-free" -> exemplar, free; quotes and operators go
    content = [w for w in words if w.lower() not in STOPWORDS and not w.isdigit() and len(w) > 1]
    return list(dict.fromkeys(content))[:limit]
