import logging
from pathlib import Path

import pytest

from synth.errors import SettingsError
from synth.settings import GROUP_OF, Settings


def test_defaults(tmp_path: Path) -> None:
    s = Settings.load()
    assert (s.retrieval.k, s.corpus, s.draft.drafter, s.llm.model) == (12, "sample", "auto", None)
    assert s.home == tmp_path / "synth-home"  # from SYNTH_HOME set by the test fixture


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('k = 5\nheading = "From file"\nmodel = "file-model"\n')
    assert Settings.load(config).retrieval.k == 5
    monkeypatch.setenv("SYNTH_K", "7")
    s = Settings.load(config)
    assert (s.retrieval.k, s.draft.heading, s.llm.model) == (7, "From file", "file-model")
    s = Settings.load(config, k=9, model=None)  # None means "flag not given"
    assert (s.retrieval.k, s.llm.model) == (9, "file-model")


def test_config_takes_flat_keys_group_tables_or_a_synth_table(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "synth-home"
    home.mkdir()
    (home / "config.toml").write_text("[synth]\nk = 3\n")
    assert Settings.load().retrieval.k == 3
    other = tmp_path / "other.toml"
    other.write_text('corpus = "x.jsonl"\n[retrieval]\nk = 4\n[llm]\nmodel = "m"\n')
    monkeypatch.setenv("SYNTH_CONFIG", str(other))
    s = Settings.load()
    assert (s.retrieval.k, s.llm.model, s.corpus) == (4, "m", "x.jsonl")


@pytest.mark.parametrize(
    ("content", "message"),
    [("k = 0\n", "invalid setting k"), ("colour = 'red'\n", "unknown key in .*'colour'"), ("k = [", "invalid TOML")],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(content)
    with pytest.raises(SettingsError, match=message):
        Settings.load(config)


def test_bad_env_value(monkeypatch) -> None:
    monkeypatch.setenv("SYNTH_DRAFTER", "magic")
    with pytest.raises(SettingsError, match="invalid setting drafter"):
        Settings.load()


def test_unknown_synth_variables_are_warned_about(monkeypatch, caplog) -> None:
    monkeypatch.setenv("SYNTH_MODLE", "gpt-4o-mini")  # a typo changes nothing, silently: warn
    with caplog.at_level(logging.WARNING):
        s = Settings.load()
    assert s.llm.model is None and "ignoring SYNTH_MODLE: no such setting" in caplog.text


def test_stage_names_are_checked_against_the_registries() -> None:
    from synth.check import JUDGES
    from synth.retrieve import RETRIEVERS

    with pytest.raises(SettingsError, match=r"invalid setting retriever: unknown retriever 'tfidf': use auto, bm25"):
        Settings.load(retriever="tfidf")
    RETRIEVERS["mine"] = lambda synth: None  # a user's own retriever becomes a valid name
    JUDGES["strict"] = lambda synth: None
    try:
        s = Settings.load(retriever="mine", judge="strict")
        assert (s.retrieval.retriever, s.check.judge) == ("mine", "strict")
    finally:
        del RETRIEVERS["mine"], JUDGES["strict"]


def test_flat_names_are_unique_and_round_trip() -> None:
    s = Settings.load(k=30, model="m", window=2, words=500)
    flat = s.flat()
    assert {k: flat[k] for k in ("k", "model", "window", "words")} == {"k": 30, "model": "m", "window": 2, "words": 500}
    assert set(flat) == set(GROUP_OF)
    assert s.updated(k=5).retrieval.k == 5 and s.updated(k=5).llm.model == "m"
    with pytest.raises(SettingsError, match="unknown setting 'kk'"):
        s.updated(kk=5)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file not found"):
        Settings.load(tmp_path / "none.toml")
