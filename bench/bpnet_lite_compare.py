"""omix and bpnet-lite side by side on the same profile data, windows, architecture, epochs and split.

    bench/.venv/bin/python bench/bpnet_lite_compare.py [--config examples/bpnet_sim.toml] [--epochs N]
        [--threads 2] [--omix target/release/omix]

Make the data first (`omix simulate-tracks --out examples/data/bpnet_sim`). The script trains omix
(`omix train CONFIG --threads T`) and then bpnet-lite's `BPNet` (PyTorch, CPU, T threads) with the
config's windows, jitter, reverse complements, filters, layers, epochs, batch size, learning rate
(Adam), count-loss weight (omix's λ, read from its run) and chromosome split; each keeps the
epoch with the best validation loss. Both are scored on the test chromosomes with the same
conventions (omix-metrics follows chrombpnet's JSD: scipy `jensenshannon`, natural log, per region
and strand, median; count Pearson of ln(1 + observed total) against the predicted log count), and
the script prints test JSD, profile Pearson, count Pearson and seconds per epoch for both, per seed
(`--seeds 1,2,3`) and their medians: a single seed says little, as the count head depends on the
initial weights.

Differences that remain: bpnet-lite's `extract_loci` drops peaks whose window has a non-ACGT base
(the simulated genome has none) and omix drops count outliers above the 0.9999 quantile (one peak
on the default simulation); bpnet-lite validates on its own loss after each epoch as omix does.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib

import numpy as np
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import pearsonr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_metrics(observed, logits, log_counts):
    """observed, logits: [n, strands, length]; log_counts: [n]."""
    probs = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
    jsd, pearson = [], []
    for r in range(observed.shape[0]):
        for s in range(observed.shape[1]):
            total = observed[r, s].sum()
            if total > 0:
                jsd.append(jensenshannon(observed[r, s] / total, probs[r, s]))
            if observed[r, s].std() > 0 and probs[r, s].std() > 0:
                pearson.append(pearsonr(observed[r, s], probs[r, s])[0])
    totals = np.log1p(observed.sum(axis=(1, 2)))
    return {
        "median_jsd": float(np.nanmedian(jsd)),
        "median_profile_pearson": float(np.nanmedian(pearson)),
        "count_pearson": float(pearsonr(totals, log_counts)[0]),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=os.path.join(ROOT, "examples", "bpnet_sim.toml"))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--omix", default=os.path.join(ROOT, "target", "release", "omix"))
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: the config's)")
    args = parser.parse_args()
    with open(args.config, "rb") as f:
        config = tomllib.load(f)
    base = os.path.dirname(os.path.abspath(args.config))
    tracks, model, train = config["tracks"], config.get("model", {}), config.get("train", {})
    path = lambda p: p if os.path.isabs(p) else os.path.join(base, p)
    epochs = args.epochs or train.get("epochs", 10)
    in_window, out_window = tracks.get("input_length", 2114), tracks.get("output_length", 1000)
    jitter = tracks.get("jitter", 128)
    batch_size, lr = train.get("batch_size", 64), train.get("learning_rate", 1e-3)
    filters, layers = model.get("filters", 64), model.get("layers", 8)
    task = tracks["task"][0]
    signals = [path(task["plus"]), path(task["minus"])]
    genome, peaks = path(tracks["reference"]), path(tracks["peaks"])
    validation, test = tracks["validation_chromosomes"], tracks["test_chromosomes"]
    with open(genome + ".fai") as f:
        contigs = [line.split("\t")[0] for line in f]
    training = [c for c in contigs if c not in validation + test]

    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [config.get("seed", 1)]
    rows = []
    for seed in seeds:
        rows.append(one_seed(args, config, seed, epochs, in_window, out_window, jitter, batch_size, lr, filters, layers,
                             task, signals, genome, peaks, validation, test, training, tracks))
    print(f"data: {rows[0]['sizes']}; {in_window}/{out_window} bp windows, jitter {jitter}, {filters} filters x "
          f"{layers} layers, {epochs} epochs, batch {batch_size}, lr {lr}, count weight {rows[0]['count_weight']:.3f}, "
          f"{args.threads} threads")
    print(f"{'':12}{'seed':>5}{'test JSD':>10}{'profile r':>11}{'count r':>9}{'s/epoch':>9}")
    for row in rows:
        for name in ("omix", "bpnet-lite"):
            m = row[name]
            print(f"{name:12}{row['seed']:>5}{m['median_jsd']:>10.4f}{m['median_profile_pearson']:>11.4f}"
                  f"{m['count_pearson']:>9.4f}{m['seconds']:>9.1f}")
    median = lambda name, key: float(np.median([row[name][key] for row in rows]))
    for name in ("omix", "bpnet-lite"):
        print(f"{name + ' median':17}{median(name, 'median_jsd'):>10.4f}{median(name, 'median_profile_pearson'):>11.4f}"
              f"{median(name, 'count_pearson'):>9.4f}{median(name, 'seconds'):>9.1f}")
    print(f"omix/bpnet-lite seconds per epoch (median): {median('omix', 'seconds') / median('bpnet-lite', 'seconds'):.2f}")
    jsd_ok = median("omix", "median_jsd") <= median("bpnet-lite", "median_jsd") + 0.02
    count_ok = median("omix", "count_pearson") >= median("bpnet-lite", "count_pearson") - 0.02
    print(f"median test JSD within +0.02: {jsd_ok}; median count Pearson within -0.02: {count_ok}")
    sys.exit(0 if jsd_ok and count_ok else 1)


def one_seed(args, config, seed, epochs, in_window, out_window, jitter, batch_size, lr, filters, layers, task, signals,
             genome, peaks, validation, test, training, tracks):
    """Train both with `seed`; their test metrics and seconds per epoch."""
    with tempfile.TemporaryDirectory() as tmp:
        # omix
        run = os.path.join(tmp, "omix_run")
        started = time.time()
        subprocess.run([args.omix, "--threads", str(args.threads), "train", args.config, "--out", run,
                        "--epochs", str(epochs), "--seed", str(seed), "--quiet"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        omix_seconds = time.time() - started
        with open(os.path.join(run, "metrics.json")) as f:
            omix_metrics = json.load(f)
        count_weight = omix_metrics["count_weight"]
        omix_test = omix_metrics["test"]["peaks"][task["name"]]
        with open(os.path.join(run, "training_log.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
        seconds = rows[0].index("seconds")
        omix_epoch = float(np.mean([float(row[seconds]) for row in rows[1:]]))

        # bpnet-lite
        import bpnetlite.io as bio
        from bpnetlite.bpnet import BPNet
        torch.set_num_threads(args.threads)
        torch.manual_seed(seed)
        load = lambda chroms, j: bio.extract_loci(peaks, genome, signals=signals, chroms=chroms, in_window=in_window,
                                                 out_window=out_window, max_jitter=j, summits=True)
        X_train, y_train = load(training, jitter)
        X_valid, y_valid = load(validation, 0)
        X_test, y_test = load(test, 0)
        generator = bio.DataGenerator(X_train, y_train, in_window=in_window, out_window=out_window,
                                      max_jitter=jitter, reverse_complement=tracks.get("reverse_complement", True),
                                      random_state=seed)
        # bpnet-lite's fit reads (X, y, label) triples (label 1: a peak, whose profile loss counts).
        class Labelled(torch.utils.data.Dataset):
            def __len__(self):
                return len(generator)

            def __getitem__(self, i):
                X, y = generator[i]
                return X, y, 1

        loader = torch.utils.data.DataLoader(Labelled(), batch_size=batch_size)
        net = BPNet(n_filters=filters, n_layers=layers, n_outputs=2, n_control_tracks=0,
                    count_loss_weight=count_weight, trimming=(in_window - out_window) // 2, verbose=False,
                    name=os.path.join(tmp, "bpnetlite"))
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        started = time.time()
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):
            net.fit(loader, optimizer, X_valid=X_valid, y_valid=y_valid, max_epochs=epochs, batch_size=batch_size,
                    device="cpu")
        lite_seconds = time.time() - started
        best = torch.load(os.path.join(tmp, "bpnetlite.torch"), weights_only=False)
        best.eval()
        with torch.no_grad():
            logits, log_counts = best(X_test.float())
        lite_test = test_metrics(y_test.numpy().astype(np.float64), logits.numpy().astype(np.float64),
                                 log_counts.numpy()[:, 0].astype(np.float64))

    omix_test["seconds"] = omix_epoch
    lite_test["seconds"] = lite_seconds / epochs
    return {"seed": seed, "omix": omix_test, "bpnet-lite": lite_test, "count_weight": count_weight,
            "sizes": f"{len(X_train)} training, {len(X_valid)} validation, {len(X_test)} test peaks"}


if __name__ == "__main__":
    main()
