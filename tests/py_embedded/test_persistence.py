"""On-disk databases: data survives close and reopen, and kill -9 of the writing process; one
process at a time per directory (another gets Locked); close() is decisive; damaged files
raise Corruption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import azimuth
from conftest import run_child


def test_reopen_keeps_everything(db_path: Path, rng: np.random.Generator) -> None:
    vectors = rng.standard_normal((120, 5)).astype(np.float32)
    with azimuth.connect(db_path) as db:
        assert db.path == str(db_path.resolve())
        c = db.create_collection("c", dim=5, metric="euclid")
        c.upsert(list(range(100)), vectors[:100], [{"i": i} for i in range(100)])
        c.create_payload_index("i", "integer")
        c.flush()  # some points in a segment file, some only in the log
        c.upsert(list(range(100, 120)), vectors[100:], [{"i": i} for i in range(100, 120)])
        c.delete([0, 1])
        c.set_payload({"edited": True}, ids=[5])
        db.create_collection("other", dim=2)
        db.drop_collection("other")
        before = c.search_numpy(vectors[:10], k=5)
    assert not db.is_open

    with azimuth.connect(str(db_path)) as db:
        assert db.list_collections() == ["c"]
        c = db.get_collection("c")
        assert len(c) == 118 and c.get(0) is None
        assert c.get(5).payload == {"i": 5, "edited": True}
        assert c.info()["payload_schema"] == {"i": "integer"}
        np.testing.assert_array_equal(c.get(119, with_vectors=True).vector, vectors[119])
        after = c.search_numpy(vectors[:10], k=5)
        np.testing.assert_array_equal(after[0], before[0])
        np.testing.assert_array_equal(after[1], before[1])


def test_close_is_decisive(db_path: Path) -> None:
    db = azimuth.connect(db_path)
    c = db.create_collection("c", dim=2)
    c.upsert([1], [[1, 0]])
    db.close()
    db.close()  # idempotent
    assert "closed" in repr(db)
    for call in (lambda: c.count(), lambda: len(c), lambda: c.search([1, 0]), lambda: db.list_collections()):
        with pytest.raises(azimuth.InvalidInput, match="closed"):
            call()
    # The directory is free again: another process can open it.
    out = run_child(
        """
        import sys, azimuth
        db = azimuth.connect(sys.argv[1])
        print(len(db.get_collection("c")))
        """,
        str(db_path),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_same_process_connects_share(db_path: Path) -> None:
    first = azimuth.connect(db_path)
    first.create_collection("c", dim=2)
    second = azimuth.connect(db_path)  # e.g. a notebook cell run twice: no Locked
    assert second.list_collections() == ["c"]
    second.close()
    assert not first.is_open  # one open database per directory per process
    third = azimuth.connect(db_path)
    assert third.list_collections() == ["c"]
    third.close()


HOLDER = """
import sys, azimuth
db = azimuth.connect(sys.argv[1])
db.get_or_create_collection("c", dim=2).upsert([1], [[0.5, 0.5]])
print("ready", flush=True)
sys.stdin.readline()
db.close()
print("closed", flush=True)
sys.stdin.readline()
"""


def test_second_process_gets_locked(db_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        with pytest.raises(azimuth.Locked) as info:
            azimuth.connect(db_path)
        assert isinstance(info.value, azimuth.AzimuthError)
        assert "locked" in str(info.value)

        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "closed"
        with azimuth.connect(db_path) as db:  # released by close(), child still running
            assert len(db.get_collection("c")) == 1
    finally:
        child.kill()
        child.wait(timeout=30)


def test_lock_released_when_process_dies(db_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    with azimuth.connect(db_path) as db:
        assert db.get_collection("c").get(1) is not None


def test_acknowledged_writes_survive_kill_9(db_path: Path) -> None:
    writer = textwrap.dedent(
        """
        import sys, numpy as np, azimuth
        db = azimuth.connect(sys.argv[1])
        c = db.create_collection("c", dim=4, metric="dot")
        for batch in range(1_000_000):
            ids = list(range(batch * 10, batch * 10 + 10))
            c.upsert(ids, np.full((10, 4), batch, dtype=np.float32), [{"batch": batch}] * 10)
            print(batch, flush=True)   # acknowledged: upsert returned with wait=True
        """
    )
    child = subprocess.Popen([sys.executable, "-c", writer, str(db_path)], stdout=subprocess.PIPE, text=True)
    acked = -1
    for line in child.stdout:
        acked = int(line)
        if acked >= 30:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    with azimuth.connect(db_path) as db:
        c = db.get_collection("c")
        assert len(c) >= (acked + 1) * 10
        assert len(c) % 10 == 0  # whole batches only
        last = c.get(acked * 10 + 9, with_vectors=True)
        assert last.payload == {"batch": acked}
        np.testing.assert_array_equal(last.vector, [acked] * 4)


def test_damaged_segment_raises_corruption(db_path: Path) -> None:
    with azimuth.connect(db_path) as db:
        c = db.create_collection("c", dim=4)
        c.upsert(list(range(50)), np.ones((50, 4)))
        c.flush()
    segment = next(p for p in db_path.rglob("seg-*"))
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    with pytest.raises(azimuth.Corruption) as info:
        azimuth.connect(db_path)
    assert isinstance(info.value, OSError) and isinstance(info.value, azimuth.StorageError)
    assert segment.name in str(info.value)


def clustered(seed: int, n: int, nq: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` rows and `nq` queries around 40 gaussian centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim))
    rows = rng.integers(0, 40, n + nq)
    vectors = (centres[rows] + 0.5 * rng.standard_normal((n + nq, dim))).astype(np.float32)
    return vectors[:n], vectors[n:]


@pytest.mark.parametrize("quantization", ["int8", "binary"])
def test_quantized_on_disk_collection(db_path: Path, quantization: str) -> None:
    """quantization + on_disk: searches walk the codes (and graph links read through a map
    of the graph file) and rescore from vectors read through memory maps of the segment files; results agree with exact search and survive reopening.
    12,000 rows of 256 floats pass the default indexing threshold (10,000 KiB)."""
    n, dim = 12_000, 256
    base, queries = clustered(7, n, 30, dim)
    with azimuth.connect(db_path) as db:
        c = db.create_collection("q", dim=dim, metric="cosine", quantization=quantization, on_disk=True)
        c.upsert(list(range(n)), base)
        c.build_index()
        info = c.info()
        assert info["indexed_vectors"] == n
        assert info["quantization"] == quantization
        assert info["vector_bytes_mapped"] == n * dim * 4
        assert info["vector_bytes_in_memory"] == 0
        # the graph's level-0 links (n lists of 1 + 2·16 u32) are mapped too; codes stay
        assert info["index_bytes_mapped"] == n * 33 * 4
        assert info["index_bytes_in_memory"] > 0
        approx, _ = c.search_numpy(queries, k=10, ef=128)
        exact, _ = c.search_numpy(queries, k=10, exact=True)
        recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
        assert recall >= 0.9, recall
    with azimuth.connect(db_path) as db:
        c = db.get_collection("q")
        assert c.info()["vector_bytes_mapped"] == n * dim * 4
        assert c.info()["index_bytes_mapped"] == n * 33 * 4
        again, _ = c.search_numpy(queries, k=10, ef=128)
        assert (again == approx).all()
        with pytest.raises(azimuth.InvalidInput, match="quantization"):
            db.create_collection("bad", dim=4, quantization="pq")


def test_float16_collection(db_path: Path) -> None:
    """dtype="float16": vectors come back rounded to half precision, sealed segments hold
    half-precision rows (half the bytes of float32), the indexed segment walks them with the
    scores of the rounded vectors, and all of it survives reopening."""
    n, dim = 12_000, 256
    base, queries = clustered(11, n, 30, dim)
    unit = base / np.linalg.norm(base, axis=1, keepdims=True)  # cosine stores unit rows
    half = unit.astype(np.float16).astype(np.float32)
    with azimuth.connect(db_path) as db:
        c = db.create_collection("h", dim=dim, metric="cosine", dtype="float16")
        c.upsert(list(range(n)), base)
        c.build_index()
        info = c.info()
        assert info["dtype"] == "float16" and info["indexed_vectors"] == n
        assert info["vector_bytes_mapped"] == 0
        assert info["vector_bytes_in_memory"] == n * dim * 2
        got = np.asarray(c.get([3], with_vectors=True)[0].vector, dtype=np.float32)
        # half-precision values (numpy's norm may differ from the engine's in the last bit,
        # so a component may round to the neighbouring half)
        np.testing.assert_array_equal(got.astype(np.float16).astype(np.float32), got)
        np.testing.assert_allclose(got, half[3], rtol=2**-10, atol=2**-24)
        approx, scores = c.search_numpy(queries, k=10, ef=128)
        exact, _ = c.search_numpy(queries, k=10, exact=True)
        recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
        assert recall >= 0.95, recall
        q_unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        expected = np.einsum("qkd,qd->qk", half[approx], q_unit)
        np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-3)
        with pytest.raises(azimuth.InvalidInput, match="dtype"):
            db.create_collection("bad", dim=4, dtype="int4")
        with pytest.raises(azimuth.InvalidInput, match="dtype"):
            db.get_or_create_collection("h", dim=dim, metric="cosine")  # float32 asked
        assert db.get_or_create_collection("h", dim=dim, metric="cosine", dtype="float16").info()["dtype"] == "float16"
    with azimuth.connect(db_path) as db:
        c = db.get_collection("h")
        assert c.info()["dtype"] == "float16"
        assert c.info()["vector_bytes_in_memory"] == n * dim * 2
        again, _ = c.search_numpy(queries, k=10, ef=128)
        assert (again == approx).all()
