import pytest

from synth.markers import strip_citation_markers
from synth.text import normalise, split_sentences, terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Smith et al. propose X. We agree.", ["Smith et al. propose X.", "We agree."]),
        ("Use tools, e.g. search. Then stop.", ["Use tools, e.g. search.", "Then stop."]),
        ("As shown in Eq. 3 the loss drops. Next.", ["As shown in Eq. 3 the loss drops.", "Next."]),
        ("Accuracy rose by 3.5 points. It held.", ["Accuracy rose by 3.5 points.", "It held."]),
        ("We release v1.2 of the code. Try it.", ["We release v1.2 of the code.", "Try it."]),
        ("Three parts: (i) data. (ii) model. Done.", ["Three parts: (i) data.", "(ii) model.", "Done."]),
        ("Work by J. Doe shows this. Really!", ["Work by J. Doe shows this.", "Really!"]),
        ("Is it? Yes.", ["Is it?", "Yes."]),
        ("No final stop", ["No final stop"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_terms_stem_drop_stopwords_and_split_hyphens() -> None:
    assert terms("Learning programs from input-output examples") == ["learn", "program", "input", "output", "exampl"]


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Déjà-Vu:  A  Study! ") == "deja vu a study"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Inductive program synthesis [2] is hard.", "Inductive program synthesis is hard."),
        ("As shown [ 14 ], it works.", "As shown, it works."),
        ("Fullwidth ［１３］ and 【13】 markers.", "Fullwidth and markers."),
        (
            "Suffixed [12a], ranged [1-3], listed [5, 6] and joined [1]–[4] or [2][5].",
            "Suffixed, ranged, listed and joined or.",
        ),
        ("Ids [pd26379a69f] and [arXiv:1710.08005] go.", "Ids and go."),
        ("Author-year [Song and Yu, ICML'21] and [Smith et al., 2020] go.", "Author-year and go."),
        (
            "The [CLS] token, [MASK], [sic], [GPT-4] and [3D] stay.",
            "The [CLS] token, [MASK], [sic], [GPT-4] and [3D] stay.",
        ),
        ("Scores in [0, 1] and [-1, 1] or [0.5, 2] stay.", "Scores in [0, 1] and [-1, 1] or [0.5, 2] stay."),
        ("No brackets at all.", "No brackets at all."),
    ],
)
def test_strip_citation_markers(text: str, expected: str) -> None:
    assert strip_citation_markers(text) == expected


def test_an_acronym_in_capitals_ends_a_sentence_where_the_abbreviation_would_not() -> None:
    assert split_sentences("We improve on CF. They prove it. See cf. Smith for more.") == [
        "We improve on CF.",
        "They prove it.",
        "See cf. Smith for more.",
    ]


def test_sentence_spans_point_into_the_original_text() -> None:
    from synth.text import sentence_spans

    text = "  First sentence here.\n\nSecond  one, with e.g. an abbreviation.   Third!"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "First sentence here.",
        "Second  one, with e.g. an abbreviation.",
        "Third!",
    ]
