"""Property-based fuzzing of what synth reads from outside: corpus files and model replies.

Whatever the bytes, reading gives papers or a CorpusError naming the file (never another exception), and a
reply gives a validated draft, a ValueError saying what is wrong, or None: never a crash, never a citation to
a source that was not shown. Example counts are bounded so the suite stays fast.
"""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from synth.corpus import load_corpus
from synth.draft.reply import citations, parse_reply
from synth.errors import CorpusError
from synth.llm.replies import find_json, keep_latex
from synth.markers import strip_markers

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
record = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "title": st.text(max_size=40) | json_values,
        "abstract": st.text(max_size=200) | json_values,
        "authors": json_values,
        "year": json_values,
        "date": st.text(max_size=20) | json_values,
        "doi": json_values,
    },
)


def _read(suffix: str, data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"corpus{suffix}"
        path.write_bytes(data)
        try:
            corpus = load_corpus(path)
        except CorpusError as e:
            assert str(path) in str(e) or str(e).startswith(str(path))  # the error names the file
            return None
        assert corpus.papers and all(p.title and p.abstract for p in corpus.papers)
        assert len({p.id for p in corpus.papers}) == len(corpus.papers)  # ids stay unique
        return corpus


@FAST
@given(st.lists(record, max_size=8), st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_jsonl_records_read_or_fail_clearly(records: list[dict], newline: str) -> None:
    lines = newline.join(json.dumps(r, default=str) for r in records)
    _read(".jsonl", lines.encode())


@FAST
@given(st.binary(max_size=400), st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".bib", ".ris"]))
def test_any_bytes_in_any_format_read_or_fail_clearly(data: bytes, suffix: str) -> None:
    _read(suffix, data)


@FAST
@given(st.text(alphabet=string.printable + '{}[]"\\\u00e9\u2013\uff3b\uff3d', max_size=300))
def test_any_reply_text_parses_or_says_why(text: str) -> None:
    try:
        parsed = parse_reply(text)
    except (ValueError, ValidationError):
        return
    for paragraph in parsed.reply.paragraphs:
        for sentence in paragraph.sentences:
            words, cited = citations(sentence, sources=3)
            assert all(1 <= n <= 3 for n in cited.numbers)  # never a source that was not shown
            assert strip_markers(words)[1] == []  # no marker survives in the text


@FAST
@given(json_values)
def test_any_json_value_in_a_reply_is_found_again(value: object) -> None:
    text = "Sure, here it is:\n```json\n" + json.dumps({"v": value}) + "\n```"
    found = find_json(text)
    assert found is not None and found.complete


@FAST
@given(st.text(alphabet='abfnrtu\\"0123456789 xyz', max_size=60))
def test_backslashes_in_strings_never_break_json(inner: str) -> None:
    fragment = '{"text": "' + inner.replace('"', "") + '"}'
    try:
        json.loads(keep_latex(fragment), strict=False)
    except ValueError as e:
        # Only a string that ends on a lone backslash (escaping the closing quote) may still fail.
        assert inner.replace('"', "").endswith("\\"), e
