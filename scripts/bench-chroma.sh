#!/usr/bin/env bash
# Chroma-API benchmark (issue 6): chromadb.HttpClient against chromadb's own `chroma run` and
# against `azimuth serve` (Chroma API v2 on the same port). See scripts/bench_chroma.py for
# the arguments. Makes its own virtualenv in .venv-chromabench with the full `chromadb`
# package (PyPI only; it provides both the client and `chroma run`); builds nothing: run
# `cargo build --release -p azimuth` first.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-chromabench
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" </dev/null
    echo '*' > "$VENV/.gitignore"
fi
"$VENV/bin/python" -m pip install --quiet numpy matplotlib chromadb </dev/null
exec "$VENV/bin/python" scripts/bench_chroma.py "$@"
