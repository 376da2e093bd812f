#!/usr/bin/env python3
"""Reference DeepLIFT/SHAP values from tangermeme for omix's DeepLIFT tests.

Builds small random networks with the layers omix's CNNs have (padding, convolution, folded
inference batch-norm, ReLU, max-pooling, global max / mean / max+mean or flattening, dense
layers with ReLU) as the PyTorch twin of bench/omix_twin.py, runs `tangermeme.deep_lift_shap`
on random one-hot sequences against dinucleotide shuffles made by tangermeme, and writes the
weights in omix's host layout (convolution `[filters][channels][width]`, dense
`[inputs][outputs]`), the inputs, the references, tangermeme's raw multipliers per
sequence-reference pair and its hypothetical attributions to deeplift_tangermeme.json.

Run by hand from the repository root (needs torch and tangermeme, e.g. the bench venv:
bash bench/setup_pytorch.sh, then bench/.venv/bin/pip install tangermeme):
    bench/.venv/bin/python crates/omix-models/tests/data/deeplift_tangermeme.py
"""
import json
import os
import sys

import numpy as np
import tangermeme
import torch
from tangermeme.deep_lift_shap import deep_lift_shap
from tangermeme.ersatz import dinucleotide_shuffle

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "bench"))
from omix_twin import OmixCnn  # noqa: E402

torch.manual_seed(7)
torch.set_num_threads(1)

LENGTH, SEQUENCES, REFERENCES, CHANNELS = 40, 3, 4, 4


def block(filters, width, dilation, left, right, pool, batch_norm):
    return dict(filters=filters, width=width, dilation=dilation, left=left, right=right, pool=pool, batch_norm=batch_norm)


# burn's "same" padding pads width - 1 positions, the odd one at the end.
MODELS = [
    dict(name="one block, global max", blocks=[block(6, 5, 1, 2, 2, 1, False)], global_pool="max", hidden=[], outputs=2, target=1),
    dict(name="two pooled blocks with batch-norm, global max+mean, one hidden layer",
         blocks=[block(6, 5, 1, 2, 2, 3, True), block(5, 3, 2, 1, 1, 2, True)], global_pool="max_mean", hidden=[7],
         outputs=2, target=0),
    dict(name="valid padding, pool 4 with a partial window, flatten, two hidden layers",
         blocks=[block(4, 7, 1, 0, 0, 4, False)], global_pool="none", hidden=[5, 3], outputs=1, target=0),
    dict(name="even width, two blocks, global mean", blocks=[block(5, 4, 1, 1, 2, 1, False), block(3, 3, 1, 1, 1, 1, False)],
         global_pool="mean", hidden=[4], outputs=2, target=1),
]


def architecture(spec):
    channels, length = CHANNELS, LENGTH
    for b in spec["blocks"]:
        positions = length + b["left"] + b["right"] - ((b["width"] - 1) * b["dilation"] + 1) + 1
        channels, length = b["filters"], positions // b["pool"]
    features = {"none": channels * length, "max": channels, "mean": channels, "max_mean": 2 * channels}[spec["global_pool"]]
    dense = []
    for k, units in enumerate(spec["hidden"] + [spec["outputs"]]):
        dense.append(dict(inputs=features, outputs=units, relu=k < len(spec["hidden"])))
        features = units
    return dict(channels=CHANNELS, length=LENGTH, blocks=spec["blocks"], global_pool=spec["global_pool"], dense=dense,
                outputs=spec["outputs"])


def random_twin(spec):
    model = OmixCnn(architecture(spec))
    with torch.no_grad():
        for i, conv in enumerate(model.convs):
            conv.weight.normal_(0.0, 0.5)
            conv.bias.normal_(0.0, 0.2)
            if spec["blocks"][i]["batch_norm"]:
                model.scales[i].uniform_(0.5, 1.5)
                model.shifts[i].normal_(0.0, 0.3)
        for linear in model.dense:
            linear.weight.normal_(0.0, 0.6)
            linear.bias.normal_(0.0, 0.2)
    return model.eval()


def host(model, spec):
    """The weights in omix's host layout."""
    blocks = []
    for i, b in enumerate(spec["blocks"]):
        entry = dict(b, weights=rounded(model.convs[i].weight), bias=rounded(model.convs[i].bias), scale=None, shift=None)
        if b["batch_norm"]:
            entry["scale"], entry["shift"] = rounded(model.scales[i]), rounded(model.shifts[i])
        blocks.append(entry)
    dense = [dict(layer, weights=rounded(linear.weight.t()), bias=rounded(linear.bias))
             for layer, linear in zip(model.architecture["dense"], model.dense)]
    return dict(blocks=blocks, dense=dense)


def one_hot(n):
    x = torch.zeros(n, CHANNELS, LENGTH)
    x[torch.arange(n)[:, None], torch.randint(0, CHANNELS, (n, LENGTH)), torch.arange(LENGTH)[None, :]] = 1.0
    return x


def rounded(values):
    return [float(f"{v:.9g}") for v in np.asarray(values.detach() if hasattr(values, "detach") else values, dtype=np.float64).ravel()]


fixture = dict(tangermeme=tangermeme.__version__, torch=torch.__version__, channels=CHANNELS, length=LENGTH,
               sequences=SEQUENCES, references=REFERENCES, models=[])
for spec in MODELS:
    model = random_twin(spec)
    x = one_hot(SEQUENCES)
    refs = dinucleotide_shuffle(x, n=REFERENCES, random_state=11)  # (N, R, 4, L)
    multipliers = deep_lift_shap(model, x, target=spec["target"], references=refs, raw_outputs=True)
    hypothetical = deep_lift_shap(model, x, target=spec["target"], references=refs, hypothetical=True)
    with torch.no_grad():
        outputs = model(x)[:, spec["target"]]
        reference_outputs = model(refs.reshape(-1, CHANNELS, LENGTH))[:, spec["target"]].reshape(SEQUENCES, REFERENCES)
    fixture["models"].append(dict(name=spec["name"], global_pool=spec["global_pool"], target=spec["target"],
                                  outputs=spec["outputs"], **host(model, spec), inputs=rounded(x),
                                  reference_inputs=rounded(refs), multipliers=rounded(multipliers),
                                  hypothetical=rounded(hypothetical), output=rounded(outputs),
                                  reference_output=rounded(reference_outputs)))
    print(spec["name"], "output", outputs.tolist())

path = os.path.join(HERE, "deeplift_tangermeme.json")
with open(path + ".tmp", "w") as handle:
    json.dump(fixture, handle)
os.replace(path + ".tmp", path)
print("wrote", path)
