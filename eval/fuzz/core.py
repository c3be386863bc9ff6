"""Outcomes, case results and the checks every case shares: how a run of synth is classified, and leak scans.

A case runs synth once (or a few times) on one hostile input and ends in exactly one outcome:

- correct      synth did the right thing (a result that passes the case's oracle, or a refusal where one is right)
- clear_error  exit 1 with one `error: ...` line that is not `error: unexpected ...`
- wrong        exit 0 (or a clear error) but the result breaks the oracle: a foreign citation rendered, fields
               grafted across papers, a silently different ranking, an unneutralised control token in a prompt
- unexpected   `error: unexpected ...`, a traceback, or death by a signal / MemoryError
- hang         the case went over its time bound (the process group was killed)
- leak         a secret from the environment appeared in an output, an error line, a record or a cache file
- could_not_run the invocation itself did not apply to this checkout (unknown option, missing command)

`failure` marks the outcomes the lead should look at: wrong, unexpected, hang, leak, and clear errors on
input that has a valid answer (the oracle says so).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("correct", "clear_error", "wrong", "unexpected", "hang", "leak", "could_not_run")
FAILING = {"wrong", "unexpected", "hang", "leak"}


@dataclass
class Observed:
    """What one run of synth did."""

    argv: list[str]
    rc: int | None
    stdout: str = ""
    stderr: str = ""
    elapsed: float = 0.0
    timed_out: bool = False
    exception: str | None = None  # in-process: an exception that escaped the CLI (type: message)
    traceback: str | None = None
    maxrss_mb: float | None = None
    mode: str = "proc"  # proc (a real subprocess) or inproc (typer's CliRunner in a persistent worker)
    env: dict[str, str] = field(default_factory=dict)  # the case-specific variables (not the whole environment)
    stdin: str | None = None

    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.startswith("error:")]

    def short(self, limit: int = 600) -> str:
        """stdout/stderr, trimmed, for the report."""
        out = self.stdout.strip()
        err = self.stderr.strip()
        parts = []
        if err:
            parts.append("stderr: " + (err if len(err) <= limit else err[:limit] + f" … [{len(err)} chars]"))
        if out:
            parts.append("stdout: " + (out if len(out) <= limit else out[:limit] + f" … [{len(out)} chars]"))
        return "\n".join(parts) or "(no output)"


@dataclass
class CaseResult:
    """One case: the input tried, its outcome and everything needed to reproduce it."""

    cls: str
    name: str
    outcome: str
    detail: str = ""
    failure: bool = False
    signature: str = ""  # groups failures with one cause, e.g. "unexpected RecursionError in corpus/_jsonl_lines"
    repro: str = ""  # a shell command (or code) that reproduces it, relative to the repro folder
    observed: str = ""  # trimmed output seen
    where: str = ""  # the synth file/function where it goes wrong, when known
    elapsed: float = 0.0
    files: list[str] = field(default_factory=list)  # reproducer files written under --out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_UNEXPECTED = re.compile(r"^error: unexpected (\w+)", re.M)
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.M)
_USAGE = re.compile(r"No such option|No such command|Got unexpected extra argument|Missing argument|Invalid value for")


def exit_kind(o: Observed) -> str:
    """The outcome of a run judged by its exit alone: ok, clear_error, unexpected, hang or could_not_run."""
    if o.timed_out:
        return "hang"
    if o.rc is None:
        return "could_not_run"
    if o.exception or _TRACEBACK.search(o.stderr) or _UNEXPECTED.search(o.stderr):
        return "unexpected"
    if o.rc == 2 and _USAGE.search(o.stderr):
        return "could_not_run"
    if o.rc == 0:
        return "ok"
    if o.rc == 1 and o.error_lines():
        return "clear_error"
    return "unexpected"  # killed by a signal, MemoryError at exit, exit codes the CLI never uses


def unexpected_name(o: Observed) -> str:
    """The exception type behind an unexpected outcome."""
    if m := _UNEXPECTED.search(o.stderr):
        return m.group(1)
    if o.exception:
        return o.exception.split(":", 1)[0]
    if _TRACEBACK.search(o.stderr):
        last = [ln for ln in o.stderr.splitlines() if ln and not ln.startswith(" ")]
        return last[-1].split(":", 1)[0] if last else "Traceback"
    if o.rc is not None and o.rc < 0:
        return f"signal {-o.rc}"
    return f"exit {o.rc}"


_FRAME = re.compile(r'File "([^"]*?/synth/[^"]+)", line (\d+), in (\S+)')


def synth_frame(traceback: str | None) -> str:
    """The deepest frame of a traceback inside the synth package: "synth/corpus/__init__.py:160 _jsonl_lines"."""
    if not traceback:
        return ""
    frames = _FRAME.findall(traceback)
    if not frames:
        return ""
    path, line, fn = frames[-1]
    return f"synth/{path.split('/synth/', 1)[1]}:{line} {fn}"


class Secrets:
    """Fake credentials put in the environment of every case; none may ever appear in what synth writes."""

    def __init__(self) -> None:
        tag = secrets.token_hex(6)
        self.values = {
            "OPENAI_API_KEY": f"sk-fuzz-SECRET-openai-{tag}",
            "ANTHROPIC_API_KEY": f"sk-ant-fuzz-SECRET-{tag}",
            "GEMINI_API_KEY": f"fuzz-SECRET-gemini-{tag}",
            "FUZZ_UNRELATED_TOKEN": f"fuzz-SECRET-unrelated-{tag}",
        }

    @property
    def openai(self) -> str:
        return self.values["OPENAI_API_KEY"]

    def env(self) -> dict[str, str]:
        return dict(self.values)

    def find(self, text: str | bytes) -> list[str]:
        """Names of the secrets found in `text` (also a distinctive 16-character prefix of each)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        found = []
        for name, value in self.values.items():
            if value in text or value[-16:] in text:
                found.append(name)
        return found

    def scan_files(self, *roots: Path) -> list[str]:
        """'path: NAME' for every file under `roots` that holds a secret."""
        hits = []
        for root in roots:
            if not root.exists():
                continue
            files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
            for f in files:
                try:
                    data = f.read_bytes()[:50_000_000]
                except OSError:
                    continue
                for name in self.find(data):
                    hits.append(f"{f}: {name}")
        return hits


def trim(text: str, limit: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f" … [{len(text)} chars]"
