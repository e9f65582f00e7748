"""Filters as dicts in Qdrant's grammar, through search, count, scroll, delete and payload
edits; random filters against a small reference evaluator in Python."""

from __future__ import annotations

import random

import numpy as np
import pytest

import azimuth

CITIES = ["berlin", "paris", "rome", "oslo"]


def make_payload(i: int, r: random.Random) -> dict:
    p: dict = {"i": i, "city": r.choice(CITIES), "price": round(r.uniform(0, 100), 2)}
    if r.random() < 0.7:
        p["tags"] = r.sample(["a", "b", "c", "d"], r.randint(0, 3))
    if r.random() < 0.2:
        p["price"] = None
    if r.random() < 0.5:
        p["meta"] = {"ok": r.random() < 0.5, "n": r.randint(0, 5)}
    return p


def values(p: dict, key: str) -> list:
    cur = [p]
    for part in key.split("."):
        cur = [x[part] for x in cur if isinstance(x, dict) and part in x]
    out = []
    for v in cur:
        out.extend(v if isinstance(v, list) else [v])
    return out


def cond_holds(c: dict, p: dict, pid: int) -> bool:
    if "has_id" in c:
        return pid in c["has_id"]
    vs = values(p, c["key"])
    if "match" in c:
        m = c["match"]
        if "value" in m:
            return any(v == m["value"] and type(v) is type(m["value"]) for v in vs)
        if "any" in m:
            return any(v in m["any"] for v in vs if v is not None)
        if "except" in m:
            present = [v for v in vs if v is not None]
            return bool(present) and any(v not in m["except"] for v in present)
    if "range" in c:
        nums = [v for v in vs if isinstance(v, (int, float)) and not isinstance(v, bool)]
        rg = c["range"]
        ok = lambda x: all(  # noqa: E731
            [
                "gt" not in rg or x > rg["gt"],
                "gte" not in rg or x >= rg["gte"],
                "lt" not in rg or x < rg["lt"],
                "lte" not in rg or x <= rg["lte"],
            ]
        )
        return any(ok(x) for x in nums)
    if "is_empty" in c:
        return not [v for v in vs if v is not None]
    raise AssertionError(c)


def holds(f: dict, p: dict, pid: int) -> bool:
    def one(x: dict) -> bool:
        return cond_holds(x, p, pid) if "key" in x or "has_id" in x else holds(x, p, pid)

    return (
        all(one(x) for x in f.get("must", []))
        and (not f.get("should") or any(one(x) for x in f["should"]))
        and not any(one(x) for x in f.get("must_not", []))
    )


def random_condition(r: random.Random) -> dict:
    kind = r.randrange(7)
    if kind == 0:
        return {"key": "city", "match": {"value": r.choice(CITIES)}}
    if kind == 1:
        return {"key": "tags", "match": {"any": r.sample(["a", "b", "c", "d", "z"], 2)}}
    if kind == 2:
        lo = r.uniform(0, 80)
        return {"key": "price", "range": {"gte": lo, "lt": lo + r.uniform(5, 40)}}
    if kind == 3:
        return {"key": "meta.n", "range": {"lte": r.randint(0, 5)}}
    if kind == 4:
        return {"key": "meta.ok", "match": {"value": r.random() < 0.5}}
    if kind == 5:
        return {"key": "tags", "is_empty": True}
    return {"has_id": r.sample(range(200), 20)}


def random_filter(r: random.Random, depth: int = 0) -> dict:
    f: dict = {}
    for clause in ("must", "should", "must_not"):
        if r.random() < 0.5:
            f[clause] = [
                random_filter(r, depth + 1) if depth < 1 and r.random() < 0.2 else random_condition(r)
                for _ in range(r.randint(1, 2))
            ]
    return f


@pytest.fixture
def filled(db: azimuth.Database) -> tuple[azimuth.Collection, dict[int, dict]]:
    r = random.Random(7)
    c = db.create_collection("c", dim=4, metric="euclid")
    payloads = {i: make_payload(i, r) for i in range(200)}
    vecs = np.random.default_rng(1).standard_normal((200, 4)).astype(np.float32)
    c.upsert(list(payloads), vecs, list(payloads.values()))
    return c, payloads


def test_random_filters_match_reference(filled) -> None:
    c, payloads = filled
    r = random.Random(11)
    q = np.zeros(4, dtype=np.float32)
    for n in range(150):
        if n == 75:  # half the filters with payload indexes in place: same answers
            c.create_payload_index("city", "keyword")
            c.create_payload_index("price", "float")
            c.create_payload_index("meta.n", "integer")
        f = random_filter(r)
        want = {i for i, p in payloads.items() if holds(f, p, i)}
        assert c.count(f) == len(want), f
        assert {h.id for h in c.search(q, k=200, filter=f)} == want, f
        assert {x.id for x in c.scroll(filter=f, limit=500)[0]} == want, f


def test_search_with_filter_returns_nearest_matching(filled) -> None:
    c, payloads = filled
    f = {"must": [{"key": "city", "match": {"value": "rome"}}]}
    q = np.ones(4, dtype=np.float32)
    hits = c.search(q, k=5, filter=f)
    assert len(hits) == 5 and all(h.payload["city"] == "rome" for h in hits)
    everything = c.search(q, k=200)
    assert [h.id for h in hits] == [h.id for h in everything if h.payload["city"] == "rome"][:5]
    # The same filter per query in a batch.
    batch = c.search(np.stack([q, -q]), k=3, filter=f)
    assert [h.id for h in batch[0]] == [h.id for h in hits[:3]]
    assert all(h.payload["city"] == "rome" for h in batch[1])


def test_grammar_corners(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=1)
    c.upsert(
        [1, 2, 3, 4],
        np.ones((4, 1)),
        [
            {"title": "the quick brown fox", "when": "2026-01-01T00:00:00Z", "loc": {"lat": 52.52, "lon": 13.40},
             "items": [{"sku": "x", "qty": 1}, {"sku": "y", "qty": 5}]},
            {"title": "lazy dog", "when": "2026-06-01T00:00:00Z", "loc": {"lat": 48.86, "lon": 2.35},
             "items": [{"sku": "x", "qty": 5}]},
            {"title": None, "items": []},
            {},
        ],
    )

    def ids(f: dict) -> list:
        return sorted(r.id for r in c.scroll(filter=f, limit=10)[0])

    assert ids({"must": [{"key": "title", "match": {"text": "quick fox"}}]}) == [1]
    assert ids({"must": [{"key": "when", "range": {"gt": "2026-03-01T00:00:00Z"}}]}) == [2]
    berlin = {"center": {"lat": 52.5, "lon": 13.4}, "radius": 10_000}
    assert ids({"must": [{"key": "loc", "geo_radius": berlin}]}) == [1]
    assert ids({"must": [{"key": "title", "is_null": True}]}) == [3]
    assert ids({"must": [{"key": "title", "is_empty": True}]}) == [3, 4]
    assert ids({"must": [{"key": "items", "values_count": {"gte": 2}}]}) == [1]
    assert ids({"must": [{"key": "items[].sku", "match": {"value": "x"}}]}) == [1, 2]
    # nested: both conditions on the same array element.
    nested = {"nested": {"key": "items", "filter": {"must": [{"key": "sku", "match": {"value": "x"}},
                                                             {"key": "qty", "range": {"gte": 5}}]}}}
    assert ids({"must": [nested]}) == [2]
    assert ids({"should": [{"has_id": [1, 4]}], "must_not": [{"has_id": [4]}]}) == [1]
    assert ids({"min_should": {"conditions": [{"has_id": [1, 2]}, {"has_id": [2, 3]}, {"has_id": [2]}],
                               "min_count": 2}}) == [2]


def test_has_id_with_string_and_uuid_ids(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=1)
    u = "6f1b2c4e-1111-2222-3333-444455556666"
    c.upsert([1, u, "doc"], np.ones((3, 1)))
    assert c.count({"must": [{"has_id": [u.upper(), "doc"]}]}) == 2


def test_filter_errors(db: azimuth.Database) -> None:
    c = db.create_collection("c", dim=1)
    for bad in (
        {"must": [{"key": "a", "match": {"valu": 1}}]},
        {"mustt": []},
        {"must": {"key": "a"}},
        {"must": [{"key": "a", "range": {"gt": "x"}}]},
        {"must": [{"key": "a", "match": {"value": 1}}, 42]},
        {"must": [{"key": "", "match": {"value": 1}}]},
    ):
        with pytest.raises(azimuth.InvalidInput):
            c.count(bad)
    with pytest.raises(azimuth.InvalidInput, match="filter must be a dict"):
        c.count([{"key": "a"}])
    with pytest.raises(ValueError):
        c.search([1.0], filter={"must": [{"key": "a", "match": {"value": float("nan")}}]})
