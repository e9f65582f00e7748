#!/usr/bin/env bash
# Creates .venv-chroma with the full `chromadb` package: the reference implementation for the
# Chroma differential test (tests/python/test_chroma_differential.py runs its `chroma run`
# server). It cannot share .venv: `chromadb` and the thin `chromadb-client` install the same
# Python package. The version matches the chromadb-client in .venv, so client and reference
# come from one release. Idempotent; non-interactive; needs only PyPI. Run after
# scripts/python-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-chroma
PY="${PYTHON:-python3}"

want="$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("chromadb-client"))')"
have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("chromadb"))' 2>/dev/null || true)"
if [ "$have" = "$want" ] && [ -x "$VENV/bin/chroma" ]; then
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "chroma-env: creating $VENV" >&2
    "$PY" -m venv "$VENV" </dev/null
fi
echo "chroma-env: installing chromadb==$want" >&2
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VENV/bin/python" -m pip install --quiet --upgrade pip </dev/null
"$VENV/bin/python" -m pip install --quiet "chromadb==$want" </dev/null
