"""Brute-force dense search latency at 10k / 100k / 1M papers (384-d float32, MiniLM's size).

Run from the project root:  python eval/bench_dense_search.py
Random unit vectors stand in for embeddings: the cost of an exact inner-product search does not depend
on their values. Measures what DenseRetriever.search does after encoding the query: one matrix-vector
product and a top-20 selection.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def main() -> None:
    rng = np.random.default_rng(0)
    print("| papers | matrix GB | search p50 ms | search p95 ms |")
    print("|---|---|---|---|")
    for n in (10_000, 100_000, 1_000_000):
        matrix = rng.standard_normal((n, 384), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        times = []
        for _ in range(50):
            q = rng.standard_normal(384, dtype=np.float32)
            q /= np.linalg.norm(q)
            start = time.perf_counter()
            scores = matrix @ q
            top = np.argpartition(-scores, 20)[:20]
            top[np.argsort(-scores[top])]
            times.append(time.perf_counter() - start)
        times.sort()
        p50, p95 = 1000 * statistics.median(times), 1000 * times[int(0.95 * len(times))]
        print(f"| {n:,} | {matrix.nbytes / 1e9:.2f} | {p50:.1f} | {p95:.1f} |")
        del matrix


if __name__ == "__main__":
    main()
