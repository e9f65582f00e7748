"""Shared pieces of the client-level benchmarks (bench_server.py, bench_python.py,
bench_chroma.py): the debian-minilm data set and its ground truth, recall@10, latency
statistics, starting and stopping server processes by pid, N concurrent client processes
that start together, and printing / recording results.

Nothing here measures anything by itself; the scripts decide what is timed.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import importlib.metadata
import json
import multiprocessing as mp
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "debian-minilm"
K = 10


# ---------------------------------------------------------------------------------------
# Data set


class Dataset:
    """The first `rows` base rows (point id = row number), `nq` queries, and the top-10
    ground truth of each query with and without the chosen filter.

    With every row the shipped ground-truth files are used; with a subset (for trying a
    script out) the ground truth is recomputed by brute force over the subset."""

    def __init__(self, data_dir: Path, rows: Optional[int], nq: Optional[int], filter_index: int):
        self.dir = Path(data_dir)
        base = np.load(self.dir / "base.f16.npy", mmap_mode="r")
        total = base.shape[0]
        self.rows = total if rows is None or rows <= 0 or rows >= total else rows
        self.full = self.rows == total
        self.base = np.ascontiguousarray(base[: self.rows].astype(np.float32))
        queries = np.load(self.dir / "queries.f32.npy")
        self.nq = len(queries) if nq is None or nq <= 0 else min(nq, len(queries))
        self.queries = np.ascontiguousarray(queries[: self.nq].astype(np.float32))
        self.dim = self.base.shape[1]
        with open(self.dir / "filters.json") as f:
            filters = json.load(f)
        spec = filters[filter_index]
        self.filter_index = filter_index
        self.filter = spec["filter"]  # Qdrant grammar
        self.selectivity = spec["selectivity"]
        self.payloads = load_payloads(self.dir / "payload.jsonl.gz", self.rows)
        self.sections = [p.get("section") for p in self.payloads]
        if self.full:
            self.gt = np.load(self.dir / "gt_cosine_top100.i32.npy")[: self.nq, :K]
            self.gt_filter = np.load(self.dir / spec["file"])[: self.nq, :K]
        else:
            mask = np.array([section_filter_matches(self.filter, s) for s in self.sections])
            self.gt = brute_force(self.base, self.queries, None)
            self.gt_filter = brute_force(self.base, self.queries, mask)

    def describe(self) -> str:
        return (
            f"debian-minilm: {self.rows:,} of the base rows × {self.dim} "
            f"({'all' if self.full else 'subset, ground truth recomputed'}), {self.nq} queries, "
            f"filter {self.filter_index} (~{self.selectivity:.1%} of rows): {json.dumps(self.filter)}"
        )


def load_payloads(path: Path, rows: int) -> list[dict]:
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if len(out) >= rows:
                break
            out.append(json.loads(line))
    return out


def section_filter_matches(flt: dict, section: Any) -> bool:
    """The filters in filters.json: `must` / `must_not` of `match` `value` / `any` on one
    keyword field. Enough to recompute their ground truth on a subset."""

    def cond(c: dict) -> bool:
        m = c["match"]
        if "value" in m:
            return section == m["value"]
        return section in m["any"]

    ok = all(cond(c) for c in flt.get("must", []))
    return ok and not any(cond(c) for c in flt.get("must_not", []))


def chroma_where(flt: dict) -> dict:
    """The same filter in Chroma's `where` grammar."""
    parts = []
    for c in flt.get("must", []):
        m = c["match"]
        parts.append({c["key"]: m["value"]} if "value" in m else {c["key"]: {"$in": m["any"]}})
    for c in flt.get("must_not", []):
        m = c["match"]
        parts.append({c["key"]: {"$ne": m["value"]}} if "value" in m else {c["key"]: {"$nin": m["any"]}})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def milvus_expr(flt: dict) -> str:
    """The same filter as a Milvus boolean expression."""
    parts = []
    for c in flt.get("must", []):
        m = c["match"]
        parts.append(f'{c["key"]} == {json.dumps(m["value"])}' if "value" in m else f'{c["key"]} in {json.dumps(m["any"])}')
    for c in flt.get("must_not", []):
        m = c["match"]
        parts.append(f'{c["key"]} != {json.dumps(m["value"])}' if "value" in m else f'{c["key"]} not in {json.dumps(m["any"])}')
    return " and ".join(parts)


def brute_force(base: np.ndarray, queries: np.ndarray, mask: Optional[np.ndarray]) -> np.ndarray:
    """Top-10 rows by cosine similarity (ties: smaller row first)."""
    b = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-30)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-30)
    out = np.full((len(q), K), -1, dtype=np.int64)
    allowed = np.arange(len(b)) if mask is None else np.flatnonzero(mask)
    bb = b[allowed]
    for start in range(0, len(q), 256):
        s = q[start : start + 256] @ bb.T
        top = np.argsort(-s, axis=1, kind="stable")[:, :K]
        out[start : start + 256, : top.shape[1]] = allowed[top]
    return out


def recall_at_10(found: Sequence[Sequence[int]], truth: np.ndarray) -> float:
    hits = 0
    for f, t in zip(found, truth):
        hits += len({int(i) for i in list(f)[:K]} & {int(i) for i in t[:K] if i >= 0})
    return hits / (K * len(truth))


def latency_stats(lat_s: Iterable[float]) -> dict:
    a = np.sort(np.asarray(list(lat_s), dtype=np.float64)) * 1e3
    if len(a) == 0:
        return {"p50_ms": None, "p99_ms": None, "mean_ms": None}
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "mean_ms": float(a.mean()),
    }


def batches(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(n, s + size)) for s in range(0, n, size)]


# ---------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process we started; stopped by its pid only (SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, env: Optional[dict] = None):
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        self.pid = self.proc.pid

    def wait_http(self, url: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log: {self.log_path}\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status < 500:
                        return
            except Exception as e:  # not up yet
                last = e
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready at {url} after {timeout}s ({last}); log: {self.log_path}")

    def wait_tcp(self, port: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log: {self.log_path}\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} not listening on {port} after {timeout}s; log: {self.log_path}")

    def rss_mib(self) -> Optional[float]:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> Optional[float]:
        """User + system CPU time the server process has used so far."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
            except ProcessLookupError:
                pass
        self.log.close()


def _client_main(target: Callable, index: int, args: Any, barrier: Any, queue: Any) -> None:
    try:
        queue.put((index, target(index, args, barrier), None))
    except BaseException as e:  # report, never hang the parent
        import traceback

        try:
            barrier.abort()
        except Exception:
            pass
        queue.put((index, None, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


def run_clients(target: Callable, args_per_client: list, timeout: float = 3600.0) -> list:
    """Runs `target(index, args, barrier)` in one fresh process per element of
    `args_per_client` (spawned, so no client library state is inherited) and returns their
    results in order. Each target does its untimed preparation, then `barrier.wait()`, then
    the timed work, and returns its own start and end `time.monotonic()` (one clock for all
    processes of the machine)."""
    ctx = mp.get_context("spawn")
    n = len(args_per_client)
    barrier = ctx.Barrier(n)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_client_main, args=(target, i, a, barrier, queue), daemon=True) for i, a in enumerate(args_per_client)]
    for p in procs:
        p.start()
    results: list = [None] * n
    errors = []
    try:
        for _ in range(n):
            i, res, err = queue.get(timeout=timeout)
            if err:
                errors.append(f"client {i}: {err}")
            results[i] = res
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join()
    if errors:
        raise RuntimeError("client process failed:\n" + "\n".join(errors))
    return results


def shard(items: Sequence, n: int) -> list:
    """Contiguous, near-equal shards (upload: each client owns a range of ids)."""
    size = (len(items) + n - 1) // n
    return [items[i * size : (i + 1) * size] for i in range(n)]


# ---------------------------------------------------------------------------------------
# Reporting


def versions(packages: Iterable[str]) -> dict:
    out = {}
    for p in packages:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = None
    return out


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except OSError:
        return "?"


def binary_info(path: str) -> dict:
    """Which server binary ran: the build is only known by its file (mtime, size, hash)."""
    import hashlib

    p = Path(path)
    if not p.exists():
        return {"path": str(p), "missing": True}
    st = p.stat()
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {
        "path": str(p),
        "mtime": _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat(timespec="seconds"),
        "bytes": st.st_size,
        "sha256": h.hexdigest()[:16],
    }


def fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 1000 and digits < 4:
            return f"{v:,.0f}"
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(rows: list[dict], columns: list[tuple[str, str, int]]) -> str:
    """A Markdown table: columns are (key, header, digits)."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(r.get(k), d) for k, _, d in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


class JsonLines:
    def __init__(self, path: Optional[Path]):
        self.path = path
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.f = open(path, "a")

    def write(self, rec: dict) -> None:
        line = json.dumps(rec, default=str)
        print("JSON " + line, file=sys.stderr)
        if self.path:
            self.f.write(line + "\n")
            self.f.flush()


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None or b == 0:
        return None
    return a / b
