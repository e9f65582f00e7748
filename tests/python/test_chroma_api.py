"""The Chroma HTTP API v2 through the unchanged chromadb HttpClient / AsyncHttpClient.

Explicit embeddings everywhere (the client's default embedding function downloads a model).
Expected values follow shared/reference/chroma-http.md (recorded from chromadb 1.5.9).
"""

from __future__ import annotations

import asyncio
import base64
import struct

import chromadb
import httpx
import pytest
from chromadb.config import Settings
from chromadb.errors import ChromaError, InvalidArgumentError, NotFoundError

from conftest import unique_name


@pytest.fixture(scope="module")
def chroma(server):
    return chromadb.HttpClient(host=server.host, port=server.port)


@pytest.fixture(scope="module")
def admin(server):
    return chromadb.AdminClient(
        Settings(
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=server.host,
            chroma_server_http_port=server.port,
        )
    )


def new_collection(chroma, **kwargs):
    return chroma.create_collection(unique_name("ch"), embedding_function=None, **kwargs)


def test_system_endpoints(chroma, server):
    assert chroma.heartbeat() > 0
    assert isinstance(chroma.get_version(), str)
    assert chroma.get_max_batch_size() > 0
    base = server.url + "/api/v2"
    assert httpx.get(base).json()["nanosecond heartbeat"] > 0
    assert httpx.get(base + "/auth/identity").json()["user_id"] == ""
    r = httpx.post(base + "/reset")
    assert r.status_code == 403 and r.json()["error"] == "ChromaError"
    r = httpx.get(server.url + "/api/v1/collections")
    assert r.status_code == 410
    with pytest.raises(ChromaError):
        chroma.reset()


def test_tenants_and_databases(admin, server):
    tenant = unique_name("tenant")
    admin.create_tenant(tenant)
    assert admin.get_tenant(tenant)["name"] == tenant
    with pytest.raises(ChromaError, match="already exists"):
        admin.create_tenant(tenant)
    with pytest.raises(NotFoundError):
        admin.get_tenant(unique_name("nope"))
    admin.create_database("db_one", tenant=tenant)
    admin.create_database("db_two", tenant=tenant)
    with pytest.raises(ChromaError, match="already exists"):
        admin.create_database("db_one", tenant=tenant)
    with pytest.raises(InvalidArgumentError):
        admin.create_database("x", tenant=tenant)
    names = [d["name"] for d in admin.list_databases(tenant=tenant)]
    assert names == ["db_one", "db_two"]
    assert [d["name"] for d in admin.list_databases(tenant=tenant, limit=1, offset=1)] == ["db_two"]
    db = admin.get_database("db_one", tenant=tenant)
    assert db["tenant"] == tenant and db["id"]
    client = chromadb.HttpClient(host=server.host, port=server.port, tenant=tenant, database="db_one")
    col = client.create_collection("inner", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    assert col.count() == 1
    admin.delete_database("db_two", tenant=tenant)
    assert [d["name"] for d in admin.list_databases(tenant=tenant)] == ["db_one"]
    with pytest.raises(NotFoundError):
        admin.get_database("db_two", tenant=tenant)
    with pytest.raises(NotFoundError):
        chromadb.HttpClient(host=server.host, port=server.port, tenant=tenant, database="db_two")


def dimension(server, name):
    url = f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections/{name}"
    return httpx.get(url).json()["dimension"]


def test_collection_lifecycle(chroma, server):
    name = unique_name("life")
    col = chroma.create_collection(
        name, metadata={"hnsw:space": "cosine", "foo": "bar"}, embedding_function=None
    )
    assert col.metadata == {"hnsw:space": "cosine", "foo": "bar"}
    assert col.configuration_json["hnsw"]["space"] == "cosine"
    with pytest.raises(ChromaError, match=r"Collection \[.*\] already exists"):
        chroma.create_collection(name, embedding_function=None)
    same = chroma.get_or_create_collection(name, metadata={"other": 1}, embedding_function=None)
    assert same.id == col.id and same.metadata == {"hnsw:space": "cosine", "foo": "bar"}
    assert chroma.get_collection(name).id == col.id
    assert dimension(server, name) is None
    col.add(ids=["a"], embeddings=[[1.0, 0.0, 0.0]])
    assert dimension(server, name) == 3
    assert name in [c.name for c in chroma.list_collections()]
    assert chroma.count_collections() >= 1
    renamed = name + "_r"
    col.modify(name=renamed, metadata={"m": 1})
    got = chroma.get_collection(renamed)
    assert got.metadata == {"m": 1} and got.id == col.id
    assert got.configuration_json["hnsw"]["space"] == "cosine"
    col.modify(configuration={"hnsw": {"ef_search": 77}})
    assert chroma.get_collection(renamed).configuration_json["hnsw"]["ef_search"] == 77
    with pytest.raises(NotFoundError):
        chroma.get_collection(name)
    chroma.delete_collection(renamed)
    with pytest.raises(NotFoundError):
        chroma.delete_collection(renamed)
    with pytest.raises(InvalidArgumentError):
        chroma.create_collection("ab", embedding_function=None)
    with pytest.raises(InvalidArgumentError):
        chroma.create_collection(unique_name("bad"), metadata={"hnsw:space": "nope"})


def test_list_collections_is_ordered_by_id_and_pages(chroma):
    for _ in range(3):
        new_collection(chroma)
    all_cols = chroma.list_collections()
    ids = [str(c.id) for c in all_cols]
    assert ids == sorted(ids)
    page = chroma.list_collections(limit=2, offset=1)
    assert [str(c.id) for c in page] == ids[1:3]


@pytest.mark.parametrize(
    "space,query,expected",
    [
        ("cosine", [2, 0, 0], {"a": 0.0, "c": 0.29289323, "b": 1.0, "d": 2.0}),
        ("ip", [2, 0, 0], {"a": -1.0, "c": -1.0, "b": 1.0, "d": 3.0}),
        ("l2", [1, 0, 0], {"a": 0.0, "b": 5.0, "c": 1.0, "d": 4.0}),
    ],
)
def test_distances_follow_chroma_definitions(chroma, space, query, expected):
    col = new_collection(chroma, configuration={"hnsw": {"space": space}})
    col.add(
        ids=["a", "b", "c", "d"],
        embeddings=[[1, 0, 0], [0, 2, 0], [1, 1, 0], [-1, 0, 0]],
    )
    res = col.query(query_embeddings=[query], n_results=4, include=["distances"])
    got = dict(zip(res["ids"][0], res["distances"][0]))
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=1e-6), k
    assert res["distances"][0] == sorted(res["distances"][0])


def test_cosine_returns_vectors_as_given(chroma):
    col = new_collection(chroma, metadata={"hnsw:space": "cosine"})
    col.add(ids=["v"], embeddings=[[3.0, 4.0]])
    got = col.get(ids=["v"], include=["embeddings"])["embeddings"][0]
    assert list(got) == pytest.approx([3.0, 4.0], rel=1e-6)
    res = col.query(query_embeddings=[[0.0, 0.0]], n_results=1, include=["distances", "embeddings"])
    assert res["distances"][0][0] == pytest.approx(1.0)


def test_records_round_trip(chroma):
    col = new_collection(chroma)
    col.add(
        ids=["a", "b", "c"],
        embeddings=[[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0]],
        metadatas=[{"k": 1, "s": "x"}, {"k": 2, "s": "y", "arr": [1, 2], "f": 1.0, "t": True}, None],
        documents=["hello world", "foo bar", None],
        uris=["u://a", None, None],
    )
    got = col.get(include=["metadatas", "documents", "embeddings", "uris"])
    assert got["ids"] == ["a", "b", "c"]
    assert got["documents"] == ["hello world", "foo bar", None]
    assert got["metadatas"][1] == {"k": 2, "s": "y", "arr": [1, 2], "f": 1.0, "t": True}
    assert isinstance(got["metadatas"][1]["f"], float) and isinstance(got["metadatas"][1]["k"], int)
    assert got["metadatas"][2] is None
    assert got["uris"] == ["u://a", None, None]
    assert [list(e) for e in got["embeddings"]] == [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0]]
    # get order is insertion order, not the order asked
    assert col.get(ids=["c", "a", "b", "zz"], include=[])["ids"] == ["a", "b", "c"]
    assert col.get(limit=1, offset=1, include=[])["ids"] == ["b"]
    assert col.get(limit=0, include=[])["ids"] == []
    peek = col.peek(2)
    assert peek["ids"] == ["a", "b"] and len(peek["embeddings"]) == 2
    # add of an existing id is a silent no-op
    col.add(ids=["a"], embeddings=[[9, 9, 9]], documents=["changed"])
    assert col.get(ids=["a"])["documents"] == ["hello world"]
    # upsert merges metadata; null deletes a key; document kept when not given
    col.upsert(ids=["a", "new"], embeddings=[[1, 1, 1], [2, 2, 2]], metadatas=[{"k": None, "z": 3}, {"n": 1}])
    got = col.get(ids=["a", "new"], include=["metadatas", "documents", "embeddings"])
    assert got["metadatas"] == [{"s": "x", "z": 3}, {"n": 1}]
    assert got["documents"] == ["hello world", None]
    assert list(got["embeddings"][0]) == [1, 1, 1]
    # update of a missing id is a silent no-op; update merges
    col.update(ids=["missing", "b"], metadatas=[{"q": 1}, {"q": 2}])
    got = col.get(ids=["b"], include=["metadatas", "documents", "embeddings"])
    assert got["metadatas"][0]["q"] == 2 and got["documents"] == ["foo bar"]
    assert list(got["embeddings"][0]) == [0, 1, 0]
    col.update(ids=["b"], documents=["new doc"], embeddings=[[0, 2, 0]])
    got = col.get(ids=["b"], include=["metadatas", "documents", "embeddings"])
    assert got["metadatas"][0]["q"] == 2 and got["documents"] == ["new doc"]
    assert list(got["embeddings"][0]) == [0, 2, 0]
    assert col.count() == 4
    # delete by ids, by where with limit
    col.delete(ids=["c", "notexist"])
    assert col.count() == 3
    col.delete(where={"q": 2})
    assert col.get(include=[])["ids"] == ["a", "new"]
    col.add(ids=["x1", "x2", "x3"], embeddings=[[0, 0, 1]] * 3, metadatas=[{"cat": "a"}] * 3)
    col.delete(where={"cat": "a"}, limit=1)
    assert col.get(where={"cat": "a"}, include=[])["ids"] == ["x2", "x3"]


def test_base64_and_float_embeddings_agree(chroma, server):
    col = new_collection(chroma)
    url = f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections/{col.id}"
    enc = base64.b64encode(struct.pack("<3f", 1.0, 0.0, 0.0)).decode()
    r = httpx.post(url + "/add", json={"ids": ["b64"], "embeddings": [enc], "metadatas": None, "documents": None, "uris": None})
    assert r.status_code == 201 and r.json() == {}
    col.add(ids=["flt"], embeddings=[[1.0, 0.0, 0.0]])
    got = col.get(include=["embeddings"])
    assert [list(e) for e in got["embeddings"]] == [[1, 0, 0], [1, 0, 0]]
    assert httpx.get(url + "/count").json() == 2


def test_query_shapes(chroma):
    col = new_collection(chroma)
    empty = col.query(query_embeddings=[[1.0, 0.0]], n_results=3)
    assert empty["ids"] == [[]] and empty["distances"] == [[]]
    col.add(ids=["a", "b", "c"], embeddings=[[1, 0], [0, 1], [1, 1]], metadatas=[{"k": 1}, {"k": 2}, {"k": 3}], documents=["x", "y", "z"])
    res = col.query(query_embeddings=[[1, 0], [0, 1]], n_results=2)
    assert res["ids"] == [["a", "c"], ["b", "c"]]
    assert res["embeddings"] is None and res["documents"] == [["x", "z"], ["y", "z"]]
    res = col.query(query_embeddings=[[1, 0]], n_results=10, where={"k": {"$gte": 2}})
    assert res["ids"] == [["c", "b"]]
    res = col.query(query_embeddings=[[1, 0]], n_results=10, ids=["a", "b"])
    assert res["ids"] == [["a", "b"]]
    res = col.query(query_embeddings=[[1, 0]], n_results=10, where_document={"$contains": "z"})
    assert res["ids"] == [["c"]]
    with pytest.raises(InvalidArgumentError, match="dimension of 2, got 3"):
        col.query(query_embeddings=[[1, 0, 0]], n_results=1)


def test_filters(chroma):
    col = new_collection(chroma)
    ids = ["i1", "f1", "s1", "b1", "none", "i2", "arr", "nometa"]
    metas = [{"v": 1}, {"v": 1.0}, {"v": "1"}, {"v": True}, {"w": 1}, {"v": 2}, {"v": [1, 2]}, None]
    docs = ["Hello World", "hello world", "a%b", "a_b", None, "xyz", "abc", "q"]
    col.add(ids=ids, embeddings=[[float(i), 0.0] for i in range(len(ids))], metadatas=metas, documents=docs)

    def g(where=None, where_document=None):
        return col.get(where=where, where_document=where_document, include=[])["ids"]

    assert g({"v": 1}) == ["i1", "f1"]
    assert g({"v": {"$ne": 1}}) == ["s1", "b1", "none", "i2", "arr", "nometa"]
    assert g({"v": {"$nin": [1, 2]}}) == ["s1", "b1", "none", "arr", "nometa"]
    assert g({"v": True}) == ["b1"]
    assert g({"v": {"$gt": 1}}) == ["i2"]
    assert g({"v": {"$contains": 1}}) == ["arr"]
    assert g({"v": {"$not_contains": 1}}) == ["i1", "f1", "s1", "b1", "none", "i2", "nometa"]
    assert g({"$or": [{"v": "1"}, {"w": 1}]}) == ["s1", "none"]
    assert g({"$and": [{"v": {"$gte": 1}}, {"v": {"$lte": 1}}]}) == ["i1", "f1"]
    assert g(where_document={"$contains": "hello"}) == ["f1"]
    assert g(where_document={"$not_contains": "hello"}) == ["i1", "s1", "b1", "none", "i2", "arr", "nometa"]
    assert g(where_document={"$regex": "(?i)^hello"}) == ["i1", "f1"]
    assert g(where_document={"$or": [{"$contains": "%"}, {"$contains": "_"}]}) == ["s1", "b1"]
    assert g({"v": 1}, {"$contains": "World"}) == ["i1"]
    with pytest.raises(InvalidArgumentError, match="Regex syntax"):
        g(where_document={"$regex": "["})


def test_bad_calls_raise_the_client_exceptions(chroma, server):
    col = new_collection(chroma)
    col.add(ids=["a"], embeddings=[[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError, match="dimension of 2, got 3"):
        col.add(ids=["b"], embeddings=[[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidArgumentError, match="dimension of 2, got 1"):
        col.upsert(ids=["b"], embeddings=[[1.0]])
    url = f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections/{col.id}"
    bad = {
        "/add": [
            ({"ids": ["x"], "embeddings": [[1, 2]], "metadatas": [{"#k": 1}]}, 400, "InvalidArgumentError"),
            ({"ids": ["x"], "embeddings": [[1, 2]], "metadatas": [{"k": {"n": 1}}]}, 422, "ChromaError"),
            ({"ids": ["x", "y"], "embeddings": [[1, 2]]}, 400, "InvalidArgumentError"),
            ({"ids": [""], "embeddings": [[1, 2]]}, 400, "InvalidArgumentError"),
            ({"ids": ["x"]}, 422, "ChromaError"),
            ({"ids": ["x"], "embeddings": [[]]}, 400, "InvalidArgumentError"),
        ],
        "/get": [
            ({"include": ["data"]}, 422, "ChromaError"),
            ({"where": {"a": 1, "b": 2}}, 400, "InvalidArgumentError"),
            ({"where_document": {"$eq": "x"}}, 400, "InvalidArgumentError"),
        ],
        "/delete": [({"ids": []}, 400, "InvalidArgumentError")],
    }
    for route, cases in bad.items():
        for body, status, name in cases:
            r = httpx.post(url + route, json=body)
            assert (r.status_code, r.json()["error"]) == (status, name), (route, body, r.text)
    r = httpx.post(f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections/not-a-uuid/get", json={})
    assert r.status_code == 400
    missing = "00000000-0000-0000-0000-0000000000ff"
    r = httpx.post(f"{server.url}/api/v2/tenants/default_tenant/databases/default_database/collections/{missing}/get", json={})
    assert (r.status_code, r.json()["error"]) == (404, "NotFoundError")
    chroma.delete_collection(col.name)
    with pytest.raises(NotFoundError):
        col.count()


def test_chroma_and_qdrant_share_collections(chroma, client):
    from qdrant_client import models

    name = unique_name("shared")
    col = chroma.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1, 0], [0, 1]], documents=["doc a", None], metadatas=[{"lang": "en"}, {"lang": "de"}])
    assert client.collection_exists(name)
    info = client.get_collection(name)
    assert info.points_count == 2
    hits = client.query_points(
        name,
        query=[1.0, 0.1],
        limit=5,
        query_filter=models.Filter(must=[models.FieldCondition(key="lang", match=models.MatchValue(value="en"))]),
        with_payload=True,
    ).points
    assert [h.id for h in hits] == ["a"] if False else len(hits) == 1
    assert hits[0].payload["lang"] == "en" and hits[0].payload["#document"] == "doc a"
    # and the other way round: a Qdrant collection is a Chroma collection in the default database
    qname = unique_name("fromq")
    client.create_collection(qname, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(qname, [models.PointStruct(id=7, vector=[1.0, 2.0], payload={"k": 1})])
    qcol = chroma.get_collection(qname)
    assert qcol.configuration_json["hnsw"]["space"] == "ip"
    got = qcol.get(include=["metadatas", "embeddings"])
    assert got["ids"] == ["7"] and got["metadatas"] == [{"k": 1}]
    res = qcol.query(query_embeddings=[[1.0, 0.0]], n_results=1)
    assert res["ids"] == [["7"]] and res["distances"][0][0] == pytest.approx(0.0)
    qcol.add(ids=["s1"], embeddings=[[0.0, 1.0]])
    assert client.count(qname).count == 2
    qcol.update(ids=["7"], metadatas=[{"k": 5}])
    assert client.retrieve(qname, [7])[0].payload == {"k": 5}
    # deleting through Qdrant deletes the Chroma collection
    client.delete_collection(name)
    with pytest.raises(NotFoundError):
        chroma.get_collection(name)


def test_restart_keeps_tenants_databases_and_collections(start_server, tmp_path):
    srv = start_server(tmp_path / "data")
    admin = chromadb.AdminClient(
        Settings(chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host=srv.host, chroma_server_http_port=srv.port)
    )
    admin.create_tenant("tenant_r")
    admin.create_database("db_r", tenant="tenant_r")
    c = chromadb.HttpClient(host=srv.host, port=srv.port, tenant="tenant_r", database="db_r")
    col = c.create_collection("kept", metadata={"a": 1}, embedding_function=None)
    col.add(ids=["x", "y"], embeddings=[[1, 0], [0, 1]], documents=["dx", "dy"])
    pending = c.create_collection("pending", embedding_function=None)
    srv.stop()
    srv.restart()
    c = chromadb.HttpClient(host=srv.host, port=srv.port, tenant="tenant_r", database="db_r")
    got = c.get_collection("kept")
    assert got.id == col.id and got.metadata == {"a": 1}
    assert got.get()["documents"] == ["dx", "dy"]
    got.add(ids=["z"], embeddings=[[1, 1]])
    assert got.get(include=[])["ids"] == ["x", "y", "z"]
    assert c.get_collection("pending").id == pending.id


def test_api_keys_apply_to_chroma(start_server):
    srv = start_server(api_key="sekret", read_only_api_key="viewer")
    with pytest.raises(Exception):
        chromadb.HttpClient(host=srv.host, port=srv.port)
    assert httpx.get(srv.url + "/api/v2/heartbeat").status_code == 200
    ok = chromadb.HttpClient(host=srv.host, port=srv.port, headers={"Authorization": "Bearer sekret"})
    col = ok.create_collection("keyed", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0]])
    token = chromadb.HttpClient(host=srv.host, port=srv.port, headers={"X-Chroma-Token": "viewer"})
    ro = token.get_collection("keyed")
    assert ro.get()["ids"] == ["a"]
    assert ro.query(query_embeddings=[[1.0]], n_results=1)["ids"] == [["a"]]
    with pytest.raises(chromadb.errors.ChromaAuthError):
        ro.add(ids=["b"], embeddings=[[2.0]])


def test_async_client(server):
    async def run():
        c = await chromadb.AsyncHttpClient(host=server.host, port=server.port)
        assert await c.heartbeat() > 0
        col = await c.create_collection(unique_name("async"), embedding_function=None)
        await col.add(ids=["a", "b"], embeddings=[[1, 0], [0, 1]], documents=["A", "B"])
        await col.upsert(ids=["c"], embeddings=[[1, 1]], metadatas=[{"k": 1}])
        await col.update(ids=["a"], documents=["A2"], embeddings=[[1, 0]])
        assert await col.count() == 3
        got = await col.get(where={"k": 1})
        assert got["ids"] == ["c"]
        res = await col.query(query_embeddings=[[1, 0]], n_results=2)
        assert res["ids"] == [["a", "c"]]
        await col.delete(ids=["b"])
        assert (await col.get(include=["documents"]))["documents"] == ["A2", None]
        await col.modify(metadata={"x": 1})
        assert (await c.get_collection(col.name)).metadata == {"x": 1}
        assert col.name in [x.name for x in await c.list_collections()]
        await c.delete_collection(col.name)

    asyncio.run(run())


def test_second_port_serves_the_same_data(start_server):
    from conftest import free_port

    port = free_port()
    srv = start_server(extra_args=["--chroma-port", str(port)])
    main = chromadb.HttpClient(host=srv.host, port=srv.port)
    col = main.create_collection("two_ports", embedding_function=None)
    col.add(ids=["a"], embeddings=[[1.0, 0.0]])
    other = chromadb.HttpClient(host=srv.host, port=port)
    assert other.get_collection("two_ports").get()["ids"] == ["a"]
    assert httpx.get(f"http://{srv.host}:{port}/healthz").status_code == 200
