"""Server benchmark (issue 4): N concurrent client processes upload debian-minilm to a
server and then query it (k = 10, without and with a payload filter), for

  azimuth  `target/release/azimuth serve` driven by qdrant-client (REST)
  azimuth-grpc  the same server driven by qdrant-client with prefer_grpc=True (gRPC API)
  chroma   chromadb's own `chroma run` driven by chromadb.HttpClient
  milvus   milvus-lite, served by its own `milvus-lite server` command (the gRPC server that
           MilvusClient("file.db") starts inside the calling process), driven by
           pymilvus.MilvusClient

Use scripts/bench-server.sh, which makes the virtualenv:

    scripts/bench-server.sh [--clients 4] [--rows 20000 --queries 200] [--systems azimuth,azimuth-grpc,chroma,milvus]
        [--batch 256] [--ef 100] [--filter 1] [--json target/bench/server.jsonl] [--plot out.png]

Per system, in one run on the same data:
  upload   the base rows split into N contiguous id ranges, one per client process; each
           sends batches of --batch points with their payload and waits for each to be
           acknowledged (qdrant `wait=true`; chroma `add`; milvus `insert`). points/s =
           rows / wall time from the common start to the last acknowledgement.
  index    the wait after the upload until the server reports its vector index complete
           (Azimuth: collection status green; milvus-lite: flush, then indexed_rows = rows;
           chroma's single-node server does not report it, so nothing is waited for).
  query    the queries split among the same N processes (or each count of --query-clients),
           one request at a time, k = 10,
           hnsw ef = --ef everywhere; QPS = queries / wall time, latency per request
           measured in the client; recall@10 against the ground truth. Then the same with
           the --filter filter (a keyword `section` condition; Azimuth and milvus get a
           payload index on `section`, chroma indexes metadata itself). A query phase that
           runs longer than --phase-budget seconds stops early; the table then says how many
           queries were run, and recall is over those. CPU time per query is reported for
           the client processes and for the server process (from /proc), to show which
           side a 2-core machine spends its time on.
Every client process is started (spawned) and connected before a barrier, so start-up and
imports are not timed. A few warm-up queries per client precede each timed query phase.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path
from typing import Any, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common as bc  # noqa: E402

COLLECTION = "bench"
M = 16
EF_CONSTRUCT = 100


# ---------------------------------------------------------------------------------------
# Client drivers: one per protocol, constructed inside each client process from a dict.


class QdrantDriver:
    def __init__(self, cfg: dict):
        from qdrant_client import QdrantClient, models

        self.m = models
        self.cfg = cfg
        grpc = cfg.get("grpc_port")
        self.c = QdrantClient(url=cfg["url"], prefer_grpc=grpc is not None, grpc_port=grpc or 6334, timeout=600, check_compatibility=False)
        self.filter = models.Filter.model_validate(cfg["filter"])
        self.params = models.SearchParams(hnsw_ef=cfg["ef"])

    def create(self, dim: int) -> None:
        m = self.m
        self.c.create_collection(
            COLLECTION,
            vectors_config=m.VectorParams(size=dim, distance=m.Distance.COSINE),
            hnsw_config=m.HnswConfigDiff(m=M, ef_construct=EF_CONSTRUCT),
        )
        self.c.create_payload_index(COLLECTION, "section", field_schema=m.PayloadSchemaType.KEYWORD, wait=True)

    def upload(self, ids: list, vecs: np.ndarray, payloads: list) -> None:
        self.c.upsert(COLLECTION, points=self.m.Batch(ids=ids, vectors=vecs.tolist(), payloads=payloads), wait=True)

    def query(self, vec: list, filtered: bool) -> list:
        res = self.c.query_points(
            COLLECTION,
            query=vec,
            limit=bc.K,
            query_filter=self.filter if filtered else None,
            search_params=self.params,
            with_payload=False,
        )
        return [int(p.id) for p in res.points]

    def raw_info(self) -> dict:
        with urllib.request.urlopen(f"{self.cfg['url']}/collections/{COLLECTION}", timeout=60) as r:
            return json.load(r)["result"]

    def wait_indexed(self, rows: int, timeout: float) -> dict:
        """Polls collection info until the status is green (nothing pending for the indexer)."""
        t0 = time.monotonic()
        seen_yellow = False
        while True:
            info = self.raw_info()
            seen_yellow |= info["status"] != "green"
            if info["status"] == "green" or time.monotonic() - t0 > timeout:
                break
            time.sleep(0.1)
        return {
            "status": info["status"],
            "seen_yellow": seen_yellow,
            "points_count": info.get("points_count"),
            "indexed_vectors_count": info.get("indexed_vectors_count"),
            "segments_count": info.get("segments_count"),
            "azimuth_indexing": {k: v for k, v in (info.get("azimuth_indexing") or {}).items() if k != "calibration"},
        }

    def close(self) -> None:
        self.c.close()


class ChromaDriver:
    def __init__(self, cfg: dict):
        import chromadb

        self.cfg = cfg
        self.client = chromadb.HttpClient(host="127.0.0.1", port=cfg["port"])
        self.where = bc.chroma_where(cfg["filter"])
        self.col = None if cfg.get("parent") else self.client.get_collection(COLLECTION, embedding_function=None)

    def create(self, dim: int) -> None:
        self.col = self.client.create_collection(
            COLLECTION,
            configuration={"hnsw": {"space": "cosine", "ef_construction": EF_CONSTRUCT, "ef_search": self.cfg["ef"], "max_neighbors": M}},
            embedding_function=None,
        )

    def max_batch(self) -> int:
        return self.client.get_max_batch_size()

    def upload(self, ids: list, vecs: np.ndarray, payloads: list) -> None:
        self.col.add(ids=[str(i) for i in ids], embeddings=vecs, metadatas=payloads)

    def query(self, vec: list, filtered: bool) -> list:
        res = self.col.query(
            query_embeddings=[vec], n_results=bc.K, where=self.where if filtered else None, include=["distances"]
        )
        return [int(i) for i in res["ids"][0]]

    def wait_indexed(self, rows: int, timeout: float) -> dict:
        out: dict[str, Any] = {"count": self.col.count()}
        try:
            t0 = time.monotonic()
            while True:
                st = self.col.get_indexing_status()
                if st.num_unindexed_ops == 0 or time.monotonic() - t0 > timeout:
                    break
                time.sleep(0.1)
            out["indexing_status"] = str(st)
        except Exception as e:  # chroma's single-node server: not implemented
            out["indexing_status"] = f"unavailable: {type(e).__name__}: {str(e)[:120]}"
        return out

    def close(self) -> None:
        pass


class MilvusDriver:
    def __init__(self, cfg: dict):
        from pymilvus import MilvusClient

        self.cfg = cfg
        self.c = MilvusClient(uri=cfg["uri"])
        self.expr = bc.milvus_expr(cfg["filter"])
        self.params = {"metric_type": "COSINE", "params": {"ef": cfg["ef"]}}

    def create(self, dim: int) -> None:
        from pymilvus import DataType

        schema = self.c.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("section", DataType.VARCHAR, max_length=256)
        ip = self.c.prepare_index_params()
        ip.add_index(field_name="vec", index_type="HNSW", metric_type="COSINE", params={"M": M, "efConstruction": EF_CONSTRUCT})
        ip.add_index(field_name="section", index_type="INVERTED")
        self.c.create_collection(COLLECTION, schema=schema, index_params=ip)

    def upload(self, ids: list, vecs: np.ndarray, payloads: list) -> None:
        rows = vecs.tolist()
        self.c.insert(COLLECTION, [{"id": i, "vec": v, **p} for i, v, p in zip(ids, rows, payloads)])

    def query(self, vec: list, filtered: bool) -> list:
        res = self.c.search(
            COLLECTION,
            data=[vec],
            limit=bc.K,
            filter=self.expr if filtered else "",
            search_params=self.params,
            anns_field="vec",
            output_fields=["id"],
        )
        return [int(h["id"]) for h in res[0]]

    def wait_indexed(self, rows: int, timeout: float) -> dict:
        t0 = time.monotonic()
        self.c.flush(COLLECTION)
        flush_s = time.monotonic() - t0
        while True:
            d = self.c.describe_index(COLLECTION, "vec")
            if (d.get("indexed_rows", 0) >= rows and d.get("pending_index_rows", 0) == 0) or time.monotonic() - t0 > timeout:
                break
            time.sleep(0.2)
        return {"flush_s": flush_s, "index": {k: d.get(k) for k in ("index_type", "total_rows", "indexed_rows", "pending_index_rows", "state")}}

    def close(self) -> None:
        self.c.close()


DRIVERS = {"qdrant": QdrantDriver, "chroma": ChromaDriver, "milvus": MilvusDriver}


# ---------------------------------------------------------------------------------------
# Client processes


def upload_client(index: int, a: dict, barrier) -> dict:
    lo, hi = a["range"]
    base = np.load(Path(a["data"]) / "base.f16.npy", mmap_mode="r")
    vecs = np.ascontiguousarray(base[lo:hi].astype(np.float32))
    payloads = bc.load_payloads(Path(a["data"]) / "payload.jsonl.gz", hi)[lo:hi]
    drv = DRIVERS[a["driver"]](a["cfg"])
    barrier.wait()
    c0 = time.process_time()
    t0 = time.monotonic()
    lat = []
    for s, e in bc.batches(hi - lo, a["batch"]):
        t = time.monotonic()
        drv.upload(list(range(lo + s, lo + e)), vecs[s:e], payloads[s:e])
        lat.append(time.monotonic() - t)
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    drv.close()
    return {"start": t0, "end": t1, "points": hi - lo, "batch_latency": lat, "cpu_s": cpu}


def query_client(index: int, a: dict, barrier) -> dict:
    queries = np.load(Path(a["data"]) / "queries.f32.npy")
    qs = [queries[i].astype(np.float32).tolist() for i in a["qidx"]]
    drv = DRIVERS[a["driver"]](a["cfg"])
    for q in qs[: a["warmup"]]:
        drv.query(q, a["filtered"])
    barrier.wait()
    found, lat = [], []
    c0 = time.process_time()
    t0 = time.monotonic()
    for q in qs:
        t = time.monotonic()
        found.append(drv.query(q, a["filtered"]))
        lat.append(time.monotonic() - t)
        if t - t0 > a["budget"]:
            break  # a slow system: stop at the phase's time budget (recall over the answered ones)
    t1 = time.monotonic()
    cpu = time.process_time() - c0
    drv.close()
    return {"start": t0, "end": t1, "found": found, "latency": lat, "cpu_s": cpu}


def wall(results: list) -> float:
    return max(r["end"] for r in results) - min(r["start"] for r in results)


# ---------------------------------------------------------------------------------------
# Systems


class System:
    """A server to start, the driver that talks to it and how to stop it."""

    name = ""
    driver = ""
    server: Optional[bc.Server] = None

    def start(self, workdir: Path, a) -> dict:
        raise NotImplementedError

    def stop(self) -> None:
        if self.server:
            self.server.stop()


class Azimuth(System):
    name, driver = "azimuth", "qdrant"

    def start(self, workdir: Path, a) -> dict:
        port = bc.free_port()
        binary = Path(a.azimuth).resolve()
        cmd = [str(binary), "serve", "--port", str(port), "--data-dir", str(workdir / "azimuth-data")]
        self.server = bc.Server("azimuth", cmd, workdir / "azimuth.log")
        self.server.wait_http(f"http://127.0.0.1:{port}/readyz")
        return {"url": f"http://127.0.0.1:{port}", "port": port}


class AzimuthGrpc(Azimuth):
    """The same server, driven by qdrant-client with prefer_grpc=True (Qdrant's gRPC API)."""

    name = "azimuth-grpc"

    def start(self, workdir: Path, a) -> dict:
        port, grpc = bc.free_port(), bc.free_port()
        binary = Path(a.azimuth).resolve()
        cmd = [str(binary), "serve", "--port", str(port), "--grpc-port", str(grpc), "--data-dir", str(workdir / "azimuth-grpc-data")]
        self.server = bc.Server("azimuth-grpc", cmd, workdir / "azimuth-grpc.log")
        self.server.wait_http(f"http://127.0.0.1:{port}/readyz")
        return {"url": f"http://127.0.0.1:{port}", "port": port, "grpc_port": grpc}


class ChromaRun(System):
    name, driver = "chroma", "chroma"

    def start(self, workdir: Path, a) -> dict:
        port = bc.free_port()
        chroma = Path(sys.executable).with_name("chroma")
        cmd = [str(chroma), "run", "--path", str(workdir / "chroma-data"), "--port", str(port), "--host", "127.0.0.1"]
        env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
        self.server = bc.Server("chroma", cmd, workdir / "chroma.log", env=env)
        self.server.wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat")
        return {"port": port}


class MilvusLite(System):
    name, driver = "milvus-lite", "milvus"

    def start(self, workdir: Path, a) -> dict:
        port = bc.free_port()
        exe = Path(sys.executable).with_name("milvus-lite")
        cmd = [str(exe), "server", "--data-dir", str(workdir / "milvus.db"), "--port", str(port), "--host", "127.0.0.1"]
        self.server = bc.Server("milvus-lite", cmd, workdir / "milvus.log")
        self.server.wait_tcp(port)
        return {"uri": f"http://127.0.0.1:{port}"}


SYSTEMS = {"azimuth": Azimuth, "azimuth-grpc": AzimuthGrpc, "chroma": ChromaRun, "milvus": MilvusLite}


def run_system(sys_obj: System, ds: bc.Dataset, a, workdir: Path, client_counts: list[int], out: bc.JsonLines, extra: Optional[dict] = None) -> dict:
    """Starts the server, uploads with a.clients processes, waits for the index, then runs
    the query phases (unfiltered and filtered) once per entry of client_counts. Always stops
    the server."""
    rec: dict[str, Any] = {"system": sys_obj.name, "rows": ds.rows, "queries": ds.nq, "clients": a.clients, "batch": a.batch, "ef": a.ef}
    rec.update(extra or {})
    sdir = workdir / sys_obj.name
    sdir.mkdir(parents=True, exist_ok=True)
    try:
        conn = sys_obj.start(sdir, a)
        cfg = dict(conn, filter=ds.filter, ef=a.ef)
        parent = DRIVERS[sys_obj.driver](dict(cfg, parent=True))
        parent.create(ds.dim)
        if isinstance(parent, ChromaDriver):
            rec["chroma_max_batch_size"] = parent.max_batch()
            if a.batch > rec["chroma_max_batch_size"]:
                raise RuntimeError(f"--batch {a.batch} exceeds chroma's max batch size {rec['chroma_max_batch_size']}")

        # Upload.
        ranges = [(r[0], r[-1] + 1) for r in bc.shard(list(range(ds.rows)), a.clients) if len(r)]
        srv_cpu0 = sys_obj.server.cpu_seconds() if sys_obj.server else None
        up = bc.run_clients(
            upload_client,
            [{"driver": sys_obj.driver, "cfg": cfg, "data": str(ds.dir), "range": r, "batch": a.batch} for r in ranges],
        )
        w = wall(up)
        blat = bc.latency_stats(x for r in up for x in r["batch_latency"])
        srv_cpu1 = sys_obj.server.cpu_seconds() if sys_obj.server else None
        rec.update(upload_s=w, upload_pts_s=ds.rows / w, upload_batch_p50_ms=blat["p50_ms"], upload_batch_p99_ms=blat["p99_ms"],
                   upload_client_cpu_s_per_1k=1e3 * sum(r["cpu_s"] for r in up) / ds.rows,
                   upload_server_cpu_s_per_1k=(1e3 * (srv_cpu1 - srv_cpu0) / ds.rows) if srv_cpu0 is not None and srv_cpu1 is not None else None)
        print(f"[{sys_obj.name}] upload {ds.rows:,} points with {len(ranges)} clients: {w:.1f} s, {ds.rows / w:,.0f} points/s; "
              f"CPU s per 1k points: clients {rec['upload_client_cpu_s_per_1k']:.3f}, server {rec['upload_server_cpu_s_per_1k'] or float('nan'):.3f}", flush=True)

        # Index.
        t0 = time.monotonic()
        rec["index_info"] = parent.wait_indexed(ds.rows, a.index_timeout)
        rec["index_wait_s"] = time.monotonic() - t0
        print(f"[{sys_obj.name}] index wait {rec['index_wait_s']:.1f} s: {rec['index_info']}", flush=True)
        q0 = ds.queries[0].tolist()
        t0 = time.monotonic()
        parent.query(q0, False)
        rec["first_query_ms"] = (time.monotonic() - t0) * 1e3
        parent.close()

        # Queries.
        rec["query"] = []
        for n in client_counts:
            for filtered in (False, True):
                qidx = list(range(ds.nq))
                parts = [qidx[i::n] for i in range(n)]
                srv_cpu0 = sys_obj.server.cpu_seconds() if sys_obj.server else None
                res = bc.run_clients(
                    query_client,
                    [
                        {"driver": sys_obj.driver, "cfg": cfg, "data": str(ds.dir), "qidx": p, "filtered": filtered, "warmup": a.warmup,
                         "budget": a.phase_budget}
                        for p in parts
                    ],
                )
                answered, found = [], []
                for p, r in zip(parts, res):
                    for i, f in zip(p, r["found"]):
                        answered.append(i)
                        found.append(f)
                w = wall(res)
                srv_cpu1 = sys_obj.server.cpu_seconds() if sys_obj.server else None
                truth = (ds.gt_filter if filtered else ds.gt)[answered]
                q = {
                    "clients": n,
                    "filtered": filtered,
                    "answered": len(answered),
                    "qps": len(answered) / w,
                    "recall_at_10": bc.recall_at_10(found, truth),
                    **bc.latency_stats(x for r in res for x in r["latency"]),
                    # CPU per query: all client processes' own time, and the server process's
                    # (which also includes warm-up queries and any background work).
                    "client_cpu_ms": 1e3 * sum(r["cpu_s"] for r in res) / max(1, len(answered)),
                    "server_cpu_ms": (1e3 * (srv_cpu1 - srv_cpu0) / max(1, len(answered))) if srv_cpu0 is not None and srv_cpu1 is not None else None,
                }
                rec["query"].append(q)
                print(
                    f"[{sys_obj.name}] query clients={n} filtered={filtered}: {q['answered']} queries, {q['qps']:,.0f} QPS, p50 {q['p50_ms']:.2f} ms, "
                    f"p99 {q['p99_ms']:.2f} ms, recall@10 {q['recall_at_10']:.4f}",
                    flush=True,
                )
        rec["server_rss_mib"] = sys_obj.server.rss_mib() if sys_obj.server else None
    except Exception as e:
        rec["error"] = f"{type(e).__name__}: {e}"
        print(f"[{sys_obj.name}] FAILED: {rec['error']}\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        if sys_obj.server:
            print(f"[{sys_obj.name}] server log tail:\n{sys_obj.server.tail()}", file=sys.stderr)
    finally:
        sys_obj.stop()
    out.write(rec)
    return rec


def flat_rows(recs: list[dict]) -> list[dict]:
    rows = []
    for r in recs:
        if "error" in r:
            rows.append({"system": r["system"], "mode": "FAILED: " + r["error"][:80]})
            continue
        for q in r["query"]:
            rows.append(
                {
                    "system": r["system"],
                    "mode": f"{q['clients']} client{'s' if q['clients'] > 1 else ''}, {'filtered' if q['filtered'] else 'no filter'}",
                    "upload_pts_s": r["upload_pts_s"],
                    "index_wait_s": r["index_wait_s"],
                    "answered": q["answered"],
                    "client_cpu_ms": q["client_cpu_ms"],
                    "server_cpu_ms": q["server_cpu_ms"],
                    "qps": q["qps"],
                    "p50_ms": q["p50_ms"],
                    "p99_ms": q["p99_ms"],
                    "recall": q["recall_at_10"],
                }
            )
    return rows


COLUMNS = [
    ("system", "system", 0),
    ("mode", "queries", 0),
    ("upload_pts_s", "upload points/s", 0),
    ("index_wait_s", "index wait s", 1),
    ("answered", "queries run", 0),
    ("qps", "QPS", 0),
    ("p50_ms", "p50 ms", 2),
    ("p99_ms", "p99 ms", 2),
    ("recall", "recall@10", 4),
    ("client_cpu_ms", "client CPU ms/query", 2),
    ("server_cpu_ms", "server CPU ms/query", 2),
]


def ratios(recs: list[dict], ours: str = "azimuth") -> list[dict]:
    by = {r["system"]: r for r in recs if "error" not in r}
    if ours not in by:
        return []
    out = []
    for name, r in by.items():
        if name.startswith("azimuth"):
            continue
        row = {"ours": ours, "vs": name, "upload": bc.ratio(by[ours]["upload_pts_s"], r["upload_pts_s"])}
        for qa, qb in zip(by[ours]["query"], r["query"]):
            key = f"qps_{qa['clients']}c_{'filtered' if qa['filtered'] else 'plain'}"
            row[key] = bc.ratio(qa["qps"], qb["qps"])
        out.append(row)
    return out


def plot(recs: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in recs if "error" not in r]
    if not ok:
        return
    modes = [(q["clients"], q["filtered"]) for q in ok[0]["query"]]
    panels = [("upload points/s", [r["upload_pts_s"] for r in ok])]
    for c, f in modes:
        panels.append((f"QPS, {c} client{'s' if c > 1 else ''}, {'filtered' if f else 'no filter'}",
                       [next(q["qps"] for q in r["query"] if q["clients"] == c and q["filtered"] == f) for r in ok]))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.6))
    names = [r["system"] for r in ok]
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    for ax, (label, vals) in zip(np.atleast_1d(axes), panels):
        bars = ax.bar(names, vals, color=colors[: len(vals)])
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelsize=8, rotation=15)
        for b, v in zip(bars, vals):
            ax.annotate(f"{v:,.0f}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(bc.DEFAULT_DATA))
    p.add_argument("--rows", type=int, default=0, help="first N base rows (0 = all)")
    p.add_argument("--queries", type=int, default=0, help="first N queries (0 = all)")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--query-clients", type=lambda s: [int(x) for x in s.split(",")], default=None,
                   help="client-process counts of the query phases, e.g. 1,4 (default: --clients)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--ef", type=int, default=100)
    p.add_argument("--filter", type=int, default=1, help="index into filters.json (1 = section libs, ~8%%)")
    p.add_argument("--warmup", type=int, default=5, help="untimed queries per client before each phase")
    p.add_argument("--systems", default="azimuth,azimuth-grpc,chroma,milvus")
    p.add_argument("--azimuth", default=str(bc.REPO / "target" / "release" / "azimuth"))
    p.add_argument("--workdir", default=None, help="data directories and server logs (default: a new temporary directory, removed afterwards)")
    p.add_argument("--index-timeout", type=float, default=1800)
    p.add_argument("--phase-budget", type=float, default=240, help="seconds after which a query phase's clients stop early (slow systems)")
    p.add_argument("--json", default=str(bc.REPO / "target" / "bench" / "bench_server.jsonl"))
    p.add_argument("--plot", default=None)
    a = p.parse_args()

    ds = bc.Dataset(Path(a.data), a.rows, a.queries, a.filter)
    out = bc.JsonLines(Path(a.json) if a.json else None)
    meta = {
        "bench": "server",
        "machine": bc.machine(),
        "git": bc.git_rev(),
        "versions": bc.versions(["qdrant-client", "chromadb", "pymilvus", "milvus-lite", "faiss-cpu", "numpy"]),
        "azimuth_binary": bc.binary_info(a.azimuth) if "azimuth" in a.systems else None,
        "dataset": ds.describe(),
        "args": vars(a),
    }
    out.write(meta)
    print(json.dumps(meta, indent=1))
    tmp = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="bench-server-"))
    recs = []
    try:
        for name in [s.strip() for s in a.systems.split(",") if s.strip()]:
            recs.append(run_system(SYSTEMS[name](), ds, a, tmp, a.query_clients or [a.clients], out))
    finally:
        if not a.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(bc.table(flat_rows(recs), COLUMNS))
    rs = ratios(recs) + ratios(recs, "azimuth-grpc")
    if rs:
        print("\nAzimuth / peer throughput ratios (target ≥ 3× on upload and query):")
        cols = [("ours", "azimuth via", 0), ("vs", "vs", 0)] + [(k, k, 2) for k in rs[0] if k not in ("vs", "ours")]
        print(bc.table(rs, cols))
        out.write({"bench": "server", "ratios": rs})
    if a.plot:
        plot(recs, Path(a.plot), f"{ds.rows:,} × {ds.dim} debian-minilm, {a.clients} client processes, k=10, ef={a.ef}")


if __name__ == "__main__":
    main()
