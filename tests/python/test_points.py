"""Point writes and reads (upsert, upload, retrieve, delete, payload and vector ops, batch,
scroll, count) through the unchanged `qdrant-client`."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name

U1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
U2 = "00000000-0000-0000-0000-000000000001"
U3 = "ffffffff-0000-0000-0000-000000000000"


def mk(client: QdrantClient, name: str, size: int = 2, distance=models.Distance.DOT, **kw) -> str:
    client.create_collection(name, vectors_config=models.VectorParams(size=size, distance=distance), **kw)
    return name


def payloads(client, name, ids):
    return {r.id: r.payload for r in client.retrieve(name, ids)}


def all_points(client, name, **kw):
    out, offset = [], None
    while True:
        pts, offset = client.scroll(name, limit=100, offset=offset, **kw)
        out += pts
        if offset is None:
            return out


def test_upsert_list_and_retrieve(client: QdrantClient, cname):
    mk(client, cname, 4, models.Distance.COSINE)
    r = client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[3.0, 4.0, 0.0, 0.0], payload={"city": "Berlin", "n": 1}),
            models.PointStruct(id=U1, vector=[0.0, 0.0, 1.0, 0.0], payload={"nested": {"a": [1, 2]}}),
            models.PointStruct(id=2, vector=[1.0, 1.0, 1.0, 1.0]),
        ],
    )
    assert r.status == models.UpdateStatus.COMPLETED
    recs = client.retrieve(cname, [1, U1, 2, 999], with_vectors=True)
    by_id = {x.id: x for x in recs}
    assert set(by_id) == {1, U1, 2}  # missing ids are silently left out
    assert by_id[1].payload == {"city": "Berlin", "n": 1}
    assert by_id[1].vector == pytest.approx([0.6, 0.8, 0.0, 0.0], abs=1e-6)  # Cosine stores normalised
    assert by_id[2].vector == pytest.approx([0.5, 0.5, 0.5, 0.5], abs=1e-6)
    assert by_id[U1].payload == {"nested": {"a": [1, 2]}}
    assert by_id[2].payload == {}
    # defaults: payload yes, vector no
    rec = client.retrieve(cname, [1])[0]
    assert rec.vector is None and rec.payload == {"city": "Berlin", "n": 1}
    rec = client.retrieve(cname, [1], with_payload=False)[0]
    assert rec.payload is None
    # include/exclude selectors
    assert client.retrieve(cname, [1], with_payload=["city"])[0].payload == {"city": "Berlin"}
    assert client.retrieve(cname, [1], with_payload=models.PayloadSelectorExclude(exclude=["city"]))[0].payload == {
        "n": 1
    }


def test_payload_values_round_trip_exactly(client: QdrantClient, cname):
    """JSON numbers must come back bit-identical (shortest round-trip form), as in Qdrant."""
    import random

    mk(client, cname)
    rnd = random.Random(1)
    values = [rnd.random() for _ in range(300)] + [
        0.1, 1e-300, 1.7976931348623157e308, 5e-324, -0.0, 2**53 + 1, -(2**63), 2**64 - 1, 123456789.123456789,
    ]
    client.upsert(cname, [models.PointStruct(id=i, vector=[1.0, 1.0], payload={"x": v}) for i, v in enumerate(values)])
    got = {r.id: r.payload["x"] for r in all_points(client, cname)}
    bad = [(i, values[i], got[i]) for i in range(len(values)) if got[i] != values[i] or type(got[i]) is not type(values[i])]
    assert not bad, f"{len(bad)} values changed, e.g. (id, sent, returned): {bad[:5]}"
    # strings, unicode, nesting, empty containers, null
    odd = {"s": "ünïcödé \u2603 \"q\" \\ \n", "e": {}, "l": [], "n": None, "deep": [[{"a": [1, {"b": None}]}]]}
    client.upsert(cname, [models.PointStruct(id=10_000, vector=[1.0, 1.0], payload=odd)])
    assert client.retrieve(cname, [10_000])[0].payload == odd


def test_upsert_replaces_whole_point(client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(cname, [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"a": 1, "b": 2})])
    client.upsert(cname, [models.PointStruct(id=1, vector=[3.0, 4.0])])
    rec = client.retrieve(cname, [1], with_vectors=True)[0]
    assert rec.payload == {}
    assert rec.vector == [3.0, 4.0]  # Dot stores raw


def test_uuid_spellings_are_normalised(client: QdrantClient, cname):
    mk(client, cname)
    canonical = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
    for i, spelling in enumerate(
        [
            canonical.upper(),
            canonical.replace("-", ""),
            "{" + canonical + "}",
            "urn:uuid:" + canonical,
        ]
    ):
        client.upsert(cname, [models.PointStruct(id=spelling, vector=[1.0, float(i)], payload={"i": i})])
        recs = client.retrieve(cname, [canonical])
        assert [r.id for r in recs] == [canonical], spelling
        assert recs[0].payload == {"i": i}
    assert client.count(cname).count == 1
    assert client.retrieve(cname, [canonical.upper()])[0].id == canonical


def test_upsert_batch_form(client: QdrantClient, cname):
    mk(client, cname, 2, models.Distance.EUCLID)
    client.upsert(
        cname,
        models.Batch(ids=[1, 2, U1], vectors=[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], payloads=[{"a": 1}, {}, {"a": 3}]),
    )
    recs = {r.id: r for r in client.retrieve(cname, [1, 2, U1], with_vectors=True)}
    assert recs[1].payload == {"a": 1} and recs[2].payload == {} and recs[U1].payload == {"a": 3}
    assert recs[2].vector == pytest.approx([0.3, 0.4])
    # batch without payloads
    client.upsert(cname, models.Batch(ids=[5, 6], vectors=[[1.0, 1.0], [2.0, 2.0]]))
    assert client.count(cname).count == 5


def test_batch_null_payload_entry(http: httpx.Client, client: QdrantClient, cname):
    mk(client, cname)
    r = http.put(
        f"/collections/{cname}/points?wait=true",
        json={"batch": {"ids": [1, 2], "vectors": [[1, 0], [0, 1]], "payloads": [{"a": 1}, None]}},
    )
    assert r.status_code == 200, r.text
    assert payloads(client, cname, [1, 2]) == {1: {"a": 1}, 2: {}}


def test_batch_named_and_sparse(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config={"image": models.VectorParams(size=2, distance="Dot")},
        sparse_vectors_config={"bm25": models.SparseVectorParams()},
    )
    client.upsert(
        cname,
        models.Batch(
            ids=[1, 2],
            vectors={
                "image": [[0.1, 0.2], [0.3, 0.4]],
                "bm25": [
                    models.SparseVector(indices=[7, 1], values=[0.2, 0.5]),
                    models.SparseVector(indices=[1], values=[1.0]),
                ],
            },
        ),
    )
    rec = client.retrieve(cname, [1], with_vectors=True)[0]
    assert rec.vector["image"] == pytest.approx([0.1, 0.2])
    sv = rec.vector["bm25"]
    assert sv.indices == [1, 7]  # the server sorts sparse indices
    assert sv.values == pytest.approx([0.5, 0.2])
    # with_vectors by name
    rec = client.retrieve(cname, [1], with_vectors=["image"])[0]
    assert set(rec.vector) == {"image"}


def test_update_mode_and_update_filter(client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[1.0, 0.0], payload={"v": 1}),
            models.PointStruct(id=2, vector=[1.0, 0.0], payload={"v": 10}),
        ],
    )
    # insert_only: existing points untouched, new ones inserted
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[0.0, 1.0], payload={"v": 100}),
            models.PointStruct(id=3, vector=[0.0, 1.0], payload={"v": 3}),
        ],
        update_mode=models.UpdateMode.INSERT_ONLY,
    )
    assert payloads(client, cname, [1, 3]) == {1: {"v": 1}, 3: {"v": 3}}
    # update_only: unknown ids skipped
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[0.0, 1.0], payload={"v": 2}),
            models.PointStruct(id=4, vector=[0.0, 1.0], payload={"v": 4}),
        ],
        update_mode=models.UpdateMode.UPDATE_ONLY,
    )
    assert payloads(client, cname, [1, 4]) == {1: {"v": 2}}
    # update_filter: existing points updated only when they match; new points always inserted
    flt = models.Filter(must=[models.FieldCondition(key="v", range=models.Range(lt=5))])
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[1.0, 1.0], payload={"v": 5}),
            models.PointStruct(id=2, vector=[1.0, 1.0], payload={"v": 11}),
            models.PointStruct(id=5, vector=[1.0, 1.0], payload={"v": 50}),
        ],
        update_filter=flt,
    )
    assert payloads(client, cname, [1, 2, 5]) == {1: {"v": 5}, 2: {"v": 10}, 5: {"v": 50}}
    # upsert (explicit default)
    client.upsert(cname, [models.PointStruct(id=6, vector=[1.0, 1.0])], update_mode=models.UpdateMode.UPSERT)
    assert client.count(cname).count == 5


def test_upload_points_and_collection(client: QdrantClient, cname):
    mk(client, cname, 3, models.Distance.COSINE)
    pts = [models.PointStruct(id=i, vector=[1.0, float(i), 0.5], payload={"i": i}) for i in range(1, 201)]
    client.upload_points(cname, pts, batch_size=32, wait=True)
    assert client.count(cname).count == 200
    # upload_collection with wait=False (its default): ids generated on the client (uuid4)
    other = unique_name("upcol")
    mk(client, other, 3, models.Distance.DOT)
    vectors = [[float(i), 1.0, 2.0] for i in range(500)]
    client.upload_collection(other, vectors=vectors, payload=({"i": i} for i in range(500)), batch_size=64)
    deadline = time.time() + 20
    while client.count(other).count < 500 and time.time() < deadline:
        time.sleep(0.05)
    assert client.count(other).count == 500
    recs = all_points(client, other)
    assert sorted(r.payload["i"] for r in recs) == list(range(500))
    assert all(isinstance(r.id, str) and uuid.UUID(r.id) for r in recs)
    # explicit ids + numpy vectors
    import numpy as np

    third = unique_name("upnp")
    mk(client, third, 3, models.Distance.EUCLID)
    client.upload_collection(third, vectors=np.ones((70, 3), dtype=np.float32), ids=range(70), wait=True)
    assert client.count(third).count == 70


def test_wait_false_returns_acknowledged(http: httpx.Client, client: QdrantClient, cname):
    mk(client, cname)
    r = http.put(f"/collections/{cname}/points?wait=false", json={"points": [{"id": 1, "vector": [1, 2]}]})
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["status"] in ("acknowledged", "completed")
    r = http.put(f"/collections/{cname}/points?wait=true", json={"points": [{"id": 2, "vector": [1, 2]}]})
    assert r.json()["result"]["status"] == "completed"
    assert isinstance(r.json()["result"].get("operation_id", 0), int)
    # the client's upsert(wait=False) must not raise
    res = client.upsert(cname, [models.PointStruct(id=3, vector=[1.0, 1.0])], wait=False)
    assert res.status in (models.UpdateStatus.ACKNOWLEDGED, models.UpdateStatus.COMPLETED)


def test_get_single_point(http: httpx.Client, client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(cname, [models.PointStruct(id=U1, vector=[1.0, 2.0], payload={"a": 1})])
    r = http.get(f"/collections/{cname}/points/{U1}")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["id"] == U1
    assert r.json()["result"]["payload"] == {"a": 1}
    rec = client.http.points_api.get_point(cname, U1).result
    assert rec.id == U1
    r = http.get(f"/collections/{cname}/points/12345")
    assert r.status_code == 404
    assert "error" in r.json()["status"]


def test_delete_by_ids_and_filter(client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(
        cname,
        [models.PointStruct(id=i, vector=[1.0, float(i)], payload={"g": i % 3}) for i in range(1, 13)]
        + [models.PointStruct(id=U1, vector=[0.0, 0.0], payload={"g": 0})],
    )
    r = client.delete(cname, [1, 2, 999, U2])  # missing ids ignored
    assert r.status == models.UpdateStatus.COMPLETED
    assert client.count(cname).count == 11
    client.delete(cname, models.PointIdsList(points=[U1.upper()]))
    assert client.count(cname).count == 10
    client.delete(
        cname, models.FilterSelector(filter=models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=0))]))
    )
    assert sorted(p.id for p in all_points(client, cname)) == [4, 5, 7, 8, 10, 11]
    # a bare Filter works too
    client.delete(cname, models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=1))]))
    assert sorted(p.id for p in all_points(client, cname)) == [5, 8, 11]


def test_payload_operations(client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[1.0, 0.0], payload={"a": 1, "b": {"c": 2}, "arr": [{"x": 1}, {"x": 2}]}),
            models.PointStruct(id=2, vector=[1.0, 0.0], payload={"a": 2}),
            models.PointStruct(id=3, vector=[1.0, 0.0], payload={"a": 3, "keep": True}),
        ],
    )
    # set_payload merges
    client.set_payload(cname, {"new": "v", "a": 10}, points=[1, 2])
    p = payloads(client, cname, [1, 2])
    assert p[1] == {"a": 10, "b": {"c": 2}, "arr": [{"x": 1}, {"x": 2}], "new": "v"}
    assert p[2] == {"a": 10, "new": "v"}
    # set_payload with key merges into the object at that path
    client.set_payload(cname, {"d": 3}, points=[1], key="b")
    assert payloads(client, cname, [1])[1]["b"] == {"c": 2, "d": 3}
    # ... creating it if needed
    client.set_payload(cname, {"z": 1}, points=[2], key="deep.er")
    assert payloads(client, cname, [2])[2]["deep"] == {"er": {"z": 1}}
    # ... and `arr[]` fans out over the array elements
    client.set_payload(cname, {"y": 0}, points=[1], key="arr[]")
    assert payloads(client, cname, [1])[1]["arr"] == [{"x": 1, "y": 0}, {"x": 2, "y": 0}]
    # set_payload by filter
    client.set_payload(
        cname, {"flag": True}, points=models.Filter(must=[models.FieldCondition(key="keep", match=models.MatchValue(value=True))])
    )
    assert payloads(client, cname, [3])[3] == {"a": 3, "keep": True, "flag": True}
    # overwrite_payload replaces everything
    client.overwrite_payload(cname, {"only": 1}, points=[1])
    assert payloads(client, cname, [1])[1] == {"only": 1}
    # delete_payload by keys, including a nested path
    client.set_payload(cname, {"n": {"m": 1, "k": 2}}, points=[2])
    client.delete_payload(cname, ["a", "n.m", "missing"], points=[2])
    assert payloads(client, cname, [2])[2] == {"new": "v", "deep": {"er": {"z": 1}}, "n": {"k": 2}}
    # clear_payload
    client.clear_payload(cname, [2, 3])
    assert payloads(client, cname, [2, 3]) == {2: {}, 3: {}}
    client.clear_payload(cname, models.FilterSelector(filter=models.Filter(must=[models.HasIdCondition(has_id=[1])])))
    assert payloads(client, cname, [1]) == {1: {}}


MISSING_POINT_OPS = {
    "set_payload": lambda c, n, ids: c.set_payload(n, {"x": 1}, points=ids),
    "overwrite_payload": lambda c, n, ids: c.overwrite_payload(n, {"x": 1}, points=ids),
    "delete_payload": lambda c, n, ids: c.delete_payload(n, ["a"], points=ids),
    "clear_payload": lambda c, n, ids: c.clear_payload(n, ids),
    "update_vectors": lambda c, n, ids: c.update_vectors(n, [models.PointVectors(id=i, vector=[2.0, 2.0]) for i in ids]),
    "delete_vectors": lambda c, n, ids: c.delete_vectors(n, [""], points=ids),
}


@pytest.mark.parametrize("op", sorted(MISSING_POINT_OPS))
def test_payload_and_vector_ops_on_missing_point_are_404(client: QdrantClient, op):
    """Qdrant answers 404 `No point with id … found` when a listed point does not exist;
    the other listed points are still updated."""
    name = mk(client, unique_name("missing_" + op))
    client.upsert(name, [models.PointStruct(id=1, vector=[1.0, 0.0], payload={"a": 1})])
    before = client.retrieve(name, [1], with_vectors=True)[0]
    with pytest.raises(UnexpectedResponse) as e:
        MISSING_POINT_OPS[op](client, name, [1, 424242])
    assert e.value.status_code == 404, e.value
    assert "424242" in e.value.content.decode()
    after = client.retrieve(name, [1], with_vectors=True)[0]
    assert (after.payload, after.vector) != (before.payload, before.vector), "point 1 should still be updated"


def test_update_and_delete_vectors(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config={
            "image": models.VectorParams(size=2, distance="Dot"),
            "text": models.VectorParams(size=3, distance="Cosine"),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector={"image": [1.0, 2.0], "text": [1.0, 0.0, 0.0]}, payload={"v": 1}),
            models.PointStruct(id=2, vector={"image": [3.0, 4.0]}, payload={"v": 9}),
        ],
    )
    client.update_vectors(
        cname,
        [
            models.PointVectors(id=1, vector={"image": [5.0, 6.0]}),
            models.PointVectors(id=2, vector={"text": [0.0, 2.0, 0.0], "s": models.SparseVector(indices=[3], values=[1.0])}),
        ],
    )
    recs = {r.id: r for r in client.retrieve(cname, [1, 2], with_vectors=True)}
    assert recs[1].vector["image"] == [5.0, 6.0]
    assert recs[1].vector["text"] == pytest.approx([1.0, 0.0, 0.0])  # untouched
    assert recs[2].vector["text"] == pytest.approx([0.0, 1.0, 0.0])  # normalised
    assert recs[2].vector["image"] == [3.0, 4.0]
    assert recs[2].vector["s"].indices == [3]
    assert recs[1].payload == {"v": 1}
    # update_filter: only matching points are updated
    client.update_vectors(
        cname,
        [models.PointVectors(id=1, vector={"image": [0.0, 0.0]}), models.PointVectors(id=2, vector={"image": [0.0, 0.0]})],
        update_filter=models.Filter(must=[models.FieldCondition(key="v", range=models.Range(gt=5))]),
    )
    recs = {r.id: r for r in client.retrieve(cname, [1, 2], with_vectors=True)}
    assert recs[1].vector["image"] == [5.0, 6.0] and recs[2].vector["image"] == [0.0, 0.0]
    # delete_vectors
    client.delete_vectors(cname, ["text"], points=[1, 2])
    recs = {r.id: r for r in client.retrieve(cname, [1, 2], with_vectors=True)}
    assert "text" not in recs[1].vector and "text" not in recs[2].vector
    assert "image" in recs[1].vector
    has_text = models.Filter(must=[models.HasVectorCondition(has_vector="text")])
    assert client.count(cname, count_filter=has_text).count == 0
    assert client.count(cname, count_filter=models.Filter(must=[models.HasVectorCondition(has_vector="s")])).count == 1
    client.delete_vectors(cname, ["s"], points=models.Filter(must=[models.HasIdCondition(has_id=[2])]))
    assert client.count(cname, count_filter=models.Filter(must=[models.HasVectorCondition(has_vector="s")])).count == 0
    assert client.count(cname).count == 2  # points stay


def test_unnamed_vector_update_and_delete(client: QdrantClient, cname):
    mk(client, cname, 2, models.Distance.DOT)
    client.upsert(cname, [models.PointStruct(id=1, vector=[1.0, 2.0])])
    client.update_vectors(cname, [models.PointVectors(id=1, vector=[7.0, 8.0])])
    assert client.retrieve(cname, [1], with_vectors=True)[0].vector == [7.0, 8.0]
    client.delete_vectors(cname, [""], points=[1])
    assert client.count(cname, count_filter=models.Filter(must=[models.HasVectorCondition(has_vector="")])).count == 0
    assert client.count(cname).count == 1


def test_batch_update_points(client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(cname, [models.PointStruct(id=2, vector=[0.0, 1.0])])
    ops = [
        models.UpsertOperation(upsert=models.PointsList(points=[models.PointStruct(id=1, vector=[1.0, 2.0], payload={})])),
        models.UpsertOperation(upsert=models.PointsBatch(batch=models.Batch(ids=[5], vectors=[[1.0, 2.0]]))),
        models.DeleteOperation(delete=models.PointIdsList(points=[2])),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"x": 1}, points=[1], key="nested")),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"y": 2}, points=[5])),
        models.OverwritePayloadOperation(
            overwrite_payload=models.SetPayload(payload={"x": 1, "z": 3}, filter=models.Filter(must=[models.HasIdCondition(has_id=[1])]))
        ),
        models.DeletePayloadOperation(delete_payload=models.DeletePayload(keys=["x"], points=[1])),
        models.UpdateVectorsOperation(update_vectors=models.UpdateVectors(points=[models.PointVectors(id=1, vector=[9.0, 9.0])])),
        models.ClearPayloadOperation(clear_payload=models.PointIdsList(points=[5])),
        models.DeleteVectorsOperation(delete_vectors=models.DeleteVectors(points=[5], vector=[""])),
    ]
    res = client.batch_update_points(cname, ops)
    assert len(res) == len(ops)
    assert all(r.status == models.UpdateStatus.COMPLETED for r in res)
    recs = {r.id: r for r in client.retrieve(cname, [1, 2, 5], with_vectors=True)}
    assert set(recs) == {1, 5}
    assert recs[1].payload == {"z": 3}
    assert recs[1].vector == [9.0, 9.0]
    assert recs[5].payload == {}
    assert not recs[5].vector


def test_scroll_paging_and_id_order(client: QdrantClient, cname):
    mk(client, cname)
    uuids = sorted(str(uuid.UUID(int=i * 7919 + 12345)) for i in range(5))
    ints = [0, 3, 17, 2**40, 2**63 - 1, 42, 1]
    pts = [models.PointStruct(id=i, vector=[1.0, 1.0], payload={"k": str(i)}) for i in ints]
    pts += [models.PointStruct(id=u, vector=[1.0, 1.0], payload={"k": u}) for u in uuids]
    client.upsert(cname, pts)
    expected = sorted(ints) + uuids  # integer ids first, ascending, then UUIDs
    got, offset, pages = [], None, 0
    while True:
        page, offset = client.scroll(cname, limit=3, offset=offset)
        got += [p.id for p in page]
        pages += 1
        assert all(p.payload == {"k": str(p.id)} for p in page)
        if offset is None:
            break
        assert len(page) == 3
    assert got == expected
    assert pages == 4
    # the offset is inclusive and next_page_offset names the first point of the next page
    page, nxt = client.scroll(cname, limit=2, offset=17)
    assert [p.id for p in page] == [17, 42] and nxt == 2**40
    page, nxt = client.scroll(cname, limit=2, offset=uuids[3])
    assert [p.id for p in page] == uuids[3:] and nxt is None
    # offset that is not a point id: starts at the next one
    page, _ = client.scroll(cname, limit=1, offset=4)
    assert [p.id for p in page] == [17]
    # default limit 10
    page, nxt = client.scroll(cname)
    assert len(page) == 10 and nxt == uuids[3]
    # with vectors, without payload
    page, _ = client.scroll(cname, limit=1, with_payload=False, with_vectors=True)
    assert page[0].payload is None and page[0].vector == [1.0, 1.0]
    # filter
    page, nxt = client.scroll(
        cname, scroll_filter=models.Filter(must=[models.HasIdCondition(has_id=[42, uuids[0], 99])]), limit=10
    )
    assert [p.id for p in page] == [42, uuids[0]] and nxt is None


def test_scroll_order_by(client: QdrantClient, cname):
    mk(client, cname)
    client.create_payload_index(cname, "n", models.PayloadSchemaType.INTEGER)
    client.create_payload_index(cname, "f", models.PayloadSchemaType.FLOAT)
    client.create_payload_index(cname, "ts", models.PayloadSchemaType.DATETIME)
    pts = [
        models.PointStruct(id=1, vector=[1.0, 0.0], payload={"n": 5, "f": 0.5, "ts": "2026-01-03T00:00:00Z"}),
        models.PointStruct(id=2, vector=[1.0, 0.0], payload={"n": 1, "f": -1.5, "ts": "2026-01-01T00:00:00Z"}),
        models.PointStruct(id=3, vector=[1.0, 0.0], payload={"n": 3, "f": 2.5, "ts": "2026-01-02T12:00:00+00:00"}),
        models.PointStruct(id=4, vector=[1.0, 0.0], payload={"n": [2, 9]}),
        models.PointStruct(id=5, vector=[1.0, 0.0], payload={"other": 1}),
    ]
    client.upsert(cname, pts)
    recs, nxt = client.scroll(cname, order_by="n", limit=10)
    assert [r.id for r in recs] == [2, 4, 3, 1, 4]  # each array value is its own row
    assert [r.order_value for r in recs] == [1, 2, 3, 5, 9]
    assert nxt is None
    recs, _ = client.scroll(cname, order_by=models.OrderBy(key="n", direction=models.Direction.DESC), limit=3)
    assert [r.id for r in recs] == [4, 1, 3]
    recs, _ = client.scroll(cname, order_by=models.OrderBy(key="n", direction="desc", start_from=4), limit=10)
    assert [r.order_value for r in recs] == [3, 2, 1]
    recs, _ = client.scroll(cname, order_by=models.OrderBy(key="n", start_from=3), limit=10)
    assert [r.order_value for r in recs] == [3, 5, 9]
    recs, _ = client.scroll(cname, order_by=models.OrderBy(key="f"), limit=10)
    assert [r.id for r in recs] == [2, 1, 3]
    assert [r.order_value for r in recs] == pytest.approx([-1.5, 0.5, 2.5])
    recs, _ = client.scroll(
        cname,
        order_by=models.OrderBy(key="n"),
        scroll_filter=models.Filter(must_not=[models.HasIdCondition(has_id=[4])]),
        limit=10,
    )
    assert [r.id for r in recs] == [2, 3, 1]
    recs, _ = client.scroll(cname, order_by=models.OrderBy(key="ts", direction="desc"), limit=10)
    assert [r.id for r in recs] == [1, 3, 2]
    recs, _ = client.scroll(
        cname, order_by=models.OrderBy(key="ts", start_from="2026-01-02T00:00:00Z"), limit=10
    )
    assert [r.id for r in recs] == [3, 1]
    # order_by without a range index → 400
    with pytest.raises(UnexpectedResponse) as e:
        client.scroll(cname, order_by="other")
    assert e.value.status_code == 400


def test_scroll_order_by_repeated_array_values(client: QdrantClient, cname):
    """A point yields one row per *distinct* value (Qdrant's numeric index is a set of
    (value, point) pairs; local mode dedups the same way)."""
    mk(client, cname)
    client.create_payload_index(cname, "o", models.PayloadSchemaType.FLOAT)
    client.create_payload_index(cname, "n", models.PayloadSchemaType.INTEGER)
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[1.0, 0.0], payload={"o": [3, 3], "n": [2, 2, 5]}),
            models.PointStruct(id=2, vector=[1.0, 0.0], payload={"o": [6, 6.0, 1.5]}),
        ],
    )
    recs, _ = client.scroll(cname, order_by="o", limit=10)
    assert [(r.id, r.order_value) for r in recs] == [(2, 1.5), (1, 3), (2, 6)]
    recs, _ = client.scroll(cname, order_by=models.OrderBy(key="n", direction="desc"), limit=10)
    assert [(r.id, r.order_value) for r in recs] == [(1, 5), (1, 2)]


def test_count(client: QdrantClient, cname):
    mk(client, cname)
    client.upsert(cname, [models.PointStruct(id=i, vector=[1.0, 1.0], payload={"i": i}) for i in range(25)])
    assert client.count(cname).count == 25
    assert client.count(cname, exact=False).count == 25
    flt = models.Filter(must=[models.FieldCondition(key="i", range=models.Range(gte=10, lt=20))])
    assert client.count(cname, count_filter=flt).count == 10
    assert client.get_collection(cname).points_count == 25


def test_wrong_dimension_and_vector_name(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config={"a": models.VectorParams(size=3, distance="Dot")},
    )
    for call in (
        lambda: client.upsert(cname, [models.PointStruct(id=1, vector={"a": [1.0, 2.0]})]),
        lambda: client.upsert(cname, [models.PointStruct(id=1, vector={"nope": [1.0, 2.0, 3.0]})]),
        lambda: client.upsert(cname, models.Batch(ids=[1], vectors={"a": [[1.0, 2.0, 3.0, 4.0]]})),
        lambda: client.query_points(cname, query=[1.0, 2.0], using="a"),
        lambda: client.query_points(cname, query=[1.0, 2.0, 3.0], using="nope"),
    ):
        with pytest.raises(UnexpectedResponse) as e:
            call()
        assert e.value.status_code == 400, e.value
        assert isinstance(e.value.structured()["status"]["error"], str)
    # the whole request is rejected: nothing from a partially valid batch is applied
    with pytest.raises(UnexpectedResponse):
        client.upsert(
            cname,
            [
                models.PointStruct(id=10, vector={"a": [1.0, 2.0, 3.0]}),
                models.PointStruct(id=11, vector={"a": [1.0]}),
            ],
        )
    assert client.count(cname).count == 0
    other = unique_name("dim")
    mk(client, other, 4)
    with pytest.raises(UnexpectedResponse) as e:
        client.upsert(other, [models.PointStruct(id=1, vector=[1.0, 2.0])])
    assert e.value.status_code == 400
    assert "dim" in e.value.content.decode().lower()


def test_async_client_points(server):
    async def main():
        c = AsyncQdrantClient(url=server.url)
        name = unique_name("async_pts")
        try:
            await c.create_collection(name, vectors_config=models.VectorParams(size=2, distance="Dot"))
            await c.upsert(name, [models.PointStruct(id=i, vector=[1.0, float(i)], payload={"i": i}) for i in range(10)])
            await c.upsert(name, models.Batch(ids=[U1], vectors=[[0.0, 0.0]], payloads=[{"i": -1}]))
            assert (await c.count(name)).count == 11
            recs = await c.retrieve(name, [3, U1])
            assert {r.id: r.payload["i"] for r in recs} == {3: 3, U1: -1}
            await c.set_payload(name, {"t": 1}, points=[3])
            await c.overwrite_payload(name, {"o": 1}, points=[4])
            await c.delete_payload(name, ["i"], points=[5])
            await c.clear_payload(name, [6])
            await c.update_vectors(name, [models.PointVectors(id=7, vector=[7.0, 7.0])])
            await c.delete_vectors(name, [""], points=[8])
            await c.delete(name, [9])
            recs = {r.id: r for r in await c.retrieve(name, [3, 4, 5, 6, 7, 8, 9], with_vectors=True)}
            assert recs[3].payload == {"i": 3, "t": 1}
            assert recs[4].payload == {"o": 1}
            assert recs[5].payload == {}
            assert recs[6].payload == {}
            assert recs[7].vector == [7.0, 7.0]
            assert not recs[8].vector
            assert 9 not in recs
            pts, nxt = await c.scroll(name, limit=5)
            assert [p.id for p in pts] == [0, 1, 2, 3, 4] and nxt == 5
            res = await c.batch_update_points(
                name, [models.DeleteOperation(delete=models.PointIdsList(points=[0, 1]))]
            )
            assert len(res) == 1
            assert (await c.count(name)).count == 8
            hits = (await c.query_points(name, query=[0.0, 1.0], limit=3)).points
            assert [h.id for h in hits] == [7, 6, 5]
            assert [h.score for h in hits] == pytest.approx([7.0, 6.0, 5.0])
            batch = await c.query_batch_points(
                name, [models.QueryRequest(query=[0.0, 1.0], limit=1), models.QueryRequest(query=[0.0, -1.0], limit=1)]
            )
            assert [r.points[0].id for r in batch] == [7, U1]
            # upload_points is a plain (blocking) method on the async client too
            c.upload_points(name, [models.PointStruct(id=100 + i, vector=[1.0, 1.0]) for i in range(100)], wait=True)
            assert (await c.count(name)).count == 108
        finally:
            await c.delete_collection(name)
            await c.close()

    asyncio.run(main())


def test_facet(client: QdrantClient, cname):
    """`facet` (delivered after the first version of this suite): counts by value, sorted by count
    descending then value ascending, arrays counted once per distinct value; local mode agrees."""
    import random

    local = QdrantClient(":memory:")
    rnd = random.Random(4)
    pts = []
    for i in range(120):
        payload = {
            "city": rnd.choice(["Berlin", "London", "Paris", "Rome", "Oslo"]),
            "n": rnd.randint(0, 6),
            "tags": rnd.sample(["a", "b", "c", "d"], rnd.randint(0, 3)),
            "flag": rnd.random() < 0.3,
        }
        if rnd.random() < 0.1:
            payload["tags"] = ["a", "a"]
        pts.append(models.PointStruct(id=i, vector=[1.0, float(i)], payload=payload))
    for c in (client, local):
        mk(c, cname)
        c.upsert(cname, pts)
    for field, schema in (("city", "keyword"), ("n", "integer"), ("tags", "keyword"), ("flag", "bool")):
        client.create_payload_index(cname, field, schema)
    flt = models.Filter(must_not=[models.FieldCondition(key="city", match=models.MatchValue(value="Rome"))])
    for key in ("city", "n", "tags", "flag"):
        for kw in ({}, {"limit": 2}, {"facet_filter": flt}, {"exact": True, "limit": 100}):
            got = [(h.value, h.count) for h in client.facet(cname, key, **kw).hits]
            want = [(h.value, h.count) for h in local.facet(cname, key, **kw).hits]
            assert got == want, (key, kw)
    hits = client.facet(cname, "city", limit=100).hits
    assert sum(h.count for h in hits) == 120
    counts = [h.count for h in hits]
    assert counts == sorted(counts, reverse=True)
    local.close()
    with pytest.raises(UnexpectedResponse) as e:  # needs an index
        client.facet(cname, "unindexed")
    assert e.value.status_code == 400
