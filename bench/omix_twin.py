"""A PyTorch twin of an omix sequence CNN, for checking omix against PyTorch tools.

`omix export RUN --format safetensors` writes a CNN's weights with PyTorch's names and layouts
and its architecture as metadata (see crates/omix-models/src/export.rs); `load(path)` builds
this twin from such a file. Every block is zero padding → Conv1d → the inference batch-norm
folded into a scale and shift → ReLU → MaxPool1d (stride = size, partial last window dropped);
then the global reduction (none = flatten channel-major, max as a MaxPool1d over all positions
so that DeepLIFT implementations apply their max-pool rule, mean, or max then mean), then
Linear layers with a ReLU module after every hidden one. Each ReLU and max-pool is its own
module, used once per forward pass, as hook-based DeepLIFT (tangermeme, Captum) requires.
"""
import json

import torch


class OmixCnn(torch.nn.Module):
    def __init__(self, architecture):
        super().__init__()
        self.architecture = architecture
        self.pads, self.convs, self.relus, self.pools = (torch.nn.ModuleList() for _ in range(4))
        self.scales, self.shifts = torch.nn.ParameterList(), torch.nn.ParameterList()
        channels, length = architecture["channels"], architecture["length"]
        for block in architecture["blocks"]:
            self.pads.append(torch.nn.ConstantPad1d((block["left"], block["right"]), 0.0))
            self.convs.append(torch.nn.Conv1d(channels, block["filters"], block["width"], dilation=block["dilation"]))
            # Identity batch-norm where the block has none.
            self.scales.append(torch.nn.Parameter(torch.ones(block["filters"]), requires_grad=False))
            self.shifts.append(torch.nn.Parameter(torch.zeros(block["filters"]), requires_grad=False))
            self.relus.append(torch.nn.ReLU())
            self.pools.append(torch.nn.MaxPool1d(block["pool"]) if block["pool"] > 1 else torch.nn.Identity())
            span = (block["width"] - 1) * block["dilation"] + 1
            positions = length + block["left"] + block["right"] - span + 1
            channels, length = block["filters"], positions // block["pool"]
        self.global_max = torch.nn.MaxPool1d(length)
        pool = architecture["global_pool"]
        features = channels * length if pool == "none" else (2 * channels if pool == "max_mean" else channels)
        self.dense, self.dense_relus = torch.nn.ModuleList(), torch.nn.ModuleList()
        for layer in architecture["dense"]:
            assert layer["inputs"] == features, (layer, features)
            self.dense.append(torch.nn.Linear(features, layer["outputs"]))
            self.dense_relus.append(torch.nn.ReLU() if layer["relu"] else torch.nn.Identity())
            features = layer["outputs"]

    def forward(self, x):
        for pad, conv, scale, shift, relu, pool in zip(self.pads, self.convs, self.scales, self.shifts, self.relus, self.pools):
            x = pool(relu(conv(pad(x)) * scale[None, :, None] + shift[None, :, None]))
        kind = self.architecture["global_pool"]
        if kind == "none":
            x = x.flatten(1)
        elif kind == "max":
            x = self.global_max(x).flatten(1)
        elif kind == "mean":
            x = x.mean(dim=2)
        else:
            x = torch.cat([self.global_max(x).flatten(1), x.mean(dim=2)], dim=1)
        for linear, relu in zip(self.dense, self.dense_relus):
            x = relu(linear(x))
        return x

    def set_tensors(self, tensors):
        """Weights from a name → tensor mapping with omix's export names."""
        with torch.no_grad():
            for i, conv in enumerate(self.convs):
                conv.weight.copy_(tensors[f"conv{i}.weight"])
                conv.bias.copy_(tensors[f"conv{i}.bias"])
                if f"conv{i}.bn_scale" in tensors:
                    self.scales[i].copy_(tensors[f"conv{i}.bn_scale"])
                    self.shifts[i].copy_(tensors[f"conv{i}.bn_shift"])
            for i, linear in enumerate(self.dense):
                linear.weight.copy_(tensors[f"dense{i}.weight"])
                linear.bias.copy_(tensors[f"dense{i}.bias"])
        return self


def load(path):
    """The twin of the CNN exported to `path` (safetensors), in eval mode."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as handle:
        architecture = json.loads(handle.metadata()["omix_architecture"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    return OmixCnn(architecture).set_tensors(tensors).eval()
