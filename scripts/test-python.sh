#!/usr/bin/env bash
# The Python package's tests: build the omix binary and the wheel (in the workspace's target
# folder, so the crates `cargo test --release --workspace` compiled are reused), install the
# wheel into a fresh virtual environment under the target folder, and run pytest against the
# binary. Usage: bash scripts/test-python.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
python=${PYTHON:-python3}
started=$(date +%s)

echo "== the omix binary (release), as \`cargo test --release --workspace\` builds it"
# Not `cargo build -p omix-cli`: alone, omix-cli resolves other features for shared crates
# (those dev-dependencies turn on), which rebuilds burn; after the workspace tests this is a no-op.
cargo test --release --workspace --no-run --quiet

venv="$target/python-venv"
rm -rf "$venv"
"$python" -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
echo "== test requirements into $venv"
python -m pip install --quiet --disable-pip-version-check "maturin>=1.9,<2" pytest numpy pandas

echo "== the wheel (maturin, release, abi3)"
wheels="$target/wheels-test"
rm -rf "$wheels"
maturin build --release --manifest-path crates/omix-py/Cargo.toml --out "$wheels" --quiet
python -m pip install --quiet --disable-pip-version-check --no-index --find-links "$wheels" omix

echo "== pytest (crates/omix-py/tests)"
# Run from outside the source tree, so `import omix` is the installed wheel.
cd "$target"
OMIX_BIN="$target/release/omix" python -m pytest -q "$root/crates/omix-py/tests" "$@"
echo "python tests: $(( $(date +%s) - started ))s in all"
