"""A large coordinate-sorted BAM for `omix tracks` throughput and memory (issue: tracks, item 1).

    bench/.venv/bin/python bench/make_reads_bam.py --reads 10000000 --out /tmp/reads.bam

Reads are 50 bp with sequence and qualities (as a real BAM holds them), on 12 contigs of 20 Mb
(chrom sizes written beside the BAM as OUT.sizes), half on each strand, 3% flagged duplicate,
MAPQ 0-60; positions are drawn uniformly and written in order, so nothing needs sorting.
"""
import argparse
import random

import pysam


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    contigs = [(f"chr{i + 1}", 20_000_000) for i in range(12)]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": n, "LN": l} for n, l in contigs]}
    with open(args.out + ".sizes", "w") as sizes:
        for name, length in contigs:
            sizes.write(f"{name}\t{length}\n")
    per_contig = args.reads // len(contigs)
    sequences = ["".join(rng.choice("ACGT") for _ in range(50)) for _ in range(64)]
    qualities = pysam.qualitystring_to_array("I" * 50)
    written = 0
    with pysam.AlignmentFile(args.out, "wb", header=header, threads=1) as out:
        for tid, (name, length) in enumerate(contigs):
            count = per_contig if tid < len(contigs) - 1 else args.reads - written
            starts = sorted(rng.randrange(0, length - 50) for _ in range(count))
            for i, start in enumerate(starts):
                a = pysam.AlignedSegment(out.header)
                a.query_name = f"{name}.{i}"
                a.flag = (0x10 if rng.random() < 0.5 else 0) | (0x400 if rng.random() < 0.03 else 0)
                a.reference_id = tid
                a.reference_start = start
                a.mapping_quality = rng.randrange(61)
                a.cigar = [(0, 50)]
                a.query_sequence = sequences[i & 63]
                a.query_qualities = qualities
                out.write(a)
            written += count
    print(f"wrote {written} reads to {args.out}")


if __name__ == "__main__":
    main()
