"""Chroma-API benchmark (issue 6): the same chromadb.HttpClient code uploads debian-minilm and
queries it against chromadb's own server (`chroma run`) and against `azimuth serve` (the
Chroma API under /api/v2 on the Qdrant port), in one run:

  upload   --clients client processes, batches of --batch records (`add` with explicit
           embeddings and the payload as metadata), points/s over the wall time
  index    Azimuth: wait until the collection's Qdrant status is green (same server, same
           collection); chroma run: indexes during `add`, nothing reported to wait for
  query    k = 10, `include=["distances"]`, one request at a time per client, with one
           client and with --clients concurrent client processes, without and with the
           --filter `where` filter; QPS, p50/p99 latency, recall@10

The collection is created with configuration hnsw {space cosine, ef_construction 100,
ef_search --ef, max_neighbors 16} on both servers.

Use scripts/bench-chroma.sh, which makes the virtualenv:

    scripts/bench-chroma.sh [--clients 4] [--rows 20000 --queries 200] [--systems azimuth,chroma]
        [--batch 256] [--ef 100] [--filter 1] [--json out.jsonl] [--plot out.png]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common as bc  # noqa: E402
import bench_server as bs  # noqa: E402


class AzimuthChromaDriver(bs.ChromaDriver):
    """chromadb.HttpClient against Azimuth; the index wait reads the Qdrant collection info
    of the same collection on the same port."""

    def wait_indexed(self, rows: int, timeout: float) -> dict:
        url = f"http://127.0.0.1:{self.cfg['port']}/collections/{bs.COLLECTION}"
        t0 = time.monotonic()
        seen_yellow = False
        while True:
            with urllib.request.urlopen(url, timeout=60) as r:
                info = json.load(r)["result"]
            seen_yellow |= info["status"] != "green"
            if info["status"] == "green" or time.monotonic() - t0 > timeout:
                break
            time.sleep(0.1)
        return {
            "count": self.col.count(),
            "status": info["status"],
            "seen_yellow": seen_yellow,
            "indexed_vectors_count": info.get("indexed_vectors_count"),
            "points_count": info.get("points_count"),
        }


bs.DRIVERS["chroma_az"] = AzimuthChromaDriver


class AzimuthChroma(bs.Azimuth):
    name, driver = "azimuth", "chroma_az"


SYSTEMS = {"azimuth": AzimuthChroma, "chroma": bs.ChromaRun}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(bc.DEFAULT_DATA))
    p.add_argument("--rows", type=int, default=0)
    p.add_argument("--queries", type=int, default=0)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--ef", type=int, default=100)
    p.add_argument("--filter", type=int, default=1)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--systems", default="azimuth,chroma")
    p.add_argument("--azimuth", default=str(bc.REPO / "target" / "release" / "azimuth"))
    p.add_argument("--workdir", default=None)
    p.add_argument("--index-timeout", type=float, default=1800)
    p.add_argument("--phase-budget", type=float, default=240, help="seconds after which a query phase's clients stop early (slow systems)")
    p.add_argument("--json", default=str(bc.REPO / "target" / "bench" / "bench_chroma.jsonl"))
    p.add_argument("--plot", default=None)
    a = p.parse_args()

    ds = bc.Dataset(Path(a.data), a.rows, a.queries, a.filter)
    out = bc.JsonLines(Path(a.json) if a.json else None)
    meta = {
        "bench": "chroma",
        "machine": bc.machine(),
        "git": bc.git_rev(),
        "versions": bc.versions(["chromadb", "numpy"]),
        "azimuth_binary": bc.binary_info(a.azimuth) if "azimuth" in a.systems else None,
        "dataset": ds.describe(),
        "where": bc.chroma_where(ds.filter),
        "args": vars(a),
    }
    out.write(meta)
    print(json.dumps(meta, indent=1))
    tmp = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="bench-chroma-"))
    counts = [1] if a.clients == 1 else [1, a.clients]
    recs = []
    try:
        for name in [s.strip() for s in a.systems.split(",") if s.strip()]:
            recs.append(bs.run_system(SYSTEMS[name](), ds, a, tmp, counts, out, extra={"api": "chroma"}))
    finally:
        if not a.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(bc.table(bs.flat_rows(recs), bs.COLUMNS))
    rs = bs.ratios(recs)
    if rs:
        print("\nAzimuth / chroma ratios (targets: query ≥ 3×, upload ≥ 2×):")
        cols = [("vs", "vs", 0)] + [(k, k, 2) for k in rs[0] if k != "vs"]
        print(bc.table(rs, cols))
        out.write({"bench": "chroma", "ratios": rs})
    if a.plot:
        bs.plot(recs, Path(a.plot), f"chromadb.HttpClient, {ds.rows:,} × {ds.dim} debian-minilm, k=10, ef={a.ef}")


if __name__ == "__main__":
    main()
