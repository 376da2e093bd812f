#!/usr/bin/env bash
# Fails when a tracked file names a path of the machine it was written on: a home folder
# (/home/NAME, /root, macOS /Users/NAME, Windows C:\Users\NAME) or the development workspace
# (/work). Fixtures and scripts use paths relative to the repository (or to CARGO_MANIFEST_DIR,
# e.g. `../../../shared/data/genome`), so a clone anywhere works and reveals nothing.
#
# Only a path's start counts: `/work` after a letter, digit, `.`, `-`, `_`, `~` or `/` is part
# of a relative path or URL (`crates/x/work/`, `https://host/Users/`) and is not a hit.
# Generic system paths (/tmp, /usr/bin/time, /dev/null, /proc) are not matched at all.
#
# Allow-list, kept tiny on purpose: this script itself, which has to spell the patterns.
# Prints FILE:LINE: TEXT for each hit and exits 1; exits 0 when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."

self="scripts/check-no-local-paths.sh"
start='(^|[^A-Za-z0-9_.~/-])'
pattern="${start}(/work|/root|/home/[A-Za-z0-9_.-]+|/Users/[A-Za-z0-9_.-]+)(/|[^A-Za-z0-9_.-]|\$)|[A-Za-z]:(\\\\|/)+[Uu][Ss][Ee][Rr][Ss](\\\\|/)"

# -I skips binary files; git grep reads the tracked files of the work tree only.
if hits=$(git grep -n -I -E -e "$pattern" -- . ":(exclude)$self"); then
    echo "absolute paths of a development machine in tracked files:" >&2
    printf '%s\n' "$hits" | cut -c1-200 >&2
    echo "use a path relative to the repository (or CARGO_MANIFEST_DIR), or a placeholder the test fills in" >&2
    exit 1
fi
echo "no local paths in $(git ls-files | wc -l) tracked files"
