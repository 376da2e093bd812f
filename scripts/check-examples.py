#!/usr/bin/env python3
"""Check that every example config reads only files inside the repository.

    python3 scripts/check-examples.py [CONFIG ...]     # default: examples/*.toml

Every value under a path key (input, labels, path, reference, motifs, edges, ...) of every
example config is resolved relative to the config file, as omix resolves it, and must lie inside
this repository and exist there, or lie under a folder that scripts/fetch-data.py fills (then
the fetch command is named). Comments that mention files are not checked. Fails listing each
offending config, key and path. Standard library only (tomllib: Python 3.11+).
"""
import glob
import os
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH_KEYS = {"input", "labels", "path", "reference", "motifs", "edges", "features", "test_input",
             "test_labels", "node_labels", "file"}
FETCHED = {os.path.join(ROOT, "examples", "data", "deepbind"): "python3 scripts/fetch-data.py deepbind"}


def paths(value, trail=()):
    """(dotted key, path string) for every string under a path key, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in PATH_KEYS and isinstance(inner, str):
                yield ".".join(trail + (key,)), inner
            else:
                yield from paths(inner, trail + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, trail + (str(index),))


def main():
    configs = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "examples", "*.toml")))
    problems, checked, fetched = [], 0, set()
    for config in configs:
        with open(config, "rb") as handle:
            try:
                document = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                problems.append(f"{config}: not valid TOML ({error})")
                continue
        base = os.path.dirname(os.path.abspath(config))
        for key, value in paths(document):
            checked += 1
            resolved = os.path.normpath(os.path.join(base, value))
            where = f"{os.path.relpath(config, ROOT)}: {key} = {value!r}"
            if os.path.commonpath([resolved, ROOT]) != ROOT:
                problems.append(f"{where} lies outside the repository ({resolved})")
                continue
            source = next((fetch for folder, fetch in FETCHED.items()
                           if os.path.commonpath([resolved, folder]) == folder), None)
            if source is not None:
                fetched.add(source)
                continue
            if not os.path.exists(resolved):
                problems.append(f"{where} does not exist ({os.path.relpath(resolved, ROOT)})")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    note = f"; fetched first: {', '.join(sorted(fetched))}" if fetched else ""
    print(f"examples: {len(configs)} configs, {checked} paths, all inside the repository{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
