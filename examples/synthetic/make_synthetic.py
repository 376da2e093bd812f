#!/usr/bin/env python3
"""Make the synthetic multi-task and regression example sets (standard library only, seeded).

multitask.tsv.gz: 3,000 random 100-nt sequences; three binary tasks, each positive when its motif
was planted (independently, probability 0.3 each, random position and strand), with 3% of labels
flipped as noise. Motifs: an ETS site (GABPA-like CCGGAAGT), an SP/KLF GC box (GGGGCGGGG) and a
CTCF-like core (CCGCGAGGGGGCAG).

regression.tsv.gz: 3,000 random 100-nt sequences carrying 0-4 copies of the ETS site and 0-4 of
the GC box; two count targets drawn like ChIP read counts, Poisson(1 + 4 * copies), one per
motif (columns ets_signal, sp_signal).

Run from this folder: python3 make_synthetic.py
"""
import gzip
import math
import random

MOTIFS = {"ets": "CCGGAAGT", "sp": "GGGGCGGGG", "ctcf": "CCGCGAGGGGGCAG"}
LENGTH = 100
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def revcomp(seq):
    return seq.translate(COMPLEMENT)[::-1]


def plant(seq, motif, rng, taken):
    """Plant motif (random strand) at a free random position; returns the new sequence."""
    site = motif if rng.random() < 0.5 else revcomp(motif)
    for _ in range(100):
        start = rng.randrange(0, LENGTH - len(site) + 1)
        span = set(range(start, start + len(site)))
        if not span & taken:
            taken |= span
            return seq[:start] + site + seq[start + len(site):]
    return seq


def poisson(rate, rng):
    # Knuth's method; rates here are small.
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def random_sequence(rng):
    return "".join(rng.choice("ACGT") for _ in range(LENGTH))


def multitask(rng, n=3000):
    rows = ["id\tsequence\tets\tsp\tctcf"]
    for i in range(n):
        seq, taken, labels = random_sequence(rng), set(), []
        for motif in MOTIFS.values():
            present = rng.random() < 0.3
            if present:
                seq = plant(seq, motif, rng, taken)
            if rng.random() < 0.03:
                present = not present
            labels.append("1" if present else "0")
        rows.append(f"seq{i + 1}\t{seq}\t" + "\t".join(labels))
    return rows


def regression(rng, n=3000):
    rows = ["id\tsequence\tets_signal\tsp_signal"]
    for i in range(n):
        seq, taken, targets = random_sequence(rng), set(), []
        for motif in (MOTIFS["ets"], MOTIFS["sp"]):
            copies = rng.randrange(0, 5)
            for _ in range(copies):
                seq = plant(seq, motif, rng, taken)
            targets.append(str(poisson(1.0 + 4.0 * copies, rng)))
        rows.append(f"seq{i + 1}\t{seq}\t" + "\t".join(targets))
    return rows


def write(name, rows):
    # mtime=0 keeps the gzip bytes identical from run to run.
    with open(name, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(("\n".join(rows) + "\n").encode())


if __name__ == "__main__":
    write("multitask.tsv.gz", multitask(random.Random(7)))
    write("regression.tsv.gz", regression(random.Random(8)))
