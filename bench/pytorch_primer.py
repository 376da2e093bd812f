#!/usr/bin/env python3
"""PyTorch (and NumPy) side of `omix bench`: the same measurements on the same model.

* one-hot encoding throughput of the common NumPy encoder (a 256-entry lookup table
  indexed by ``np.frombuffer``), per sequence and per batch of 256, on the sequences
  omix wrote (``--sequences``) or on freshly generated ones;
* primer-CNN training throughput (Conv1d(4,32,12) -> ReLU -> MaxPool1d(4) -> Flatten ->
  Linear(288,16) -> ReLU -> Linear(16,1), BCEWithLogitsLoss, Adam lr 1e-3 eps 1e-8) on
  random one-hot batches with random 0/1 targets, warm-up batches excluded;
* inference throughput (forward only, ``torch.inference_mode``).

``--model deepbind|basset`` trains and infers the twins of omix's other CNN families instead of
the primer (what ``omix bench --model`` runs), on 101-bp inputs:

* deepbind: ``examples/deepbind_gabpa.toml``: Conv1d(4,128,12,'same') -> ReLU -> global max ->
  Linear(128,32) -> ReLU -> Dropout(0.5) -> Linear(32,1), Adam lr 1e-3;
* basset: ``examples/gabpa_basset.toml``: three blocks Conv1d 'same' (300x19, 200x11, 200x7)
  -> BatchNorm1d -> ReLU -> MaxPool1d (3, 4, 4), flatten, Linear(400,1000) -> ReLU ->
  Dropout(0.3) -> Linear(1000,1000) -> ReLU -> Dropout(0.3) -> Linear(1000,1), Adam lr 3e-4.

* danq: ``examples/splice_danq.toml``'s DanQ on 1000-bp inputs: Conv1d(4,320,26) -> ReLU ->
  MaxPool1d(13) -> Dropout(0.2) -> bidirectional LSTM(320) -> Dropout(0.5) -> Flatten ->
  Linear(75*640,925) -> ReLU -> Linear(925,1), Adam lr 1e-3.

* bpnet: bpnet-lite's own ``BPNet`` (64 filters, 8 dilated residual layers, two strands, no
  control track, trimming to 1,000-bp outputs) on 2,114-bp inputs, trained as bpnet-lite's
  ``fit`` does (multinomial NLL over both strands' flattened profile + ``log1pMSELoss`` of the
  total count, weight 1) on random reads; needs ``pip install bpnet-lite``.

``--device cuda`` trains and infers on the GPU (what ``omix --device gpu bench`` asks for),
synchronising before every clock reading; the batches are moved to the GPU once, before timing,
as omix's pooled batches are built once. ``--no-encoding`` skips the encoding measurements (omix runs them once, with the first model).
The report carries the process's peak resident memory (``ru_maxrss``).

Every timed loop carries its correctness check (encoded checksums of sampled sequences,
finite and decreasing training loss, finite logits). Prints one JSON object on stdout.

Normally run by ``omix bench --pytorch PYTHON``; standalone:
``bench/.venv/bin/python bench/pytorch_primer.py --threads 2``.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--train-batches", type=int, default=200)
    p.add_argument("--warmup-batches", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3, help="timed rounds of training and inference; the median reported")
    p.add_argument("--pool-batches", type=int, default=16, help="distinct training batches, cycled")
    p.add_argument("--infer-batches", type=int, default=200)
    p.add_argument("--infer-batch-size", type=int, default=256)
    p.add_argument("--length", type=int, default=50, help="training sequence length")
    p.add_argument("--sequences", help="file of sequences to encode, one per line")
    p.add_argument("--encode-sequences", type=int, default=200_000, help="when --sequences is not given")
    p.add_argument("--encode-length", type=int, default=101, help="when --sequences is not given")
    p.add_argument("--encode-reps", type=int, default=5)
    p.add_argument("--encode-batch", type=int, default=256)
    p.add_argument("--sample-every", type=int, default=97, help="checksum every k-th encoded sequence")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--model", choices=["primer", "deepbind", "basset", "danq", "bpnet"], default="primer")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--no-encoding", action="store_true", help="skip the encoding measurements")
    return p.parse_args()


def checksum_weights(np, size):
    """Weights of the order-sensitive checksum of a flattened [channels, length] one-hot array.

    Must match `checksum` in crates/omix-cli/src/bench.rs: sum of value * ((flat % 251) + 1).
    """
    return (np.arange(size) % 251 + 1).astype(np.float64)


def bench_encoding(args, np):
    if args.sequences:
        with open(args.sequences, "rb") as f:
            sequences = f.read().split(b"\n")
        if sequences and sequences[-1] == b"":
            sequences.pop()
    else:
        rng = np.random.default_rng(args.seed)
        codes = rng.integers(0, 4, size=(args.encode_sequences, args.encode_length), dtype=np.uint8)
        letters = np.frombuffer(b"ACGT", dtype=np.uint8)[codes]
        sequences = [row.tobytes() for row in letters]
    n = len(sequences)
    length = len(sequences[0]) if n else 0
    if any(len(s) != length for s in sequences):
        raise SystemExit("pytorch_primer.py: sequences must all have the same length")

    # The usual lookup table: byte -> one-hot row (A, C, G, T; U as T; anything else zero).
    lut = np.zeros((256, 4), dtype=np.float32)
    for channel, symbols in enumerate((b"Aa", b"Cc", b"Gg", b"TtUu")):
        for s in symbols:
            lut[s, channel] = 1.0

    sampled = list(range(0, n, args.sample_every))
    weights = checksum_weights(np, 4 * length)

    def checksum_one(one_hot):
        return float(one_hot.reshape(-1).astype(np.float64) @ weights)

    def per_sequence():
        # One np.frombuffer + table lookup per sequence, transposed to [4, L] into a batch buffer.
        out = np.empty((args.encode_batch, 4, length), dtype=np.float32)
        sums = {}
        for start in range(0, n, args.encode_batch):
            batch = sequences[start : start + args.encode_batch]
            for j, seq in enumerate(batch):
                out[j] = lut[np.frombuffer(seq, dtype=np.uint8)].T
            for k in range(start, start + len(batch)):
                if k % args.sample_every == 0:
                    sums[k] = checksum_one(out[k - start])
        return sums

    def batched():
        # One np.frombuffer over a whole batch, one fancy-indexing lookup, one transpose.
        out = np.empty((args.encode_batch, 4, length), dtype=np.float32)
        sums = {}
        for start in range(0, n, args.encode_batch):
            batch = sequences[start : start + args.encode_batch]
            codes = np.frombuffer(b"".join(batch), dtype=np.uint8).reshape(len(batch), length)
            out[: len(batch)] = lut[codes].transpose(0, 2, 1)
            for k in range(start, start + len(batch)):
                if k % args.sample_every == 0:
                    sums[k] = checksum_one(out[k - start])
        return sums

    results = {}
    for name, fn in (("numpy_per_sequence", per_sequence), ("numpy_batched", batched)):
        seconds = math.inf
        sums = None
        for _ in range(args.encode_reps):
            t0 = time.perf_counter()
            sums = fn()
            seconds = min(seconds, time.perf_counter() - t0)
        results[name] = {
            "seconds": seconds,
            "mb_per_s": n * length / 1e6 / seconds,
            "sequences_per_s": n / seconds,
            "checksum": math.fsum(sums[k] for k in sampled),
            "sampled": len(sampled),
        }
    results["sequences"] = n
    results["length"] = length
    return results


def primer_model(torch, length):
    nn = torch.nn
    conv_out = length - 12 + 1
    pooled = conv_out // 4
    return nn.Sequential(
        nn.Conv1d(4, 32, 12),
        nn.ReLU(),
        nn.MaxPool1d(4),
        nn.Flatten(),
        nn.Linear(32 * pooled, 16),
        nn.ReLU(),
        nn.Linear(16, 1),
    )


def deepbind_model(torch, length):
    nn = torch.nn

    class GlobalMax(nn.Module):
        def forward(self, x):
            return x.amax(dim=2)

    return nn.Sequential(
        nn.Conv1d(4, 128, 12, padding="same"),
        nn.ReLU(),
        GlobalMax(),
        nn.Linear(128, 32),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(32, 1),
    )


def basset_model(torch, length):
    nn = torch.nn
    layers, channels, positions = [], 4, length
    for filters, width, pool in ((300, 19, 3), (200, 11, 4), (200, 7, 4)):
        layers += [nn.Conv1d(channels, filters, width, padding="same"), nn.BatchNorm1d(filters), nn.ReLU(), nn.MaxPool1d(pool)]
        channels, positions = filters, positions // pool
    layers += [
        nn.Flatten(),
        nn.Linear(channels * positions, 1000),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(1000, 1000),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(1000, 1),
    ]
    return nn.Sequential(*layers)


def danq_model(torch, length):
    nn = torch.nn
    steps = (length - 26 + 1) // 13

    class Danq(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 320, 26)
            self.pool = nn.MaxPool1d(13)
            self.front_dropout = nn.Dropout(0.2)
            self.lstm = nn.LSTM(320, 320, batch_first=True, bidirectional=True)
            self.dropout = nn.Dropout(0.5)
            self.dense = nn.Linear(steps * 640, 925)
            self.output = nn.Linear(925, 1)

        def forward(self, x):
            x = self.front_dropout(self.pool(torch.relu(self.conv(x))))  # [B, 320, steps]
            x, _ = self.lstm(x.transpose(1, 2))  # [B, steps, 640]
            x = self.dropout(x).flatten(1)
            return self.output(torch.relu(self.dense(x)))

    return Danq()


def bpnet_model(torch, length):
    from bpnetlite.bpnet import BPNet

    return BPNet(n_filters=64, n_layers=8, n_outputs=2, n_control_tracks=0, trimming=(length - 1000) // 2, verbose=False)


MODELS = {
    "primer": primer_model,
    "deepbind": deepbind_model,
    "basset": basset_model,
    "danq": danq_model,
    "bpnet": bpnet_model,
}


def random_counts(torch, generator, batch, length):
    """Random reads on two strands of a 1,000-bp window: 20 to 400 per strand (as omix's bench)."""
    counts = torch.zeros(batch * 2, length)
    reads = torch.randint(20, 400, (batch * 2,), generator=generator)
    for row in range(batch * 2):
        positions = torch.randint(0, length, (int(reads[row]),), generator=generator)
        counts[row].index_add_(0, positions, torch.ones(len(positions)))
    return counts.reshape(batch, 2, length)


def bpnet_loss(torch, outputs, y):
    """bpnet-lite's training loss: MNLL of the flattened two-strand profile + log1p count MSE."""
    from bpnetlite.losses import MNLLLoss, log1pMSELoss

    y_profile, y_counts = outputs
    y_profile = torch.nn.functional.log_softmax(y_profile.reshape(y_profile.shape[0], -1), dim=-1)
    y = y.reshape(y.shape[0], -1)
    return MNLLLoss(y_profile, y).mean() + log1pMSELoss(y_counts, y.sum(dim=-1).reshape(-1, 1)).mean()


def random_one_hot(torch, generator, batch, length):
    codes = torch.randint(0, 4, (batch, length), generator=generator)
    return torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).contiguous().float()  # [B, 4, L]


def bench_training(args, torch):
    generator = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("pytorch_primer.py: --device cuda, but torch.cuda.is_available() is False")

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    model = MODELS[args.model](torch, args.length).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, eps=1e-8)
    if args.model == "bpnet":
        def loss_fn(outputs, y):
            return bpnet_loss(torch, outputs, y)
    else:
        loss_fn = torch.nn.BCEWithLogitsLoss()
    pool_x = [random_one_hot(torch, generator, args.batch_size, args.length).to(device) for _ in range(args.pool_batches)]
    pool_y = [
        (random_counts(torch, generator, args.batch_size, 1000) if args.model == "bpnet"
         else torch.randint(0, 2, (args.batch_size, 1), generator=generator).float()).to(device)
        for _ in range(args.pool_batches)
    ]

    losses = []

    def step(k):
        x = pool_x[k % args.pool_batches]
        y = pool_y[k % args.pool_batches]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        value = loss.item()
        if not math.isfinite(value):
            raise SystemExit(f"pytorch_primer.py: training loss is {value} at batch {k + 1}")
        losses.append(value)

    for k in range(args.warmup_batches):
        step(k)
    # Training goes on across rounds; each round is timed on its own, the median reported.
    # (`loss.item()` in every step waits for the GPU, as omix reads every step's loss.)
    train_rounds = []
    for _ in range(args.rounds):
        sync()
        t0 = time.perf_counter()
        for _ in range(args.train_batches):
            step(len(losses))
        sync()
        train_rounds.append(time.perf_counter() - t0)
    seconds = statistics.median(train_rounds)
    params = sum(p.numel() for p in model.parameters())

    infer_x = [random_one_hot(torch, generator, args.infer_batch_size, args.length).to(device) for _ in range(4)]
    model.eval()
    finite = True
    with torch.inference_mode():
        for k in range(1 if args.model == "bpnet" else 3):
            model(infer_x[k % len(infer_x)])
        infer_rounds = []
        for _ in range(args.rounds):
            sync()
            t1 = time.perf_counter()
            for k in range(args.infer_batches):
                logits = model(infer_x[k % len(infer_x)])
                # Read back, as omix reads its logits back to the host (BPNet: profile and counts).
                for part in logits if isinstance(logits, tuple) else (logits,):
                    finite = finite and bool(torch.isfinite(part).all().item())
            sync()
            infer_rounds.append(time.perf_counter() - t1)
    infer_seconds = statistics.median(infer_rounds)
    if not finite:
        raise SystemExit("pytorch_primer.py: inference produced non-finite logits")

    return {
        "parameters": params,
        "train_seconds": seconds,
        "train_round_seconds": train_rounds,
        "train_sequences_per_s": args.train_batches * args.batch_size / seconds,
        "losses": losses,
        "infer_seconds": infer_seconds,
        "infer_round_seconds": infer_rounds,
        "infer_sequences_per_s": args.infer_batches * args.infer_batch_size / infer_seconds,
    }


def main():
    args = parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    encoding = None if args.no_encoding else bench_encoding(args, np)
    training = bench_training(args, torch)
    import resource

    report = {
        "model": args.model,
        "length": args.length,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
        "device": args.device,
        "cuda_device": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
        "cuda_peak_memory_mb": torch.cuda.max_memory_allocated() / 2**20 if args.device == "cuda" else None,
        "batch_size": args.batch_size,
        "train_batches": args.train_batches,
        "warmup_batches": args.warmup_batches,
        "rounds": args.rounds,
        "pool_batches": args.pool_batches,
        "infer_batch_size": args.infer_batch_size,
        "infer_batches": args.infer_batches,
        "encoding": encoding,
        "training": training,
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
