"""Hostile and malformed requests straight to the REST endpoints (no client library).

Every answer must be a 4xx (never 5xx, never a hang or crash); a 4xx with a body must carry
Qdrant's JSON error envelope `{"status": {"error": "..."}, "time": ...}` (a 405 may be empty and
a 413 from the body limit may be plain text). Requests built to be invalid in Qdrant must be
rejected; the looser "wrong type anywhere" mutations may also succeed, but must not break the
server. Afterwards /healthz must answer, the process must still be the same one, and its log
must show no panic.
"""

from __future__ import annotations

import copy
import http.client
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import httpx
import pytest

from conftest import unique_name

V4 = [0.1, 0.2, 0.3, 0.4]
UUID_OK = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
FILTER_OK = {"must": [{"key": "n", "range": {"gte": 0}}]}

STRICT = "strict"  # must be 4xx
LAX = "lax"  # 2xx or 4xx


@dataclass
class Case:
    method: str
    path: str
    body: Optional[bytes]
    expect: str
    label: str
    headers: dict = field(default_factory=lambda: {"content-type": "application/json"})
    codes: Optional[set] = None  # exact codes accepted, when known


def enc(obj: Any) -> bytes:
    return json.dumps(obj).encode()


# -------------------------------------------------------------------------------------------
# invalid values by kind (each is invalid in Qdrant wherever a field of that kind is expected)
# -------------------------------------------------------------------------------------------
BAD_ID = [-1, 1.5, "abc", "", True, [], {}, 2**64, 2**70, -(2**63), "1",
          UUID_OK[:-1], UUID_OK + "x", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", UUID_OK.replace("-", "_"), {"id": 1}]
INVALID = {
    "id": BAD_ID + [None],
    "id_opt": BAD_ID,
    "ids": ["1", 1, {}, [[1]], [-1], [1.5], ["bad"], [True], [None], None, [2**64], [UUID_OK[:-2]]],
    "vector": [[], [1, 2, 3], [1, 2, 3, 4, 5], ["a", 1, 2, 3], [None, 1, 2, 3], "abc", {}, True, 4,
               [True, 1, 2, 3], [[1, 2, 3, 4]], {"indices": [1], "values": [1.0]}, [1.0] * 100_000,
               {"nope": [1, 2, 3, 4]}, None, [[1, 2], [3, 4]]],
    # on a collection with only named vectors ({} is a point without vectors there, which is valid)
    "named_vector": [[], [1, 2, 3, 4], "abc", True, 4, {"img": [1, 2, 3]}, {"img": "x"}, {"nope": [1, 2, 3, 4]},
                     {"s": [1, 2, 3, 4]}, {"img": {"indices": [1], "values": [1.0]}}, None, [[1, 2, 3, 4]]],
    "vectors_batch": [[[1, 2, 3]] * 2, "x", [V4], V4, [["a"] * 4] * 2, [V4] * 3, None, {"nope": [V4, V4]}],
    "payloads": ["x", [1, 2], [[], []], [{}], 5],
    "payload_req": [None, [], "x", 5, True, [{"a": 1}]],
    "payload_opt": [[], "x", 5, True, [{"a": 1}]],
    "key": [5, [], {}, True, "", "a[", "a..b", "a[x]", "a]", ".a"],
    "keys": ["a", 5, [5], [[]], [""], ["a["], None, [None]],
    "names": ["x", [5], ["nope"], None, [None]],
    "uint_pos": [-1, 1.5, "10", True, [], {}, 0, 2**70, -(2**70)],
    "uint": [-1, 1.5, "1", True, [], {}, 2**70],
    "float": ["x", [], {}, True, "0.5"],
    "bool": ["yes", 1, [], {}, "true"],
    "with_payload": [5, "x", {"include": 5}, {"bogus": []}, [1], [[]], 1.5],
    "with_vector": [5, "x", {}, [1], [[]], 1.5],
    "filter": [
        "x", 1, [], True,
        {"must": "x"}, {"must": [1]}, {"must": [[]]}, {"must": [{"key": 1, "match": {"value": 1}}]},
        {"must": [{"key": "a"}]}, {"must": [{"key": "a", "match": {}}]},
        {"must": [{"key": "a", "match": {"value": [1, 2]}}]}, {"must": [{"key": "a", "match": {"value": {"x": 1}}}]},
        {"must": [{"key": "a", "match": {"value": 1.5}}]}, {"must": [{"key": "a", "match": {"value": None}}]},
        {"must": [{"key": "a", "match": {"any": [1, "x"]}}]}, {"must": [{"key": "a", "match": {"any": "x"}}]},
        {"must": [{"key": "a", "match": {"except": 5}}]}, {"must": [{"key": "a", "match": {"text": 1}}]},
        {"must": [{"key": "a", "match": {"regex": "x"}}]},
        {"must": [{"key": "a", "range": {"gt": "abc"}}]}, {"must": [{"key": "a", "range": {"gt": [1]}}]},
        {"must": [{"key": "a", "range": {"gt": {}}}]}, {"must": [{"key": "a", "range": 5}]},
        {"must": [{"key": "a", "range": {"gt": 1, "lt": "2026-01-01T00:00:00Z"}}]},
        {"must": [{"key": "a", "range": {"gt": "2026-13-45T00:00:00Z"}}]},
        {"must": [{"has_id": ["bad"]}]}, {"must": [{"has_id": [-1]}]}, {"must": [{"has_id": 5}]},
        {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 1}, "radius": 1}}]},
        {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 1, "lat": 100}, "radius": 1}}]},
        {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 500, "lat": 1}, "radius": 1}}]},
        {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 1, "lat": 1}, "radius": "far"}}]},
        {"must": [{"key": "loc", "geo_bounding_box": {"top_left": {"lon": 1, "lat": 1}}}]},
        {"must": [{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 0, "lat": 0}]}}}]},
        {"must": [{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 1}]}}}]},
        {"must": [{"key": "loc", "geo_polygon": {"exterior": []}}]},
        {"must": [{"key": "a", "values_count": {"gt": -1}}]}, {"must": [{"key": "a", "values_count": {"gt": "x"}}]},
        {"must": [{"key": "", "match": {"value": 1}}]}, {"must": [{"key": "a[", "match": {"value": 1}}]},
        {"must": [{"key": "a..b", "match": {"value": 1}}]},
        {"must": [{"is_empty": {}}]}, {"must": [{"is_empty": {"key": 5}}]}, {"must": [{"is_null": "a"}]},
        {"must": [{"has_vector": 5}]}, {"must": [{"nested": {"key": "a"}}]}, {"must": [{"nested": {"filter": {}}}]},
        {"must": [{"nested": {"key": "a", "filter": "x"}}]},
        {"mustt": []}, {"must": [], "bogus": 1}, {"should": 5}, {"must_not": "x"},
        {"min_should": {"conditions": [{"key": "a", "match": {"value": 1}}], "min_count": -1}},
        {"min_should": {"conditions": "x", "min_count": 1}}, {"min_should": 5},
        {"must": [{"bogus_condition": {"key": "a"}}]},
        {"must": [{"key": "a", "match": {"value": 1}}, {"key": "b", "match": {"value": 2}, "range": 7}]},
    ],
    "query": [
        {"nearest": "x"}, {"nearest": [1, 2, 3]}, {"nearest": -1}, {"nearest": "not-a-uuid"},
        {"nearest": {"indices": [1], "values": [1, 2]}}, {"bogus": V4}, "x", True, {"nearest": None},
        {"recommend": {"positive": ["bad"]}}, {"recommend": {"positive": [[1, 2]]}},
        {"recommend": {"positive": [1], "strategy": "nope"}}, {"recommend": 5}, {"fusion": "nope"},
        {"order_by": 5}, {"sample": "nope"}, {"nearest": [[1, 2, 3, 4]]}, [],
        {"nearest": {"indices": [1, 1], "values": [1, 2]}}, {"nearest": {"indices": [-1], "values": [1]}},
    ],
    "params": [{"hnsw_ef": -1}, {"exact": "yes"}, {"quantization": {"oversampling": "x"}}, 5, "x", [],
               {"quantization": 5}],
    "size": [0, -1, 1.5, "4", 2**64, None, True, []],
    "distance": ["cosine", "L2", 1, None, "", ["Cosine"], "COSINE"],
    "vectors_cfg": [5, "x", [], {"size": 4}, {"distance": "Dot"}, {"size": 4, "distance": "Dot", "extra": 1},
                    {"a": {"size": 0, "distance": "Dot"}}, {"a": 5}, {"a": {"size": 4}}],
    "key_required": [None, 5, [], "", "a[", {}],
    "schema": ["nope", 5, None, {"type": "nope"}, {"type": "keyword", "bogus": 1}, [],
               {"type": "text", "tokenizer": "nope"}, {"type": "integer", "lookup": "yes"}, {}],
    "list_of_obj": ["x", 5, {}, [5], ["x"], [{"bogus": {}}], None, [None], [[]]],
    # query requests ignore unknown fields in Qdrant, so {"bogus": {}} is a valid (empty) request
    "searches": ["x", 5, {}, [5], ["x"], None, [None], [[]], [{"limit": "x"}], [{"query": "x"}]],
    "optimizers": [5, "x", [], {"indexing_threshold": -1}, {"indexing_threshold": "x"}, {"deleted_threshold": "x"}],
    "alias_action": [
        {"create_alias": {"collection_name": "nope_missing_collection", "alias_name": "x"}},
        {"create_alias": {"collection_name": 5, "alias_name": "x"}},
        {"create_alias": {"alias_name": "x"}},
        {"rename_alias": {"old_alias_name": "never_existed_alias", "new_alias_name": "y"}},
        {"bogus_alias": {}}, 5, "x", [],
    ],
    "order_by": [5, [], {"key": 5}, {"direction": "asc"}, {"key": "n", "direction": "up"},
                 {"key": "n", "start_from": "notadate"}, "a[", {"key": "n", "start_from": []}],
    "sparse": [{"indices": [1, 2], "values": [1.0]}, {"indices": [1, 1], "values": [1.0, 2.0]},
               {"indices": [-1], "values": [1.0]}, {"indices": ["a"], "values": [1.0]}, {"indices": [1]},
               {"values": [1.0]}, {"indices": [2**33], "values": [1.0]}, {"indices": [1], "values": ["x"]}],
}

# generic wrong types, tried at every position of every template (LAX: may be valid somewhere)
GENERIC = [None, True, 0, -1, 1.5, "s", [], {}, [None], {"a": {}}, 2**64, -(2**63) - 1, "\u0000", "💥" * 3]

# raw JSON number spellings that are not JSON (or not representable)
RAW_NUMBERS = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"01", b"+1", b".5", b"1.", b"0x10", b"1e", b"--1", b"nan", b"inf"]


@dataclass
class Template:
    method: str
    path: str
    body: Any
    kinds: dict  # path tuple → kind
    required: list = field(default_factory=list)  # path tuples whose removal is invalid


def templates(col: str, named: str) -> list[Template]:
    pts = f"/collections/{col}/points"
    return [
        Template("PUT", pts + "?wait=true", {"points": [{"id": 1, "vector": V4, "payload": {"a": 1}}]},
                 {("points", 0, "id"): "id", ("points", 0, "vector"): "vector", ("points", 0, "payload"): "payload_opt",
                  ("points",): "list_of_obj"},
                 [("points",), ("points", 0, "id"), ("points", 0, "vector")]),
        Template("PUT", pts + "?wait=true", {"batch": {"ids": [1, 2], "vectors": [V4, V4], "payloads": [{}, {}]}},
                 {("batch", "ids"): "ids", ("batch", "vectors"): "vectors_batch", ("batch", "payloads"): "payloads"},
                 [("batch",), ("batch", "ids"), ("batch", "vectors")]),
        Template("PUT", f"/collections/{named}/points?wait=true",
                 {"points": [{"id": 2, "vector": {"img": V4, "s": {"indices": [1, 5], "values": [0.5, 0.1]}}}]},
                 {("points", 0, "vector", "img"): "vector", ("points", 0, "vector", "s"): "sparse",
                  ("points", 0, "vector"): "named_vector"}),
        Template("POST", pts, {"ids": [1, 2], "with_payload": True, "with_vector": False},
                 {("ids",): "ids", ("with_payload",): "with_payload", ("with_vector",): "with_vector"}, [("ids",)]),
        Template("POST", pts + "/delete?wait=true", {"points": [1000]}, {("points",): "ids"}, [("points",)]),
        Template("POST", pts + "/delete?wait=true", {"filter": {"must": [{"key": "zz", "match": {"value": "none"}}]}},
                 {("filter",): "filter"}),
        Template("POST", pts + "/payload?wait=true", {"payload": {"x": 1}, "points": [1], "key": "obj"},
                 {("payload",): "payload_req", ("points",): "ids", ("key",): "key"}, [("payload",), ("points",)]),
        Template("PUT", pts + "/payload?wait=true", {"payload": {"x": 1}, "filter": FILTER_OK},
                 {("payload",): "payload_req", ("filter",): "filter"}, [("payload",), ("filter",)]),
        Template("POST", pts + "/payload/delete?wait=true", {"keys": ["zz"], "points": [1]},
                 {("keys",): "keys", ("points",): "ids"}, [("keys",), ("points",)]),
        Template("POST", pts + "/payload/clear?wait=true", {"points": [1000]}, {("points",): "ids"}, [("points",)]),
        Template("PUT", pts + "/vectors?wait=true", {"points": [{"id": 1, "vector": V4}]},
                 {("points", 0, "id"): "id", ("points", 0, "vector"): "vector", ("points",): "list_of_obj"},
                 [("points",), ("points", 0, "vector"), ("points", 0, "id")]),
        Template("POST", pts + "/vectors/delete?wait=true", {"points": [1000], "vector": [""]},
                 {("points",): "ids", ("vector",): "names"}, [("vector",)]),
        Template("POST", pts + "/batch?wait=true", {"operations": [{"upsert": {"points": [{"id": 3, "vector": V4}]}}]},
                 {("operations",): "list_of_obj", ("operations", 0, "upsert", "points", 0, "vector"): "vector",
                  ("operations", 0, "upsert", "points", 0, "id"): "id"}, [("operations",)]),
        Template("POST", pts + "/scroll", {"offset": 1, "limit": 5, "filter": FILTER_OK, "with_payload": True, "with_vector": False},
                 {("offset",): "id_opt", ("limit",): "uint_pos", ("filter",): "filter", ("with_payload",): "with_payload",
                  ("with_vector",): "with_vector"}),
        Template("POST", pts + "/scroll", {"limit": 5, "order_by": {"key": "n", "direction": "desc"}},
                 {("order_by",): "order_by", ("limit",): "uint_pos"}),
        Template("POST", pts + "/count", {"filter": FILTER_OK, "exact": True}, {("filter",): "filter", ("exact",): "bool"}),
        Template("POST", pts + "/query",
                 {"query": {"nearest": V4}, "limit": 5, "offset": 1, "filter": FILTER_OK, "score_threshold": 0.1,
                  "with_payload": True, "with_vector": False, "params": {"exact": True}},
                 {("query",): "query", ("limit",): "uint_pos", ("offset",): "uint", ("filter",): "filter",
                  ("score_threshold",): "float", ("with_payload",): "with_payload", ("with_vector",): "with_vector",
                  ("params",): "params"}),
        Template("POST", f"/collections/{named}/points/query", {"query": {"indices": [1], "values": [1.0]}, "using": "s"},
                 {("query",): "sparse"}),
        Template("POST", pts + "/query/batch", {"searches": [{"query": {"nearest": V4}, "limit": 2}]},
                 {("searches",): "searches", ("searches", 0, "query"): "query", ("searches", 0, "limit"): "uint_pos",
                  ("searches", 0, "filter"): "filter"}, [("searches",)]),
        Template("POST", pts + "/search", {"vector": V4, "limit": 3, "filter": FILTER_OK},
                 {("vector",): "vector", ("limit",): "uint_pos", ("filter",): "filter"}, [("vector",), ("limit",)]),
        Template("POST", pts + "/search/batch", {"searches": [{"vector": V4, "limit": 3}]},
                 {("searches",): "list_of_obj", ("searches", 0, "vector"): "vector", ("searches", 0, "limit"): "uint_pos"},
                 [("searches",), ("searches", 0, "vector"), ("searches", 0, "limit")]),
        Template("PUT", "/collections/{new}", {"vectors": {"size": 4, "distance": "Cosine"}},
                 {("vectors", "size"): "size", ("vectors", "distance"): "distance", ("vectors",): "vectors_cfg"},
                 [("vectors", "size"), ("vectors", "distance")]),
        Template("PUT", f"/collections/{named}/vectors/{{new}}?wait=true", {"dense": {"size": 4, "distance": "Cosine"}},
                 {("dense", "size"): "size", ("dense", "distance"): "distance"},
                 [("dense", "size"), ("dense", "distance")]),
        Template("PATCH", f"/collections/{col}", {"optimizers_config": {"indexing_threshold": 100}},
                 {("optimizers_config",): "optimizers"}),
        Template("PUT", f"/collections/{col}/index?wait=true", {"field_name": "k", "field_schema": "keyword"},
                 {("field_name",): "key_required", ("field_schema",): "schema"}, [("field_name",)]),
        Template("POST", "/collections/aliases", {"actions": [{"create_alias": {"collection_name": col, "alias_name": "{new}"}}]},
                 {("actions",): "list_of_obj", ("actions", 0): "alias_action"}, [("actions",)]),
    ]


def set_at(obj, path, value):
    obj = copy.deepcopy(obj)
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return obj


def del_at(obj, path):
    obj = copy.deepcopy(obj)
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    del cur[path[-1]]
    return obj


def all_paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from all_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from all_paths(v, prefix + (i,))


def numeric_leaves(obj, prefix=()):
    if isinstance(obj, bool):
        return
    if isinstance(obj, (int, float)):
        yield prefix
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from numeric_leaves(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from numeric_leaves(v, prefix + (i,))


MARK = "__RAW_NUMBER_MARK__"


def path_fmt(t: Template) -> str:
    return t.path.replace("{new}", unique_name("bad_new"))


def body_fmt(body: Any) -> bytes:
    return enc(body).replace(b"{new}", unique_name("bad_alias").encode())


def template_cases(col: str, named: str) -> Iterator[Case]:
    for t in templates(col, named):
        label = f"{t.method} {t.path}"
        valid = body_fmt(t.body)
        # kind-specific invalid values → must be rejected
        for path, kind in t.kinds.items():
            for bad in INVALID[kind]:
                yield Case(t.method, path_fmt(t), body_fmt(set_at(t.body, path, bad)), STRICT, f"{label}: {path}={bad!r:.60}")
        # required fields removed
        for path in t.required:
            yield Case(t.method, path_fmt(t), body_fmt(del_at(t.body, path)), STRICT, f"{label}: without {path}")
        # wrong types anywhere (may happen to be valid)
        for path in all_paths(t.body):
            if not path:
                continue
            for g in GENERIC:
                yield Case(t.method, path_fmt(t), body_fmt(set_at(t.body, path, g)), LAX, f"{label}: {path}={g!r:.40}")
        # the whole body of the wrong JSON type
        for whole in (None, [], 5, "x", True, [t.body]):
            yield Case(t.method, path_fmt(t), enc(whole), STRICT, f"{label}: body={whole!r:.40}")
        # non-JSON number spellings at every numeric position
        for path in numeric_leaves(t.body):
            templ = enc(set_at(t.body, path, MARK)).replace(b"{new}", b"x")
            for raw in RAW_NUMBERS:
                yield Case(t.method, path_fmt(t), templ.replace(f'"{MARK}"'.encode(), raw), STRICT, f"{label}: {path}={raw!r}")
        # broken JSON
        for k in sorted({1, 2, len(valid) // 3, len(valid) // 2, len(valid) - 1}):
            yield Case(t.method, path_fmt(t), valid[:k], STRICT, f"{label}: truncated to {k}")
        for bad in (valid + b"x", valid + b"}", valid + b"{}", b"{" + valid, valid.replace(b'"', b"'"),
                    valid.replace(b":", b"=", 1), b"\xef\xbb\xbf" + valid + b"\xff", valid.replace(b",", b",,", 1),
                    b"{\"a\":1,}", b"[1,2,]", b"{/*c*/}", b"\x00\x01\x02", b"{\"a\":\"\\ud800\"}" + b"x",
                    b"{\"a\": \"unterminated}", b"\xff\xfe{\x00}\x00", valid[:-1] + b",}"):
            if bad != valid:
                yield Case(t.method, path_fmt(t), bad, STRICT, f"{label}: broken {bad[:40]!r}")


def misc_cases(col: str, named: str) -> Iterator[Case]:
    pts = f"/collections/{col}/points"
    # empty body where one is required
    for method, path in [("PUT", pts), ("POST", pts), ("POST", pts + "/delete"), ("POST", pts + "/payload"),
                         ("PUT", pts + "/vectors"), ("POST", pts + "/batch"), ("POST", pts + "/search"),
                         ("POST", pts + "/query/batch"), ("POST", "/collections/aliases"), ("PUT", f"/collections/{col}/index")]:
        yield Case(method, path, b"", STRICT, f"{method} {path}: empty body")
        yield Case(method, path, b"{}", STRICT, f"{method} {path}: {{}}")
    # deep nesting (past serde_json's recursion limit and well within it)
    for depth in (20, 64, 127, 129, 200, 1000, 50_000):
        nest = b'{"must":[' * depth + b"{}" + b"]}" * depth
        yield Case("POST", pts + "/scroll", b'{"filter":' + nest + b"}", LAX if depth < 1000 else STRICT, f"filter depth {depth}")
        obj = b'{"a":' * depth + b"1" + b"}" * depth
        yield Case("PUT", pts + "?wait=true", b'{"points":[{"id":77,"vector":[1,2,3,4],"payload":' + obj + b"}]}",
                   LAX if depth < 1000 else STRICT, f"payload depth {depth}")
        arr = b"[" * depth + b"]" * depth
        yield Case("POST", pts + "/query", b'{"query":' + arr + b"}", STRICT, f"query array depth {depth}")
    nested_cond = {"key": "a", "match": {"value": 1}}
    for _ in range(60):
        nested_cond = {"nested": {"key": "a", "filter": {"must": [nested_cond]}}}
    yield Case("POST", pts + "/count", enc({"filter": {"must": [nested_cond]}}), LAX, "nested condition depth 60")
    # bad query strings
    for qs in ["wait=maybe", "wait=", "wait=1x", "timeout=-1", "timeout=abc", "timeout=1e999", "ordering=bogus",
               "wait=true&wait=false&wait=maybe", "consistency=bogus"]:
        method, path = ("PUT", pts) if "consistency" not in qs else ("POST", pts + "/scroll")
        body = enc({"points": [{"id": 5, "vector": V4}]}) if method == "PUT" else b"{}"
        yield Case(method, f"{path}?{qs}", body, STRICT, f"query string {qs}")
    # unknown collection
    missing = unique_name("nope")
    for method, suffix, body in [("GET", "", None), ("POST", "/points/scroll", b"{}"), ("POST", "/points/count", b"{}"),
                                 ("POST", "/points/query", b"{}"), ("PUT", "/points?wait=true", enc({"points": [{"id": 1, "vector": V4}]})),
                                 ("POST", "/points", enc({"ids": [1]})), ("GET", "/points/1", None), ("PATCH", "", b"{}"),
                                 ("PUT", "/index", enc({"field_name": "a", "field_schema": "keyword"})), ("DELETE", "/index/a", None),
                                 ("GET", "/aliases", None), ("POST", "/points/search", enc({"vector": V4, "limit": 1}))]:
        yield Case(method, f"/collections/{missing}{suffix}", body, STRICT, f"missing collection {method} {suffix}", codes={404})
    # point lookups with bad ids in the path
    for pid in ["-1", "abc", "1.5", "18446744073709551616", UUID_OK[:-1], "%00", "1%2F2", "%201", "1%20", "%EF%BC%90", "1;2", "1,2"]:
        yield Case("GET", f"{pts}/{pid}", None, STRICT, f"GET point {pid!r}")
    # path tricks
    tricks = ["..%2F..%2Fetc%2Fpasswd", "..%2F", "%2F", "a%2Fb", "a%5Cb", "a%00b", "%00", "..%5C..%5Cwindows",
              "x" * 256, "x" * 5000, "a%20b%0A", "%E2%80%AE", "%ff%fe", "CON", "a:b", "%2e%2e%2f%2e%2e", "...."]
    for t in tricks:
        body = enc({"vectors": {"size": 4, "distance": "Dot"}})
        expect = LAX if t in ("CON", "a:b", "a%20b%0A", "%E2%80%AE", "....") else STRICT
        yield Case("PUT", f"/collections/{t}", body, expect, f"create {t[:40]}")
        yield Case("GET", f"/collections/{t}", None, expect, f"get {t[:40]}")
        yield Case("DELETE", f"/collections/{t}", None, LAX, f"delete {t[:40]}")
        yield Case("POST", f"/collections/{t}/points/scroll", b"{}", expect, f"scroll {t[:40]}")
        yield Case("DELETE", f"/collections/{col}/index/{t}", None, LAX, f"delete index {t[:40]}")
    for raw_path in ["/collections/../../etc/passwd", "/collections//points", "/collections/%", "/collections/%zz",
                     "/%2e%2e/%2e%2e/etc/passwd", "/" + "a/" * 2000, "/collections/" + col + "/points/scroll/extra",
                     "/collections/" + col + "/pointz", "/collections/%ff%fe/points/scroll"]:
        yield Case("GET", raw_path, None, STRICT, f"raw path {raw_path[:50]}")
        yield Case("POST", raw_path, b"{}", STRICT, f"raw path POST {raw_path[:50]}")
    # paths a router may normalise to a valid one: anything but a 5xx
    for raw_path in ["/collections/./" + col, "//collections", "/../collections", "/collections/" + col + "/points/../../..",
                     "/collections?x=%zz", "/healthz/..", "/collections/" + col + "/./points/scroll"]:
        yield Case("GET", raw_path, None, LAX, f"raw path {raw_path[:50]}")
        yield Case("POST", raw_path, b"{}", LAX, f"raw path POST {raw_path[:50]}")
    # wrong methods
    for method in ("DELETE", "PATCH", "PUT", "POST"):
        yield Case(method, pts + "/scroll" if method != "POST" else "/healthz", b"{}", STRICT, f"{method} wrong method")
    yield Case("TRACE", "/collections", None, STRICT, "TRACE")
    yield Case("BREW", "/collections", None, STRICT, "BREW")
    # wrong content types / encodings
    good = enc({"points": [{"id": 9, "vector": V4}]})
    for ctype in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1"):
        yield Case("PUT", pts + "?wait=true", good, LAX, f"content-type {ctype}", headers={"content-type": ctype})
    yield Case("PUT", pts + "?wait=true", b"\x1f\x8b\x08\x00garbage", STRICT, "fake gzip body",
               headers={"content-type": "application/json", "content-encoding": "gzip"})
    yield Case("PUT", pts + "?wait=true", good, LAX, "unknown content-encoding",
               headers={"content-type": "application/json", "content-encoding": "br-bogus"})
    # sparse and named vector misuse
    for vec in [{"img": [1, 2, 3]}, {"img": {"indices": [1], "values": [1.0]}}, {"s": V4}, {"s": [[1, 2]]},
                {"nope": V4}, V4, {"img": None}, {"img": V4, "s": {"indices": [1, 2], "values": [1.0]}}]:
        yield Case("PUT", f"/collections/{named}/points?wait=true", enc({"points": [{"id": 8, "vector": vec}]}), STRICT, f"named {vec!r:.50}")
    for using in ["nope", 5, "s", ""]:
        yield Case("POST", f"/collections/{named}/points/query", enc({"query": V4, "using": using}), STRICT, f"using {using!r}")
    # batch length mismatches
    for batch in [{"ids": [1, 2], "vectors": [V4]}, {"ids": [1], "vectors": [V4, V4]}, {"ids": [1], "vectors": [V4], "payloads": [{}, {}]},
                  {"ids": [1, 2], "vectors": {"img": [V4]}}]:
        target = col if isinstance(batch["vectors"], list) else named
        yield Case("PUT", f"/collections/{target}/points?wait=true", enc({"batch": batch}), STRICT, f"batch {batch!r:.60}")
    # both points and filter, or neither
    yield Case("POST", pts + "/payload?wait=true", enc({"payload": {"a": 1}}), STRICT, "set_payload without selector")
    yield Case("POST", pts + "/payload/delete?wait=true", enc({"keys": ["a"]}), STRICT, "delete_payload without selector")
    yield Case("POST", pts + "/delete?wait=true", enc({"bogus": [1]}), STRICT, "delete with bogus selector")
    # huge values
    yield Case("POST", pts + "/scroll", enc({"limit": 2**63}), LAX, "scroll limit 2^63")
    yield Case("POST", pts + "/query", enc({"query": V4, "limit": 2**63, "offset": 2**63}), LAX, "query limit+offset 2^63")
    yield Case("POST", pts + "/query", enc({"query": V4, "limit": 2**64 - 1, "offset": 2**64 - 1}), LAX, "query limit+offset u64::MAX")
    yield Case("POST", pts + "/search", enc({"vector": V4, "limit": 2**64 - 1, "offset": 5}), LAX, "search limit u64::MAX")
    yield Case("PUT", f"/collections/{unique_name('huge')}", enc({"vectors": {"size": 2**40, "distance": "Dot"}}), LAX, "size 2^40")
    yield Case("PUT", f"/collections/{unique_name('huge')}", enc({"vectors": {"size": 2**64 - 1, "distance": "Dot"}}), LAX, "size u64::MAX")
    yield Case("POST", pts, enc({"ids": list(range(100_000))}), LAX, "retrieve 100k ids")
    yield Case("POST", pts + "/count", enc({"filter": {"must": [{"has_id": list(range(50_000))}]}}), LAX, "has_id 50k")
    yield Case("POST", pts + "/count", enc({"filter": {"should": [{"key": f"k{i}", "match": {"value": i}} for i in range(5000)]}}), LAX, "5000 conditions")
    yield Case("PUT", pts + "?wait=true", enc({"points": [{"id": 55, "vector": V4, "payload": {"s": "x" * 3_000_000}}]}), LAX, "3 MB string")
    yield Case("PUT", pts + "?wait=true", enc({"points": [{"id": 56, "vector": V4, "payload": {f"k{i}": i for i in range(50_000)}}]}), LAX, "50k keys")
    yield Case("POST", pts + "/query", enc({"query": {"recommend": {"positive": [V4] * 5000}}}), LAX, "5000 examples")
    yield Case("POST", f"/collections/{named}/points/query",
               enc({"query": {"indices": list(range(100_000)), "values": [1.0] * 100_000}, "using": "s"}), LAX, "100k sparse dims")
    yield Case("POST", pts + "/query/batch", enc({"searches": [{"query": V4, "limit": 1}] * 2000}), LAX, "2000 batched queries")


def check_response(case: Case, status: int, body: bytes, headers) -> Optional[str]:
    if status >= 500:
        return f"{status} server error"
    if case.codes is not None and status not in case.codes:
        return f"expected {sorted(case.codes)}, got {status}"
    if case.expect == STRICT and not (400 <= status < 500):
        return f"expected 4xx, got {status}"
    if not (200 <= status < 300 or 400 <= status < 500):
        return f"unexpected status {status}"
    if 400 <= status < 500:
        if not body:
            if status in (405, 413):
                return None
            return f"{status} with an empty body"
        try:
            doc = json.loads(body)
        except ValueError:
            if status == 413:
                return None
            return f"{status} body is not JSON: {body[:120]!r}"
        if not isinstance(doc, dict) or not isinstance(doc.get("status"), dict) or not isinstance(doc["status"].get("error"), str):
            return f"{status} body is not a Qdrant error envelope: {body[:200]!r}"
        if "result" in doc and doc["result"] is not None:
            return f"{status} error body carries a result: {body[:200]!r}"
    return None


class Raw:
    """A keep-alive connection that sends the request line and body verbatim."""

    def __init__(self, port: int):
        self.port = port
        self.conn: Optional[http.client.HTTPConnection] = None

    def send(self, case: Case, timeout: float = 30.0):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.putrequest(case.method, case.path, skip_accept_encoding=True)
                headers = dict(case.headers)
                if case.body is not None or case.method in ("POST", "PUT", "PATCH"):
                    headers["content-length"] = str(len(case.body or b""))
                for k, v in headers.items():
                    self.conn.putheader(k, v)
                self.conn.endheaders(case.body or None)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
                return resp.status, data, resp.headers
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest, BrokenPipeError) as e:
                self.close()
                if attempt == 1:
                    raise RuntimeError(f"connection failed for {case.label}: {e!r}") from e

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@pytest.fixture(scope="module")
def bad_server(tmp_path_factory):
    from conftest import start_azimuth

    srv = start_azimuth(tmp_path_factory.mktemp("bad-input-data"))
    yield srv
    srv.stop()


def setup_collections(url: str) -> tuple[str, str]:
    col, named = unique_name("bad"), unique_name("badn")
    with httpx.Client(base_url=url, timeout=30) as h:
        assert h.put(f"/collections/{col}", json={"vectors": {"size": 4, "distance": "Cosine"}}).status_code == 200
        assert h.put(
            f"/collections/{named}",
            json={"vectors": {"img": {"size": 4, "distance": "Dot"}}, "sparse_vectors": {"s": {}}},
        ).status_code == 200
        pts = [{"id": i, "vector": V4, "payload": {"n": i, "obj": {"x": i}, "loc": {"lon": 1.0, "lat": 2.0}}} for i in range(1, 6)]
        pts.append({"id": UUID_OK, "vector": V4, "payload": {"n": 0}})
        assert h.put(f"/collections/{col}/points?wait=true", json={"points": pts}).status_code == 200
        assert h.put(f"/collections/{col}/index?wait=true", json={"field_name": "n", "field_schema": "integer"}).status_code == 200
    return col, named


def run_cases(srv, cases: list[Case]) -> tuple[list[str], dict]:
    raw = Raw(srv.port)
    failures: list[str] = []
    stats = {"2xx": 0, "4xx": 0, "total": 0}
    try:
        for case in cases:
            try:
                status, body, headers = raw.send(case)
            except (socket.timeout, TimeoutError) as e:
                failures.append(f"{case.label}: no answer ({e!r}) — {case.method} {case.path[:120]}")
                raw.close()
                if srv.proc is None or srv.proc.poll() is not None:
                    break
                continue
            stats["total"] += 1
            stats["2xx" if status < 300 else "4xx"] += status < 300 or 400 <= status < 500
            problem = check_response(case, status, body, headers)
            if problem:
                failures.append(
                    f"{case.label}: {problem}\n      request: {case.method} {case.path[:150]}  body={case.body[:300] if case.body else b''!r}"
                    f"\n      answer: {status} {body[:300]!r}"
                )
            if srv.proc.poll() is not None:
                failures.append(f"server died after {case.label}")
                break
    finally:
        raw.close()
    return failures, stats


def assert_alive(srv, pid_before: int):
    assert srv.proc is not None and srv.proc.poll() is None, f"server exited\n{srv.stderr_text()[-3000:]}"
    assert srv.proc.pid == pid_before
    r = httpx.get(srv.url + "/healthz", timeout=10)
    assert r.status_code == 200 and r.text.strip() == "healthz check passed"
    log = srv.stderr_text()
    assert "panicked" not in log, log[-3000:]


def test_malformed_requests(bad_server):
    srv = bad_server
    pid = srv.proc.pid
    col, named = setup_collections(srv.url)
    data_parent = srv.data_dir.parent
    before_entries = set(p.name for p in data_parent.iterdir())
    cases = list(template_cases(col, named)) + list(misc_cases(col, named))
    assert len(cases) >= 2000, len(cases)
    t0 = time.monotonic()
    failures, stats = run_cases(srv, cases)
    elapsed = time.monotonic() - t0
    assert_alive(srv, pid)
    # nothing escaped the data directory
    assert set(p.name for p in data_parent.iterdir()) == before_entries
    # the collections still answer
    with httpx.Client(base_url=srv.url, timeout=30) as h:
        r = h.post(f"/collections/{col}/points/count", json={})
        assert r.status_code == 200, r.text
        r = h.post(f"/collections/{col}/points/query", json={"query": V4, "limit": 3})
        assert r.status_code == 200, r.text
    assert not failures, (
        f"{len(failures)} of {len(cases)} requests answered wrongly ({stats}, {elapsed:.1f}s):\n  "
        + "\n  ".join(failures[:60])
    )


def test_body_limit(start_server):
    srv = start_server(extra_args=["--max-body-bytes", "1048576"])
    pid = srv.proc.pid
    col, _ = setup_collections(srv.url)
    big_points = [{"id": i, "vector": V4, "payload": {"pad": "x" * 1000}} for i in range(1500)]  # ~1.6 MB
    body = enc({"points": big_points})
    assert len(body) > 1_048_576
    failures = []
    cases = [
        Case("PUT", f"/collections/{col}/points?wait=true", body, STRICT, "1.6 MB upsert", codes={413}),
        Case("POST", f"/collections/{col}/points/scroll", b" " * 2_000_000 + b"{}", STRICT, "2 MB of whitespace", codes={413}),
        Case("POST", f"/collections/{col}/points/count", b"{" + b'"a":1,' * 400_000 + b'"b":2}', STRICT, "2.4 MB object", codes={413}),
    ]
    f, _ = run_cases(srv, cases)
    failures += f
    # a declared length far beyond the limit is refused without waiting for the body
    with socket.create_connection(("127.0.0.1", srv.port), timeout=3) as s:
        s.sendall(
            f"PUT /collections/{col}/points?wait=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10**12}\r\n\r\n{{".encode()
        )
        try:
            first = s.recv(4096)
        except socket.timeout:
            first = b""
        if not first.startswith(b"HTTP/1.1 413"):
            failures.append(f"Content-Length 10^12 (1 MiB limit): expected an immediate 413, got {first[:200]!r} within 3 s")
    # chunked body past the limit
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as s:
        s.sendall(
            f"POST /collections/{col}/points/count HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b" " * 65536
        answer = b""
        try:
            for _ in range(40):  # 2.5 MB
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            pass
        if not answer.startswith(b"HTTP/1.1 413"):
            failures.append(f"chunked 2.5 MB: expected 413, got {answer[:200]!r}")
    # just under the limit is fine
    ok_points = [{"id": i, "vector": V4, "payload": {"pad": "x" * 1000}} for i in range(900)]
    r = httpx.put(f"{srv.url}/collections/{col}/points?wait=true", json={"points": ok_points}, timeout=30)
    if r.status_code != 200:
        failures.append(f"0.9 MB upsert under a 1 MiB limit: {r.status_code} {r.text[:200]}")
    assert_alive(srv, pid)
    assert not failures, "\n".join(failures)


def test_default_body_limit(bad_server):
    """Bodies above the default limit (64 MiB) are refused with 413."""
    srv = bad_server
    pid = srv.proc.pid
    col, _ = setup_collections(srv.url)
    body = b'{"points":[{"id":1,"vector":[1,2,3,4],"payload":{"pad":"' + b"x" * (65 << 20) + b'"}}]}'
    status, data, _ = Raw(srv.port).send(Case("PUT", f"/collections/{col}/points?wait=true", body, STRICT, "65 MiB"), timeout=60)
    assert status == 413, (status, data[:200])
    assert_alive(srv, pid)


def test_slow_and_broken_connections(bad_server):
    """Half-sent requests and garbage on the socket don't take the server down."""
    srv = bad_server
    pid = srv.proc.pid
    for payload in [
        b"GET / HTTP/1.1\r\n",  # never finished
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS ClientHello
        b"GARBAGE\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\n\r\n",
        b"POST /collections HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /collections HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"y" * 200_000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(5000)) + b"\r\n",
    ]:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass
            except OSError:  # reset, broken pipe, not connected, timeout: all fine here
                pass
    # many connections opened and dropped at once
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(200)]
    for s in socks:
        s.close()
    assert_alive(srv, pid)
