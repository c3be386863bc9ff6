"""One LLM case: a case folder, a fake server with a script, `synth draft` against it, and judging."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from . import synthcli as cli
from .common import QUERY
from .core import CaseResult, Observed
from .fakeserver import Answer


class LLMCase:
    """`with LLMCase(ctx, "c06", "name", [Answer(...)]) as c: obs = c.draft(); return c.judge(obs, ...)`."""

    def __init__(self, ctx: Any, cls: str, name: str, answers: list[Answer] | Answer, home: Path | None = None) -> None:
        self.ctx, self.cls, self.name = ctx, cls, name
        self.d = ctx.case_dir(cls, name)
        self.home = home or self.d / "home"
        self.server = ctx.server(answers if isinstance(answers, list) else [answers])

    def __enter__(self) -> LLMCase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.server.requests

    def repeats(self) -> int:
        """How many times the most repeated request body was sent (a retry sends the same body again)."""
        counts: dict[str, int] = {}
        for r in self.server.requests:
            counts[r["raw"]] = counts.get(r["raw"], 0) + 1
        return max(counts.values(), default=0)

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests."""
        t = [r["t"] for r in self.server.requests]
        return [round(b - a, 2) for a, b in itertools.pairwise(t)]

    def draft(
        self,
        *,
        retries: int | None = 0,
        timeout: float | None = None,
        mode: str = "inproc",
        fmt: str | None = None,
        bound: float = 90.0,
        env: dict[str, str] | None = None,
        cache: bool = False,
        extra: list[str] | None = None,
        query: str = QUERY,
        k: int | None = None,
        output: Path | None = None,
        corpus: str | Path | None = None,
        verbose: int = 0,
        pipeline: str | None = cli.PIPELINE,
        verify: bool | None = None,
    ) -> Observed:
        args = cli.draft(query, k=k, fmt=fmt, output=output, corpus=corpus, llm_args=cli.llm(self.server.base, cache=cache, pipeline=pipeline, verify=verify),
                         extra=extra)  # fmt: skip
        return self.ctx.synth(cli.verbose(args, verbose), home=self.home, env={**cli.llm_env(timeout, retries), **(env or {})},
                              timeout=bound, mode=mode)  # fmt: skip

    def judge(self, obs: Observed, **kw: Any) -> CaseResult:
        return self.ctx.judge(self.cls, self.name, obs, case_dir=self.d, server=self.server, **kw)
