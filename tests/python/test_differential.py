"""Differential test: the same seeded random operations go to qdrant-client's local mode
(`QdrantClient(":memory:")`, the oracle) and to the azimuth server, and every answer is compared.

After every write the whole collection (ids, payloads, vectors) is compared too, so a divergence
is pinned to the operation that caused it. A mismatch is recorded with the operation, its filter
and both results; the server is then re-synchronised from the oracle so later operations still
test something. The test fails if any mismatch was recorded.

Floats in generated payloads have few decimal digits: exact float round-tripping is checked on its
own in test_points.py::test_payload_values_round_trip_exactly, so that one known problem there
cannot drown every comparison here.
"""

from __future__ import annotations

import json
import math
import os
import random
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import unique_name

OPS_PER_RUN = int(os.environ.get("AZIMUTH_DIFF_OPS", "300"))  # 8 runs
SEED = int(os.environ.get("AZIMUTH_DIFF_SEED", "20261122"))
DIM = 4
SCORE_TOL = 1e-5
TIE_TOL = 1e-6
MAX_REPORTED = 12

INT_IDS = list(range(0, 48))
UUID_IDS = [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15) % (1 << 128))) for i in range(1, 17)]
WORDS = ["red", "green", "blue", "Red", "", "hello world", "vector db", "Vector"]
TEXTS = ["the quick brown fox", "vector databases are fast", "a vector db", "Fox and dog", "quick quick"]
UTC = timezone.utc


# --------------------------------------------------------------------------------------------
# random data
# --------------------------------------------------------------------------------------------
def rand_ts(r: random.Random) -> Any:
    day = r.randint(1, 9)
    hour = r.randint(0, 23)
    minute = r.choice([0, 30])
    form = r.randrange(7)
    if form == 0:
        return f"2026-01-0{day}T{hour:02d}:{minute:02d}:00Z"
    if form == 1:
        return f"2026-01-0{day}T{hour:02d}:{minute:02d}:00+00:00"
    if form == 2:
        return f"2026-01-0{day}T{hour:02d}:{minute:02d}:00+02:00"
    if form == 3:
        return f"2026-01-0{day}T{hour:02d}:{minute:02d}:00"
    if form == 4:
        return f"2026-01-0{day}"
    if form == 5:
        return f"2026-01-0{day}T{hour:02d}:{minute:02d}:00.250Z"
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)  # the client sends it as ISO text


def rand_scalar(r: random.Random) -> Any:
    k = r.randrange(8)
    if k == 0:
        return r.randint(-3, 10)
    if k == 1:
        return round(r.uniform(-10, 10), r.choice([0, 1, 2]))
    if k == 2:
        return r.choice(WORDS)
    if k == 3:
        return r.choice([True, False])
    if k == 4:
        return None
    if k == 5:
        return r.choice([0, 1, 2, 2.0, 1.0, -1, 2**40])
    if k == 6:
        return rand_ts(r)
    return r.choice(TEXTS)


def rand_payload(r: random.Random, typed: bool = False) -> dict:
    """A random payload. With `typed`, the keys that get payload indexes keep their index's
    type (or null): Qdrant itself gives index-dependent answers for values of another type."""

    def other(default: Callable[[], Any]) -> Any:
        if typed:
            return default() if r.random() < 0.95 else None
        return default() if r.random() < 0.8 else rand_scalar(r)

    p: dict[str, Any] = {}
    if r.random() < 0.8:
        p["a"] = other(lambda: r.randint(-3, 6) if r.random() < 0.85 else [r.randint(-3, 6) for _ in range(r.randint(0, 3))])
    if r.random() < 0.7:
        p["b"] = other(lambda: round(r.uniform(-5, 5), 2) if r.random() < 0.8 else r.randint(-5, 5))
    if r.random() < 0.7:
        p["c"] = other(lambda: r.choice(WORDS))
    if r.random() < 0.5:
        p["d"] = other(lambda: r.choice([True, False]))
    if r.random() < 0.5:
        p["arr"] = [rand_scalar(r) if r.random() < 0.3 else r.choice([1, 2, 3, "x", "y"]) for _ in range(r.randint(0, 4))]
    if r.random() < 0.5:
        p["obj"] = {
            "x": other(lambda: r.randint(0, 5)),
            "y": [{"z": r.choice(["p", "q", "r"]), "w": r.randint(0, 3)} for _ in range(r.randint(0, 3))],
        }
        if r.random() < 0.2:
            p["obj"]["t"] = rand_ts(r)
    if r.random() < 0.5:
        p["ts"] = rand_ts(r)
    if r.random() < 0.3:
        p["loc"] = {"lon": round(r.uniform(-20, 20), 3), "lat": round(r.uniform(-20, 20), 3)}
    if r.random() < 0.3:
        p["txt"] = r.choice(TEXTS)
    if r.random() < 0.2:
        p["n"] = None
    if r.random() < 0.1:
        p["items"] = [{"k": r.choice(["u", "v"]), "v": r.randint(0, 2)} for _ in range(r.randint(1, 3))]
    if r.random() < 0.7:  # numbers only: the order_by key
        p["o"] = r.choice([r.randint(0, 9), round(r.uniform(0, 9), 1), [r.randint(0, 9), round(r.uniform(0, 9), 1)]])
    return p


INDEXES = {
    "a": models.PayloadSchemaType.INTEGER,
    "b": models.PayloadSchemaType.FLOAT,
    "c": models.PayloadSchemaType.KEYWORD,
    "d": models.PayloadSchemaType.BOOL,
    "ts": models.PayloadSchemaType.DATETIME,
    "loc": models.PayloadSchemaType.GEO,
    "txt": models.PayloadSchemaType.TEXT,
    "o": models.PayloadSchemaType.FLOAT,
    "obj.y[].z": models.PayloadSchemaType.KEYWORD,
}


VECTOR_POOL_RNG = random.Random(99)
VECTOR_POOL = [[round(VECTOR_POOL_RNG.uniform(-1, 1), 3) for _ in range(DIM)] for _ in range(6)]


def rand_vector(r: random.Random) -> list[float]:
    if r.random() < 0.2:  # duplicates make score ties
        return list(r.choice(VECTOR_POOL))
    v = [round(r.uniform(-1, 1), 4) for _ in range(DIM)]
    if all(x == 0 for x in v):
        v[0] = 0.5
    return v


def rand_id(r: random.Random):
    return r.choice(UUID_IDS) if r.random() < 0.25 else r.choice(INT_IDS)


def rand_ts_bound(r: random.Random) -> Any:
    day = r.randint(1, 9)
    hour = r.randint(0, 23)
    k = r.randrange(5)
    if k == 0:
        return f"2026-01-0{day}T{hour:02d}:00:00Z"
    if k == 1:
        return f"2026-01-0{day}T{hour:02d}:00:00+00:00"
    if k == 2:
        return f"2026-01-0{day}T{hour:02d}:00:00+02:00"
    if k == 3:
        return datetime(2026, 1, day, hour, tzinfo=UTC)
    return f"2026-01-0{day}"


def rand_condition(r: random.Random, existing: list, depth: int = 0) -> models.Condition:
    k = r.randrange(22 if depth < 2 else 20)
    K = models.FieldCondition
    if k == 0:
        return K(key="a", match=models.MatchValue(value=r.randint(-3, 6)))
    if k == 1:
        return K(key="c", match=models.MatchValue(value=r.choice(WORDS)))
    if k == 2:
        return K(key="d", match=models.MatchValue(value=r.choice([True, False])))
    if k == 3:
        return K(key=r.choice(["a", "arr", "obj.x"]), match=models.MatchAny(any=r.sample([0, 1, 2, 3, 4, 5, -1], r.randint(0, 3))))
    if k == 4:
        return K(key=r.choice(["c", "arr", "obj.y[].z"]), match=models.MatchAny(any=r.sample(["red", "x", "y", "p", "q", "blue"], r.randint(1, 3))))
    if k == 5:
        vals = r.sample([0, 1, 2, 3], r.randint(0, 2)) if r.random() < 0.5 else r.sample(["red", "x", "p", "blue"], r.randint(0, 2))
        return K(key=r.choice(["a", "c", "arr", "obj.y[].z"]), match=models.MatchExcept(**{"except": vals}))
    if k == 6:
        lo = r.uniform(-4, 4)
        rng = {r.choice(["gt", "gte"]): round(lo, 2), r.choice(["lt", "lte"]): round(lo + r.uniform(0, 6), 2)}
        if r.random() < 0.3:
            rng.pop(r.choice(list(rng)))
        return K(key=r.choice(["a", "b", "arr", "obj.x", "obj.y[].w", "n", "o"]), range=models.Range(**rng))
    if k == 7:
        b = {r.choice(["gt", "gte", "lt", "lte"]): rand_ts_bound(r)}
        if r.random() < 0.5:
            b[r.choice(["lt", "lte"])] = rand_ts_bound(r)
        return K(key=r.choice(["ts", "obj.t", "c"]), range=models.DatetimeRange(**b))
    if k == 8:
        return models.IsEmptyCondition(is_empty=models.PayloadField(key=r.choice(["arr", "n", "obj.y", "c", "missing", "obj.y[].z"])))
    if k == 9:
        return models.IsNullCondition(is_null=models.PayloadField(key=r.choice(["n", "a", "arr", "c", "obj.x", "missing"])))
    if k == 10:
        ids = r.sample(existing, min(len(existing), r.randint(0, 4))) if existing else []
        if r.random() < 0.3:
            ids.append(rand_id(r))
        return models.HasIdCondition(has_id=ids)
    if k == 11:
        rng = {r.choice(["gt", "gte", "lt", "lte"]): r.randint(0, 3)}
        return K(key=r.choice(["arr", "obj.y", "c", "a", "obj.y[].z"]), values_count=models.ValuesCount(**rng))
    if k == 12:
        return K(
            key="loc",
            geo_radius=models.GeoRadius(
                center=models.GeoPoint(lon=r.uniform(-15, 15), lat=r.uniform(-15, 15)), radius=r.uniform(1e5, 2e6)
            ),
        )
    if k == 13:
        lon, lat = r.uniform(-20, 10), r.uniform(-10, 20)
        return K(
            key="loc",
            geo_bounding_box=models.GeoBoundingBox(
                top_left=models.GeoPoint(lon=lon, lat=lat),
                bottom_right=models.GeoPoint(lon=lon + r.uniform(1, 25), lat=lat - r.uniform(1, 25)),
            ),
        )
    if k == 14:
        x0, y0, s = r.uniform(-20, 10), r.uniform(-20, 10), r.uniform(3, 20)
        ring = [(x0, y0), (x0 + s, y0), (x0 + s, y0 + s), (x0, y0 + s * r.uniform(0.5, 1.5)), (x0, y0)]
        return K(
            key="loc",
            geo_polygon=models.GeoPolygon(
                exterior=models.GeoLineString(points=[models.GeoPoint(lon=a, lat=b) for a, b in ring])
            ),
        )
    if k == 15:
        return K(key="txt", match=models.MatchText(text=r.choice(["vector", "quick fox", "fox", "db vector", "Fox"])))
    if k == 16:
        return K(key="obj.y[].z", match=models.MatchValue(value=r.choice(["p", "q", "r"])))
    if k == 17:
        return models.HasVectorCondition(has_vector="")
    if k == 18:
        return K(key=r.choice(["a", "b", "c", "ts", "arr"]), is_empty=r.choice([True, False]))
    if k == 19:
        return K(key="arr", match=models.MatchValue(value=r.choice([1, 2, 3, "x", "y"])))
    if k == 20:
        return models.NestedCondition(
            nested=models.Nested(
                key=r.choice(["items", "items[]", "obj.y"]),
                filter=rand_filter(r, existing, depth + 1, keys_for_nested=True),
            )
        )
    return rand_filter(r, existing, depth + 1)


def rand_nested_condition(r: random.Random) -> models.Condition:
    K = models.FieldCondition
    k = r.randrange(4)
    if k == 0:
        return K(key=r.choice(["k", "z"]), match=models.MatchValue(value=r.choice(["u", "v", "p", "q"])))
    if k == 1:
        return K(key=r.choice(["v", "w"]), range=models.Range(gte=r.randint(0, 2)))
    if k == 2:
        return K(key=r.choice(["v", "w"]), match=models.MatchValue(value=r.randint(0, 3)))
    return models.IsEmptyCondition(is_empty=models.PayloadField(key=r.choice(["k", "z", "v"])))


def rand_filter(r: random.Random, existing: list, depth: int = 0, keys_for_nested: bool = False) -> models.Filter:
    gen = (lambda: rand_nested_condition(r)) if keys_for_nested else (lambda: rand_condition(r, existing, depth))
    f: dict[str, Any] = {}
    for clause, p in (("must", 0.7), ("should", 0.35), ("must_not", 0.3)):
        if r.random() < p:
            f[clause] = [gen() for _ in range(r.randint(0, 2) if clause == "must" else r.randint(0, 3 if depth == 0 else 2))]
    if r.random() < 0.12:
        conds = [gen() for _ in range(r.randint(1, 3))]
        f["min_should"] = models.MinShould(conditions=conds, min_count=r.randint(1, len(conds)))
    return models.Filter(**f)


def rand_selector(r: random.Random, existing: list, allow_missing: bool):
    if r.random() < 0.35:
        return rand_filter(r, existing)
    ids = r.sample(existing, min(len(existing), r.randint(1, 4))) if existing else []
    if allow_missing and (not ids or r.random() < 0.05):
        ids.append(rand_id(r))
    return ids


def rand_with_payload(r: random.Random):
    return r.choice(
        [
            True,
            True,
            False,
            ["a", "obj.x"],
            ["obj"],
            ["obj.y[].z"],
            models.PayloadSelectorInclude(include=["c", "ts", "missing"]),
            models.PayloadSelectorExclude(exclude=["obj", "c"]),
            models.PayloadSelectorExclude(exclude=["obj.y"]),
        ]
    )


# --------------------------------------------------------------------------------------------
# normalisation and comparison
# --------------------------------------------------------------------------------------------
def dump(x: Any) -> Any:
    if isinstance(x, list):
        return [dump(v) for v in x]
    if hasattr(x, "model_dump"):
        return x.model_dump(mode="json", exclude_none=True)
    return x


def fmt(x: Any) -> str:
    return json.dumps(dump(x), default=str, sort_keys=True)


def vec_close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None or (not a and not b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(vec_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(abs(x - y) <= 1e-5 for x, y in zip(a, b))
    return a == b


def record_diff(a, b) -> str | None:
    """None if two Records/ScoredPoints agree (payload exact, vectors within 1e-5)."""
    if a.id != b.id:
        return f"id {a.id!r} != {b.id!r}"
    if a.payload != b.payload:
        return f"payload of {a.id!r}: {json.dumps(a.payload, sort_keys=True)} != {json.dumps(b.payload, sort_keys=True)}"
    if not vec_close(a.vector, b.vector):
        return f"vector of {a.id!r}: {a.vector} != {b.vector}"
    return None


def compare_scored(local_pts, server_pts, local_full, offset: int, limit: int, rel: float = 0.0) -> str | None:
    """Compare a page of scored points, letting equal scores (within TIE_TOL) swap order.
    `rel` adds a relative tolerance for scores the oracle computes in float64 (formulas)."""
    if len(local_pts) != len(server_pts):
        return f"length {len(local_pts)} != {len(server_pts)}"
    full_score = {p.id: p.score for p in local_full}

    def far(x: float, y: float) -> bool:
        return abs(x - y) > SCORE_TOL + rel * max(abs(x), abs(y))

    for i, (a, b) in enumerate(zip(local_pts, server_pts)):
        if far(a.score, b.score):
            return f"score at rank {i}: {a.score} != {b.score}"
        if b.id not in full_score:
            return f"server returned {b.id!r} that the oracle does not rank at all"
        if far(full_score[b.id], b.score):
            return f"server score for {b.id!r} is {b.score}, oracle says {full_score[b.id]}"
    # group equal scores; interior groups must hold the same ids, edge groups may differ
    i, n = 0, len(local_pts)
    while i < n:
        j = i
        while j + 1 < n and abs(local_pts[j + 1].score - local_pts[i].score) <= TIE_TOL + rel * abs(local_pts[i].score):
            j += 1
        touches_edge = (i == 0 and offset > 0) or (j == n - 1 and n == limit)
        la = {p.id for p in local_pts[i : j + 1]}
        sa = {p.id for p in server_pts[i : j + 1]}
        if not touches_edge and la != sa:
            return f"ids at ranks {i}..{j} (equal scores {local_pts[i].score}): {sorted(map(str, la))} != {sorted(map(str, sa))}"
        i = j + 1
    by_id_local = {p.id: p for p in local_pts}
    for b in server_pts:
        a = by_id_local.get(b.id)
        if a is not None:
            d = record_diff(a, b)
            if d:
                return d
    return None


class Harness:
    def __init__(self, server: QdrantClient, name: str, distance: models.Distance, seed: int, indexed: bool):
        self.local = QdrantClient(":memory:")
        self.server = server
        self.name = name
        self.distance = distance
        self.indexed = indexed
        self.typed = indexed
        self.r = random.Random(seed)
        self.mismatches: list[str] = []
        self.counts: dict[str, int] = {}
        self.n_ops = 0
        self.label = f"{distance.value}{', indexed' if indexed else ''}"
        for c in (self.local, self.server):
            c.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=distance))
        if indexed:  # payload indexes exist on the server only (they are no-ops in local mode)
            for field, schema in INDEXES.items():
                self.server.create_payload_index(name, field, schema)

    # -- helpers ------------------------------------------------------------------------------
    def exact(self, c: QdrantClient):
        """Exact search on the server; local mode is always exact (and warns about params)."""
        return models.SearchParams(exact=True) if c is self.server else None

    def existing(self) -> list:
        pts, _ = self.local.scroll(self.name, limit=10_000, with_payload=False)
        return [p.id for p in pts]

    def mismatch(self, op: str, detail: str, local_res: Any = None, server_res: Any = None, flt: Any = None) -> None:
        self.counts[op.split("(")[0]] = self.counts.get(op.split("(")[0], 0) + 1
        if len(self.mismatches) < MAX_REPORTED:
            msg = [f"#{self.n_ops} [{self.label}] {op}: {detail}"]
            if flt is not None:
                msg.append(f"    filter: {fmt(flt)}")
            if local_res is not None or server_res is not None:
                msg.append(f"    local : {fmt(local_res)[:1500]}")
                msg.append(f"    server: {fmt(server_res)[:1500]}")
            self.mismatches.append("\n".join(msg))

    def both(self, op: str, fn: Callable[[QdrantClient], Any], flt: Any = None):
        """Run on both; returns (ok, local_result, server_result)."""
        try:
            lres, lerr = fn(self.local), None
        except (ValueError, KeyError, AssertionError, TypeError) as e:  # local mode signals bad input so
            lres, lerr = None, e
        try:
            sres, serr = fn(self.server), None
        except UnexpectedResponse as e:
            sres, serr = None, e
        if (lerr is None) != (serr is None):
            self.mismatch(
                op,
                "one side failed",
                f"ERROR {type(lerr).__name__}: {lerr}" if lerr else lres,
                f"ERROR {serr.status_code}: {serr.content[:300]!r}" if serr else sres,
                flt,
            )
            return False, lres, sres
        if serr is not None and not (400 <= serr.status_code < 500):
            self.mismatch(op, f"server answered {serr.status_code} (oracle: {lerr!r})", None, serr.content[:300], flt)
            return False, None, None
        return lerr is None, lres, sres

    def full_state(self, c: QdrantClient):
        pts, nxt = c.scroll(self.name, limit=10_000, with_payload=True, with_vectors=True)
        assert nxt is None
        return pts

    def check_state(self, op: str, flt: Any = None) -> None:
        local, server = self.full_state(self.local), self.full_state(self.server)
        problem = None
        if [p.id for p in local] != [p.id for p in server]:
            lids, sids = [p.id for p in local], [p.id for p in server]
            problem = (
                f"ids differ: only local {sorted(map(str, set(lids) - set(sids)))}, "
                f"only server {sorted(map(str, set(sids) - set(lids)))}"
                if set(lids) != set(sids)
                else "scroll order differs"
            )
        else:
            for a, b in zip(local, server):
                d = record_diff(a, b)
                if d:
                    problem = d
                    break
        if problem:
            self.mismatch(op, "state diverged after this write: " + problem, None, None, flt)
            self.resync(local)

    def resync(self, local_points) -> None:
        """Make the server hold exactly the oracle's points again."""
        self.server.delete(self.name, models.FilterSelector(filter=models.Filter()))
        if local_points:
            self.server.upsert(
                self.name,
                [models.PointStruct(id=p.id, vector=p.vector or [1.0] * DIM, payload=p.payload) for p in local_points],
            )
            no_vector = [p.id for p in local_points if not p.vector]
            if no_vector:
                self.server.delete_vectors(self.name, [""], points=no_vector)

    # -- operations ---------------------------------------------------------------------------
    def op_upsert(self):
        r = self.r
        n = r.randint(1, 6)
        ids = [rand_id(r) for _ in range(n)]
        pts = [models.PointStruct(id=i, vector=rand_vector(r), payload=rand_payload(r, self.typed)) for i in ids]
        if r.random() < 0.3:
            # the batch form; duplicate ids inside one request are avoided (order of application)
            uniq = {str(p.id): p for p in pts}
            pts = list(uniq.values())
            batch = models.Batch(ids=[p.id for p in pts], vectors=[p.vector for p in pts], payloads=[p.payload for p in pts])
            op = f"upsert(batch={fmt(batch)[:600]})"
            self.both(op, lambda c: c.upsert(self.name, batch))
        else:
            uniq = {str(p.id): p for p in pts}
            pts = list(uniq.values())
            kw: dict[str, Any] = {}
            if r.random() < 0.15:
                kw["update_mode"] = r.choice(list(models.UpdateMode))
            if r.random() < 0.15:
                kw["update_filter"] = rand_filter(r, self.existing())
            op = f"upsert(points={fmt(pts)[:600]}, update_mode={kw.get('update_mode')})"
            self.both(op, lambda c: c.upsert(self.name, pts, **kw), flt=kw.get("update_filter"))
            self.check_state(op, kw.get("update_filter"))
            return
        self.check_state(op)

    def op_set_payload(self):
        r = self.r
        sel = rand_selector(r, self.existing(), allow_missing=True)
        payload = rand_payload(r, self.typed)
        if r.random() < 0.25:
            payload = {k: v for k, v in payload.items() if r.random() < 0.5}
            payload["n"] = None if r.random() < 0.5 else payload.get("n")
        key = r.choice([None, None, None, "obj", "obj.y[]", "new.k", "obj.y[0]"])
        if key is not None:
            payload = {"m": r.randint(0, 3), "z": r.choice(["p", "q"])}
        op = f"set_payload(payload={fmt(payload)}, points={fmt(sel) if isinstance(sel, list) else 'filter'}, key={key!r})"
        self.both(op, lambda c: c.set_payload(self.name, payload, points=sel, key=key), flt=sel if not isinstance(sel, list) else None)
        self.check_state(op, sel if not isinstance(sel, list) else None)

    def op_overwrite_payload(self):
        r = self.r
        sel = rand_selector(r, self.existing(), allow_missing=True)
        payload = rand_payload(r, self.typed)
        op = f"overwrite_payload(payload={fmt(payload)}, points={fmt(sel) if isinstance(sel, list) else 'filter'})"
        self.both(op, lambda c: c.overwrite_payload(self.name, payload, points=sel), flt=sel if not isinstance(sel, list) else None)
        self.check_state(op, sel if not isinstance(sel, list) else None)

    def op_delete_payload(self):
        r = self.r
        sel = rand_selector(r, self.existing(), allow_missing=True)
        keys = r.sample(["a", "b", "obj.x", "obj.y[].z", "arr", "ts", "missing", "obj.y", "obj.y[0]", "items[].k"], r.randint(1, 3))
        op = f"delete_payload(keys={keys}, points={fmt(sel) if isinstance(sel, list) else 'filter'})"
        self.both(op, lambda c: c.delete_payload(self.name, keys, points=sel), flt=sel if not isinstance(sel, list) else None)
        self.check_state(op, sel if not isinstance(sel, list) else None)

    def op_clear_payload(self):
        r = self.r
        sel = rand_selector(r, self.existing(), allow_missing=True)
        sel_c = sel if isinstance(sel, list) else models.FilterSelector(filter=sel)
        op = f"clear_payload(points={fmt(sel) if isinstance(sel, list) else 'filter'})"
        self.both(op, lambda c: c.clear_payload(self.name, sel_c), flt=sel if not isinstance(sel, list) else None)
        self.check_state(op, sel if not isinstance(sel, list) else None)

    def op_delete(self):
        r = self.r
        if r.random() < 0.5:
            flt = rand_filter(r, self.existing())
            op = "delete(filter)"
            self.both(op, lambda c: c.delete(self.name, models.FilterSelector(filter=flt)), flt=flt)
            self.check_state(op, flt)
        else:
            ids = [rand_id(r) for _ in range(r.randint(1, 4))]
            op = f"delete(ids={ids})"
            self.both(op, lambda c: c.delete(self.name, ids))
            self.check_state(op)

    def op_update_vectors(self):
        r = self.r
        ex = self.existing()
        if not ex:
            return
        ids = r.sample(ex, min(len(ex), r.randint(1, 3)))
        pv = [models.PointVectors(id=i, vector=rand_vector(r)) for i in ids]
        flt = rand_filter(r, ex) if r.random() < 0.3 else None
        op = f"update_vectors({fmt(pv)}, update_filter=...)" if flt else f"update_vectors({fmt(pv)})"
        self.both(op, lambda c: c.update_vectors(self.name, pv, update_filter=flt), flt=flt)
        self.check_state(op, flt)

    def op_delete_vectors(self):
        r = self.r
        ex = self.existing()
        if not ex:
            return
        ids = r.sample(ex, 1)
        op = f"delete_vectors([''], points={ids})"
        self.both(op, lambda c: c.delete_vectors(self.name, [""], points=ids))
        self.check_state(op)

    def threshold(self) -> float:
        r = self.r
        return {
            models.Distance.COSINE: lambda: r.uniform(-0.5, 0.9),
            models.Distance.DOT: lambda: r.uniform(-1.5, 1.5),
            models.Distance.EUCLID: lambda: r.uniform(0.5, 2.5),
            models.Distance.MANHATTAN: lambda: r.uniform(1.0, 4.0),
        }[self.distance]()

    def op_query(self):
        r = self.r
        ex = self.existing()
        flt = rand_filter(r, ex) if r.random() < 0.8 else None
        if r.random() < 0.15 and ex:
            q: Any = r.choice(ex)
        else:
            q = rand_vector(r)
        limit = r.randint(1, 15)
        offset = r.choice([0, 0, 0, 1, 3, 7])
        thr = self.threshold() if r.random() < 0.25 else None
        wp = rand_with_payload(r)
        wv = r.random() < 0.2
        args = dict(query=q, query_filter=flt, limit=limit, offset=offset or None, score_threshold=thr, with_payload=wp, with_vectors=wv)
        op = f"query_points(query={q!r}, limit={limit}, offset={offset}, score_threshold={thr}, with_payload={fmt(wp)}, with_vectors={wv})"
        ok, lres, sres = self.both(
            op,
            lambda c: c.query_points(self.name, search_params=self.exact(c), **args).points,
            flt=flt,
        )
        if not ok:
            return
        full = self.local.query_points(self.name, **{**args, "limit": 10_000, "offset": None}).points
        d = compare_scored(lres, sres, full, offset, limit)
        if d:
            self.mismatch(op, d, lres, sres, flt)

    def op_recommend(self):
        r = self.r
        ex = self.existing()
        if len(ex) < 3:
            return
        pos = r.sample(ex, r.randint(1, 2))
        if r.random() < 0.3:
            pos.append(rand_vector(r))
        neg = r.sample(ex, r.randint(0, 1))
        if r.random() < 0.2:
            neg.append(self.fresh_vector())
        strategy = r.choice([None, *models.RecommendStrategy])
        if strategy in (models.RecommendStrategy.BEST_SCORE, models.RecommendStrategy.SUM_SCORES) and r.random() < 0.2:
            pos = []  # negatives alone are allowed with these strategies
        flt = rand_filter(r, ex) if r.random() < 0.4 else None
        limit = r.randint(1, 10)
        q = models.RecommendQuery(recommend=models.RecommendInput(positive=pos, negative=neg or None, strategy=strategy))
        op = f"query_points(recommend={fmt(q)}, limit={limit})"
        ok, lres, sres = self.both(
            op, lambda c: c.query_points(self.name, query=q, query_filter=flt, limit=limit, search_params=self.exact(c)).points, flt=flt
        )
        if not ok:
            return
        full = self.local.query_points(self.name, query=q, query_filter=flt, limit=10_000).points
        d = compare_scored(lres, sres, full, 0, limit)
        if d:
            self.mismatch(op, d, lres, sres, flt)

    def fresh_vector(self) -> list[float]:
        """A vector no stored point has: the oracle scores given vectors in float64 and stored
        ones in float32, so an exact tie between an example and a stored vector (which best
        score and discovery resolve by strict comparison) could come out either way there."""
        return [round(self.r.uniform(-1, 1), 4) for _ in range(DIM)]

    def example(self, ex: list) -> Any:
        return self.r.choice(ex) if self.r.random() < 0.6 else self.fresh_vector()

    def context_pair(self, ex: list) -> models.ContextPair:
        """Two examples with different vectors: for equal ones the oracle's float64 cosine
        (which renormalises in place) breaks the exact tie Qdrant's float32 keeps."""
        while True:
            pos, neg = self.example(ex), self.example(ex)
            vecs = [
                self.local.retrieve(self.name, [e], with_vectors=True)[0].vector if not isinstance(e, list) else e
                for e in (pos, neg)
            ]
            if vecs[0] != vecs[1]:
                return models.ContextPair(positive=pos, negative=neg)

    def op_discover(self):
        """Discovery (target + context pairs) and context-only queries, ids or vectors."""
        r = self.r
        ex = self.existing()
        if len(ex) < 4:
            return
        pairs = [self.context_pair(ex) for _ in range(r.randint(1, 3))]
        if r.random() < 0.6:
            q: Any = models.DiscoverQuery(discover=models.DiscoverInput(target=self.example(ex), context=pairs))
        else:
            q = models.ContextQuery(context=pairs)
        flt = rand_filter(r, ex) if r.random() < 0.4 else None
        limit = r.randint(1, 10)
        op = f"query_points({fmt(q)}, limit={limit})"
        ok, lres, sres = self.both(
            op, lambda c: c.query_points(self.name, query=q, query_filter=flt, limit=limit, search_params=self.exact(c)).points, flt=flt
        )
        if not ok:
            return
        full = self.local.query_points(self.name, query=q, query_filter=flt, limit=10_000).points
        d = compare_scored(lres, sres, full, 0, limit, rel=1e-5)
        if d:
            self.mismatch(op, d, lres, sres, flt)

    def op_mmr(self):
        """Nearest with maximal-marginal-relevance re-ranking. Ties in relevance may be broken
        differently (the candidates come in a different order), so compare the score sequence."""
        r = self.r
        limit = r.randint(1, 8)
        q = models.NearestQuery(
            nearest=[round(r.uniform(-1, 1), 4) for _ in range(DIM)],
            mmr=models.Mmr(diversity=round(r.random(), 2), candidates_limit=r.randint(limit, 20)),
        )
        op = f"query_points({fmt(q)}, limit={limit})"
        ok, lres, sres = self.both(
            op, lambda c: c.query_points(self.name, query=q, limit=limit, search_params=self.exact(c)).points
        )
        if not ok:
            return
        ls, ss = [p.score for p in lres], [p.score for p in sres]
        if len(ls) != len(ss) or any(abs(a - b) > SCORE_TOL for a, b in zip(ls, ss)):
            self.mismatch(op, "mmr picks differ", lres, sres)

    def rand_expression(self, depth: int = 0) -> Any:
        r = self.r
        leaves = [
            lambda: "$score",
            lambda: "$score[1]",
            lambda: round(r.uniform(-2, 2), 2),
            lambda: r.choice(["a", "b", "obj.x", "o"]),
            lambda: models.FieldCondition(key="c", match=models.MatchValue(value=r.choice(WORDS))),
            lambda: models.FieldCondition(key="a", range=models.Range(gte=r.randint(-3, 6))),
            lambda: models.GeoDistance(
                geo_distance=models.GeoDistanceParams(origin=models.GeoPoint(lat=r.uniform(-20, 20), lon=r.uniform(-20, 20)), to="loc")
            ),
            lambda: models.ExpDecayExpression(
                exp_decay=models.DecayParamsExpression(
                    x=models.DatetimeKeyExpression(datetime_key="ts"),
                    target=models.DatetimeExpression(datetime="2026-01-05T00:00:00Z"),
                    scale=86400.0 * r.randint(1, 5),
                )
            ),
        ]
        if depth >= 2 or r.random() < 0.4:
            return r.choice(leaves)()
        sub = lambda: self.rand_expression(depth + 1)  # noqa: E731
        ops = [
            lambda: models.SumExpression(sum=[sub() for _ in range(r.randint(1, 3))]),
            lambda: models.MultExpression(mult=[sub() for _ in range(r.randint(1, 3))]),
            lambda: models.NegExpression(neg=sub()),
            lambda: models.AbsExpression(abs=sub()),
            lambda: models.DivExpression(div=models.DivParams(left=sub(), right=sub(), by_zero_default=r.choice([None, 0.0]))),
            lambda: models.SqrtExpression(sqrt=sub()),
            lambda: models.LnExpression(ln=sub()),
            lambda: models.GaussDecayExpression(gauss_decay=models.DecayParamsExpression(x=sub(), scale=r.uniform(0.5, 3))),
            lambda: models.LinDecayExpression(lin_decay=models.DecayParamsExpression(x=sub(), target=sub(), midpoint=r.random())),
        ]
        return r.choice(ops)()

    def op_formula(self):
        """Prefetches re-scored by a random formula over scores, payload values, conditions,
        geo distances, datetimes and decays; bad formulas must fail on both sides."""
        r = self.r
        ex = self.existing()
        # Prefetches take every passing point: a cut through points with equal scores (the
        # data repeats vectors) would make the candidate sets differ legitimately.
        prefetch = [
            models.Prefetch(query=self.fresh_vector(), limit=1000, filter=rand_filter(r, ex) if r.random() < 0.3 else None)
            for _ in range(r.randint(1, 2))
        ]
        defaults = {}
        for key, value in (("a", 1), ("b", 0.5), ("o", 2), ("loc", {"lat": 0.0, "lon": 0.0}), ("ts", "2026-01-03T00:00:00Z"), ("$score[1]", 0.25)):
            if r.random() < 0.5:
                defaults[key] = value
        q = models.FormulaQuery(formula=self.rand_expression(), defaults=defaults)
        limit = r.randint(1, 10)
        op = f"query_points(prefetch={fmt(prefetch)}, {fmt(q)}, limit={limit})"

        def run(c):
            pf = [p.model_copy(update={"params": self.exact(c)}) for p in prefetch]
            return c.query_points(self.name, prefetch=pf, query=q, limit=limit).points

        ok, lres, sres = self.both(op, run)
        if not ok:
            return
        full = self.local.query_points(self.name, prefetch=prefetch, query=q, limit=10_000).points
        d = compare_scored(lres, sres, full, 0, limit, rel=1e-5)
        if d:
            self.mismatch(op, d, lres, sres)

    def op_query_batch(self):
        r = self.r
        ex = self.existing()
        reqs = [
            models.QueryRequest(
                query=rand_vector(r),
                filter=rand_filter(r, ex) if r.random() < 0.7 else None,
                limit=r.randint(1, 8),
                with_payload=True,
            )
            for _ in range(r.randint(1, 3))
        ]
        op = f"query_batch_points({fmt(reqs)[:800]})"
        ok, lres, sres = self.both(
            op,
            lambda c: c.query_batch_points(
                self.name, [q.model_copy(update={"params": self.exact(c)}) for q in reqs]
            ),
        )
        if not ok:
            return
        for req, lr, sr in zip(reqs, lres, sres):
            full = self.local.query_points(self.name, query=req.query, query_filter=req.filter, limit=10_000).points
            d = compare_scored(lr.points, sr.points, full, 0, req.limit)
            if d:
                self.mismatch(op, d, lr.points, sr.points, req.filter)

    def op_scroll(self):
        r = self.r
        ex = self.existing()
        flt = rand_filter(r, ex) if r.random() < 0.8 else None
        limit = r.randint(1, 20)
        offset = None
        if r.random() < 0.4:
            offset = r.choice(ex) if ex and r.random() < 0.7 else rand_id(r)
        wp = rand_with_payload(r)
        wv = r.random() < 0.2
        op = f"scroll(limit={limit}, offset={offset!r}, with_payload={fmt(wp)}, with_vectors={wv})"
        ok, lres, sres = self.both(
            op,
            lambda c: c.scroll(self.name, scroll_filter=flt, limit=limit, offset=offset, with_payload=wp, with_vectors=wv),
            flt=flt,
        )
        if not ok:
            return
        (lp, ln), (sp, sn) = lres, sres
        if [p.id for p in lp] != [p.id for p in sp] or ln != sn:
            self.mismatch(op, "ids or next_page_offset differ", {"points": [p.id for p in lp], "next": ln}, {"points": [p.id for p in sp], "next": sn}, flt)
            return
        for a, b in zip(lp, sp):
            d = record_diff(a, b)
            if d:
                self.mismatch(op, d, lp, sp, flt)
                return

    def op_scroll_order_by(self):
        if not self.indexed:
            return self.op_scroll()
        r = self.r
        ex = self.existing()
        flt = rand_filter(r, ex) if r.random() < 0.5 else None
        limit = r.randint(1, 25)
        direction = r.choice([None, models.Direction.ASC, models.Direction.DESC])
        start = r.choice([None, None, r.randint(0, 9), round(r.uniform(0, 9), 2)])
        ob = models.OrderBy(key="o", direction=direction, start_from=start)
        op = f"scroll(order_by={fmt(ob)}, limit={limit})"
        ok, lres, sres = self.both(op, lambda c: c.scroll(self.name, scroll_filter=flt, limit=limit, order_by=ob), flt=flt)
        if not ok:
            return
        (lp, _), (sp, sn) = lres, sres
        problem = None
        if sn is not None:
            problem = f"next_page_offset must be null with order_by, got {sn!r}"
        elif len(lp) != len(sp):
            problem = f"length {len(lp)} != {len(sp)}"
        else:
            lvals = [float(p.order_value) for p in lp]
            svals = [float(p.order_value) if p.order_value is not None else math.nan for p in sp]
            if any(not (abs(a - b) <= 1e-9) for a, b in zip(lvals, svals)):
                problem = "order values differ"
            else:
                # rows with equal order values may come in any id order; the last group may be cut
                groups: dict[float, tuple[list, list]] = {}
                for a, b in zip(lp, sp):
                    groups.setdefault(float(a.order_value), ([], []))
                    groups[float(a.order_value)][0].append(str(a.id))
                    groups[float(a.order_value)][1].append(str(b.id))
                last = float(lp[-1].order_value) if lp and len(lp) == limit else None
                for v, (la, sa) in groups.items():
                    if v != last and sorted(la) != sorted(sa):
                        problem = f"ids with order value {v}: {sorted(la)} != {sorted(sa)}"
                        break
                lm = {str(p.id): p.payload for p in lp}
                for b in sp:
                    if str(b.id) in lm and lm[str(b.id)] != b.payload:
                        problem = f"payload of {b.id!r} differs"
        if problem:
            self.mismatch(
                op,
                problem,
                [(p.id, p.order_value) for p in lp],
                [(p.id, p.order_value) for p in sp],
                flt,
            )

    def op_count(self):
        flt = rand_filter(self.r, self.existing())
        op = "count(filter)"
        ok, lres, sres = self.both(op, lambda c: c.count(self.name, count_filter=flt, exact=True).count, flt=flt)
        if ok and lres != sres:
            self.mismatch(op, f"count {lres} != {sres}", lres, sres, flt)

    def op_retrieve(self):
        r = self.r
        ids = [rand_id(r) for _ in range(r.randint(1, 5))]
        wp = rand_with_payload(r)
        op = f"retrieve(ids={ids}, with_payload={fmt(wp)})"
        ok, lres, sres = self.both(op, lambda c: c.retrieve(self.name, ids, with_payload=wp, with_vectors=True))
        if not ok:
            return
        lm, sm = {p.id: p for p in lres}, {p.id: p for p in sres}
        if lm.keys() != sm.keys():
            self.mismatch(op, "ids differ", lres, sres)
            return
        for k in lm:
            d = record_diff(lm[k], sm[k])
            if d:
                self.mismatch(op, d, lres, sres)
                return

    OPS = [
        ("upsert", 22),
        ("set_payload", 8),
        ("overwrite_payload", 4),
        ("delete_payload", 5),
        ("clear_payload", 2),
        ("delete", 5),
        ("update_vectors", 3),
        ("delete_vectors", 1),
        ("query", 22),
        ("query_batch", 4),
        ("recommend", 5),
        ("discover", 4),
        ("mmr", 3),
        ("formula", 5),
        ("scroll", 10),
        ("scroll_order_by", 4),
        ("count", 10),
        ("retrieve", 4),
    ]

    def run(self, n_ops: int) -> None:
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        # seed the collection first
        for _ in range(12):
            self.n_ops += 1
            self.op_upsert()
        while self.n_ops < n_ops:
            self.n_ops += 1
            getattr(self, "op_" + self.r.choices(names, weights)[0])()
        self.local.close()


@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "indexed"])
@pytest.mark.parametrize("distance", list(models.Distance), ids=lambda d: d.value)
def test_differential_against_local_mode(client: QdrantClient, distance, indexed):
    name = unique_name(f"diff_{distance.value.lower()}")
    seed = SEED + 10 * list(models.Distance).index(distance) + int(indexed)
    h = Harness(client, name, distance, seed, indexed)
    h.run(OPS_PER_RUN)
    assert h.n_ops >= OPS_PER_RUN
    if h.mismatches:
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(h.counts.items()))
        pytest.fail(
            f"{sum(h.counts.values())} mismatches over {h.n_ops} operations (seed {seed}; {summary}); first ones:\n\n"
            + "\n\n".join(h.mismatches),
            pytrace=False,
        )
