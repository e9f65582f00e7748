#!/usr/bin/env bash
# Embedded-Python benchmark (issue 5): insert throughput and k=10 search QPS/recall on
# debian-minilm for the `azimuth` package, chromadb's PersistentClient and lancedb, in one
# process each. See scripts/bench_python.py for the arguments.
#
# Makes its own virtualenv in .venv-pybench (PyPI only) and builds the `azimuth` wheel with
# the release profile (maturin, a few minutes the first time; incremental afterwards) into
# target/bench-wheels/, then installs it there. AZIMUTH_BENCH_SKIP_BUILD=1 reuses the
# installed wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-pybench
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" </dev/null
    echo '*' > "$VENV/.gitignore"
fi
"$VENV/bin/python" -m pip install --quiet "maturin>=1.9.4,<2" numpy matplotlib chromadb lancedb pyarrow pandas </dev/null
if [ "${AZIMUTH_BENCH_SKIP_BUILD:-0}" != "1" ] || ! "$VENV/bin/python" -c 'import azimuth' 2>/dev/null; then
    rm -rf target/bench-wheels
    start=$(date +%s)
    "$VENV/bin/maturin" build --release --manifest-path crates/azimuth-py/Cargo.toml \
        --interpreter "$VENV/bin/python" --out target/bench-wheels </dev/null
    echo "bench-python: wheel built in $(( $(date +%s) - start )) s" >&2
    "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps target/bench-wheels/azimuth-*.whl </dev/null
fi
exec "$VENV/bin/python" scripts/bench_python.py "$@"
