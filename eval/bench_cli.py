"""Whole-process speed of the CLI: `synth --help`, and `synth draft` cold (empty cache) and cached.

Run from the project root (synth installed):
    python eval/bench_cli.py                 # 15 runs each, median and best
    python eval/bench_cli.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

QUERY = "program synthesis from examples"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    synth = shutil.which("synth")
    if synth is None:
        raise SystemExit("synth is not on PATH: pip install -e . first")
    home = Path(tempfile.mkdtemp())
    env = {**os.environ, "SYNTH_HOME": str(home)}
    rows = {"synth --help": [], "synth draft (cold: empty cache)": [], "synth draft (index cached)": []}
    for _ in range(args.runs):
        rows["synth --help"].append(timed([synth, "--help"], env))
        shutil.rmtree(home, ignore_errors=True)
        rows["synth draft (cold: empty cache)"].append(timed([synth, "draft", QUERY], env))
        rows["synth draft (index cached)"].append(timed([synth, "draft", QUERY], env))
    shutil.rmtree(home, ignore_errors=True)
    print("| command | median s | best s | runs |\n|---|---|---|---|")
    for name, times in rows.items():
        print(f"| `{name}` | {statistics.median(times):.3f} | {min(times):.3f} | {len(times)} |")


if __name__ == "__main__":
    main()
