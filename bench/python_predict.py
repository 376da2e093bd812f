#!/usr/bin/env python3
"""How much `import omix` costs over the binary, and omix from Python beside PyTorch.

On the same N random sequences of the run's length (default 100,000 x 101 bp, seeded):
* ``omix predict RUN --input FILE -o OUT`` (the binary: start, load, read, encode, predict,
  write), wall clock of the whole process;
* ``run.predict(sequences)`` (a list of str: encode and predict) and ``run.predict(X)`` (a
  ready ``(N, 4, L)`` float32 array), with the run loaded once before timing;
* with ``--torch PYTHON`` (a Python with torch, e.g. bench/.venv/bin/python made by
  bench/setup_pytorch.sh): the same architecture in PyTorch called from Python on the same X
  (``torch.inference_mode``, ``model.eval()``, batches of 1024, both strands averaged when the
  run averages them; random weights: the time does not depend on them).

Every round is checked: omix's Python predictions must equal the binary's TSV to 1e-6, and
PyTorch's outputs must be finite. Rounds alternate between the contenders so that a loaded
machine disturbs them alike; medians (and every round) are printed. Run by hand, never in CI:

    python3 examples/python/gabpa.py --epochs 2 --out runs/gabpa-python   # or any DNA CNN run
    python3 bench/python_predict.py runs/gabpa-python --threads 2 --torch bench/.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import omix

TORCH_SIDE = r"""
import json, sys, time
import numpy as np
import torch

spec = json.loads(sys.argv[1])
torch.set_num_threads(spec["threads"])
torch.manual_seed(0)
conv = spec["conv"]
layers = []
channels = 4
for layer in conv:
    layers += [torch.nn.Conv1d(channels, layer["filters"], layer["width"], padding=layer.get("padding", "same")), torch.nn.ReLU()]
    if layer.get("pool", 1) > 1:
        layers.append(torch.nn.MaxPool1d(layer["pool"]))
    channels = layer["filters"]
layers += [torch.nn.AdaptiveMaxPool1d(1), torch.nn.Flatten()]
for width in spec["dense"]:
    layers += [torch.nn.Linear(channels, width), torch.nn.ReLU(), torch.nn.Dropout(spec["dropout"])]
    channels = width
layers.append(torch.nn.Linear(channels, spec["outputs"]))
model = torch.nn.Sequential(*layers).eval()
X = np.load(spec["x"], mmap_mode="r")
times = []
for _ in range(spec["rounds"]):
    started = time.perf_counter()
    x = torch.from_numpy(np.ascontiguousarray(X))
    outputs = []
    with torch.inference_mode():
        for start in range(0, x.shape[0], 1024):
            batch = x[start : start + 1024]
            p = torch.sigmoid(model(batch))
            if spec["average_strands"]:
                p = 0.5 * (p + torch.sigmoid(model(torch.flip(batch, dims=(1, 2)))))
            outputs.append(p)
    scores = torch.cat(outputs).numpy()
    times.append(time.perf_counter() - started)
    assert scores.shape[0] == X.shape[0] and np.isfinite(scores).all()
print(json.dumps({"torch": torch.__version__, "seconds": times}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a trained run folder over one-hot DNA (a CNN)")
    parser.add_argument("--sequences", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--omix-bin", default=os.environ.get("OMIX_BIN", "target/release/omix"))
    parser.add_argument("--torch", metavar="PYTHON", help="a Python interpreter with torch installed")
    parser.add_argument("--json", action="store_true", help="print every round as JSON too")
    args = parser.parse_args()

    omix.set_threads(args.threads)
    run = omix.load(args.run)
    rng = np.random.default_rng(args.seed)
    sequences = ["".join(s) for s in rng.choice(list("ACGT"), size=(args.sequences, run.length))]
    X = omix.one_hot(sequences)
    work = Path(tempfile.mkdtemp(prefix="omix-bench-"))
    (work / "sequences.txt").write_text("\n".join(sequences) + "\n")
    np.save(work / "x.npy", X)

    config = run.config
    model = config["model"]
    if model["kind"] == "deepbind":
        conv, dense, dropout = [{"filters": 16, "width": 24}], [32], 0.5
    elif model["kind"] == "cnn" and model.get("global_pool", "max") == "max":
        conv, dense, dropout = model["conv"], model.get("dense", []), model.get("dense_dropout", 0.0)
    else:
        conv = None
    seconds: dict[str, list[float]] = {"omix predict (binary)": [], "run.predict(strings)": [], "run.predict(X)": []}
    largest = 0.0
    for _ in range(args.rounds):
        started = time.perf_counter()
        subprocess.run(
            [args.omix_bin, "--threads", str(args.threads), "predict", str(args.run), "--input",
             str(work / "sequences.txt"), "-o", str(work / "predictions.tsv")],
            check=True, capture_output=True,
        )
        seconds["omix predict (binary)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        from_strings = run.predict(sequences)
        seconds["run.predict(strings)"].append(time.perf_counter() - started)
        started = time.perf_counter()
        from_array = run.predict(X)
        seconds["run.predict(X)"].append(time.perf_counter() - started)
        binary = np.loadtxt(work / "predictions.tsv", delimiter="\t", skiprows=1, usecols=range(1, 1 + len(run.output_names)))
        binary = binary.reshape(len(sequences), -1)
        largest = max(largest, float(np.abs(from_strings - binary).max()), float(np.abs(from_array - binary).max()))
        if largest > 1e-6:
            sys.exit(f"omix from Python differs from the binary by {largest:.2e}")

    torch_version = None
    if args.torch:
        if conv is None:
            sys.exit(f"--torch: no PyTorch twin for a {model['kind']} model here (deepbind or a global-max cnn)")
        spec = {
            "threads": args.threads, "conv": conv, "dense": dense, "dropout": dropout,
            "outputs": len(run.output_names), "x": str(work / "x.npy"), "rounds": args.rounds,
            "average_strands": config["train"].get("reverse_complement_average", False),
        }
        result = subprocess.run([args.torch, "-c", TORCH_SIDE, json.dumps(spec)], check=True, capture_output=True, text=True)
        measured = json.loads(result.stdout)
        seconds["PyTorch from Python, X"] = measured["seconds"]
        torch_version = measured["torch"]

    load = os.getloadavg()
    print(f"{args.sequences:,} x {run.length} bp, {args.threads} threads, {args.rounds} rounds; run {args.run} ({model['kind']})")
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores"
          + (f"; torch {torch_version}" if torch_version else ""))
    reference = statistics.median(seconds["omix predict (binary)"])
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"  {name:<26} median {median:7.3f}s  ({median / reference:5.2f}x the binary)  rounds: "
              + " ".join(f"{v:.3f}" for v in values))
    print(f"largest difference between omix from Python and the binary: {largest:.1e}")
    if args.json:
        print(json.dumps({"seconds": seconds, "load": load, "largest_difference": largest}))


if __name__ == "__main__":
    main()
