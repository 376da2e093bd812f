#!/usr/bin/env python3
"""Variant effects of a profile (BPNet) run on simulated data: SNVs that break planted motif
instances against random SNVs in the same peaks, scored by `omix score-variants`.

The simulator (`omix simulate-tracks`) plants exact consensus instances, so every base of an
instance is equally informative (2 bits); the SNV changes the instance's middle base to a
transversion (A<->C, G<->T), which breaks the consensus. Random SNVs fall anywhere in the peaks
that hold the chosen instances, at least 3 bp from every planted instance. Standard library only;
omix itself needs no Python.

    omix simulate-tracks --out /tmp/bpsim
    sed 's#data/bpnet_sim/#bpsim/#' examples/bpnet_sim.toml > /tmp/bpnet_sim.toml
    omix train /tmp/bpnet_sim.toml --out /tmp/bprun
    python3 bench/profile_variant_effects.py --sim /tmp/bpsim --run /tmp/bprun --out /tmp/bpvar
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
from collections import defaultdict

TRANSVERSION = {"A": "C", "C": "A", "G": "T", "T": "G"}


def read_contig(fasta, chrom):
    bases, inside = [], False
    with open(fasta) as handle:
        for line in handle:
            if line.startswith(">"):
                if inside:
                    break
                inside = line[1:].split()[0] == chrom
            elif inside:
                bases.append(line.strip().upper())
    return "".join(bases)


def read_rows(path, chrom, skip_header):
    with open(path) as handle:
        if skip_header:
            next(handle)
        return [line.rstrip("\n").split("\t") for line in handle if line.startswith(chrom + "\t")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", required=True, help="omix simulate-tracks output folder")
    parser.add_argument("--run", required=True, help="profile run folder (omix train on [tracks])")
    parser.add_argument("--out", required=True, help="folder for the VCF and the scores")
    parser.add_argument("--omix", default="omix", help="the omix binary")
    parser.add_argument("--chrom", default="chr6", help="held-out chromosome to score (the example's test chromosome)")
    parser.add_argument("-n", type=int, default=200, help="SNVs per set")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--extra", nargs="*", default=[], help="more score-variants arguments")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    sequence = read_contig(os.path.join(args.sim, "genome.fa"), args.chrom)
    instances = [(int(r[1]), int(r[2]), r[4]) for r in read_rows(os.path.join(args.sim, "truth.tsv"), args.chrom, True)]
    peaks = [(int(r[1]), int(r[2])) for r in read_rows(os.path.join(args.sim, "peaks.narrowPeak"), args.chrom, False)]
    in_peak = [(s, e, m) for (s, e, m) in instances if any(ps <= s and e <= pe for ps, pe in peaks)]
    chosen = rng.sample(in_peak, min(args.n, len(in_peak)))
    chosen_peaks = sorted({(ps, pe) for (s, e, _) in chosen for (ps, pe) in peaks if ps <= s and e <= pe})

    records = []  # (position 0-based, id, ref, alt)
    for k, (start, end, motif) in enumerate(chosen):
        position = start + (end - start) // 2
        base = sequence[position]
        records.append((position, f"motif_{motif}_{k}", base, TRANSVERSION.get(base, "G")))
    near_instance = lambda p: any(s - 3 <= p < e + 3 for (s, e, _) in instances)
    k = 0
    while k < len(chosen):
        start, end = rng.choice(chosen_peaks)
        position = rng.randrange(start, end)
        base = sequence[position]
        if near_instance(position) or base not in TRANSVERSION:
            continue
        records.append((position, f"random_{k}", base, rng.choice([b for b in "ACGT" if b != base])))
        k += 1
    records.sort()

    os.makedirs(args.out, exist_ok=True)
    vcf = os.path.join(args.out, "snvs.vcf")
    with open(vcf, "w") as out:
        out.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for position, name, ref, alt in records:
            out.write(f"{args.chrom}\t{position + 1}\t{name}\t{ref}\t{alt}\t.\t.\t.\n")
    prefix = os.path.join(args.out, "scores")
    for suffix in (".tsv", ".vcf", ".summary.json", ".progress.json", ".tsv.partial", ".vcf.partial"):
        if os.path.exists(prefix + suffix):
            os.remove(prefix + suffix)
    command = [args.omix, "score-variants", args.run, "--vcf", vcf, "--reference", os.path.join(args.sim, "genome.fa"),
               "-o", prefix, "--quiet", *args.extra]
    print("$", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True)

    sets = defaultdict(lambda: ([], []))
    with open(prefix + ".tsv") as handle:
        header = next(handle).rstrip("\n").split("\t")
        column = {name: i for i, name in enumerate(header)}
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            name = fields[column["id"]]
            kinds = ["motif", "motif " + name.split("_")[1]] if name.startswith("motif_") else ["random"]
            for kind in kinds:
                sets[kind][0].append(float(fields[column["abs_logfc"]]))
                sets[kind][1].append(float(fields[column["jsd"]]))

    random_jsd = sorted(sets["random"][1])
    random_logfc = sorted(sets["random"][0])
    q95 = lambda values: values[min(len(values) - 1, int(0.95 * len(values)))]
    print(f"run {args.run}, {args.chrom}, seed {args.seed}, score-variants {' '.join(args.extra) or '(strands averaged)'}")
    print("| SNVs | n | median abs logFC | mean abs logFC | median JSD | mean JSD | JSD > random 95th pct | abs logFC > random 95th pct |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in ["motif", "random"] + sorted(k for k in sets if k.startswith("motif ")):
        logfc, jsd = sets[kind]
        above_jsd = sum(v > q95(random_jsd) for v in jsd) / len(jsd)
        above_logfc = sum(v > q95(random_logfc) for v in logfc) / len(logfc)
        print(f"| {kind} | {len(jsd)} | {statistics.median(logfc):.4f} | {statistics.mean(logfc):.4f} | "
              f"{statistics.median(jsd):.4f} | {statistics.mean(jsd):.4f} | {above_jsd:.0%} | {above_logfc:.0%} |")


if __name__ == "__main__":
    main()
