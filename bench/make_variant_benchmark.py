#!/usr/bin/env python3
"""A synthetic genome and VCF for the variant-scoring memory benchmark (issue 5).

Writes OUT/genome.fa (5 contigs of 10 Mb, 50 Mb in all, seeded random bases) and
OUT/variants.vcf.gz (N SNVs, sorted, ~1 in 20 multi-allelic, valid REF alleles), and for the
loader benchmark OUT/peaks.bed (random 200-bp intervals) with OUT/basset.toml:

    omix bench --loader /tmp/vbench/basset.toml

    python3 bench/make_variant_benchmark.py --out /tmp/vbench --variants 1000000
    /usr/bin/time -v omix score-variants runs/genome --vcf /tmp/vbench/variants.vcf.gz \
        --reference /tmp/vbench/genome.fa --out /tmp/vbench/scores -q
"""
import argparse
import gzip
import os
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--contigs", type=int, default=5)
    parser.add_argument("--contig-length", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--peaks", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    names = [f"chr{i + 1}" for i in range(args.contigs)]
    sequences = {}
    with open(os.path.join(args.out, "genome.fa"), "w") as out:
        for name in names:
            sequence = "".join(rng.choices("ACGT", k=args.contig_length))
            sequences[name] = sequence
            out.write(f">{name}\n")
            for i in range(0, len(sequence), 60):
                out.write(sequence[i:i + 60])
                out.write("\n")
    per_contig = args.variants // len(names)
    with gzip.open(os.path.join(args.out, "variants.vcf.gz"), "wt", compresslevel=3) as out:
        out.write("##fileformat=VCFv4.2\n")
        for name in names:
            out.write(f"##contig=<ID={name},length={args.contig_length}>\n")
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        written = 0
        for index, name in enumerate(names):
            count = per_contig if index < len(names) - 1 else args.variants - written
            positions = sorted(rng.sample(range(1000, args.contig_length - 1000), count))
            sequence = sequences[name]
            for k, pos in enumerate(positions):
                ref = sequence[pos]
                others = [b for b in "ACGT" if b != ref]
                alt = ",".join(rng.sample(others, 2)) if k % 20 == 0 else rng.choice(others)
                out.write(f"{name}\t{pos + 1}\tv{written}\t{ref}\t{alt}\t.\tPASS\t.\n")
                written += 1
    # Random peaks and a Basset config for `omix bench --loader` (loader vs training steps).
    with open(os.path.join(args.out, "peaks.bed"), "w") as out:
        for name in names:
            for start in sorted(rng.sample(range(10_000, args.contig_length - 10_000, 1000), args.peaks // len(names))):
                out.write(f"{name}\t{start}\t{start + 200}\n")
    with open(os.path.join(args.out, "basset.toml"), "w") as out:
        out.write(
            "seed = 1\n\n[data]\nlength = 600\n\n[data.genome]\nreference = \"genome.fa\"\n"
            "classes = [{ label = \"peak\", path = \"peaks.bed\" }]\nbackground = 1\n"
            "validation_chromosomes = [\"chr4\"]\ntest_chromosomes = [\"chr5\"]\n\n"
            "[model]\nkind = \"basset\"\n\n[train]\nbatch_size = 64\nreverse_complement_augment = true\n"
        )
    print(f"wrote {args.out}/genome.fa ({len(names)} x {args.contig_length:,} bp) and {written:,} records")


if __name__ == "__main__":
    main()
