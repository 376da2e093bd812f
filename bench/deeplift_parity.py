#!/usr/bin/env python3
"""omix's DeepLIFT/SHAP against tangermeme's on a trained run, with the same references.

    target/release/omix export RUN -o /tmp/model.safetensors
    target/release/omix explain RUN --method deeplift-shap --save-references -o /tmp/explain --no-report
    bench/.venv/bin/python bench/deeplift_parity.py /tmp/model.safetensors /tmp/explain [--target 0]

Loads the PyTorch twin of the exported CNN (bench/omix_twin.py), runs
`tangermeme.deep_lift_shap(twin, X, references=omix's references, hypothetical=True)` and
prints the relative L2 error between omix's and tangermeme's hypothetical contributions, and
the convergence deviations |Σ (x − r)·m − (f(x) − f(r))| of tangermeme's multipliers (omix's
are in explain.json as "convergence"). Run by hand (bench venv: torch, tangermeme, safetensors).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import omix_twin  # noqa: E402
from tangermeme.deep_lift_shap import deep_lift_shap  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("explain")
    parser.add_argument("--target", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    twin = omix_twin.load(args.model)
    x = torch.from_numpy(np.load(os.path.join(args.explain, "ohe.npz"))["arr_0"])
    refs = torch.from_numpy(np.load(os.path.join(args.explain, "shap_references.npz"))["arr_0"])
    ours = np.load(os.path.join(args.explain, "shap.npz"))["arr_0"]
    started = time.time()
    theirs = deep_lift_shap(twin, x, target=args.target, references=refs, hypothetical=True).numpy()
    seconds = time.time() - started
    error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    multipliers = deep_lift_shap(twin, x, target=args.target, references=refs, raw_outputs=True)
    with torch.no_grad():
        fx = twin(x)[:, args.target]
        fr = twin(refs.reshape(-1, *x.shape[1:]))[:, args.target].reshape(refs.shape[:2])
    sums = ((x[:, None] - refs) * multipliers).sum(dim=(2, 3))
    deviation = (sums - (fx[:, None] - fr)).abs().max().item()
    summary = json.load(open(os.path.join(args.explain, "explain.json")))
    print(f"{x.shape[0]} sequences x {refs.shape[1]} references")
    print(f"hypothetical contributions, relative L2 error omix vs tangermeme: {error:.2e}")
    print(f"largest convergence deviation: tangermeme {deviation:.2e}, omix {summary.get('convergence')}")
    print(f"tangermeme deep_lift_shap: {seconds:.2f} s ({args.threads} threads)")


if __name__ == "__main__":
    main()
