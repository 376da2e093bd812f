#!/usr/bin/env python3
"""Run every command of README.md's tour from a plain clone, as a new user would.

    python3 scripts/tour.py                  # every command as written (the full tour: ~30 min)
    python3 scripts/tour.py --quick          # one epoch per `omix train` (CI runs this)
    python3 scripts/tour.py --data-from DIR  # `fetch-data.py deepbind` copies from DIR, no network

It clones this repository's committed HEAD into a temporary folder (so nothing beside the
checkout, such as ../shared, and nothing uncommitted can help), puts the release binary
(target/release/omix, built first with `cargo build --release -p omix-cli`) on PATH, and runs
the ```sh blocks between the headings "## A tour" and "## Measured" in order, each command in the
clone's root with bash. A block right after a line `<!-- tour: skip -->` is not run. It stops at
the first command that fails, printing its output. Standard library only.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START, END = "## A tour", "## Measured"


def tour_commands(readme):
    """(heading, command) for every command of the tour's sh blocks, continuations joined."""
    lines = readme.splitlines()
    inside_tour, in_block, skip_block, heading = False, False, False, ""
    commands, pending, previous = [], "", ""
    for line in lines:
        if line.startswith("## "):
            if line.startswith(START):
                inside_tour = True
            elif line.startswith(END):
                inside_tour = False
        if line.startswith("#"):
            heading = line.lstrip("#").strip() if not in_block else heading
        if line.strip() == "```sh" and not in_block:
            in_block, skip_block = True, previous.strip() == "<!-- tour: skip -->"
        elif line.strip() == "```" and in_block:
            in_block = False
        elif in_block and inside_tour and not skip_block:
            text = line.rstrip()
            if pending:
                text = pending + " " + text.lstrip()
            if text.endswith("\\"):
                pending = text[:-1].rstrip()
                continue
            pending = ""
            if text.strip() and not text.lstrip().startswith("#"):
                commands.append((heading, text.strip()))
        if line.strip():
            previous = line
    return commands


def adapt(command, quick, data_from):
    """The command as the tour runs it: one epoch in quick mode, a local copy for fetches."""
    if quick and command.startswith("omix train"):
        if "--set train.epochs=" in command:
            command = re.sub(r"--set train\.epochs=\S+", "--set train.epochs=1", command)
        else:
            command = re.sub(r"^omix train\b", "omix train --epochs 1", command)
    if data_from and command.startswith("python3 scripts/fetch-data.py"):
        code = command.split("#", 1)[0].rstrip()
        command = f"{code} --from {shlex.quote(data_from)}"
    return command


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one epoch per `omix train`")
    parser.add_argument("--data-from", metavar="DIR",
                        help="folder holding the DeepBind files, for fetch-data.py --from")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()

    binary = os.path.join(ROOT, "target", "release", "omix")
    if not os.access(binary, os.X_OK):
        print(f"error: {binary} is missing: build it first with "
              "`cargo build --release -p omix-cli`", file=sys.stderr)
        return 2
    data_from = os.path.abspath(args.data_from) if args.data_from else None

    scratch = tempfile.mkdtemp(prefix="omix-tour.")
    clone = os.path.join(scratch, "omix")
    try:
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", ROOT, clone], check=True)
        if os.path.exists(os.path.join(scratch, "shared")):
            print(f"error: {scratch}/shared exists; the tour must run without it", file=sys.stderr)
            return 2
        with open(os.path.join(clone, "README.md"), encoding="utf-8") as handle:
            commands = tour_commands(handle.read())
        if not commands:
            print(f"error: no commands between '{START}' and '{END}' in README.md", file=sys.stderr)
            return 1
        env = dict(os.environ, PATH=os.path.dirname(binary) + os.pathsep + os.environ["PATH"])
        env.pop("OMIX_THREADS", None)
        total = time.monotonic()
        last_heading = None
        for number, (heading, command) in enumerate(commands, 1):
            if heading != last_heading:
                print(f"== {heading}", flush=True)
                last_heading = heading
            run = adapt(command, args.quick, data_from)
            started = time.monotonic()
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", run], cwd=clone, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            seconds = time.monotonic() - started
            if result.returncode != 0:
                print(f"[{number}/{len(commands)}] FAILED (exit {result.returncode}, {seconds:.1f} s): "
                      f"{run}\n{result.stdout[-6000:]}", flush=True)
                return 1
            print(f"[{number}/{len(commands)}] ok {seconds:7.1f} s  {run}", flush=True)
        mode = "quick (one epoch per training)" if args.quick else "full"
        print(f"tour: all {len(commands)} commands ran from a plain clone ({mode}) in "
              f"{time.monotonic() - total:.0f} s")
        return 0
    finally:
        if args.keep:
            print(f"clone kept at {clone}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
