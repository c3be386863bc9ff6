"""12. User templates that fail (`--prompts DIR`): a template error line, or "unexpected"?

Each case writes one broken or hostile `draft.j2` (or `draft_system.j2`, `support.j2`) into a prompts folder
and drafts (or checks with the LLM judge) against the fake server. A template that cannot render should give
one `error: ... template ...` line; a template that renders (even to something odd) may succeed. Runaway
templates (nested loops, lipsum, a huge render) are bounded at 30 s: they are the user's own code, so a hang
there is reported apart from the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import QUERY, VALID, small_corpus, to_jsonl
from ..core import CaseResult, Observed
from ..fakeserver import Answer
from ..llmcase import LLMCase

CLS = "c12"
TITLE = "User templates that fail"
TEMPLATE_ERROR = r"[Tt]emplate|prompt"

# (name, file, content or a function that makes the file, expectation: "error", "ok" or "any")
CASES: list[tuple[str, str, Any, str]] = [
    ("recursive macro", "draft.j2", "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "error"),
    ("range(10**9)", "draft.j2", "{% for i in range(10**9) %}x{% endfor %}", "error"),
    ("range(100001) | list", "draft.j2", "{{ range(100001) | list | length }}", "error"),
    ("'a' * 2**62", "draft.j2", "{{ 'a' * (2**62) }}", "error"),
    ("10 ** 10 ** 6 (a million digits)", "draft.j2", "{{ 10 ** 10 ** 6 }}", "any"),
    ("1/0", "draft.j2", "{{ 1 / 0 }}", "error"),
    ("int('x')", "draft.j2", "{{ 'x' | int }}{{ [] | first }}", "any"),
    ("undefined variable", "draft.j2", "{{ no_such_variable }}", "error"),
    ("attribute of undefined", "draft.j2", "{{ sources[99].title }}", "error"),
    ("syntax error", "draft.j2", "{% for %}", "error"),
    ("unclosed block", "draft.j2", "{% if query %}never closed", "error"),
    ("sandbox escape attempt", "draft.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "error"),
    ("self include", "draft.j2", "{% include 'draft.j2' %}", "error"),
    ("self extends", "draft.j2", "{% extends 'draft.j2' %}", "error"),
    ("include missing", "draft.j2", "{% include 'missing.j2' %}", "error"),
    ("unknown filter", "draft.j2", "{{ query | no_such_filter }}", "error"),
    ("unknown tag (do)", "draft.j2", "{% do x.append(1) %}", "error"),
    ("not UTF-8", "draft.j2", b"Write about {{ query }} \xff\xfe", "error"),
    ("empty template", "draft.j2", "", "any"),
    ("a directory named draft.j2", "draft.j2", "DIR", "any"),
    ("a FIFO named draft.j2", "draft.j2", "FIFO", "any"),
    ("a link to /dev/zero", "draft.j2", "DEVZERO", "any"),
    ("system template syntax error", "draft_system.j2", "{% if %}", "error"),
    ("system template recursion", "draft_system.j2", "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "error"),
    (
        "nested loops 10^10",
        "draft.j2",
        "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
        "runaway",
    ),
    ("lipsum(10**6)", "draft.j2", "{{ lipsum(1000000) }}", "runaway"),
    ("query * 10**6 (a 45 MB prompt)", "draft.j2", "{{ query * 1000000 }}", "runaway"),
    ("raise via dict.pop", "draft.j2", "{{ {}.pop('x') }}", "error"),
    ("format string", "draft.j2", "{{ '%s %s' % (query,) }}", "error"),
    (
        "valid custom template",
        "draft.j2",
        "Sources: {% for s in sources %}[{{ s.n }}] {{ s.title | data }} {% endfor %}\n{{ output_example }}",
        "ok",
    ),
]


def run(ctx: Any) -> list[CaseResult]:
    quick = (
        "recursive macro",
        "range(10**9)",
        "1/0",
        "syntax error",
        "self include",
        "not UTF-8",
        "valid custom template",
    )
    cases = CASES if not ctx.quick else [c for c in CASES if c[0] in quick]
    results = ctx.pool(lambda c: _case(ctx, *c), cases, cls=CLS)
    if not ctx.quick:
        results += ctx.pool(lambda c: _judge_case(ctx, *c), [c for c in CASES if c[1] == "draft.j2"][:6], cls=CLS)
    return results


def _make(folder: Path, file: str, content: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file
    if content == "DIR":
        path.mkdir()
    elif content == "FIFO":
        os.mkfifo(path)
    elif content == "DEVZERO":
        path.symlink_to("/dev/zero")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _shipped(ctx: Any, file: str) -> str:
    """The checkout's name for a template: the system prompt and the judge's were renamed in later versions."""
    shipped = ctx.checkout / "prompts"
    renames = {"draft_system.j2": "system.j2", "support.j2": "judge.j2"}
    if not (shipped / file).is_file() and file in renames and (shipped / renames[file]).is_file():
        return renames[file]
    return file


def _case(ctx: Any, name: str, file: str, content: Any, expect: str) -> CaseResult:
    file = _shipped(ctx, file)
    with LLMCase(ctx, CLS, f"{file}: {name}", Answer(content=VALID)) as c:
        prompts = c.d / "prompts"
        _make(prompts, file, content)
        obs = c.draft(retries=0, bound=30, extra=["--prompts", str(prompts)])
        return _judge(ctx, c, obs, name, expect)


def _judge(ctx: Any, c: LLMCase, obs: Observed, name: str, expect: str) -> CaseResult:
    if expect == "error":
        return c.judge(obs, expect_error=TEMPLATE_ERROR, sig="a failing template is not a template error line")
    if expect == "ok":
        return c.judge(obs, valid_input=True, sig="a valid custom template fails")
    result = c.judge(obs, sig="runaway template")
    if result.outcome == "hang":
        result.signature = f"{CLS}: hang: a runaway user template is not bounded (user's own code: low priority)"
    return result


def _judge_case(ctx: Any, name: str, file: str, content: Any, expect: str) -> CaseResult:
    """The same template as support.j2, through `synth check --judge llm`."""
    with LLMCase(ctx, CLS, f"{_shipped(ctx, 'support.j2')}: {name}", Answer(content="1")) as c:
        prompts = c.d / "prompts"
        _make(prompts, _shipped(ctx, "support.j2"), content)
        corpus = c.d / "corpus.jsonl"
        corpus.write_text(to_jsonl(small_corpus(4)))
        text = c.d / "text.md"
        text.write_text(f"Programs are synthesized from input-output examples with neural guided search [1].\n\n"
                        f"## References\n\n[1] {small_corpus(4)[0]['title']}.\n")  # fmt: skip
        obs = ctx.synth(cli.check(text, corpus=corpus, extra=["--judge", "llm", "--model", cli.MODEL, "--api-base", c.server.base,
                                                            "--config", str(_config(c.d, prompts))]),
                        home=c.home, env=cli.llm_env(retries=0), timeout=30)  # fmt: skip
        return _judge(ctx, c, obs, name, expect)


def _config(d: Path, prompts: Path) -> Path:
    cfg = d / "config.toml"
    cfg.write_text(f'prompts = "{prompts}"\n')
    return cfg


del QUERY, Callable
