#!/usr/bin/env python3
"""Build the genome example from examples/data/genome (run from the repository root).

Writes examples/genome/data/ (shipped in the repository; this script remakes it byte for byte):
  genome.fa          chr1 and chr2 of janggu's sample genome and the lambda phage genome (contig
                     "lambda"), with an ETS-like motif (CCGGAAGT, random strand) planted every
                     ~250 bp: lambda is the training contig, chr1 validation, chr2 test
  motif_sites.bed    one 20-bp interval around each planted motif (the positives)
  sample.bed         janggu's two 10-kb regions (for a tiled bedGraph)
  variants.vcf       SNVs that break planted motifs, SNVs elsewhere, an insertion, a deletion,
                     a multi-allelic record and one record whose REF disagrees with the genome

Usage: python3 examples/genome/make_example.py [--source examples/data/genome] [--out examples/genome/data]
"""
import argparse
import os
import random

MOTIF = "CCGGAAGT"
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def read_fasta(path):
    contigs, name, chunks = [], None, []
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith(">"):
                if name is not None:
                    contigs.append((name, "".join(chunks).upper()))
                name, chunks = line[1:].split()[0], []
            elif line:
                chunks.append(line)
    if name is not None:
        contigs.append((name, "".join(chunks).upper()))
    return contigs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="examples/data/genome")
    parser.add_argument("--out", default="examples/genome/data")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)

    sample = dict(read_fasta(os.path.join(args.source, "sample_genome.fa")))
    lambda_ = read_fasta(os.path.join(args.source, "lambda_virus.fa"))[0][1]
    contigs = [("chr1", sample["chr1"]), ("chr2", sample["chr2"]), ("lambda", lambda_)]

    planted, genome = [], []
    for name, sequence in contigs:
        bases = list(sequence)
        position = 150
        while position + 150 < len(bases):
            start = position + rng.randint(-40, 40)
            motif = MOTIF if rng.random() < 0.5 else MOTIF.translate(COMPLEMENT)[::-1]
            bases[start:start + len(motif)] = motif
            planted.append((name, start, motif))
            position += 250
        genome.append((name, "".join(bases)))

    with open(os.path.join(args.out, "genome.fa"), "w") as out:
        for name, sequence in genome:
            out.write(f">{name}\n")
            for i in range(0, len(sequence), 60):
                out.write(sequence[i:i + 60] + "\n")
    with open(os.path.join(args.out, "motif_sites.bed"), "w") as out:
        for name, start, _ in planted:
            out.write(f"{name}\t{start - 6}\t{start + 14}\tmotif\t0\t+\n")
    with open(os.path.join(args.source, "sample.bed")) as source, open(os.path.join(args.out, "sample.bed"), "w") as out:
        out.write(source.read())

    sequences = dict(genome)
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={name},length={len(seq)}>" for name, seq in genome]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    records = []
    # SNVs in the middle of planted motifs on the test contig (should lower the score).
    for k, (name, start, motif) in enumerate(p for p in planted if p[0] == "chr2"):
        pos = start + 3  # 0-based, inside the motif core
        ref = sequences[name][pos]
        alt = "A" if ref != "A" else "T"
        records.append((name, pos + 1, f"motif_break_{k}", ref, alt))
    # Random SNVs on chr2.
    for k in range(40):
        pos = rng.randrange(200, len(sequences["chr2"]) - 200)
        ref = sequences["chr2"][pos]
        alt = rng.choice([b for b in "ACGT" if b != ref])
        records.append(("chr2", pos + 1, f"random_{k}", ref, alt))
    seq = sequences["chr1"]
    records.append(("chr1", 5001, "insertion", seq[5000], seq[5000] + "GGA"))
    records.append(("chr1", 6001, "deletion", seq[6000:6004], seq[6000]))
    ref = seq[7000]
    records.append(("chr1", 7001, "multiallelic", ref, ",".join(b for b in "ACGT" if b != ref)[:3]))
    wrong = "A" if seq[8000] != "A" else "C"
    records.append(("chr1", 8001, "ref_mismatch", wrong, "G" if wrong != "G" else "T"))
    records.sort(key=lambda r: (r[0], r[1]))
    for chrom, pos, ident, ref, alt in records:
        lines.append(f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt}\t.\tPASS\t.")
    with open(os.path.join(args.out, "variants.vcf"), "w") as out:
        out.write("\n".join(lines) + "\n")
    counts = {name: sum(1 for p in planted if p[0] == name) for name, _ in genome}
    print(f"wrote {args.out}: {len(planted)} planted motifs {counts}, {len(records)} VCF records")


if __name__ == "__main__":
    main()
