"""HTTPS: the server started with a PEM certificate and key answers the Qdrant API over TLS
(verified against that certificate) and does not speak plain HTTP on the same port."""

from __future__ import annotations

import shutil
import signal
import ssl
import subprocess
import time

import grpc
import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.grpc import points_pb2, points_service_pb2_grpc, qdrant_pb2, qdrant_pb2_grpc

from conftest import azimuth_bin, free_port


def make_cert(tmp_path):
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def test_https_round_trip(tmp_path):
    cert, key = make_cert(tmp_path)
    port, grpc_port = free_port(), free_port()
    proc = subprocess.Popen(
        [str(azimuth_bin()), "--data-dir", str(tmp_path / "data"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--grpc-port", str(grpc_port), "--tls-cert", str(cert), "--tls-key", str(key)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        url = f"https://localhost:{port}"
        with httpx.Client(base_url=url, verify=ctx, timeout=10) as h:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if h.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "HTTPS server did not come up"
                time.sleep(0.05)
            client = QdrantClient(url=url, verify=ctx, check_compatibility=False)
            client.create_collection("tls", vectors_config=models.VectorParams(size=2, distance="Dot"))
            client.upsert("tls", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"a": 1})])
            hits = client.query_points("tls", query=[1.0, 0.0], limit=1).points
            assert [(p.id, p.score) for p in hits] == [(1, 1.0)]
        # the gRPC port speaks TLS (ALPN h2) with the same certificate
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"localhost:{grpc_port}", creds) as ch:
            assert qdrant_pb2_grpc.QdrantStub(ch).HealthCheck(qdrant_pb2.HealthCheckRequest(), timeout=10).version
            res = points_service_pb2_grpc.PointsStub(ch).Count(points_pb2.CountPoints(collection_name="tls"), timeout=10)
            assert res.result.count == 1
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as ch:
            with pytest.raises(grpc.RpcError):
                qdrant_pb2_grpc.QdrantStub(ch).HealthCheck(qdrant_pb2.HealthCheckRequest(), timeout=3)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=3)  # certificate not trusted
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
