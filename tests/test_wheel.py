"""The built wheel works on its own: templates and sample corpus inside, nothing borrowed from a checkout.

The wheel is installed into a fresh virtual environment that does not see the base interpreter's
packages. Its dependencies come from the environment running the tests (a `.pth` line naming that
environment's site-packages), so the test needs no network and cannot pass because the machine's base
Python happens to hold a package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from fake_openai import Answer, FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]
DRAFT_REPLY = {
    "paragraphs": [
        {
            "sentences": [
                {"text": "Programs can be synthesised from input-output examples.", "cites": [1]},
                {"text": "Language models write programs from natural-language descriptions.", "cites": [2]},
            ]
        }
    ]
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the built wheel; returns its bin folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
    )
    wheel = next(dist.glob("synth-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"synth/data/seed_abstracts.jsonl", "synth/data/background_df.json"} <= set(names)
    templates = {p.name for p in (ROOT / "prompts").glob("*.j2")}
    assert templates and {f"synth/prompts/{t}" for t in templates} <= set(names)
    assert not any(n.startswith(("tests/", "eval/", "prompts/")) for n in names)

    env_dir = tmp / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())  # fmt: skip
    # Dependencies from the test environment, as plain path entries: its own .pth files (an editable
    # synth among them) are not processed, so only the wheel can provide `synth`.
    deps = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "deps-from-test-env.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    return env_dir / "bin"


def run(bin_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SYNTH_", "PYTHON")) and not k.endswith("_API_KEY")
    }
    clean |= {"SYNTH_HOME": str(cwd / "home"), **(env or {})}
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=clean, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


@pytest.mark.slow
def test_the_installed_package_is_the_wheel_and_sees_no_base_packages(installed: Path, tmp_path: Path) -> None:
    code = "import sys, synth; print(synth.__file__); print([p for p in sys.path if p.startswith(sys.base_prefix)])"
    result = run(installed, "python", "-c", code, cwd=tmp_path)
    where, base_paths = result.stdout.splitlines()
    assert where.startswith(str(installed.parent)), result.stdout + result.stderr
    assert "site-packages" not in base_paths  # only the standard library comes from the base interpreter


@pytest.mark.slow
def test_offline_draft_and_check_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    drafted = run(installed, "synth", "draft", "program synthesis from examples", "-o", "rw.md", cwd=tmp_path)
    assert drafted.returncode == 0, drafted.stderr
    text = (tmp_path / "rw.md").read_text()
    assert text.startswith("## Related Work") and "[1]" in text and "### References" in text

    checked = run(installed, "synth", "check", "rw.md", "--format", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["invalid_citations"] == 0 and report["citation_precision"] is not None


@pytest.mark.slow
def test_llm_draft_from_the_wheel_uses_the_shipped_templates(installed: Path, tmp_path: Path) -> None:
    with FakeOpenAI(Answer(content=json.dumps(DRAFT_REPLY))) as server:
        drafted = run(installed, "synth", "draft", "program synthesis from examples", "--model", "openai/local",
                      "--api-base", server.base, "--pipeline", "one-shot", "--no-verify", "--format", "json", cwd=tmp_path)  # fmt: skip
    assert drafted.returncode == 0, drafted.stderr
    prompt = "\n".join(m["content"] for m in server.requests[0]["messages"])
    assert '<source n="1">' in prompt and "Reply with only a JSON object" in prompt  # draft.j2 rendered
    section = json.loads(drafted.stdout)
    assert section["drafter"] != "extractive"
    texts = [s["text"] for p in section["paragraphs"] for s in p["sentences"]]
    assert any("input-output examples" in t for t in texts)
