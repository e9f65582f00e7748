"""Azimuth, the vector database, embedded in Python: numpy in and out.

>>> import azimuth, numpy as np
>>> db = azimuth.connect(":memory:")            # or a directory: azimuth.connect("./data")
>>> docs = db.create_collection("docs", dim=3, metric="cosine")
>>> docs.upsert([1, 2], np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32),
...             payloads=[{"lang": "en"}, {"lang": "de"}])
>>> [h.id for h in docs.search([1, 0.1, 0], k=2)]
[1, 2]
>>> [h.id for h in docs.search([1, 0.1, 0], filter={"must": [{"key": "lang", "match": {"value": "de"}}]})]
[2]

Writes are durable when they return (``wait=True``, the default): they survive a crash or
``kill -9``. A directory is used by one process at a time; another process gets
:class:`Locked`. Engine calls release the GIL, so threads search in parallel.

Filters use Qdrant's filter grammar as dicts (``must`` / ``should`` / ``must_not`` /
``min_should``; ``match``, ``range``, ``geo_*``, ``values_count``, ``is_empty``,
``is_null``, ``has_id``, ``nested``; key paths ``a.b``, ``a[].b``).
"""

from ._azimuth import Collection, Database, Hit, Record, __version__, connect
from .errors import (
    AlreadyExists,
    AzimuthError,
    Corruption,
    InvalidInput,
    Locked,
    NotFound,
    StorageError,
)

__all__ = [
    "connect",
    "Database",
    "Collection",
    "Hit",
    "Record",
    "AzimuthError",
    "InvalidInput",
    "AlreadyExists",
    "NotFound",
    "Locked",
    "StorageError",
    "Corruption",
    "__version__",
]
