"""Running synth: a venv for the checkout, real subprocesses with bounds, and a persistent in-process worker.

Every process gets a clean environment (PATH, a private HOME and TMPDIR, LANG, the fake secrets, and the
case's own variables), its own process group (a hang is killed with everything it started) and an
address-space limit (a gzip or template bomb cannot take the machine down).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .core import Observed

HERE = Path(__file__).resolve().parent
MEMORY_LIMIT = 6 * 1024**3  # bytes of address space per synth process
_LIMIT = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def ensure_python(checkout: Path, python: str | None, venv: Path | None, log: Any) -> Path:
    """The interpreter that runs the checkout: `python` as given, else a venv with `pip install -e checkout[dev]`."""
    if python:
        py = Path(python)
    else:
        venv = venv or checkout / ".venv-fuzz"
        py = venv / "bin" / "python"
        stamp = venv / ".fuzz-installed"
        want = hashlib.sha256((checkout / "pyproject.toml").read_bytes()).hexdigest() + str(checkout.resolve())
        if not py.exists():
            log(f"creating venv {venv}")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        if not stamp.is_file() or stamp.read_text() != want:
            log(f"installing {checkout}[dev] into {venv} (a minute or two)")
            subprocess.run(
                [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", f"{checkout}[dev]"],
                check=True,
            )
            stamp.write_text(want)
    where = subprocess.run(
        [str(py), "-c", "import synth, sys; print(synth.__file__)"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if where.returncode != 0:
        raise SystemExit(f"{py} cannot import synth: {where.stderr.strip()[-500:]}")
    imported = Path(where.stdout.strip()).resolve()
    if checkout.resolve() not in imported.parents:
        log(f"WARNING: {py} imports synth from {imported}, not from {checkout}")
    return py


def base_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: nothing from the caller's shell but PATH."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # never write into the checkout under test
        "NO_PROXY": "127.0.0.1,localhost",
    }
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


def _read(path: Path, limit: int = 4_000_000) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", "replace")
    return text + ("\n… [output cut at 4 MB]" if len(data) > limit else "")


def run_proc(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    stdin: str | None = None,
    case_env: dict[str, str] | None = None,
    memory: int = MEMORY_LIMIT,
) -> Observed:
    """Run one command in its own process group, killing the group after `timeout` seconds."""
    cwd.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
    out_path, err_path = cwd / f".out-{tag}", cwd / f".err-{tag}"
    full = [sys.executable, "-c", _LIMIT, str(memory), *argv] if memory else argv
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(
                full,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as e:
            return Observed(argv=argv, rc=None, stderr=f"could not start: {e}", env=dict(case_env or {}))
        if stdin is not None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(stdin.encode())
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        timed_out, rc, rss = False, None, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                rc = os.waitstatus_to_exitcode(status)
                rss = usage.ru_maxrss / 1024
                proc.returncode = rc
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                _kill_group(proc.pid)
                _, status, usage = os.wait4(proc.pid, 0)
                rc = os.waitstatus_to_exitcode(status)
                rss = usage.ru_maxrss / 1024
                proc.returncode = rc
                break
            time.sleep(0.02)
    _kill_group(proc.pid)  # whatever it left behind
    elapsed = time.monotonic() - start
    result = Observed(
        argv=argv,
        rc=rc,
        stdout=_read(out_path),
        stderr=_read(err_path),
        elapsed=round(elapsed, 3),
        timed_out=timed_out,
        maxrss_mb=round(rss, 1) if rss else None,
        mode="proc",
        env=dict(case_env or {}),
        stdin=stdin,
    )
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    return result


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class Worker:
    """A persistent Python process in the checkout's venv that runs synth's CLI in-process (typer's CliRunner).

    It costs one import of synth and litellm for hundreds of cases. A case that goes over its bound kills the
    worker (and its process group); the next case starts a fresh one.
    """

    def __init__(self, python: Path, env: dict[str, str], cwd: Path, memory: int = MEMORY_LIMIT) -> None:
        self.python, self.env, self.cwd, self.memory = python, env, cwd, memory
        self.proc: subprocess.Popen[bytes] | None = None
        self._reply_fd: int | None = None
        self._buf = b""
        self.lock = threading.Lock()
        self.restarts = 0
        self.stderr_path = cwd / f".worker-stderr-{id(self)}"

    def _start(self) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        r, w = os.pipe()
        argv = [str(self.python), str(HERE / "worker.py"), str(w)]
        full = [sys.executable, "-c", _LIMIT, str(self.memory), *argv] if self.memory else argv
        self._stderr = open(self.stderr_path, "ab")  # noqa: SIM115 - the worker writes to it for its whole life
        self.proc = subprocess.Popen(
            full,
            stdin=subprocess.PIPE,
            stdout=self._stderr,
            stderr=self._stderr,
            env=self.env,
            cwd=self.cwd,
            pass_fds=(w,),
            start_new_session=True,
        )
        os.close(w)
        self._reply_fd, self._buf = r, b""
        ready = self._line(180)
        if ready is None or json.loads(ready).get("ready") is not True:
            self.stop()
            raise RuntimeError(f"the in-process worker did not start: {_read(self.stderr_path)[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            self.proc = None
            self.restarts += 1
        if self._reply_fd is not None:
            os.close(self._reply_fd)
            self._reply_fd = None

    def _line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            assert self._reply_fd is not None
            ready, _, _ = select.select([self._reply_fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._reply_fd, 1 << 20)
                if not chunk:
                    return None  # the worker died
                self._buf += chunk
            elif self.proc is not None and self.proc.poll() is not None:
                return None
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request; {"timed_out": True} or {"died": ...} when the worker did not answer in time."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                if self.proc is not None:
                    self.stop()
                self._start()
            assert self.proc is not None and self.proc.stdin is not None
            offset = self.stderr_path.stat().st_size if self.stderr_path.exists() else 0
            start = time.monotonic()
            try:
                self.proc.stdin.write((json.dumps(request) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.stop()
                return {"died": "the worker was gone", "elapsed": 0.0}
            line = self._line(timeout)
            elapsed = time.monotonic() - start
            if line is None:
                rc = self.proc.poll()
                self.stop()
                stray = _tail(self.stderr_path, offset)
                if rc is None:
                    return {"timed_out": True, "elapsed": elapsed, "stray_stderr": stray}
                return {"died": f"worker exited with {rc}", "elapsed": elapsed, "stray_stderr": stray, "rc": rc}
            reply = json.loads(line)
            reply["elapsed"] = elapsed
            reply["stray_stderr"] = _tail(self.stderr_path, offset)
            return reply


def _tail(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(200_000).decode("utf-8", "replace")
    except OSError:
        return ""
