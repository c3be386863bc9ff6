import pytest

from synth.evaluate.fidelity import damage
from synth.evaluate.reference import (
    PairAgreement,
    dangling_opening,
    dangling_openings,
    dangling_rate,
    human_paragraphs,
    organisation_agreement,
    reference_precision,
    reference_recall,
    section_paragraphs,
    shuffled_organisation,
)
from synth.models import Paper, Paragraph, Section, Sentence


def test_reference_precision_and_recall() -> None:
    assert reference_precision(["a", "b", "c", "d"], ["a", "c", "x"]) == 0.5
    assert reference_recall(["a", "b", "c", "d"], ["a", "c", "x"]) == pytest.approx(2 / 3)
    assert reference_precision([], ["a"]) is None
    assert reference_recall(["a"], []) is None


HUMAN = r"""\subsection{Graphs}
GCN [pa] and SGC [pb] simplify convolutions. % a comment citing [pz]
Spectral methods [pc] too.\par
Other work [pd][pe] studies CF.

\paragraph{Filters} LinkProp [pf] and [pc] again. Not an id [0.5] nor [CLS].
"""


def test_human_paragraphs_split_on_blank_lines_par_and_headings() -> None:
    assert human_paragraphs(HUMAN) == [["pa", "pb", "pc"], ["pd", "pe"], ["pf", "pc", "0.5", "CLS"]]
    known = {"pa", "pb", "pc", "pd", "pe", "pf"}
    assert human_paragraphs(HUMAN, known) == [["pa", "pb", "pc"], ["pd", "pe"], ["pf", "pc"]]


def _section(*paragraphs: list[list[str]]) -> Section:
    return Section(
        query="q",
        paragraphs=[Paragraph(sentences=[Sentence(text=f"S {c}.", citations=c) for c in p]) for p in paragraphs],
    )


def test_organisation_agreement_counts_pairs_over_common_papers() -> None:
    human = [["a", "b", "c"], ["d", "e"]]
    draft = [["a", "b"], ["c", "d", "e"], ["x"]]  # x is not in the human section: ignored
    agreement = organisation_agreement(draft, human)
    # Common papers a..e: 10 pairs. Human together: ab ac bc de (4). Draft together: ab cd ce de (4). Both: ab de.
    assert agreement == PairAgreement(together_both=2, together_draft=4, together_human=4, papers=5)
    assert agreement.precision == agreement.recall == agreement.f1 == 0.5
    assert organisation_agreement(human, human).f1 == 1.0
    assert organisation_agreement([["a"], ["b"]], human).precision is None  # the draft groups nothing
    pooled = agreement + agreement
    assert (pooled.together_both, pooled.f1) == (4, 0.5)


def test_a_paper_cited_in_two_paragraphs_is_together_with_both() -> None:
    assert organisation_agreement([["a", "b"], ["b", "c"]], [["a", "b", "c"]]).together_draft == 2


def test_shuffled_baseline_is_seeded_and_keeps_paragraph_sizes() -> None:
    human = [["a", "b", "c"], ["d", "e", "f"]]
    draft = [["a", "b", "c"], ["d", "e", "f"]]
    first = shuffled_organisation(draft, human, seed=1, rounds=50)
    assert first == shuffled_organisation(draft, human, seed=1, rounds=50)
    assert all(a.together_draft == 6 for a in first)  # two groups of three, whatever the shuffle
    mean_f1 = sum(a.f1 or 0 for a in first) / len(first)
    assert mean_f1 < 0.9 < organisation_agreement(draft, human).f1  # the true grouping beats chance


def test_section_paragraphs() -> None:
    assert section_paragraphs(_section([["a"], ["b", "a"]], [["c"]])) == [["a", "b"], ["c"]]


@pytest.mark.parametrize(
    "sentence",
    [
        "These findings lead to a new model.",
        "Based on the observation, we design X.",
        "To address this, we propose Y.",
        "However, models fail.",
        "This approach scales.",
        "It achieves 3% more.",
        "Motivated by these results, we build Z.",
        "In contrast, X fails.",
        "They also release code.",
    ],
)
def test_dangling_openings(sentence: str) -> None:
    assert dangling_opening(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Transformers scale well.",
        "In contrast to prior work, X is exact.",
        "Unlike prior work, X is exact.",
        "It is hard to learn programs.",
        "Given a program, find its inputs.",
        "Second-order methods converge.",
        "Thereby-named X works.",
    ],
)
def test_standalone_openings(sentence: str) -> None:
    assert not dangling_opening(sentence)


def test_a_sentence_may_lean_on_the_previous_one_citing_the_same_papers() -> None:
    section = Section(
        query="q",
        paragraphs=[
            Paragraph(
                sentences=[
                    Sentence(text="Smith et al. propose X.", citations=["a"]),
                    Sentence(text="They show it works.", citations=["a"]),
                    Sentence(text="These results hold.", citations=["b"]),
                ]
            ),
            Paragraph(sentences=[Sentence(text="They also do Y.", citations=["b"])]),
        ],
    )
    assert dangling_openings(section) == ["These results hold.", "They also do Y."]
    assert dangling_rate(section) == 0.5


PAPER = Paper(
    id="x",
    title="We-Math 2.0: A Versatile System",
    abstract="We-Math 2.0 is a system that we build. A single model suffices for Bayesian tasks. "
    "Note that results vary. Transformers scale well. We propose X for MATH.",
    authors=["A Smith", "B Lee"],
)


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("They-Math 2.0 is a system that they build.", "name: We-Math -> They-Math"),
        ("As some researchers note, A single model suffices for Bayesian tasks.", "mid-sentence capital: A"),
        ("As other authors note, note that results vary.", "doubled: note note"),
        ("transformers scale well.", "lower-case start: transformers"),
        ("Smith and Lee propose X for math.", "name: MATH -> math"),
        ("As others note, a single model suffices for bayesian tasks.", "name: Bayesian -> bayesian"),
    ],
)
def test_damage_is_found(sentence: str, problem: str) -> None:
    assert problem in damage(sentence, [PAPER])


@pytest.mark.parametrize(
    "sentence",
    [
        "We-Math 2.0 is a system that they build.",
        "As Smith and Lee note, transformers scale well.",
        "Smith and Lee propose X for MATH.",
        "As others note, a single model suffices for Bayesian tasks.",
        "Results vary.",
    ],
)
def test_clean_edits_are_not_damage(sentence: str) -> None:
    assert damage(sentence, [PAPER]) == []


def test_the_closing_contrast_rests_on_the_sources_its_paragraph_cited() -> None:
    closing = Sentence(text="Unlike these works, we verify citations.", about_query=True)
    after_sources = Paragraph(sentences=[Sentence(text="Smith et al. propose X.", citations=["a"]), closing])
    alone = Paragraph(sentences=[closing])
    cited_contrast = Paragraph(sentences=[Sentence(text="Smith et al. do Y.", citations=["a"]),
                                          Sentence(text="Unlike these works, Lee et al. do Z.", citations=["b"])])  # fmt: skip
    section = Section(query="q", paragraphs=[after_sources, alone, cited_contrast])
    assert dangling_openings(section) == [closing.text, "Unlike these works, Lee et al. do Z."]
