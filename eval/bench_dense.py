"""Dense embedding throughput on this CPU: all-MiniLM-L6-v2 over title + abstract (needs synth[dense]).

Run from the project root:  python eval/bench_dense.py [--n 300]
"""

from __future__ import annotations

import argparse
import time

from synth.corpus import load_corpus
from synth.retrieve.dense import MiniLM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    texts = [p.text for p in load_corpus("eval/suites/deepscholar-dev/corpus.jsonl").papers][: args.n]
    encoder = MiniLM()
    start = time.perf_counter()
    encoder.encode(texts[:8])  # loads the model
    load = time.perf_counter() - start
    start = time.perf_counter()
    encoder.encode(texts)
    elapsed = time.perf_counter() - start
    rate = len(texts) / elapsed
    print("| model load s | abstracts | seconds | abstracts/s | 1,000,000 abstracts at this rate |")
    print("|---|---|---|---|---|")
    print(f"| {load:.1f} | {len(texts)} | {elapsed:.1f} | {rate:.1f} | {1e6 / rate / 3600:.1f} h |")


if __name__ == "__main__":
    main()
