"""Snapshots through the unchanged client: create → list → download → delete the collection →
recover from the uploaded archive (and from a server-local file) → the same points."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name


def everything(client: QdrantClient, name: str):
    points, _ = client.scroll(name, limit=1000, with_payload=True, with_vectors=True)
    return [(p.id, p.payload, p.vector) for p in points]


def test_snapshot_round_trip(client: QdrantClient, http: httpx.Client, server, tmp_path):
    name = unique_name("snap")
    client.create_collection(name, vectors_config=models.VectorParams(size=3, distance=models.Distance.EUCLID))
    client.upsert(name, [models.PointStruct(id=i, vector=[float(i), 1.0, -1.0], payload={"i": i, "t": f"x{i}"}) for i in range(50)])
    client.upsert(name, [models.PointStruct(id="5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector=[0.5, 0.5, 0.5])])
    before = everything(client, name)

    snap = client.create_snapshot(name, wait=True)
    assert snap is not None and snap.size > 0 and len(snap.checksum) == 64
    assert [s.name for s in client.list_snapshots(name)] == [snap.name]
    r = http.get(f"/collections/{name}/snapshots/{snap.name}")
    assert r.status_code == 200 and len(r.content) == snap.size
    archive = tmp_path / snap.name
    archive.write_bytes(r.content)

    assert client.delete_collection(name)
    assert not client.collection_exists(name)
    up = http.post(f"/collections/{name}/snapshots/upload", params={"checksum": snap.checksum},
                   files={"snapshot": (snap.name, r.content, "application/octet-stream")})
    assert up.status_code == 200, up.text
    assert everything(client, name) == before

    # From a file on the server's machine, into another name.
    other = unique_name("snapcopy")
    assert client.recover_snapshot(other, location=archive.as_uri(), wait=True)
    assert everything(client, other) == before

    # A wrong checksum is refused and changes nothing.
    bad = http.post(f"/collections/{other}/snapshots/upload", params={"checksum": "0" * 64},
                    files={"snapshot": (snap.name, r.content, "application/octet-stream")})
    assert bad.status_code == 400, bad.text
    assert everything(client, other) == before

    # Hostile names never reach outside the snapshot folder.
    for hostile in ["..%2F..%2FLOCK", "%2E%2E", "x.snapshot"]:
        assert http.get(f"/collections/{name}/snapshots/{hostile}").status_code in (400, 404)
    assert client.delete_snapshot(name, snap.name, wait=True)
    assert client.list_snapshots(name) == []
    with pytest.raises(UnexpectedResponse):
        client.delete_snapshot(name, snap.name, wait=True)


def test_full_storage_snapshot_round_trip(start_server, tmp_path):
    """create_full_snapshot → list → download → a new server started with
    --storage-snapshot has the same collections, points, aliases and Chroma collections."""
    src = start_server(tmp_path / "src")
    client = QdrantClient(url=src.url, timeout=30)
    http = httpx.Client(base_url=src.url, timeout=30)
    for name, dist in (("fa", models.Distance.COSINE), ("fb", models.Distance.DOT)):
        client.create_collection(name, vectors_config=models.VectorParams(size=3, distance=dist))
        client.upsert(name, [models.PointStruct(id=i, vector=[float(i), 1.0, -1.0], payload={"i": i}) for i in range(1, 40)])
    client.update_collection_aliases([models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="fb", alias_name="current"))])
    r = http.post("/api/v2/tenants/default_tenant/databases/default_database/collections", json={"name": "notes"})
    assert r.status_code == 200, r.text
    before = {n: everything(client, n) for n in ("fa", "fb")}

    snap = client.create_full_snapshot(wait=True)
    assert snap is not None and snap.name.startswith("full-snapshot-") and len(snap.checksum) == 64
    assert [s.name for s in client.list_full_snapshots()] == [snap.name]
    r = http.get(f"/snapshots/{snap.name}")
    assert r.status_code == 200 and len(r.content) == snap.size
    archive = tmp_path / snap.name
    archive.write_bytes(r.content)
    for hostile in ["..%2FLOCK", "x.snapshot", "full-snapshot-x.snapshot"]:
        assert http.get(f"/snapshots/{hostile}").status_code in (400, 404)
    assert client.delete_full_snapshot(snap.name, wait=True)
    assert client.list_full_snapshots() == []

    dst = start_server(tmp_path / "dst", extra_args=["--storage-snapshot", str(archive)])
    client2 = QdrantClient(url=dst.url, timeout=30)
    assert sorted(c.name for c in client2.get_collections().collections) == ["fa", "fb"]
    for n, want in before.items():
        assert everything(client2, n) == want
    assert [(a.alias_name, a.collection_name) for a in client2.get_aliases().aliases] == [("current", "fb")]
    r = httpx.get(f"{dst.url}/api/v2/tenants/default_tenant/databases/default_database/collections")
    assert "notes" in [c["name"] for c in r.json()], r.text

    # A damaged archive stops the server from starting, with a message saying why.
    broken = tmp_path / "broken.snapshot"
    broken.write_bytes(archive.read_bytes()[: snap.size // 2])
    with pytest.raises(Exception) as e:
        start_server(tmp_path / "dst2", extra_args=["--storage-snapshot", str(broken)])
    assert "snapshot" in str(e.value).lower()


def test_snapshot_of_an_indexed_collection(client: QdrantClient, http: httpx.Client):
    """A collection the background indexer has indexed (graph, binary codes, value graphs of
    a keyword index) is snapshotted and recovered under another name: the copy is indexed at
    once (nothing left to build) and answers every search exactly as the original."""
    import numpy as np

    from conftest import wait_green

    rng = np.random.default_rng(12)
    n, dim = 3000, 32
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    name = unique_name("snapidx")
    client.create_collection(
        name,
        vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100, full_scan_threshold=10),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=100),
        quantization_config=models.BinaryQuantization(binary=models.BinaryQuantizationConfig(always_ram=True)),
    )
    client.create_payload_index(name, "tag", models.PayloadSchemaType.KEYWORD)
    client.upload_points(
        name,
        [models.PointStruct(id=i, vector=vectors[i].tolist(), payload={"tag": f"t{i % 5}"}) for i in range(n)],
        wait=True,
    )
    wait_green(client, name, n)
    tag = models.Filter(must=[models.FieldCondition(key="tag", match=models.MatchValue(value="t2"))])
    queries = rng.standard_normal((20, dim)).astype(np.float32)

    def answers(collection: str):
        out = []
        for q in queries:
            for f in (None, tag):
                hits = client.query_points(collection, query=q.tolist(), limit=10, query_filter=f).points
                out.append([(h.id, h.score) for h in hits])
        return out

    before = answers(name)
    snap = client.create_snapshot(name, wait=True)
    r = http.get(f"/collections/{name}/snapshots/{snap.name}")
    assert r.status_code == 200
    copy = unique_name("snapidxcopy")
    up = http.post(f"/collections/{copy}/snapshots/upload", params={"checksum": snap.checksum},
                   files={"snapshot": (snap.name, r.content, "application/octet-stream")})
    assert up.status_code == 200, up.text
    info = client.get_collection(copy)
    assert info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count == n
    assert answers(copy) == before
