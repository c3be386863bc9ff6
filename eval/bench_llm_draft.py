"""Whole-process time of an LLM draft against a local OpenAI-compatible server, and where the time goes.

Start a server first (see tests/README.md), then, from the project root:
    python eval/bench_llm_draft.py --api-base http://127.0.0.1:8080/v1 --model openai/local --runs 3
Each run is a fresh `synth draft ... --format json --no-cache` process. "LLM" is the time inside the model
call(s); "litellm import" is measured in a separate process; "other" is everything else: start-up,
retrieval, prompt building, token counting, parsing, rendering.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

QUERY = "program synthesis from input-output examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-base", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--model", default="openai/local")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    synth = shutil.which("synth") or sys.exit("synth is not on PATH")
    home = tempfile.mkdtemp()
    env = {**os.environ, "SYNTH_HOME": home}
    cmd = [synth, "draft", QUERY, "--model", args.model, "--api-base", args.api_base, "-k", str(args.k)]
    cmd += ["--format", "json", "--no-cache"]
    subprocess.run([synth, "draft", QUERY], env=env, check=True, capture_output=True)  # build the index once

    rows = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - start
        data = json.loads(out)
        rows.append((wall, data["usage"]["latency_s"], data["usage"]["calls"], len(data["citations"])))

    probe = "import time; t = time.perf_counter(); import synth.llm as m; m.import_litellm(); print(time.perf_counter() - t)"
    imports = [float(subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                                    check=True).stdout) for _ in range(3)]  # fmt: skip
    wall, llm = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    imp = statistics.median(imports)
    other = wall - llm
    print(f"model {args.model} at {args.api_base}, k={args.k}, {args.runs} runs (medians)")
    print(
        "| whole process s | in LLM calls s | litellm import s | everything else s | share not in LLM | share not in LLM or import |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {wall:.2f} | {llm:.2f} | {imp:.2f} | {other - imp:.2f} | {other / wall:.1%} | {(other - imp) / wall:.1%} |"
    )
    print("calls per draft:", [r[2] for r in rows], "citations per draft:", [r[3] for r in rows])
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
