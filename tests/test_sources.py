"""Live sources against local servers that answer with fixture pages in each API's documented format.

No test reaches arXiv, OpenAlex or Semantic Scholar: the socket guard in conftest allows only the servers
these tests start. Time is faked where the code would wait (polite delays, backoff, Retry-After).
"""

import json
import logging
import math
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_api import FakeAPI, Reply
from typer.testing import CliRunner

from synth.cli import app
from synth.corpus import load_corpus
from synth.errors import SettingsError, SourceError
from synth.models import Paper
from synth.retry_after import MAX_RETRY_AFTER, retry_after
from synth.sources import SOURCES, DateWindow, Skipped, fetch, fetch_corpus
from synth.sources.arxiv import ArxivSource, build_query
from synth.sources.http import DeadlineExceeded, Limits, Unreachable
from synth.sources.openalex import OpenAlexSource
from synth.sources.queries import plan_queries
from synth.sources.semanticscholar import SemanticScholarSource

SOURCE_ENV = ("ARXIV_API_URL", "OPENALEX_API_URL", "OPENALEX_API_KEY", "OPENALEX_MAILTO", "S2_API_URL", "S2_API_KEY")


@pytest.fixture(autouse=True)
def _no_source_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SOURCE_ENV:
        monkeypatch.delenv(name, raising=False)


class Clock:
    """Fake time: `sleep` records the wait and moves `now` on, so waits are checked, not waited."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limits(clock: Clock, **options: object) -> Limits:
    return Limits(sleep=clock.sleep, clock=clock.now, **{"timeout": 5.0, "retries": 2, **options})  # type: ignore[arg-type]


@pytest.fixture
def api(allow_local: Callable[[str, int], None]) -> Iterator[Callable[..., FakeAPI]]:
    """`api(Reply(...), ..., route=None)` starts a fake API this test may reach."""
    servers: list[FakeAPI] = []

    def start(*replies: Reply, route: Callable[[str, dict[str, str]], Reply] | None = None) -> FakeAPI:
        server = FakeAPI(*replies, route=route).__enter__()
        servers.append(server)
        allow_local(*server.address)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def papers(items: list[Paper | Skipped]) -> list[Paper]:
    return [i for i in items if isinstance(i, Paper)]


# --- arXiv ---------------------------------------------------------------------------------------------


def test_arxiv_pages_through_atom_results_and_maps_entries(api, clock: Clock) -> None:
    server = api(Reply.page("arxiv_page1.xml"), Reply.page("arxiv_page2.xml"))
    source = ArxivSource(limits=limits(clock), base_url=server.base + "/api/query", page_size=2)
    window = DateWindow.parse(before="2025-04-01")
    items = list(source.search("exemplar-free class incremental learning", 10, window))

    assert [r.params["start"] for r in server.requests] == ["0", "2"]  # paged, and stopped at the total (4)
    assert {r.params["max_results"] for r in server.requests} == {"2"}
    query = server.requests[0].params["search_query"]
    assert query == ("all:exemplar AND all:free AND all:class AND all:incremental AND all:learning"
                     " AND submittedDate:[199101010000 TO 202503312359]")  # fmt: skip
    assert server.requests[0].params["sortBy"] == "relevance"
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(3.0)  # arXiv asks for 3 s between requests

    first, old = papers(items)
    assert first.id == "arXiv:2403.01111"  # the arXiv id, without its version
    assert first.title == "Drift-Aware Prototypes for Exemplar-Free Class-Incremental Learning"  # unwrapped
    assert first.abstract.startswith("Class-incremental learners forget old classes when no exemplars may be stored.")
    assert first.authors == ["Ada Lovelace", "Grace Hopper"]
    assert (first.date, first.year, first.venue) == ("2024-03-02", 2024, "CVPR 2024")
    assert (first.doi, first.url) == ("10.1109/CVPR.2024.00042", "https://arxiv.org/abs/2403.01111v2")
    assert old.id == "arXiv:cs_0112017" and old.venue == "arXiv"  # an old-style id is still a valid \cite key
    assert [i.kind for i in items if isinstance(i, Skipped)] == ["no abstract", "malformed"]


def test_arxiv_query_syntax_for_titles_and_open_date_ranges() -> None:
    title = "What About Emotions? Guiding Fine-Grained Emotion Extraction from Mobile App Reviews"
    query = build_query(title, DateWindow.parse(after="2020-03"))
    assert query.startswith("(all:Emotions OR all:Guiding OR all:Fine OR all:Grained OR")  # a long query: any word
    assert query.endswith(" AND submittedDate:[202003010000 TO 299912312359]")
    assert build_query("graph neural networks", DateWindow()) == "all:graph AND all:neural AND all:networks"
    with pytest.raises(SettingsError, match="no words to search"):
        build_query("the of and ?", DateWindow())


def test_arxiv_error_feed_is_one_clear_error(api, clock: Clock) -> None:
    server = api(Reply.page("arxiv_error.xml", status=400))
    source = ArxivSource(limits=limits(clock), base_url=server.base)
    with pytest.raises(SourceError, match=r"^arxiv refused the request \(HTTP 400: max_results must be non-negative\)"):
        list(source.search("anything at all", 5, DateWindow()))
    assert len(server.requests) == 1  # a refused request is not retried


# --- OpenAlex ------------------------------------------------------------------------------------------


def test_openalex_pages_filters_by_date_and_rebuilds_abstracts(api, clock: Clock, monkeypatch, caplog) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", "sekret-key-123")
    monkeypatch.setenv("OPENALEX_MAILTO", "me@example.org")
    server = api(Reply.page("openalex_page1.json"), Reply.page("openalex_page2.json"))
    source = OpenAlexSource(limits=limits(clock), base_url=server.base, page_size=2)
    with caplog.at_level(logging.DEBUG):
        items = list(
            source.search("Exemplar-free (class) incremental AND learning", 10, DateWindow.parse("2025", "2020"))
        )

    assert [(r.path, r.params["page"], r.params["per_page"]) for r in server.requests] == [
        ("/works", "1", "2"),
        ("/works", "2", "2"),
    ]
    sent = server.requests[0].params
    assert sent["search"] == "exemplar free class incremental and learning"  # no operators reach the API
    assert sent["filter"] == "from_publication_date:2020-01-01,to_publication_date:2024-12-31"
    assert (sent["api_key"], sent["mailto"]) == ("sekret-key-123", "me@example.org")
    assert "abstract_inverted_index" in sent["select"]
    assert "sekret-key-123" not in caplog.text  # the key is in the URL: the request log must not show it

    arxiv_paper, journal_paper = papers(items)
    assert arxiv_paper.id == "arXiv:2403.01111"  # from the arXiv landing page (and arXiv DOI)
    assert arxiv_paper.abstract.startswith("Class-incremental learners forget old classes when no exemplars")
    assert arxiv_paper.abstract.endswith("keep classes per prototype drift.")  # positions put back in order
    assert arxiv_paper.venue == "arXiv (Cornell University)" and arxiv_paper.doi == "10.48550/arxiv.2403.01111"
    assert journal_paper.doi == "10.1016/j.neunet.2023.01.007" and journal_paper.id.startswith("p")  # DOI-derived
    assert (journal_paper.date, journal_paper.venue, journal_paper.authors) == (
        "2023-03-15",
        "Neural Networks",
        ["Barbara Liskov"],
    )
    assert [i.kind for i in items if isinstance(i, Skipped)] == ["no abstract", "malformed"]


# --- Semantic Scholar ----------------------------------------------------------------------------------


def test_semanticscholar_pages_by_offset_with_the_key_in_a_header(api, clock: Clock, monkeypatch) -> None:
    monkeypatch.setenv("S2_API_KEY", "s2-secret")
    server = api(Reply.page("s2_page1.json"), Reply.page("s2_page2.json"))
    source = SemanticScholarSource(limits=limits(clock), base_url=server.base + "/graph/v1", page_size=2)
    items = list(source.search("exemplar-free class-incremental learning", 10, DateWindow.parse(after="2021-06")))

    assert [(r.path, r.params["offset"], r.params["limit"]) for r in server.requests] == [
        ("/graph/v1/paper/search", "0", "2"),
        ("/graph/v1/paper/search", "2", "2"),
    ]
    sent = server.requests[0]
    assert sent.params["query"] == "exemplar free class incremental learning"  # hyphens match nothing there
    assert sent.params["publicationDateOrYear"] == "2021-06-01:"
    assert sent.headers["x-api-key"] == "s2-secret" and "s2-secret" not in json.dumps(sent.params)
    assert clock.sleeps[0] == pytest.approx(1.0)

    first, second = papers(items)
    assert first.id == "arXiv:2403.01111" and first.doi == "10.1109/CVPR.2024.00042"
    assert first.venue == "Computer Vision and Pattern Recognition" and first.year == 2024
    assert second.id.startswith("p") and second.url.endswith("a9b2c3d4e5f60718293a4b5c6d7e8f9012345678")
    assert [(i.kind, "year" in i.detail) for i in items if isinstance(i, Skipped)] == [
        ("no abstract", False),
        ("malformed", True),
    ]


@pytest.mark.parametrize(
    ("name", "page", "make"),
    [
        ("arxiv", "arxiv_empty.xml", lambda lim, base: ArxivSource(limits=lim, base_url=base)),
        ("openalex", "openalex_empty.json", lambda lim, base: OpenAlexSource(limits=lim, base_url=base)),
        ("semanticscholar", "s2_empty.json", lambda lim, base: SemanticScholarSource(limits=lim, base_url=base)),
    ],
)
def test_an_empty_result_is_one_request_and_no_papers(api, clock: Clock, name, page, make) -> None:
    server = api(Reply.page(page))
    assert list(make(limits(clock), server.base).search("zzzzqqq xyzzy", 50, DateWindow())) == []
    assert len(server.requests) == 1


def test_fetch_of_an_empty_result_says_so(api, clock: Clock, monkeypatch, tmp_path: Path) -> None:
    server = api(Reply.page("s2_empty.json"))
    monkeypatch.setenv("S2_API_URL", server.base)
    with pytest.raises(SourceError, match=r"semanticscholar found no paper with an abstract; try other words"):
        fetch("semanticscholar", "zzzzqqq xyzzy", max_results=10, home=tmp_path, limits=limits(clock))


# --- retries, Retry-After, timeouts, deadline, unreachable hosts -------------------------------------------


def test_retry_after_values() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("2.5") == 2.5
    assert retry_after("86400") == MAX_RETRY_AFTER  # clamped
    for unusable in ("nan", "NaN", "inf", "-3", "soon", "", None):
        assert retry_after(unusable) is None, unusable
    assert retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=lambda: 1445412480.0) == 30.0  # an HTTP date
    assert retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=lambda: 1445412600.0) is None  # already past


def test_a_429_waits_as_long_as_retry_after_says(api, clock: Clock) -> None:
    server = api(Reply("slow down", status=429, headers={"Retry-After": "7"}), Reply.page("s2_page2.json"))
    source = SemanticScholarSource(limits=limits(clock), base_url=server.base)
    found = papers(list(source.search("class incremental learning", 10, DateWindow())))
    assert [p.title for p in found] == ["Analytic Class-Incremental Learning Without Replay"]
    assert len(server.requests) == 2
    assert 7.0 in clock.sleeps  # the server's own wait, not the backoff's


@pytest.mark.parametrize("header", ["nan", "-5", "tomorrow-ish"])
def test_an_unusable_retry_after_falls_back_to_backoff(api, clock: Clock, header: str) -> None:
    server = api(Reply("", status=429, headers={"Retry-After": header}), Reply.page("s2_empty.json"))
    list(SemanticScholarSource(limits=limits(clock), base_url=server.base).search("q words", 5, DateWindow()))
    waits = [s for s in clock.sleeps if s > 0]
    assert len(waits) == 1 and 1.0 <= waits[0] <= 2.0 and math.isfinite(waits[0])  # first backoff step: 1 s + jitter


def test_a_huge_retry_after_is_clamped(api, clock: Clock) -> None:
    server = api(Reply("", status=503, headers={"Retry-After": "999999"}), Reply.page("openalex_empty.json"))
    list(OpenAlexSource(limits=limits(clock), base_url=server.base).search("q words", 5, DateWindow()))
    assert MAX_RETRY_AFTER in clock.sleeps and max(clock.sleeps) == MAX_RETRY_AFTER


def test_retries_are_bounded(api, clock: Clock) -> None:
    server = api(Reply("down for maintenance", status=503))
    source = OpenAlexSource(limits=limits(clock, retries=2), base_url=server.base)
    with pytest.raises(SourceError, match=r"^openalex: server error \(HTTP 503\) on 3 tries; try again later"):
        list(source.search("q words", 5, DateWindow()))
    assert len(server.requests) == 3


def test_a_slow_server_times_out_and_is_retried(api, clock: Clock) -> None:
    server = api(Reply(b"{}", delay=1.5))
    source = SemanticScholarSource(limits=limits(clock, timeout=0.2, retries=1), base_url=server.base)
    with pytest.raises(SourceError, match=r"^semanticscholar: no answer within 0\.2 s on 2 tries"):
        list(source.search("q words", 5, DateWindow()))
    assert len(server.requests) == 2


def test_the_deadline_stops_waiting(api, clock: Clock) -> None:
    server = api(Reply("", status=429, headers={"Retry-After": "30"}))
    bounds = limits(clock, retries=5)
    bounds.deadline = clock.now() + 10  # a 30 s wait would end after it
    with pytest.raises(DeadlineExceeded, match=r"^arxiv: out of time \(rate limited \(HTTP 429\)\); allow more time"):
        list(ArxivSource(limits=bounds, base_url=server.base).search("q words", 5, DateWindow()))
    assert len(server.requests) == 1 and 30.0 not in clock.sleeps


def test_an_unreachable_host_fails_at_once(allow_local, clock: Clock) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    allow_local("127.0.0.1", port)
    source = ArxivSource(limits=limits(clock), base_url=f"http://127.0.0.1:{port}/api/query")
    with pytest.raises(Unreachable, match=rf"^arxiv: cannot reach 127\.0\.0\.1:{port} \(.*\); check the network"):
        list(source.search("q words", 5, DateWindow()))
    assert clock.sleeps == []  # not retried


def test_a_page_that_is_not_json_is_an_error_of_that_query(api, clock: Clock) -> None:
    server = api(Reply("<html>captive portal</html>"))
    with pytest.raises(SourceError, match="openalex sent a page that is not JSON"):
        list(OpenAlexSource(limits=limits(clock), base_url=server.base).search("q words", 5, DateWindow()))


# --- fetch: queries, merging, cache, progress ---------------------------------------------------------


def test_plan_queries_for_topics_titles_and_wrapped_abstracts() -> None:
    suite = Path(__file__).parents[1] / "eval" / "suites" / "deepscholar-dev" / "queries.jsonl"
    first = json.loads(suite.read_text(encoding="utf-8").splitlines()[0])
    abstract = first["abstract"]  # wrapped at 80 columns, as arXiv gives it
    assert plan_queries("graph neural networks") == ["graph neural networks"]  # a topic: as it is
    with_title = plan_queries("Emotion Extraction from App Reviews\n\n" + abstract)
    assert with_title[0] == "Emotion Extraction from App Reviews"
    phrases = [q.lower() for q in with_title[1:]]
    assert len(phrases) == 3 and "app reviews" in phrases and "large language models" in phrases
    no_title = plan_queries(abstract)  # the first wrapped line is not taken for a title
    assert not any(q.startswith("Opinion mining plays") for q in no_title) and len(no_title) == 3
    words = [set(q.lower().split()) for q in phrases]
    assert all(a.isdisjoint(b) for i, a in enumerate(words) for b in words[i + 1 :])  # no two share a word


def _s2_result(*titles: str) -> Reply:
    """A Semantic Scholar search page holding one paper per title, each with a DOI made from its title."""
    data = []
    for title in titles:
        slug = title.lower().replace(" ", "-")
        data.append({"paperId": slug, "externalIds": {"DOI": f"10.1/{slug}"}, "title": title, "year": 2024,
                     "abstract": f"An abstract about {title.lower()}.", "authors": [{"name": "A B"}]})  # fmt: skip
    return Reply(json.dumps({"total": len(data), "offset": 0, "data": data}))


def test_fetch_searches_title_phrases_and_extra_queries_then_merges(
    api, clock: Clock, monkeypatch, tmp_path: Path
) -> None:
    abstract = (
        "Prototype Drift in Exemplar-Free Class-Incremental Learning\n"
        "Class-incremental learning without exemplars suffers from prototype drift. We study prototype drift "
        "in exemplar-free class-incremental learning and correct the prototype drift with a learned projector, "
        "evaluated on continual learning benchmarks where prototype drift dominates the forgetting."
    )
    planned = plan_queries(abstract, ["rehearsal-free continual learning"])
    assert planned[0] == "Prototype Drift in Exemplar-Free Class-Incremental Learning"
    assert planned[-1] == "rehearsal-free continual learning" and 3 <= len(planned) <= 5

    def route(path: str, params: dict[str, str]) -> Reply:
        if params["query"] == "Prototype Drift in Exemplar Free Class Incremental Learning":
            return _s2_result("Shared Paper", "Title Only Paper")
        if params["query"] == "rehearsal free continual learning":
            return _s2_result("Extra Only Paper", "Shared Paper")
        return _s2_result("Shared Paper")

    server = api(route=route)
    monkeypatch.setenv("S2_API_URL", server.base)
    seen: list[tuple[int, int, str]] = []
    got = fetch("semanticscholar", abstract, max_results=10, home=tmp_path, limits=limits(clock),
                queries=["rehearsal-free continual learning"], progress=lambda *a: seen.append(a))  # fmt: skip

    assert [r.params["query"] for r in server.requests] == [" ".join(q.replace("-", " ").split()) for q in planned]
    assert got.queries == planned and got.complete and not got.from_cache
    corpus = load_corpus(got.path)  # the file is a corpus like any other
    assert [p.title for p in corpus.papers] == [
        "Shared Paper",
        "Title Only Paper",
        "Extra Only Paper",
    ]  # fused, deduped
    assert got.papers == 3 and corpus.duplicates == 0
    assert got.path.parent == tmp_path / "sources" and got.path.name.startswith("semanticscholar-")
    meta = json.loads(got.path.with_name(got.path.name.replace(".jsonl", ".meta.json")).read_text())
    assert meta["queries"] == planned and meta["errors"] == [] and meta["source"] == "semanticscholar"
    totals = {t for _, t, _ in seen}
    assert len(totals) == 1 and seen[-1][0] == seen[-1][1]  # progress ends full
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)  # and never goes back


def test_a_repeated_fetch_is_served_from_the_cache_without_a_request(
    api, clock: Clock, monkeypatch, tmp_path: Path
) -> None:
    server = api(Reply.page("s2_page1.json"), Reply.page("s2_page2.json"))
    monkeypatch.setenv("S2_API_URL", server.base)
    first = fetch("semanticscholar", "class incremental learning", max_results=2, home=tmp_path, limits=limits(clock))
    assert len(server.requests) == 1 and first.papers == 1 and first.without_abstract == 1
    again = fetch_corpus("semanticscholar", "class incremental learning", max_results=2, home=tmp_path)
    assert again == first.path and len(server.requests) == 1  # no call
    # Other parameters are another fetch; refresh=True fetches again.
    fetch(
        "semanticscholar",
        "class incremental learning",
        max_results=2,
        home=tmp_path,
        before="2025",
        limits=limits(clock),
    )
    assert len(server.requests) == 2
    refreshed = fetch(
        "semanticscholar",
        "class incremental learning",
        max_results=2,
        home=tmp_path,
        refresh=True,
        limits=limits(clock),
    )
    assert len(server.requests) == 3 and not refreshed.from_cache


def test_a_fetch_cut_short_is_kept_but_not_reused(api, clock: Clock, monkeypatch, tmp_path: Path, caplog) -> None:
    def route(path: str, params: dict[str, str]) -> Reply:
        if params["query"] == "second query words":
            return Reply('{"message": "Bad query"}', status=400)
        return _s2_result("Only Paper")

    server = api(route=route)
    monkeypatch.setenv("S2_API_URL", server.base)
    got = fetch("semanticscholar", "first query words", max_results=5, home=tmp_path, limits=limits(clock),
                queries=["second query words"])  # fmt: skip
    assert got.papers == 1 and not got.complete
    assert "HTTP 400: Bad query" in got.errors[0] and "incomplete" in caplog.text
    fetch(
        "semanticscholar",
        "first query words",
        max_results=5,
        home=tmp_path,
        limits=limits(clock),
        queries=["second query words"],
    )
    assert len(server.requests) == 4  # asked again, since the first fetch was incomplete


def test_fetch_counts_malformed_records(api, clock: Clock, monkeypatch, tmp_path: Path, caplog) -> None:
    server = api(Reply.page("openalex_page1.json"), Reply.page("openalex_page2.json"))
    monkeypatch.setenv("OPENALEX_API_URL", server.base)
    got = fetch("openalex", "class incremental learning", max_results=4, home=tmp_path, limits=limits(clock))
    assert (got.papers, got.without_abstract, got.malformed) == (2, 1, 1)
    assert "skipped a malformed record" in caplog.text and "W4390000004" in caplog.text


def test_fetch_validates_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"'2025-13' is not a valid date"):
        fetch("arxiv", "topic words", max_results=5, home=tmp_path, before="2025-13")
    with pytest.raises(SettingsError, match=r"--after 2025 is not earlier than --before 2024"):
        fetch("arxiv", "topic words", max_results=5, home=tmp_path, before="2024", after="2025")
    with pytest.raises(SettingsError, match=r"unknown source 'scholar': use one of arxiv, openalex, semanticscholar"):
        fetch("scholar", "topic words", max_results=5, home=tmp_path)
    with pytest.raises(SettingsError, match="--max must be at least 1"):
        fetch("arxiv", "topic words", max_results=0, home=tmp_path)
    assert not (tmp_path / "sources").exists()


def test_the_registry_builds_every_source(clock: Clock) -> None:
    for name, factory in SOURCES.items():
        source = factory(limits=limits(clock))
        assert source.name == name
        source.close()


# --- the network is reached only when a source is asked for ------------------------------------------


@pytest.mark.slow
def test_importing_the_sources_loads_no_http_library() -> None:
    code = "import sys, synth.sources, synth.cli.fetch; print(sorted(m for m in ('httpx', 'tenacity') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every connection and name lookup attempted, whether or not the guard then refuses it."""
    attempts: list[object] = []
    for owner, name in (
        (socket.socket, "connect"),
        (socket.socket, "connect_ex"),
        (socket, "create_connection"),
        (socket, "getaddrinfo"),
    ):
        real = getattr(owner, name)

        def spy(*args: object, _real=real, _name=name, **kwargs: object) -> object:
            attempts.append((_name, args[1:] if _name.startswith("connect") else args[:1]))
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, spy)
    return attempts


def test_no_command_touches_the_network_unless_a_source_is_asked_for(
    connections, fixtures: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    corpus = str(fixtures / "mendeley.ris")
    draft = tmp_path / "draft.md"
    commands = [
        ["draft", "in-context learning with noisy labels", "--corpus", corpus, "-o", str(draft)],
        ["search", "in-context learning demonstrations", "--corpus", corpus],
        ["check", str(draft), "--corpus", corpus],
        ["corpus", "stats", str(fixtures / "zotero.json")],
        ["draft", "program synthesis from examples"],  # the sample corpus
    ]
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    assert connections == []
    socket.getaddrinfo("localhost", 9)  # and the spy does see an attempt when there is one
    assert connections == [("getaddrinfo", ("localhost",))]


def test_fetch_from_the_cli_writes_a_corpus_and_reuses_it(api, monkeypatch, tmp_path: Path) -> None:
    server = api(Reply.page("s2_page1.json"))
    monkeypatch.setenv("S2_API_URL", server.base)
    abstract = tmp_path / "abstract.txt"
    abstract.write_text("exemplar-free class incremental learning", encoding="utf-8")
    out = tmp_path / "papers.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        app, ["fetch", "semanticscholar", "--from-abstract", str(abstract), "--max", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [p.id for p in load_corpus(out).papers] == ["arXiv:2403.01111"]
    assert "1 papers from semanticscholar" in result.stderr and "1 without an abstract skipped" in result.stderr
    again = runner.invoke(app, ["fetch", "semanticscholar", "exemplar-free class incremental learning", "--max", "2"])
    assert again.exit_code == 0, again.output
    assert len(server.requests) == 1 and "from the cache" in again.stderr
    cached = Path(again.stdout.strip())  # without -o: the corpus file's path, for --corpus
    assert cached.read_text() == out.read_text()


def test_an_unreachable_host_is_one_line_from_the_cli(allow_local, monkeypatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    allow_local("127.0.0.1", port)
    monkeypatch.setenv("ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")
    result = CliRunner().invoke(app, ["fetch", "arxiv", "graph neural networks", "--max", "5"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: arxiv: cannot reach 127.0.0.1:{port} (")
    assert "unexpected" not in result.stderr and "Traceback" not in result.output


def test_fetch_cli_checks_its_options(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["fetch", "arxiv"])
    assert result.exit_code == 1 and "error: give a query or --from-abstract FILE" in result.stderr
    result = runner.invoke(app, ["fetch", "arxiv", "topic words", "--before", "soon"])
    assert result.exit_code == 1 and "error: 'soon' is not a date" in result.stderr


def test_a_mistyped_api_url_is_one_clear_error(monkeypatch, clock: Clock, tmp_path: Path) -> None:
    monkeypatch.setenv("ARXIV_API_URL", "export.arxiv.org/api/query")  # no scheme
    with pytest.raises(SourceError, match=r"arxiv: cannot use the URL 'export\.arxiv\.org/api/query' .*give an http"):
        fetch("arxiv", "graph neural networks", max_results=5, home=tmp_path, limits=limits(clock))


def test_abstract_in_live_search_corpus_saved_verified_draft_out(
    api, monkeypatch, clock: Clock, tmp_path: Path
) -> None:
    from synth import Synthesizer

    server = api(Reply.page("s2_page1.json"), Reply.page("s2_page2.json"))
    monkeypatch.setenv("S2_API_URL", server.base)
    path = fetch_corpus("semanticscholar", "exemplar-free class incremental learning", max_results=10, home=tmp_path)
    synth = Synthesizer(corpus=path, k=5)
    section = synth.draft("exemplar-free class incremental learning without replay")
    cited = {c.paper.id for c in section.citations}
    assert cited and cited <= set(load_corpus(path).by_id)  # only fetched papers are cited
    report = synth.check(section)
    assert report.invalid_citations == 0 and report.citation_precision is not None
    requests = len(server.requests)
    again = fetch_corpus("semanticscholar", "exemplar-free class incremental learning", max_results=10, home=tmp_path)
    Synthesizer(corpus=again, k=5).draft("replay-free learners")
    assert again == path and len(server.requests) == requests  # drafting again is offline


def test_draft_with_a_live_source_fetches_once_then_drafts_offline(api, monkeypatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from synth.cli import app

    server = api(Reply.page("s2_page1.json"), Reply.page("s2_page2.json"))
    monkeypatch.setenv("S2_API_URL", server.base)
    args = ["draft", "exemplar-free class incremental learning", "--source", "semanticscholar", "--source-max", "10",
            "--home", str(tmp_path), "-k", "4", "--format", "json"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    cited = {c["id"] for c in json.loads(first.stdout)["citations"]}
    fetched = list((tmp_path / "sources").glob("*.jsonl"))
    assert cited and len(fetched) == 1 and cited <= set(load_corpus(fetched[0]).by_id)
    requests = len(server.requests)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and len(server.requests) == requests  # the same query again: from the cache
    both = CliRunner().invoke(app, [*args, "--corpus", "other.jsonl"])
    assert both.exit_code == 1 and "either a corpus (--corpus) or a live source (--source)" in both.stderr
