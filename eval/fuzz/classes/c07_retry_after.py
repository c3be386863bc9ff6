"""7. `Retry-After`: honoured? NaN, negative, huge, garbage and HTTP-date values?

The fake server answers 429 (or 503) with a Retry-After header, then a valid draft; synth may retry once.
The oracle measures the gap between the two requests at the server: a valid delay of 0-60 s is honoured
(within 0.9x-0.2 s and +2.5 s), a huge one is capped (and the case says how long it waited), and anything
unusable (negative, NaN, inf, text) falls back to the normal backoff (under 3 s) and the draft succeeds.
The same values go through `synth eval run` (the async path: asyncio.sleep).
"""

from __future__ import annotations

import json
from typing import Any

from .. import synthcli as cli
from ..common import QUERY, VALID
from ..core import CaseResult, Observed
from ..fakeserver import Answer
from ..llmcase import LLMCase

CLS = "c07"
TITLE = "Retry-After"

# (header value, expected gap: a number of seconds, "backoff" (under 3 s), or "cap" (about 60 s))
VALUES: list[tuple[str, Any]] = [
    ("0", 0.0), ("1", 1.0), ("3", 3.0), ("2.5", 2.5), (" 2 ", 2.0), ("-5", "backoff"), ("NaN", "backoff"),
    ("nan", "backoff"), ("-inf", "backoff"), ("abc", "backoff"), ("", "backoff"), ("0x10", "backoff"),
    ("1_0", "backoff"), ("１", "backoff"), ("1e-300", 0.0), ("inf", "cap"), ("1e9", "cap"), ("99999", "cap"),
]  # fmt: skip
SLOW = {"inf", "1e9", "99999"}


def run(ctx: Any) -> list[CaseResult]:
    values = [v for v in VALUES if v[0] not in SLOW] if ctx.quick else VALUES
    if ctx.quick:
        values = [v for v in values if v[0] in ("3", "NaN")]
    plans: list[tuple[str, Any, int, str]] = [(v, e, 429, "draft") for v, e in values]
    plans.append(("HTTP-date +3 s", 2.5, 429, "draft"))  # whole seconds: 2-3 s from the moment it is sent
    if not ctx.quick:
        plans += [("HTTP-date in the past", "backoff", 429, "draft"), ("3", 3.0, 503, "draft"),
                  ("retry-after-ms: 2500", 2.5, 429, "draft")]  # fmt: skip
    if not ctx.quick:
        plans += [(v, e, 429, "eval") for v, e in [("NaN", "backoff"), ("-5", "backoff"), ("2", 2.0), ("inf", "cap")]]
    results = ctx.pool(lambda p: _case(ctx, *p), plans, jobs=4, cls=CLS)
    return results + _parser_cases(ctx)


PROBE = """
import math
import synth.llm as L
try:
    from synth.retry_after import retry_after as parse  # newer: the header value alone
except ImportError:
    parse = None

class _Response:
    def __init__(self, headers):
        self.headers = headers

class RateLimitError(Exception):
    status_code = 429
    def __init__(self, value):
        super().__init__("rate limited")
        self.response = _Response({"retry-after": value})
        self.litellm_response_headers = self.response.headers

result = {}
for value in VALUES:
    try:
        got = parse(value) if parse else L._retry_after(RateLimitError(value))
        result[value] = None if got is None else float(got)
    except Exception as e:
        result[value] = f"raised {type(e).__name__}: {e}"
"""


def _parser_cases(ctx: Any) -> list[CaseResult]:
    """synth's Retry-After parser on its own (Python API): what would it make of each value once headers arrive?"""
    values = [v for v, _ in VALUES] + ["1e400", "-0", "60.5", "300"]
    reply = ctx.py(f"VALUES = {values!r}\n" + PROBE, timeout=60)
    got = reply.get("result") if isinstance(reply.get("result"), dict) else {}
    if any(isinstance(v, str) and "AttributeError" in v for v in got.values()):
        reply = {
            "rc": 1,
            "exception": "no Retry-After parser found (synth.retry_after.retry_after or synth.llm._retry_after)",
        }
    if reply.get("rc") != 0 or not isinstance(reply.get("result"), dict):
        return [
            CaseResult(
                CLS, "parser: synth.llm._retry_after", "could_not_run", str(reply.get("exception") or reply)[:300]
            )
        ]
    out = []
    for value, got in reply["result"].items():
        name = f"parser: Retry-After {value!r} -> {got!r}"
        bad = isinstance(got, str) or (isinstance(got, float) and not (0.0 <= got <= 60.0))  # NaN fails both
        result = CaseResult(CLS, name, "wrong" if bad else "correct", failure=bad,
                            detail=(f"would sleep({got}): time.sleep raises ValueError on NaN/negative, asyncio.sleep(nan) misbehaves"
                                    if bad else ""),
                            signature=f"{CLS}: wrong: Retry-After parser returns NaN/negative/unbounded delays" if bad else "",
                            where="the Retry-After parser (synth/llm/__init__.py _retry_after, or synth/retry_after.py)" if bad else "",
                            repro=f"python -c \"import synth.llm as L; ...; L._retry_after(err_with_header({value!r}))\"" if bad else "")  # fmt: skip
        out.append(result)
    return out


def _headers(value: str) -> dict[str, str]:
    if value.startswith("HTTP-date"):  # made when the answer is sent, so start-up time does not eat into it
        return {"retry-after": "{HTTPDATE+3}" if "+3" in value else "{HTTPDATE-3600}"}
    if value.startswith("retry-after-ms"):
        return {"retry-after-ms": value.split(":")[1].strip()}
    return {"retry-after": value}


def _case(ctx: Any, value: str, expect: Any, status: int, path: str) -> CaseResult:
    name = f"{path}: {status} Retry-After {value!r}"
    answers = [Answer(status=status, content="slow down", headers=_headers(value)), Answer(content=VALID)]
    bound = 100.0 if expect == "cap" else 45.0
    with LLMCase(ctx, CLS, name, answers) as c:
        if path == "draft":
            obs = c.draft(retries=1, bound=bound, mode="proc" if expect == "cap" else "inproc")
        else:
            suite = c.d / "suite"
            suite.mkdir()
            (suite / "queries.jsonl").write_text(json.dumps({"id": "q1", "query": QUERY}) + "\n")
            (suite / "suite.json").write_text(json.dumps({"corpus": "sample"}))
            obs = ctx.synth(cli.eval_run(suite, c.d / "run", workers=1, llm_args=cli.llm_nocache_flagless(c.server.base)),
                            home=c.home, env=cli.llm_env(retries=1), timeout=bound, mode="proc")  # fmt: skip
        gaps = c.gaps()

        def oracle(o: Observed) -> str | None:
            if path == "eval":
                recs = [json.loads(x) for x in (c.d / "run" / cli.RECORDS).read_text().splitlines() if x.strip()]
                if not recs or not recs[0].get("ok"):
                    return f"the query failed: {str(recs[0].get('error') if recs else 'no record')[:200]}"
            if not gaps:
                return "never retried"
            gap = gaps[0]
            if expect == "backoff" and gap > 3.0:
                return f"waited {gap:.1f} s for an unusable Retry-After"
            if isinstance(expect, float) and not (expect * 0.9 - 0.2 <= gap <= expect + 2.5):
                return f"waited {gap:.1f} s, Retry-After asked {expect} s"
            if expect == "cap" and gap > 65:
                return f"waited {gap:.0f} s"
            return None

        note = f"gap {gaps[0]:.1f} s" if gaps else f"{len(c.requests)} request(s)"
        result = c.judge(obs, oracle=oracle, valid_input=True, note=note, sig=_sig(value, expect))
        if expect == "cap" and result.outcome == "correct":
            result.detail = f"capped: waited {gaps[0]:.0f} s before the retry" if gaps else result.detail
        return result


def _sig(value: str, expect: Any) -> str:
    if value.startswith("HTTP-date") or value.startswith("retry-after-ms"):
        return "Retry-After as an HTTP-date / retry-after-ms is ignored"
    if expect == "backoff":
        return "unusable Retry-After value"
    return "Retry-After not honoured"
