#!/usr/bin/env python3
"""Reference DeepLIFT/SHAP values from tangermeme for omix's DeepLIFT tests.

Builds small random PyTorch CNNs with the layers omix's CNNs have (padding, convolution,
inference batch-norm, ReLU, max-pooling, global max / mean / max+mean or flattening, dense
layers with ReLU), runs `tangermeme.deep_lift_shap` on random one-hot sequences against
dinucleotide shuffles made by tangermeme, and writes the weights in omix's host layout
(convolution `[filters][channels][width]`, batch-norm folded into a scale and shift, dense
`[inputs][outputs]`), the inputs, the references, tangermeme's raw multipliers per
sequence-reference pair and its hypothetical attributions, to deeplift_tangermeme.json.

Run by hand (needs torch and tangermeme, e.g. the bench venv: bash bench/setup_pytorch.sh,
then bench/.venv/bin/pip install tangermeme):
    bench/.venv/bin/python crates/omix-models/tests/data/deeplift_tangermeme.py
"""
import json
import os

import numpy as np
import tangermeme
import torch
from tangermeme.deep_lift_shap import deep_lift_shap
from tangermeme.ersatz import dinucleotide_shuffle

torch.manual_seed(7)
np.random.seed(7)
torch.set_num_threads(1)

LENGTH, SEQUENCES, REFERENCES, CHANNELS = 40, 3, 4, 4

# Each block: filters, width, dilation, left and right padding (burn's: "same" pads width - 1
# positions, the odd one at the end), max-pool size, batch-norm.
MODELS = [
    dict(name="one block, global max", blocks=[(6, 5, 1, 2, 2, 1, False)], global_pool="max", hidden=[], outputs=2, target=1),
    dict(
        name="two pooled blocks with batch-norm, global max+mean, one hidden layer",
        blocks=[(6, 5, 1, 2, 2, 3, True), (5, 3, 2, 1, 1, 2, True)],
        global_pool="max_mean",
        hidden=[7],
        outputs=2,
        target=0,
    ),
    dict(name="valid padding, pool 4 with a partial window, flatten, two hidden layers",
         blocks=[(4, 7, 1, 0, 0, 4, False)], global_pool="none", hidden=[5, 3], outputs=1, target=0),
    dict(name="even width, two blocks, global mean", blocks=[(5, 4, 1, 1, 2, 1, False), (3, 3, 1, 1, 1, 1, False)],
         global_pool="mean", hidden=[4], outputs=2, target=1),
]


class Twin(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.pads, self.convs, self.norms, self.relus, self.pools = [torch.nn.ModuleList() for _ in range(5)]
        channels, length = CHANNELS, LENGTH
        for filters, width, dilation, left, right, pool, norm in spec["blocks"]:
            self.pads.append(torch.nn.ConstantPad1d((left, right), 0.0))
            conv = torch.nn.Conv1d(channels, filters, width, dilation=dilation)
            torch.nn.init.normal_(conv.weight, 0.0, 0.5)
            torch.nn.init.normal_(conv.bias, 0.0, 0.2)
            self.convs.append(conv)
            bn = torch.nn.BatchNorm1d(filters)
            if norm:
                with torch.no_grad():
                    bn.weight.uniform_(0.5, 1.5)
                    bn.bias.normal_(0.0, 0.2)
                    bn.running_mean.normal_(0.0, 0.3)
                    bn.running_var.uniform_(0.5, 2.0)
            self.norms.append(bn if norm else torch.nn.Identity())
            self.relus.append(torch.nn.ReLU())
            self.pools.append(torch.nn.MaxPool1d(pool) if pool > 1 else torch.nn.Identity())
            positions = length + left + right - ((width - 1) * dilation + 1) + 1
            channels, length = filters, positions // pool
        self.cells = length
        self.global_max = torch.nn.MaxPool1d(length)
        features = {"none": channels * length, "max": channels, "mean": channels, "max_mean": 2 * channels}[spec["global_pool"]]
        self.dense, self.dense_relus = torch.nn.ModuleList(), torch.nn.ModuleList()
        for units in spec["hidden"] + [spec["outputs"]]:
            linear = torch.nn.Linear(features, units)
            torch.nn.init.normal_(linear.weight, 0.0, 0.6)
            torch.nn.init.normal_(linear.bias, 0.0, 0.2)
            self.dense.append(linear)
            self.dense_relus.append(torch.nn.ReLU())
            features = units

    def forward(self, x):
        for pad, conv, norm, relu, pool in zip(self.pads, self.convs, self.norms, self.relus, self.pools):
            x = pool(relu(norm(conv(pad(x)))))
        kind = self.spec["global_pool"]
        if kind == "none":
            x = x.flatten(1)
        elif kind == "max":
            x = self.global_max(x).flatten(1)
        elif kind == "mean":
            x = x.mean(dim=2)
        else:
            x = torch.cat([self.global_max(x).flatten(1), x.mean(dim=2)], dim=1)
        for k, linear in enumerate(self.dense):
            x = linear(x)
            if k + 1 < len(self.dense):
                x = self.dense_relus[k](x)
        return x

    def host(self):
        """The weights in omix's host layout."""
        blocks = []
        for (filters, width, dilation, left, right, pool, norm), conv, bn in zip(self.spec["blocks"], self.convs, self.norms):
            block = dict(filters=filters, width=width, dilation=dilation, left=left, right=right, pool=pool,
                         weights=conv.weight.detach().double().flatten().tolist(),
                         bias=conv.bias.detach().double().tolist(), scale=None, shift=None)
            if norm:
                scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
                block["scale"] = scale.detach().tolist()
                block["shift"] = (bn.bias.double() - bn.running_mean.double() * scale).detach().tolist()
            blocks.append(block)
        dense = [dict(inputs=l.in_features, outputs=l.out_features, relu=k + 1 < len(self.dense),
                      weights=l.weight.detach().double().t().flatten().tolist(), bias=l.bias.detach().double().tolist())
                 for k, l in enumerate(self.dense)]
        return dict(blocks=blocks, dense=dense)


def one_hot(n):
    x = torch.zeros(n, CHANNELS, LENGTH)
    x[torch.arange(n)[:, None], torch.randint(0, CHANNELS, (n, LENGTH)), torch.arange(LENGTH)[None, :]] = 1.0
    return x


def rounded(values):
    return [float(f"{v:.9g}") for v in np.asarray(values, dtype=np.float64).ravel()]


fixture = dict(tangermeme=tangermeme.__version__, torch=torch.__version__, channels=CHANNELS, length=LENGTH,
               sequences=SEQUENCES, references=REFERENCES, models=[])
for spec in MODELS:
    model = Twin(spec).eval()
    x = one_hot(SEQUENCES)
    refs = dinucleotide_shuffle(x, n=REFERENCES, random_state=11)  # (N, R, 4, L)
    multipliers = deep_lift_shap(model, x, target=spec["target"], references=refs, raw_outputs=True)
    hypothetical = deep_lift_shap(model, x, target=spec["target"], references=refs, hypothetical=True)
    with torch.no_grad():
        outputs = model(x)[:, spec["target"]]
        reference_outputs = model(refs.reshape(-1, CHANNELS, LENGTH))[:, spec["target"]].reshape(SEQUENCES, REFERENCES)
    entry = dict(name=spec["name"], global_pool=spec["global_pool"], target=spec["target"], outputs=spec["outputs"],
                 **model.host(), inputs=rounded(x), reference_inputs=rounded(refs), multipliers=rounded(multipliers),
                 hypothetical=rounded(hypothetical), output=rounded(outputs), reference_output=rounded(reference_outputs))
    fixture["models"].append(entry)
    print(spec["name"], "output", outputs.tolist())

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deeplift_tangermeme.json")
with open(path + ".tmp", "w") as handle:
    json.dump(fixture, handle)
os.replace(path + ".tmp", path)
print("wrote", path)
