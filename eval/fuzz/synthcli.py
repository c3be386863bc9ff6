"""Every synth invocation the harness makes, in one place: adapt here when the CLI's options change.

Each function returns the arguments after `synth` (a list) and, where a setting has no flag on every
command yet, the environment variables that carry it. A case that hits an option the checkout does not
know is recorded as could_not_run, never as a crash of the harness.
"""

from __future__ import annotations

from pathlib import Path

MODEL = "openai/local"  # litellm's OpenAI provider against our fake server

# Settings passed through the environment (SYNTH_* variables) because not every command has a flag for them.
TIMEOUT_VAR = "SYNTH_TIMEOUT"  # seconds before one LLM call times out
RETRIES_VAR = "SYNTH_MAX_RETRIES"  # retries on rate limits, timeouts and server errors
HOME_VAR = "SYNTH_HOME"

# Flags of `synth draft --help` in the checkout under test (filled once by the harness): options that only some
# versions have are added only when present.
CAPS: set[str] = set()
EVAL_CAPS: set[str] = set()  # the same for `synth eval run --help`
# With a `--pipeline` setting, LLM cases use the one-shot pipeline (one request, the {"paragraphs": ...} reply
# contract the reply fuzzing targets); LLMCase.draft(pipeline="staged") exercises the default pipeline.
PIPELINE = "one-shot"


def llm(base: str, *, cache: bool = False, pipeline: str | None = PIPELINE, verify: bool | None = None) -> list[str]:
    """Options that point drafting at a fake OpenAI-compatible server."""
    args = ["--model", MODEL, "--api-base", base, "--cache" if cache else "--no-cache"]
    if pipeline and "--pipeline" in CAPS:
        args += ["--pipeline", pipeline]
    if verify is not None and "--verify" in CAPS:
        args.append("--verify" if verify else "--no-verify")
    return args


def llm_nocache_flagless(base: str, pipeline: str | None = PIPELINE) -> list[str]:
    """For commands without --cache/--no-cache (check, search, eval run). The fake servers answer in the one-shot
    reply contract: `eval run` is pointed at that pipeline where it has the flag (the staged default would ask
    ~60 questions a query, each answered with a reply of the wrong shape, and outlast the cases' time bounds)."""
    args = ["--model", MODEL, "--api-base", base]
    if pipeline and "--pipeline" in EVAL_CAPS:
        args += ["--pipeline", pipeline]
    return args


def llm_env(timeout: float | None = None, retries: int | None = None) -> dict[str, str]:
    env = {}
    if timeout is not None:
        env[TIMEOUT_VAR] = str(timeout)
    if retries is not None:
        env[RETRIES_VAR] = str(retries)
    return env


def verbose(args: list[str], level: int = 2) -> list[str]:
    """The same invocation with -v/-vv (root options come before the command)."""
    return ["-" + "v" * level, *args] if level else args


def draft(
    query: str | None,
    *,
    corpus: str | Path | None = None,
    k: int | None = None,
    fmt: str | None = None,
    output: Path | None = None,
    llm_args: list[str] | None = None,
    prompts: Path | None = None,
    drafter: str | None = None,
    query_file: Path | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    args = ["draft"]
    if query is not None:
        args.append(query)
    if query_file is not None:
        args += ["--query-file", str(query_file)]
    if corpus is not None:
        args += ["--corpus", str(corpus)]
    if k is not None:
        args += ["--k", str(k)]
    if fmt is not None:
        args += ["--format", fmt]
    if output is not None:
        args += ["--output", str(output)]
    if drafter is not None:
        args += ["--drafter", drafter]
    if prompts is not None:
        args += ["--prompts", str(prompts)]
    return args + (llm_args or []) + (extra or [])


def check(
    path: Path, *, corpus: str | Path | None = None, fmt: str = "json", extra: list[str] | None = None
) -> list[str]:
    args = ["check", str(path), "--format", fmt]
    if corpus is not None:
        args += ["--corpus", str(corpus)]
    return args + (extra or [])


def search(query: str, *, corpus: str | Path | None = None, k: int | None = None, fmt: str = "json") -> list[str]:
    args = ["search", query, "--format", fmt]
    if corpus is not None:
        args += ["--corpus", str(corpus)]
    if k is not None:
        args += ["--k", str(k)]
    return args


def corpus_stats(path: str | Path, *, strict: bool = False) -> list[str]:
    return ["corpus", "stats", str(path)] + (["--strict"] if strict else [])


def index_build(corpus: str | Path) -> list[str]:
    return ["index", "build", str(corpus)]


def eval_run(
    suite: Path,
    out: Path,
    *,
    workers: int | None = None,
    timeout: float | None = None,
    drafter: str | None = None,
    k: int | None = None,
    llm_args: list[str] | None = None,
    force: bool = False,
) -> list[str]:
    args = ["eval", "run", str(suite), "--out", str(out)]
    if workers is not None:
        args += ["--workers", str(workers)]
    if timeout is not None:  # the per-query deadline (called --query-timeout once --timeout became the LLM's)
        args += ["--query-timeout" if "--query-timeout" in EVAL_CAPS else "--timeout", str(timeout)]
    if drafter is not None:
        args += ["--drafter", drafter]
    if k is not None:
        args += ["--k", str(k)]
    if force:
        args.append("--force")
    return args + (llm_args or [])


def eval_report(run: Path) -> list[str]:
    return ["eval", "report", str(run)]


# Files synth keeps under SYNTH_HOME and in a run folder (what the cases corrupt and scan).
INDEX_DIR = "indexes"
LLM_CACHE_DIR = "llm-cache"
RECORDS = "records.jsonl"
MANIFEST = "manifest.json"
