"""Embedded-Python benchmark (issue 5): in one Python process each, on debian-minilm,

  azimuth   the `azimuth` package (this repository, release wheel)
  chroma    chromadb.PersistentClient (explicit embeddings, cosine)
  lancedb   lancedb with an IVF_HNSW_SQ index (or IVF_PQ with --lance-index ivf_pq)

measure insert throughput (batches of --batch points with their payload; every call durable
on return as each library defines it), the index build (Azimuth: background, waited for;
lancedb: create_index; chroma: indexes during add), then k = 10 search over an ef (or
nprobes) sweep: QPS one query at a time (one thread) and through the library's batch call
(whatever threads it uses), recall@10 against the ground truth, and the best QPS at
recall ≥ --target-recall. Filtered search (the --filter filter, one query at a time) is
measured at each system's chosen setting.

Use scripts/bench-python.sh, which makes the virtualenv and builds the wheel:

    scripts/bench-python.sh [--rows 20000 --queries 200] [--systems azimuth,chroma,lancedb]
        [--batch 1000] [--ef 16,32,64,100,128,256] [--json out.jsonl] [--plot out.png]

How Azimuth's background index is waited for: `Collection.info()` of the Python package
does not report indexing progress (the server's collection info does), so the script
watches the collection's segment directory and waits until every sealed segment file has
its graph file and that has held for 2 s (longer than the indexer's 1 s write pause).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common as bc  # noqa: E402

M = 16
EF_CONSTRUCT = 100


def timed_loop(fn: Callable[[np.ndarray], list], queries: np.ndarray) -> tuple[list, float, list]:
    found, lat = [], []
    t0 = time.perf_counter()
    for q in queries:
        t = time.perf_counter()
        found.append(fn(q))
        lat.append(time.perf_counter() - t)
    return found, time.perf_counter() - t0, lat


# ---------------------------------------------------------------------------------------


class AzimuthLib:
    name = "azimuth"
    knob = "ef"

    def __init__(self, path: Path, ds: bc.Dataset, a):
        import azimuth

        self.path = path
        self.db = azimuth.connect(str(path))
        self.col = self.db.create_collection("bench", dim=ds.dim, metric="cosine", m=M, ef_construct=EF_CONSTRUCT)
        self.col.create_payload_index("section", "keyword")
        self.filter = ds.filter

    def insert(self, ids: np.ndarray, vecs: np.ndarray, payloads: list) -> None:
        self.col.upsert(ids, vecs, payloads=payloads)

    def _segments_indexed(self) -> tuple[bool, int, int]:
        segs, graphs = set(), set()
        for coll in (self.path / "collections").iterdir():
            sd = coll / "segments"
            if not sd.is_dir():
                continue
            for f in sd.iterdir():
                if f.name.startswith("seg-") and f.name.endswith(".azs"):
                    segs.add((coll.name, f.name[4:-4]))
                elif f.name.startswith("graph-") and f.name.endswith("-0.azg"):
                    graphs.add((coll.name, f.name[6:-6]))
        return bool(segs) and segs <= graphs, len(segs), len(graphs)

    def build_index(self, timeout: float) -> dict:
        """Waits for the background indexer (see the module doc)."""
        t0 = time.monotonic()
        ok_since: Optional[float] = None
        while time.monotonic() - t0 < timeout:
            ok, nseg, ngraph = self._segments_indexed()
            now = time.monotonic()
            if ok and time.monotonic() - t0 > 1.0:
                ok_since = ok_since or now
                if now - ok_since >= 2.0:
                    return {"segments": nseg, "graphs": ngraph, "indexed_after_s": ok_since - t0, "info": self.col.info()}
            else:
                ok_since = None
            time.sleep(0.05)
        return {"timeout": True, "info": self.col.info()}

    def settings(self, a) -> list:
        return a.ef

    def one(self, s) -> Callable:
        return lambda q: self.col.search_numpy(q, k=bc.K, ef=s)[0].tolist()

    def one_filtered(self, s) -> Callable:
        return lambda q: self.col.search_numpy(q, k=bc.K, filter=self.filter, ef=s)[0].tolist()

    def batch(self, s) -> Callable:
        return lambda qs: self.col.search_numpy(qs, k=bc.K, ef=s)[0].tolist()

    def close(self) -> None:
        self.db.close()


class ChromaLib:
    name = "chroma"
    knob = "ef"

    def __init__(self, path: Path, ds: bc.Dataset, a):
        import chromadb
        from chromadb.config import Settings

        self.path = path
        self.open = lambda: chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        self.client = self.open()
        self.col = self.client.create_collection(
            "bench",
            configuration={"hnsw": {"space": "cosine", "ef_construction": EF_CONSTRUCT, "ef_search": 100, "max_neighbors": M}},
            embedding_function=None,
        )
        self.max_batch = self.client.get_max_batch_size()
        self.where = bc.chroma_where(ds.filter)
        self.ef = None

    def insert(self, ids: np.ndarray, vecs: np.ndarray, payloads: list) -> None:
        self.col.add(ids=[str(i) for i in ids], embeddings=vecs, metadatas=payloads)

    def build_index(self, timeout: float) -> dict:
        return {"note": "chroma indexes during add", "count": self.col.count()}

    def settings(self, a) -> list:
        return a.ef

    def _set(self, ef: int) -> None:
        # A modified ef_search reaches the loaded index only after the client's system cache
        # is cleared and the collection reopened (measured: chromadb 1.5.9).
        if ef != self.ef:
            self.col.modify(configuration={"hnsw": {"ef_search": ef}})
            self.client.clear_system_cache()
            self.client = self.open()
            self.col = self.client.get_collection("bench", embedding_function=None)
            self.ef = ef

    def one(self, s) -> Callable:
        self._set(s)
        return lambda q: [int(i) for i in self.col.query(query_embeddings=q[None, :], n_results=bc.K, include=["distances"])["ids"][0]]

    def one_filtered(self, s) -> Callable:
        self._set(s)
        return lambda q: [
            int(i) for i in self.col.query(query_embeddings=q[None, :], n_results=bc.K, where=self.where, include=["distances"])["ids"][0]
        ]

    def batch(self, s) -> Callable:
        self._set(s)

        def run(qs: np.ndarray) -> list:
            out = []
            for lo, hi in bc.batches(len(qs), self.max_batch):
                res = self.col.query(query_embeddings=qs[lo:hi], n_results=bc.K, include=["distances"])
                out += [[int(i) for i in ids] for ids in res["ids"]]
            return out

        return run

    def close(self) -> None:
        pass


class LanceLib:
    name = "lancedb"

    def __init__(self, path: Path, ds: bc.Dataset, a):
        import lancedb
        import pyarrow as pa

        self.pa = pa
        self.db = lancedb.connect(str(path))
        self.kind = a.lance_index
        self.knob = "ef" if self.kind == "ivf_hnsw_sq" else "nprobes"
        self.refine = a.lance_refine
        keys = list(ds.payloads[0].keys())
        fields = [pa.field("id", pa.int64()), pa.field("vector", pa.list_(pa.float32(), ds.dim))]
        for k in keys:
            v = ds.payloads[0][k]
            fields.append(pa.field(k, pa.int64() if isinstance(v, int) else pa.string()))
        self.schema = pa.schema(fields)
        self.keys = keys
        self.table = self.db.create_table("bench", schema=self.schema)
        self.where = self._sql(ds.filter)

    @staticmethod
    def _sql(flt: dict) -> str:
        parts = []
        for c in flt.get("must", []):
            m = c["match"]
            parts.append(f"{c['key']} = '{m['value']}'" if "value" in m else f"{c['key']} IN ({', '.join(repr(x) for x in m['any'])})")
        for c in flt.get("must_not", []):
            m = c["match"]
            parts.append(f"{c['key']} != '{m['value']}'" if "value" in m else f"{c['key']} NOT IN ({', '.join(repr(x) for x in m['any'])})")
        return " AND ".join(parts)

    def insert(self, ids: np.ndarray, vecs: np.ndarray, payloads: list) -> None:
        pa = self.pa
        cols = [pa.array(ids, type=pa.int64()), pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1), type=pa.float32()), vecs.shape[1])]
        for f in list(self.schema)[2:]:
            cols.append(pa.array([p.get(f.name) for p in payloads], type=f.type))
        self.table.add(pa.Table.from_arrays(cols, schema=self.schema))

    def build_index(self, timeout: float) -> dict:
        from lancedb.index import HnswSq, IvfPq

        t0 = time.monotonic()
        if self.kind == "ivf_hnsw_sq":
            cfg = HnswSq(distance_type="cosine", m=M, ef_construction=EF_CONSTRUCT)
        else:
            cfg = IvfPq(distance_type="cosine", num_sub_vectors=48)
        self.table.create_index("vector", config=cfg)
        vec_s = time.monotonic() - t0
        t1 = time.monotonic()
        self.table.create_scalar_index("section", index_type="BITMAP")
        scalar_s = time.monotonic() - t1
        return {"index": self.kind, "vector_index_s": vec_s, "scalar_index_s": scalar_s, "indices": [str(i) for i in self.table.list_indices()]}

    def settings(self, a) -> list:
        return a.ef if self.kind == "ivf_hnsw_sq" else a.nprobes

    def _q(self, q, s):
        b = self.table.search(q, vector_column_name="vector").distance_type("cosine").limit(bc.K).select(["id", "_distance"])
        if self.kind == "ivf_hnsw_sq":
            b = b.ef(s)
        else:
            b = b.nprobes(s)
        if self.refine:
            b = b.refine_factor(self.refine)
        return b

    def one(self, s) -> Callable:
        return lambda q: self._q(q, s).to_arrow()["id"].to_pylist()

    def one_filtered(self, s) -> Callable:
        return lambda q: self._q(q, s).where(self.where, prefilter=True).to_arrow()["id"].to_pylist()

    def batch(self, s) -> Callable:
        def run(qs: np.ndarray) -> list:
            t = self._q(list(qs), s).with_row_id(False).to_arrow()
            qi = t["query_index"].to_numpy()
            ids = t["id"].to_numpy()
            out: list = [[] for _ in range(len(qs))]
            for i, x in zip(qi, ids):
                out[int(i)].append(int(x))
            return out

        return run

    def close(self) -> None:
        pass


LIBS = {"azimuth": AzimuthLib, "chroma": ChromaLib, "lancedb": LanceLib}


def run_lib(cls, ds: bc.Dataset, a, workdir: Path, out: bc.JsonLines) -> dict:
    rec: dict[str, Any] = {"system": cls.name, "rows": ds.rows, "queries": ds.nq, "batch": a.batch}
    path = workdir / cls.name
    lib = None
    try:
        lib = cls(path, ds, a)
        rec["knob"] = lib.knob
        # Insert.
        t0 = time.perf_counter()
        for lo, hi in bc.batches(ds.rows, a.batch):
            lib.insert(np.arange(lo, hi, dtype=np.int64), ds.base[lo:hi], ds.payloads[lo:hi])
        rec["insert_s"] = time.perf_counter() - t0
        rec["insert_pts_s"] = ds.rows / rec["insert_s"]
        print(f"[{cls.name}] insert {ds.rows:,} points: {rec['insert_s']:.1f} s, {rec['insert_pts_s']:,.0f} points/s", flush=True)
        t0 = time.perf_counter()
        rec["index_info"] = lib.build_index(a.index_timeout)
        rec["index_s"] = time.perf_counter() - t0
        if cls.name == "azimuth" and "indexed_after_s" in rec["index_info"]:
            rec["index_s"] = rec["index_info"]["indexed_after_s"]
        rec["insert_and_index_pts_s"] = ds.rows / (rec["insert_s"] + rec["index_s"])
        print(f"[{cls.name}] index {rec['index_s']:.1f} s: {json.dumps(rec['index_info'], default=str)[:300]}", flush=True)

        # Search sweep.
        rec["sweep"] = []
        for s in lib.settings(a):
            one = lib.one(s)
            for q in ds.queries[: a.warmup]:
                one(q)
            found, w, lat = timed_loop(one, ds.queries)
            row = {"setting": s, "qps_one": ds.nq / w, "recall": bc.recall_at_10(found, ds.gt), **bc.latency_stats(lat)}
            batch = lib.batch(s)
            batch(ds.queries[: a.warmup])
            t = time.perf_counter()
            bfound = batch(ds.queries)
            row["qps_batch"] = ds.nq / (time.perf_counter() - t)
            row["recall_batch"] = bc.recall_at_10(bfound, ds.gt)
            rec["sweep"].append(row)
            print(
                f"[{cls.name}] {lib.knob}={s}: recall {row['recall']:.4f}, {row['qps_one']:,.0f} QPS one at a time "
                f"(p50 {row['p50_ms']:.3f} ms, p99 {row['p99_ms']:.3f} ms), {row['qps_batch']:,.0f} QPS batch (recall {row['recall_batch']:.4f})",
                flush=True,
            )
        ok = [r for r in rec["sweep"] if r["recall"] >= a.target_recall]
        best = max(ok, key=lambda r: r["qps_one"]) if ok else None
        okb = [r for r in rec["sweep"] if r["recall_batch"] >= a.target_recall]
        bestb = max(okb, key=lambda r: r["qps_batch"]) if okb else None
        rec["best_one"] = best
        rec["best_batch"] = bestb
        # Filtered, one at a time, at the setting chosen for one-at-a-time search.
        s = (best or rec["sweep"][-1])["setting"]
        onef = lib.one_filtered(s)
        for q in ds.queries[: a.warmup]:
            onef(q)
        found, w, lat = timed_loop(onef, ds.queries)
        rec["filtered"] = {"setting": s, "qps_one": ds.nq / w, "recall": bc.recall_at_10(found, ds.gt_filter), **bc.latency_stats(lat)}
        print(f"[{cls.name}] filtered at {lib.knob}={s}: {rec['filtered']['qps_one']:,.0f} QPS, recall {rec['filtered']['recall']:.4f}", flush=True)
    except Exception as e:
        rec["error"] = f"{type(e).__name__}: {e}"
        print(f"[{cls.name}] FAILED: {rec['error']}\n{traceback.format_exc()}", file=sys.stderr, flush=True)
    finally:
        if lib is not None:
            try:
                lib.close()
            except Exception:
                pass
    rec["disk_mib"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else None
    out.write(rec)
    return rec


def plot(recs: list, path: Path, title: str, target: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, rk, label in ((axes[0], "qps_one", "recall", "one query at a time (1 thread)"), (axes[1], "qps_batch", "recall_batch", "batch call")):
        for r in recs:
            if "error" in r:
                continue
            xs = [s[rk] for s in r["sweep"]]
            ys = [s[key] for s in r["sweep"]]
            ax.plot(xs, ys, marker="o", label=f"{r['system']} ({r['knob']})")
            for s in r["sweep"]:
                ax.annotate(str(s["setting"]), (s[rk], s[key]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.axvline(target, color="grey", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second")
        ax.set_title(label, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(bc.DEFAULT_DATA))
    p.add_argument("--rows", type=int, default=0)
    p.add_argument("--queries", type=int, default=0)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--ef", type=lambda s: [int(x) for x in s.split(",")], default=[16, 32, 64, 100, 128, 256])
    p.add_argument("--nprobes", type=lambda s: [int(x) for x in s.split(",")], default=[5, 10, 20, 40, 80])
    p.add_argument("--lance-index", choices=["ivf_hnsw_sq", "ivf_pq"], default="ivf_hnsw_sq")
    p.add_argument("--lance-refine", type=int, default=0, help="lancedb refine_factor (0 = none)")
    p.add_argument("--filter", type=int, default=1)
    p.add_argument("--target-recall", type=float, default=0.95)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--systems", default="azimuth,chroma,lancedb")
    p.add_argument("--workdir", default=None)
    p.add_argument("--index-timeout", type=float, default=1800)
    p.add_argument("--json", default=str(bc.REPO / "target" / "bench" / "bench_python.jsonl"))
    p.add_argument("--plot", default=None)
    a = p.parse_args()

    ds = bc.Dataset(Path(a.data), a.rows, a.queries, a.filter)
    out = bc.JsonLines(Path(a.json) if a.json else None)
    meta = {
        "bench": "python",
        "machine": bc.machine(),
        "git": bc.git_rev(),
        "versions": bc.versions(["azimuth", "chromadb", "lancedb", "pylance", "pyarrow", "numpy"]),
        "dataset": ds.describe(),
        "args": vars(a),
    }
    out.write(meta)
    print(json.dumps(meta, indent=1))
    tmp = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="bench-python-"))
    recs = []
    try:
        for name in [s.strip() for s in a.systems.split(",") if s.strip()]:
            recs.append(run_lib(LIBS[name], ds, a, tmp, out))
    finally:
        if not a.workdir:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    rows = []
    for r in recs:
        if "error" in r:
            rows.append({"system": r["system"], "setting": "FAILED: " + r["error"][:80]})
            continue
        for s in r["sweep"]:
            rows.append({"system": r["system"], "setting": f"{r['knob']}={s['setting']}", **s})
    print(bc.table(rows, [("system", "system", 0), ("setting", "setting", 0), ("recall", "recall@10", 4), ("qps_one", "QPS 1-at-a-time", 0),
                          ("p50_ms", "p50 ms", 3), ("p99_ms", "p99 ms", 3), ("qps_batch", "QPS batch", 0), ("recall_batch", "recall batch", 4)]))
    print()
    summ = []
    for r in recs:
        if "error" in r:
            continue
        b1, bb, f = r.get("best_one") or {}, r.get("best_batch") or {}, r["filtered"]
        summ.append({
            "system": r["system"], "insert_pts_s": r["insert_pts_s"], "index_s": r["index_s"], "insert_and_index_pts_s": r["insert_and_index_pts_s"],
            "best_one": f"{b1.get('qps_one', 0):,.0f} ({r['knob']}={b1.get('setting')}, r={b1.get('recall', 0):.3f})" if b1 else "recall target not reached",
            "best_batch": f"{bb.get('qps_batch', 0):,.0f} ({r['knob']}={bb.get('setting')}, r={bb.get('recall_batch', 0):.3f})" if bb else "recall target not reached",
            "filtered": f"{f['qps_one']:,.0f} (r={f['recall']:.3f})",
        })
    print(bc.table(summ, [("system", "system", 0), ("insert_pts_s", "insert points/s", 0), ("index_s", "index s", 1),
                          ("insert_and_index_pts_s", "insert+index points/s", 0), ("best_one", f"best QPS 1-at-a-time, recall ≥ {a.target_recall}", 0),
                          ("best_batch", f"best QPS batch, recall ≥ {a.target_recall}", 0), ("filtered", "filtered QPS 1-at-a-time", 0)]))
    by = {r["system"]: r for r in recs if "error" not in r}
    if "azimuth" in by:
        az = by["azimuth"]
        rs = []
        for name, r in by.items():
            if name == "azimuth":
                continue
            g = lambda rec, k, q: (rec.get(k) or {}).get(q)  # noqa: E731
            rs.append({
                "vs": name,
                "insert": bc.ratio(az["insert_pts_s"], r["insert_pts_s"]),
                "insert_and_index": bc.ratio(az["insert_and_index_pts_s"], r["insert_and_index_pts_s"]),
                "qps_one": bc.ratio(g(az, "best_one", "qps_one"), g(r, "best_one", "qps_one")),
                "qps_batch": bc.ratio(g(az, "best_batch", "qps_batch"), g(r, "best_batch", "qps_batch")),
                "qps_filtered": bc.ratio(az["filtered"]["qps_one"], r["filtered"]["qps_one"]),
            })
        print("\nAzimuth / peer ratios (targets: search QPS ≥ 3×, insert ≥ 2×):")
        print(bc.table(rs, [("vs", "vs", 0), ("insert", "insert", 2), ("insert_and_index", "insert+index", 2), ("qps_one", "QPS 1-at-a-time", 2),
                            ("qps_batch", "QPS batch", 2), ("qps_filtered", "filtered QPS", 2)]))
        out.write({"bench": "python", "ratios": rs})
    if a.plot:
        plot(recs, Path(a.plot), f"{ds.rows:,} × {ds.dim} debian-minilm, k=10, cosine, embedded in Python", a.target_recall)


if __name__ == "__main__":
    main()
