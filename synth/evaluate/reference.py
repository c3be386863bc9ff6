"""Reference-based quality of a drafted section, against the human-written section of the same paper.

Pure functions, no model and no corpus:
- reference precision: cited papers the authors also cited / cited papers; reference recall (coverage): the
  authors' papers the draft cites / the authors' papers (ids only; `synth.check.metrics.reference_coverage`
  also matches DOIs and titles);
- organisation agreement: over the pairs of papers cited both by the draft and by the human section, whether
  the draft puts a pair in one paragraph exactly when the human author did (pairwise precision, recall, F1),
  beside the same score for the draft's paragraphs shuffled among those papers (seeded, so deterministic);
- dangling openings: sentences that open on a word pointing at a sentence the reader was not given
  ("These findings…", "However, …", "Based on the observation, …", "To address this, …").
"""

from __future__ import annotations

import random
import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from synth.models import Section


def reference_precision(cited: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of the cited papers that the authors also cited; None when nothing is cited."""
    cited_set, gold_set = set(cited), set(gold)
    return len(cited_set & gold_set) / len(cited_set) if cited_set else None


def reference_recall(cited: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of the authors' papers that the draft cites (reference coverage); None without gold."""
    cited_set, gold_set = set(cited), set(gold)
    return len(cited_set & gold_set) / len(gold_set) if gold_set else None


# -- organisation ------------------------------------------------------------------------------------------

# What ends a paragraph in the human sections (LaTeX from arXiv): a blank line, \par, or a heading command.
_COMMENT = re.compile(r"(?<!\\)%[^\n]*")
_BREAK = re.compile(
    r"\n\s*\n|\\par(?![A-Za-z])|\\(?:sub)*section\*?\{[^}]*\}|\\(?:sub)?paragraph\*?\{[^}]*\}|\\myparagraph\{[^}]*\}"
)
_MARKER = re.compile(r"\[([A-Za-z0-9_:.\-]+)\]")


def human_paragraphs(related_work: str, known: Container[str] | None = None) -> list[list[str]]:
    """The ids cited in each paragraph of a human section with `[paper-id]` markers (paragraphs citing none dropped).

    Paragraphs end at blank lines, `\\par`, and sectioning commands (`\\subsection{}`, `\\paragraph{}`); LaTeX
    comments are removed first. `known` keeps only markers that are corpus ids.
    """
    groups = []
    for chunk in _BREAK.split(_COMMENT.sub("", related_work)):
        ids = [m for m in _MARKER.findall(chunk) if known is None or m in known]
        if ids:
            groups.append(list(dict.fromkeys(ids)))
    return groups


def section_paragraphs(section: Section) -> list[list[str]]:
    """The ids cited in each paragraph of a drafted section, in order of first citation."""
    return [list(dict.fromkeys(c for s in p.sentences for c in s.citations)) for p in section.paragraphs]


@dataclass(frozen=True)
class PairAgreement:
    """Pairwise agreement counts; add them up to pool pairs over several sections."""

    together_both: int = 0  # pairs in one paragraph in the draft and in the human section
    together_draft: int = 0  # pairs the draft puts in one paragraph
    together_human: int = 0  # pairs the human author puts in one paragraph
    papers: int = 0  # papers cited by both

    def __add__(self, other: PairAgreement) -> PairAgreement:
        return PairAgreement(
            self.together_both + other.together_both,
            self.together_draft + other.together_draft,
            self.together_human + other.together_human,
            self.papers + other.papers,
        )

    @property
    def precision(self) -> float | None:
        """Of the pairs the draft groups together, the share the human author grouped too."""
        return self.together_both / self.together_draft if self.together_draft else None

    @property
    def recall(self) -> float | None:
        """Of the pairs the human author grouped together, the share the draft groups too."""
        return self.together_both / self.together_human if self.together_human else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of pairwise precision and recall, 2·both / (draft + human).

        None when neither side puts any pair together (nothing to agree on); 0 when only one side does.
        """
        total = self.together_draft + self.together_human
        return 2 * self.together_both / total if total else None


def _memberships(groups: Sequence[Sequence[str]]) -> dict[str, set[int]]:
    where: dict[str, set[int]] = {}
    for i, group in enumerate(groups):
        for pid in group:
            where.setdefault(pid, set()).add(i)
    return where


def organisation_agreement(draft: Sequence[Sequence[str]], human: Sequence[Sequence[str]]) -> PairAgreement:
    """Pairwise agreement of two paragraphings over the papers both cite.

    A pair is together when the two papers share a paragraph (a paper cited in several paragraphs is in each).
    """
    d, h = _memberships(draft), _memberships(human)
    common = sorted(set(d) & set(h))
    both = in_draft = in_human = 0
    for a, b in combinations(common, 2):
        together_d, together_h = bool(d[a] & d[b]), bool(h[a] & h[b])
        in_draft += together_d
        in_human += together_h
        both += together_d and together_h
    return PairAgreement(both, in_draft, in_human, len(common))


def shuffled_organisation(
    draft: Sequence[Sequence[str]], human: Sequence[Sequence[str]], seed: int = 0, rounds: int = 200
) -> list[PairAgreement]:
    """The agreement of the draft's paragraphs shuffled among the common papers, once per round (seeded).

    Each common paper keeps one draft paragraph (its first); the shuffle keeps the paragraphs' sizes, so the
    baseline is what the draft's grouping would score if it knew nothing about which papers belong together.
    """
    h = _memberships(human)
    first: dict[str, int] = {}
    for i, group in enumerate(draft):
        for pid in group:
            first.setdefault(pid, i)
    common = sorted(set(first) & set(h))
    labels = [first[p] for p in common]
    rng = random.Random(seed)
    out = []
    for _ in range(rounds):
        rng.shuffle(labels)
        groups: dict[int, list[str]] = {}
        for pid, label in zip(common, labels, strict=True):
            groups.setdefault(label, []).append(pid)
        out.append(organisation_agreement(list(groups.values()), human))
    return out


# -- dangling openings -------------------------------------------------------------------------------------

_CONNECTIVES = (
    "however|moreover|furthermore|additionally|in addition|also|besides|further|thus|therefore|hence|"
    "consequently|accordingly|as a result|as such|then|next|finally|lastly|second|secondly|third|thirdly|"
    "meanwhile|nevertheless|nonetheless|still|yet|but|and|or|so|instead|otherwise|similarly|likewise|"
    "in contrast|by contrast|conversely|on the other hand|in particular|specifically|notably|importantly|"
    "overall|in summary|in short|to this end|to that end|to do so|in this way|by doing so|for this purpose"
)
_REFERRING = "this|these|that|those|such|it|them|both|its|their"
_BACKWARD_NOUNS = (
    "above|aforementioned|observation|observations|insight|insights|finding|findings|analysis|limitation|"
    "limitations|issue|issues|problem|problems|challenge|challenges|gap|gaps|idea|fact|intuition|motivation|"
    "results|former|latter|same"
)
_DANGLING = re.compile(
    rf"^(?:(?:{_CONNECTIVES})\b(?!-|\s+to\b)"
    rf"|(?:this|these|those|that|such|both|its|either|neither|here|the former|the latter|the above|"
    rf"the aforementioned|the resulting|the same)\b(?!-)"
    rf"|it\b(?!\s+(?:is|was|has been|remains|becomes|seems|appears)\s+\w+\s+(?:to|that|whether|how)\b)"
    rf"|(?:based on|motivated by|inspired by|building (?:up)?on|driven by|guided by|following|given|using|"
    rf"leveraging|through|with|by|from|unlike|compared (?:to|with)|in contrast to|as opposed to|to \w+)\s+(?:{_REFERRING}|the (?:{_BACKWARD_NOUNS}))\b)",
    re.I,
)
_THEY = re.compile(r"^(?:they|their|them)\b", re.I)


def dangling_opening(sentence: str, follows_same_papers: bool = False) -> bool:
    """Whether the sentence opens on a word that points back at a sentence before it.

    `follows_same_papers`: the previous sentence cites the same papers, so "They …" (the authors just named)
    or "These results …" may rest on it; any other sentence opening that way dangles.
    """
    text = sentence.lstrip(" \"'(")
    if follows_same_papers:
        return False
    return bool(_DANGLING.match(text) or _THEY.match(text))


# "Unlike these works, we …": the sentence relating the paper being written to the sources just cited.
_CONTRAST_WITH_SOURCES = re.compile(
    r"^(?:unlike|in contrast to|compared (?:to|with)|as opposed to)\s+(?:these|those)\b", re.I
)


def dangling_openings(section: Section) -> list[str]:
    """The sentences of a section that open dangling (each paragraph starts afresh)."""
    out = []
    for paragraph in section.paragraphs:
        previous: set[str] | None = None
        cited_before = False
        for s in paragraph.sentences:
            cited = set(s.citations)
            rests = bool(cited) and cited == previous
            # "these works" are the sources the paragraph has cited so far
            rests |= s.about_query and cited_before and bool(_CONTRAST_WITH_SOURCES.match(s.text))
            if dangling_opening(s.text, follows_same_papers=rests):
                out.append(s.text)
            previous = cited
            cited_before |= bool(cited)
    return out


def dangling_rate(section: Section) -> float | None:
    """Share of the section's sentences that open dangling; None for an empty section."""
    total = len(section.sentences)
    return len(dangling_openings(section)) / total if total else None
