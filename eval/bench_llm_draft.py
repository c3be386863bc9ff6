"""Whole-process time of an LLM draft, and how much of it is not the model: synth's own overhead.

By default the model is a local stand-in that answers every call after exactly `--latency` seconds (10 s:
the issue's yardstick), so the figure measures synth alone; `--api-base URL --model NAME` measures a real
server instead. From the project root, synth installed:
    python eval/bench_llm_draft.py                    # one-shot drafts, a 10 s model, 3 runs
    python eval/bench_llm_draft.py --pipeline staged --latency 2
Each run is a fresh `synth draft ... --format json --no-cache` process. "in LLM calls" is the time spent waiting
for the model (synth's own measure, summed over calls); "everything else" is start-up, imports, retrieval,
prompts, token counting, parsing, verification and rendering.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUERY = "program synthesis from input-output examples"
_ABSTRACT = re.compile(r'<source n="(\d+)">.*?Abstract: ([^\n]*)', re.S)


def reply(prompt: str) -> dict[str, object]:
    """A draft such as a good model writes: the first sentence of each source's abstract, citing it."""
    sentences = [
        {"text": abstract.split(". ")[0] + ".", "cites": [int(n)]} for n, abstract in _ABSTRACT.findall(prompt)
    ]
    return {"paragraphs": [{"sentences": sentences[:6]}]}


def stand_in(latency: float) -> tuple[ThreadingHTTPServer, str]:
    """An OpenAI-compatible server on loopback that answers every chat completion after `latency` seconds."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            time.sleep(latency)
            prompt = request["messages"][-1]["content"]
            body = json.dumps({"choices": [{"message": {"content": json.dumps(reply(prompt))}, "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 1000, "completion_tokens": 60}}).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-base", help="a real server (default: the stand-in)")
    parser.add_argument("--model", default="openai/local")
    parser.add_argument("--latency", type=float, default=10.0, help="seconds the stand-in takes per call")
    parser.add_argument("--pipeline", default="one-shot")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    synth = shutil.which("synth") or sys.exit("synth is not on PATH")
    server, base = (None, args.api_base) if args.api_base else stand_in(args.latency)
    home = tempfile.mkdtemp()
    env = {**os.environ, "SYNTH_HOME": home}
    cmd = [synth, "draft", QUERY, "--model", args.model, "--api-base", base, "-k", str(args.k),
           "--pipeline", args.pipeline, "--format", "json", "--no-cache"]  # fmt: skip
    subprocess.run([synth, "draft", QUERY], env=env, check=True, capture_output=True)  # build the index once
    rows = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - start
        data = json.loads(out)
        rows.append((wall, data["usage"]["latency_s"], data["usage"]["calls"]))
    wall = statistics.median(r[0] for r in rows)
    llm = statistics.median(r[1] for r in rows)
    model = f"stand-in answering in {args.latency:g} s" if server else base
    print(f"{args.pipeline} drafts, model {model}, k={args.k}, {args.runs} runs (medians); "
          f"calls per draft: {[r[2] for r in rows]}")  # fmt: skip
    print("| whole process s | in LLM calls s | everything else s | share not in the LLM |")
    print("|---|---|---|---|")
    print(f"| {wall:.2f} | {llm:.2f} | {wall - llm:.2f} | {(wall - llm) / wall:.1%} |")
    if server:
        server.shutdown()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
