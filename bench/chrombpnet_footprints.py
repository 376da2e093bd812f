#!/usr/bin/env python3
"""ChromBPNet on simulated ATAC-like data: does the bias model take the Tn5-like bias and the TF model
the footprints? (issue 17, must-show 3; run by hand, not in CI)

Needs a trained run of examples/chrombpnet_sim.toml on `omix simulate-tracks --assay atac` data and
`omix predict RUN --reference genome.fa --bed test_peaks.bed -o OUT/pred.bw`, which writes the
bias-corrected pred.bw and pred.with_bias.bw. This script does the prediction itself, then, on the test
chromosome's peaks:

1. the planted bias (the simulator's Tn5-like PWM, copied below from omix-tracks/src/simulate.rs)
   scored at every base; Pearson of each track's log(value + 0.01) with that score: observed, with
   bias, bias-corrected;
2. footprints: mean profile in ±60 bp around the planted TF instances (truth.tsv), strand-aligned;
   since the simulator multiplies the cut rate by exp(bias score), observed / exp(score) is the
   unbiased footprint up to noise; Pearson of each prediction's aggregate with it.

Usage: bench/.venv/bin/python bench/chrombpnet_footprints.py SIM_DIR RUN_DIR OMIX [--test-chrom chr6]
"""
import argparse
import math
import os
import subprocess
import tempfile

import numpy as np
import pyBigWig

ROWS = [
    [-0.2, 0.1, 0.5, -0.4],
    [-0.3, 0.3, 0.2, -0.2],
    [0.0, -0.4, 0.0, 0.4],
    [0.5, -0.2, -0.3, 0.0],
    [-0.1, 0.4, 0.3, -0.6],
    [0.4, -0.3, -0.3, 0.2],
    [-0.2, 0.5, 0.0, -0.3],
    [0.0, -0.2, 0.4, -0.2],
]
WEIGHTS = np.array([[w - sum(r) / 4 for w in r] for r in ROWS])
CENTRE = 4
INDEX = {ord(b): i for i, b in enumerate("ACGT")}


def read_fasta(path):
    seqs, name, parts = {}, None, []
    with open(path) as f:
        for line in f:
            if line.startswith(">"):
                if name:
                    seqs[name] = "".join(parts)
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    if name:
        seqs[name] = "".join(parts)
    return seqs


def bias_scores(sequence):
    codes = np.array([INDEX.get(ord(c), -1) for c in sequence.upper()])
    n = len(codes)
    score = np.zeros(n)
    for row in range(len(WEIGHTS)):
        shift = row - CENTRE  # base at position + shift
        lo, hi = max(0, -shift), min(n, n - shift)
        base = codes[lo + shift:hi + shift]
        valid = base >= 0
        add = np.zeros(hi - lo)
        add[valid] = WEIGHTS[row][base[valid]]
        score[lo:hi] += add
    return score


def values(bw, chrom, start, end):
    v = np.array(bw.values(chrom, start, end), dtype=float)
    return np.nan_to_num(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sim")
    ap.add_argument("run")
    ap.add_argument("omix")
    ap.add_argument("--test-chrom", default="chr6")
    ap.add_argument("--flank", type=int, default=60)
    args = ap.parse_args()
    genome = read_fasta(os.path.join(args.sim, "genome.fa"))
    peaks = []
    with open(os.path.join(args.sim, "peaks.narrowPeak")) as f:
        for line in f:
            fields = line.split("\t")
            if fields[0] == args.test_chrom:
                peaks.append((fields[0], int(fields[1]), int(fields[2])))
    out = tempfile.mkdtemp(prefix="cbfoot")
    bed = os.path.join(out, "test_peaks.bed")
    with open(bed, "w") as f:
        for chrom, start, end in peaks:
            f.write(f"{chrom}\t{start}\t{end}\n")
    pred = os.path.join(out, "pred.bw")
    subprocess.run([args.omix, "predict", args.run, "--reference", os.path.join(args.sim, "genome.fa"),
                    "--bed", bed, "-o", pred, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    tracks = {
        "observed": pyBigWig.open(os.path.join(args.sim, "counts.bw")),
        "with_bias": pyBigWig.open(os.path.join(out, "pred.with_bias.bw")),
        "corrected": pyBigWig.open(pred),
    }
    # 1. Correlation with the planted bias over the central 500 bp of every test peak.
    score_all, logs = [], {k: [] for k in tracks}
    for chrom, start, end in peaks:
        centre = (start + end) // 2
        a, b = centre - 250, centre + 250
        score_all.append(bias_scores(genome[chrom][a - 8:b + 8])[8:-8])
        for k, bw in tracks.items():
            logs[k].append(np.log(values(bw, chrom, a, b) + 0.01))
    score_all = np.concatenate(score_all)
    print(f"{len(peaks)} test peaks on {args.test_chrom}, {score_all.size} bases")
    print("Pearson of log(track + 0.01) with the planted Tn5-like bias score, per base:")
    for k in tracks:
        r = np.corrcoef(np.concatenate(logs[k]), score_all)[0, 1]
        print(f"  {k:10s} {r:+.3f}")
    # 2. Footprints around planted instances.
    instances = {}
    with open(os.path.join(args.sim, "truth.tsv")) as f:
        next(f)
        for line in f:
            chrom, start, end, strand, motif = line.rstrip("\n").split("\t")[:5]
            if chrom == args.test_chrom:
                instances.setdefault(motif, []).append((int(start), int(end), strand))
    fl = args.flank
    print(f"footprints: mean profile in ±{fl} bp of planted instances, Pearson with observed / exp(bias):")
    print(f"  {'motif':6s} {'n':>5s} {'observed':>9s} {'with_bias':>9s} {'corrected':>9s}")
    for motif, sites in sorted(instances.items()):
        sums = {k: np.zeros(2 * fl + 1) for k in list(tracks) + ["unbiased"]}
        n = 0
        for start, end, strand in sites:
            centre = (start + end) // 2
            a, b = centre - fl, centre + fl + 1
            if a < 8 or b + 8 > len(genome[args.test_chrom]):
                continue
            score = bias_scores(genome[args.test_chrom][a - 8:b + 8])[8:-8]
            got = {k: values(bw, args.test_chrom, a, b) for k, bw in tracks.items()}
            got["unbiased"] = got["observed"] / np.exp(score)
            for k, v in got.items():
                sums[k] += v[::-1] if strand == "-" else v
            n += 1
        truth = sums["unbiased"]
        row = [np.corrcoef(sums[k], truth)[0, 1] for k in tracks]
        print(f"  {motif:6s} {n:5d} " + " ".join(f"{r:9.3f}" for r in row))


if __name__ == "__main__":
    main()
