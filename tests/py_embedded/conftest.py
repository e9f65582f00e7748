"""Fixtures for the embedded `azimuth` package suite.

Run from the repository root after building and installing the wheel:

    scripts/python-wheel.sh                    # maturin build → .venv (numpy, pytest)
    .venv/bin/python -m pytest tests/py_embedded -q

Nothing here starts a server: the engine runs inside the test process (and, for the lock and
crash tests, inside child Python processes started with the same interpreter).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import azimuth

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db() -> Iterator[azimuth.Database]:
    """A fresh in-memory database."""
    d = azimuth.connect(":memory:")
    yield d
    d.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A directory for an on-disk database (not yet created)."""
    return tmp_path / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def brute_force(base: np.ndarray, queries: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k row indices and scores with numpy, ties broken by smaller row."""
    base = base.astype(np.float64)
    queries = queries.astype(np.float64)
    if metric == "cosine":
        b = base / np.linalg.norm(base, axis=1, keepdims=True)
        q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        scores, higher = q @ b.T, True
    elif metric == "dot":
        scores, higher = queries @ base.T, True
    elif metric == "euclid":
        scores, higher = np.sqrt(((queries[:, None, :] - base[None, :, :]) ** 2).sum(-1)), False
    else:
        scores, higher = np.abs(queries[:, None, :] - base[None, :, :]).sum(-1), False
    keys = -scores if higher else scores
    order = np.lexsort((np.broadcast_to(np.arange(base.shape[0]), keys.shape), keys), axis=-1)[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def run_child(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs `code` in a child interpreter (the one running the tests)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
