"""The rest of the Query API and its legacy routes: recommend strategies, discovery and
context, MMR, formulas, random sampling, `lookup_from`, groups with `with_lookup`, and the
`/recommend`, `/discover`, `/search/groups` routes older clients call. Scores are checked
against qdrant-client's local mode, which implements the same definitions."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name

DIM = 8
N = 80


@pytest.fixture(scope="module")
def pair(client: QdrantClient):
    """The same points in the server and in local mode, one collection per distance."""
    rng = np.random.default_rng(11)
    vecs = rng.normal(size=(N, DIM)).astype(np.float32).round(3)
    ids = list(range(1, N + 1))
    payloads = [
        {"i": i, "city": ["Berlin", "London", "Paris"][i % 3], "price": float(i % 7), "bucket": i % 7, "loc": {"lat": i / 4, "lon": -i / 8}}
        for i in ids
    ]
    local = QdrantClient(":memory:")
    names = {}
    for dist in models.Distance:
        name = unique_name(f"qm_{dist.value.lower()}")
        for c in (client, local):
            c.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=dist))
            c.upsert(name, models.Batch(ids=ids, vectors=vecs.tolist(), payloads=payloads))
        names[dist] = name
    yield local, names, vecs
    local.close()


def same(a, b, tol=1e-4):
    assert [p.id for p in a] == [p.id for p in b], ([(p.id, p.score) for p in a], [(p.id, p.score) for p in b])
    assert [p.score for p in a] == pytest.approx([p.score for p in b], rel=tol, abs=tol)


EXACT = models.SearchParams(exact=True)


@pytest.mark.parametrize("distance", list(models.Distance))
@pytest.mark.parametrize("strategy", [models.RecommendStrategy.BEST_SCORE, models.RecommendStrategy.SUM_SCORES])
def test_recommend_strategies_match_local_mode(client: QdrantClient, pair, distance, strategy):
    local, names, vecs = pair
    name = names[distance]
    flt = models.Filter(must_not=[models.FieldCondition(key="city", match=models.MatchValue(value="Paris"))])
    for pos, neg in [([3, 17], [40]), ([5, vecs[60].tolist()], []), ([], [8, 9])]:
        q = models.RecommendQuery(recommend=models.RecommendInput(positive=pos, negative=neg, strategy=strategy))
        for f in (None, flt):
            want = local.query_points(name, query=q, query_filter=f, limit=7).points
            got = client.query_points(name, query=q, query_filter=f, limit=7, search_params=EXACT).points
            same(want, got)
            # the graph-less default path gives the same answer on this small collection
            same(want, client.query_points(name, query=q, query_filter=f, limit=7).points)
    # average_vector needs a positive; best_score does not
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(name, query=models.RecommendQuery(recommend=models.RecommendInput(negative=[1])))
    assert e.value.status_code == 400


@pytest.mark.parametrize("distance", list(models.Distance))
def test_discover_and_context_match_local_mode(client: QdrantClient, pair, distance):
    local, names, vecs = pair
    name = names[distance]
    pairs = [models.ContextPair(positive=4, negative=30), models.ContextPair(positive=vecs[50].tolist(), negative=12)]
    for q in (
        models.DiscoverQuery(discover=models.DiscoverInput(target=7, context=pairs)),
        models.DiscoverQuery(discover=models.DiscoverInput(target=vecs[2].tolist(), context=pairs[:1])),
        models.ContextQuery(context=pairs),
    ):
        want = local.query_points(name, query=q, limit=9).points
        got = client.query_points(name, query=q, limit=9, search_params=EXACT).points
        if isinstance(q, models.ContextQuery):  # scores tie at 0 for points inside every pair's side
            assert [p.score for p in got] == pytest.approx([p.score for p in want], abs=1e-4)
            assert not {4, 30, 12} & {p.id for p in got}, "example ids are excluded"
        else:
            same(want, got)


def test_mmr_matches_local_mode(client: QdrantClient, pair):
    local, names, vecs = pair
    for dist in models.Distance:
        q = models.NearestQuery(nearest=vecs[1].tolist(), mmr=models.Mmr(diversity=0.6, candidates_limit=30))
        want = local.query_points(names[dist], query=q, limit=6).points
        got = client.query_points(names[dist], query=q, limit=6).points
        same(want, got)
        # scores stay the query's similarity; diversity 0 is plain nearest order
        plain = client.query_points(names[dist], query=vecs[1].tolist(), limit=6).points
        zero = client.query_points(
            names[dist], query=models.NearestQuery(nearest=vecs[1].tolist(), mmr=models.Mmr(diversity=0.0)), limit=6
        ).points
        same(plain, zero)
    r = httpx.post(
        f"{client._client.rest_uri}/collections/{names[models.Distance.COSINE]}/points/query",
        json={"query": {"nearest": vecs[1].tolist(), "mmr": {"diversity": 1.5}}},
    )
    assert r.status_code == 400, r.text


def test_formula_rescoring_matches_local_mode(client: QdrantClient, pair):
    local, names, vecs = pair
    name = names[models.Distance.COSINE]
    prefetch = models.Prefetch(query=vecs[3].tolist(), limit=25)
    formulas = [
        models.FormulaQuery(
            formula=models.SumExpression(
                sum=[
                    "$score",
                    models.MultExpression(mult=[0.1, "price"]),
                    models.MultExpression(mult=[0.5, models.FieldCondition(key="city", match=models.MatchValue(value="Berlin"))]),
                ]
            )
        ),
        models.FormulaQuery(
            formula=models.MultExpression(
                mult=[
                    "$score",
                    models.GaussDecayExpression(
                        gauss_decay=models.DecayParamsExpression(
                            x=models.GeoDistance(
                                geo_distance=models.GeoDistanceParams(origin=models.GeoPoint(lat=5.0, lon=-2.5), to="loc")
                            ),
                            scale=500_000.0,
                        )
                    ),
                ]
            )
        ),
        models.FormulaQuery(formula=models.SumExpression(sum=["$score", "missing"]), defaults={"missing": 2.5}),
        models.FormulaQuery(
            formula=models.DivExpression(div=models.DivParams(left="$score", right="price", by_zero_default=-1.0))
        ),
    ]
    for q in formulas:
        want = local.query_points(name, prefetch=prefetch, query=q, limit=10, with_payload=True).points
        got = client.query_points(name, prefetch=prefetch, query=q, limit=10, with_payload=True).points
        same(want, got)
    # errors: a missing value without default, a non-finite result, a formula without prefetch
    for q in (
        models.FormulaQuery(formula=models.SumExpression(sum=["$score", "missing"])),
        models.FormulaQuery(formula=models.LnExpression(ln=models.NegExpression(neg="price"))),
    ):
        with pytest.raises(UnexpectedResponse) as e:
            client.query_points(name, prefetch=prefetch, query=q, limit=10)
        assert e.value.status_code == 400
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(name, query=formulas[0], limit=10)
    assert e.value.status_code == 400


def test_sample_random(client: QdrantClient, pair):
    _, names, _ = pair
    name = names[models.Distance.DOT]
    flt = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="London"))])
    seen = set()
    for _ in range(5):
        pts = client.query_points(name, query=models.SampleQuery(sample=models.Sample.RANDOM), query_filter=flt, limit=5, with_payload=True).points
        assert len(pts) == 5 and len({p.id for p in pts}) == 5
        assert all(p.payload["city"] == "London" for p in pts)
        seen.update(p.id for p in pts)
    assert len(seen) > 5, "five random draws all returned the same points"


def test_lookup_from_another_collection(client: QdrantClient, pair):
    local, names, vecs = pair
    src, dst = names[models.Distance.COSINE], names[models.Distance.DOT]
    q = models.RecommendQuery(recommend=models.RecommendInput(positive=[5], strategy=models.RecommendStrategy.BEST_SCORE))
    lookup = models.LookupLocation(collection=src)
    got = client.query_points(dst, query=q, lookup_from=lookup, limit=5).points
    want = local.query_points(dst, query=q, lookup_from=lookup, limit=5).points
    same(want, got)
    # the id names a point of the other collection, so it is not excluded here
    by_vector = client.query_points(dst, query=(vecs[4] / np.linalg.norm(vecs[4])).tolist(), limit=5).points
    assert [p.id for p in got][:1] == [p.id for p in by_vector][:1]
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(dst, query=q, lookup_from=models.LookupLocation(collection="no_such_collection"))
    assert e.value.status_code == 404


def test_groups_with_lookup(client: QdrantClient, pair):
    _, names, vecs = pair
    cities = unique_name("cities")
    client.create_collection(cities, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(cities, [models.PointStruct(id=i, vector=[1.0, 0.0], payload={"name": f"city {i}"}) for i in range(7)])
    res = client.query_points_groups(
        names[models.Distance.EUCLID],
        query=vecs[0].tolist(),
        group_by="bucket",
        group_size=2,
        limit=3,
        with_lookup=models.WithLookup(collection=cities, with_payload=["name"], with_vectors=False),
    )
    assert len(res.groups) == 3
    for g in res.groups:
        assert len(g.hits) <= 2
        assert g.lookup is not None and g.lookup.payload == {"name": f"city {int(g.id)}"}
        assert g.lookup.vector is None


def test_legacy_recommend_discover_and_group_routes(http: httpx.Client, client: QdrantClient, pair):
    local, names, vecs = pair
    name = names[models.Distance.COSINE]

    def post(path, body):
        r = http.post(f"/collections/{name}/points/{path}", json=body)
        assert r.status_code == 200, r.text
        return r.json()["result"]

    rec = post("recommend", {"positive": [3, 4], "negative": [9], "limit": 4, "with_payload": ["city"]})
    want = client.query_points(
        name, query=models.RecommendQuery(recommend=models.RecommendInput(positive=[3, 4], negative=[9])), limit=4
    ).points
    assert [p["id"] for p in rec] == [p.id for p in want]
    assert set(rec[0]["payload"]) == {"city"}
    best = post("recommend", {"positive": [3], "strategy": "best_score", "limit": 3})
    want = local.query_points(
        name,
        query=models.RecommendQuery(recommend=models.RecommendInput(positive=[3], strategy=models.RecommendStrategy.BEST_SCORE)),
        limit=3,
    ).points
    assert [p["id"] for p in best] == [p.id for p in want]
    batch = post("recommend/batch", {"searches": [{"positive": [3], "limit": 2}, {"positive": [5], "limit": 1}]})
    assert [len(b) for b in batch] == [2, 1]
    groups = post("recommend/groups", {"positive": [3], "group_by": "city", "group_size": 2, "limit": 2})
    assert len(groups["groups"]) == 2 and all(len(g["hits"]) <= 2 for g in groups["groups"])
    sgroups = post("search/groups", {"vector": vecs[0].tolist(), "group_by": "city", "group_size": 1, "limit": 3})
    assert sorted(g["id"] for g in sgroups["groups"]) == ["Berlin", "London", "Paris"]
    disc = post("discover", {"target": 7, "context": [{"positive": 4, "negative": 30}], "limit": 5})
    want = local.query_points(
        name,
        query=models.DiscoverQuery(
            discover=models.DiscoverInput(target=7, context=[models.ContextPair(positive=4, negative=30)])
        ),
        limit=5,
    ).points
    assert [p["id"] for p in disc] == [p.id for p in want]
    ctx = post("discover", {"context": [{"positive": 4, "negative": 30}], "limit": 5})
    assert len(ctx) == 5
    dbatch = post("discover/batch", {"searches": [{"target": 7, "limit": 2}, {"target": 8, "limit": 3}]})
    assert [len(b) for b in dbatch] == [2, 3]
    for body in (
        {"limit": 3},  # neither target nor context
        {"target": 7},  # no limit
        {"target": 7, "context": [{"positive": 4}], "limit": 3},
    ):
        r = http.post(f"/collections/{name}/points/discover", json=body)
        assert r.status_code == 400, (body, r.text)
        assert "error" in r.json()["status"]
    for body in (
        {"positive": [3], "strategy": "nope", "limit": 3},
        {"positive": "3", "limit": 3},
        {"negative": [3], "limit": 3},  # average_vector without positives
    ):
        r = http.post(f"/collections/{name}/points/recommend", json=body)
        assert r.status_code == 400, (body, r.text)
    r = http.post(f"/collections/{name}/points/recommend", json={"positive": [987654], "limit": 3})
    assert r.status_code == 404, r.text


def test_distance_matrix_matches_local_mode(client: QdrantClient, pair):
    """With a sample as large as the collection the matrix is deterministic: every point's
    nearest others. Pairs and offsets agree with local mode and with each other."""
    local, names, _ = pair
    for dist in models.Distance:
        name = names[dist]
        flt = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="Paris"))])
        want = local.search_matrix_pairs(name, query_filter=flt, sample=N, limit=3)
        got = client.search_matrix_pairs(name, query_filter=flt, sample=N, limit=3)
        assert [(p.a, p.b) for p in got.pairs] == [(p.a, p.b) for p in want.pairs], dist
        assert [p.score for p in got.pairs] == pytest.approx([p.score for p in want.pairs], rel=1e-4, abs=1e-4)
        off = client.search_matrix_offsets(name, query_filter=flt, sample=N, limit=3)
        assert [(off.ids[i], off.ids[j]) for i, j in zip(off.offsets_row, off.offsets_col)] == [(p.a, p.b) for p in got.pairs]
        assert off.scores == pytest.approx([p.score for p in got.pairs])
    # A random sample: the right shape, members of the sample only, no self-pairs.
    name = names[models.Distance.COSINE]
    off = client.search_matrix_offsets(name, sample=12, limit=4)
    assert len(off.ids) == 12 and len(set(off.ids)) == 12
    assert len(off.scores) == 12 * 4 and all(i != j for i, j in zip(off.offsets_row, off.offsets_col))
    r = httpx.post(f"{client._client.rest_uri}/collections/{name}/points/search/matrix/pairs", json={"sample": 1})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("distance", list(models.Distance))
def test_relevance_feedback_matches_local_mode(client: QdrantClient, pair, distance):
    local, names, vecs = pair
    name = names[distance]
    q = models.RelevanceFeedbackQuery(
        relevance_feedback=models.RelevanceFeedbackInput(
            target=vecs[5].tolist(),
            feedback=[
                models.FeedbackItem(example=11, score=0.9),
                models.FeedbackItem(example=12, score=0.2),
                models.FeedbackItem(example=vecs[40].tolist(), score=0.5),
            ],
            strategy=models.NaiveFeedbackStrategy(naive=models.NaiveFeedbackStrategyParams(a=1.0, b=1.5, c=0.7)),
        )
    )
    want = local.query_points(name, query=q, limit=8).points
    got = client.query_points(name, query=q, limit=8, search_params=EXACT).points
    same(want, got)
    assert not {11, 12} & {p.id for p in got}, "feedback examples given by id are excluded"
