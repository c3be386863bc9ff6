"""1. Foreign citations: odd `cites` values, marker look-alikes in reply text, and what `synth check` accepts.

The fake model cites through `cites` values such as -3, "1e3", "1.5", "3/4", "1-12", and writes bracketed
markers the marker regex misses into its text. The oracle maps each rendered citation back to the numbered
source the model saw (`--format json`: hits are the numbered sources) and accepts only the readings listed
per value; rendered markdown must hold no citation-like text outside the [n] markers of its References.
`synth check` must not count a marker as a citation of a paper that is not in the text's References list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import QUERY, citation_problems, reply, small_corpus, to_jsonl
from ..core import CaseResult, Observed
from ..fakeserver import Answer

CLS = "c01"
TITLE = "Foreign citations"

K = 12
# cites value -> the acceptable sets of cited source numbers ("err": a clear error is fine too)
CITES: list[tuple[Any, list[Any]]] = [
    (-3, [set()]),
    ("-3", [set()]),
    ("1e3", [set()]),
    ("1.5", [set()]),
    (1.5, [set(), "err"]),
    ("3/4", [set(), {3, 4}]),
    ("1-12", [set(), set(range(1, 13))]),
    ("1–3", [set(), {1, 2, 3}]),
    (0, [set()]),
    (13, [set()]),
    (10**30, [set()]),
    ("٣", [set(), {3}]),
    ("３", [set(), {3}]),
    ("3rd", [set(), {3}]),
    ("[3]", [{3}]),
    ("3,4", [{3, 4}]),
    ("#3", [set(), {3}]),
    ("source 3", [set(), {3}]),
    (True, [set(), "err"]),
    (None, [set()]),
    ([[3]], [set(), "err", {3}]),
    ({"n": 3}, [set(), "err", {3}]),
    ("", [set()]),
    ("0x3", [set()]),
    ("+3", [set(), {3}]),
    ("03", [{3}, set()]),
    (3.0, [set(), "err", {3}]),
    ("Ⅲ", [set(), {3}]),
    ("2^10", [set()]),
    ("9" * 5000, [set(), "err"]),
    ([1, 1, 1], [{1}]),
    ([-1, -2], [set()]),
]

# Markers a model may write into the text; none may reach the section as a citation of anything.
MARKERS = [
    "[ 14 ]", "[13 ]", "［１３］", "【13】", "[12a]", "[-1]", "[pd26379a69f]", "{retrieved_not_shown}", "{never_retrieved}",
    "[1-12]", "(13)", "[13, 14]", "[@pd26379a69f]", "\\cite{pd26379a69f}", "[^13]", "〔13〕", "[１]", "[3][4]",
    "[0]", "[99]", "[ 2 ]", "[2 ]", "［２］", "【2】", "[2a]", "[-2]",
]  # fmt: skip


def run(ctx: Any) -> list[CaseResult]:
    results: list[CaseResult] = []
    home = ctx.work / CLS / "home"
    base = ctx.case_dir(CLS, "baseline")
    ids = _corpus_ids(ctx, home, base)
    cites = CITES if not ctx.quick else CITES[::3]
    markers = MARKERS if not ctx.quick else MARKERS[::3]
    results += ctx.pool(lambda c: _cites_case(ctx, home, *c), cites)
    results += ctx.pool(lambda m: _marker_case(ctx, home, m, ids), markers)
    results += _check_cases(ctx, home, ids)
    return results


def _corpus_ids(ctx: Any, home: Path, d: Path) -> dict[str, str]:
    """A corpus id retrieved for QUERY but past k, and one never retrieved, from the sample corpus."""
    obs = ctx.synth(cli.search(QUERY, k=60), home=home, timeout=120)
    try:
        hits = [h["paper"]["id"] for h in json.loads(obs.stdout)]
    except ValueError:
        hits = []
    near = hits[K + 5] if len(hits) > K + 5 else "p0000000000"
    far = "p0000000000"
    if ctx.sample_corpus:
        for line in ctx.sample_corpus.read_text().splitlines():
            pid = json.loads(line).get("id")
            if pid and pid not in hits:
                far = pid
                break
    return {"retrieved_not_shown": near, "never_retrieved": far}


def _cites_case(ctx: Any, home: Path, value: Any, allowed: list[Any]) -> CaseResult:
    content = reply(("Programs can be synthesized from input-output examples.", value), ("Search is guided.", [2]))
    name = f"cites={json.dumps(value)[:24]}"
    d = ctx.case_dir(CLS, name)
    server = ctx.server(Answer(content=content))
    try:
        obs = ctx.synth(cli.draft(QUERY, k=K, fmt="json", llm_args=cli.llm(server.base, verify=False)), home=home,
                        env=cli.llm_env(retries=0), timeout=90)  # fmt: skip
        return _judge_cites(ctx, name, obs, value, allowed, d, server)
    finally:
        server.close()


def _judge_cites(
    ctx: Any, name: str, obs: Observed, value: Any, allowed: list[Any], d: Path, server: Any
) -> CaseResult:

    def oracle(o: Observed) -> str | None:
        data = json.loads(o.stdout)
        shown = [h["paper"]["id"] for h in data["hits"]]
        first = data["paragraphs"][0]["sentences"][0]["citations"]
        got = {shown.index(p) + 1 for p in first if p in shown}
        if any(got == a for a in allowed if a != "err"):
            return None
        return f"cites {json.dumps(value)[:40]} rendered as citations of sources {sorted(got)}; acceptable: " + \
            " or ".join("an error" if a == "err" else str(sorted(a)) for a in allowed)  # fmt: skip

    valid = "err" not in allowed
    return ctx.judge(CLS, name, obs, oracle=oracle, valid_input=valid, case_dir=d, server=server,
                     sig="odd `cites` value read as a source number")  # fmt: skip


def _marker_case(ctx: Any, home: Path, marker: str, ids: dict[str, str]) -> CaseResult:
    named = marker in ("{retrieved_not_shown}", "{never_retrieved}")
    text_marker = "[" + ids[marker[1:-1]] + "]" if named else marker
    content = reply((f"Programs can be synthesized from examples {text_marker}.", [1]), ("Search is guided.", [2]))
    name = f"marker {text_marker}"
    d = ctx.case_dir(CLS, name)
    server = ctx.server(Answer(content=content))
    md = d / "section.md"
    try:
        obs = ctx.synth(cli.draft(QUERY, k=K, output=md, llm_args=cli.llm(server.base)), home=home,
                        env=cli.llm_env(retries=0), timeout=90)  # fmt: skip
        return _judge_marker(ctx, name, obs, md, home, d, server)
    finally:
        server.close()


def _judge_marker(ctx: Any, name: str, obs: Observed, md: Path, home: Path, d: Path, server: Any) -> CaseResult:
    checked: dict[str, Any] = {}

    def oracle(o: Observed) -> str | None:
        text = md.read_text(encoding="utf-8") if md.is_file() else ""
        problems = citation_problems(text)
        chk = ctx.synth(cli.check(md, fmt="json"), home=home, timeout=90)
        checked["obs"] = chk
        if text:
            sentence = next((ln for ln in text.splitlines() if "synthesized" in ln), "")
            problems.append(f"section: {sentence[:160]!r}") if problems else None
        try:
            report = json.loads(chk.stdout)
            refs = _reference_ids(text, ctx)
            foreign = sorted({c for s in report["sentences"] for c in s["cited"]} - refs)
            if foreign:
                problems.append(
                    f"`synth check` counts {foreign} as valid citations though they are not in the References"
                )
        except (ValueError, KeyError, TypeError):
            problems.append(f"`synth check` of the draft failed: {chk.short(200)}")
        return "; ".join(problems) or None

    return ctx.judge(CLS, name, obs, oracle=oracle, valid_input=True, case_dir=d, server=server,
                     sig="marker look-alike in reply text reaches the section")  # fmt: skip


def _reference_ids(md: str, ctx: Any) -> set[str]:
    """Ids of the References entries, matched by title against the sample corpus."""
    from ..common import split_markdown

    _, refs = split_markdown(md)
    titles = {}
    if ctx.sample_corpus:
        for line in ctx.sample_corpus.read_text().splitlines():
            r = json.loads(line)
            titles[r["title"].rstrip(".")] = r.get("id")
    found = set()
    for entry in refs.values():
        for title, pid in titles.items():
            if title and title in entry:
                found.add(pid)
    return found


def _check_cases(ctx: Any, home: Path, ids: dict[str, str]) -> list[CaseResult]:
    """`synth check` on hand-written texts: corpus-id markers outside References, numeric ids, foreign JSON."""
    results = []
    corpus = small_corpus(12)
    d = ctx.case_dir(CLS, "check-inputs")
    cj = d / "corpus.jsonl"
    cj.write_text(to_jsonl(corpus))
    t = {r["id"]: r["title"] for r in corpus}

    def case(name: str, text: str, suffix: str, oracle: Any, corpus_path: Path | str = cj, **kw: Any) -> None:
        cd = ctx.case_dir(CLS, name)
        f = cd / f"text{suffix}"
        if isinstance(text, bytes):
            f.write_bytes(text)
        else:
            f.write_text(text, encoding="utf-8")
        if isinstance(corpus_path, Path):
            (cd / corpus_path.name).write_bytes(corpus_path.read_bytes())
            corpus_path = cd / corpus_path.name
        obs = ctx.synth(cli.check(f, corpus=corpus_path, fmt="json"), home=home, timeout=90)
        results.append(ctx.judge(CLS, name, obs, oracle=oracle, case_dir=cd, **kw))

    def cited_of(o: Observed, i: int) -> list[str]:
        return json.loads(o.stdout)["sentences"][i]["cited"]

    body = (f"Programs are synthesized from input-output examples with neural guided search [1]. "
            f"Retrieval augmented generation grounds answers in retrieved passages [f2].\n\n"
            f"## References\n\n[1] {t['f1']}.\n")  # fmt: skip
    case("check: corpus id not in References", body, ".md",
         lambda o: (f"accepted [f2] as a citation of {cited_of(o, 1)} though the References list only [1]"
                    if cited_of(o, 1) else None), valid_input=True, sig="`synth check` accepts corpus ids missing from References")  # fmt: skip
    body = (f"Programs are synthesized from input-output examples with neural guided search [@f2].\n\n"
            f"## References\n\n[1] {t['f1']}.\n")  # fmt: skip
    case("check: pandoc id not in References", body, ".md",
         lambda o: (f"accepted [@f2] as {cited_of(o, 0)} though it is not in the References"
                    if cited_of(o, 0) else None), valid_input=True, sig="`synth check` accepts corpus ids missing from References")  # fmt: skip
    # Numeric corpus ids: [n] must resolve through the References list, not to the paper whose id is "n".
    numeric = [{**r, "id": str(i + 1)} for i, r in enumerate(corpus)]
    cn = d / "numeric-ids.jsonl"
    cn.write_text(to_jsonl(numeric))
    body = (f"Retrieval augmented generation grounds answers in retrieved passages [1].\n\n"
            f"## References\n\n[1] {numeric[1]['title']}.\n")  # fmt: skip
    case("check: numeric corpus ids vs References numbers", body, ".md",
         lambda o: (None if cited_of(o, 0) == ["2"] else
                    f"[1] resolved to corpus paper {cited_of(o, 0)} instead of References entry [1] (corpus id '2')"),
         corpus_path=cn, valid_input=True, sig="[n] resolved to the corpus paper whose id is n, not the References entry")  # fmt: skip
    # synth's own JSON, checked against a corpus that lacks the cited papers.
    section = {"query": "q", "paragraphs": [{"sentences": [{"text": "Programs are synthesized from input-output examples with search.", "citations": ["not-in-corpus"]}]}]}  # fmt: skip
    case("check: JSON citing an id missing from the corpus", json.dumps(section), ".json",
         lambda o: None if cited_of(o, 0) == [] else f"cited {cited_of(o, 0)}", sig="JSON input")  # fmt: skip
    case("check: invalid JSON", "{not json", ".json", None, expect_error=r"JSON|json")
    case(
        "check: JSON that is not a section",
        json.dumps({"paragraphs": 3}),
        ".json",
        None,
        expect_error=r"section|JSON|synth",
    )
    case("check: JSON array", "[1, 2]", ".json", None, expect_error=r".")
    case("check: markdown not UTF-8", b"Claim [1].\n\n## References\n\n[1] \xff\xfe title\n", ".md", None,
         expect_error=r"UTF|utf|encod")  # fmt: skip
    case("check: empty file", "", ".md", lambda o: None)
    case("check: nested JSON 100k deep", "[" * 100_000 + "]" * 100_000, ".json", None, expect_error=r".")
    huge = 2_000_000 if ctx.quick else 100_000_000
    case(f"check: one marker [1]-[{huge}]", f"A claim about programs synthesized from examples [1]–[{huge}].\n\n## References\n\n[1] x\n",
         ".md", lambda o: (f"one marker became {json.loads(o.stdout)['invalid_citations']} invalid citations"
                          if json.loads(o.stdout)["invalid_citations"] > 1000 else None),
         sig="a marker range is expanded without a limit")  # fmt: skip
    return results
