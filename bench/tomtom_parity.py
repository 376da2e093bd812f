#!/usr/bin/env python3
"""Tomtom parity: omix's motif comparison against memelite's Tomtom on the same motifs.

    pip install memelite                      # into any venv (numba, numpy)
    cargo build --release -p omix-motif --example tomtom_tsv
    python bench/tomtom_parity.py QUERIES.meme [DATABASE.meme] [--omix-binary PATH]

QUERIES.meme is typically a run's `explain/filters.meme`; DATABASE.meme defaults to the
built-in JASPAR 2024 CORE vertebrates non-redundant file (crates/omix-motif/data). Both tools get
the same matrices (rows rescaled to sum to 1, untrimmed queries, both strands) and the same
settings: complete scores, Euclidean distance (memelite's only mode), every overlap, 100 score
bins; memelite without target-column merging (n_target_bins=None) unless --memelite-merging.

Prints: how many queries have the same best match; the median and 90th percentile of
|log10 p_omix - log10 p_memelite| over every (query, target) pair and over each query's best
match (p-values floored at 1e-300 for the logarithm; pairs where both are below --floor are
counted as equal); the largest differences.
"""
import argparse
import gzip
import math
import os
import statistics
import subprocess
import sys

import numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JASPAR = os.path.join(ROOT, "crates", "omix-motif", "data",
                      "JASPAR2024_CORE_vertebrates_nonredundant.meme.gz")


def read_meme(path):
    """[(id, (width, 4) array with rows summing to 1)] from a MEME minimal file."""
    opener = gzip.open if path.endswith(".gz") else open
    motifs, current, rows, width = [], None, [], None
    with opener(path, "rt") as handle:
        for line in handle:
            fields = line.split()
            if not fields:
                continue
            if fields[0] == "MOTIF":
                current, rows, width = fields[1], [], None
            elif current and fields[0] == "letter-probability":
                width = int(line.split("w=")[1].split()[0])
            elif current and width is not None and len(rows) < width:
                rows.append([float(v) for v in fields[:4]])
                if len(rows) == width:
                    matrix = numpy.array(rows, dtype=numpy.float64)
                    matrix /= matrix.sum(axis=1, keepdims=True)
                    motifs.append((current, matrix))
                    current = None
    return motifs


def memelite_version():
    from importlib.metadata import version
    return version("memelite")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries")
    parser.add_argument("database", nargs="?", default=JASPAR)
    parser.add_argument("--omix-binary", default=os.path.join(ROOT, "target", "release", "examples", "tomtom_tsv"))
    parser.add_argument("--memelite-merging", action="store_true",
                        help="let memelite merge similar target columns (its default, approximate)")
    parser.add_argument("--write-fixture", metavar="TSV_GZ",
                        help="also write memelite's p-values (query, target, p) as gzip TSV")
    parser.add_argument("--floor", type=float, default=1e-15,
                        help="p-values both below this count as equal (memelite's 1 - CDF floor)")
    args = parser.parse_args()

    from memelite.tomtom import tomtom

    queries = read_meme(args.queries)
    targets = read_meme(args.database)
    print(f"{len(queries)} queries, {len(targets)} targets")

    import time
    started = time.time()
    p_values, _, _, _, _ = tomtom([m.T.copy() for _, m in queries], [m.T.copy() for _, m in targets],
                                  n_target_bins=100 if args.memelite_merging else None)
    memelite_seconds = time.time() - started
    print(f"memelite: {memelite_seconds:.2f} s (first call includes numba compilation)")

    if args.write_fixture:
        with gzip.open(args.write_fixture, "wt", compresslevel=9) as out:
            out.write(f"# memelite {memelite_version()} tomtom: complete scores, Euclidean, both strands, "
                      "n_target_bins=None; made by bench/tomtom_parity.py --write-fixture\n")
            out.write("query\ttarget\tp_value\n")
            for qi, (query, _) in enumerate(queries):
                for ti, (target, _) in enumerate(targets):
                    out.write(f"{query}\t{target}\t{p_values[qi][ti]:.6e}\n")
        print(f"wrote {args.write_fixture}")

    database_arg = "jaspar" if args.database == JASPAR else args.database
    started = time.time()
    result = subprocess.run([args.omix_binary, args.queries, database_arg, "--scoring", "complete",
                             "--distance", "euclidean"], check=True, capture_output=True, text=True)
    print(f"omix: {time.time() - started:.2f} s ({result.stderr.strip()})")
    omix = {}
    for line in result.stdout.splitlines()[1:]:
        fields = line.split("\t")
        omix[(fields[0], fields[1])] = float(fields[2])

    def log10(p):
        return math.log10(max(p, 1e-300))

    target_ids = [name for name, _ in targets]
    all_differences, best_differences, agree, rows = [], [], 0, []
    for qi, (query, _) in enumerate(queries):
        theirs = p_values[qi]
        ours = numpy.array([omix[(query, t)] for t in target_ids])
        for p_ours, p_theirs in zip(ours, theirs):
            both_tiny = p_ours < args.floor and p_theirs < args.floor
            all_differences.append(0.0 if both_tiny else abs(log10(p_ours) - log10(p_theirs)))
        best_ours, best_theirs = int(numpy.argmin(ours)), int(numpy.argmin(theirs))
        agree += best_ours == best_theirs
        difference = abs(log10(ours[best_theirs]) - log10(theirs[best_theirs]))
        best_differences.append(difference)
        rows.append((difference, query, target_ids[best_theirs], ours[best_theirs], theirs[best_theirs],
                     target_ids[best_ours]))

    def quantile(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(f"best match agrees: {agree} of {len(queries)} queries ({100 * agree / len(queries):.1f}%)")
    print(f"|log10 p difference|, all {len(all_differences)} pairs: median {statistics.median(all_differences):.4f}, "
          f"90th percentile {quantile(all_differences, 0.9):.4f}, max {max(all_differences):.3f}")
    print(f"|log10 p difference|, each query's best match (memelite's): median {statistics.median(best_differences):.4f}, "
          f"90th percentile {quantile(best_differences, 0.9):.4f}, max {max(best_differences):.3f}")
    for difference, query, target, ours, theirs, our_best in rows:
        if target != our_best:
            ours_at_ours = omix[(query, our_best)]
            theirs_at_ours = p_values[[q for q, _ in queries].index(query)][target_ids.index(our_best)]
            print(f"  best differs for {query}: memelite {target} (p {theirs:.3e}; omix {ours:.3e}), "
                  f"omix {our_best} (p {ours_at_ours:.3e}; memelite {theirs_at_ours:.3e})")
    print("largest differences at the best match (query, memelite's best, p omix, p memelite, omix's best):")
    for difference, query, target, ours, theirs, our_best in sorted(rows, reverse=True)[:8]:
        print(f"  {query}\t{target}\t{ours:.3e}\t{theirs:.3e}\t{our_best}\t(|dlog10| {difference:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
