"""Fixtures that run the real `azimuth` server binary for the Python suite.

Run from the repository root:

    scripts/python-env.sh                      # creates/updates .venv (qdrant-client, pytest, httpx)
    .venv/bin/python -m pytest tests/python -q

The binary comes from $AZIMUTH_BIN (default: target/ci/azimuth relative to the repository root).
Each server gets a free 127.0.0.1 port and its own data directory; it is stopped by pid
(SIGTERM, then SIGKILL after a timeout). AZIMUTH_* variables of the caller are not passed on.
test_differential.py also reads AZIMUTH_DIFF_OPS (operations per run, 8 runs) and
AZIMUTH_DIFF_SEED; test_chroma_differential.py reads AZIMUTH_CHROMA_DIFF_OPS and
AZIMUTH_CHROMA_DIFF_SEED and needs .venv-chroma (scripts/chroma-env.sh).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, Optional

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def azimuth_bin() -> Path:
    raw = os.environ.get("AZIMUTH_BIN", "target/ci/azimuth")
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AzimuthServer:
    """One running `azimuth serve` process."""

    def __init__(
        self,
        data_dir: Path,
        api_key: Optional[str] = None,
        read_only_api_key: Optional[str] = None,
        extra_args: Optional[list[str]] = None,
        port: Optional[int] = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.api_key = api_key
        self.read_only_api_key = read_only_api_key
        self.extra_args = list(extra_args or [])
        self.port = port or free_port()
        # explicit, so parallel servers never race for "REST port + 1"
        self.grpc_port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self._log_dir = Path(tempfile.mkdtemp(prefix="azimuth-log-"))
        self._starts = 0
        self.stderr_path = self._log_dir / "stderr-0.log"

    # -- properties -------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return "<no stderr captured>"

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "AzimuthServer":
        binary = azimuth_bin()
        if not binary.exists():
            raise RuntimeError(
                f"azimuth binary not found at {binary} (set AZIMUTH_BIN or build target/ci/azimuth)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(binary),
            "--data-dir",
            str(self.data_dir),
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--grpc-port",
            str(self.grpc_port),
        ]
        if self.api_key is not None:
            args += ["--api-key", self.api_key]
        if self.read_only_api_key is not None:
            args += ["--read-only-api-key", self.read_only_api_key]
        args += self.extra_args
        # Settings from the caller's environment must not leak into the test servers.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZIMUTH_")}
        env.setdefault("RUST_BACKTRACE", "1")
        self.stderr_path = self._log_dir / f"stderr-{self._starts}.log"
        self._starts += 1
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
                cwd=str(self._log_dir),
            )
        self._wait_healthy(args)
        return self

    def _wait_healthy(self, args: list[str]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_error = ""
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"azimuth exited with code {code} before becoming healthy\n"
                    f"command: {' '.join(args)}\n--- stderr ---\n{self.stderr_text()}"
                )
            try:
                r = httpx.get(self.url + "/healthz", timeout=1.0)
                if r.status_code == 200:
                    return
                last_error = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as e:
                last_error = repr(e)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"azimuth did not answer /healthz within {STARTUP_TIMEOUT_S}s (last: {last_error})\n"
            f"command: {' '.join(args)}\n--- stderr ---\n{self.stderr_text()}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        """SIGTERM, then SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        self.proc = None
        return proc.returncode

    def kill9(self) -> None:
        """Simulate a crash: SIGKILL by pid, no chance to flush."""
        if self.proc is None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None

    def restart(self) -> "AzimuthServer":
        """Start again on the same data directory (and port, falling back to a new one)."""
        assert self.proc is None, "stop or kill the server first"
        try:
            return self.start()
        except RuntimeError as e:
            if "address" not in str(e).lower():
                raise
            self.port = free_port()
            self.grpc_port = free_port()
            return self.start()


def start_azimuth(data_dir: Path, **kwargs) -> AzimuthServer:
    """Start a server; retries once on a new port if the chosen one was taken meanwhile."""
    try:
        return AzimuthServer(data_dir, **kwargs).start()
    except RuntimeError as e:
        if "address" not in str(e).lower() or "port" in kwargs:
            raise
        return AzimuthServer(data_dir, **kwargs).start()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[AzimuthServer]:
    """The shared server for the whole session (tests use unique collection names)."""
    srv = start_azimuth(tmp_path_factory.mktemp("azimuth-data"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def server_url(server: AzimuthServer) -> str:
    return server.url


@pytest.fixture
def start_server(tmp_path_factory) -> Iterator[Callable[..., AzimuthServer]]:
    """Factory for extra servers (auth, restart tests); every one is stopped at teardown."""
    started: list[AzimuthServer] = []

    def _start(data_dir: Optional[Path] = None, **kwargs) -> AzimuthServer:
        srv = start_azimuth(data_dir or tmp_path_factory.mktemp("azimuth-extra"), **kwargs)
        started.append(srv)
        return srv

    yield _start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def client(server: AzimuthServer):
    from qdrant_client import QdrantClient

    c = QdrantClient(url=server.url, timeout=30)
    yield c
    c.close()


@pytest.fixture(scope="session")
def http(server: AzimuthServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def unique_name(prefix: str = "c") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def cname() -> str:
    return unique_name("py")


def wait_green(client, name: str, n: int, timeout: float = 120.0):
    """Polls a collection (through a qdrant-client `client`) until it is green with `n`
    vectors indexed; returns its info."""
    from qdrant_client import models

    start = time.time()
    while True:
        info = client.get_collection(name)
        if info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count == n:
            return info
        assert time.time() - start < timeout, f"not indexed: {info.status} {info.indexed_vectors_count}/{n}"
        time.sleep(0.1)
