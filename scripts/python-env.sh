#!/usr/bin/env bash
# Creates .venv in the repository root (if missing) and installs tests/python/requirements.txt.
# Idempotent and fast when nothing changed: a hash of requirements.txt is stored in the venv.
# Non-interactive; works on a clean machine (CI=true, no stdin). Needs only PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

REQ=tests/python/requirements.txt
VENV=.venv
STAMP="$VENV/.requirements.sha256"
PY="${PYTHON:-python3}"

if ! command -v "$PY" >/dev/null 2>&1; then
    echo "python-env: $PY not found" >&2
    exit 1
fi

want="$(sha256sum "$REQ" | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
    && "$VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ("qdrant_client", "chromadb", "pytest", "httpx")))' >/dev/null 2>&1; then
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "python-env: creating $VENV" >&2
    if ! "$PY" -m venv "$VENV" </dev/null; then
        # Debian/Ubuntu ship venv without ensurepip unless python3-venv is installed.
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
            echo "python-env: installing python3-venv" >&2
            rm -rf "$VENV"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq </dev/null >/dev/null
            ver="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            apt-get install -y -qq "python${ver}-venv" </dev/null >/dev/null \
                || apt-get install -y -qq python3-venv </dev/null >/dev/null
            "$PY" -m venv "$VENV" </dev/null
        else
            echo "python-env: '$PY -m venv' failed (install python3-venv)" >&2
            exit 1
        fi
    fi
fi

echo "python-env: installing $REQ" >&2
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VENV/bin/python" -m pip install --quiet --upgrade pip </dev/null
"$VENV/bin/python" -m pip install --quiet --upgrade -r "$REQ" </dev/null
echo "$want" > "$STAMP"
"$VENV/bin/python" -c 'import qdrant_client, importlib.metadata as m; print("python-env: qdrant-client", m.version("qdrant-client"), "chromadb-client", m.version("chromadb-client"))' >&2
