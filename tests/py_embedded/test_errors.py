"""Bad input raises the documented exceptions: InvalidInput (a ValueError) for unusable
values, NotFound (a KeyError), AlreadyExists, TypeError for arguments of the wrong Python
type — and the database stays usable afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import azimuth


def test_exception_hierarchy() -> None:
    assert issubclass(azimuth.InvalidInput, ValueError)
    assert issubclass(azimuth.AlreadyExists, azimuth.InvalidInput)
    assert issubclass(azimuth.NotFound, KeyError)
    assert issubclass(azimuth.Corruption, OSError)
    assert issubclass(azimuth.Corruption, azimuth.StorageError)
    for cls in (azimuth.InvalidInput, azimuth.NotFound, azimuth.Locked, azimuth.StorageError):
        assert issubclass(cls, azimuth.AzimuthError)
    assert str(azimuth.NotFound("no such thing")) == "no such thing"  # not KeyError's repr


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(name="c", dim=0),
        dict(name="c", dim=-3),
        dict(name="c", dim=70_000),
        dict(name="c", dim=4, metric="hamming"),
        dict(name="", dim=4),
        dict(name="a/b", dim=4),
        dict(name="..", dim=4),
        dict(name="c", dim=4, m=1),
        dict(name="c", dim=4, ef_construct=0),
    ],
)
def test_bad_collection_settings(db: azimuth.Database, kwargs: dict) -> None:
    with pytest.raises(azimuth.InvalidInput):
        db.create_collection(**kwargs)
    assert db.list_collections() == []


@pytest.fixture
def col(db: azimuth.Database) -> azimuth.Collection:
    c = db.create_collection("c", dim=3, metric="euclid")
    c.upsert([1], [[1, 2, 3]], [{"a": 1}])
    return c


@pytest.mark.parametrize(
    "ids,vectors,payloads,match",
    [
        ([2], [[1, 2]], None, "dimension"),
        ([2], [[1, 2, 3, 4]], None, "dimension"),
        ([2], [[1, float("nan"), 3]], None, "non-finite"),
        ([2], np.array([[1, np.inf, 3]]), None, "non-finite"),
        ([2], np.array([[1e39, 0, 0]]), None, "non-finite"),  # float64 overflowing float32
        ([2, 3], [[1, 2, 3]], None, "2 ids but 1"),
        ([2], [[1, 2, 3], [4, 5, 6]], None, "1 ids but 2"),
        ([2], np.zeros((1, 1, 3)), None, "3-D"),
        ([2], [[1, 2], [3]], None, "vector"),  # ragged
        ([2], [["a", "b", "c"]], None, "dtype"),
        ([2], np.array([[True, False, True]]), None, "dtype"),
        ([2], [[1, 2, 3]], [{"a": 1}, {"b": 2}], "1 ids but 2 payloads"),
        ([2], [[1, 2, 3]], ["not a dict"], "must be a dict"),
        ([2], [[1, 2, 3]], [{1: "int key"}], "keys must be strings"),
        ([2], [[1, 2, 3]], [{"x": float("nan")}], "finite"),
        ([2], [[1, 2, 3]], [{"x": object()}], "not JSON"),
        ([2], [[1, 2, 3]], [{"x": 2**64}], "64 bits"),
        ([-1], [[1, 2, 3]], None, "out of range"),
        ([2**64], [[1, 2, 3]], None, "out of range"),
        ([1.5], [[1, 2, 3]], None, "float"),
        ([True], [[1, 2, 3]], None, "bool"),
        ([""], [[1, 2, 3]], None, "empty"),
        (["x" * 5000], [[1, 2, 3]], None, "4096"),
        ([None], [[1, 2, 3]], None, "NoneType"),
        (42.0, [[1, 2, 3]], None, "iterable"),
        (b"ab", [[1, 2, 3]], None, "bytes"),
    ],
)
def test_bad_upserts(col: azimuth.Collection, ids, vectors, payloads, match: str) -> None:
    with pytest.raises(azimuth.InvalidInput, match=match):
        col.upsert(ids, vectors, payloads)
    assert len(col) == 1  # nothing half-written
    assert col.get(1).payload == {"a": 1}


def test_deep_and_cyclic_payloads(col: azimuth.Collection) -> None:
    deep: dict = {}
    cur = deep
    for _ in range(100):
        cur["x"] = {}
        cur = cur["x"]
    with pytest.raises(azimuth.InvalidInput, match="deeper"):
        col.upsert([2], [[1, 2, 3]], [deep])
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(azimuth.InvalidInput, match="deeper"):
        col.upsert([2], [[1, 2, 3]], [{"c": cyclic}])


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda c: c.search([1, 2]), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], k=0), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], k=-5), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], ef=0), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], offset=-1), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], with_payload="a"), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], using="nope"), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], filter={"bad": 1}), azimuth.InvalidInput),
        (lambda c: c.search_numpy(np.ones((2, 4)), k=3), azimuth.InvalidInput),
        (lambda c: c.search_numpy(np.ones((2, 3)), k=3, ef=-1), azimuth.InvalidInput),
        (lambda c: c.search([1, 2, 3], k="ten"), TypeError),
        (lambda c: c.search([1, 2, 3], exact="yes"), TypeError),
        (lambda c: c.scroll(limit=0), azimuth.InvalidInput),
        (lambda c: c.scroll(order_by="a"), azimuth.InvalidInput),  # no range index on "a"
        (lambda c: c.scroll(order_by={"key": "a", "direction": "up"}), azimuth.InvalidInput),
        (lambda c: c.delete(), azimuth.InvalidInput),
        (lambda c: c.delete(ids=[1], filter={}), azimuth.InvalidInput),
        (lambda c: c.set_payload({"a": 1}, ids=[99]), azimuth.NotFound),
        (lambda c: c.set_payload("a", ids=[1]), azimuth.InvalidInput),
        (lambda c: c.set_payload({"a": 1}, ids=[1], key="a[["), azimuth.InvalidInput),
        (lambda c: c.create_payload_index("a", "vector"), azimuth.InvalidInput),
        (lambda c: c.create_payload_index("a", {"type": "keyword", "bogus": 1}), azimuth.InvalidInput),
        (lambda c: c.get([1.5]), azimuth.InvalidInput),
    ],
)
def test_bad_calls(col: azimuth.Collection, call, exc) -> None:
    with pytest.raises(exc):
        call(col)
    assert [h.id for h in col.search([1, 2, 3], k=1)] == [1]  # still usable


def test_not_found_and_already_exists(db: azimuth.Database) -> None:
    with pytest.raises(azimuth.NotFound) as info:
        db.get_collection("missing")
    assert isinstance(info.value, KeyError) and "missing" in str(info.value)
    db.create_collection("c", dim=2)
    with pytest.raises(azimuth.AlreadyExists):
        db.create_collection("c", dim=2)
    with pytest.raises(ValueError):
        db.create_collection("c", dim=2)


def test_bad_connect(tmp_path) -> None:
    with pytest.raises(azimuth.InvalidInput):
        azimuth.connect("")
    with pytest.raises(TypeError):
        azimuth.connect(42)
    file = tmp_path / "a-file"
    file.write_text("not a directory")
    with pytest.raises(azimuth.StorageError) as info:
        azimuth.connect(file)
    assert isinstance(info.value, OSError) and info.value.errno is not None
