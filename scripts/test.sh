#!/usr/bin/env bash
# The full test suite: formatting, lints, every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --profile ci -- -D warnings

echo "== cargo test"
cargo test --workspace --profile ci
