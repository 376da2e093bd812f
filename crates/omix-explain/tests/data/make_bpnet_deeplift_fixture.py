#!/usr/bin/env python3
"""Reference DeepLIFT/SHAP values of a small BPNet from bpnet-lite + tangermeme, for omix's
profile-model attributions (crates/omix-explain/tests/profile_fixture.rs).

Builds bpnet-lite's BPNet(n_filters=6, n_layers=2, n_outputs=2, n_control_tracks=0, trimming=40)
with seeded random weights (scaled up so that ReLUs switch between input and reference), writes
them in float32 to bpnet_tiny.safetensors (bpnet-lite's names, which omix's
`Bpnet::with_safetensors` reads), makes 3 random one-hot sequences of 120 bases and 4
dinucleotide shuffles of each (tangermeme's `dinucleotide_shuffle`), and runs bpnet-lite's
`deep_lift_shap` (tangermeme's, with bpnet-lite's `_ProfileLogitScaling` registered as a
non-linearity) in float64 with those references passed explicitly, for
- the count head: `CountWrapper` (the log count), and
- the profile head: `ProfileWrapper`: the logits of both strands flattened, mean-centred, and
  `sum(logits * softmax(logits))`.
It stores the sequences, the references, each target's outputs at the inputs and at the references
and the hypothetical attributions (`hypothetical=True`, what TF-MoDISco reads) in
bpnet_deeplift_tangermeme.json.

Run by hand from the repository root (bench/.venv: bash bench/setup_pytorch.sh, then
bench/.venv/bin/pip install tangermeme bpnet-lite safetensors):
    bench/.venv/bin/python crates/omix-explain/tests/data/make_bpnet_deeplift_fixture.py
"""
import json
import os

import bpnetlite
import tangermeme
import torch
from bpnetlite.attribute import deep_lift_shap
from bpnetlite.bpnet import BPNet, CountWrapper, ProfileWrapper
from safetensors.torch import load_file, save_file
from tangermeme.ersatz import dinucleotide_shuffle
from tangermeme.utils import random_one_hot

HERE = os.path.dirname(os.path.abspath(__file__))
LENGTH, OUTPUT, SEQUENCES, REFERENCES = 120, 40, 3, 4
FILTERS, LAYERS = 6, 2


def main():
    torch.manual_seed(11)
    torch.set_num_threads(1)
    model = BPNet(n_filters=FILTERS, n_layers=LAYERS, n_outputs=2, n_control_tracks=0,
                  trimming=(LENGTH - OUTPUT) // 2, verbose=False)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.mul_(3.0 if "weight" in name else 1.0)
            if "bias" in name:
                parameter.normal_(0.0, 0.3)
    weights = os.path.join(HERE, "bpnet_tiny.safetensors")
    save_file({k: v.float().contiguous() for k, v in model.state_dict().items()}, weights)
    model.load_state_dict(load_file(weights))
    model = model.double().eval()

    X = random_one_hot((SEQUENCES, 4, LENGTH), random_state=5).double()
    references = torch.stack([dinucleotide_shuffle(X[i:i + 1], n=REFERENCES, random_state=100 + i)[0]
                              for i in range(SEQUENCES)]).double()  # [n, R, 4, L]

    def letters(one_hot):
        return "".join("ACGT"[int(i)] for i in one_hot.argmax(dim=0))

    fixture = dict(
        tangermeme=tangermeme.__version__,
        bpnet_lite=bpnetlite.__version__,
        filters=FILTERS, layers=LAYERS, input_length=LENGTH, output_length=OUTPUT,
        sequences=[letters(x) for x in X],
        references=[[letters(r) for r in refs] for refs in references],
        targets={},
    )
    for name, wrapper in [("counts", CountWrapper(model)), ("profile", ProfileWrapper(model))]:
        with torch.no_grad():
            output = wrapper(X)[:, 0]
            reference_output = wrapper(references.reshape(-1, 4, LENGTH))[:, 0].reshape(SEQUENCES, REFERENCES)
        hypothetical = deep_lift_shap(wrapper, X, references=references, hypothetical=True, device="cpu",
                                      warning_threshold=1e-6, batch_size=REFERENCES)
        actual = deep_lift_shap(wrapper, X, references=references, device="cpu", batch_size=REFERENCES)
        delta = (actual.sum(dim=(1, 2)) - (output - reference_output.mean(dim=1))).abs().max().item()
        print(f"{name}: |sum of attributions - (f(x) - mean f(r))| <= {delta:.2e}")
        fixture["targets"][name] = dict(
            output=[float(f"{v:.9g}") for v in output.tolist()],
            reference_output=[[float(f"{v:.9g}") for v in row] for row in reference_output.tolist()],
            hypothetical=[float(f"{v:.7g}") for v in hypothetical.flatten().tolist()],
        )
    with open(os.path.join(HERE, "bpnet_deeplift_tangermeme.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
