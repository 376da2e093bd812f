"""Reference values for omix-tracks' reader tests, computed with pysam and pyBigWig.

Run from the repository root with the bench venv (bench/setup_pytorch.sh, then
`pip install pysam pyBigWig`), with ../shared beside the checkout:

    bench/.venv/bin/python crates/omix-tracks/tests/data/make_fixtures.py

Writes, next to this script:
- synthetic.bam (+ .bai): 6,000 coordinate-sorted reads on janggu's sample genome sizes (chr1, chr2,
  30 kb each) with every flag omix filters on (reverse, duplicate, secondary, supplementary, QC fail,
  unmapped-but-placed), mapping qualities 0-60 and 255, and CIGARs with M/I/D/N/S/=/X;
- synthetic.fragments.tsv.gz: 3,000 sorted fragments (10x layout: chrom, start, end, barcode, count);
- unsorted.bam, queryname.bam, missing_contig.bam, other_length.bam: bad inputs;
- tracks_expected.json: per-base 5' end counts per strand from pysam (reference_start for forward
  reads, reference_end - 1 for reverse reads) under two filter settings, for synthetic.bam and for
  janggu's sample.bam and sample2.bam; the fragment cuts computed here; and pyBigWig's intervals of
  janggu's sample.bw.
"""
import gzip
import json
import os
import random

import pyBigWig
import pysam

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "..", "..", "shared", "data", "genome")
SIZES = [("chr1", 30000), ("chr2", 30000)]


def write_synthetic_bam(path, rng):
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": n, "LN": l} for n, l in SIZES]}
    reads = []
    for i in range(6000):
        tid = rng.randrange(2)
        start = rng.randrange(0, 29000)
        ops = []
        length = 0
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            kind = rng.choice([0, 0, 0, 1, 2, 3, 7, 8])  # M M M I D N = X
            n = rng.randint(1, 40) if kind != 3 else rng.randint(50, 300)
            ops.append((kind, n))
        if ops[0][0] not in (0, 7, 8):
            ops.insert(0, (0, rng.randint(5, 30)))
        if ops[-1][0] not in (0, 7, 8):
            ops.append((0, rng.randint(5, 30)))
        if rng.random() < 0.2:
            ops.insert(0, (4, rng.randint(1, 10)))  # soft clip
        span = sum(n for k, n in ops if k in (0, 2, 3, 7, 8))
        if start + span > SIZES[tid][1]:
            start = SIZES[tid][1] - span
        query = sum(n for k, n in ops if k in (0, 1, 4, 7, 8))
        flag = 0
        if rng.random() < 0.5:
            flag |= 0x10
        for bit, p in ((0x400, 0.08), (0x100, 0.05), (0x800, 0.04), (0x200, 0.03), (0x4, 0.03)):
            if rng.random() < p:
                flag |= bit
        mapq = 255 if rng.random() < 0.05 else rng.randint(0, 60)
        reads.append((tid, start, f"r{i}", flag, mapq, ops, query))
    reads.sort(key=lambda r: (r[0], r[1]))
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for tid, start, name, flag, mapq, ops, query in reads:
            a = pysam.AlignedSegment(out.header)
            a.query_name = name
            a.flag = flag
            a.reference_id = tid
            a.reference_start = start
            a.mapping_quality = mapq
            a.cigartuples = ops
            a.query_sequence = "".join(rng.choice("ACGT") for _ in range(query))
            a.query_qualities = pysam.qualitystring_to_array("I" * query)
            out.write(a)
    pysam.index(path)


def bam_counts(path, min_mapq, keep_duplicates):
    """Sparse 5' end counts: {chrom: {position: [plus, minus]}}."""
    counts = {}
    with pysam.AlignmentFile(path, "rb") as bam:
        for read in bam.fetch(until_eof=True):
            if read.is_unmapped or read.is_secondary or read.is_supplementary or read.is_qcfail:
                continue
            if read.is_duplicate and not keep_duplicates:
                continue
            if read.mapping_quality < min_mapq:
                continue
            if read.is_reverse:
                cut, strand = read.reference_end - 1, 1
            else:
                cut, strand = read.reference_start, 0
            slot = counts.setdefault(read.reference_name, {}).setdefault(str(cut), [0, 0])
            slot[strand] += 1
    return counts


def write_fragments(path, rng):
    fragments = []
    for i in range(3000):
        chrom, length = SIZES[rng.randrange(2)]
        start = rng.randrange(0, length - 1000)
        end = start + rng.randint(20, 900)
        fragments.append((chrom, start, end, f"BC{rng.randrange(50):03d}-1", rng.randint(1, 4)))
    fragments.sort(key=lambda f: (f[0], f[1]))
    with gzip.open(path, "wt") as out:
        out.write("# a 10x-style header line\n")
        for f in fragments:
            out.write("\t".join(map(str, f)) + "\n")
    counts = {}
    for chrom, start, end, _, _ in fragments:
        # chrombpnet's ATAC convention for already-shifted fragments: plus at start, minus at end.
        for cut, strand in ((start, 0), (end, 1)):
            slot = counts.setdefault(chrom, {}).setdefault(str(cut), [0, 0])
            slot[strand] += 1
    return counts


def write_small_bam(path, sizes, reads, sort_order):
    """A few forward reads of 20 bases at (contig index, start), in the order given (bad-input cases)."""
    header = {"HD": {"VN": "1.6", "SO": sort_order}, "SQ": [{"SN": n, "LN": l} for n, l in sizes]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for i, (tid, start) in enumerate(reads):
            a = pysam.AlignedSegment(out.header)
            a.query_name = f"r{i}"
            a.reference_id = tid
            a.reference_start = start
            a.mapping_quality = 60
            a.cigartuples = [(0, 20)]
            a.query_sequence = "A" * 20
            a.query_qualities = pysam.qualitystring_to_array("I" * 20)
            out.write(a)


def main():
    rng = random.Random(20261204)
    # Bad inputs: reads out of order (no index can be built for it), a contig the sample genome lacks,
    # the same contig named with another length.
    write_small_bam(os.path.join(HERE, "unsorted.bam"), SIZES, [(0, 500), (0, 100), (1, 50)], "unknown")
    write_small_bam(os.path.join(HERE, "queryname.bam"), SIZES, [(0, 100)], "queryname")
    write_small_bam(os.path.join(HERE, "missing_contig.bam"), SIZES + [("chrUn_1", 5000)], [(0, 100), (2, 10)], "coordinate")
    write_small_bam(os.path.join(HERE, "other_length.bam"), [("chr1", 31000), ("chr2", 30000)], [(0, 100)], "coordinate")
    bam = os.path.join(HERE, "synthetic.bam")
    write_synthetic_bam(bam, rng)
    expected = {
        "versions": {"pysam": pysam.__version__, "pyBigWig": pyBigWig.__version__ if hasattr(pyBigWig, "__version__") else "?"},
        "synthetic_default": bam_counts(bam, 0, False),
        "synthetic_mapq30_duplicates": bam_counts(bam, 30, True),
        "sample_default": bam_counts(os.path.join(SHARED, "sample.bam"), 0, False),
        "sample2_default": bam_counts(os.path.join(SHARED, "sample2.bam"), 0, False),
        "fragments_atac": write_fragments(os.path.join(HERE, "synthetic.fragments.tsv.gz"), rng),
    }
    bw = pyBigWig.open(os.path.join(SHARED, "sample.bw"))
    expected["sample_bw"] = {c: [list(i) for i in (bw.intervals(c) or [])] for c in bw.chroms()}
    with open(os.path.join(HERE, "tracks_expected.json"), "w") as out:
        json.dump(expected, out, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
