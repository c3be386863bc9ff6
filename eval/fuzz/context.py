"""The context every fuzz class gets: how to run synth (subprocess or in-process), fake servers, judging, repros."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import synthcli
from .core import CaseResult, Observed, Secrets, exit_kind, synth_frame, trim, unexpected_name
from .fakeserver import Answer, FakeServer
from .runner import Worker, base_env, run_proc

HERE = Path(__file__).resolve().parent
OracleFn = Callable[[Observed], "str | None"]


class Ctx:
    """Paths, runners, secrets and result bookkeeping shared by the classes."""

    def __init__(
        self,
        *,
        checkout: Path,
        python: Path,
        out: Path,
        quick: bool,
        seed: int,
        jobs: int,
        proc_only: bool,
        log: Callable[[str], None],
    ) -> None:
        self.checkout, self.python, self.out, self.quick, self.seed = checkout, python, out, quick, seed
        self.jobs, self.proc_only, self.log = jobs, proc_only, log
        self.work = out / "work"
        self.repro_root = out / "repro"
        self.work.mkdir(parents=True, exist_ok=True)
        self.repro_root.mkdir(parents=True, exist_ok=True)
        self.secrets = Secrets()
        self.home_root = self.work / "os-home"
        self.env = base_env(self.home_root, self.secrets.env())
        self._workers: queue.Queue[Worker] = queue.Queue()
        self._all_workers: list[Worker] = []
        for i in range(max(1, jobs)):
            w = Worker(python, self.env, self.work / f"worker-{i}")
            self._workers.put(w)
            self._all_workers.append(w)
        self._frames: dict[str, str] = {}
        self._frames_lock = threading.Lock()
        self._n = 0
        self._n_lock = threading.Lock()
        self.sample_corpus = self._find_sample()
        self.caps = self._caps()
        self.trace = bool(os.environ.get("FUZZ_TRACE"))

    # -- paths ----------------------------------------------------------------------------------------------

    def _caps(self) -> set[str]:
        """The long flags `synth draft --help` lists (so optional flags are used only where they exist)."""
        obs = run_proc([str(self.python), "-m", "synth", "draft", "--help"], env={**self.env, "COLUMNS": "300"},
                       cwd=self.work / "caps", timeout=120)  # fmt: skip
        caps = set(re.findall(r"--[a-z][a-z0-9-]+", obs.stdout))
        synthcli.CAPS.clear()
        synthcli.CAPS.update(caps)
        ev = run_proc([str(self.python), "-m", "synth", "eval", "run", "--help"], env={**self.env, "COLUMNS": "300"},
                      cwd=self.work / "caps", timeout=120)  # fmt: skip
        synthcli.EVAL_CAPS.clear()
        synthcli.EVAL_CAPS.update(re.findall(r"--[a-z][a-z0-9-]+", ev.stdout))
        return caps

    def _find_sample(self) -> Path | None:
        for p in (self.checkout / "synth" / "data" / "seed_abstracts.jsonl",):
            if p.is_file():
                return p
        return None

    def case_dir(self, cls: str, name: str) -> Path:
        with self._n_lock:
            self._n += 1
            n = self._n
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:48].strip("-") or "case"
        d = self.work / cls / f"{n:05d}-{slug}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    # -- running synth --------------------------------------------------------------------------------------

    def synth(
        self,
        args: list[str],
        *,
        home: Path,
        env: dict[str, str] | None = None,
        timeout: float = 60.0,
        stdin: str | None = None,
        mode: str = "inproc",
        cwd: Path | None = None,
    ) -> Observed:
        """Run `synth ARGS` with SYNTH_HOME=home; `mode` "proc" is a real subprocess, "inproc" the worker."""
        case_env = {synthcli.HOME_VAR: str(home), **(env or {})}
        t0 = time.monotonic()
        try:
            return self._synth(args, case_env, timeout, stdin, mode, cwd, home)
        finally:
            if self.trace:
                self.log(f"  {time.monotonic() - t0:6.2f} s  {mode}  synth {' '.join(args)[:150]}")

    def _synth(self, args: list[str], case_env: dict[str, str], timeout: float, stdin: str | None, mode: str,
               cwd: Path | None, home: Path) -> Observed:  # fmt: skip
        if mode == "proc" or self.proc_only:
            argv = [str(self.python), "-m", "synth", *args]
            return run_proc(
                argv, env={**self.env, **case_env}, cwd=cwd or home.parent, timeout=timeout, stdin=stdin,
                case_env=case_env,
            )  # fmt: skip
        worker = self._workers.get()
        try:
            reply = worker.call({"op": "cli", "args": args, "env": case_env, "input": stdin}, timeout)
        finally:
            self._workers.put(worker)
        obs = Observed(argv=["synth", *args], rc=reply.get("rc"), mode="inproc", env=case_env, stdin=stdin)
        obs.elapsed = round(reply.get("elapsed", 0.0), 3)
        if reply.get("timed_out"):
            obs.timed_out, obs.rc = True, None
        elif reply.get("died"):
            obs.rc = -1
            obs.exception = f"WorkerDied: {reply['died']}"
        obs.stdout = reply.get("stdout", "")
        obs.stderr = reply.get("stderr", "") + _stray(reply.get("stray_stderr", ""))
        obs.exception = obs.exception or reply.get("exception")
        obs.traceback = reply.get("traceback")
        return obs

    def py(self, code: str, *, env: dict[str, str] | None = None, timeout: float = 60.0) -> dict[str, Any]:
        """Run Python code in a worker (inside the checkout's venv); the code sets `result`."""
        worker = self._workers.get()
        try:
            return worker.call({"op": "py", "code": code, "env": env or {}}, timeout)
        finally:
            self._workers.put(worker)

    def pool(self, fn: Callable[[Any], Any], items: Iterable[Any], jobs: int | None = None, *, cls: str = "harness",
             many: bool = False) -> list[Any]:  # fmt: skip
        """Map `fn` over items with `jobs` threads (default: one per worker).

        A harness error in one item becomes a could_not_run result (a list of one when `many`), not a lost class.
        """

        def safe(item: Any) -> Any:
            try:
                return fn(item)
            except Exception as e:
                import traceback

                self.log(f"harness error in {cls} on {str(item)[:80]}: {traceback.format_exc()}")
                r = CaseResult(cls=cls, name=str(getattr(item, "__name__", item))[:60], outcome="could_not_run",
                               detail=f"harness error: {type(e).__name__}: {e}")  # fmt: skip
                return [r] if many else r

        with ThreadPoolExecutor(max_workers=jobs or self.jobs) as ex:
            return list(ex.map(safe, items))

    def server(self, answers: list[Answer] | Answer) -> FakeServer:
        return FakeServer(answers if isinstance(answers, list) else [answers]).__enter__()

    def close(self) -> None:
        for w in self._all_workers:
            w.stop()

    # -- judging --------------------------------------------------------------------------------------------

    def leaks(self, obs: Observed, paths: Iterable[Path] = ()) -> list[str]:
        found = [f"{name} in {where}" for where, text in (("stdout", obs.stdout), ("stderr", obs.stderr))
                 for name in self.secrets.find(text)]  # fmt: skip
        found += self.secrets.scan_files(*[p for p in paths if p.exists()])
        return found

    def judge(
        self,
        cls: str,
        name: str,
        obs: Observed,
        *,
        oracle: OracleFn | None = None,
        valid_input: bool = False,
        scan: Iterable[Path] = (),
        case_dir: Path | None = None,
        server: FakeServer | None = None,
        detail: str = "",
        note: str = "",
        expect_error: str | None = None,
        sig: str = "",
        repro_pre: list[str] | None = None,
    ) -> CaseResult:
        """Classify one run; on a failure write a reproducer.

        `oracle(obs)` is asked when synth exited 0 and returns None (correct) or what is wrong. `valid_input`:
        the input has a valid answer, so a clear error is a failure too. `expect_error`: a clear error is the
        right answer (a regex it must match), and exit 0 is then wrong.
        """
        leaks = self.leaks(obs, scan)
        kind = exit_kind(obs)
        failure = False
        if leaks:
            outcome, detail = "leak", "; ".join(leaks) + (f" ({detail})" if detail else "")
            failure = True
        elif kind in ("hang", "unexpected", "could_not_run"):
            outcome = kind
            failure = kind != "could_not_run"
            if kind == "could_not_run":
                detail = detail or trim(obs.exception or obs.stderr or "no exit code", 300)
            if kind == "hang":
                detail = detail or f"killed after {obs.elapsed:.0f} s"
            elif kind == "unexpected":
                detail = detail or trim(next((ln for ln in obs.stderr.splitlines() if ln.startswith("error:")), "")
                                        or obs.exception or obs.stderr[-300:], 300)  # fmt: skip
        elif kind == "ok":
            if expect_error is not None:
                outcome, failure = "wrong", True
                detail = detail or "exit 0 where an error was the right answer"
            else:
                problem = oracle(obs) if oracle else None
                outcome = "wrong" if problem else "correct"
                failure = bool(problem)
                detail = problem or detail
        else:  # clear_error
            outcome = "clear_error"
            line = obs.error_lines()[0]
            if expect_error is not None and not re.search(expect_error, line):
                failure, detail = True, f"error does not say what is wrong: {trim(line, 200)}"
            elif valid_input:
                failure, detail = True, f"refused valid input: {trim(line, 200)}"
            else:
                detail = detail or trim(line, 200)
        result = CaseResult(cls=cls, name=name, outcome=outcome, detail=detail, failure=failure,
                            elapsed=obs.elapsed, observed=obs.short())  # fmt: skip
        if note:
            result.detail = f"{result.detail} [{note}]" if result.detail else note
        if failure:
            result.where = self.where(obs) if outcome == "unexpected" else ""
            result.signature = (
                f"{cls}: {outcome}: {sig}" if sig and outcome != "unexpected" else signature(cls, outcome, obs, result)
            )
            self.write_repro(result, obs, case_dir, server, repro_pre or [])
        return result

    def where(self, obs: Observed) -> str:
        """The synth frame that raised: from the in-process traceback, or by re-running once with -vv."""
        if obs.traceback and (frame := synth_frame(obs.traceback)):
            return frame
        if frame := synth_frame(obs.stderr):
            return frame
        key = " ".join(obs.argv) + "|" + json.dumps(obs.env, sort_keys=True)
        with self._frames_lock:
            if key in self._frames:
                return self._frames[key]
        args = obs.argv[1:] if obs.argv[:1] == ["synth"] else obs.argv[3:]
        home = Path(obs.env.get(synthcli.HOME_VAR, str(self.work / "where-home")))
        again = self.synth(synthcli.verbose(args), home=home, env={k: v for k, v in obs.env.items() if k != synthcli.HOME_VAR},
                           timeout=120, stdin=obs.stdin, mode="proc")  # fmt: skip
        frame = synth_frame(again.stderr)
        with self._frames_lock:
            self._frames[key] = frame
        return frame

    # -- reproducers ----------------------------------------------------------------------------------------

    def write_repro(self, result: CaseResult, obs: Observed, case_dir: Path | None, server: FakeServer | None,
                    pre: list[str] | None = None) -> None:  # fmt: skip
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{result.cls}-{result.name}")[:70].strip("-")
        dest = self.repro_root / slug
        n = 1
        while dest.exists():
            n += 1
            dest = self.repro_root / f"{slug}-{n}"
        dest.mkdir(parents=True)
        if case_dir is not None and case_dir.is_dir():
            for f in case_dir.rglob("*"):
                if f.is_file() and not f.is_symlink() and f.stat().st_size <= 2_000_000 and ".out-" not in f.name \
                        and ".err-" not in f.name and "/home/" not in str(f.relative_to(case_dir.parent)):  # fmt: skip
                    target = dest / f.relative_to(case_dir)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, target)
        lines = ["#!/bin/sh", f"# {result.cls} {result.name}: {result.outcome}", 'cd "$(dirname "$0")"',
                 'export SYNTH_HOME="$PWD/synth-home"', *(["PORT=${PORT:-18231}"] if server is not None else []),
                 *(pre or [])]  # fmt: skip
        port = f"127.0.0.1:{server.port}" if server is not None else None
        for k, v in obs.env.items():
            if k != synthcli.HOME_VAR:
                v = self._rel(v, case_dir)
                lines.append(f'export {k}="{v.replace(port, "127.0.0.1:${PORT}")}"' if port and port in v
                             else f"export {k}={shlex.quote(v)}")  # fmt: skip
        if any(k in obs.env for k in ("OPENAI_API_KEY",)) or server is not None:
            lines.append(f"export OPENAI_API_KEY={shlex.quote(self.secrets.openai)}")
        args = obs.argv[1:] if obs.argv[:1] == ["synth"] else obs.argv[3:]
        args = [self._rel(a, case_dir) for a in args]
        if server is not None:
            (dest / "server.json").write_text(json.dumps(server.script(), indent=1)[:50_000_000])
            args = [a.replace(server.base, "http://127.0.0.1:${PORT}/v1") for a in args]
            lines.append(f"python {HERE / 'fakeserver.py'} server.json --port $PORT & SERVER=$!; sleep 2")
        cmd = "synth " + " ".join(_q(a) for a in args)
        if obs.stdin is not None:
            (dest / "stdin.txt").write_text(obs.stdin)
            cmd += " < stdin.txt"
        lines.append(cmd)
        if server is not None:
            lines.append("kill $SERVER")
        (dest / "repro.sh").write_text("\n".join(lines) + "\n")
        (dest / "repro.sh").chmod(0o755)
        (dest / "observed.txt").write_text(f"outcome: {result.outcome}\n{result.detail}\n\n{obs.stderr[-20000:]}\n--- stdout ---\n{obs.stdout[-20000:]}\n")  # fmt: skip
        result.repro = f"repro/{dest.name}/repro.sh"
        result.files = [str(p.relative_to(self.out)) for p in sorted(dest.rglob("*")) if p.is_file()][:20]

    def _rel(self, value: str, case_dir: Path | None) -> str:
        if case_dir is not None:
            value = value.replace(str(case_dir) + "/", "./").replace(str(case_dir), ".")
        return value


def _q(arg: str) -> str:
    if "${PORT}" in arg:
        return '"' + arg.replace('"', '\\"') + '"'
    return shlex.quote(arg)


def _stray(text: str) -> str:
    text = text.strip()
    return f"\n[worker stderr]\n{text}" if text else ""


def signature(cls: str, outcome: str, obs: Observed, result: CaseResult) -> str:
    if outcome == "unexpected":
        return f"{cls}: unexpected {unexpected_name(obs)}" + (f" at {result.where}" if result.where else "")
    return f"{cls}: {outcome}"


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
