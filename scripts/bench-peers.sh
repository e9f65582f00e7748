#!/usr/bin/env bash
# Compares Azimuth's indexes with hnswlib, faiss and usearch on the same data (see
# scripts/bench_peers.py for the arguments). Makes its own virtualenv in .venv-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
fi
.venv-bench/bin/pip install -q --disable-pip-version-check numpy hnswlib faiss-cpu usearch matplotlib
exec .venv-bench/bin/python scripts/bench_peers.py "$@"
