"""Runs Azimuth's `azimuth bench` and its peers (hnswlib, faiss HNSW / IVF / HNSW-RaBitQ /
IVF-RaBitQ, usearch) on the same .npy files with the same M / ef_construct, and prints one
table, JSON lines and a recall-vs-QPS plot for all of them.

Use scripts/bench-peers.sh, which makes the virtualenv; the arguments mirror `azimuth bench`:

    scripts/bench-peers.sh --base B.npy --queries Q.npy [--ground-truth G.npy] \
        --metric cosine --k 10 --m 16 --ef-construct 200 --ef 16,32,64,128,256 \
        [--azimuth target/release/azimuth] [--json out.jsonl] [--plot out.png]

Timing is the same for everyone: one search thread, queries issued one at a time from a
compiled loop (the peers' batch calls with one thread; Azimuth's Rust loop), QPS = queries /
wall time (with --rounds N, the fastest of N passes, for everyone). Builds use every core. Memory is the index's vectors + graph (or codes + graph)
as each library reports or as computed from its layout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def load(path: str) -> np.ndarray:
    return np.ascontiguousarray(np.load(path).astype(np.float32))


def normalize(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return np.ascontiguousarray(x / n)


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = 0
    for f, t in zip(found, truth):
        hits += len(set(int(i) for i in f[:k]) & set(int(i) for i in t[:k]))
    return hits / (k * len(truth))


def timed(search, queries: np.ndarray, rounds: int = 1) -> tuple[np.ndarray, float, float, float]:
    """QPS from the fastest of `rounds` batch calls on one thread; mean/p99 latency from 200
    single queries."""
    wall = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        found = search(queries)
        wall = min(wall, time.perf_counter() - t0)
    lat = []
    for q in queries[:200]:
        t = time.perf_counter()
        search(q[None, :])
        lat.append((time.perf_counter() - t) * 1e3)
    lat.sort()
    return found, len(queries) / wall, float(np.mean(lat)), lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def run_hnswlib(base, queries, a, space, threads):
    import hnswlib

    idx = hnswlib.Index(space=space, dim=base.shape[1])
    t0 = time.perf_counter()
    idx.init_index(max_elements=len(base), M=a.m, ef_construction=a.ef_construct, random_seed=1)
    idx.set_num_threads(threads)
    idx.add_items(base, np.arange(len(base)))
    build = time.perf_counter() - t0
    idx.set_num_threads(1)
    memory = base.nbytes + len(base) * (2 * a.m * 4 + 4) * 1.06
    for ef in a.ef:
        idx.set_ef(max(ef, a.k))
        yield ef, build, memory, lambda q: idx.knn_query(q, k=a.k, num_threads=1)[0]


def run_faiss(base, queries, a, kind, metric_ip, threads):
    import faiss

    d = base.shape[1]
    metric = faiss.METRIC_INNER_PRODUCT if metric_ip else faiss.METRIC_L2
    faiss.omp_set_num_threads(threads)
    t0 = time.perf_counter()
    nlist = 1024
    if kind == "faiss-hnsw":
        idx = faiss.IndexHNSWFlat(d, a.m, metric)
        idx.hnsw.efConstruction = a.ef_construct
        idx.add(base)
        memory = base.nbytes + len(base) * (2 * a.m * 4) * 1.06
    elif kind == "faiss-hnsw-rabitq":
        # faiss' HNSW+RaBitQ supports L2 only: for normalised (cosine) data the ranking is the
        # same. Refined (rescored) from the full vectors, as Azimuth's hnsw-binary.
        idx = faiss.index_factory(d, f"HNSW{a.m},RaBitQ,RFlat", faiss.METRIC_L2)
        faiss.downcast_index(idx.base_index).hnsw.efConstruction = a.ef_construct
        idx.train(base)
        idx.add(base)
        memory = len(base) * (d / 8 + 8 + 2 * a.m * 4) * 1.06
    elif kind == "faiss-ivf":
        idx = faiss.index_factory(d, f"IVF{nlist},Flat", metric)
        idx.train(base)
        idx.add(base)
        memory = base.nbytes
    elif kind == "faiss-ivf-rabitq":
        idx = faiss.index_factory(d, f"IVF{nlist},RaBitQ,RFlat", metric)
        idx.train(base)
        idx.add(base)
        memory = len(base) * (d / 8 + 8)
    else:
        raise ValueError(kind)
    build = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    for ef in a.ef:
        if "hnsw" in kind:
            inner = idx
            if kind == "faiss-hnsw-rabitq":
                idx.k_factor = 10.0
                inner = faiss.downcast_index(idx.base_index)
            faiss.downcast_index(inner).hnsw.efSearch = max(ef, a.k)
            label = ef
        else:
            # The ef column is nprobe for IVF: probe ef/4 lists (4 … 64 for the default sweep).
            nprobe = max(1, ef // 4)
            if kind == "faiss-ivf-rabitq":
                idx.k_factor = 10.0
                faiss.extract_index_ivf(idx.base_index).nprobe = nprobe
            else:
                faiss.extract_index_ivf(idx).nprobe = nprobe
            label = nprobe
        yield label, build, memory, lambda q: idx.search(q, a.k)[1]


def run_usearch(base, queries, a, metric, threads):
    from usearch.index import Index

    idx = Index(
        ndim=base.shape[1],
        metric=metric,
        dtype="f32",
        connectivity=a.m,
        expansion_add=a.ef_construct,
    )
    t0 = time.perf_counter()
    idx.add(np.arange(len(base)), base, threads=threads)
    build = time.perf_counter() - t0
    memory = idx.memory_usage
    for ef in a.ef:
        idx.expansion_search = max(ef, a.k)
        yield ef, build, memory, lambda q: idx.search(q, a.k, threads=1).keys.reshape(len(q), -1)


def run_azimuth(a) -> list[dict]:
    cmd = [
        a.azimuth, "bench", "--base", a.base, "--queries", a.queries, "--metric", a.metric,
        "--k", str(a.k), "--m", str(a.m), "--ef-construct", str(a.ef_construct),
        "--ef", ",".join(map(str, a.ef)), "--index", "hnsw,hnsw-f16,hnsw-int8,hnsw-binary", "--json",
        "--rounds", str(a.rounds),
    ]
    if a.ground_truth:
        cmd += ["--ground-truth", a.ground_truth]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for r in rows:
        r["index"] = "azimuth-" + r["index"]
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--ground-truth")
    p.add_argument("--metric", default="cosine", choices=["cosine", "dot", "euclid"])
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construct", type=int, default=200)
    p.add_argument("--ef", default="16,32,64,128,256")
    p.add_argument("--rounds", type=int, default=1, help="passes over the queries per ef; the fastest counts (for everyone)")
    p.add_argument("--build-threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--azimuth", help="path of the azimuth binary (also runs Azimuth's indexes)")
    p.add_argument("--peers", default="hnswlib,faiss-hnsw,faiss-hnsw-rabitq,faiss-ivf,faiss-ivf-rabitq,usearch")
    p.add_argument("--json", help="also write all rows as JSON lines here")
    p.add_argument("--plot", help="write a recall-vs-QPS PNG here")
    a = p.parse_args()
    a.ef = [int(x) for x in a.ef.split(",")]

    base, queries = load(a.base), load(a.queries)
    if a.metric == "cosine":
        base, queries = normalize(base), normalize(queries)
    if a.ground_truth:
        truth = np.load(a.ground_truth)[:, : a.k]
    else:
        print("computing exact ground truth…", file=sys.stderr)
        if a.metric == "euclid":
            d = (queries**2).sum(1)[:, None] - 2 * queries @ base.T + (base**2).sum(1)[None, :]
            truth = np.argsort(d, axis=1)[:, : a.k]
        else:
            truth = np.argsort(-(queries @ base.T), axis=1)[:, : a.k]

    rows: list[dict] = []
    if a.azimuth:
        print("running azimuth bench…", file=sys.stderr)
        rows += run_azimuth(a)
    ip = a.metric != "euclid"
    for peer in a.peers.split(","):
        print(f"running {peer}…", file=sys.stderr)
        if peer == "hnswlib":
            runs = run_hnswlib(base, queries, a, "ip" if ip else "l2", a.build_threads)
        elif peer.startswith("faiss"):
            runs = run_faiss(base, queries, a, peer, ip, a.build_threads)
        elif peer == "usearch":
            runs = run_usearch(base, queries, a, "ip" if ip else "l2sq", a.build_threads)
        else:
            raise SystemExit(f"unknown peer {peer}")
        for ef, build, memory, search in runs:
            found, qps, mean_ms, p99_ms = timed(search, queries, a.rounds)
            rows.append({
                "index": peer, "ef": ef, "k": a.k, "recall": recall_at(found, truth, a.k),
                "qps": qps, "mean_ms": mean_ms, "p99_ms": p99_ms, "build_s": build,
                "memory_bytes": int(memory), "threads": 1, "n": len(base), "dim": base.shape[1],
            })

    print(f"{'index':<22} {'ef':>5} {'recall':>8} {'QPS':>10} {'mean ms':>8} {'p99 ms':>8} {'build s':>8} {'MiB':>8}")
    for r in rows:
        print(f"{r['index']:<22} {r['ef']:>5} {r['recall']:>8.4f} {r['qps']:>10.1f} {r['mean_ms']:>8.3f} "
              f"{r['p99_ms']:>8.3f} {r['build_s']:>8.2f} {r['memory_bytes'] / 2**20:>8.1f}")
    if a.json:
        with open(a.json, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 6))
        for name in dict.fromkeys(r["index"] for r in rows):
            pts = sorted((r["recall"], r["qps"]) for r in rows if r["index"] == name)
            style = "-o" if name.startswith("azimuth") else "--s"
            ax.plot([x for x, _ in pts], [y for _, y in pts], style, label=name, markersize=4)
        ax.set_yscale("log")
        ax.set_xlabel(f"recall@{a.k}")
        ax.set_ylabel("QPS (1 thread)")
        ax.axvline(0.95, color="grey", linewidth=0.5)
        ax.set_title(f"{os.path.basename(os.path.dirname(os.path.abspath(a.base)))}: {len(base)} × {base.shape[1]}, "
                     f"M={a.m}, efC={a.ef_construct}")
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(a.plot, dpi=110)
        print(f"plot written to {a.plot}")


if __name__ == "__main__":
    main()
