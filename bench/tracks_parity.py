"""`omix tracks` output read back by pyBigWig, compared with 5' end counts from pysam, on every base.

    bench/.venv/bin/python bench/tracks_parity.py [--omix target/release/omix] [BAM ...]

For each BAM (default: the synthetic fixture of omix-tracks and janggu's sample.bam/sample2.bam from
../shared), runs `omix tracks` stranded with the ChIP and the ATAC shift and unstranded, reads every
base of every contig with pyBigWig and compares with counts computed here from pysam (primary,
non-duplicate, QC-passing, mapped reads; plus cut at reference_start + shift, minus cut at
reference_end - 1 + shift). Prints one line per file and setting and exits 1 on any difference.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import pyBigWig
import pysam

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIFTS = {"chip": (0, 0), "atac": (4, -4)}


def pysam_counts(path, shift):
    with pysam.AlignmentFile(path, "rb") as bam:
        counts = {name: np.zeros((2, length), dtype=np.int64) for name, length in zip(bam.references, bam.lengths)}
        for read in bam.fetch(until_eof=True):
            if read.is_unmapped or read.is_secondary or read.is_supplementary or read.is_qcfail or read.is_duplicate:
                continue
            if read.is_reverse:
                cut, strand = read.reference_end - 1 + shift[1], 1
            else:
                cut, strand = read.reference_start + shift[0], 0
            row = counts[read.reference_name][strand]
            if 0 <= cut < row.shape[0]:
                row[cut] += 1
    return counts


def bigwig_values(path, chrom, length):
    bw = pyBigWig.open(path)
    if chrom not in bw.chroms():
        return np.zeros(length)
    values = np.nan_to_num(np.array(bw.values(chrom, 0, length), dtype=np.float64))
    bw.close()
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--omix", default=os.path.join(ROOT, "target", "release", "omix"))
    parser.add_argument("bams", nargs="*")
    args = parser.parse_args()
    bams = args.bams or [
        os.path.join(ROOT, "crates/omix-tracks/tests/data/synthetic.bam"),
        os.path.join(ROOT, "../shared/data/genome/sample.bam"),
        os.path.join(ROOT, "../shared/data/genome/sample2.bam"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for bam in bams:
            for assay, shift in SHIFTS.items():
                truth = pysam_counts(bam, shift)
                for stranded in (True, False):
                    out = os.path.join(tmp, "t.bw")
                    command = [args.omix, "tracks", bam, "-o", out, "--assay", assay] + (["--stranded"] if stranded else [])
                    subprocess.run(command, check=True, capture_output=True)
                    files = [os.path.join(tmp, "t.plus.bw"), os.path.join(tmp, "t.minus.bw")] if stranded else [out]
                    bases = differing = 0
                    for chrom, counts in truth.items():
                        expected = [counts[0], counts[1]] if stranded else [counts[0] + counts[1]]
                        for path, want in zip(files, expected):
                            got = bigwig_values(path, chrom, want.shape[0])
                            bases += want.shape[0]
                            differing += int(np.sum(got != want))
                    failures += differing > 0
                    print(f"{os.path.basename(bam)} {assay} {'stranded' if stranded else 'unstranded'}: "
                          f"{bases} bases compared, {differing} differ, {int(sum(c.sum() for c in truth.values()))} cuts")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
