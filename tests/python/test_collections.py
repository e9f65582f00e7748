"""Service and collection-level endpoints through the unchanged `qdrant-client` (sync and async)."""

from __future__ import annotations

import asyncio
import warnings

import httpx
import pytest
from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name


def test_info_version(client: QdrantClient):
    info = client.info()
    assert info.title
    assert info.version.split(".")[0] == "1"
    from qdrant_client.common.version_check import is_compatible
    import importlib.metadata as md

    assert is_compatible(md.version("qdrant-client"), info.version), info.version


def test_root_is_not_enveloped(http: httpx.Client):
    r = http.get("/")
    assert r.status_code == 200
    body = r.json()
    assert "result" not in body
    assert isinstance(body["title"], str) and isinstance(body["version"], str)


def test_no_version_warning(server):
    """Building a client runs a version check (GET /) in a background thread; it must stay quiet."""
    import threading

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = set(threading.enumerate())
        c = QdrantClient(url=server.url, check_compatibility=True)
        for t in set(threading.enumerate()) - before:
            if "check_compatibility" in t.name:
                t.join(timeout=10)
        c.get_collections()
        c.close()
    msgs = [str(w.message) for w in caught if "version" in str(w.message).lower()]
    assert not msgs, msgs


@pytest.mark.parametrize(
    "path,expect",
    [("/healthz", "healthz check passed"), ("/livez", "healthz check passed"), ("/readyz", None)],
)
def test_health_endpoints(http: httpx.Client, path, expect):
    r = http.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain"), r.headers
    if expect:
        assert r.text.strip() == expect


def test_metrics_and_telemetry(http: httpx.Client, client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Dot"))
    r = http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "collections_total" in r.text
    r = http.get("/telemetry")
    assert r.status_code == 200, r.text
    body = r.json()["result"]
    assert isinstance(body["id"], str)
    assert body["collections"]["number_of_collections"] >= 1
    # the generated wrapper must be able to parse it
    client.http.service_api.telemetry()
    assert client.cluster_status().status == "disabled"
    ci = client.collection_cluster_info(cname)
    assert ci.shard_count == 1 and ci.local_shards and ci.remote_shards == []


def test_create_single_vector_every_distance(client: QdrantClient):
    for dist in models.Distance:
        name = unique_name(f"dist_{dist.value.lower()}")
        assert client.create_collection(name, vectors_config=models.VectorParams(size=3, distance=dist))
        info = client.get_collection(name)
        assert info.config.params.vectors.size == 3
        assert info.config.params.vectors.distance == dist
        assert info.points_count == 0
        assert info.status == models.CollectionStatus.GREEN
        assert info.payload_schema == {}
        assert client.delete_collection(name)


def test_create_named_and_sparse(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config={
            "image": models.VectorParams(size=4, distance=models.Distance.DOT, on_disk=True),
            "text": models.VectorParams(size=2, distance=models.Distance.EUCLID),
        },
        sparse_vectors_config={
            "bm25": models.SparseVectorParams(modifier=models.Modifier.IDF),
            "plain": models.SparseVectorParams(),
        },
        metadata={"owner": "me"},
    )
    info = client.get_collection(cname)
    v = info.config.params.vectors
    assert set(v) == {"image", "text"}
    assert v["image"].size == 4 and v["image"].distance == models.Distance.DOT
    assert v["text"].size == 2 and v["text"].distance == models.Distance.EUCLID
    assert set(info.config.params.sparse_vectors) == {"bm25", "plain"}
    assert info.config.params.sparse_vectors["bm25"].modifier == models.Modifier.IDF
    assert info.config.metadata == {"owner": "me"}


def test_create_sparse_only(client: QdrantClient, cname):
    client.create_collection(cname, sparse_vectors_config={"s": models.SparseVectorParams()})
    info = client.get_collection(cname)
    assert info.config.params.vectors in ({}, None)
    assert set(info.config.params.sparse_vectors) == {"s"}


def test_create_with_all_the_options(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config=models.VectorParams(size=8, distance=models.Distance.MANHATTAN),
        shard_number=1,
        on_disk_payload=True,
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=200, payload_m=16),
        wal_config=models.WalConfigDiff(wal_capacity_mb=64),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0),
        quantization_config=models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, quantile=0.99, always_ram=True)
        ),
        strict_mode_config=models.StrictModeConfig(enabled=False),
        timeout=30,
    )
    info = client.get_collection(cname)
    assert info.config.params.vectors.distance == models.Distance.MANHATTAN


def test_collections_list_exists_delete(client: QdrantClient):
    a, b = unique_name("la"), unique_name("lb")
    for n in (a, b):
        client.create_collection(n, vectors_config=models.VectorParams(size=2, distance="Cosine"))
    names = {c.name for c in client.get_collections().collections}
    assert {a, b} <= names
    assert client.collection_exists(a)
    assert not client.collection_exists(unique_name("missing"))
    assert client.delete_collection(a) is True
    assert not client.collection_exists(a)
    # deleting a missing collection: 200 with result false
    assert client.delete_collection(a) is False
    assert a not in {c.name for c in client.get_collections().collections}


def test_duplicate_create_is_409(client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Cosine"))
    with pytest.raises(UnexpectedResponse) as e:
        client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Cosine"))
    assert e.value.status_code == 409
    assert "already exists" in e.value.content.decode()


def test_unknown_collection_is_404(client: QdrantClient):
    missing = unique_name("missing")
    calls = [
        lambda: client.get_collection(missing),
        lambda: client.upsert(missing, [models.PointStruct(id=1, vector=[1.0, 2.0])]),
        lambda: client.retrieve(missing, [1]),
        lambda: client.scroll(missing),
        lambda: client.count(missing),
        lambda: client.query_points(missing, query=[1.0, 2.0]),
        lambda: client.delete(missing, [1]),
        lambda: client.set_payload(missing, {"a": 1}, points=[1]),
        lambda: client.create_payload_index(missing, "a", models.PayloadSchemaType.KEYWORD),
        lambda: client.get_collection_aliases(missing),
    ]
    for call in calls:
        with pytest.raises(UnexpectedResponse) as e:
            call()
        assert e.value.status_code == 404, e.value
        body = e.value.structured()
        assert isinstance(body["status"]["error"], str)


def test_recreate_collection(client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Cosine"))
    client.upsert(cname, [models.PointStruct(id=1, vector=[1.0, 0.0])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client.recreate_collection(cname, vectors_config=models.VectorParams(size=3, distance="Dot"))
    info = client.get_collection(cname)
    assert info.points_count == 0
    assert info.config.params.vectors.size == 3
    assert info.config.params.vectors.distance == models.Distance.DOT


def test_update_collection(client: QdrantClient, cname):
    client.create_collection(
        cname,
        vectors_config=models.VectorParams(size=2, distance="Cosine"),
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    ok = client.update_collection(
        cname,
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=20000),
        collection_params=models.CollectionParamsDiff(replication_factor=1),
        vectors_config={"": models.VectorParamsDiff(on_disk=True)},
        hnsw_config=models.HnswConfigDiff(ef_construct=123),
        quantization_config=models.Disabled.DISABLED,
        sparse_vectors_config={"s": models.SparseVectorParams(index=models.SparseIndexParams(full_scan_threshold=100))},
        metadata={"k": "v"},
    )
    assert ok is True
    client.get_collection(cname)  # still parses


def test_aliases(client: QdrantClient):
    col = unique_name("alias_target")
    other = unique_name("alias_other")
    for n in (col, other):
        client.create_collection(n, vectors_config=models.VectorParams(size=2, distance="Dot"))
    a1, a2 = unique_name("a1"), unique_name("a2")
    assert client.update_collection_aliases(
        [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=col, alias_name=a1))]
    )
    got = {(a.alias_name, a.collection_name) for a in client.get_aliases().aliases}
    assert (a1, col) in got
    assert [a.alias_name for a in client.get_collection_aliases(col).aliases] == [a1]

    # the alias works as a collection name everywhere
    client.upsert(a1, [models.PointStruct(id=7, vector=[1.0, 2.0], payload={"x": 1})])
    assert client.count(col).count == 1
    assert client.retrieve(a1, [7])[0].payload == {"x": 1}
    assert client.query_points(a1, query=[1.0, 1.0]).points[0].id == 7
    assert client.get_collection(a1).points_count == 1
    assert client.collection_exists(a1)

    # rename
    client.update_collection_aliases(
        [models.RenameAliasOperation(rename_alias=models.RenameAlias(old_alias_name=a1, new_alias_name=a2))]
    )
    names = {a.alias_name for a in client.get_aliases().aliases}
    assert a2 in names and a1 not in names
    assert client.count(a2).count == 1

    # create_alias on an existing alias re-points it
    client.update_collection_aliases(
        [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=other, alias_name=a2))]
    )
    assert client.count(a2).count == 0
    assert [a.alias_name for a in client.get_collection_aliases(other).aliases] == [a2]
    assert client.get_collection_aliases(col).aliases == []

    # delete
    client.update_collection_aliases([models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=a2))])
    assert a2 not in {a.alias_name for a in client.get_aliases().aliases}
    with pytest.raises(UnexpectedResponse) as e:
        client.count(a2)
    assert e.value.status_code == 404


def test_alias_actions_are_atomic(client: QdrantClient):
    col = unique_name("atomic")
    client.create_collection(col, vectors_config=models.VectorParams(size=2, distance="Dot"))
    a = unique_name("al")
    with pytest.raises(UnexpectedResponse) as e:
        client.update_collection_aliases(
            [
                models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=col, alias_name=a)),
                models.CreateAliasOperation(
                    create_alias=models.CreateAlias(collection_name=unique_name("nope"), alias_name=unique_name("x"))
                ),
            ]
        )
    assert 400 <= e.value.status_code < 500
    assert a not in {x.alias_name for x in client.get_aliases().aliases}


def test_payload_index_shows_in_schema(client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Dot"))
    client.upsert(
        cname,
        [
            models.PointStruct(id=1, vector=[1.0, 0.0], payload={"city": "Berlin", "n": 1, "body": "hello world"}),
            models.PointStruct(id=2, vector=[0.0, 1.0], payload={"city": "London", "n": 2.5}),
        ],
    )
    r = client.create_payload_index(cname, "city", models.PayloadSchemaType.KEYWORD)
    assert r.status == models.UpdateStatus.COMPLETED
    client.create_payload_index(
        cname, "n", models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=True, range=True)
    )
    client.create_payload_index(
        cname,
        "body",
        models.TextIndexParams(
            type=models.TextIndexType.TEXT,
            tokenizer=models.TokenizerType.WORD,
            min_token_len=2,
            max_token_len=20,
            lowercase=True,
        ),
    )
    client.create_payload_index(cname, "ts", "datetime", wait=False)
    client.create_payload_index(cname, "a.b[].c", models.PayloadSchemaType.FLOAT)
    schema = client.get_collection(cname).payload_schema
    assert schema["city"].data_type == models.PayloadSchemaType.KEYWORD
    assert schema["city"].points == 2
    assert schema["n"].data_type == models.PayloadSchemaType.INTEGER
    assert schema["body"].data_type == models.PayloadSchemaType.TEXT
    assert schema["body"].params.tokenizer == models.TokenizerType.WORD
    assert schema["ts"].data_type == models.PayloadSchemaType.DATETIME
    assert schema["a.b[].c"].data_type == models.PayloadSchemaType.FLOAT

    # delete (the field name is percent-encoded in the path)
    assert client.delete_payload_index(cname, "a.b[].c").status == models.UpdateStatus.COMPLETED
    client.delete_payload_index(cname, "city")
    schema = client.get_collection(cname).payload_schema
    assert "city" not in schema and "a.b[].c" not in schema and "n" in schema


def test_every_index_type(client: QdrantClient, cname):
    client.create_collection(cname, vectors_config=models.VectorParams(size=2, distance="Dot"))
    for i, t in enumerate(models.PayloadSchemaType):
        client.create_payload_index(cname, f"f{i}", t)
    schema = client.get_collection(cname).payload_schema
    for i, t in enumerate(models.PayloadSchemaType):
        assert schema[f"f{i}"].data_type == t


def test_async_client_collections(server):
    async def main():
        c = AsyncQdrantClient(url=server.url)
        name = unique_name("async_col")
        try:
            assert (await c.info()).version
            assert await c.create_collection(name, vectors_config=models.VectorParams(size=3, distance="Euclid"))
            assert await c.collection_exists(name)
            assert name in {x.name for x in (await c.get_collections()).collections}
            info = await c.get_collection(name)
            assert info.config.params.vectors.distance == models.Distance.EUCLID
            alias = unique_name("async_alias")
            await c.update_collection_aliases(
                [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=alias))]
            )
            assert [a.alias_name for a in (await c.get_collection_aliases(name)).aliases] == [alias]
            await c.create_payload_index(name, "k", models.PayloadSchemaType.KEYWORD)
            assert "k" in (await c.get_collection(name)).payload_schema
            await c.delete_payload_index(name, "k")
            assert await c.update_collection(name, optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1))
            with pytest.raises(UnexpectedResponse) as e:
                await c.get_collection(unique_name("nope"))
            assert e.value.status_code == 404
            assert await c.delete_collection(name)
            assert not await c.collection_exists(name)
        finally:
            await c.close()

    asyncio.run(main())
