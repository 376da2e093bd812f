#!/usr/bin/env python3
"""Check that every example config reads only files inside the repository.

    python3 scripts/check-examples.py [CONFIG ...]     # default: examples/*.toml
    python3 scripts/check-examples.py --dry-run target/release/omix   # and `omix train --dry-run` each

Every value under a path key (input, labels, path, reference, motifs, edges, ...) of every
example config is resolved relative to the config file, as omix resolves it, and must lie inside
this repository and exist there, or lie under a folder that scripts/fetch-data.py fills (then
the fetch command is named). Comments that mention files are not checked. Fails listing each
offending config, key and path. With --dry-run OMIX, each config then goes through
`OMIX train CONFIG --dry-run` (config and data loaded and checked, a few timed steps, nothing
written); a config whose fetched data is missing fails, naming the fetch command. Standard library
only (tomllib: Python 3.11+).
"""
import glob
import os
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH_KEYS = {"input", "labels", "path", "reference", "motifs", "edges", "features", "test_input",
             "test_labels", "node_labels", "file", "peaks", "plus", "minus", "unstranded", "regions"}
# Keys whose value is a list of paths (a profile task's control tracks).
LIST_PATH_KEYS = {"control"}
FETCHED = {os.path.join(ROOT, "examples", "data", "deepbind"): "python3 scripts/fetch-data.py deepbind",
           os.path.join(ROOT, "examples", "data", "bpnet_sim"): "omix simulate-tracks --out examples/data/bpnet_sim",
           os.path.join(ROOT, "examples", "data", "chrombpnet_sim"):
               "omix simulate-tracks --assay atac --out examples/data/chrombpnet_sim",
           os.path.join(ROOT, "examples", "data", "bpnet_control_sim"):
               "omix simulate-tracks --control --out examples/data/bpnet_control_sim"}


def paths(value, trail=()):
    """(dotted key, path string) for every string under a path key, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in PATH_KEYS and isinstance(inner, str):
                yield ".".join(trail + (key,)), inner
            elif key in LIST_PATH_KEYS and isinstance(inner, list) and all(isinstance(v, str) for v in inner):
                for index, path in enumerate(inner):
                    yield ".".join(trail + (key, str(index))), path
            else:
                yield from paths(inner, trail + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, trail + (str(index),))


def folds(document):
    """The folds to dry-run a config with: [None] for a config without folds or with `fold` set,
    else 1..k (`[data] folds = k`, or the length of `[data.genome] folds` or `[tracks] folds`)."""
    data = document.get("data", {})
    tracks = document.get("tracks", {})
    if "fold" in data or "fold" in tracks:
        return [None]
    count = data.get("folds") or data.get("genome", {}).get("folds") or tracks.get("folds")
    if isinstance(count, list):
        count = len(count)
    return list(range(1, count + 1)) if isinstance(count, int) and count > 0 else [None]


def main():
    arguments = sys.argv[1:]
    omix = None
    if "--dry-run" in arguments:
        at = arguments.index("--dry-run")
        if at + 1 >= len(arguments):
            print("error: --dry-run needs the omix binary", file=sys.stderr)
            return 2
        omix = os.path.abspath(arguments[at + 1])
        del arguments[at:at + 2]
    configs = arguments or sorted(glob.glob(os.path.join(ROOT, "examples", "*.toml")))
    problems, checked, fetched, documents = [], 0, set(), {}
    for config in configs:
        with open(config, "rb") as handle:
            try:
                document = tomllib.load(handle)
            except tomllib.TOMLDecodeError as error:
                problems.append(f"{config}: not valid TOML ({error})")
                continue
        documents[config] = document
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
    if omix is None:
        return 0
    failed, runs = 0, 0
    for config, fold in [(config, fold) for config in configs for fold in folds(documents[config])]:
        runs += 1
        started = time.monotonic()
        extra = ["--fold", str(fold)] if fold else []
        result = subprocess.run([omix, "--threads", "2", "train", config, "--dry-run", *extra], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seconds = time.monotonic() - started
        name = os.path.relpath(config, ROOT) + (f" --fold {fold}" if fold else "")
        if result.returncode == 0:
            print(f"  dry run ok {seconds:6.1f} s  {name}")
        else:
            failed += 1
            hint = f" (fetched data: {', '.join(sorted(fetched))})" if fetched else ""
            print(f"  dry run FAILED {name}{hint}:\n{result.stdout[-3000:]}", file=sys.stderr)
    if failed:
        return 1
    print(f"examples: all {len(configs)} pass `omix train --dry-run` ({runs} dry runs, every fold of a config with folds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
