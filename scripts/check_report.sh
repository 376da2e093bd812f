#!/usr/bin/env bash
# Checks the HTML report crate: unit and fixture tests, clippy, and the headless-Chromium
# check (skipped with a visible SKIPPED line when Chromium is not installed; install the
# Debian package `chromium`, or point OMIX_CHROMIUM at a binary).
# The screenshot goes to $OMIX_REPORT_SCREENSHOT, else target/tmp/omix-report-screenshot.png.
# With run folders as arguments, also writes RUN/report.html for each (example binary).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt -p omix-report -- --check
cargo clippy --release -p omix-report --all-targets -- -D warnings
cargo test --release -p omix-report
for run in "$@"; do
    cargo run --quiet --release -p omix-report --example render -- "$run" "$run/report.html"
    echo "wrote $run/report.html"
done
