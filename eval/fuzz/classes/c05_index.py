"""5. Index integrity: corrupted `.npy`, `vocab.json` and `meta.json` in the cached BM25 index under SYNTH_HOME.

A pristine index of the sample corpus is built once; each case copies it, corrupts one file (zero length,
truncated, random bytes, a flipped byte, deleted, a directory, a FIFO, a link to /dev/zero, or valid files with
wrong content), then runs `synth search` twice. The oracle: both rankings equal the pristine one (the index
was detected as bad and rebuilt). A different ranking is silently wrong; an error is a failure too (a cache
must heal, not stop the user).
"""

from __future__ import annotations

import json
import os
import random
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import synthcli as cli
from ..common import QUERY
from ..core import CaseResult, Observed

CLS = "c05"
TITLE = "Index integrity"
FILES = ("data.npy", "indices.npy", "indptr.npy", "vocab.json", "meta.json")


def _bytes_corruptions(rng: random.Random) -> dict[str, tuple[Callable[[Path], None], str]]:
    """kind -> (corrupt(path), the same as a shell line on "$F")."""

    def zero(p: Path) -> None:
        p.write_bytes(b"")

    def half(p: Path) -> None:
        p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])

    def rand(p: Path) -> None:
        p.write_bytes(bytes(rng.randrange(256) for _ in range(max(16, p.stat().st_size))))

    def flip(p: Path) -> None:
        b = bytearray(p.read_bytes())
        i = len(b) * 3 // 4
        b[i] ^= 0x55
        p.write_bytes(bytes(b))

    def delete(p: Path) -> None:
        p.unlink()

    def directory(p: Path) -> None:
        p.unlink()
        p.mkdir()

    def fifo(p: Path) -> None:
        p.unlink()
        os.mkfifo(p)

    def devzero(p: Path) -> None:
        p.unlink()
        p.symlink_to("/dev/zero")

    py = "python3 -c \"import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); {}; open(p,'wb').write(b)\" \"$F\""
    return {
        "zero-length": (zero, ': > "$F"'),
        "truncated": (half, py.format("b=b[:len(b)//2]")),
        "random bytes": (rand, 'head -c "$(stat -c %s "$F")" /dev/urandom > "$F.x" && mv "$F.x" "$F"'),
        "one flipped byte": (flip, py.format("b[len(b)*3//4]^=0x55")),
        "deleted": (delete, 'rm "$F"'),
        "a directory": (directory, 'rm "$F" && mkdir "$F"'),
        "a FIFO": (fifo, 'rm "$F" && mkfifo "$F"'),
        "a link to /dev/zero": (devzero, 'ln -sf /dev/zero "$F"'),
    }


# Valid .npy files with wrong content: (name, file, numpy expression of the loaded array `a`)
ARRAYS = [
    ("data values x2", "data.npy", "a * 2"),
    ("data shuffled", "data.npy", "np.random.RandomState(5).permutation(a)"),
    ("data negated", "data.npy", "-a"),
    ("data NaN", "data.npy", "np.full_like(a, np.nan)"),
    ("data as int8", "data.npy", "a.astype(np.int8)"),
    ("data 2-D", "data.npy", "a.reshape(1, -1)"),
    ("data of strings", "data.npy", "a.astype('U4')"),
    ("indices out of range", "indices.npy", "a + 100000"),
    ("indices negative", "indices.npy", "-a - 1"),
    ("indices shuffled", "indices.npy", "np.random.RandomState(5).permutation(a)"),
    ("indices as float", "indices.npy", "a.astype(np.float64) + 0.5"),
    ("indptr reversed", "indptr.npy", "a[::-1].copy()"),
    ("indptr shortened", "indptr.npy", "np.concatenate([a[:10], a[-1:]])"),
    ("indptr zeros but last", "indptr.npy", "np.concatenate([np.zeros(len(a) - 1, a.dtype), a[-1:]])"),
    ("indptr shifted", "indptr.npy", "np.concatenate([a[:1], a[1:-1] + 1, a[-1:]])"),
]
# Valid JSON files with wrong content: (name, file, Python expression of the loaded value `v`)
JSONS = [
    ("vocab ids rotated", "vocab.json", "dict(zip(v, list(v.values())[1:] + list(v.values())[:1]))"),
    ("vocab empty", "vocab.json", "{}"),
    ("vocab a list", "vocab.json", "list(v)"),
    ("vocab ids as strings", "vocab.json", "{k: str(i) for k, i in v.items()}"),
    ("vocab ids out of range", "vocab.json", "{k: i + 10**6 for k, i in v.items()}"),
    ("vocab ids negative", "vocab.json", "{k: -i - 2 for k, i in v.items()}"),
    ("vocab null", "vocab.json", "None"),
    ("meta num_docs + 50", "meta.json", "{**v, 'num_docs': v['num_docs'] + 50}"),
    ("meta num_docs - 50", "meta.json", "{**v, 'num_docs': v['num_docs'] - 50}"),
    ("meta num_docs 0", "meta.json", "{**v, 'num_docs': 0}"),
    ("meta num_docs -1", "meta.json", "{**v, 'num_docs': -1}"),
    ("meta num_docs a string", "meta.json", "{**v, 'num_docs': 'many'}"),
    ("meta num_docs 1e12", "meta.json", "{**v, 'num_docs': 10**12}"),
    ("meta without num_docs", "meta.json", "{k: x for k, x in v.items() if k != 'num_docs'}"),
    ("meta other fingerprint", "meta.json", "{**v, 'fingerprint': '0' * 64}"),
    ("meta a list", "meta.json", "[v]"),
    ("meta null", "meta.json", "None"),
]


def _expr_line(file: str, expr: str) -> str:
    if file.endswith(".npy"):
        code = f"import numpy as np, sys; p=sys.argv[1]; a=np.load(p); np.save(p, {expr})"
    else:
        code = f"import json, sys; p=sys.argv[1]; v=json.load(open(p)); json.dump({expr}, open(p, 'w'))"
    return f'python3 -c {shlex.quote(code)} "$F"'


def run(ctx: Any) -> list[CaseResult]:
    rng = random.Random(ctx.seed)
    pristine = ctx.work / CLS / "pristine"
    build = ctx.synth(cli.index_build("sample"), home=pristine, timeout=120)
    if build.rc != 0:
        return [ctx.judge(CLS, "build the pristine index", build, case_dir=None)]
    folders = sorted((pristine / cli.INDEX_DIR).glob("bm25-*"))
    if not folders:
        return [
            CaseResult(CLS, "find the index", "could_not_run", f"no bm25-* folder under {pristine / cli.INDEX_DIR}")
        ]
    baseline = _ranking(ctx.synth(cli.search(QUERY, k=20), home=pristine, timeout=60))
    plans: list[tuple[str, str, Callable[[Path], None] | None, str]] = []
    files = FILES if not ctx.quick else ("data.npy", "meta.json")
    for f in files:
        for kind, (fn, line) in _bytes_corruptions(rng).items():
            if ctx.quick and kind not in ("zero-length", "random bytes", "a FIFO"):
                continue
            plans.append((f"{f}: {kind}", f, fn, line))
    semantic = [(n, f, None, _expr_line(f, e)) for n, f, e in ARRAYS + JSONS]
    plans += semantic if not ctx.quick else semantic[::5]
    plans += [("index folder replaced by a file", "", _folder_file, 'rm -r "$F" && echo x > "$F"'),
              ("indexes/ replaced by a file", "..", _indexes_file, 'rm -r "$(dirname "$F")" && echo x > "$(dirname "$F")"')]  # fmt: skip
    if not ctx.quick:
        plans.append(
            (
                "leftover temp folders beside the index",
                "",
                _leftovers,
                'for i in 1 2 3; do cp -r "$F" "$F.tmp-$i"; rm "$F.tmp-$i/meta.json"; done',
            )
        )

    def one(plan: tuple[str, str, Callable[[Path], None] | None, str]) -> CaseResult:
        name, file, corrupt, line = plan
        d = ctx.case_dir(CLS, name)
        home = d / "home"
        shutil.copytree(pristine, home, symlinks=True)
        folder = sorted((home / cli.INDEX_DIR).glob("bm25-*"))[0]
        target = folder / file if file not in ("", "..") else folder if file == "" else folder.parent
        try:
            if corrupt is not None:
                corrupt(target)
            else:  # with the checkout's numpy
                done = subprocess.run(["sh", "-c", line], env={**os.environ, "F": str(target), "PATH": f"{ctx.python.parent}:{os.environ.get('PATH', '')}"}, capture_output=True, text=True)  # fmt: skip
                if done.returncode != 0:
                    raise RuntimeError(done.stderr.strip()[-300:])
        except Exception as e:  # a corruption that does not apply
            return CaseResult(CLS, name, "could_not_run", f"could not corrupt: {type(e).__name__}: {e}")
        pre = [
            "synth index build sample",
            'F="$(ls -d "$SYNTH_HOME"/indexes/bm25-* | head -1)"' + (f"/{file}" if file not in ("", "..") else ""),
            line,
        ]
        first = ctx.synth(cli.search(QUERY, k=20), home=home, timeout=15 if ctx.quick else 30)
        if first.timed_out or first.rc != 0:
            return ctx.judge(CLS, name, first, valid_input=True, case_dir=None, sig=f"corrupt index ({file or 'folder'})",
                             repro_pre=pre)  # fmt: skip
        second = ctx.synth(cli.search(QUERY, k=20), home=home, timeout=30)
        notes = []
        info = ctx.synth(["index", "info"], home=home, timeout=30)
        if info.rc != 0:
            notes.append(f"`synth index info` then fails: {info.short(200)}")

        def oracle(o: Observed) -> str | None:
            got1, got2 = _ranking(o), _ranking(second)
            problems = []
            if got1 != baseline:
                problems.append(f"first search after the corruption ranks differently: {_diff(baseline, got1)}")
            if second.rc != 0:
                problems.append(f"second search failed: {second.short(200)}")
            elif got2 != baseline:
                problems.append("not healed: the second search is still wrong")
            return "; ".join(problems + notes) or None

        sig = "corrupt index used silently (wrong ranking, never healed)" if file else "index folder"
        return ctx.judge(CLS, name, first, oracle=oracle, valid_input=True, case_dir=None, sig=sig, repro_pre=pre)

    return ctx.pool(one, plans, cls=CLS)


def _folder_file(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("not an index")


def _indexes_file(indexes: Path) -> None:
    shutil.rmtree(indexes)
    indexes.write_text("not a folder")


def _leftovers(folder: Path) -> None:
    for i in range(3):
        tmp = folder.parent / f"{folder.name}.tmp-fuzz{i}"
        shutil.copytree(folder, tmp)
        (tmp / "meta.json").unlink()


def _ranking(o: Observed) -> list[tuple[str, float]] | None:
    try:
        return [(h["paper"]["id"], round(float(h["score"]), 3)) for h in json.loads(o.stdout)]
    except (ValueError, KeyError, TypeError):
        return None


def _diff(a: list[tuple[str, float]] | None, b: list[tuple[str, float]] | None) -> str:
    if a is None or b is None:
        return f"{'no baseline' if a is None else 'no ranking'}"
    same = sum(x[0] == y[0] for x, y in zip(a, b, strict=False))
    return f"{same}/{len(a)} ranks agree (top: {b[:2]} vs {a[:2]})"
