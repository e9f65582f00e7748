"""The Chroma HTTP API on a collection big enough to be indexed, with real embeddings.

12,000 rows of debian-minilm (384-d, all-MiniLM-L6-v2) go in through the unchanged chromadb
client with the default settings of a Chroma collection; the collection is indexed in the
background (seen through qdrant-client, which shares the collection), and then every answer
Chroma gives is checked against an exact numpy ranking: recall of plain and `where`-filtered
queries, distances as Chroma defines them, deleted records never returned, updated
embeddings seen at once, and identical answers after a kill -9 and restart.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import chromadb
import numpy as np
import pytest
from qdrant_client import QdrantClient, models

from conftest import REPO_ROOT, unique_name, wait_green

ROWS = 12_000
QUERIES = 40


def shared_data() -> Path:
    return Path(os.environ.get("AZIMUTH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="module")
def minilm():
    d = shared_data() / "debian-minilm"
    base = np.load(d / "base.f16.npy", mmap_mode="r")[:ROWS].astype(np.float32)
    queries = np.load(d / "queries.f32.npy")[:QUERIES].astype(np.float32)
    sections = []
    with gzip.open(d / "payload.jsonl.gz", "rt") as f:
        for line in f:
            sections.append(json.loads(line)["section"])
            if len(sections) == ROWS:
                break
    return base, queries, sections


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def exact(base: np.ndarray, ids: list[int], query: np.ndarray, k: int = 10) -> list[int]:
    """The `k` ids of `ids` closest to `query` by cosine distance."""
    rows = unit(base[ids]) @ unit(query)
    order = np.argsort(-rows, kind="stable")[:k]
    return [ids[i] for i in order]


def ask(col, queries: np.ndarray, **kw) -> list[tuple[list[str], list[float]]]:
    res = col.query(query_embeddings=queries.tolist(), n_results=10, include=["distances", "metadatas"], **kw)
    return list(zip(res["ids"], res["distances"]))


def recall(answers, truths) -> float:
    found = sum(len({int(i) for i in ids} & set(truth)) for (ids, _), truth in zip(answers, truths))
    return found / sum(len(t) for t in truths)


def test_indexed_chroma_collection_answers_like_exact_search(start_server, minilm):
    base, queries, sections = minilm
    server = start_server()
    chroma = chromadb.HttpClient(host=server.host, port=server.port)
    qdrant = QdrantClient(url=server.url, timeout=60)
    name = unique_name("chroma_big")
    col = chroma.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
    for start in range(0, ROWS, 1000):
        end = min(start + 1000, ROWS)
        col.add(
            ids=[str(i) for i in range(start, end)],
            embeddings=base[start:end],
            metadatas=[{"section": sections[i], "row": i} for i in range(start, end)],
        )
    assert col.count() == ROWS
    info = wait_green(qdrant, name, ROWS, timeout=300.0)
    assert info.points_count == ROWS

    every = list(range(ROWS))
    answers = ask(col, queries)
    truths = [exact(base, every, q) for q in queries]
    assert recall(answers, truths) >= 0.95
    # Chroma's cosine distance is 1 − cos(query, row), here on indexed segments too.
    for (ids, dists), q in zip(answers, queries):
        expected = 1.0 - unit(base[[int(i) for i in ids]]) @ unit(q)
        np.testing.assert_allclose(dists, expected, atol=2e-4)
        assert dists == sorted(dists)

    # `where` filters on a frequent section (a walk with the filter) and a rare one (an
    # exact scan of its rows), and an `$in` of both.
    counts: dict[str, int] = {}
    for s in sections:
        counts[s] = counts.get(s, 0) + 1
    ranked = sorted(counts, key=counts.get, reverse=True)
    frequent, rare = ranked[0], next(s for s in ranked if counts[s] < ROWS // 100 and counts[s] >= 10)
    for where, allowed in [
        ({"section": frequent}, {frequent}),
        ({"section": rare}, {rare}),
        ({"section": {"$in": [frequent, rare]}}, {frequent, rare}),
    ]:
        rows = [i for i in every if sections[i] in allowed]
        got = ask(col, queries, where=where)
        assert recall(got, [exact(base, rows, q) for q in queries]) >= 0.95, where
        for ids, _ in got:
            assert all(sections[int(i)] in allowed for i in ids)

    # Deleted records are never returned, by plain or filtered queries.
    gone = sorted({int(i) for ids, _ in answers for i in ids[:5]})
    col.delete(ids=[str(i) for i in gone])
    assert col.count() == ROWS - len(gone)
    kept = sorted(set(every) - set(gone))
    after = ask(col, queries)
    assert not {int(i) for ids, _ in after for i in ids} & set(gone)
    assert recall(after, [exact(base, kept, q) for q in queries]) >= 0.95
    filtered = ask(col, queries, where={"section": frequent})
    assert not {int(i) for ids, _ in filtered for i in ids} & set(gone)

    # An updated embedding is seen at once: row 7 moved onto query 0 is its nearest record.
    col.update(ids=["7"], embeddings=[queries[0].tolist()])
    ids, dists = ask(col, queries[:1])[0]
    assert ids[0] == "7" and dists[0] == pytest.approx(0.0, abs=1e-5)

    # After a crash and restart the index is loaded, not rebuilt, and answers are the same.
    before = ask(col, queries)
    server.kill9()
    server.restart()
    chroma = chromadb.HttpClient(host=server.host, port=server.port)
    qdrant = QdrantClient(url=server.url, timeout=60)
    col = chroma.get_collection(name, embedding_function=None)
    assert col.count() == ROWS - len(gone)
    info = qdrant.get_collection(name)
    assert info.status == models.CollectionStatus.GREEN
    assert info.indexed_vectors_count >= ROWS - len(gone) - 1
    again = ask(col, queries)
    assert [ids for ids, _ in again] == [ids for ids, _ in before]
    for (_, d1), (_, d2) in zip(again, before):
        np.testing.assert_allclose(d1, d2, atol=1e-6)
    chroma.delete_collection(name)
