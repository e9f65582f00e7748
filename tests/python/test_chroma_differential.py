"""Differential test: the same random operations through the unchanged chromadb HttpClient
against chromadb's own server (`chroma run` from .venv-chroma, made by scripts/chroma-env.sh)
and against Azimuth. Both must give the same ids in the same order, the same documents and
metadatas (types included), embeddings and distances within 1e-4, and the same exception
types for bad calls.

AZIMUTH_CHROMA_DIFF_OPS (default 700) and AZIMUTH_CHROMA_DIFF_SEED (default 20251122) tune it.

Two phases, each in fresh databases: the first with deletes and scalar metadata, the second
with array metadata and no deletes. chromadb 1.5.9 does not remove a deleted record's array
metadata rows, and a later record that reuses the row id inherits them (even in another
collection); Azimuth does not copy that, so the run keeps arrays and deletes apart. Array
semantics are covered by test_chroma_api.py and the filter unit tests.
"""

from __future__ import annotations

import copy
import math
import os
import random
import signal
import subprocess
import time

import chromadb
import httpx
import pytest

from conftest import REPO_ROOT, free_port

OPS = int(os.environ.get("AZIMUTH_CHROMA_DIFF_OPS", "700"))
SEED = int(os.environ.get("AZIMUTH_CHROMA_DIFF_SEED", "20251122"))
DIM = 4
TOL = 1e-4
CHROMA = REPO_ROOT / ".venv-chroma" / "bin" / "chroma"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if not CHROMA.exists():
        pytest.skip("no .venv-chroma: run scripts/chroma-env.sh")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-ref")
    log = open(data / "chroma.log", "wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        cwd=str(data),
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("chroma run did not start:\n" + (data / "chroma.log").read_text(errors="replace"))
        time.sleep(0.1)
    yield ("127.0.0.1", port)
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    log.close()


WORDS = ["alpha", "beta", "Gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "50%", "a_b"]
KEYS = ["i", "f", "s", "b", "arr", "farr", "sarr"]


def rand_value(rng: random.Random, key: str):
    if key == "i":
        return rng.randint(-2, 4)
    if key == "f":
        return rng.choice([0.5, 1.0, 1.5, 2.0, -0.5, 3.25])
    if key == "s":
        return rng.choice(["x", "y", "z", "1"])
    if key == "b":
        return rng.random() < 0.5
    if key == "arr":
        return rng.sample([1, 2, 3, 4], rng.randint(1, 3))
    if key == "farr":
        return rng.sample([1.0, 2.5, 3.0], rng.randint(1, 2))
    return rng.sample(["p", "q", "r"], rng.randint(1, 2))


SCALAR_KEYS = ["i", "f", "s", "b"]


def rand_metadata(rng: random.Random, nulls: bool = False, arrays: bool = True):
    if rng.random() < 0.15:
        return None
    pool = KEYS if arrays else SCALAR_KEYS
    keys = rng.sample(pool, rng.randint(1, len(pool) - 1))
    m = {k: rand_value(rng, k) for k in keys}
    if nulls and rng.random() < 0.3:
        m[rng.choice(pool)] = None
    return m


def rand_document(rng: random.Random):
    if rng.random() < 0.15:
        return None
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))


def rand_embedding(rng: random.Random, dim: int = DIM):
    return [round(rng.uniform(-1, 1), 3) for _ in range(dim)]


def rand_scalar(rng: random.Random):
    return rng.choice([rng.randint(-1, 4), rng.choice([0.5, 1.0, 1.5, 2.0, 2.5]), rng.choice(["x", "y", "1"]), rng.random() < 0.5])


def rand_leaf_where(rng: random.Random):
    key = rng.choice(KEYS + ["missing"])
    op = rng.choice(["eq", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$not_contains"])
    if op == "eq":
        return {key: rand_scalar(rng)}
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return {key: {op: rng.choice([rng.randint(-1, 4), rng.choice([0.5, 1.5, 2.0, 2.5])])}}
    if op in ("$in", "$nin"):
        kind = rng.choice(["int", "float", "str", "bool"])
        pool = {"int": [0, 1, 2, 3], "float": [0.5, 1.0, 1.5, 2.0], "str": ["x", "y", "1"], "bool": [True, False]}[kind]
        return {key: {op: rng.sample(pool, rng.randint(1, 2))}}
    return {key: {op: rand_scalar(rng)}}


def rand_where(rng: random.Random, depth: int = 0):
    if depth < 2 and rng.random() < 0.3:
        return {rng.choice(["$and", "$or"]): [rand_where(rng, depth + 1) for _ in range(rng.randint(2, 3))]}
    return rand_leaf_where(rng)


def rand_where_document(rng: random.Random, depth: int = 0):
    if depth < 1 and rng.random() < 0.25:
        return {rng.choice(["$and", "$or"]): [rand_where_document(rng, depth + 1) for _ in range(2)]}
    op = rng.choice(["$contains", "$not_contains", "$regex", "$not_regex"])
    if op in ("$regex", "$not_regex"):
        return {op: rng.choice(["^a", "(?i)gamma", "ta$", "e.a", "[0-9]+%"])}
    return {op: rng.choice(WORDS + ["a", "ta", "%", "_"])}


def typed(v):
    """A comparable form that keeps int / float / bool apart."""
    if isinstance(v, dict):
        return {k: typed(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [typed(x) for x in v]
    if isinstance(v, float) and v == int(v) and not math.isinf(v):
        return ("float", v)
    return (type(v).__name__, v)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if len(a) != len(b):
        return False
    return all(abs(float(x) - float(y)) <= TOL for x, y in zip(a, b))


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - comparing exception types is the point
        return ("error", type(e).__name__)


def compare_records(ctx, ref, az):
    assert ref["ids"] == az["ids"], ctx
    for field in ("documents", "metadatas", "uris"):
        r, a = ref.get(field), az.get(field)
        assert typed(r) == typed(a), (ctx, field, r, a)
    compare_embeddings(ctx, ref.get("embeddings"), az.get("embeddings"))


def compare_embeddings(ctx, ref, az):
    assert (ref is None) == (az is None), ctx
    if ref is not None:
        assert len(ref) == len(az), ctx
        for x, y in zip(ref, az):
            assert close(list(x), list(y)), (ctx, list(x), list(y))


class Run:
    def __init__(self, rng, ref_client, az_client, arrays: bool):
        self.rng = rng
        self.arrays = arrays
        self.clients = (ref_client, az_client)
        self.collections: dict[str, tuple] = {}
        self.id_pool = [f"id{i}" for i in range(50)]
        self.counts: dict[str, int] = {}
        self.serial = 0
        self.log: list = []

    def both(self, ctx, fn):
        self.log.append(ctx)
        r = outcome(lambda: fn(0))
        a = outcome(lambda: fn(1))
        assert r[0] == a[0], (ctx, r, a)
        if r[0] == "error":
            assert r[1] == a[1], (ctx, r, a)
        return r, a

    def reference_missed(self, ctx, kwargs, ref, az):
        """chromadb's HNSW is approximate (and its build nondeterministic): now and then it
        misses a neighbour that Azimuth's exact search finds. Accept that only when Azimuth's
        answer is at least as near at every rank and both agree on the distance of every id
        they share; the test then requires such misses to stay rare."""
        for ri, ai, rd, ad in zip(ref["ids"], az["ids"], ref["distances"], az["distances"]):
            assert len(ai) >= len(ri), (ctx, kwargs, ref, az)
            assert all(a <= r + TOL for a, r in zip(ad, rd)), (ctx, kwargs, ref, az)
            ours = dict(zip(ai, ad))
            for i, d in zip(ri, rd):
                if i in ours:
                    assert abs(ours[i] - d) <= TOL, (ctx, kwargs, ref, az)
        self.count("reference missed a neighbour")

    def new_collection(self):
        self.serial += 1
        name = f"diff_{self.serial}"
        space = self.rng.choice(["l2", "cosine", "ip"])
        how = self.rng.choice(["metadata", "configuration"])
        kwargs = {"metadata": {"hnsw:space": space, "n": self.serial}} if how == "metadata" else {
            "configuration": {"hnsw": {"space": space}}, "metadata": {"n": self.serial}}
        cols = [c.create_collection(name, embedding_function=None, **kwargs) for c in self.clients]
        self.collections[name] = tuple(cols)
        # Fix the dimension, so a wrong-dimension add is an error and not the first write.
        first = {"ids": ["seed0"], "embeddings": [rand_embedding(self.rng)]}
        for c in cols:
            c.add(**copy.deepcopy(first))
        self.count("create")

    def count(self, op):
        self.counts[op] = self.counts.get(op, 0) + 1

    def step(self):
        rng = self.rng
        if not self.collections or (len(self.collections) < 4 and rng.random() < 0.03):
            self.new_collection()
        name = rng.choice(sorted(self.collections))
        cols = self.collections[name]
        op = rng.choices(
            ["add", "upsert", "update", "delete", "get", "query", "count", "error", "collection"],
            weights=[14, 10, 8, 0 if self.arrays else 6, 20, 20, 4, 8, 3],
        )[0]
        self.count(op)
        ctx = (op, name)
        if op in ("add", "upsert", "update"):
            n = rng.randint(1, 6)
            ids = rng.sample(self.id_pool, n)
            kwargs = {"ids": ids}
            if op != "update" or rng.random() < 0.5:
                kwargs["embeddings"] = [rand_embedding(rng) for _ in ids]
            if rng.random() < 0.8:
                kwargs["metadatas"] = [rand_metadata(rng, nulls=op != "add", arrays=self.arrays) or {"i": 0} for _ in ids]
            if "embeddings" in kwargs and rng.random() < 0.7:
                kwargs["documents"] = [rand_document(rng) or "plain" for _ in ids]
            self.both(ctx + (kwargs,), lambda i: getattr(cols[i], op)(**copy.deepcopy(kwargs)))
        elif op == "delete":
            if rng.random() < 0.5:
                kwargs = {"ids": rng.sample(self.id_pool, rng.randint(1, 3))}
            else:
                kwargs = {"where": rand_where(rng)}
                if rng.random() < 0.3:
                    kwargs["limit"] = rng.randint(1, 3)
            self.both(ctx + (kwargs,), lambda i: cols[i].delete(**copy.deepcopy(kwargs)))
        elif op == "get":
            kwargs = {"include": rng.sample(["documents", "metadatas", "embeddings", "uris"], rng.randint(0, 3))}
            if rng.random() < 0.3:
                kwargs["ids"] = rng.sample(self.id_pool, rng.randint(1, 8))
            if rng.random() < 0.5:
                kwargs["where"] = rand_where(rng)
            if rng.random() < 0.3:
                kwargs["where_document"] = rand_where_document(rng)
            if rng.random() < 0.3:
                kwargs["limit"] = rng.randint(0, 6)
            if rng.random() < 0.3:
                kwargs["offset"] = rng.randint(0, 6)
            r, a = self.both(ctx + (kwargs,), lambda i: cols[i].get(**copy.deepcopy(kwargs)))
            if r[0] == "ok":
                compare_records(ctx + (kwargs,), r[1], a[1])
                if r[1]["ids"]:
                    self.count("get with results")
        elif op == "query":
            kwargs = {
                "query_embeddings": [rand_embedding(rng) for _ in range(rng.randint(1, 2))],
                "n_results": rng.randint(1, 8),
                "include": rng.sample(["documents", "metadatas", "distances", "embeddings"], rng.randint(1, 3)),
            }
            if "distances" not in kwargs["include"]:
                kwargs["include"].append("distances")
            if rng.random() < 0.4:
                kwargs["where"] = rand_where(rng)
            if rng.random() < 0.2:
                kwargs["where_document"] = rand_where_document(rng)
            r, a = self.both(ctx + (kwargs,), lambda i: cols[i].query(**copy.deepcopy(kwargs)))
            if r[0] == "ok":
                ref, az = r[1], a[1]
                if ref["ids"] != az["ids"]:
                    self.reference_missed(ctx, kwargs, ref, az)
                    return
                for rd, ad in zip(ref["distances"], az["distances"]):
                    assert close(rd, ad), (ctx, kwargs, rd, ad)
                for field in ("documents", "metadatas"):
                    assert typed(ref.get(field)) == typed(az.get(field)), (ctx, field)
                if ref.get("embeddings") is not None:
                    for x, y in zip(ref["embeddings"], az["embeddings"]):
                        compare_embeddings(ctx, x, y)
                if any(ref["ids"]):
                    self.count("query with results")
        elif op == "count":
            r, a = self.both(ctx, lambda i: cols[i].count())
            assert r == a, ctx
        elif op == "error":
            kind = rng.choice(["dim", "qdim", "regex", "missing", "dup", "meta", "deleted"])
            if kind == "dim":
                fn = lambda i: cols[i].add(ids=["bad"], embeddings=[rand_embedding(rng, DIM + 1)])  # noqa: E731
            elif kind == "qdim":
                fn = lambda i: cols[i].query(query_embeddings=[[0.1, 0.2]], n_results=1)  # noqa: E731
            elif kind == "regex":
                fn = lambda i: cols[i].get(where_document={"$regex": "(unclosed"})  # noqa: E731
            elif kind == "missing":
                fn = lambda i: self.clients[i].get_collection("nope_" + name)  # noqa: E731
            elif kind == "dup":
                fn = lambda i: self.clients[i].create_collection(name, embedding_function=None)  # noqa: E731
            elif kind == "meta":
                fn = lambda i: cols[i].add(ids=["m"], embeddings=[rand_embedding(rng)], metadatas=[{"#bad": 1}])  # noqa: E731
            else:
                fn = lambda i: self.clients[i].delete_collection("never_" + name)  # noqa: E731
            r, a = self.both(ctx + (kind,), fn)
            if r[0] == "error":
                self.count("errors raised")
        else:
            what = rng.choice(["modify", "list", "get_or_create", "delete"])
            if what == "modify":
                meta = {"m": rng.randint(0, 9)}
                self.both(ctx + (what,), lambda i: cols[i].modify(metadata=meta))
                got = [c.get_collection(name).metadata for c in self.clients]
                assert got[0] == got[1] == meta
            elif what == "list":
                names = [sorted(c.name for c in cl.list_collections()) for cl in self.clients]
                assert names[0] == names[1]
                assert self.clients[0].count_collections() == self.clients[1].count_collections()
            elif what == "get_or_create":
                got = [cl.get_or_create_collection(name, embedding_function=None, metadata={"x": 1}) for cl in self.clients]
                assert got[0].metadata == got[1].metadata
                assert got[0].configuration_json["hnsw"]["space"] == got[1].configuration_json["hnsw"]["space"]
            elif len(self.collections) > 1 and not self.arrays:
                for cl in self.clients:
                    cl.delete_collection(name)
                del self.collections[name]


def test_random_operations_match_chromadb(reference, server):
    rng = random.Random(SEED)
    counts: dict[str, int] = {}
    for phase, arrays in enumerate((False, True)):
        run = Run(rng, *fresh_clients(reference, server, f"{phase}"), arrays=arrays)
        play(run, OPS // 2)
        for k, v in run.counts.items():
            counts[k] = counts.get(k, 0) + v
    print("operations by kind:", dict(sorted(counts.items())))
    c = counts
    assert sum(c[k] for k in ("add", "upsert", "update", "delete", "get", "query", "count", "error", "collection")) >= 500
    # The comparison is not vacuous: many reads return records, many bad calls raise.
    assert c.get("get with results", 0) >= 50 and c.get("query with results", 0) >= 50, c
    assert c.get("errors raised", 0) >= 20, c
    # Every counted miss was checked above (Azimuth at least as near at every rank); the bound
    # only keeps the comparison from becoming vacuous. chromadb's HNSW build is nondeterministic,
    # so its miss rate varies from run to run (0-4 in 160 queries has been seen).
    assert c.get("reference missed a neighbour", 0) <= max(5, c["query"] // 10), c


def fresh_clients(reference, server, tag):
    """Clients of a new database on each side, so collections of other suites (and
    Qdrant-made ones in the default database) stay out of the comparison."""
    db = f"diff_{SEED}_{tag}_{random.Random().randint(0, 1 << 30)}"
    clients = []
    for host, port in (reference, (server.host, server.port)):
        admin = chromadb.AdminClient(
            chromadb.config.Settings(
                chroma_api_impl="chromadb.api.fastapi.FastAPI",
                chroma_server_host=host,
                chroma_server_http_port=port,
            )
        )
        admin.create_database(db)
        clients.append(chromadb.HttpClient(host=host, port=port, database=db))
    return clients


def play(run: Run, ops: int):
    try:
        for _ in range(ops):
            run.step()
        # Final state: every collection holds the same records.
        for name, cols in run.collections.items():
            r = cols[0].get(include=["documents", "metadatas", "embeddings"])
            a = cols[1].get(include=["documents", "metadatas", "embeddings"])
            compare_records(("final", name), r, a)
    except AssertionError:
        log = os.environ.get("AZIMUTH_CHROMA_DIFF_LOG")
        if log:
            with open(log, "w") as f:
                f.writelines(repr(x) + "\n" for x in run.log)
        raise
