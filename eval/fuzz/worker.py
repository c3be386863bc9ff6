"""Runs inside the checkout's venv: synth's CLI in-process, one JSON request a line on stdin, replies on fd N.

Stand-alone on purpose (stdlib, synth and typer only): it must not import the harness, which runs elsewhere.
Requests: {"op": "cli", "args": [...], "env": {...}, "input": str | None}
          {"op": "py", "code": "...", "env": {...}}  (the code sets `result` to something JSON-ready)
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback


def main() -> None:
    reply = os.fdopen(int(sys.argv[1]), "w", buffering=1)
    requests = sys.stdin
    import synth.cli  # noqa: F401 - warm imports before the first case

    try:  # litellm with synth's own hygiene (offline cost map, no .env), so no case pays for the import
        from synth.llm import import_litellm

        import_litellm()
    except Exception as e:  # a checkout without it: the cases will say what breaks
        print(f"worker: could not pre-import litellm: {e!r}", file=sys.stderr)
    reply.write(json.dumps({"ready": True}) + "\n")
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            result = _cli(request) if request["op"] == "cli" else _py(request)
        except BaseException as e:  # the worker itself must answer
            result = {"rc": None, "exception": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        reply.write(json.dumps(result, default=str) + "\n")


def _runner():  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()


_CAPTURED: list[str] = []


def _capture_tracebacks() -> None:
    """Keep the traceback the CLI logs at debug level for an unexpected error (it prints only one line)."""
    import logging

    for name in ("synth", "synth.cli"):
        logger = logging.getLogger(name)
        if getattr(logger, "_fuzz_patched", False):
            continue
        original = logger.debug

        def debug(msg, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            if kwargs.get("exc_info"):
                _CAPTURED.append(traceback.format_exc())
            return _original(msg, *args, **kwargs)

        logger.debug = debug  # type: ignore[method-assign]
        logger._fuzz_patched = True  # type: ignore[attr-defined]


def _cli(request: dict) -> dict:
    from synth.cli import app

    _capture_tracebacks()
    _CAPTURED.clear()
    runner = _runner()
    start = time.perf_counter()
    result = runner.invoke(
        app, request["args"], input=request.get("input"), env=request.get("env") or {}, prog_name="synth",
        catch_exceptions=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    exception = tb = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exception = f"{type(result.exception).__name__}: {result.exception}"
        if result.exc_info is not None:
            tb = "".join(traceback.format_exception(*result.exc_info))
    if tb is None and _CAPTURED:
        tb = _CAPTURED[-1]
    stderr = ""
    try:
        stderr = result.stderr_bytes.decode("utf-8", "replace") if result.stderr_bytes is not None else ""
    except (ValueError, AttributeError):
        stderr = ""
    return {
        "rc": result.exit_code,
        "stdout": result.stdout_bytes.decode("utf-8", "replace"),
        "stderr": stderr,
        "exception": exception,
        "traceback": tb,
        "inner_elapsed": elapsed,
    }


def _py(request: dict) -> dict:
    env = request.get("env") or {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    namespace: dict = {}
    try:
        exec(compile(request["code"], "<fuzz>", "exec"), namespace)
        return {"rc": 0, "result": namespace.get("result")}
    except BaseException as e:
        try:
            from synth.errors import SynthError

            clear = isinstance(e, SynthError)
        except ImportError:
            clear = False
        kind = "synth_error" if clear else "exception"
        return {"rc": 1, kind: f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


if __name__ == "__main__":
    main()
