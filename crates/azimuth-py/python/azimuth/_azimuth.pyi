"""Type stubs of the native module (re-exported by ``azimuth``)."""

from __future__ import annotations

import os
import uuid
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

PointId = Union[int, str, uuid.UUID]
"""A point id: int (0 ≤ id < 2**64), UUID (object or string) or any other non-empty string."""

Ids = Union[PointId, Iterable[PointId], npt.NDArray[np.integer]]
Vectors = Union[npt.ArrayLike, Mapping[str, npt.ArrayLike]]
Payload = Mapping[str, Any]
Filter = Mapping[str, Any]
"""A filter in Qdrant's grammar, e.g. ``{"must": [{"key": "lang", "match": {"value": "en"}}]}``."""
Metric = Literal["cosine", "dot", "euclid", "manhattan"]
OrderBy = Union[str, Mapping[str, Any]]

def connect(path: Union[str, os.PathLike[str]]) -> Database:
    """Opens the database in directory ``path`` (created if missing), or a new in-memory
    database for ``":memory:"``.

    Connecting again to a directory this process has open shares that database. Raises
    ``Locked`` when another process has the directory open, ``Corruption`` when its files are
    damaged.
    """

class Database:
    """Named collections in a directory or in memory. Use as a context manager to close it."""

    @property
    def path(self) -> Optional[str]:
        """The directory, or ``None`` for an in-memory database."""
    @property
    def is_open(self) -> bool:
        """True until ``close()``."""
    def create_collection(
        self,
        name: str,
        dim: int,
        metric: Metric = "cosine",
        *,
        m: Optional[int] = None,
        ef_construct: Optional[int] = None,
        full_scan_threshold: Optional[int] = None,
        quantization: Optional[Literal["int8", "binary"]] = None,
        on_disk: bool = False,
        dtype: Literal["float32", "float16"] = "float32",
    ) -> Collection:
        """Creates a collection of ``dim``-dimensional vectors compared by ``metric``
        (``"l2"``, ``"ip"`` and ``"l1"`` are accepted as aliases). ``m``, ``ef_construct``
        and ``full_scan_threshold`` tune the HNSW index; ``quantization`` makes searches
        walk int8 or 1-bit codes and rescore from the vectors; ``on_disk=True`` reads sealed
        vectors and graph links from their files through memory maps; ``dtype="float16"``
        keeps vectors in half precision (rounded when written; sealed segments hold them at
        half the bytes, in memory and in their files, and searches read them directly).
        Raises ``AlreadyExists``."""
    def get_collection(self, name: str) -> Collection:
        """The collection ``name`` (or an alias of it). Raises ``NotFound`` (a ``KeyError``)."""
    def get_or_create_collection(
        self,
        name: str,
        dim: int,
        metric: Metric = "cosine",
        *,
        m: Optional[int] = None,
        ef_construct: Optional[int] = None,
        full_scan_threshold: Optional[int] = None,
        quantization: Optional[Literal["int8", "binary"]] = None,
        on_disk: bool = False,
        dtype: Literal["float32", "float16"] = "float32",
    ) -> Collection:
        """The collection ``name``, created if missing (the options apply then); an existing
        one must have the same ``dim``, ``metric`` and ``dtype`` (else ``InvalidInput``)."""
    def list_collections(self) -> list[str]:
        """Names of all collections, sorted."""
    def drop_collection(self, name: str, *, missing_ok: bool = False) -> bool:
        """Deletes a collection and its files; raises ``NotFound`` unless ``missing_ok``.
        Returns whether one was deleted."""
    def flush(self) -> None:
        """Seals recent writes into segment files (writes are durable without it)."""
    def close(self) -> None:
        """Closes the database and releases the directory; every object of this database
        raises ``InvalidInput`` afterwards. Idempotent."""
    def __contains__(self, name: str) -> bool: ...
    def __enter__(self) -> Database: ...
    def __exit__(self, *args: object) -> bool: ...

class Collection:
    """Points (id, vector, JSON payload) of one vector space."""

    @property
    def name(self) -> str: ...
    @property
    def dim(self) -> Optional[int]:
        """Dimension of the unnamed vector (``None`` for named vectors only)."""
    @property
    def metric(self) -> Optional[Metric]: ...
    def upsert(
        self,
        ids: Ids,
        vectors: Vectors,
        payloads: Optional[Union[Sequence[Optional[Payload]], Payload]] = None,
        *,
        wait: bool = True,
    ) -> None:
        """Inserts or replaces points: one row of ``vectors`` (2-D; float32 is read in
        place, float16/float64/int arrays and lists are converted) and one payload dict per
        id. A 1-D vector with one id inserts one point. Durable on return with ``wait``."""
    @overload
    def search(
        self,
        query: Union[Sequence[float], npt.NDArray[Any]],
        k: int = 10,
        filter: Optional[Filter] = None,
        *,
        ef: Optional[int] = None,
        exact: bool = False,
        score_threshold: Optional[float] = None,
        offset: int = 0,
        with_payload: Union[bool, Sequence[str]] = True,
        with_vectors: bool = False,
        using: Optional[str] = None,
    ) -> list[Hit]: ...
    @overload
    def search(
        self,
        query: Union[Sequence[Sequence[float]], npt.NDArray[Any]],
        k: int = 10,
        filter: Optional[Filter] = None,
        *,
        ef: Optional[int] = None,
        exact: bool = False,
        score_threshold: Optional[float] = None,
        offset: int = 0,
        with_payload: Union[bool, Sequence[str]] = True,
        with_vectors: bool = False,
        using: Optional[str] = None,
    ) -> list[list[Hit]]: ...
    def search_numpy(
        self,
        queries: npt.ArrayLike,
        k: int = 10,
        filter: Optional[Filter] = None,
        *,
        ef: Optional[int] = None,
        exact: bool = False,
        using: Optional[str] = None,
    ) -> Tuple[npt.NDArray[Any], npt.NDArray[np.float32]]:
        """``(ids, scores)`` of shape ``(n, k)`` (``(k,)`` for one query), best first,
        padded with id -1 / score NaN. ``ids`` is int64 when every returned id is an integer
        below 2**63, else an object array of int/str padded with ``None``."""
    @overload
    def get(
        self, ids: PointId, *, with_payload: Union[bool, Sequence[str]] = True, with_vectors: bool = False
    ) -> Optional[Record]: ...
    @overload
    def get(
        self,
        ids: Union[Iterable[PointId], npt.NDArray[np.integer]],
        *,
        with_payload: Union[bool, Sequence[str]] = True,
        with_vectors: bool = False,
    ) -> list[Record]: ...
    def delete(self, ids: Optional[Ids] = None, filter: Optional[Filter] = None, *, wait: bool = True) -> None:
        """Deletes points by ``ids`` or by ``filter`` (exactly one)."""
    def scroll(
        self,
        filter: Optional[Filter] = None,
        limit: int = 10,
        offset: Optional[PointId] = None,
        *,
        with_payload: Union[bool, Sequence[str]] = True,
        with_vectors: bool = False,
        order_by: Optional[OrderBy] = None,
    ) -> Tuple[list[Record], Optional[Union[int, str]]]:
        """One page in id order: ``(records, next_offset)``; ``next_offset`` is ``None``
        after the last page."""
    def count(self, filter: Optional[Filter] = None) -> int: ...
    def set_payload(
        self,
        payload: Payload,
        ids: Optional[Ids] = None,
        filter: Optional[Filter] = None,
        *,
        key: Optional[str] = None,
        wait: bool = True,
    ) -> None: ...
    def overwrite_payload(
        self, payload: Payload, ids: Optional[Ids] = None, filter: Optional[Filter] = None, *, wait: bool = True
    ) -> None: ...
    def delete_payload(
        self, keys: Sequence[str], ids: Optional[Ids] = None, filter: Optional[Filter] = None, *, wait: bool = True
    ) -> None: ...
    def clear_payload(self, ids: Optional[Ids] = None, filter: Optional[Filter] = None, *, wait: bool = True) -> None: ...
    def create_payload_index(
        self,
        field: str,
        type: Union[
            Literal["keyword", "integer", "float", "bool", "datetime", "uuid", "geo", "text"], Mapping[str, Any], None
        ] = None,
        *,
        wait: bool = True,
    ) -> None:
        """Indexes a payload field (default type "keyword"); indexes change speed, never results."""
    def drop_payload_index(self, field: str, *, wait: bool = True) -> None: ...
    def info(self) -> dict[str, Any]:
        """name, dim, metric, points_count, segments_count, payload_schema, and the ANN
        index: indexed_vectors, indexing_pending, recall_calibration ({vector: [(ef,
        recall@10), ...]}); quantization ("int8", "binary" or None); dtype ("float32" or
        "float16"); vector_bytes_in_memory,
        vector_bytes_mapped, index_bytes_in_memory (graphs and codes) and index_bytes_mapped
        (graph links, ``on_disk``)."""
    def build_index(self) -> None:
        """Builds the ANN index now instead of waiting for the background indexer (which
        starts once writes pause for a second)."""
    def flush(self) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, id: PointId) -> bool: ...

class Hit:
    """A search result."""

    @property
    def id(self) -> Union[int, str]: ...
    @property
    def score(self) -> float:
        """Similarity for cosine and dot (higher is closer), distance for euclid and
        manhattan (lower is closer)."""
    @property
    def payload(self) -> Optional[dict[str, Any]]: ...
    @property
    def vector(self) -> Optional[Union[npt.NDArray[np.float32], dict[str, Any]]]: ...

class Record:
    """A stored point."""

    @property
    def id(self) -> Union[int, str]: ...
    @property
    def payload(self) -> Optional[dict[str, Any]]: ...
    @property
    def vector(self) -> Optional[Union[npt.NDArray[np.float32], dict[str, Any]]]: ...
