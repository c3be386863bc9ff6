"""Atomic writes give files the mode the user's umask asks for, like any other program's output."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from synth.files import current_umask, write_folder, write_text


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    os.umask(old)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775), (0o077, 0o600, 0o700)]
)
def test_written_files_and_folders_honour_the_umask(
    umask, tmp_path: Path, mask: int, file_mode: int, dir_mode: int
) -> None:
    umask(mask)
    assert current_umask() == mask
    out = tmp_path / "rw.md"
    write_text(out, "text")
    assert stat.S_IMODE(out.stat().st_mode) == file_mode and out.read_text() == "text"
    folder = tmp_path / "index"
    write_folder(folder, lambda tmp: (tmp / "a.json").write_text("{}"))
    assert stat.S_IMODE(folder.stat().st_mode) == dir_mode and (folder / "a.json").is_file()


def test_cli_outputs_honour_the_umask(umask, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from synth.cli import app

    umask(0o022)
    tex, bib = tmp_path / "rw.tex", tmp_path / "rw.bib"
    result = CliRunner().invoke(app, ["draft", "program synthesis", "-k", "3", "-o", str(tex), "--bib", str(bib)])
    assert result.exit_code == 0, result.output
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tex, bib)} == {0o644}
