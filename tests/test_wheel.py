"""The installed wheel works on its own: sample corpus inside, no checkout on the path."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_drafts(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
    )
    wheel = next(dist.glob("synth-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "synth/data/seed_abstracts.jsonl" in names
    assert not any(n.startswith(("tests/", "eval/")) for n in names)

    # Dependencies come from this environment; only synth itself comes from the wheel.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)

    env = {**os.environ, "SYNTH_HOME": str(tmp_path / "home"), "PYTHONPATH": ""}
    where = subprocess.run(
        [python, "-c", "import synth; print(synth.__file__)"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(env_dir)), where.stdout + where.stderr

    result = subprocess.run(
        [env_dir / "bin" / "synth", "draft", "program synthesis from examples"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## Related Work") and "[1]" in result.stdout and "### References" in result.stdout
