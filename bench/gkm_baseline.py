"""Test AUROC and seconds of the "simple first" baselines on the DeepBind and PUM2 examples:
logistic regression on 5-mer counts and on gapped k-mer counts (l = 11, k = 7), both fitted by
`[baseline] kind = "auto"`, which keeps the one with the better validation AUROC and records
both candidates' validation and test AUROC in metrics.json (`--kinds kmer,gkm` fits one each).

    python3 bench/gkm_baseline.py [--binary target/release/omix] [--out /tmp/gkm_bench] [CONFIG ...]

Each config is trained for 1 epoch without the report (the baseline does not depend on the deep
model; the CNN's own numbers come from full `omix train CONFIG` runs) once per baseline kind, and
the script reads the baseline's test AUROC and validation score from metrics.json and its seconds
(features of the three splits plus the fits over the C grid) from the training messages. The load
average before each run is printed: on a shared machine the seconds are only comparable under
the same load. Fetch the data first (`python3 scripts/fetch-data.py deepbind`).
"""
import argparse
import json
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ["deepbind_gabpa.toml", "deepbind_sp1.toml", "deepbind_arid3a.toml", "pum2.toml"]


def run(binary, config, kind, out):
    folder = os.path.join(out, f"{os.path.basename(config)[:-5]}_{kind}")
    load = os.getloadavg()[0]
    result = subprocess.run([binary, "train", config, "--out", folder, "--force", "--epochs", "1", "--no-report",
                             "--set", f'baseline.kind="{kind}"'], check=True, capture_output=True, text=True)
    messages = result.stdout + result.stderr
    seconds = re.findall(r"^baseline: .*\(([0-9.]+)s\)$", messages, re.M)
    candidates = re.findall(r"^baseline candidate: (.*)$", messages, re.M)
    with open(os.path.join(folder, "metrics.json")) as f:
        baseline = json.load(f)["baseline"]
    return {"config": os.path.basename(config), "kind": kind, "model": baseline["model"],
            "C": baseline["regularization"], "test_auroc": baseline["test"]["auroc"],
            "seconds": float(seconds[0]) if seconds else None, "load": load,
            "candidates": candidates, "validation": [(c["model"], c["validation"], c["test"], c["chosen"])
                                                      for c in baseline.get("candidates", [])]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("configs", nargs="*")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "omix"))
    parser.add_argument("--out", default="/tmp/gkm_bench")
    parser.add_argument("--kinds", default="auto")
    args = parser.parse_args()
    configs = args.configs or [os.path.join(ROOT, "examples", c) for c in CONFIGS]
    for config in configs:
        for kind in args.kinds.split(","):
            row = run(args.binary, config, kind, args.out)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
