"""8. Secrets echoed by a server: printed? stored in records.jsonl, the manifest or the LLM cache?

Every case runs with OPENAI_API_KEY=sk-fuzz-SECRET-... (and other fake keys) in the environment. The fake
server echoes the key it received in error bodies (401/403/400/404/422/429/500), in a header, in an invalid
200 reply, or in the model's text. The key also travels in SYNTH_API_BASE's userinfo. Every output is scanned:
stdout, stderr (also with -vv), the output file, records.jsonl, manifest.json and everything under SYNTH_HOME
(llm-cache, indexes). "Model echoes the key in its text" is reported under its own signature: synth writes
what the model said, so it is a policy question rather than a logging bug.
"""

from __future__ import annotations

import json
from typing import Any

from .. import synthcli as cli
from ..common import QUERY, reply, small_corpus, to_jsonl
from ..core import CaseResult, Observed
from ..fakeserver import Answer
from ..llmcase import LLMCase

CLS = "c08"
TITLE = "Secrets echoed by a server"

ECHO = "Incorrect API key provided: {KEY}. You can find your API key at https://example.invalid. (auth: {AUTH})"


def plans(quick: bool) -> list[tuple[str, list[Answer], str]]:
    """(name, answers, path) with path in draft, draft-vv, eval, json-output, check-llm."""
    base: list[tuple[str, list[Answer]]] = [
        ("401 body echoes the key", [Answer(status=401, content=ECHO, echo=True)]),
        ("403 body echoes the key", [Answer(status=403, content=ECHO, echo=True)]),
        ("400 body echoes the key", [Answer(status=400, content=ECHO, echo=True)]),
        ("404 body echoes the key", [Answer(status=404, content=ECHO, echo=True)]),
        ("422 body echoes the key", [Answer(status=422, content=ECHO, echo=True)]),
        ("429 body echoes the key", [Answer(status=429, content=ECHO, echo=True)]),
        ("500 body echoes the key", [Answer(status=500, content=ECHO, echo=True)]),
        ("500 raw text body with the key", [Answer(status=500, body="upstream said: {AUTH}", echo=True)]),
        ("200 invalid reply holding the key", [Answer(content="not json, key={KEY}", echo=True)]),
        ("header echoes the key", [Answer(status=500, content="boom", headers={"x-echo": "{KEY}"}, echo=True)]),
        ("model echoes the key in its text", [Answer(content=reply(("The key is {KEY}.", [1])), echo=True)]),
        ("no echo at all", [Answer(content=reply(("Programs are synthesized from examples.", [1])))]),
    ]
    paths = ["draft", "draft-vv", "eval", "json-output"]
    out = []
    for i, (name, answers) in enumerate(base):
        chosen = paths if not quick else [paths[i % len(paths)]] if i in (0, 6, 9) else []
        out += [(f"{name} [{p}]", answers, p) for p in chosen]
    out.append(
        (
            "SYNTH_API_BASE with the key as password [json-output]",
            [Answer(content=reply(("Programs are synthesized.", [1])))],
            "userinfo-json",
        )
    )
    if not quick:
        out.append(
            (
                "SYNTH_API_BASE with the key as password [eval]",
                [Answer(content=reply(("Programs are synthesized.", [1])))],
                "userinfo-eval",
            )
        )
        out.append(("401 echo, LLM judge [check]", [Answer(status=401, content=ECHO, echo=True)], "check-llm"))
        out.append(
            (
                "SYNTH_API_BASE with the key as password, 401 [draft-vv]",
                [Answer(status=401, content=ECHO, echo=True)],
                "userinfo-vv",
            )
        )
    return out


def run(ctx: Any) -> list[CaseResult]:
    return ctx.pool(lambda p: _case(ctx, *p), plans(ctx.quick), jobs=3, cls=CLS)


def _case(ctx: Any, name: str, answers: list[Answer], path: str) -> CaseResult:
    with LLMCase(ctx, CLS, name, answers) as c:
        out_file = c.d / "section.json"
        run_dir = c.d / "run"
        env: dict[str, str] = {}
        base = c.server.base
        if path.startswith("userinfo"):
            # The key as the password of the API base URL, set through the environment.
            env["SYNTH_API_BASE"] = base.replace("http://", f"http://user:{ctx.secrets.openai}@")
        if path in ("draft", "draft-vv", "userinfo-vv"):
            args = cli.draft(
                QUERY,
                llm_args=["--model", cli.MODEL, "--no-cache"]
                + ([] if path.startswith("userinfo") else ["--api-base", base]),
            )
            obs = ctx.synth(cli.verbose(args, 2 if path.endswith("vv") else 0), home=c.home, env={**cli.llm_env(retries=1), **env},
                            timeout=90, mode="proc")  # fmt: skip
        elif path in ("json-output", "userinfo-json"):
            args = cli.draft(QUERY, fmt="json", output=out_file,
                             llm_args=["--model", cli.MODEL, "--cache"] + ([] if path.startswith("userinfo") else ["--api-base", base]))  # fmt: skip
            obs = ctx.synth(args, home=c.home, env={**cli.llm_env(retries=1), **env}, timeout=90, mode="proc")
        elif path in ("eval", "userinfo-eval"):
            suite = c.d / "suite"
            suite.mkdir()
            (suite / "queries.jsonl").write_text(json.dumps({"id": "q1", "query": QUERY}) + "\n")
            (suite / "suite.json").write_text(json.dumps({"corpus": "sample"}))
            llm_args = ["--model", cli.MODEL] + ([] if path.startswith("userinfo") else ["--api-base", base])
            obs = ctx.synth(cli.eval_run(suite, run_dir, workers=1, llm_args=llm_args), home=c.home,
                            env={**cli.llm_env(retries=1), **env}, timeout=90, mode="proc")  # fmt: skip
        else:  # check-llm
            text = c.d / "text.md"
            corpus = c.d / "corpus.jsonl"
            corpus.write_text(to_jsonl(small_corpus(4)))
            title = small_corpus(4)[0]["title"]
            text.write_text(
                f"Programs are synthesized from input-output examples with neural search [1].\n\n## References\n\n[1] {title}.\n"
            )
            obs = ctx.synth(cli.check(text, corpus=corpus, extra=["--judge", "llm", "--model", cli.MODEL, "--api-base", base]),
                            home=c.home, env=cli.llm_env(retries=1), timeout=90, mode="proc")  # fmt: skip
        # Only the first request can leak: later ones may quote the server's own (echoing) reply back to it.
        body_leak = sorted(ctx.secrets.find(c.requests[0]["raw"])) if c.requests else []

        def oracle(o: Observed) -> str | None:
            return f"a secret was sent to the server in the request body: {body_leak}" if body_leak else None

        sig = "the model's own text (echoing the key) is written out or cached" if "model echoes" in name or "200 invalid" in name else \
            "the key itself is logged (no echo by the server)" if "no echo" in name else \
            "a response header echoing the key is logged at -vv" if "header echoes" in name else \
            "the API base URL (with its password) is written to results" if path.startswith("userinfo") else \
            "a server's error body (echoing the key) reaches the error line / records"  # fmt: skip
        result = c.judge(obs, oracle=oracle, scan=[out_file, run_dir, c.home], sig=sig,
                         note=f"{len(c.requests)} request(s)")  # fmt: skip
        return result
