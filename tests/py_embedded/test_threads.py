"""Threads: engine calls release the GIL, so searches from several threads run at once and
give the same answers as one thread; writers and readers interleave safely."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import azimuth


def filled(db: azimuth.Database, n: int, dim: int, rng: np.random.Generator) -> azimuth.Collection:
    c = db.create_collection("c", dim=dim, metric="dot")
    c.upsert(np.arange(n), rng.standard_normal((n, dim)).astype(np.float32))
    return c


def test_threads_search_concurrently_with_same_results(db: azimuth.Database, rng: np.random.Generator) -> None:
    c = filled(db, 3000, 32, rng)
    queries = rng.standard_normal((64, 32)).astype(np.float32)
    want_ids, want_scores = c.search_numpy(queries, k=10)

    def one(i: int) -> tuple[int, list]:
        return i, [h.id for h in c.search(queries[i], k=10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            for i, ids in pool.map(one, range(64)):
                assert ids == list(want_ids[i])
        for ids, scores in pool.map(lambda _: c.search_numpy(queries, k=10), range(8)):
            np.testing.assert_array_equal(ids, want_ids)
            np.testing.assert_array_equal(scores, want_scores)


def test_gil_is_released_during_search(db: azimuth.Database, rng: np.random.Generator) -> None:
    """While one thread is inside a long search call, the main thread keeps running Python.

    Holding the GIL for the whole call would freeze the main thread for the call's duration;
    released, its longest pause is a small fraction of it.
    """
    c = filled(db, 20_000, 64, rng)
    queries = rng.standard_normal((16, 64)).astype(np.float32)
    # Grow the batch until one call takes a good while on this machine.
    while True:
        t0 = time.perf_counter()
        c.search_numpy(queries, k=1)
        took = time.perf_counter() - t0
        if took >= 0.4 or len(queries) >= 1 << 16:
            break
        queries = np.concatenate([queries, queries])

    done = threading.Event()
    call_time: list[float] = []

    def worker() -> None:
        t = time.perf_counter()
        c.search_numpy(queries, k=1)
        call_time.append(time.perf_counter() - t)
        done.set()

    thread = threading.Thread(target=worker)
    last, longest, ticks = time.perf_counter(), 0.0, 0
    thread.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
        ticks += 1
        time.sleep(0.001)
    thread.join()
    assert call_time[0] >= 0.2, call_time
    assert ticks > 20 and longest < call_time[0] / 2, (longest, call_time, ticks)


def test_writers_and_readers_interleave(db: azimuth.Database, rng: np.random.Generator) -> None:
    c = db.create_collection("c", dim=8, metric="euclid")
    vectors = rng.standard_normal((8, 250, 8)).astype(np.float32)
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for b in range(5):
                ids = np.arange(t * 1000 + b * 50, t * 1000 + b * 50 + 50)
                c.upsert(ids, vectors[t, b * 50 : b * 50 + 50], [{"t": t}] * 50)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def reader() -> None:
        try:
            for _ in range(50):
                n = c.count()
                assert n % 50 == 0  # a batch is applied whole
                c.search(vectors[0, 0], k=5, filter={"must": [{"key": "t", "match": {"value": 1}}]})
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(c) == 8 * 250
    for t in range(8):
        assert c.count({"must": [{"key": "t", "match": {"value": t}}]}) == 250
