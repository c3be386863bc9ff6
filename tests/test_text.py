import pytest

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
