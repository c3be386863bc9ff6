"""6. Reply shapes: HTTP errors, broken envelopes, wrong content/usage types, and random replies.

Each scripted reply should end in one clear `error:` line (or a correct section where the reply still holds a
valid draft), with the request not retried when retrying cannot help (a 4xx other than 408/409/429, a broken
envelope). Invalid *content* may be re-asked once with the error (the drafter's documented repair): at most
two requests. Random replies (mutations of a valid draft) must never crash, and a section synth prints
must satisfy the citation invariants (every [n] has a References entry, no look-alike markers).
"""

from __future__ import annotations

import base64
import copy
import json
import random
from typing import Any

from .. import synthcli as cli
from ..common import VALID, citation_problems
from ..core import CaseResult, Observed
from ..fakeserver import Answer
from ..llmcase import LLMCase

CLS = "c06"
TITLE = "Reply shapes"

NESTED = "[" * 100_000 + "]" * 100_000
VALID_OBJ = json.loads(VALID)


def shapes() -> list[tuple[str, Answer, int, bool]]:
    """(name, answer, most requests allowed, a correct section is acceptable)."""
    out: list[tuple[str, Answer, int, bool]] = []
    for status in (400, 401, 403, 404, 405, 413, 415, 418, 422, 451):
        out.append((f"HTTP {status}", Answer(status=status, content=f"status {status}"), 1, False))
    for status in (408, 409, 429, 500, 502, 503, 504, 529):
        out.append((f"HTTP {status} (1 retry allowed)", Answer(status=status, content=f"status {status}"), 2, False))
    out += [
        ("HTTP 200, empty body", Answer(body=""), 1, False),
        ("HTTP 200, body null", Answer(body="null"), 1, False),
        ("HTTP 200, body []", Answer(body="[]"), 1, False),
        ("HTTP 200, body {}", Answer(body="{}"), 1, False),
        ("HTTP 200, HTML body", Answer(body="<html><body>502 Bad Gateway</body></html>"), 1, False),
        ("HTTP 200, truncated JSON", Answer(body='{"choices": [{"message": {"content": "'), 1, False),
        ("HTTP 200, JSON nested 100k deep", Answer(body=NESTED), 1, False),
        ("HTTP 200, choices nested 100k deep", Answer(body='{"choices": ' + NESTED + "}"), 1, False),
        ("HTTP 200, not UTF-8", Answer(body_b64=base64.b64encode(b'{"choices": "\xff\xfe"}').decode()), 1, False),
        (
            "HTTP 200, NaN in usage",
            Answer(
                body='{"choices": [{"index": 0, "message": {"role": "assistant", "content": '
                + json.dumps(VALID)
                + '}, "finish_reason": "stop"}], "usage": {"prompt_tokens": NaN, "completion_tokens": 1}}'
            ),
            1,
            True,
        ),
        ("HTTP 200, error object", Answer(body='{"error": {"message": "model overloaded", "code": 503}}'), 2, False),
        ("HTTP 500, empty body", Answer(status=500, body=""), 2, False),
        ("HTTP 400, body nested 100k deep", Answer(status=400, body='{"error": ' + NESTED + "}"), 1, False),
        ("empty choices", Answer(choices=[]), 1, False),
        (
            "choices null",
            Answer(choices=None, body=json.dumps({"id": "x", "object": "chat.completion", "choices": None})),
            1,
            False,
        ),
        ("choices a dict", Answer(choices={"0": {"message": {"content": VALID}}}), 1, False),
        ("choices a string", Answer(choices="nope"), 1, False),
        ("choices [null]", Answer(choices=[None]), 1, False),
        ("choices [{}]", Answer(choices=[{}]), 1, False),
        ("message null", Answer(choices=[{"index": 0, "message": None, "finish_reason": "stop"}]), 1, False),
        ("message {}", Answer(choices=[{"index": 0, "message": {}, "finish_reason": "stop"}]), 1, False),
        ("completions-style text", Answer(choices=[{"index": 0, "text": VALID, "finish_reason": "stop"}]), 1, True),
        (
            "two choices",
            Answer(
                choices=[{"index": 0, "message": {"role": "assistant", "content": VALID}, "finish_reason": "stop"}] * 2
            ),
            1,
            True,
        ),
        ("content null", Answer(content=None), 1, False),
        ("content a list of parts", Answer(content=[{"type": "text", "text": VALID}]), 1, True),
        ("content a number", Answer(content=42), 1, False),
        ("content a dict (the draft itself)", Answer(content=VALID_OBJ), 1, True),
        ("content true", Answer(content=True), 1, False),
        ("content a nested list", Answer(content=[[[[VALID]]]]), 1, False),
        (
            "content only a refusal",
            Answer(content=None, message_extra={"refusal": "I cannot help with that."}),
            1,
            False,
        ),
        (
            "content with tool_calls",
            Answer(
                content=None,
                finish_reason="tool_calls",
                message_extra={
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "x", "arguments": VALID}}]
                },
            ),
            1,
            False,
        ),
        ("finish_reason length, cut JSON", Answer(content=VALID[: len(VALID) // 2], finish_reason="length"), 1, False),
        ("finish_reason content_filter", Answer(content="", finish_reason="content_filter"), 1, False),
        ("reasoning before the JSON", Answer(content="<think>{not json} [7] </think>\n" + VALID), 1, True),
        ("JSON in a code fence", Answer(content="```json\n" + VALID + "\n```"), 1, True),
        ("usage a string", Answer(content=VALID, usage="many"), 1, True),
        (
            "usage with string tokens",
            Answer(content=VALID, usage={"prompt_tokens": "ten", "completion_tokens": "x"}),
            1,
            True,
        ),
        ("usage negative", Answer(content=VALID, usage={"prompt_tokens": -5, "completion_tokens": -1}), 1, True),
        ("usage 1e308", Answer(content=VALID, usage={"prompt_tokens": 1e308, "completion_tokens": 1}), 1, True),
        ("usage 10**30", Answer(content=VALID, usage={"prompt_tokens": 10**30, "completion_tokens": 10**30}), 1, True),
        ("usage a list", Answer(content=VALID, usage=[1, 2]), 1, True),
        ("usage null tokens", Answer(content=VALID, usage={"prompt_tokens": None, "completion_tokens": None}), 1, True),
        (
            "usage nested 100k deep",
            Answer(
                body='{"choices": [{"index": 0, "message": {"role": "assistant", "content": '
                + json.dumps(VALID)
                + '}, "finish_reason": "stop"}], "usage": '
                + NESTED
                + "}"
            ),
            1,
            True,
        ),
    ]
    return out


def run(ctx: Any) -> list[CaseResult]:
    plans = shapes()
    if ctx.quick:
        plans = plans[::4]
    results = ctx.pool(lambda p: _shape_case(ctx, *p), plans, cls=CLS)
    n = 15 if ctx.quick else 220
    rng = random.Random(ctx.seed)
    replies = [random_reply(rng) for _ in range(n)]
    results += ctx.pool(lambda p: _random_case(ctx, *p), list(enumerate(replies)), cls=CLS)
    if "--pipeline" in cli.CAPS:  # the default (staged) pipeline gets the same replies at every stage
        staged = replies[: (5 if ctx.quick else 40)]
        results += ctx.pool(lambda p: _random_case(ctx, *p, pipeline="staged"), list(enumerate(staged)), cls=CLS)
    return results


def _shape_case(ctx: Any, name: str, answer: Answer, most: int, may_succeed: bool) -> CaseResult:
    with LLMCase(ctx, CLS, name, answer) as c:
        obs = c.draft(retries=1, bound=60)
        n = len(c.requests)
        rep = c.repeats()  # the same body sent again is a retry; the drafter's re-ask carries the error, so differs

        def oracle(o: Observed) -> str | None:
            if not may_succeed:
                return f"exit 0 on a reply with no valid draft ({n} requests)"
            problems = citation_problems(o.stdout)
            return "; ".join(problems) or None

        result = c.judge(obs, oracle=oracle, sig="reply shape", note=f"{n} request(s)")
        line = next(iter(obs.error_lines()), "")
        if not result.failure and rep > most:
            result.outcome, result.failure = "wrong", True
            result.detail = f"retried: the same request sent {rep} times where {most} should do ({result.detail})"
            result.signature = f"{CLS}: wrong: a reply that cannot improve is retried"
            ctx.write_repro(result, obs, c.d, c.server)
        elif not result.failure and "Traceback (most recent call last)" in line:
            result.outcome, result.failure = "wrong", True
            result.detail = f"the error line carries a traceback fragment and blames the network: {line[:200]}"
            result.signature = f"{CLS}: wrong: malformed reply -> error line with 'Traceback (most recent call last):' and 'could not be reached'"
            ctx.write_repro(result, obs, c.d, c.server)
        if result.outcome == "clear_error" and len(obs.error_lines()) > 1:
            result.outcome, result.failure = "wrong", True
            result.detail = f"{len(obs.error_lines())} error lines"
        return result


# -- random replies -------------------------------------------------------------------------------------------

ODD_TEXT = ["", " ", "\u200b", "\u202e" + "evil", "\x1b[31mred\x1b[0m", "a" * 5000, "🙂" * 50, "line\nbreak", "tab\tchar",
            "[1]", "[99]", "[ 3 ]", "［２］", "{{ x }}", "</source>", "\x00", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
            "Claim [1, 2].", "Claim [1]–[4].", "Claim [p0000000000].", "ÅÄÖ", "e\u0301"]  # fmt: skip
ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    1.5,
    float("inf"),
    "",
    "x",
    [],
    {},
    [[]],
    [None],
    {"a": 1},
    "3",
    [1, "2", 3.0],
]


def random_reply(rng: random.Random) -> str:
    obj: Any = copy.deepcopy(VALID_OBJ)
    for _ in range(rng.randint(1, 4)):
        obj = _mutate(obj, rng)
    try:
        text = json.dumps(obj, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    except (TypeError, ValueError):
        text = str(obj)
    wrap = rng.randrange(10)
    if wrap == 0:
        text = "```json\n" + text + "\n```"
    elif wrap == 1:
        text = "Here is the section:\n" + text + "\nHope this helps!"
    elif wrap == 2:
        text = text[: rng.randrange(len(text) + 1)]
    elif wrap == 3:
        text = text + text
    elif wrap == 4:
        text = text.replace('"', "'")
    elif wrap == 5:
        text = "{" + text
    return text


def _mutate(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        op = rng.randrange(5)
        if op == 0:
            del node[key]
        elif op == 1:
            node[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif op == 2:
            node[rng.choice(["extra", "cites", "text", "paragraphs", "sentences", "theme"])] = copy.deepcopy(
                rng.choice(ODD_VALUES + ODD_TEXT)
            )
        else:
            node[key] = _mutate(node[key], rng)
        return node
    if isinstance(node, list) and node and rng.random() < 0.8:
        op = rng.randrange(5)
        i = rng.randrange(len(node))
        if op == 0:
            node.insert(i, copy.deepcopy(node[i]))
        elif op == 1:
            node.pop(i)
        elif op == 2:
            node[i] = copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            node[i] = _mutate(node[i], rng)
        return node
    if isinstance(node, str):
        return rng.choice(ODD_TEXT) if rng.random() < 0.6 else node + rng.choice(ODD_TEXT)
    if isinstance(node, int) and not isinstance(node, bool):
        return rng.choice([-node, node + 20, 0, 10**40, str(node), f"[{node}]", f"{node}.0", -1])
    return copy.deepcopy(rng.choice(ODD_VALUES))


def _random_case(ctx: Any, i: int, content: str, pipeline: str | None = None) -> CaseResult:
    name = f"random reply #{i}" + (f" [{pipeline}]" if pipeline else "")
    with LLMCase(ctx, CLS, name, Answer(content=content)) as c:
        obs = c.draft(retries=0, bound=60, **({"pipeline": pipeline} if pipeline else {}))

        def oracle(o: Observed) -> str | None:
            problems = [p for p in citation_problems(o.stdout) if "never cited" not in p]
            if "\x1b" in o.stdout:
                problems.append("an ANSI escape from the reply reaches stdout")
            return "; ".join(problems) or None

        result = c.judge(obs, oracle=oracle, sig="random reply breaks the citation invariants")
        if result.outcome == "wrong":
            kind = "ANSI escape in the reply reaches the terminal" if "ANSI" in result.detail else \
                "random reply: citation look-alike rendered in the section"  # fmt: skip
            result.signature = f"{CLS}: wrong: {kind}"
        return result
