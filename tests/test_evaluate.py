"""synth eval: suites, durable records, resume (also after SIGKILL), failures, concurrency, reports, import."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth import Synthesizer
from synth.cli import app
from synth.errors import SettingsError, SynthError
from synth.evaluate import Suite, evaluate
from synth.evaluate.runlog import RECORDS, read_records
from synth.evaluate.summary import bootstrap, compare_markdown, summarise
from synth.settings import Settings
from synth.testing import FakeLLM

SAMPLE = Path(__file__).resolve().parents[1] / "eval" / "suites" / "sample"
REPLY = {"paragraphs": [{"sentences": [{"text": "A claim.", "cites": [1]}]}]}


def make_suite(tmp_path: Path, n: int, corpus: str = "sample") -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    topics = ["program synthesis", "web agents", "question answering", "human feedback", "code generation"]
    lines = [json.dumps({"id": f"q{i:03d}", "query": topics[i % len(topics)], "gold": []}) for i in range(n)]
    (suite / "queries.jsonl").write_text("\n".join(lines) + "\n")
    (suite / "suite.json").write_text(json.dumps({"corpus": corpus}))
    return suite


def test_sample_suite_loads() -> None:
    suite = Suite.load(SAMPLE)
    assert len(suite.queries) == 5 and suite.corpus == "sample"


def test_deepscholar_dev_suite_loads() -> None:
    suite = Suite.load(SAMPLE.parent / "deepscholar-dev")
    assert len(suite.queries) == 20 and all(q.gold and q.exemplar for q in suite.queries)
    assert suite.queries[0].text.startswith(suite.queries[0].text.split("\n")[0])  # title then abstract


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "query": "x"}\nnot json\n', r"queries\.jsonl:2"),
        ('{"query": "x"}\n', r"queries\.jsonl:1: a query needs an id"),
        ('{"id": "a", "query": "x"}\n{"id": "a", "query": "y"}\n', "ids must be unique"),
    ],
)
def test_bad_suites_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "queries.jsonl").write_text(content)
    (tmp_path / "corpus.jsonl").write_text("")
    with pytest.raises(SynthError, match=message):
        Suite.load(tmp_path)


def test_run_writes_one_record_per_query_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out, workers=2)
    assert sorted(r["query_id"] for r in run.records) == ["s1", "s2", "s3", "s4", "s5"]
    assert all(r["ok"] and r["metrics"]["citation_precision"] == 1.0 for r in run.records)
    record = run.records[0]
    assert {"section", "verdicts", "usage", "timing", "fingerprint"} <= set(record)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["queries"] == 5 and manifest["finished"] and manifest["corpus_fingerprint"]
    assert run.summary["succeeded"] == 5 and run.summary["failed"] == 0

    # Running again does nothing new.
    again = evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out)
    assert len(read_records(out)) == 5 and len(again.records) == 5


def test_a_failing_query_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    class Flaky(FakeLLM):
        async def acomplete(self, messages, **options):  # fails for one topic only
            if "<query>\nweb agents\n</query>" in messages[1]["content"]:
                raise RuntimeError("the model fell over")
            return await super().acomplete(messages, **options)

    suite = make_suite(tmp_path, 5)
    synth = Synthesizer(corpus="sample", llm=Flaky(REPLY, repeat=True), k=3, verify=False, pipeline="one-shot")
    run = evaluate(suite, synth.settings, out=tmp_path / "run", synthesizer=synth)
    failed = [r for r in run.records if not r["ok"]]
    assert [r["query_id"] for r in failed] == ["q001"] and "the model fell over" in failed[0]["error"]
    assert sum(r["ok"] for r in run.records) == 4 and run.summary["failed"] == 1


def test_a_torn_last_line_is_cut_and_that_query_rerun(tmp_path: Path) -> None:
    out = tmp_path / "run"
    evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out)
    data = (out / RECORDS).read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    (out / RECORDS).write_bytes(data[: last_start + 40])  # a kill in the middle of the last write
    assert len(read_records(out)) == 4
    evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out)
    lines = (out / RECORDS).read_bytes().splitlines()
    assert len(lines) == 5 and all(json.loads(line) for line in lines)


def test_other_settings_are_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "run"
    evaluate(SAMPLE, Settings.load(drafter="extractive", k=5), out=out)
    with pytest.raises(SettingsError, match="other settings"):
        evaluate(SAMPLE, Settings.load(drafter="extractive", k=6), out=out)
    run = evaluate(SAMPLE, Settings.load(drafter="extractive", k=6), out=out, force=True)
    assert len(run.records) == 5 and all(len(r["section"]["hits"]) == 6 for r in run.records)


def test_workers_really_run_concurrently(tmp_path: Path) -> None:
    class Counting(FakeLLM):
        in_flight = peak = 0

        async def acomplete(self, messages, **options):
            Counting.in_flight += 1
            Counting.peak = max(Counting.peak, Counting.in_flight)
            try:
                return await super().acomplete(messages, **options)
            finally:
                Counting.in_flight -= 1

    suite = make_suite(tmp_path, 16)
    synth = Synthesizer(
        corpus="sample", llm=Counting(REPLY, repeat=True, delay=0.2), k=3, verify=False, pipeline="one-shot"
    )
    evaluate(suite, synth.settings, out=tmp_path / "run", synthesizer=synth, workers=8)
    assert Counting.peak == 8


def test_timeout_per_query_is_a_recorded_failure(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, 2)
    synth = Synthesizer(
        corpus="sample", llm=FakeLLM(REPLY, repeat=True, delay=2.0), k=3, verify=False, pipeline="one-shot"
    )
    run = evaluate(suite, synth.settings, out=tmp_path / "run", synthesizer=synth, timeout=0.2)
    assert [r["error"].split(":")[0] for r in run.records] == ["timeout", "timeout"]


@pytest.mark.slow
def test_sigkill_at_a_random_point_then_resume_gives_exactly_one_record_per_query(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, 60)
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "synth",
        "eval",
        "run",
        str(suite),
        "--out",
        str(out),
        "--drafter",
        "extractive",
        "-w",
        "1",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / RECORDS).is_file() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.Random().uniform(0.0, 0.5))
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = len(read_records(out))
    assert 0 < before < 60, "the kill should land mid-run"
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    ids = [r["query_id"] for r in read_records(out)]
    assert sorted(ids) == [f"q{i:03d}" for i in range(60)]  # exactly one record per query


# -- summaries and reports ----------------------------------------------------------------------------------


def _record(qid: str, precision: float, coverage: float, ok: bool = True) -> dict:
    if not ok:
        return {"query_id": qid, "ok": False, "error": "boom"}
    metrics = {"citation_precision": precision, "claim_coverage": coverage, "recall_at_k": None}
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.01}
    return {"query_id": qid, "ok": True, "metrics": metrics, "usage": usage, "timing": {"total_s": 1.0}}


def test_summary_numbers_on_known_records() -> None:
    records = [_record("a", 1.0, 0.5), _record("b", 0.5, 0.5), _record("c", 0, 0, ok=False)]
    s = summarise(records)
    assert (s["queries"], s["succeeded"], s["failed"]) == (3, 2, 1)
    assert s["metrics"]["citation_precision"]["mean"] == 0.75
    assert s["metrics"]["citation_precision"]["lo"] >= 0.5 and s["metrics"]["citation_precision"]["hi"] <= 1.0
    assert s["metrics"]["claim_coverage"] == {"mean": 0.5, "lo": 0.5, "hi": 0.5, "n": 2}
    assert "recall_at_k" not in s["metrics"]  # no gold: not reported
    assert s["geometric_mean"] == pytest.approx((0.75 * 0.5) ** 0.5)
    assert s["cost_usd"] == pytest.approx(0.02) and s["tokens"] == 30
    assert s["errors"] == [{"query_id": "c", "error": "boom"}]


def test_bootstrap_is_deterministic_and_brackets_the_mean() -> None:
    values = [0.1, 0.4, 0.5, 0.9, 0.3]
    mean, lo, hi = bootstrap(values)
    assert bootstrap(values) == (mean, lo, hi) and lo < mean < hi and mean == pytest.approx(0.44)


def test_compare_marks_non_overlapping_intervals() -> None:
    good = summarise([_record(str(i), 0.9 + i / 100, 0.5) for i in range(8)])
    bad = summarise([_record(str(i), 0.2 + i / 100, 0.5) for i in range(8)])
    table = compare_markdown({"good": good, "bad": bad})
    precision = next(line for line in table.splitlines() if line.startswith("| citation_precision"))
    coverage = next(line for line in table.splitlines() if line.startswith("| claim_coverage"))
    assert precision.endswith("★ |") and not coverage.endswith("★ |")


def test_cli_run_report_compare(tmp_path: Path) -> None:
    runner = CliRunner()
    a, b = tmp_path / "a", tmp_path / "b"
    result = runner.invoke(app, ["eval", "run", str(SAMPLE), "--out", str(a), "--drafter", "extractive"])
    assert result.exit_code == 0, result.output
    assert "5 of 5 queries succeeded" in result.stdout
    runner.invoke(app, ["eval", "run", str(SAMPLE), "--out", str(b), "--drafter", "extractive", "-k", "4"])
    result = runner.invoke(app, ["eval", "report", str(a)])
    assert result.exit_code == 0 and "| citation_precision ↑ |" in result.stdout
    rows = list(csv.DictReader((a / "queries.csv").read_text().splitlines()))
    assert [r["query_id"] for r in rows] == ["s1", "s2", "s3", "s4", "s5"]
    assert json.loads((a / "summary.json").read_text())["succeeded"] == 5
    result = runner.invoke(app, ["eval", "compare", str(a), str(b)])
    assert result.exit_code == 0 and str(a) in result.stdout and "| words ↑ |" in result.stdout
    result = runner.invoke(app, ["eval", "run", str(SAMPLE), "--out", str(a), "--drafter", "extractive", "-k", "3"])
    assert result.exit_code == 1 and "other settings" in result.stderr
    result = runner.invoke(app, ["eval", "report", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "holds no records" in result.stderr


# -- DeepScholar-bench import -----------------------------------------------------------------------------


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_import_deepscholar_layout(tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    section = (
        "\\subsection{Prior work}\nSearch finds programs~\\cite{smith2020, lee2021}. "
        "Models write code \\citep{lee2021}. An unknown one \\cite{ghost99}. No abstract \\cite{noabs}."
    )
    _write_csv(dataset / "papers_with_related_works.csv", [
        {"arxiv_id": "2501.00001v1", "title": "Our  Paper", "abstract": "We study\nprogram synthesis from examples.",
         "published_date": "2025-01-02T00:00:00+00:00", "clean_latex_related_works": section},
    ])  # fmt: skip
    common = {"parent_paper_title": "Our Paper", "parent_paper_arxiv_id": "2501.00001v1", "bib_paper_journal": ""}
    _write_csv(dataset / "recovered_citations.csv", [
        {**common, "citation_shorthand": "smith2020", "cited_paper_title": "Search for Programs",
         "cited_paper_abstract": "We search for programs that fit examples.", "bib_paper_authors": "Smith, Ann and Roe, Bo", "bib_paper_year": "2020.0",
         "bib_paper_doi": "10.1/s", "cited_paper_arxiv_link": "", "bib_paper_url": "https://s"},
        {**common, "citation_shorthand": "lee2021", "cited_paper_title": "Models that Code",
         "cited_paper_abstract": "Models write program code from examples.", "bib_paper_authors": "Lee, Cy", "bib_paper_year": "2021.0",
         "bib_paper_doi": "", "cited_paper_arxiv_link": "http://arxiv.org/abs/2101.1", "bib_paper_url": ""},
        {**common, "citation_shorthand": "noabs", "cited_paper_title": "No Abstract Here",
         "cited_paper_abstract": "", "bib_paper_authors": "", "bib_paper_year": "", "bib_paper_doi": "",
         "cited_paper_arxiv_link": "", "bib_paper_url": ""},
    ])  # fmt: skip
    out = tmp_path / "suite"
    result = CliRunner().invoke(app, ["eval", "import-deepscholar", str(dataset), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 queries, 2 papers; 3 citations read, 1 without an abstract, 2 \\cite keys not found" in result.stdout
    suite = Suite.load(out)
    (query,) = suite.queries
    corpus = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    ids = {p["title"]: p["id"] for p in corpus}
    assert (
        query.id == "2501.00001v1"
        and query.text == "Our Paper\nWe study program synthesis from examples."
        and query.before == "2025-01-02"
    )
    assert sorted(query.gold) == sorted(ids.values())
    assert f"[{ids['Search for Programs']}][{ids['Models that Code']}]" in query.exemplar
    assert "\\cite" not in query.exemplar
    smith = next(p for p in corpus if p["title"] == "Search for Programs")
    assert smith["authors"] == ["Smith, Ann", "Roe, Bo"] and smith["year"] == 2020 and smith["doi"] == "10.1/s"
    # The imported suite runs.
    run = evaluate(out, Settings.load(drafter="extractive"), out=tmp_path / "run")
    assert run.records[0]["ok"], run.records[0].get("error")
    assert run.records[0]["metrics"]["recall_at_k"] == 1.0


def test_limit_runs_the_first_queries_and_a_larger_limit_resumes_them(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out, limit=2)
    assert [r["query_id"] for r in first.records] == ["s1", "s2"]
    more = evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out, limit=4)
    assert [r["query_id"] for r in more.records] == ["s1", "s2", "s3", "s4"] and len(read_records(out)) == 4


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it(tmp_path: Path) -> None:
    from filelock import FileLock

    out = tmp_path / "run"
    out.mkdir()
    with FileLock(str(out / ".lock")), pytest.raises(SynthError, match="another synth eval run is writing to"):
        evaluate(SAMPLE, Settings.load(drafter="extractive"), out=out)
    assert not (out / RECORDS).exists()


def test_an_edited_template_refuses_to_resume_without_force(tmp_path: Path) -> None:
    from synth.templates import package_prompts_dir

    mine = tmp_path / "prompts"
    mine.mkdir()
    (mine / "write.j2").write_text((package_prompts_dir() / "write.j2").read_text())
    settings = Settings.load(drafter="extractive", prompts=mine)
    out = tmp_path / "run"
    evaluate(SAMPLE, settings, out=out, limit=1)
    (mine / "write.j2").write_text((package_prompts_dir() / "write.j2").read_text() + "\nBe brief.")
    with pytest.raises(SettingsError, match="made with other prompt_hashes"):
        evaluate(SAMPLE, settings, out=out, limit=1)
    assert evaluate(SAMPLE, settings, out=out, limit=1, force=True).records


def test_each_querys_date_cutoff_is_applied(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    corpus = [
        {
            "id": "old",
            "title": "Graph learning, old",
            "abstract": "Graph neural networks learn on graphs.",
            "date": "2019-01-01",
        },
        {
            "id": "new",
            "title": "Graph learning, new",
            "abstract": "Graph neural networks learn on graphs at scale.",
            "date": "2024-06-01",
        },
    ]
    (suite / "corpus.jsonl").write_text("\n".join(json.dumps(p) for p in corpus) + "\n")
    queries = [
        {"id": "a", "query": "graph neural networks", "date": "2020-01"},
        {"id": "b", "query": "graph neural networks"},
    ]
    (suite / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    run = evaluate(suite, Settings.load(drafter="extractive", k=5), out=tmp_path / "run")
    hits = {r["query_id"]: {h["paper"]["id"] for h in r["section"]["hits"]} for r in run.records}
    assert hits == {"a": {"old"}, "b": {"old", "new"}}


def test_cli_limit(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "run", str(SAMPLE), "--out", str(tmp_path / "r"), "--drafter", "extractive", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "2 of 2 queries succeeded" in result.stdout
