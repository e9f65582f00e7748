"""The filter grammar through the client: every condition kind against a fixed data set, with the
expected ids written out by hand and the client's local mode as a second witness."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name

U1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"

POINTS = {
    1: {
        "city": "Berlin",
        "n": 1,
        "f": 1.5,
        "tags": ["a", "b"],
        "flag": True,
        "ts": "2026-01-01T00:00:00Z",
        "loc": {"lon": 13.405, "lat": 52.52},
        "body": "Vector databases are fast",
        "country": {"name": "DE", "cities": [{"name": "Berlin", "population": 3600000}, {"name": "Bonn", "population": 300000}]},
        "diet": [{"food": "meat", "likes": True}, {"food": "veg", "likes": False}],
    },
    2: {
        "city": "London",
        "n": 2,
        "f": -0.5,
        "tags": ["b"],
        "flag": False,
        "ts": "2026-01-15T12:00:00+00:00",
        "loc": {"lon": -0.1276, "lat": 51.5072},
        "body": "a vector db",
        "country": {"name": "UK", "cities": [{"name": "London", "population": 8900000}]},
        "diet": [{"food": "meat", "likes": False}, {"food": "veg", "likes": True}],
    },
    3: {"city": "Moscow", "n": 3, "tags": [], "flag": None, "ts": "2026-02-01", "loc": {"lon": 37.6173, "lat": 55.7558}, "opt": None},
    4: {"city": ["Berlin", "Paris"], "n": [4, 40], "f": 4, "tags": ["a", None], "ts": "2026-03-01T10:00:00.5+02:00"},
    5: {"n": "5", "city": None, "nested": {"x": None}, "ts": 20260101},
    6: {},
    U1: {"city": "Berlin", "n": 1.0, "ts": "2026-01-01T00:00:00"},
    8: {"flag": True, "n": True, "city": "berlin"},
    9: {"f": None, "n": None, "ts": None, "tags": None},
}
NO_B_VECTOR = {3, 6, 9}
ALL = set(POINTS)


def F(**kw) -> models.Filter:
    return models.Filter(**kw)


def key(k, **kw) -> models.FieldCondition:
    return models.FieldCondition(key=k, **kw)


def mv(v):
    return models.MatchValue(value=v)


BERLIN_SQUARE = [
    models.GeoPoint(lon=13.0, lat=52.0),
    models.GeoPoint(lon=14.0, lat=52.0),
    models.GeoPoint(lon=14.0, lat=53.0),
    models.GeoPoint(lon=13.0, lat=53.0),
    models.GeoPoint(lon=13.0, lat=52.0),
]
BERLIN_HOLE = [
    models.GeoPoint(lon=13.3, lat=52.4),
    models.GeoPoint(lon=13.5, lat=52.4),
    models.GeoPoint(lon=13.5, lat=52.6),
    models.GeoPoint(lon=13.3, lat=52.6),
    models.GeoPoint(lon=13.3, lat=52.4),
]
UTC = timezone.utc

CASES: list[tuple[str, models.Filter, set]] = [
    ("empty filter", F(), ALL),
    ("match keyword", F(must=[key("city", match=mv("Berlin"))]), {1, 4, U1}),
    ("match keyword is case-sensitive", F(must=[key("city", match=mv("berlin"))]), {8}),
    ("match int: floats never match", F(must=[key("n", match=mv(1))]), {1}),
    ("match int in array", F(must=[key("n", match=mv(40))]), {4}),
    ("match bool", F(must=[key("flag", match=mv(True))]), {1, 8}),
    ("match bool false", F(must=[key("flag", match=mv(False))]), {2}),
    ("match any keywords", F(must=[key("city", match=models.MatchAny(any=["London", "Paris"]))]), {2, 4}),
    ("match any ints", F(must=[key("n", match=models.MatchAny(any=[2, 40]))]), {2, 4}),
    ("match except keywords", F(must=[key("city", match=models.MatchExcept(**{"except": ["Berlin"]}))]), {2, 3, 4, 8}),
    # types are distinct: "5", 1.0 and true are all "not in" [1, 2, 3]
    ("match except ints", F(must=[key("n", match=models.MatchExcept(**{"except": [1, 2, 3]}))]), {4, 5, U1, 8}),
    ("match text one token", F(must=[key("body", match=models.MatchText(text="vector"))]), {1, 2}),
    ("match text all tokens", F(must=[key("body", match=models.MatchText(text="databases vector"))]), {1}),
    ("match text whole tokens only", F(must=[key("body", match=models.MatchText(text="data"))]), set()),
    ("range int", F(must=[key("n", range=models.Range(gte=2, lt=4))]), {2, 3}),
    ("range any array value", F(must=[key("n", range=models.Range(gt=30))]), {4}),
    ("range int and float values", F(must=[key("n", range=models.Range(lte=1))]), {1, U1}),
    ("range float", F(must=[key("f", range=models.Range(gt=0))]), {1, 4}),
    ("range: null never matches", F(must=[key("f", range=models.Range(gt=-1e12))]), {1, 2, 4}),
    ("range: strings and bools never match", F(must=[key("n", range=models.Range(gte=-1e12, lte=1e12))]), {1, 2, 3, 4, U1}),
    (
        "datetime range Z",
        F(must=[key("ts", range=models.DatetimeRange(gte="2026-01-15T12:00:00Z"))]),
        {2, 3, 4},
    ),
    (
        "datetime range +00:00 strict",
        F(must=[key("ts", range=models.DatetimeRange(lt="2026-01-15T12:00:00+00:00"))]),
        {1, U1},
    ),
    (
        "datetime range python datetime",
        F(must=[key("ts", range=models.DatetimeRange(gte=datetime(2026, 2, 1, tzinfo=UTC)))]),
        {3, 4},
    ),
    (
        "datetime range offset equal bound lt",
        F(must=[key("ts", range=models.DatetimeRange(lt="2026-03-01T08:00:00.5Z"))]),
        {1, 2, 3, U1},
    ),
    (
        "datetime range offset equal bound lte",
        F(must=[key("ts", range=models.DatetimeRange(lte="2026-03-01T10:00:00.5+02:00"))]),
        {1, 2, 3, 4, U1},
    ),
    (
        "datetime range naive python datetime",
        F(must=[key("ts", range=models.DatetimeRange(gt=datetime(2026, 1, 1), lt=datetime(2026, 2, 1)))]),
        {2},
    ),
    (
        "datetime range date only",
        F(must=[key("ts", range=models.DatetimeRange(gte="2026-01-01", lte="2026-01-01"))]),
        {1, U1},
    ),
    ("nested key a.b", F(must=[key("country.name", match=mv("DE"))]), {1}),
    ("nested key a[].b", F(must=[key("country.cities[].population", range=models.Range(gte=1_000_000))]), {1, 2}),
    ("nested key a[].b match", F(must=[key("country.cities[].name", match=mv("Bonn"))]), {1}),
    ("no implicit array traversal without []", F(must=[key("country.cities.name", match=mv("Bonn"))]), set()),
    ("nested key array index", F(must=[key("diet[0].food", match=mv("meat"))]), {1, 2}),
    (
        "flattened array conditions (not nested)",
        F(must=[key("diet[].food", match=mv("meat")), key("diet[].likes", match=mv(True))]),
        {1, 2},
    ),
    (
        "nested condition",
        F(
            must=[
                models.NestedCondition(
                    nested=models.Nested(key="diet", filter=F(must=[key("food", match=mv("meat")), key("likes", match=mv(True))]))
                )
            ]
        ),
        {1},
    ),
    (
        "nested condition with must_not inside",
        F(
            must=[
                models.NestedCondition(
                    nested=models.Nested(key="diet[]", filter=F(must=[key("food", match=mv("veg"))], must_not=[key("likes", match=mv(True))]))
                )
            ]
        ),
        {1},
    ),
    ("is_empty", F(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))]), {3, 5, 6, U1, 8, 9}),
    ("is_empty negated", F(must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))]), {1, 2, 4}),
    ("is_empty nested null", F(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="nested.x"))]), ALL),
    ("is_null", F(must=[models.IsNullCondition(is_null=models.PayloadField(key="flag"))]), {3}),
    ("is_null array with null", F(must=[models.IsNullCondition(is_null=models.PayloadField(key="tags"))]), {4, 9}),
    ("is_null missing is not null", F(must=[models.IsNullCondition(is_null=models.PayloadField(key="opt"))]), {3}),
    ("is_null nested", F(must=[models.IsNullCondition(is_null=models.PayloadField(key="nested.x"))]), {5}),
    ("has_id ints and uuid", F(must=[models.HasIdCondition(has_id=[1, U1, 999])]), {1, U1}),
    ("has_id uuid spelling", F(must=[models.HasIdCondition(has_id=[U1.upper().replace("-", "")])]), {U1}),
    ("has_id negated", F(must_not=[models.HasIdCondition(has_id=[1, 2, 3, 4, 5, 6])]), {U1, 8, 9}),
    ("values_count gte 2", F(must=[key("tags", values_count=models.ValuesCount(gte=2))]), {1, 4}),
    ("values_count eq 1", F(must=[key("tags", values_count=models.ValuesCount(gte=1, lte=1))]), {2}),
    ("values_count scalar", F(must=[key("city", values_count=models.ValuesCount(lt=2, gt=0))]), {1, 2, 3, U1, 8}),
    (
        "geo radius",
        F(must=[key("loc", geo_radius=models.GeoRadius(center=models.GeoPoint(lon=13.4, lat=52.52), radius=1000.0))]),
        {1},
    ),
    (
        "geo radius 2000 km",
        F(must=[key("loc", geo_radius=models.GeoRadius(center=models.GeoPoint(lon=13.4, lat=52.52), radius=2_000_000.0))]),
        {1, 2, 3},
    ),
    (
        "geo radius 1000 km",
        F(must=[key("loc", geo_radius=models.GeoRadius(center=models.GeoPoint(lon=13.4, lat=52.52), radius=1_000_000.0))]),
        {1, 2},
    ),
    (
        "geo bounding box",
        F(
            must=[
                key(
                    "loc",
                    geo_bounding_box=models.GeoBoundingBox(
                        top_left=models.GeoPoint(lon=13.0, lat=53.0), bottom_right=models.GeoPoint(lon=14.0, lat=52.0)
                    ),
                )
            ]
        ),
        {1},
    ),
    (
        "geo bounding box across the antimeridian",
        F(
            must=[
                key(
                    "loc",
                    geo_bounding_box=models.GeoBoundingBox(
                        top_left=models.GeoPoint(lon=30.0, lat=60.0), bottom_right=models.GeoPoint(lon=0.0, lat=50.0)
                    ),
                )
            ]
        ),
        {2, 3},
    ),
    (
        "geo polygon",
        F(must=[key("loc", geo_polygon=models.GeoPolygon(exterior=models.GeoLineString(points=BERLIN_SQUARE)))]),
        {1},
    ),
    (
        "geo polygon with hole",
        F(
            must=[
                key(
                    "loc",
                    geo_polygon=models.GeoPolygon(
                        exterior=models.GeoLineString(points=BERLIN_SQUARE),
                        interiors=[models.GeoLineString(points=BERLIN_HOLE)],
                    ),
                )
            ]
        ),
        set(),
    ),
    ("has_vector", F(must=[models.HasVectorCondition(has_vector="b")]), ALL - NO_B_VECTOR),
    ("has_vector negated", F(must_not=[models.HasVectorCondition(has_vector="b")]), NO_B_VECTOR),
    ("should", F(should=[key("city", match=mv("London")), key("n", match=mv(3))]), {2, 3}),
    ("empty should is no constraint", F(should=[]), ALL),
    ("empty must is no constraint", F(must=[]), ALL),
    ("must_not", F(must_not=[key("city", match=mv("Berlin"))]), ALL - {1, 4, U1}),
    (
        "must + should + must_not",
        F(
            must=[key("n", range=models.Range(gte=1))],
            should=[key("flag", match=mv(True)), key("city", match=mv("Moscow"))],
            must_not=[models.HasIdCondition(has_id=[3])],
        ),
        {1},
    ),
    (
        "min_should",
        F(
            min_should=models.MinShould(
                conditions=[key("city", match=mv("Berlin")), key("flag", match=mv(True)), key("n", match=mv(1))],
                min_count=2,
            )
        ),
        {1},
    ),
    (
        "min_should 1",
        F(min_should=models.MinShould(conditions=[key("city", match=mv("Moscow")), key("flag", match=mv(False))], min_count=1)),
        {2, 3},
    ),
    (
        "nested filter as condition",
        F(
            must=[
                F(should=[key("city", match=mv("London")), key("city", match=mv("Moscow"))]),
                F(must_not=[key("n", match=mv(3))]),
            ]
        ),
        {2},
    ),
    (
        "match any empty matches nothing",
        F(must=[key("city", match=models.MatchAny(any=[]))]),
        set(),
    ),
]


@pytest.fixture(scope="module")
def filter_collections(client: QdrantClient):
    name = unique_name("filters")
    local = QdrantClient(":memory:")
    pts = []
    for i, (pid, payload) in enumerate(POINTS.items()):
        vec = {"a": [1.0, float(i)]}
        if pid not in NO_B_VECTOR:
            vec["b"] = [float(i), 1.0]
        pts.append(models.PointStruct(id=pid, vector=vec, payload=payload))
    for c in (client, local):
        c.create_collection(
            name,
            vectors_config={
                "a": models.VectorParams(size=2, distance="Dot"),
                "b": models.VectorParams(size=2, distance="Euclid"),
            },
        )
        c.upsert(name, pts)
    yield name, local
    local.close()


def scroll_ids(c: QdrantClient, name, flt):
    pts, nxt = c.scroll(name, scroll_filter=flt, limit=100)
    assert nxt is None
    return [p.id for p in pts]


@pytest.mark.parametrize("label,flt,expected", CASES, ids=[c[0] for c in CASES])
def test_filter(client: QdrantClient, filter_collections, label, flt, expected):
    name, local = filter_collections
    # the oracle agrees with the hand-written expectation (guards the test itself)
    assert set(scroll_ids(local, name, flt)) == expected, f"local mode disagrees on {label}"
    got = scroll_ids(client, name, flt)
    assert set(got) == expected, f"{label}: filter={flt.model_dump(exclude_none=True)}"
    assert client.count(name, count_filter=flt).count == len(expected)
    hits = client.query_points(name, query=[1.0, 1.0], using="a", query_filter=flt, limit=100).points
    assert {h.id for h in hits} == expected
    # also as a payload op selector (a no-op set_payload would be invisible; use count by filter instead)


def test_filter_on_indexed_fields(client: QdrantClient, filter_collections):
    """The same filters must give the same answers once payload indexes exist."""
    name, local = filter_collections
    indexed = unique_name("filters_idx")
    client.create_collection(
        indexed,
        vectors_config={
            "a": models.VectorParams(size=2, distance="Dot"),
            "b": models.VectorParams(size=2, distance="Euclid"),
        },
    )
    for field, schema in [
        ("city", "keyword"),
        ("n", "integer"),
        ("f", "float"),
        ("flag", "bool"),
        ("ts", "datetime"),
        ("loc", "geo"),
        ("body", "text"),
        ("country.cities[].population", "float"),
        ("tags", "keyword"),
    ]:
        client.create_payload_index(indexed, field, schema)
    recs, _ = client.scroll(name, limit=100, with_vectors=True)
    client.upsert(indexed, [models.PointStruct(id=r.id, vector=r.vector, payload=r.payload) for r in recs])
    failures = []
    for label, flt, expected in CASES:
        got = set(scroll_ids(client, indexed, flt))
        if got != expected:
            failures.append(f"{label}: expected {sorted(map(str, expected))}, got {sorted(map(str, got))}")
    assert not failures, "\n".join(failures)


def test_geo_polygon_validation(client: QdrantClient, filter_collections):
    name, _ = filter_collections
    open_ring = models.GeoPolygon(exterior=models.GeoLineString(points=BERLIN_SQUARE[:-1]))
    with pytest.raises(UnexpectedResponse) as e:
        client.count(name, count_filter=F(must=[key("loc", geo_polygon=open_ring)]))
    assert 400 <= e.value.status_code < 500


def test_datetime_payload_written_from_python(client: QdrantClient, cname):
    """Python datetimes in payloads are sent as ISO strings; ranges with datetimes compare them."""
    client.create_collection(cname, vectors_config=models.VectorParams(size=1, distance="Dot"))
    base = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    client.upsert(
        cname,
        [
            models.PointStruct(id=i, vector=[1.0], payload={"ts": (base + timedelta(hours=i)).isoformat()})
            for i in range(10)
        ],
    )
    flt = F(must=[key("ts", range=models.DatetimeRange(gt=base + timedelta(hours=3), lte=base + timedelta(hours=6)))])
    assert sorted(scroll_ids(client, cname, flt)) == [4, 5, 6]
    tz2 = timezone(timedelta(hours=2))
    flt = F(must=[key("ts", range=models.DatetimeRange(gte=datetime(2026, 5, 1, 21, 0, tzinfo=tz2)))])
    assert sorted(scroll_ids(client, cname, flt)) == [7, 8, 9]
