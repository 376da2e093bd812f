"""omix's BPNet and bpnet-lite's on the same initial weights and the same batch, step by step.

    OMIX_TWIN_DIR=/tmp/twin cargo test --release -p omix-train --test profile twin -- --ignored
    bench/.venv/bin/python bench/bpnet_twin.py /tmp/twin

The Rust test writes omix's initial weights (bpnet-lite's names) and the profile NLL and count MSE
of 30 Adam steps (lr 0.002, count weight 22.1) on the first 32 validation peaks of the example data;
this script loads the weights into bpnet-lite's BPNet, takes the same 30 steps with torch's Adam on
the same windows (bpnet-lite's extract_loci, no jitter) and prints both trajectories. Equal
trajectories mean the model, loss, gradients and optimiser agree; where they part, which one does.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file

import bpnetlite.io as bio
from bpnetlite.bpnet import BPNet, _mixture_loss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    twin = sys.argv[1]
    with open(os.path.join(twin, "steps.json")) as f:
        omix = json.load(f)
    d = os.path.join(ROOT, "examples", "data", "bpnet_sim") + "/"
    X, y = bio.extract_loci(d + "peaks.narrowPeak", d + "genome.fa", signals=[d + "counts.plus.bw", d + "counts.minus.bw"],
                            chroms=["chr5"], in_window=1000, out_window=500, max_jitter=0, summits=True)
    X, y = X[:32].float(), y[:32].float()
    torch.set_num_threads(2)
    net = BPNet(n_filters=32, n_layers=6, n_outputs=2, n_control_tracks=0, count_loss_weight=22.1, trimming=250,
                verbose=False)
    net.load_state_dict(load_file(os.path.join(twin, "init.safetensors")), strict=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.002, eps=1e-8)
    print(f"{'step':>4} {'omix NLL':>10} {'lite NLL':>10} {'omix count MSE':>15} {'lite count MSE':>15}")
    for step in range(len(omix["nll"])):
        optimizer.zero_grad()
        logits, log_counts = net(X)
        profile, count, loss = _mixture_loss(y, logits, log_counts, 22.1)
        print(f"{step:>4} {omix['nll'][step]:>10.3f} {profile.item():>10.3f} {omix['count_mse'][step]:>15.5f} "
              f"{count.item():>15.5f}")
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
