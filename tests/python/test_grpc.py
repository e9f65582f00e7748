"""Qdrant's gRPC API: the unchanged qdrant-client with prefer_grpc=True (sync and async)
against the real server, compared call by call with the same client over REST on the same
server; refusals carry gRPC status codes; API keys apply to gRPC too."""

from __future__ import annotations

import asyncio
import random
import uuid

import grpc
import numpy as np
import pytest
from qdrant_client import AsyncQdrantClient, QdrantClient, models as m
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name

DIM = 8


def grpc_client(srv, **kw) -> QdrantClient:
    return QdrantClient(host=srv.host, port=srv.port, grpc_port=srv.grpc_port, prefer_grpc=True, timeout=30, **kw)


@pytest.fixture(scope="module")
def g(server):
    c = grpc_client(server)
    yield c
    c.close()


def rpc_code(excinfo) -> grpc.StatusCode:
    e = excinfo.value
    assert isinstance(e, grpc.RpcError), f"{type(e)}: {e}"
    return e.code()


def points(n: int, seed: int = 0, uuids: bool = False) -> list[m.PointStruct]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pid = str(uuid.UUID(int=rng.getrandbits(128), version=4)) if uuids and i % 2 else i
        out.append(
            m.PointStruct(
                id=pid,
                vector=[rng.uniform(-1, 1) for _ in range(DIM)],
                payload={
                    "color": rng.choice(["red", "green", "blue"]),
                    "n": i,
                    "price": round(rng.uniform(0, 100), 2),
                    "when": f"2024-0{1 + i % 9}-15T12:00:00Z",
                    "meta": {"tags": [rng.choice(["a", "b"]), "c"], "depth": {"x": i % 4}},
                    "maybe": None if i % 5 == 0 else i,
                },
            )
        )
    return out


def filters() -> list[m.Filter]:
    fc = m.FieldCondition
    return [
        m.Filter(must=[fc(key="color", match=m.MatchValue(value="red"))]),
        m.Filter(must=[fc(key="n", range=m.Range(gte=10, lt=40))]),
        m.Filter(should=[fc(key="color", match=m.MatchAny(any=["red", "blue"]))], must_not=[fc(key="n", match=m.MatchValue(value=3))]),
        m.Filter(must=[fc(key="color", match=m.MatchExcept(**{"except": ["green"]}))]),
        m.Filter(must=[fc(key="when", range=m.DatetimeRange(gte="2024-03-01T00:00:00Z", lt="2024-06-01T00:00:00+00:00"))]),
        m.Filter(must=[fc(key="meta.depth.x", match=m.MatchValue(value=2))]),
        m.Filter(must=[fc(key="meta.tags[]", match=m.MatchValue(value="a"))]),
        m.Filter(must=[m.IsNullCondition(is_null=m.PayloadField(key="maybe"))]),
        m.Filter(must=[m.IsEmptyCondition(is_empty=m.PayloadField(key="missing"))]),
        m.Filter(must=[m.HasIdCondition(has_id=[1, 2, 3, 4, 50])]),
        m.Filter(must=[fc(key="maybe", range=m.Range(gte=0))]),  # null never matches a range
        m.Filter(must=[m.Filter(should=[fc(key="n", match=m.MatchValue(value=7)), fc(key="n", match=m.MatchValue(value=9))])]),
        m.Filter(min_should=m.MinShould(conditions=[fc(key="color", match=m.MatchValue(value="red")), fc(key="n", range=m.Range(lt=30))], min_count=2)),
        m.Filter(must=[fc(key="meta.tags", values_count=m.ValuesCount(gte=2))]),
    ]


def same_collection(rest: QdrantClient, g: QdrantClient, name: str) -> None:
    a = rest.scroll(name, limit=1000, with_vectors=True)[0]
    b = g.scroll(name, limit=1000, with_vectors=True)[0]
    assert [(p.id, p.payload) for p in a] == [(p.id, p.payload) for p in b]
    for p, q in zip(a, b):
        np.testing.assert_allclose(p.vector, q.vector, rtol=1e-6)


def test_health_and_collections(server, client, g):
    name = unique_name("grpc")
    assert not g.collection_exists(name)
    g.create_collection(
        name,
        vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE),
        hnsw_config=m.HnswConfigDiff(m=8, ef_construct=64),
        quantization_config=m.ScalarQuantization(scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8, always_ram=True)),
    )
    assert g.collection_exists(name)
    assert name in [c.name for c in g.get_collections().collections]
    info_g, info_r = g.get_collection(name), client.get_collection(name)
    assert info_g.status == info_r.status
    assert info_g.config.params.vectors == info_r.config.params.vectors
    assert info_g.config.hnsw_config.m == 8 and info_g.config.hnsw_config.ef_construct == 64
    assert isinstance(info_g.config.quantization_config, m.ScalarQuantization)
    g.create_payload_index(name, "color", field_schema=m.PayloadSchemaType.KEYWORD, wait=True)
    assert g.get_collection(name).payload_schema["color"].data_type == m.PayloadSchemaType.KEYWORD
    g.delete_payload_index(name, "color", wait=True)
    assert "color" not in g.get_collection(name).payload_schema
    # aliases
    alias = unique_name("alias")
    g.update_collection_aliases([m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=name, alias_name=alias))])
    assert [(a.alias_name, a.collection_name) for a in g.get_collection_aliases(name).aliases] == [(alias, name)]
    assert (alias, name) in [(a.alias_name, a.collection_name) for a in g.get_aliases().aliases]
    g.update_collection_aliases([m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=alias))])
    assert g.get_collection_aliases(name).aliases == []
    assert g.delete_collection(name)
    assert not g.collection_exists(name)


def test_points_match_rest(client, g):
    """The same writes through gRPC and REST give the same stored points, and every read
    answers alike through both protocols."""
    a, b = unique_name("viarest"), unique_name("viagrpc")
    for c, name in ((client, a), (g, b)):
        c.create_collection(name, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
        c.create_payload_index(name, "color", field_schema=m.PayloadSchemaType.KEYWORD, wait=True)
        c.create_payload_index(name, "n", field_schema=m.PayloadSchemaType.INTEGER, wait=True)
    pts = points(120, seed=1, uuids=True)
    for c, name in ((client, a), (g, b)):
        c.upsert(name, points=pts[:60], wait=True)
        c.upsert(
            name,
            points=m.Batch(ids=[p.id for p in pts[60:]], vectors=[p.vector for p in pts[60:]], payloads=[p.payload for p in pts[60:]]),
            wait=True,
        )
        c.set_payload(name, {"extra": {"k": [1, 2.5, "x"]}}, points=[0, 2, 4], wait=True)
        c.set_payload(name, {"x": 1}, points=[6], key="meta.depth", wait=True)
        c.overwrite_payload(name, {"only": True}, points=[8], wait=True)
        c.delete_payload(name, ["price"], points=m.Filter(must=[m.FieldCondition(key="color", match=m.MatchValue(value="blue"))]), wait=True)
        c.clear_payload(name, points_selector=[10], wait=True)
        c.delete(name, points_selector=[12, 14], wait=True)
        c.delete(name, points_selector=m.Filter(must=[m.FieldCondition(key="n", range=m.Range(gt=110))]), wait=True)
    same_collection(client, g, a)
    same_collection(client, g, b)
    assert client.scroll(a, limit=1000)[0] == g.scroll(b, limit=1000)[0]

    ids = [p.id for p in pts[:30]]
    assert client.retrieve(a, ids, with_vectors=True) == g.retrieve(a, ids, with_vectors=True)
    assert g.retrieve(a, ids[:3], with_payload=["n"]) == client.retrieve(a, ids[:3], with_payload=["n"])
    # paging
    page, offset = g.scroll(a, limit=7)
    assert page == client.scroll(a, limit=7)[0] and offset == client.scroll(a, limit=7)[1]
    assert g.scroll(a, limit=7, offset=offset) == client.scroll(a, limit=7, offset=offset)
    assert g.scroll(a, limit=5, order_by=m.OrderBy(key="n", direction="desc")) == client.scroll(a, limit=5, order_by=m.OrderBy(key="n", direction="desc"))

    rng = np.random.default_rng(3)
    for f in [None] + filters():
        assert g.count(a, count_filter=f).count == client.count(a, count_filter=f).count, f
        q = rng.uniform(-1, 1, DIM).tolist()
        kw = dict(query=q, limit=7, query_filter=f, with_payload=True, search_params=m.SearchParams(exact=True))
        ra, rb = client.query_points(a, **kw).points, g.query_points(a, **kw).points
        assert [p.id for p in ra] == [p.id for p in rb], f
        np.testing.assert_allclose([p.score for p in ra], [p.score for p in rb], rtol=1e-5)
        assert [p.payload for p in ra] == [p.payload for p in rb]

    # query by id, with vectors, offset, score threshold, fusion of prefetches, batch
    kw = dict(query=ids[5], limit=4, offset=1, with_vectors=True, score_threshold=-0.5)
    assert g.query_points(a, **kw) == client.query_points(a, **kw)
    fused = dict(
        prefetch=[m.Prefetch(query=rng.uniform(-1, 1, DIM).tolist(), limit=20), m.Prefetch(query=ids[7], limit=20, filter=filters()[0])],
        query=m.FusionQuery(fusion=m.Fusion.RRF),
        limit=6,
    )
    assert [p.id for p in g.query_points(a, **fused).points] == [p.id for p in client.query_points(a, **fused).points]
    reqs = [m.QueryRequest(query=rng.uniform(-1, 1, DIM).tolist(), limit=3, filter=f) for f in filters()[:4]]
    assert [[p.id for p in r.points] for r in g.query_batch_points(a, reqs)] == [[p.id for p in r.points] for r in client.query_batch_points(a, reqs)]
    ordered = dict(query=m.OrderByQuery(order_by=m.OrderBy(key="n")), limit=5)
    assert [p.id for p in g.query_points(a, **ordered).points] == [p.id for p in client.query_points(a, **ordered).points]
    for name in (a, b):
        client.delete_collection(name)


def test_named_and_sparse_vectors(client, g):
    name = unique_name("grpcnamed")
    g.create_collection(
        name,
        vectors_config={"img": m.VectorParams(size=4, distance=m.Distance.DOT), "txt": m.VectorParams(size=2, distance=m.Distance.EUCLID)},
        sparse_vectors_config={"bm": m.SparseVectorParams(modifier=m.Modifier.IDF)},
    )
    info = g.get_collection(name)
    assert set(info.config.params.vectors) == {"img", "txt"}
    assert info.config.params.sparse_vectors["bm"].modifier == m.Modifier.IDF
    g.upsert(name, [
        m.PointStruct(id=1, vector={"img": [1, 0, 0, 0], "txt": [0, 1], "bm": m.SparseVector(indices=[3, 9], values=[0.5, 1.0])}),
        m.PointStruct(id=2, vector={"img": [0, 1, 0, 0], "bm": m.SparseVector(indices=[9], values=[2.0])}),
    ], wait=True)
    got = g.retrieve(name, [1, 2], with_vectors=True)
    assert got == client.retrieve(name, [1, 2], with_vectors=True)
    assert got[0].vector["bm"] == m.SparseVector(indices=[3, 9], values=[0.5, 1.0])
    r = g.query_points(name, query=[0, 1, 0, 0], using="img", limit=1)
    assert [p.id for p in r.points] == [2]
    r = g.query_points(name, query=m.SparseVector(indices=[9], values=[1.0]), using="bm", limit=2)
    assert [p.id for p in r.points] == [p.id for p in client.query_points(name, query=m.SparseVector(indices=[9], values=[1.0]), using="bm", limit=2).points]
    client.delete_collection(name)


def test_errors_carry_grpc_status(client, g):
    with pytest.raises(Exception) as e:
        g.get_collection(unique_name("missing"))
    assert rpc_code(e) == grpc.StatusCode.NOT_FOUND
    name = unique_name("grpcerr")
    g.create_collection(name, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.DOT))
    with pytest.raises(Exception) as e:
        g.create_collection(name, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.DOT))
    assert rpc_code(e) in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.INVALID_ARGUMENT)
    with pytest.raises(Exception) as e:
        g.upsert(name, [m.PointStruct(id=1, vector=[1.0, 2.0])], wait=True)
    assert rpc_code(e) == grpc.StatusCode.INVALID_ARGUMENT
    assert "dimension" in e.value.details().lower() or "expected" in e.value.details().lower()
    with pytest.raises(Exception) as e:
        g.query_points(name, query=[0.1] * (DIM + 1), limit=3)
    assert rpc_code(e) == grpc.StatusCode.INVALID_ARGUMENT
    g.upsert(name, [m.PointStruct(id=1, vector=[1.0] * DIM)], wait=True)
    with pytest.raises(Exception) as e:
        g.query_points(name, query=m.RecommendQuery(recommend=m.RecommendInput(positive=[1])), limit=3)
    assert rpc_code(e) == grpc.StatusCode.UNIMPLEMENTED
    assert "REST" in e.value.details()
    assert g.count(name).count == 1  # nothing was written by the refused calls
    client.delete_collection(name)


def test_raw_calls_outside_the_served_set(server):
    """Unknown methods, compressed and malformed messages get a status, not a crash."""
    from qdrant_client.grpc import points_pb2, points_service_pb2_grpc, qdrant_pb2, qdrant_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as ch:
        reply = qdrant_pb2_grpc.QdrantStub(ch).HealthCheck(qdrant_pb2.HealthCheckRequest())
        assert reply.version and reply.title
        stub = points_service_pb2_grpc.PointsStub(ch)
        with pytest.raises(grpc.RpcError) as e:
            stub.Facet(points_pb2.FacetCounts(collection_name="x", key="k"))
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        raw = ch.unary_unary("/qdrant.Points/Query", request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as e:
            raw(b"\xff\xff\xff\xff")
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as e:
            stub.Query(points_pb2.QueryPoints(collection_name=""))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # inputs that need server-side inference
        doc = points_pb2.Query(nearest=points_pb2.VectorInput(document=points_pb2.Document(text="hi", model="m")))
        with pytest.raises(grpc.RpcError) as e:
            stub.Query(points_pb2.QueryPoints(collection_name="x", query=doc))
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED and "inference" in e.value.details()
    # the server is still healthy
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as ch:
        assert qdrant_pb2_grpc.QdrantStub(ch).HealthCheck(qdrant_pb2.HealthCheckRequest()).version


def test_api_keys_over_grpc(start_server):
    srv = start_server(api_key="full-key", read_only_api_key="read-key")
    name = unique_name("grpcauth")
    none = grpc_client(srv)
    with pytest.raises(Exception) as e:
        none.get_collections()
    assert rpc_code(e) == grpc.StatusCode.UNAUTHENTICATED
    full = grpc_client(srv, api_key="full-key", https=False)
    full.create_collection(name, vectors_config=m.VectorParams(size=2, distance=m.Distance.DOT))
    full.upsert(name, [m.PointStruct(id=1, vector=[1.0, 0.0])], wait=True)
    ro = grpc_client(srv, api_key="read-key", https=False)
    assert [p.id for p in ro.query_points(name, query=[1.0, 0.0], limit=1).points] == [1]
    assert ro.count(name).count == 1
    with pytest.raises(Exception) as e:
        ro.upsert(name, [m.PointStruct(id=2, vector=[0.0, 1.0])], wait=True)
    assert rpc_code(e) == grpc.StatusCode.PERMISSION_DENIED
    wrong = grpc_client(srv, api_key="nope", https=False)
    with pytest.raises(Exception) as e:
        wrong.count(name)
    assert rpc_code(e) == grpc.StatusCode.UNAUTHENTICATED
    assert full.count(name).count == 1
    for c in (none, full, ro, wrong):
        c.close()


def test_async_client(server):
    async def go():
        c = AsyncQdrantClient(host=server.host, port=server.port, grpc_port=server.grpc_port, prefer_grpc=True, timeout=30)
        name = unique_name("grpcasync")
        await c.create_collection(name, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.EUCLID))
        pts = points(50, seed=7)
        await c.upsert(name, pts, wait=True)
        assert (await c.count(name)).count == 50
        res = await asyncio.gather(*[c.query_points(name, query=p.vector, limit=1) for p in pts[:10]])
        assert [r.points[0].id for r in res] == [p.id for p in pts[:10]]
        got = await c.retrieve(name, [3], with_vectors=True)
        np.testing.assert_allclose(got[0].vector, pts[3].vector, rtol=1e-6)
        await c.delete_collection(name)
        await c.close()

    asyncio.run(go())


def test_upload_collection_without_waiting(server, client, g):
    name = unique_name("grpcupload")
    g.create_collection(name, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.DOT))
    vecs = np.random.default_rng(5).standard_normal((2000, DIM)).astype(np.float32)
    g.upload_collection(name, vectors=vecs, payload=({"i": i} for i in range(2000)), ids=range(2000), batch_size=256, wait=False)
    import time

    deadline = time.monotonic() + 30
    while client.count(name).count < 2000:
        assert time.monotonic() < deadline, "acknowledged points did not all arrive"
        time.sleep(0.05)
    got = g.retrieve(name, [1999], with_vectors=True)[0]
    assert got.payload == {"i": 1999}
    np.testing.assert_allclose(got.vector, vecs[1999], rtol=1e-6)
    client.delete_collection(name)


def test_random_messages_never_break_the_server(start_server):
    """Random bytes sent to every served method: each call ends with a status that is not
    INTERNAL or UNKNOWN, and the server stays healthy."""
    srv = start_server()
    methods = [
        "/qdrant.Collections/Get", "/qdrant.Collections/Create", "/qdrant.Collections/Delete",
        "/qdrant.Collections/CollectionExists", "/qdrant.Collections/UpdateAliases",
        "/qdrant.Points/Upsert", "/qdrant.Points/Delete", "/qdrant.Points/Get", "/qdrant.Points/SetPayload",
        "/qdrant.Points/DeletePayload", "/qdrant.Points/ClearPayload", "/qdrant.Points/CreateFieldIndex",
        "/qdrant.Points/Scroll", "/qdrant.Points/Count", "/qdrant.Points/Search", "/qdrant.Points/SearchBatch",
        "/qdrant.Points/Query", "/qdrant.Points/QueryBatch",
    ]
    g = grpc_client(srv)
    g.create_collection("fuzz", vectors_config=m.VectorParams(size=4, distance=m.Distance.DOT))
    g.upsert("fuzz", [m.PointStruct(id=i, vector=[1.0, 0.0, 0.0, float(i)]) for i in range(10)], wait=True)
    from qdrant_client.grpc import points_pb2

    rng = random.Random(11)
    # valid messages for the fuzz collection with a few bytes flipped reach deeper than noise
    seeds = [
        points_pb2.QueryPoints(collection_name="fuzz", limit=3).SerializeToString(),
        points_pb2.CountPoints(collection_name="fuzz").SerializeToString(),
        points_pb2.ScrollPoints(collection_name="fuzz", limit=2).SerializeToString(),
    ]
    bad = []
    with grpc.insecure_channel(f"127.0.0.1:{srv.grpc_port}") as ch:
        for i in range(600):
            if i % 2:
                msg = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 64)))
            else:
                msg = bytearray(rng.choice(seeds))
                for _ in range(rng.randrange(1, 4)):
                    msg[rng.randrange(len(msg))] = rng.getrandbits(8)
                msg = bytes(msg)
            call = ch.unary_unary(rng.choice(methods), request_serializer=lambda b: b, response_deserializer=lambda b: b)
            try:
                call(msg, timeout=10)
            except grpc.RpcError as e:
                if e.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
                    bad.append((msg, e.code(), e.details()))
    assert not bad, bad[:5]
    assert g.count("fuzz").count >= 0
    assert grpc_client(srv).get_collections() is not None


def test_vector_names_added_and_deleted(start_server):
    """create_vector_name / delete_vector_name over REST and gRPC: old points lack an added
    vector, a deleted one is gone from every point, a re-created name starts empty, and all
    of it survives a restart."""
    srv = start_server()
    rest = QdrantClient(url=srv.url, timeout=30)
    g = grpc_client(srv)
    name = unique_name("vecnames")
    rest.create_collection(name, vectors_config={"a": m.VectorParams(size=4, distance=m.Distance.COSINE)})
    rest.upsert(name, [m.PointStruct(id=i, vector={"a": [1, i, 0, 0]}, payload={"i": i}) for i in range(20)], wait=True)

    r = rest.create_vector_name(name, "b", m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=3, distance=m.Distance.DOT)))
    assert r.status == m.UpdateStatus.COMPLETED
    g.create_vector_name(name, "s", m.SparseVectorNameConfig(sparse=m.SparseVectorConfig(modifier=m.Modifier.IDF)))
    params = rest.get_collection(name).config.params
    assert set(params.vectors) == {"a", "b"} and params.vectors["b"].size == 3
    assert params.sparse_vectors["s"].modifier == m.Modifier.IDF
    with pytest.raises(UnexpectedResponse) as e:
        rest.create_vector_name(name, "b", m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=3, distance=m.Distance.DOT)))
    assert e.value.status_code == 400
    with pytest.raises(grpc.RpcError) as e:
        g.create_vector_name(name, "a", m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=3, distance=m.Distance.DOT)))
    assert rpc_code(e) == grpc.StatusCode.INVALID_ARGUMENT

    old = rest.retrieve(name, [3], with_vectors=True)[0]
    assert set(old.vector) == {"a"}, "points written before lack the new vectors"
    rest.upsert(name, [m.PointStruct(id=100, vector={"a": [0, 0, 1, 0], "b": [1, 2, 3], "s": m.SparseVector(indices=[7], values=[1.0])})], wait=True)
    assert [p.id for p in rest.query_points(name, query=[1, 1, 1], using="b", limit=5).points] == [100]
    assert [p.id for p in g.query_points(name, query=m.SparseVector(indices=[7], values=[1.0]), using="s", limit=5).points] == [100]

    srv.stop()
    srv.restart()
    rest = QdrantClient(url=srv.url, timeout=30)
    g.close()
    g = grpc_client(srv)
    assert set(rest.retrieve(name, [100], with_vectors=True)[0].vector) == {"a", "b", "s"}
    assert set(rest.retrieve(name, [3], with_vectors=True)[0].vector) == {"a"}

    g.delete_vector_name(name, "b")
    rest.delete_vector_name(name, "s")
    with pytest.raises(UnexpectedResponse) as e:
        rest.delete_vector_name(name, "s")
    assert e.value.status_code == 404
    assert set(rest.get_collection(name).config.params.vectors) == {"a"}
    assert set(rest.retrieve(name, [100], with_vectors=True)[0].vector) == {"a"}
    rest.create_vector_name(name, "b", m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=3, distance=m.Distance.DOT)))
    assert rest.query_points(name, query=[1, 1, 1], using="b", limit=5).points == [], "old b values never come back"
    srv.stop()
    srv.restart()
    rest = QdrantClient(url=srv.url, timeout=30)
    assert rest.query_points(name, query=[1, 1, 1], using="b", limit=5).points == []
    # a datatype given over gRPC is kept
    g.close()
    g = grpc_client(srv)
    half = m.DenseVectorConfig(size=2, distance=m.Distance.DOT, datatype=m.Datatype.FLOAT16)
    g.create_vector_name(name, "h", m.DenseVectorNameConfig(dense=half))
    assert rest.get_collection(name).config.params.vectors["h"].datatype == m.Datatype.FLOAT16
    g.close()
    assert rest.count(name).count == 21
    g.close()
