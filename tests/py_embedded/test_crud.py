"""Collections and points: create / list / drop, upsert, get, delete, scroll, count, payload
edits, payload indexes — on an in-memory database."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

import azimuth


def test_collection_lifecycle(db: azimuth.Database) -> None:
    assert db.list_collections() == []
    a = db.create_collection("a", dim=4)
    b = db.create_collection("b", dim=2, metric="dot", m=8, ef_construct=64)
    assert (a.name, a.dim, a.metric) == ("a", 4, "cosine")
    assert (b.dim, b.metric) == (2, "dot")
    assert db.list_collections() == ["a", "b"]
    assert "a" in db and "zzz" not in db
    assert db.get_collection("b").dim == 2
    assert repr(a) == 'Collection("a", dim=4, metric="cosine")'

    with pytest.raises(azimuth.AlreadyExists):
        db.create_collection("a", dim=4)
    assert db.drop_collection("a") is True
    assert db.list_collections() == ["b"]
    with pytest.raises(azimuth.NotFound):
        db.drop_collection("a")
    assert db.drop_collection("a", missing_ok=True) is False
    with pytest.raises(KeyError):
        db.get_collection("a")
    # A handle to a dropped collection reports it rather than resurrecting it.
    with pytest.raises(azimuth.NotFound):
        a.count()


@pytest.mark.parametrize(
    "name,want",
    [("cosine", "cosine"), ("Dot", "dot"), ("euclid", "euclid"), ("l2", "euclid"), ("manhattan", "manhattan")],
)
def test_metric_names(db: azimuth.Database, name: str, want: str) -> None:
    assert db.create_collection("c", dim=3, metric=name).metric == want


def test_get_or_create(db: azimuth.Database) -> None:
    c = db.get_or_create_collection("c", dim=3, metric="euclid")
    c.upsert([1], [[1, 2, 3]])
    again = db.get_or_create_collection("c", dim=3, metric="euclid")
    assert len(again) == 1
    with pytest.raises(azimuth.InvalidInput, match="dim=3"):
        db.get_or_create_collection("c", dim=4, metric="euclid")


def test_upsert_get_delete_roundtrip(db: azimuth.Database, rng: np.random.Generator) -> None:
    c = db.create_collection("c", dim=8, metric="euclid")
    vectors = rng.standard_normal((50, 8)).astype(np.float32)
    c.upsert(list(range(50)), vectors, [{"i": i, "even": i % 2 == 0} for i in range(50)])
    assert len(c) == 50 and c.count() == 50

    r = c.get(7, with_vectors=True)
    assert r is not None and r.id == 7 and r.payload == {"i": 7, "even": False}
    np.testing.assert_array_equal(r.vector, vectors[7])
    assert r.vector.dtype == np.float32

    got = c.get([3, 999, 1, 3])
    assert [x.id for x in got] == [3, 1]  # order asked, missing and repeated left out
    assert c.get(999) is None
    assert c.get([5], with_payload=False)[0].payload is None
    assert c.get([5], with_payload=["i"])[0].payload == {"i": 5}
    assert 5 in c and 999 not in c

    # Replacing a point replaces vector and payload.
    c.upsert([7], np.ones(8, dtype=np.float32), [{"new": True}])
    r = c.get(7, with_vectors=True)
    assert r.payload == {"new": True}
    np.testing.assert_array_equal(r.vector, np.ones(8))
    assert len(c) == 50

    c.delete([1, 2, 3, 12345])
    assert len(c) == 47 and c.get([1, 2, 3]) == []
    c.delete(filter={"must": [{"key": "even", "match": {"value": True}}]})
    assert all(not r.payload.get("even", False) for r in c.scroll(limit=100)[0])
    assert c.count() == 47 - 24  # the 25 evens of 0..49 less 2, deleted before


def test_id_kinds(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2, metric="dot")
    u = uuid.UUID("6f1b2c4e-1111-2222-3333-444455556666")
    ids = [0, 2**64 - 1, u, "0A7C0B4A-5D3E-4F1A-9C2B-8D7E6F5A4B3C", "doc-1", "12", np.uint64(5), np.int32(6)]
    c.upsert(ids, np.arange(16, dtype=np.float32).reshape(8, 2))
    got = {r.id for r in c.scroll(limit=100)[0]}
    assert got == {
        0,
        2**64 - 1,
        5,
        6,
        str(u),
        "0a7c0b4a-5d3e-4f1a-9c2b-8d7e6f5a4b3c",  # UUID strings are UUID ids, read back canonical
        "doc-1",
        "12",  # a digit string is a string id, not the integer 12
    }
    assert c.get(u).id == str(u)
    assert c.get(str(u).upper()).id == str(u)
    assert c.get(12) is None and c.get("12").id == "12"
    # Scroll order: integers, then UUIDs, then strings.
    order = [r.id for r in c.scroll(limit=100)[0]]
    assert order[:4] == [0, 5, 6, 2**64 - 1]
    assert order[-2:] == ["12", "doc-1"]


def test_numpy_id_array(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2)
    c.upsert(np.arange(10, 20, dtype=np.int64), np.ones((10, 2)))
    c.upsert(np.arange(20, 25, dtype=np.uint64), np.ones((5, 2)))
    assert c.count() == 15
    assert [r.id for r in c.get(np.array([10, 24]))] == [10, 24]


def test_single_point_and_empty_upsert(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=3)
    c.upsert("one", [1.0, 2.0, 3.0], {"a": 1})  # one id, one 1-D vector, one dict
    assert c.get("one").payload == {"a": 1}
    c.upsert([], np.empty((0, 3), dtype=np.float32))
    c.upsert([], [])
    assert len(c) == 1


def test_payload_values_roundtrip(db: azimuth.Database) -> None:
    import datetime

    c = db.create_collection("c", dim=1)
    payload = {
        "str": "héllo ✓",
        "int": -(2**63),
        "big": 2**64 - 1,
        "float": 0.1,
        "bool": True,
        "none": None,
        "list": [1, "two", 3.5, [False]],
        "tuple": (1, 2),
        "nested": {"a": {"b": {"c": []}}},
        "np_float": np.float32(0.5),
        "np_int": np.int16(-3),
        "np_array": np.array([1, 2, 3]),
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 1, 2),
    }
    c.upsert([1], [[0.0]], [payload])
    got = c.get(1).payload
    assert got == {
        **payload,
        "tuple": [1, 2],
        "np_float": 0.5,
        "np_int": -3,
        "np_array": [1, 2, 3],
        "when": "2026-01-02T03:04:05+00:00",
        "day": "2026-01-02",
    }
    assert type(got["big"]) is int and type(got["float"]) is float and type(got["bool"]) is bool


def test_scroll_pages(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2)
    c.upsert(list(range(25)), np.ones((25, 2)), [{"n": i} for i in range(25)])
    seen, offset = [], None
    while True:
        page, offset = c.scroll(limit=10, offset=offset)
        seen += [r.id for r in page]
        if offset is None:
            break
    assert seen == list(range(25))
    page, nxt = c.scroll(filter={"must": [{"key": "n", "range": {"gte": 20}}]}, limit=3)
    assert [r.id for r in page] == [20, 21, 22] and nxt == 23

    c.create_payload_index("n", "integer")
    page, _ = c.scroll(limit=3, order_by={"key": "n", "direction": "desc"})
    assert [r.id for r in page] == [24, 23, 22]
    page, _ = c.scroll(limit=2, order_by="n")
    assert [r.id for r in page] == [0, 1]


def test_payload_edits(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=2)
    c.upsert([1, 2, 3], np.ones((3, 2)), [{"a": 1, "t": "x"}, {"a": 2, "t": "y"}, {"a": 3, "t": "x"}])

    c.set_payload({"b": True}, ids=[1, 2])
    assert c.get(1).payload == {"a": 1, "t": "x", "b": True}
    c.set_payload({"deep": 1}, ids=[1], key="obj")
    assert c.get(1).payload["obj"] == {"deep": 1}
    c.set_payload({"flag": "x"}, filter={"must": [{"key": "t", "match": {"value": "x"}}]})
    assert [c.get(i).payload.get("flag") for i in (1, 2, 3)] == ["x", None, "x"]

    c.overwrite_payload({"only": 1}, ids=[2])
    assert c.get(2).payload == {"only": 1}
    c.delete_payload(["a", "obj"], ids=[1])
    assert c.get(1).payload == {"t": "x", "b": True, "flag": "x"}
    c.clear_payload(filter={"must": [{"key": "t", "match": {"value": "x"}}]})
    assert c.get(3).payload == {}

    # A listed id that does not exist: NotFound, after the existing ones were edited.
    with pytest.raises(azimuth.NotFound, match="42"):
        c.set_payload({"z": 1}, ids=[2, 42])
    assert c.get(2).payload == {"only": 1, "z": 1}


def test_payload_index_does_not_change_results(db: azimuth.Database, rng: np.random.Generator) -> None:
    c = db.create_collection("c", dim=4)
    n = 300
    c.upsert(list(range(n)), rng.standard_normal((n, 4)), [{"k": f"v{i % 7}", "x": int(i)} for i in range(n)])
    f = {"must": [{"key": "k", "match": {"value": "v3"}}, {"key": "x", "range": {"lt": 200}}]}
    q = rng.standard_normal(4)
    before = ([h.id for h in c.search(q, k=20, filter=f)], c.count(f))
    c.create_payload_index("k", "keyword")
    c.create_payload_index("x", {"type": "integer", "range": True})
    assert c.info()["payload_schema"] == {"k": "keyword", "x": "integer"}
    assert ([h.id for h in c.search(q, k=20, filter=f)], c.count(f)) == before
    c.drop_payload_index("k")
    assert c.info()["payload_schema"] == {"x": "integer"}


def test_info(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=3, metric="manhattan")
    c.upsert([1, 2], np.zeros((2, 3)))
    info = c.info()
    assert info["name"] == "c" and info["dim"] == 3 and info["metric"] == "manhattan"
    assert info["points_count"] == 2
