"""Seconds per training epoch of one or more omix binaries on a profile config, measured in turns.

    python3 bench/bpnet_epoch_seconds.py [--config examples/bpnet_sim.toml] [--epochs 3] [--rounds 3]
        [--threads 2] [--seed 1] BINARY [BINARY ...]

Each round trains every binary once (`omix --threads T train CONFIG --epochs E --seed S --quiet`,
in turn, so that a change of machine load falls on all of them alike) and reads the seconds of
each epoch from the run's training_log.tsv (training steps plus the epoch's validation pass; the
first epoch is left out, as it also warms caches and the allocator). It prints, per binary, the
median over rounds and epochs and every value, with the load average before each run: on a shared
machine, compare binaries measured under the same load only. Make the data first
(`omix simulate-tracks --out examples/data/bpnet_sim`). bench/bpnet_lite_compare.py measures
bpnet-lite (and omix's accuracy against it) on the same config.
"""
import argparse
import os
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def epoch_seconds(binary, config, epochs, threads, seed):
    """The seconds of epochs 2.. of one training run."""
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        subprocess.run([binary, "--threads", str(threads), "train", config, "--out", run, "--epochs", str(epochs),
                        "--seed", str(seed), "--quiet"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(os.path.join(run, "training_log.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
    column = rows[0].index("seconds")
    return [float(row[column]) for row in rows[2:]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--config", default=os.path.join(ROOT, "examples", "bpnet_sim.toml"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    seconds = {binary: [] for binary in args.binaries}
    loads = {binary: [] for binary in args.binaries}
    for round_index in range(args.rounds):
        for binary in args.binaries:
            loads[binary].append(os.getloadavg()[0])
            values = epoch_seconds(binary, args.config, args.epochs, args.threads, args.seed)
            seconds[binary].extend(values)
            print(f"round {round_index + 1}: {binary}: {' '.join(f'{v:.2f}' for v in values)} s/epoch "
                  f"(1-minute load {loads[binary][-1]:.2f})", flush=True)
    for binary in args.binaries:
        print(f"{binary}: median {statistics.median(seconds[binary]):.2f} s/epoch over {len(seconds[binary])} "
              f"epochs ({args.threads} threads); load before its runs {min(loads[binary]):.2f}-"
              f"{max(loads[binary]):.2f}")


if __name__ == "__main__":
    main()
