"""The ANN index seen through qdrant-client: a collection goes yellow while its graph is built
and green when done, `indexed_vectors_count` reaches the point count, searches with `hnsw_ef`,
`exact`, `quantization` params and Azimuth's `target_recall` agree with exact search, and the
index survives a restart (kill -9 included) without a rebuild."""

from __future__ import annotations

import re
import time

import httpx
import numpy as np
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name, wait_green

DIM = 32
N = 4000


def clustered(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    centres = rng.normal(size=(40, dim))
    return (centres[rng.integers(0, 40, n)] + 0.4 * rng.normal(size=(n, dim))).astype(np.float32)


def load(client: QdrantClient, name: str, vectors: np.ndarray, quantization=None):
    client.create_collection(
        name,
        vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE),
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100, full_scan_threshold=10),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=100),
        quantization_config=quantization,
    )
    client.upload_collection(
        name,
        vectors=vectors,
        payload=[{"tag": f"t{i % 10}"} for i in range(len(vectors))],
        ids=list(range(len(vectors))),
        wait=True,
    )


def recall(client, name, queries, **kw) -> float:
    found = 0
    for q in queries:
        approx = client.query_points(name, query=q.tolist(), limit=10, **kw).points
        exact = client.query_points(
            name, query=q.tolist(), limit=10, search_params=models.SearchParams(exact=True),
            query_filter=kw.get("query_filter"),
        ).points
        found += len({p.id for p in approx} & {p.id for p in exact})
    return found / (10 * len(queries))


def test_index_builds_in_the_background_and_keeps_recall(start_server):
    server = start_server()
    client = QdrantClient(url=server.url, timeout=60)
    name = unique_name("ann")
    rng = np.random.default_rng(5)
    data = clustered(rng, N + 50)
    vectors, queries = data[:N], data[N:]
    load(client, name, vectors)
    info = wait_green(client, name, N)
    assert info.points_count == N
    http = httpx.Client(base_url=server.url, timeout=30)
    raw = http.get(f"/collections/{name}").json()["result"]["azimuth_indexing"]
    table = raw["calibration"][""]
    assert table and all(0.0 <= row["recall_at_10"] <= 1.0 for row in table)

    assert recall(client, name, queries) >= 0.95
    assert recall(client, name, queries, search_params=models.SearchParams(hnsw_ef=200)) >= 0.97
    tag = models.Filter(must=[models.FieldCondition(key="tag", match=models.MatchValue(value="t3"))])
    assert recall(client, name, queries, query_filter=tag) >= 0.95
    for p in client.query_points(name, query=queries[0].tolist(), limit=10, query_filter=tag).points:
        assert p.id % 10 == 3

    # Azimuth's target_recall (raw HTTP: the client's SearchParams model has no such field).
    body = {"query": queries[0].tolist(), "limit": 10, "params": {"target_recall": 0.9}}
    r = http.post(f"/collections/{name}/points/query", json=body)
    assert r.status_code == 200 and len(r.json()["result"]["points"]) == 10
    bad = http.post(f"/collections/{name}/points/query", json={**body, "params": {"target_recall": 1.5}})
    assert bad.status_code == 400 and "target_recall" in bad.json()["status"]["error"]

    # The graph is loaded after a kill -9, not rebuilt: green at once with everything indexed.
    http.close()
    server.kill9()
    server.restart()
    client = QdrantClient(url=server.url, timeout=60)
    info = client.get_collection(name)
    assert info.status == models.CollectionStatus.GREEN
    assert info.indexed_vectors_count == N
    assert recall(client, name, queries[:20]) >= 0.95


@pytest.mark.parametrize(
    "quantization",
    [
        models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, quantile=0.99)),
        models.BinaryQuantization(binary=models.BinaryQuantizationConfig()),
    ],
    ids=["int8", "binary"],
)
def test_quantized_collections_rescore(start_server, quantization):
    server = start_server()
    client = QdrantClient(url=server.url, timeout=60)
    name = unique_name("quant")
    rng = np.random.default_rng(8)
    # One bit per dimension needs embedding-like widths to average out its error.
    data = clustered(rng, N + 30, dim=128)
    load(client, name, data[:N], quantization=quantization)
    wait_green(client, name, N)
    queries = data[N:]
    assert recall(client, name, queries) >= 0.95
    params = models.SearchParams(
        hnsw_ef=128, quantization=models.QuantizationSearchParams(rescore=True, oversampling=12.0)
    )
    assert recall(client, name, queries, search_params=params) >= 0.95
    ignore = models.SearchParams(quantization=models.QuantizationSearchParams(ignore=True))
    assert recall(client, name, queries, search_params=ignore) >= 0.95
    with pytest.raises(UnexpectedResponse) as e:
        client.query_points(
            name, query=queries[0].tolist(),
            search_params=models.SearchParams(quantization=models.QuantizationSearchParams(oversampling=0.5)),
        )
    assert e.value.status_code == 400


def test_float16_datatype(start_server, tmp_path):
    """`datatype: float16`: the setting is echoed (REST and after a restart), vectors come back
    rounded to half precision, indexed search keeps recall and scores the rounded vectors,
    and values half precision cannot hold are refused."""
    server = start_server(tmp_path)
    client = QdrantClient(url=server.url, timeout=60)
    name = unique_name("half")
    rng = np.random.default_rng(12)
    data = clustered(rng, N + 30)
    vectors, queries = data[:N], data[N:]
    client.create_collection(
        name,
        vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT, datatype=models.Datatype.FLOAT16),
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100, full_scan_threshold=10),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=100),
    )
    assert client.get_collection(name).config.params.vectors.datatype == models.Datatype.FLOAT16
    client.upload_collection(name, vectors=vectors, ids=list(range(N)), wait=True)
    wait_green(client, name, N)
    half = vectors.astype(np.float16).astype(np.float32)
    got = client.retrieve(name, [5, 6], with_vectors=True)
    for p in got:
        np.testing.assert_array_equal(np.array(p.vector, dtype=np.float32), half[p.id])
    assert recall(client, name, queries) >= 0.95
    for q in queries[:5]:
        for p in client.query_points(name, query=q.tolist(), limit=10).points:
            assert p.score == pytest.approx(float(half[p.id] @ q), rel=1e-4, abs=1e-3)
    too_big = vectors[0].copy()
    too_big[1] = 1e6
    with pytest.raises(UnexpectedResponse) as e:
        client.upsert(name, [models.PointStruct(id=N + 1, vector=too_big.tolist())])
    assert e.value.status_code == 400 and "float16" in e.value.content.decode()
    bad = httpx.put(f"{server.url}/collections/{unique_name('bad')}", json={"vectors": {"size": 4, "distance": "Dot", "datatype": "float8"}})
    assert bad.status_code == 400 and "datatype" in bad.text
    server.stop()
    server.restart()
    client = QdrantClient(url=server.url, timeout=60)
    assert client.get_collection(name).config.params.vectors.datatype == models.Datatype.FLOAT16
    assert recall(client, name, queries[:10]) >= 0.95


def test_update_collection_applies_and_persists_settings(start_server, tmp_path):
    """PATCH /collections/{name}: the bulk-load pattern (indexing off, upload, indexing on),
    HNSW and quantization changes rebuilding the graph, metadata merging, on_disk flags —
    all visible in collection info and still there after a restart."""
    server = start_server(tmp_path)
    client = QdrantClient(url=server.url, timeout=60)
    name = unique_name("patch")
    rng = np.random.default_rng(9)
    data = clustered(rng, 2030)
    vectors, queries = data[:2000], data[2000:]
    client.create_collection(
        name,
        vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0),
        metadata={"owner": "a", "stage": "load"},
    )
    client.upload_collection(name, vectors=vectors, ids=list(range(2000)), wait=True)
    time.sleep(1.5)  # the indexer would have started by now if indexing were on
    info = client.get_collection(name)
    assert info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count == 0

    assert client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10))
    info = wait_green(client, name, 2000)
    assert info.config.optimizer_config.indexing_threshold == 10
    assert recall(client, name, queries) >= 0.95

    assert client.update_collection(
        name,
        hnsw_config=models.HnswConfigDiff(ef_construct=64, m=8),
        quantization_config=models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8)),
        vectors_config={"": models.VectorParamsDiff(on_disk=True)},
        metadata={"stage": "serve", "owner": None, "n": 1},
    )
    info = wait_green(client, name, 2000)  # the graph was dropped and built again
    assert (info.config.hnsw_config.m, info.config.hnsw_config.ef_construct) == (8, 64)
    assert isinstance(info.config.quantization_config, models.ScalarQuantization)
    assert info.config.params.vectors.on_disk is True
    assert info.config.metadata == {"stage": "serve", "n": 1}
    assert recall(client, name, queries) >= 0.9

    # Bad updates change nothing.
    for bad in (
        {"vectors": {"nope": {"on_disk": True}}},
        {"hnsw_config": {"m": -1}},
        {"optimizers_config": {"deleted_threshold": 3}},
        {"quantization_config": {"nonsense": {}}},
        {"metadata": 5},
    ):
        r = httpx.patch(f"{server.url}/collections/{name}", json=bad)
        assert r.status_code in (400, 422), (bad, r.text)
    r = httpx.patch(f"{server.url}/collections/no_such_collection", json={"metadata": {"a": 1}})
    assert r.status_code == 404

    server.stop()
    server = start_server(tmp_path)
    client = QdrantClient(url=server.url, timeout=60)
    info = wait_green(client, name, 2000)
    assert (info.config.hnsw_config.m, info.config.hnsw_config.ef_construct) == (8, 64)
    assert info.config.optimizer_config.indexing_threshold == 10
    assert info.config.metadata == {"stage": "serve", "n": 1}
    assert isinstance(info.config.quantization_config, models.ScalarQuantization)
    client.update_collection(name, quantization_config=models.Disabled.DISABLED)
    assert client.get_collection(name).config.quantization_config is None


def placed_bytes(server, metric: str) -> dict:
    """A gauge of /metrics by collection and place: {(collection, place): bytes}."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    out = {}
    for line in text.splitlines():
        m = re.match(metric + r'\{collection="([^"]*)",place="(\w+)"\} (\d+)', line)
        if m:
            out[(m.group(1), m.group(2))] = int(m.group(3))
    return out


def wait_mapped(
    server, name: str, expected: int, metric: str = "collection_dense_vector_bytes", timeout: float = 30.0
) -> None:
    """Columns and graphs move to their maps at a checkpoint; the periodic one runs every few
    seconds."""
    start = time.time()
    while placed_bytes(server, metric).get((name, "mapped")) != expected:
        assert time.time() - start < timeout, placed_bytes(server, metric)
        time.sleep(0.2)


def test_on_disk_vectors_are_mapped_and_survive_a_crash(start_server, tmp_path):
    """`on_disk=True` with int8 codes: sealed vectors are read through memory maps of the
    segment files and, with `hnsw_config.on_disk`, the graphs' level-0 links through maps of
    the graph files (the codes stay in memory); search keeps its recall, and after a kill -9
    the restarted server maps them again and answers the same."""
    server = start_server(tmp_path)
    client = QdrantClient(url=server.url, timeout=60)
    name = unique_name("ondisk")
    rng = np.random.default_rng(12)
    data = clustered(rng, N + 30, dim=64)
    client.create_collection(
        name,
        vectors_config=models.VectorParams(size=64, distance=models.Distance.COSINE, on_disk=True),
        hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100, full_scan_threshold=10, on_disk=True),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=100),
        quantization_config=models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, always_ram=True)
        ),
    )
    client.upload_collection(name, vectors=data[:N], ids=list(range(N)), wait=True)
    wait_green(client, name, N)
    assert client.get_collection(name).config.params.vectors.on_disk is True
    assert client.get_collection(name).config.hnsw_config.on_disk is True
    queries = data[N:]
    wait_mapped(server, name, N * 64 * 4)
    wait_mapped(server, name, N * 33 * 4, "collection_index_bytes")  # level-0 lists: 1 + 2·16 slots
    assert recall(client, name, queries) >= 0.95
    before = [[(p.id, p.score) for p in client.query_points(name, query=q.tolist(), limit=10).points] for q in queries]

    server.kill9()
    server = server.restart()
    client = QdrantClient(url=server.url, timeout=60)
    wait_green(client, name, N)
    wait_mapped(server, name, N * 64 * 4)
    wait_mapped(server, name, N * 33 * 4, "collection_index_bytes")
    after = [[(p.id, p.score) for p in client.query_points(name, query=q.tolist(), limit=10).points] for q in queries]
    assert after == before
