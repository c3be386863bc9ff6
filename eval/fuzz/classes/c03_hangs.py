"""3. Hangs: a dripping reply body, quadratic parsing of huge inputs, a gzip bomb.

Each case has a bound well above what the input deserves; going over it is a hang (the process group is
killed). LLM calls run as real subprocesses with SYNTH_TIMEOUT=10: the question is whether the timeout is a
total deadline or only a gap between bytes. The gzip bomb is judged by peak memory too (over 1 GB: wrong).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import QUERY, VALID, small_corpus, to_jsonl
from ..core import CaseResult, Observed
from ..fakeserver import Answer

CLS = "c03"
TITLE = "Hangs"
MEMORY_BOUND_MB = 1000
SLOW_S = 45.0  # an offline command on a 2-10 MB input that takes longer is reported as wrong (too slow)


def run(ctx: Any) -> list[CaseResult]:
    jobs: list[Any] = [_drip_draft, _brace_reply, _nested_reply, _gzip_bomb, _big_abstract_one_sentence]
    if not ctx.quick:
        jobs += [_drip_eval, _slow_headers, _big_abstract, _big_query, _big_check, _many_markers, _gzip_bomb_error,
                 _drip_retries]  # fmt: skip
    return [r for rs in ctx.pool(lambda f: f(ctx), jobs, jobs=4, cls=CLS, many=True) for r in rs]


# -- LLM: slow bodies ---------------------------------------------------------------------------------------


def _llm_case(ctx: Any, name: str, answers: list[Answer], *, bound: float, env: dict[str, str], sig: str,
              expect_error: str | None = None, valid: bool = False, memory: bool = False) -> list[CaseResult]:  # fmt: skip
    d = ctx.case_dir(CLS, name)
    home = d / "home"
    server = ctx.server(answers)
    try:
        obs = ctx.synth(cli.draft(QUERY, llm_args=cli.llm(server.base)), home=home, env=env, timeout=bound, mode="proc")
        detail = f"{len(server.requests)} request(s), {obs.elapsed:.0f} s, peak {obs.maxrss_mb or 0:.0f} MB"

        def oracle(o: Observed) -> str | None:
            if memory and (o.maxrss_mb or 0) > MEMORY_BOUND_MB:
                return (
                    f"peak memory {o.maxrss_mb:.0f} MB for a reply of {_wire(answers):,} bytes on the wire ({detail})"
                )
            return None

        result = ctx.judge(CLS, name, obs, oracle=oracle, expect_error=expect_error, valid_input=valid, case_dir=d,
                           server=server, sig=sig, note=detail)  # fmt: skip
    finally:
        server.close()
    if result.outcome == "clear_error" and memory and (obs.maxrss_mb or 0) > MEMORY_BOUND_MB:
        result.outcome, result.failure = "wrong", True
        result.detail = f"clear error but peak memory {obs.maxrss_mb:.0f} MB ({detail})"
        result.signature = f"{CLS}: wrong: {sig}"
    return [result]


def _wire(answers: list[Answer]) -> int:
    from ..fakeserver import completion, gzip_bomb

    a = answers[0]
    return len(gzip_bomb(json.dumps(completion(a, "local")).encode(), a.gzip_pad)) if a.gzip_pad else 0


def _drip_draft(ctx: Any) -> list[CaseResult]:
    """One byte every 2 s, SYNTH_TIMEOUT=10, no retries: a total deadline ends it in ~10 s."""
    bound = 25.0 if ctx.quick else 70.0
    return _llm_case(ctx, "drip 1 byte/2 s, timeout 10, 0 retries", [Answer(content=VALID, drip=2.0)], bound=bound,
                     env=cli.llm_env(timeout=10, retries=0), sig="a dripping body never times out (timeout is per read)",
                     expect_error=r"[Tt]ime")  # fmt: skip


def _drip_retries(ctx: Any) -> list[CaseResult]:
    """The same with the default 3 retries: the worst case should still be about 4 x 10 s plus backoff."""
    return _llm_case(ctx, "drip 1 byte/2 s, timeout 10, 3 retries", [Answer(content=VALID, drip=2.0)], bound=90.0,
                     env=cli.llm_env(timeout=10, retries=3), sig="a dripping body never times out (timeout is per read)",
                     expect_error=r"[Tt]ime")  # fmt: skip


def _slow_headers(ctx: Any) -> list[CaseResult]:
    """No status line for 30 s, timeout 10, 1 retry: about 20 s and a clear timeout error."""
    return _llm_case(ctx, "headers after 30 s, timeout 10, 1 retry", [Answer(content=VALID, delay=30.0)], bound=60.0,
                     env=cli.llm_env(timeout=10, retries=1), sig="slow headers", expect_error=r"[Tt]ime")  # fmt: skip


def _drip_eval(ctx: Any) -> list[CaseResult]:
    """`synth eval run --timeout 10` against a dripping body: the query fails with a timeout record in ~10 s."""
    name = "eval run --timeout 10, dripping body"
    d = ctx.case_dir(CLS, name)
    suite = d / "suite"
    suite.mkdir()
    (suite / "queries.jsonl").write_text(json.dumps({"id": "q1", "query": QUERY}) + "\n")
    (suite / "suite.json").write_text(json.dumps({"corpus": "sample"}))
    server = ctx.server(Answer(content=VALID, drip=2.0))
    run_dir = d / "run"
    try:
        obs = ctx.synth(cli.eval_run(suite, run_dir, timeout=10, workers=1, llm_args=cli.llm_nocache_flagless(server.base)),
                        home=d / "home", env=cli.llm_env(retries=0), timeout=60, mode="proc")  # fmt: skip
    finally:
        server.close()

    def oracle(o: Observed) -> str | None:
        recs = [json.loads(x) for x in (run_dir / cli.RECORDS).read_text().splitlines() if x.strip()]
        if not recs or recs[0].get("ok") or "timeout" not in str(recs[0].get("error", "")):
            return f"expected one failed record saying timeout, got {recs[:1]}"
        if o.elapsed > 40:
            return f"took {o.elapsed:.0f} s for a 10 s timeout"
        return None

    return [ctx.judge(CLS, name, obs, oracle=oracle, case_dir=d, server=server, sig="eval --timeout")]


def _brace_reply(ctx: Any) -> list[CaseResult]:
    return _llm_case(ctx, "reply of 1 MB of '{'", [Answer(content="{" * 1_000_000)], bound=_bound(ctx),
                     env=cli.llm_env(retries=0), sig="1 MB reply of '{'", expect_error=r".")  # fmt: skip


def _nested_reply(ctx: Any) -> list[CaseResult]:
    content = '{"paragraphs": ' + "[" * 100_000 + "]" * 100_000 + "}"
    return _llm_case(ctx, "reply JSON nested 100k deep", [Answer(content=content)], bound=60.0,
                     env=cli.llm_env(retries=0), sig="deeply nested reply", expect_error=r".")  # fmt: skip


def _gzip_bomb(ctx: Any) -> list[CaseResult]:
    pad = 128 * 1024**2 if ctx.quick else 768 * 1024**2
    return _llm_case(ctx, f"gzip bomb: valid reply + {pad >> 20} MB of spaces", [Answer(content=VALID, gzip_pad=pad)],
                     bound=120.0, env=cli.llm_env(retries=0), sig="gzip bomb decompressed without a size limit",
                     memory=True)  # fmt: skip


def _gzip_bomb_error(ctx: Any) -> list[CaseResult]:
    pad = 512 * 1024**2
    return _llm_case(ctx, f"gzip bomb in a 500 error, 2 retries ({pad >> 20} MB)",
                     [Answer(status=500, content="overloaded", gzip_pad=pad)], bound=150.0,
                     env=cli.llm_env(retries=2), sig="gzip bomb decompressed without a size limit", memory=True,
                     expect_error=r".")  # fmt: skip


# -- quadratic parsing --------------------------------------------------------------------------------------


def _corpus_with(d: Path, abstract: str) -> Path:
    records = small_corpus(8)
    records[0] = {**records[0], "abstract": abstract}
    path = d / "corpus.jsonl"
    path.write_text(to_jsonl(records))
    return path


def _offline(ctx: Any, name: str, args: list[str], gen: str, *, bound: float, sig: str) -> list[CaseResult]:
    """Run an offline command on inputs made by `gen` (a Python one-liner run in the case folder)."""
    import subprocess
    import sys

    d = ctx.case_dir(CLS, name)
    subprocess.run([sys.executable, "-c", gen], cwd=d, check=True)
    obs = ctx.synth([a.replace("CASE", str(d)) for a in args], home=d / "home", timeout=bound, mode="proc")

    def oracle(o: Observed) -> str | None:
        return (
            f"took {o.elapsed:.0f} s (over {SLOW_S:.0f} s: superlinear in the input size)"
            if o.elapsed > SLOW_S
            else None
        )

    return [ctx.judge(CLS, name, obs, oracle=oracle, valid_input=True, case_dir=d, sig=sig,
                      note=f"{obs.elapsed:.1f} s, peak {obs.maxrss_mb or 0:.0f} MB",
                      repro_pre=[f"python3 -c {shlex.quote(gen)}"])]  # fmt: skip


_CORPUS = (
    "import json; rs=[{'id': f'f{i}', 'title': f'Paper {i} on program synthesis', 'abstract': 'Programs are "
    "synthesized from input-output examples. Results improve.'} for i in range(8)]; rs[0]['abstract'] = {text}; "
    "open('corpus.jsonl', 'w').write(''.join(json.dumps(r) + chr(10) for r in rs))"
)


def _bound(ctx: Any) -> float:
    return 25.0 if ctx.quick else 90.0


def _size(ctx: Any) -> int:
    return 2_000_000 if ctx.quick else 10_000_000


def _big_abstract(ctx: Any) -> list[CaseResult]:
    n = _size(ctx)
    gen = _CORPUS.replace("{text}", f"'Programs are synthesized from input-output examples. ' * {n // 53}")
    return _offline(ctx, f"draft: a {n // 1_000_000} MB abstract of short sentences",
                    cli.draft(QUERY, corpus="CASE/corpus.jsonl", drafter="extractive"), gen, bound=_bound(ctx),
                    sig="split_sentences is quadratic on long texts")  # fmt: skip


def _big_abstract_one_sentence(ctx: Any) -> list[CaseResult]:
    n = _size(ctx)
    gen = _CORPUS.replace("{text}", f"'program synthesis e.g. examples ' * {n // 32}")
    return _offline(ctx, f"draft: a {n // 1_000_000} MB abstract of 'e.g.' (no sentence end)",
                    cli.draft(QUERY, corpus="CASE/corpus.jsonl", drafter="extractive"), gen, bound=_bound(ctx),
                    sig="split_sentences is quadratic on long texts")  # fmt: skip


def _big_query(ctx: Any) -> list[CaseResult]:
    n = _size(ctx)
    gen = f"open('query.txt', 'w').write('Program synthesis from examples. ' * {n // 33})"
    return _offline(ctx, f"draft --query-file of {n // 1_000_000} MB",
                    cli.draft(None, query_file=Path("CASE/query.txt"), drafter="extractive"), gen, bound=90.0,
                    sig="huge query")  # fmt: skip


def _big_check(ctx: Any) -> list[CaseResult]:
    n = _size(ctx) // 2
    gen = (f"open('text.md', 'w').write('Programs are synthesized from input-output examples [1]. ' * {n // 58}"
           " + chr(10) * 2 + '## References' + chr(10) * 2 + '[1] x' + chr(10))")  # fmt: skip
    return _offline(ctx, f"check a {n // 1_000_000} MB markdown text", cli.check(Path("CASE/text.md")), gen,
                    bound=_bound(ctx), sig="split_sentences is quadratic on long texts")  # fmt: skip


def _many_markers(ctx: Any) -> list[CaseResult]:
    text = "Programs are synthesized from examples " + "[1]" * 200_000 + "."
    content = json.dumps({"paragraphs": [{"sentences": [{"text": text, "cites": list(range(1, 20_000))}]}]})
    return _llm_case(ctx, "reply: 200k inline markers and 20k cites", [Answer(content=content)], bound=60.0,
                     env=cli.llm_env(retries=0), sig="many markers", valid=True)  # fmt: skip
