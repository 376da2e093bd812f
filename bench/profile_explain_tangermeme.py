#!/usr/bin/env python3
"""omix's DeepLIFT/SHAP of a trained BPNet beside bpnet-lite + tangermeme's on the same weights,
windows and references: agreement and speed.

    target/release/omix explain /tmp/xrun --max-sequences 100 -o /tmp/xexp --save-references
    OMIX_RUN=/tmp/xrun OMIX_WEIGHTS=/tmp/xrun.safetensors \
        cargo test --release -p omix-explain --test profile_fixture export_run_weights -- --ignored
    bench/.venv/bin/python bench/profile_explain_tangermeme.py /tmp/xexp /tmp/xrun.safetensors \
        --filters 32 --layers 6 --output-length 500 --threads 2

Loads the weights into bpnet-lite's BPNet(n_control_tracks=0), reads omix's ohe.npz and
shap_references.npz (so both sides use the same references), runs bpnet-lite's deep_lift_shap
(tangermeme's, with bpnet-lite's profile scaling registered) with `hypothetical=True` for
CountWrapper and ProfileWrapper in float32 (`--float64` as bpnet-lite's CLI runs the profile head;
omix computes the profile head's DeepLIFT in float64 too), times it, and prints seconds per 100 windows and the relative L2 difference from omix's
counts_shap.npz / profile_shap.npz. bpnet-lite's ProfileWrapper flattens every track, so this
compares one-task models only.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from bpnetlite.attribute import deep_lift_shap
from bpnetlite.bpnet import BPNet, CountWrapper, ProfileWrapper
from safetensors.torch import load_file


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("explain")
    parser.add_argument("weights")
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--output-length", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--float64", action="store_true")
    parser.add_argument("--heads", default="counts,profile", help="comma-separated: counts, profile")
    parser.add_argument("--save", help="folder to write tangermeme's <head>_shap.npz into")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X = torch.from_numpy(np.load(os.path.join(args.explain, "ohe.npz"))["arr_0"])
    references = torch.from_numpy(np.load(os.path.join(args.explain, "shap_references.npz"))["arr_0"])
    n, _, length = X.shape
    model = BPNet(n_filters=args.filters, n_layers=args.layers, n_outputs=2, n_control_tracks=0,
                  trimming=(length - args.output_length) // 2, verbose=False)
    model.load_state_dict(load_file(args.weights))
    model.eval()
    dtype = torch.float64 if args.float64 else torch.float32
    results = {}
    heads = args.heads.split(",")
    for head, wrapper in [("counts", CountWrapper(model)), ("profile", ProfileWrapper(model))]:
        path = os.path.join(args.explain, f"{head}_shap.npz")
        if head not in heads or not os.path.exists(path):
            continue
        wrapper = wrapper.type(dtype)
        started = time.perf_counter()
        theirs = deep_lift_shap(wrapper, X.type(dtype), references=references.type(dtype), hypothetical=True,
                                device="cpu", batch_size=args.batch_size, warning_threshold=1e-3).double().numpy()
        elapsed = time.perf_counter() - started
        ours = np.load(path)["arr_0"].astype(np.float64)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            np.savez_compressed(os.path.join(args.save, f"{head}_shap.npz"), theirs.astype(np.float32))
        error = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
        per_window = [np.linalg.norm(ours[k] - theirs[k]) / np.linalg.norm(theirs[k]) for k in range(n)]
        results[head] = dict(seconds=elapsed, seconds_per_100=elapsed / n * 100, relative_l2=error,
                             per_window_median=float(np.median(per_window)), per_window_max=float(np.max(per_window)))
        print(f"{head} head: tangermeme {elapsed:.1f}s for {n} windows x {references.shape[1]} references "
              f"({elapsed / n * 100:.1f}s per 100 windows, {args.threads} threads, {dtype}); "
              f"relative L2 difference from omix's {error:.1e} (per window: median {np.median(per_window):.1e}, "
              f"largest {np.max(per_window):.1e})")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
