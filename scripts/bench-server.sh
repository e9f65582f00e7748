#!/usr/bin/env bash
# Server benchmark (issue 4): N concurrent client processes upload debian-minilm and query it
# against `azimuth serve` (qdrant-client), chromadb's own `chroma run` (chromadb.HttpClient)
# and milvus-lite (pymilvus MilvusClient, embedded). See scripts/bench_server.py for the
# arguments. Makes its own virtualenv in .venv-server (PyPI only); builds nothing: run
# `cargo build --release -p azimuth` first.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-server
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" </dev/null
    echo '*' > "$VENV/.gitignore"
fi
"$VENV/bin/python" -m pip install --quiet numpy matplotlib qdrant-client chromadb </dev/null
# milvus-lite (with faiss-cpu) is optional: if it cannot be installed the run goes on and
# reports it as failed.
"$VENV/bin/python" -m pip install --quiet pymilvus milvus-lite </dev/null \
    || echo "bench-server: installing pymilvus / milvus-lite failed; milvus-lite will be reported as unavailable" >&2
exec "$VENV/bin/python" scripts/bench_server.py "$@"
