"""Search: single and batch queries, numpy input of every dtype and layout, results against
a brute-force numpy reference for every metric, the numpy fast path."""

from __future__ import annotations

import numpy as np
import pytest

import azimuth
from conftest import brute_force

METRICS = ["cosine", "dot", "euclid", "manhattan"]


def assert_matches_reference(ids: np.ndarray, scores: np.ndarray, want_ids: np.ndarray, want_scores: np.ndarray) -> None:
    np.testing.assert_allclose(scores, want_scores, rtol=1e-4, atol=1e-4)
    # Ids must agree wherever the score is not (nearly) tied with a neighbour.
    for row_ids, row_want, row_scores in zip(ids, want_ids, want_scores):
        for j in range(len(row_want)):
            near = np.abs(row_scores - row_scores[j]) < 1e-4
            if near.sum() == 1:
                assert row_ids[j] == row_want[j]


@pytest.mark.parametrize("metric", METRICS)
def test_batch_search_matches_brute_force(db: azimuth.Database, rng: np.random.Generator, metric: str) -> None:
    base = rng.standard_normal((600, 16)).astype(np.float32)
    queries = rng.standard_normal((25, 16)).astype(np.float32)
    c = db.create_collection("c", dim=16, metric=metric)
    c.upsert(np.arange(600), base)
    want_ids, want_scores = brute_force(base, queries, 10, metric)

    ids, scores = c.search_numpy(queries, k=10)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    assert ids.shape == scores.shape == (25, 10)
    assert_matches_reference(ids, scores, want_ids, want_scores)

    hits = c.search(queries, k=10)
    assert len(hits) == 25 and all(len(h) == 10 for h in hits)
    np.testing.assert_array_equal([[h.id for h in row] for row in hits], ids)
    np.testing.assert_allclose([[h.score for h in row] for row in hits], scores, rtol=1e-6)

    # One 1-D query: a flat list / 1-D arrays.
    one = c.search(queries[3], k=10)
    assert [h.id for h in one] == list(ids[3])
    one_ids, one_scores = c.search_numpy(queries[3], k=10)
    assert one_ids.shape == (10,)
    np.testing.assert_array_equal(one_ids, ids[3])


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda a: a.astype(np.float32), id="float32"),
        pytest.param(lambda a: a.astype(np.float16), id="float16"),
        pytest.param(lambda a: a.astype(np.float64), id="float64"),
        pytest.param(lambda a: np.asfortranarray(a.astype(np.float32)), id="fortran-order"),
        pytest.param(lambda a: np.repeat(a.astype(np.float32), 2, axis=1)[:, ::2], id="strided"),
        pytest.param(lambda a: a.astype(">f4"), id="big-endian"),
        pytest.param(lambda a: a.tolist(), id="lists"),
        pytest.param(lambda a: [tuple(r) for r in a.tolist()], id="tuples"),
    ],
)
def test_vector_inputs(db: azimuth.Database, rng: np.random.Generator, convert) -> None:
    base = rng.standard_normal((40, 6)).astype(np.float16).astype(np.float32)  # exact in f16 too
    c = db.create_collection("c", dim=6, metric="dot")
    c.upsert(list(range(40)), convert(base))
    for i in (0, 17, 39):
        np.testing.assert_array_equal(c.get(i, with_vectors=True).vector, base[i])
    ids, _ = c.search_numpy(convert(base[:5]), k=1)
    want, _ = brute_force(base, base[:5], 1, "dot")
    np.testing.assert_array_equal(ids, want)


def test_integer_vectors(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=3, metric="euclid")
    c.upsert([1, 2], np.array([[0, 0, 0], [3, 4, 0]], dtype=np.int32))
    hits = c.search(np.array([3, 4, 0], dtype=np.int64), k=2)
    assert [(h.id, h.score) for h in hits] == [(2, 0.0), (1, 5.0)]


def test_input_array_not_modified_or_kept(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2, metric="cosine")
    v = np.array([[3.0, 4.0]], dtype=np.float32)
    c.upsert([1], v)
    np.testing.assert_array_equal(v, [[3.0, 4.0]])  # normalised copy stored, input untouched
    v[0] = [0.0, 1.0]
    np.testing.assert_allclose(c.get(1, with_vectors=True).vector, [0.6, 0.8], rtol=1e-6)


def test_padding_and_object_ids(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2, metric="euclid")
    c.upsert([1, 2], [[0, 0], [1, 0]])
    ids, scores = c.search_numpy([[0, 0], [1, 0]], k=4)
    np.testing.assert_array_equal(ids, [[1, 2, -1, -1], [2, 1, -1, -1]])
    assert np.isnan(scores[:, 2:]).all() and not np.isnan(scores[:, :2]).any()

    c.upsert(["s"], [[0, 0.5]])
    ids, _ = c.search_numpy([0, 0], k=4)
    assert ids.dtype == object
    assert list(ids) == [1, "s", 2, None]

    c.delete(["s"])
    c.upsert([2**63], [[5, 5]])  # beyond int64: object array
    ids, _ = c.search_numpy([5, 5], k=1)
    assert ids.dtype == object and ids[0] == 2**63


def test_search_options(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=1, metric="euclid")
    c.upsert(list(range(10)), np.arange(10, dtype=np.float32)[:, None], [{"n": i, "sq": i * i} for i in range(10)])
    assert [h.id for h in c.search([0], k=3, offset=2)] == [2, 3, 4]
    assert [h.id for h in c.search([0], k=10, score_threshold=2.5)] == [0, 1, 2]
    h = c.search([4], k=1, with_payload=["sq"], with_vectors=True)[0]
    assert h.payload == {"sq": 16}
    np.testing.assert_array_equal(h.vector, [4.0])
    h = c.search([4], k=1, with_payload=False)[0]
    assert h.payload is None and h.vector is None
    assert repr(h) == "Hit(id=4, score=0.0, payload=None)"
    # Index parameters are accepted (this collection is too small to index, so exact).
    assert [x.id for x in c.search([4.2], k=3, ef=16)] == [4, 5, 3]
    assert [x.id for x in c.search([4.2], k=3, exact=True)] == [4, 5, 3]
    ids, _ = c.search_numpy([[4.2]], k=3, ef=1, exact=True)
    assert ids.tolist() == [[4, 5, 3]]


def test_huge_k_is_an_error_not_a_crash(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2)
    c.upsert([1], [[1, 0]])
    assert [h.id for h in c.search([1, 0], k=2**62)] == [1]  # list form: only real hits
    with pytest.raises((MemoryError, ValueError)):
        c.search_numpy(np.ones((4, 2)), k=2**62)
    with pytest.raises(MemoryError):
        c.search_numpy([1, 0], k=2**60)


def test_empty_collection_and_batch(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=3)
    assert c.search([1, 0, 0]) == []
    assert c.search(np.zeros((0, 3), dtype=np.float32)) == []
    ids, scores = c.search_numpy(np.ones((2, 3)), k=2)
    assert ids.tolist() == [[-1, -1], [-1, -1]] and np.isnan(scores).all()


def test_ann_index_builds_and_keeps_recall(db: azimuth.Database, rng: np.random.Generator) -> None:
    # 12,000 × 256 is above the default indexing threshold (10,000 KiB of vectors).
    centres = rng.standard_normal((50, 256)).astype(np.float32)
    data = centres[rng.integers(0, 50, 12_100)] + 0.5 * rng.standard_normal((12_100, 256)).astype(np.float32)
    base, queries = data[:12_000], data[12_000:]
    c = db.create_collection("ann", dim=256, metric="cosine")
    c.upsert(np.arange(12_000), base)
    c.build_index()
    info = c.info()
    assert info["indexed_vectors"] == 12_000
    assert info["indexing_pending"] is False
    table = info["recall_calibration"][""]
    assert table and all(0.0 <= r <= 1.0 for _, r in table)
    approx, _ = c.search_numpy(queries, k=10)
    exact = [[h.id for h in hits] for hits in c.search(queries, k=10, exact=True)]
    found = sum(len(set(a.tolist()) & set(e)) for a, e in zip(approx, exact))
    assert found / (10 * len(queries)) >= 0.95
    wide = c.search(queries[0], k=10, ef=256)
    assert len({h.id for h in wide} & set(exact[0])) >= 9
