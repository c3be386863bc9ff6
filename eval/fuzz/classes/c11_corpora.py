"""11. Corpora: deep nesting, huge integers, odd line endings, non-Latin scripts, and random malformed files.

Targeted files have an oracle each (a CR-only JSONL of three records has three papers; a Cyrillic corpus
answers a Cyrillic query). Then about 1,400 random files (JSONL, JSON, CSV, TSV, BibTeX): valid corpora
mutated at the record level (wrong field types, odd values) and at the text level (cut, duplicated or
inserted bytes, broken quotes and braces, invalid UTF-8, NULs). Every file goes through `synth corpus stats`;
a file that loads also goes through `synth search` (and every fifth through `synth draft`). Random files
have no expected result: loading or a clear error are both fine, a crash or a hang is not.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import WRITERS, small_corpus, to_jsonl
from ..core import CaseResult, Observed

CLS = "c11"
TITLE = "Malformed and unusual corpora"
WORD = "zebrafish"
DEEP = 100_000


def _base(n: int = 8) -> list[dict[str, Any]]:
    out = small_corpus(n)
    for r in out:
        r["abstract"] += f" A {WORD} appears."
    return out


# -- targeted -------------------------------------------------------------------------------------------------

SCRIPTS = {
    "Cyrillic": ("синтез программ", ["Синтез программ по примерам ввода и вывода", "Нейронные сети на графах", "Обучение с подкреплением от людей"],
                 ["Мы изучаем синтез программ по примерам.", "Графовые нейронные сети передают сообщения.", "Обучение с подкреплением выравнивает модели."]),
    "Greek": ("σύνθεση προγραμμάτων", ["Σύνθεση προγραμμάτων από παραδείγματα", "Νευρωνικά δίκτυα γράφων", "Ενισχυτική μάθηση"],
              ["Μελετάμε τη σύνθεση προγραμμάτων από παραδείγματα.", "Τα δίκτυα γράφων περνούν μηνύματα.", "Η ενισχυτική μάθηση ευθυγραμμίζει μοντέλα."]),
    "CJK": ("程序合成", ["基于示例的程序合成", "图神经网络", "基于人类反馈的强化学习"],
            ["我们研究基于输入输出示例的程序合成。", "图神经网络在节点之间传递消息。", "强化学习使语言模型对齐。"]),
    "Arabic": ("توليف البرامج", ["توليف البرامج من الأمثلة", "الشبكات العصبية البيانية", "التعلم المعزز"],
               ["ندرس توليف البرامج من أمثلة المدخلات والمخرجات.", "تمرر الشبكات البيانية الرسائل.", "التعلم المعزز يوائم النماذج."]),
    "Devanagari": ("प्रोग्राम संश्लेषण", ["उदाहरणों से प्रोग्राम संश्लेषण", "ग्राफ न्यूरल नेटवर्क", "सुदृढीकरण अधिगम"],
                   ["हम उदाहरणों से प्रोग्राम संश्लेषण का अध्ययन करते हैं।", "ग्राफ नेटवर्क संदेश भेजते हैं।", "सुदृढीकरण अधिगम मॉडल को संरेखित करता है।"]),
}  # fmt: skip


def targeted() -> list[dict[str, Any]]:
    """Each: name, file name, bytes, args builder (path -> argv), oracle kind and expectations."""
    t: list[dict[str, Any]] = []
    valid = _base(3)

    def add(name: str, fname: str, data: str | bytes, **kw: Any) -> None:
        t.append({"name": name, "file": fname, "data": data.encode() if isinstance(data, str) else data, **kw})

    add("JSON array nested 100k deep", "deep.json", "[" * DEEP + "]" * DEEP, expect="error")
    add("JSON papers nested 100k deep", "deep2.json", '{"papers": ' + "[" * DEEP + "]" * DEEP + "}", expect="error")
    add(
        "JSONL line nested 100k deep, then 3 good lines",
        "deep.jsonl",
        "[" * DEEP + "]" * DEEP + "\n" + to_jsonl(valid),
        papers=3,
    )
    add(
        "JSONL abstract nested 100k deep",
        "deep3.jsonl",
        '{"title": "t", "abstract": ' + "[" * DEEP + "]" * DEEP + "}\n" + to_jsonl(valid),
        papers=3,
    )
    big = "9" * 5000
    add("JSONL year with 5,000 digits, then 3 good lines", "bigint.jsonl", '{"title": "Big", "abstract": "x zebrafish", "year": ' + big + "}\n" + to_jsonl(valid), papers=3)  # fmt: skip
    add(
        "JSONL id with 5,000 digits",
        "bigint2.jsonl",
        '{"id": ' + big + ', "title": "Big", "abstract": "zebrafish"}\n' + to_jsonl(valid),
        papers=3,
    )
    add(
        "JSON with a 5,000-digit number",
        "bigint.json",
        '[{"title": "Big", "abstract": "zebrafish", "year": ' + big + "}]",
        expect="any",
    )
    add(
        "JSONL float 1e400",
        "inf.jsonl",
        '{"title": "Inf", "abstract": "zebrafish", "year": 1e400, "id": 1e400}\n' + to_jsonl(valid),
        papers=4,
    )
    add(
        "JSONL with CR-only line endings (3 records)",
        "cr.jsonl",
        to_jsonl(valid, "\r"),
        papers=3,
        sig="CR-only JSONL read as one line",
    )
    add("JSONL with CRLF line endings", "crlf.jsonl", to_jsonl(valid, "\r\n"), papers=3)
    add(
        "JSONL with U+2028 inside strings",
        "ls.jsonl",
        to_jsonl([{**valid[0], "abstract": "line\u2028sep zebrafish"}, *valid[1:]]),
        papers=3,
    )
    add("JSONL with NEL separators", "nel.jsonl", to_jsonl(valid, "\x85"), expect="any")
    add("JSONL UTF-16 with BOM", "utf16.jsonl", to_jsonl(valid).encode("utf-16"), expect="error")
    add("JSONL UTF-8 BOM", "bom.jsonl", "\ufeff" + to_jsonl(valid), papers=3)
    add("JSON UTF-8 BOM", "bom.json", "\ufeff" + json.dumps(valid), papers=3)
    add("JSONL latin-1 bytes in line 2", "latin1.jsonl", to_jsonl(valid[:1]).encode() + '{"title": "caf\xe9", "abstract": "zebrafish"}\n'.encode("latin-1") + to_jsonl(valid[1:]).encode(), expect="any")  # fmt: skip
    add(
        "JSONL with NUL bytes",
        "nul.jsonl",
        to_jsonl(valid).replace("zebrafish", "zebra\x00fish", 1).encode() + b"\x00\x00\n",
        expect="any",
    )
    add("empty JSONL", "empty.jsonl", "", expect="error")
    add("whitespace-only JSON", "ws.json", " \n\t ", expect="error")
    add("JSON top-level null", "null.json", "null", expect="error")
    add("JSON top-level string", "str.json", '"papers"', expect="error")
    add("JSON papers: null", "pnull.json", '{"papers": null}', expect="error")
    add(
        "JSON papers an object",
        "pobj.json",
        '{"papers": {"a": {"title": "t", "abstract": "zebrafish"}}}',
        expect="error",
    )
    add("CSV header only", "hdr.csv", "title,abstract\n", expect="error")
    add("CSV with BOM header", "bom.csv", "\ufeff" + WRITERS["csv"](valid), papers=3)
    add("CSV duplicate title columns", "dup.csv", "title,title,abstract\nA,B,zebrafish one\n", expect="any")
    add("CSV header in capitals with spaces", "caps.csv", " Title , ABSTRACT \nA paper,zebrafish text\n", papers=1)
    add(
        "CSV field over 131,072 characters",
        "bigfield.csv",
        "title,abstract\nBig," + "a" * 140_000 + "\n" + "Small,zebrafish\n",
        expect="any",
    )
    add("CSV unbalanced quote", "quote.csv", 'title,abstract\n"A,zebrafish one\nB,zebrafish two\n', expect="any")
    add("CSV CR-only line endings", "cr.csv", WRITERS["csv"](valid).replace("\r\n", "\r").replace("\n", "\r"), papers=3)
    add("CSV semicolon-delimited", "semi.csv", "title;abstract\nA;zebrafish\n", expect="error")
    add("CSV 10,000 columns", "wide.csv", ",".join(["title", "abstract"] + [f"c{i}" for i in range(10_000)]) + "\nA,zebrafish" + ",x" * 10_000 + "\n", papers=1)  # fmt: skip
    add("TSV with commas", "t.tsv", "title\tabstract\nA, B\tzebrafish, yes\n", papers=1)
    add(
        "BibTeX unbalanced braces",
        "unbal.bib",
        "@article{a,\n title = {A {paper},\n abstract = {zebrafish}\n}\n" + WRITERS["bib"](valid),
        expect="any",
    )
    add(
        "BibTeX @string macros",
        "macro.bib",
        '@string{zf = "zebrafish"}\n@article{a, title = {T}, abstract = zf # " study"}\n',
        expect="any",
    )
    add(
        "BibTeX braces nested 10k deep",
        "deepbib.bib",
        "@article{a, title = {" + "{" * 10_000 + "x" + "}" * 10_000 + "}, abstract = {zebrafish}}\n",
        expect="any",
    )
    add(
        "BibTeX entry without key",
        "nokey.bib",
        "@article{, title = {T}, abstract = {zebrafish}}\n" + WRITERS["bib"](valid),
        expect="any",
    )
    add("BibTeX duplicate keys", "dupkey.bib", WRITERS["bib"](valid) + WRITERS["bib"](valid), expect="any")
    add("BibTeX LaTeX accents", "acc.bib", '@article{a, title = {Caf{\\\'e} na{\\"\\i}ve}, abstract = {zebrafish}, author = {M{\\"u}ller, J. and {\\O}stergaard, K.}}\n', papers=1)  # fmt: skip
    add("BibTeX binary garbage", "bin.bib", bytes(range(256)) * 4, expect="any")
    add("BibTeX lone @", "at.bib", "@\n@@@{\n", expect="error")
    for field, values in {
        "title": [42, ["a", "b"], {"x": 1}, True, None, "", "   ", "\u200b"],
        "abstract": [["zebrafish", "b"], {"zebrafish": 1}, 3.14, "\x00"],
        "authors": [{"name": "A"}, [{"name": "A"}], [["A"]], 42, [None, 1], "A, B and C; D"],
        "year": ["abc", -5, 99999, [2020], {"y": 2020}, True, "２０２０"],
        "date": ["2020-13-45", "not a date", ["2020"], 20200101, "9999-99-99", "0000-00-00"],
        "doi": [42, ["10.1/x"], "https://doi.org/", "doi:"],
        "id": [["x"], {"a": 1}, "", "  ", "x" * 10_000, "a\nb", "../../etc/passwd", "[1]", 0, -1, True],
    }.items():
        for v in values:
            rec = {"title": f"Weird {field}", "abstract": f"A {WORD} with an odd {field}."} | {field: v}
            add(f"field {field} = {json.dumps(v)[:30]}", f"field-{field}-{len(t)}.jsonl", to_jsonl([rec, *valid]),
                expect="any", dates=field in ("date", "year"))  # fmt: skip
    for script, (query, titles, abstracts) in SCRIPTS.items():
        recs = [
            {"id": f"{script[:2].lower()}{i}", "title": ti, "abstract": ab}
            for i, (ti, ab) in enumerate(zip(titles, abstracts, strict=True))
        ]
        add(f"{script} corpus, {script} query", f"{script.lower()}.jsonl", to_jsonl(recs), query=query, first=recs[0]["id"],
            sig="no Latin letters: retrieval finds nothing")  # fmt: skip
    return t


def _target_case(ctx: Any, spec: dict[str, Any]) -> CaseResult:
    d = ctx.case_dir(CLS, spec["name"])
    path = d / spec["file"]
    path.write_bytes(spec["data"])
    home = d / "home"
    if "query" in spec:
        obs = ctx.synth(cli.draft(spec["query"], corpus=path, drafter="extractive", fmt="json"), home=home, timeout=30)

        def oracle(o: Observed) -> str | None:
            data = json.loads(o.stdout)
            cited = [c["id"] for c in data.get("citations", [])]
            hits = [h["paper"]["id"] for h in data.get("hits", [])]
            if not hits or hits[0] != spec["first"]:
                return f"the paper matching the query is not ranked first: {hits}"
            return None if cited else "the draft cites nothing"

        return ctx.judge(CLS, spec["name"], obs, oracle=oracle, valid_input=True, case_dir=d, sig=spec.get("sig", ""))
    stats = ctx.synth(cli.corpus_stats(path), home=home, timeout=30)
    expect = spec.get("expect")
    if expect == "error":
        return ctx.judge(CLS, spec["name"], stats, expect_error=r".", case_dir=d, sig="a file with no corpus loads")
    if "papers" in spec:
        want = spec["papers"]

        def oracle(o: Observed) -> str | None:
            got = _papers(o.stdout)
            return None if got == want else f"{got} papers loaded, {want} expected"

        return ctx.judge(CLS, spec["name"], stats, oracle=oracle, valid_input=True, case_dir=d,
                         sig=spec.get("sig", "valid records lost"))  # fmt: skip
    result = ctx.judge(CLS, spec["name"], stats, case_dir=d)
    if stats.rc == 0 and result.outcome == "correct":
        extra = ["--before", "2021"] if spec.get("dates") else []
        obs = ctx.synth(cli.search(WORD, corpus=path, k=5) + extra, home=home, timeout=30)
        result = ctx.judge(CLS, spec["name"] + " (search)", obs, case_dir=d)
    return result


def _papers(stdout: str) -> int | None:
    for line in stdout.splitlines():
        if line.startswith("papers:"):
            return int(line.split()[1])
    return None


# -- random ---------------------------------------------------------------------------------------------------

PALETTE = ['"', "'", "{", "}", "[", "]", ",", ":", "\n", "\r", "\t", "\\", "@", "=", "#", "%", "\x00", "\ufeff",
           "\u2028", "é", "😀", "\u200b", "null", "true", "-", "1e999", "9" * 40, " and ", ";"]  # fmt: skip
WRONG = [None, 0, -1, 1.5, True, "", " ", [], {}, ["x"], {"k": "v"}, "9" * 50, "\x00", "zebrafish" * 500]


def random_file(rng: random.Random, sample: list[dict[str, Any]]) -> tuple[str, bytes, str]:
    fmt = rng.choice(["jsonl", "jsonl", "json", "csv", "tsv", "bib"])
    n = rng.randint(1, 8)
    records = [dict(r) for r in rng.sample(sample, min(n, len(sample)))]
    for r in records:
        r["abstract"] = f"{r.get('abstract', '')} {WORD}"
    for _ in range(rng.randint(0, 3)):  # record-level
        r = rng.choice(records)
        key = rng.choice(["id", "title", "abstract", "authors", "year", "doi", "date", "venue", "url", "extra"])
        op = rng.randrange(3)
        if op == 0:
            r.pop(key, None)
        else:
            r[key] = rng.choice(WRONG)
    try:
        text = WRITERS[fmt](records)
    except (TypeError, ValueError):
        text = WRITERS["jsonl"](records)
        fmt = "jsonl"
    data = text.encode("utf-8", "surrogatepass")
    kind = []
    for _ in range(rng.randint(1, 3)):  # byte-level
        op = rng.randrange(8)
        if not data:
            break
        i = rng.randrange(len(data))
        j = min(len(data), i + rng.randint(1, 40))
        if op == 0:
            data = data[:i] + data[j:]
            kind.append("cut")
        elif op == 1:
            data = data[:i] + rng.choice(PALETTE).encode() + data[i:]
            kind.append("insert")
        elif op == 2:
            data = data[:j] + data[i:j] * rng.randint(2, 20) + data[j:]
            kind.append("repeat")
        elif op == 3:
            data = data[:i]
            kind.append("truncate")
        elif op == 4:
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
            kind.append("byte")
        elif op == 5:
            data = data[:i] + b"\xff\xfe\xc3" + data[i:]
            kind.append("bad-utf8")
        elif op == 6:
            data = data.replace(b"\n", rng.choice([b"\r", b"\r\n", b"\n\n", b"\x0b"]))
            kind.append("newlines")
        else:
            data = data[:i] + (b"[" * 3000 + b"]" * 3000 if rng.random() < 0.5 else b"{" * 50) + data[i:]
            kind.append("nesting")
    return fmt, data, "+".join(kind)


def run(ctx: Any) -> list[CaseResult]:
    rng = random.Random(ctx.seed)
    sample = _base(12)
    if ctx.sample_corpus:
        from ..common import read_jsonl

        sample += read_jsonl(ctx.sample_corpus, limit=40)
    specs = targeted()
    if ctx.quick:
        specs = specs[:12:2] + [s for s in specs if "query" in s][:2] + specs[40::8]
    results = ctx.pool(lambda s: _target_case(ctx, s), specs, cls=CLS)
    n = 60 if ctx.quick else 1400
    files = [random_file(rng, sample) for _ in range(n)]
    results += ctx.pool(lambda item: _random_case(ctx, *item), list(enumerate(files)), cls=CLS)
    return results


def _random_case(ctx: Any, i: int, item: tuple[str, bytes, str]) -> CaseResult:
    fmt, data, kind = item
    name = f"random {fmt} #{i} ({kind})"
    d = ctx.case_dir(CLS, f"random-{i}")
    path = d / f"corpus.{fmt}"
    path.write_bytes(data)
    home = ctx.work / CLS / "random-home"  # shared: indexes are keyed by content
    stats = ctx.synth(cli.corpus_stats(path), home=home, timeout=20)
    if stats.rc != 0:
        return ctx.judge(CLS, name, stats, case_dir=d)
    args = (
        cli.search(WORD, corpus=path, k=5) if i % 5 else cli.draft(WORD, corpus=path, drafter="extractive", fmt="json")
    )
    obs = ctx.synth(args, home=home, timeout=20)
    result = ctx.judge(CLS, name, obs, case_dir=d)
    if result.outcome == "clear_error" and "matches the query" not in result.detail:
        result.detail = f"loads, but {args[0]} fails: {result.detail}"
    return result


del Path
