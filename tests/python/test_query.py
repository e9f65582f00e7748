"""Search through the Query API (`query_points`, `query_batch_points`) and the legacy
`/points/search` routes, with exact score semantics checked against numpy."""

from __future__ import annotations

import random

import httpx
import numpy as np
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name

DIM = 6
N = 60


def expected_scores(distance: models.Distance, stored: np.ndarray, q: np.ndarray) -> np.ndarray:
    if distance == models.Distance.COSINE:
        s = stored / np.linalg.norm(stored, axis=1, keepdims=True)
        return s @ (q / np.linalg.norm(q))
    if distance == models.Distance.DOT:
        return stored @ q
    if distance == models.Distance.EUCLID:
        return np.linalg.norm(stored - q, axis=1)
    if distance == models.Distance.MANHATTAN:
        return np.abs(stored - q).sum(axis=1)
    raise AssertionError(distance)


def ranked(distance, ids, scores):
    ascending = distance in (models.Distance.EUCLID, models.Distance.MANHATTAN)
    order = sorted(range(len(ids)), key=lambda i: (scores[i] if ascending else -scores[i]))
    return [ids[i] for i in order], [float(scores[i]) for i in order]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(N, DIM)).astype(np.float32)
    ids = list(range(1, N + 1))
    payloads = [{"i": i, "parity": "even" if i % 2 == 0 else "odd", "tag": f"t{i % 5}"} for i in ids]
    return ids, vecs, payloads


@pytest.fixture(scope="module")
def collections(client: QdrantClient, data):
    ids, vecs, payloads = data
    names = {}
    for dist in models.Distance:
        name = unique_name(f"q_{dist.value.lower()}")
        client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=dist))
        client.upsert(name, models.Batch(ids=ids, vectors=vecs.tolist(), payloads=payloads))
        names[dist] = name
    return names


@pytest.mark.parametrize("distance", list(models.Distance))
def test_exact_scores_and_order(client: QdrantClient, collections, data, distance):
    ids, vecs, _ = data
    name = collections[distance]
    rng = np.random.default_rng(11)
    for _ in range(5):
        q = rng.normal(size=DIM).astype(np.float32)
        exp_ids, exp_scores = ranked(distance, ids, expected_scores(distance, vecs.astype(np.float64), q.astype(np.float64)))
        res = client.query_points(name, query=q.tolist(), limit=15).points
        assert [p.id for p in res] == exp_ids[:15]
        assert [p.score for p in res] == pytest.approx(exp_scores[:15], rel=1e-4, abs=1e-4)
        for p in res:
            assert isinstance(p.version, int)
            assert p.payload["i"] == p.id  # with_payload defaults to true in the client
            assert p.vector is None
        # default limit is 10
        assert len(client.query_points(name, query=q.tolist()).points) == 10


def test_cosine_vectors_are_returned_normalised(client: QdrantClient, collections, data):
    ids, vecs, _ = data
    res = client.query_points(collections[models.Distance.COSINE], query=vecs[0].tolist(), limit=3, with_vectors=True)
    top = res.points[0]
    assert top.id == ids[0]
    assert top.score == pytest.approx(1.0, abs=1e-5)
    v = np.array(top.vector)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    assert v == pytest.approx(vecs[0] / np.linalg.norm(vecs[0]), abs=1e-5)
    dot = client.retrieve(collections[models.Distance.DOT], [ids[0]], with_vectors=True)
    assert dot[0].vector == pytest.approx(vecs[0].tolist(), abs=1e-6)


@pytest.mark.parametrize("distance", list(models.Distance))
def test_offset_limit(client: QdrantClient, collections, distance):
    q = [0.3, -0.1, 0.5, 0.2, -0.7, 0.05]
    full = client.query_points(collections[distance], query=q, limit=20).points
    page = client.query_points(collections[distance], query=q, limit=5, offset=7).points
    assert [p.id for p in page] == [p.id for p in full[7:12]]
    assert client.query_points(collections[distance], query=q, limit=5, offset=N + 5).points == []


@pytest.mark.parametrize("distance", list(models.Distance))
def test_filtered_query(client: QdrantClient, collections, data, distance):
    ids, vecs, payloads = data
    q = np.array([0.1, 0.2, -0.3, 0.4, 0.5, -0.6], dtype=np.float64)
    flt = models.Filter(
        must=[models.FieldCondition(key="parity", match=models.MatchValue(value="even"))],
        must_not=[models.FieldCondition(key="tag", match=models.MatchAny(any=["t0", "t1"]))],
    )
    keep = [k for k, p in enumerate(payloads) if p["parity"] == "even" and p["tag"] not in ("t0", "t1")]
    exp_ids, exp_scores = ranked(
        distance, [ids[k] for k in keep], expected_scores(distance, vecs[keep].astype(np.float64), q)
    )
    res = client.query_points(collections[distance], query=q.tolist(), query_filter=flt, limit=100).points
    assert [p.id for p in res] == exp_ids
    assert [p.score for p in res] == pytest.approx(exp_scores, rel=1e-4, abs=1e-4)


def test_with_payload_and_vectors_selectors(client: QdrantClient, collections):
    name = collections[models.Distance.DOT]
    q = [1.0] * DIM
    p = client.query_points(name, query=q, limit=1, with_payload=False).points[0]
    assert p.payload is None
    p = client.query_points(name, query=q, limit=1, with_payload=["tag"]).points[0]
    assert set(p.payload) == {"tag"}
    p = client.query_points(name, query=q, limit=1, with_payload=models.PayloadSelectorInclude(include=["i", "parity"])).points[0]
    assert set(p.payload) == {"i", "parity"}
    p = client.query_points(name, query=q, limit=1, with_payload=models.PayloadSelectorExclude(exclude=["i"])).points[0]
    assert set(p.payload) == {"parity", "tag"}
    p = client.query_points(name, query=q, limit=1, with_vectors=True).points[0]
    assert len(p.vector) == DIM


def test_query_by_point_id_excludes_itself(client: QdrantClient, collections, data):
    ids, vecs, _ = data
    for dist in models.Distance:
        name = collections[dist]
        res = client.query_points(name, query=5, limit=4).points
        assert 5 not in [p.id for p in res]
        exp_ids, exp_scores = ranked(dist, ids, expected_scores(dist, vecs.astype(np.float64), vecs[4].astype(np.float64)))
        exp = [(i, s) for i, s in zip(exp_ids, exp_scores) if i != 5][:4]
        assert [p.id for p in res] == [i for i, _ in exp]
        assert [p.score for p in res] == pytest.approx([s for _, s in exp], rel=1e-4, abs=1e-4)
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(collections[models.Distance.DOT], query=987654, limit=3)
    assert e.value.status_code in (400, 404)


def test_score_threshold_is_strict(client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Dot"))
    client.upsert(cname, [models.PointStruct(id=i, vector=[float(i), 0.0]) for i in range(1, 8)])
    res = client.query_points(cname, query=[1.0, 0.0], score_threshold=5.0, limit=10).points
    assert [p.id for p in res] == [7, 6]  # 5.0 itself is excluded
    euclid = unique_name("thr_euclid")
    client.create_collection(euclid, vectors_config=models.VectorParams(size=2, distance="Euclid"))
    client.upsert(
        euclid,
        [
            models.PointStruct(id=1, vector=[3.0, 4.0]),  # distance 5 from origin
            models.PointStruct(id=2, vector=[3.0, 3.0]),
            models.PointStruct(id=3, vector=[1.0, 0.0]),
            models.PointStruct(id=4, vector=[6.0, 8.0]),
        ],
    )
    res = client.query_points(euclid, query=[0.0, 0.0], score_threshold=5.0, limit=10).points
    assert [p.id for p in res] == [3, 2]
    assert [p.score for p in res] == pytest.approx([1.0, 18**0.5])
    manhattan = unique_name("thr_manh")
    client.create_collection(manhattan, vectors_config=models.VectorParams(size=2, distance="Manhattan"))
    client.upsert(manhattan, [models.PointStruct(id=i, vector=[float(i), -1.0]) for i in range(1, 6)])
    res = client.query_points(manhattan, query=[0.0, 0.0], score_threshold=4.0, limit=10).points
    assert [p.id for p in res] == [1, 2]
    assert [p.score for p in res] == pytest.approx([2.0, 3.0])


def test_named_vectors_using(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config={
            "image": models.VectorParams(size=2, distance="Dot"),
            "text": models.VectorParams(size=3, distance="Euclid"),
        },
    )
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector={"image": [1.0, 0.0], "text": [0.0, 0.0, 0.0]}),
            models.PointStruct(id=2, vector={"image": [2.0, 0.0], "text": [5.0, 0.0, 0.0]}),
            models.PointStruct(id=3, vector={"text": [1.0, 0.0, 0.0]}),
        ],
    )
    res = client.query_points(cname, query=[1.0, 0.0], using="image").points
    assert [(p.id, p.score) for p in res] == [(2, 2.0), (1, 1.0)]  # point 3 has no image vector
    res = client.query_points(cname, query=[0.0, 0.0, 0.0], using="text").points
    assert [p.id for p in res] == [1, 3, 2]
    assert [p.score for p in res] == pytest.approx([0.0, 1.0, 5.0])
    res = client.query_points(cname, query=1, using="text", limit=5).points
    assert [p.id for p in res] == [3, 2]
    res = client.query_points(cname, query=[1.0, 0.0], using="image", with_vectors=["image"]).points
    assert set(res[0].vector) == {"image"}
    # a named-only collection has no unnamed vector
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(cname, query=[1.0, 0.0])
    assert e.value.status_code == 400


def test_sparse_query(client: QdrantClient, cname):
    client.create_collection(cname, sparse_vectors_config={"s": models.SparseVectorParams()})
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector={"s": models.SparseVector(indices=[1, 5], values=[1.0, 2.0])}),
            models.PointStruct(id=2, vector={"s": models.SparseVector(indices=[5, 9], values=[0.5, 4.0])}),
            models.PointStruct(id=3, vector={"s": models.SparseVector(indices=[2], values=[3.0])}),
            models.PointStruct(id=4, vector={}),
        ],
    )
    res = client.query_points(cname, query=models.SparseVector(indices=[9, 5], values=[1.0, 2.0]), using="s").points
    # dot over shared indices; no overlap → not returned
    assert [p.id for p in res] == [2, 1]
    assert [p.score for p in res] == pytest.approx([5.0, 4.0])
    res = client.query_points(cname, query=1, using="s").points
    assert [p.id for p in res] == [2]
    assert res[0].score == pytest.approx(1.0)
    rec = client.retrieve(cname, [2], with_vectors=True)[0]
    assert rec.vector["s"].indices == [5, 9]


def test_query_without_query_is_scroll_like(client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Cosine"))
    client.upsert(cname, [models.PointStruct(id=i, vector=[1.0, float(i)], payload={"i": i}) for i in (5, 3, 9, 1, 7)])
    res = client.query_points(cname, limit=3).points
    assert [p.id for p in res] == [1, 3, 5]
    assert len({p.score for p in res}) == 1
    res = client.query_points(
        cname, query_filter=models.Filter(must=[models.FieldCondition(key="i", range=models.Range(gt=3))]), limit=10
    ).points
    assert [p.id for p in res] == [5, 7, 9]
    res = client.query_points(cname, limit=2, offset=2).points
    assert [p.id for p in res] == [5, 7]


def test_recommend_average_vector(client: QdrantClient, collections, data):
    ids, vecs, _ = data
    for dist in models.Distance:
        name = collections[dist]
        stored = vecs.astype(np.float64)
        if dist == models.Distance.COSINE:
            stored = stored / np.linalg.norm(stored, axis=1, keepdims=True)
        pos, neg = [3, 10], [20]
        avg_pos = stored[[p - 1 for p in pos]].mean(axis=0)
        avg_neg = stored[[n - 1 for n in neg]].mean(axis=0)
        target = avg_pos + (avg_pos - avg_neg)
        exp_ids, exp_scores = ranked(dist, ids, expected_scores(dist, vecs.astype(np.float64), target))
        exp = [(i, s) for i, s in zip(exp_ids, exp_scores) if i not in pos + neg][:5]
        res = client.query_points(
            name,
            query=models.RecommendQuery(
                recommend=models.RecommendInput(positive=pos, negative=neg, strategy=models.RecommendStrategy.AVERAGE_VECTOR)
            ),
            limit=5,
        ).points
        assert [p.id for p in res] == [i for i, _ in exp], dist
        assert [p.score for p in res] == pytest.approx([s for _, s in exp], rel=1e-4, abs=1e-4)
        # positives only, mixing an id and a raw vector; default strategy is average_vector
        raw = [0.5, -0.5, 0.25, 0.0, 1.0, -1.0]
        res = client.query_points(
            name, query=models.RecommendQuery(recommend=models.RecommendInput(positive=[7, raw])), limit=3
        ).points
        raw_vec = np.array(raw, dtype=np.float64)  # raw example vectors are used as given
        target = (stored[6] + raw_vec) / 2
        exp_ids, _ = ranked(dist, ids, expected_scores(dist, vecs.astype(np.float64), target))
        assert [p.id for p in res] == [i for i in exp_ids if i != 7][:3], dist


def test_query_batch(client: QdrantClient, collections):
    name = collections[models.Distance.EUCLID]
    reqs = [
        models.QueryRequest(query=[0.0] * DIM, limit=3),
        models.QueryRequest(
            query=[1.0] * DIM,
            limit=2,
            filter=models.Filter(must=[models.FieldCondition(key="parity", match=models.MatchValue(value="odd"))]),
            with_payload=True,
        ),
        models.QueryRequest(query=11, limit=2),
        models.QueryRequest(limit=2),
    ]
    batch = client.query_batch_points(name, reqs)
    assert len(batch) == 4
    for req, res in zip(reqs, batch):
        single = client.query_points(
            name, query=req.query, query_filter=req.filter, limit=req.limit, with_payload=True
        ).points
        assert [p.id for p in res.points] == [p.id for p in single]
    assert all(p.payload["parity"] == "odd" for p in batch[1].points)


def test_legacy_search_routes(http: httpx.Client, client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config={"image": models.VectorParams(size=2, distance="Dot")},
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    client.upsert(
        cname,
        [
            models.PointStruct(
                id=i, vector={"image": [float(i), 1.0], "s": models.SparseVector(indices=[i], values=[1.0])}, payload={"i": i}
            )
            for i in range(1, 6)
        ],
    )
    r = http.post(f"/collections/{cname}/points/search", json={"vector": {"name": "image", "vector": [1, 0]}, "limit": 2})
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert isinstance(res, list)
    assert [(p["id"], p["score"]) for p in res] == [(5, 5.0), (4, 4.0)]
    assert "payload" not in res[0] or res[0]["payload"] is None  # with_payload defaults to false
    r = http.post(
        f"/collections/{cname}/points/search",
        json={
            "vector": {"name": "image", "vector": [1, 0]},
            "top": 3,
            "offset": 1,
            "with_payload": True,
            "with_vector": True,
            "filter": {"must": [{"key": "i", "range": {"lt": 5}}]},
            "score_threshold": 1.5,
        },
    )
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert [p["id"] for p in res] == [3, 2]
    assert res[0]["payload"] == {"i": 3}
    assert res[0]["vector"]["image"] == [3.0, 1.0]
    r = http.post(
        f"/collections/{cname}/points/search",
        json={"vector": {"name": "s", "vector": {"indices": [2, 3], "values": [1.0, 2.0]}}, "limit": 5},
    )
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["result"]] == [3, 2]
    r = http.post(
        f"/collections/{cname}/points/search/batch",
        json={
            "searches": [
                {"vector": {"name": "image", "vector": [1, 0]}, "limit": 1},
                {"vector": {"name": "image", "vector": [-1, 0]}, "limit": 2},
            ]
        },
    )
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert [[p["id"] for p in row] for row in res] == [[5], [1, 2]]
    # a plain vector on a collection with an unnamed vector
    other = unique_name("legacy_plain")
    client.create_collection(other, vectors_config=models.VectorParams(size=2, distance="Euclid"))
    client.upsert(other, [models.PointStruct(id=1, vector=[0.0, 0.0]), models.PointStruct(id=2, vector=[3.0, 4.0])])
    r = http.post(f"/collections/{other}/points/search", json={"vector": [3, 4], "limit": 2})
    assert r.status_code == 200, r.text
    assert [(p["id"], p["score"]) for p in r.json()["result"]] == [(2, 0.0), (1, 5.0)]
    # limit is required in the legacy API
    r = http.post(f"/collections/{other}/points/search", json={"vector": [3, 4]})
    assert 400 <= r.status_code < 500


def test_query_wire_forms(http: httpx.Client, client: QdrantClient, cname):
    """Bare VectorInput (as sent in prefetch) and the `nearest` wrapper both work top-level."""
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Dot"))
    client.upsert(cname, [models.PointStruct(id=i, vector=[float(i), 0.0]) for i in range(1, 4)])
    for q in ([1, 0], {"nearest": [1, 0]}):
        r = http.post(f"/collections/{cname}/points/query", json={"query": q, "limit": 2})
        assert r.status_code == 200, r.text
        assert [p["id"] for p in r.json()["result"]["points"]] == [3, 2]
    r = http.post(f"/collections/{cname}/points/query", json={"query": 3, "limit": 2})
    assert [p["id"] for p in r.json()["result"]["points"]] == [2, 1]
    # the server default for with_payload is false
    r = http.post(f"/collections/{cname}/points/query", json={"query": [1, 0], "limit": 1})
    p = r.json()["result"]["points"][0]
    assert p.get("payload") is None and isinstance(p["version"], int)


def test_random_queries_match_local_mode(client: QdrantClient, cname):
    """A quick cross-check of nearest queries with the client's local mode (the oracle)."""
    local = QdrantClient(":memory:")
    rnd = random.Random(3)
    for dist in models.Distance:
        name = f"{cname}_{dist.value.lower()}"
        for c in (client, local):
            c.create_collection(name, vectors_config=models.VectorParams(size=4, distance=dist))
        pts = [
            models.PointStruct(id=i, vector=[rnd.uniform(-1, 1) for _ in range(4)], payload={"g": rnd.randint(0, 3)})
            for i in range(40)
        ]
        for c in (client, local):
            c.upsert(name, pts)
        for _ in range(10):
            q = [rnd.uniform(-1, 1) for _ in range(4)]
            flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=rnd.randint(0, 3)))])
            a = client.query_points(name, query=q, query_filter=flt, limit=7).points
            b = local.query_points(name, query=q, query_filter=flt, limit=7).points
            assert [p.id for p in a] == [p.id for p in b], (dist, q)
            assert [p.score for p in a] == pytest.approx([p.score for p in b], abs=1e-5)
    local.close()
