#!/usr/bin/env bash
# The full test suite: formatting, lints, every Rust test, then the Python suites that drive
# the real server binary with the unchanged qdrant-client and chromadb-client, then the
# `azimuth` Python package (wheel built with maturin) and its own suite. `.ci/run` calls
# exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --profile ci -- -D warnings

echo "== cargo test"
cargo test --workspace --profile ci

echo "== server binary for the Python suites"
cargo build -p azimuth --profile ci

echo "== Python suites (qdrant-client and chromadb-client against the real server)"
./scripts/python-env.sh
./scripts/chroma-env.sh
AZIMUTH_BIN="$PWD/target/ci/azimuth" .venv/bin/python -m pytest tests/python -q -p no:cacheprovider

echo "== Python package: wheel (maturin) and the embedded suite"
./scripts/python-wheel.sh
.venv/bin/python -m pytest tests/py_embedded -q -p no:cacheprovider
