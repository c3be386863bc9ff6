from pathlib import Path

import pytest

from synth.errors import SettingsError
from synth.settings import Settings


def test_defaults(tmp_path: Path) -> None:
    s = Settings.load()
    assert (s.k, s.corpus, s.drafter, s.model) == (12, "sample", "auto", None)
    assert s.home == tmp_path / "synth-home"  # from SYNTH_HOME set by the test fixture


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('k = 5\nheading = "From file"\nmodel = "file-model"\n')
    assert Settings.load(config).k == 5
    monkeypatch.setenv("SYNTH_K", "7")
    s = Settings.load(config)
    assert (s.k, s.heading, s.model) == (7, "From file", "file-model")
    s = Settings.load(config, k=9, model=None)  # None means "flag not given"
    assert (s.k, s.model) == (9, "file-model")


def test_config_found_in_home_and_via_env(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "synth-home"
    home.mkdir()
    (home / "config.toml").write_text("[synth]\nk = 3\n")
    assert Settings.load().k == 3
    other = tmp_path / "other.toml"
    other.write_text("k = 4\n")
    monkeypatch.setenv("SYNTH_CONFIG", str(other))
    assert Settings.load().k == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [("k = 0\n", "invalid setting k"), ("colour = 'red'\n", "invalid setting colour"), ("k = [", "invalid TOML")],
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


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file not found"):
        Settings.load(tmp_path / "none.toml")
