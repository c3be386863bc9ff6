"""9. LLM cache poisoning: invalid entries, wrong types, a FIFO or directory at a cache path, ANSI escapes.

A draft with --cache fills SYNTH_HOME/llm-cache with one entry. Each case copies that home, poisons the entry,
and drafts again (same request) against a server that now answers a different valid draft. An unusable entry
must be treated as a miss (the server is asked, the section is the new one) and replaced by a good one; a
valid entry is served. Text the terminal would interpret (ESC, BEL, BS, lone CR) must not reach stdout raw,
from the cache or from the server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import QUERY, reply
from ..core import CaseResult, Observed
from ..fakeserver import Answer
from ..llmcase import LLMCase

CLS = "c09"
TITLE = "LLM cache poisoning"
FIRST = reply(("Programs are synthesized from input-output examples.", [1]))
SECOND = reply(("Neural networks guide the search for programs.", [2]))
CONTROL = re.compile(r"[\x1b\x07\x08\x9b]|\r(?!\n)")


def _entry(text: Any, **kw: Any) -> str:
    return json.dumps({"model": cli.MODEL, "text": text, "prompt_tokens": 10, "completion_tokens": 5, **kw})


ANSI = [
    ("clear screen", "\x1b[2J\x1b[H"),
    ("window title (OSC)", "\x1b]0;pwned\x07"),
    ("red text", "\x1b[31mred\x1b[0m"),
    ("backspaces", "safe\x08\x08\x08\x08evil"),
    ("carriage return overwrite", "looks fine\roverwritten"),
    ("C1 CSI", "\x9b31m"),
    ("OSC 52 clipboard", "\x1b]52;c;cHduZWQ=\x07"),
]


def poisons() -> list[tuple[str, Callable[[Path], None], str]]:
    """(name, poison(path), expectation): "miss" (asked again, healed), "served" (the entry's text is used)."""

    def write(text: str | bytes) -> Callable[[Path], None]:
        def go(p: Path) -> None:
            p.write_bytes(text if isinstance(text, bytes) else text.encode())

        return go

    out: list[tuple[str, Callable[[Path], None], str]] = [
        ("invalid JSON", write("{not json"), "miss"),
        ("empty file", write(""), "miss"),
        ("{}", write("{}"), "miss"),
        ("[]", write("[]"), "miss"),
        ("null", write("null"), "miss"),
        ("a JSON string", write('"hello"'), "miss"),
        ("text an int", write(_entry(42)), "miss"),
        ("text a list", write(_entry(["a"])), "miss"),
        ("text a dict", write(_entry({"paragraphs": []})), "miss"),
        ("text null", write(_entry(None)), "miss"),
        ("no text", write(json.dumps({"prompt_tokens": 1, "completion_tokens": 1})), "miss"),
        ("no token counts", write(json.dumps({"text": SECOND})), "either"),
        ("tokens strings", write(_entry(SECOND, prompt_tokens="ten")), "miss"),
        ("tokens negative", write(_entry(SECOND, prompt_tokens=-5)), "either"),
        ("tokens 1e300", write(_entry(SECOND, prompt_tokens=1e300)), "miss"),
        ("text not a draft", write(_entry("I cannot help.")), "miss"),
        ("not UTF-8", write(b'{"text": "\xff\xfe"}'), "miss"),
        ("UTF-8 BOM", write("\ufeff" + _entry(SECOND)), "either"),
        ("nested 100k deep", write("[" * 100_000 + "]" * 100_000), "miss"),
        ("a directory", _directory, "miss"),
        ("a FIFO", _fifo, "miss"),
        ("a link to /dev/zero", _devzero, "miss"),
        ("a link to a file outside", _outside_link, "miss"),
        ("llm-cache is a file", _cache_dir_file, "miss"),
    ]
    for name, seq in ANSI:
        # Served or refused as foreign: either way the escape must not reach the terminal.
        out.append((f"ANSI: {name}", write(_entry(reply((f"Programs {seq} are synthesized.", [1])))), "either"))
    return out


def _directory(p: Path) -> None:
    p.unlink()
    p.mkdir()


def _fifo(p: Path) -> None:
    p.unlink()
    os.mkfifo(p)


def _devzero(p: Path) -> None:
    p.unlink()
    p.symlink_to("/dev/zero")


def _outside_link(p: Path) -> None:
    outside = p.parent.parent / "outside.txt"
    outside.write_text("do not overwrite me")
    p.unlink()
    p.symlink_to(outside)


def _cache_dir_file(p: Path) -> None:
    shutil.rmtree(p.parent)
    p.parent.write_text("not a folder")


def run(ctx: Any) -> list[CaseResult]:
    plans = poisons()
    if ctx.quick:
        plans = [
            p
            for p in plans
            if p[0] in ("{}", "text an int", "tokens strings", "a directory", "a FIFO", "ANSI: clear screen")
        ]
    results = ctx.pool(lambda p: _case(ctx, *p), plans, cls=CLS)
    results += ctx.pool(lambda a: _direct_ansi(ctx, *a), ANSI if not ctx.quick else ANSI[:1], cls=CLS)
    return results


def _case(ctx: Any, name: str, poison: Callable[[Path], None], expect: str) -> CaseResult:
    """Draft once (fills the cache), poison the entry, draft again: the server now answers SECOND."""
    with LLMCase(ctx, CLS, f"cache: {name}", [Answer(content=FIRST), Answer(content=SECOND)]) as c:
        seed = c.draft(cache=True, retries=0, bound=30)
        seeded = len(c.requests)
        folder = c.home / cli.LLM_CACHE_DIR
        entries = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        if seed.rc != 0 or not entries:
            return CaseResult(
                CLS, f"cache: {name}", "could_not_run", f"no cache entry after a draft: {seed.short(300)}"
            )
        path = entries[0]
        for entry in entries if poison is not _cache_dir_file else entries[:1]:  # every entry the draft wrote
            poison(entry)
        obs = c.draft(cache=True, retries=0, bound=15 if ctx.quick else 30)
        asked = len(c.requests) - seeded

        def oracle(o: Observed) -> str | None:
            problems = []
            if CONTROL.search(o.stdout):
                problems.append(
                    f"terminal control characters from the cache reach stdout: {CONTROL.findall(o.stdout)[:3]!r}"
                )
            if expect == "miss":
                if asked < 1:
                    problems.append("a poisoned entry was served (the server was not asked)")
                elif "Neural networks guide" not in o.stdout:
                    problems.append("the section is not the server's new answer")
                healed = path.is_file() and not path.is_symlink() and _valid(path)
                if not healed and name not in ("a FIFO", "a link to /dev/zero", "llm-cache is a file", "a directory"):
                    problems.append("the poisoned entry was not replaced")
                outside = path.parent.parent / "outside.txt"
                if outside.exists() and outside.read_text() != "do not overwrite me":
                    problems.append("the cache write followed a symlink and overwrote a file outside the cache")
            elif expect == "served" and asked != 0:
                problems.append("a valid entry was not served")
            return "; ".join(problems) or None

        sig = (
            "ANSI / control characters replayed to the terminal" if name.startswith("ANSI") else "poisoned cache entry"
        )
        return c.judge(obs, oracle=oracle, valid_input=True, note=f"{asked} request(s) after poisoning", sig=sig)


def _valid(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text()).get("text"), str)
    except (OSError, ValueError, AttributeError, RecursionError):
        return False


def _direct_ansi(ctx: Any, name: str, seq: str) -> CaseResult:
    with LLMCase(
        ctx, CLS, f"server reply: {name}", Answer(content=reply((f"Programs {seq} are synthesized.", [1])))
    ) as c:
        obs = c.draft(retries=0, bound=30, mode="proc")

        def oracle(o: Observed) -> str | None:
            found = CONTROL.findall(o.stdout)
            return f"terminal control characters from the model reach stdout: {found[:3]!r}" if found else None

        return c.judge(obs, oracle=oracle, sig="ANSI / control characters replayed to the terminal")


del QUERY
