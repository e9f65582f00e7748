#!/usr/bin/env bash
# Builds the `azimuth` Python package (crates/azimuth-py) as an abi3 wheel with maturin and
# installs it into .venv, with the embedded suite's requirements. Non-interactive; needs only
# PyPI and the Rust toolchain.
#
# AZIMUTH_WHEEL_PROFILE picks the cargo profile (default `ci`, which the Rust tests also use,
# so the engine is compiled once for both; `release` for an optimised wheel). The wheel is
# left in target/wheels/.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/python-env.sh
VENV=.venv
PROFILE="${AZIMUTH_WHEEL_PROFILE:-ci}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

"$VENV/bin/python" -m pip install --quiet -r tests/py_embedded/requirements.txt </dev/null

rm -f target/wheels/azimuth-*.whl
start=$(date +%s)
"$VENV/bin/maturin" build --profile "$PROFILE" --manifest-path crates/azimuth-py/Cargo.toml \
    --interpreter "$VENV/bin/python" --out target/wheels </dev/null
echo "python-wheel: built in $(( $(date +%s) - start )) s" >&2
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps target/wheels/azimuth-*.whl </dev/null
"$VENV/bin/python" -c 'import azimuth; print("python-wheel: azimuth", azimuth.__version__, "from", azimuth.__file__)' >&2
