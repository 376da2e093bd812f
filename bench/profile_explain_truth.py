#!/usr/bin/env python3
"""How much of a profile model's attribution falls on the motifs `omix simulate-tracks` planted.

    target/release/omix simulate-tracks --out /tmp/xsim
    # examples/bpnet_sim.toml with its paths pointed at /tmp/xsim, trained:
    target/release/omix train /tmp/bpnet_sim.toml --out /tmp/xrun
    target/release/omix explain /tmp/xrun --max-sequences 100 -o /tmp/xexp
    python3 bench/profile_explain_truth.py /tmp/xexp /tmp/xsim/truth.tsv

Reads the explain folder's regions.tsv (each window's contig and start), ohe.npz and the heads'
<head>_shap.npz (hypothetical contributions; the actual ones are those at the observed bases), and
the simulator's truth.tsv (chrom, start, end, strand, motif of every planted instance). For each head
it prints the share of the windows' bases inside planted instances, the share of the absolute
attribution (and of the positive attribution) on those bases, the enrichment (share of attribution
over share of bases), the share of the top 1% positions by |attribution| that lie in an instance, and
the same per motif. Needs numpy only.
"""
import csv
import os
import sys

import numpy as np


def main():
    folder, truth_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(folder, "regions.tsv")) as f:
        regions = list(csv.DictReader(f, delimiter="\t"))
    ohe = np.load(os.path.join(folder, "ohe.npz"))["arr_0"]
    n, _, length = ohe.shape
    instances = {}
    with open(truth_path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            instances.setdefault(row["chrom"], []).append((int(row["start"]), int(row["end"]), row["motif"]))
    motifs = sorted({m for rows in instances.values() for _, _, m in rows})
    mask = np.zeros((n, length), dtype=bool)
    per_motif = {m: np.zeros((n, length), dtype=bool) for m in motifs}
    for k, region in enumerate(regions[:n]):
        start = int(region["start"])
        for s, e, m in instances.get(region["chrom"], []):
            a, b = max(s - start, 0), min(e - start, length)
            if a < b:
                mask[k, a:b] = True
                per_motif[m][k, a:b] = True
    base_share = mask.mean()
    print(f"{n} windows of {length} bases; {base_share:.1%} of their bases lie in planted instances "
          f"({', '.join(f'{m} {per_motif[m].mean():.1%}' for m in motifs)})")
    for head in ["counts", "profile"]:
        path = os.path.join(folder, f"{head}_shap.npz")
        if not os.path.exists(path):
            continue
        actual = (np.load(path)["arr_0"] * ohe).sum(axis=1)  # [n, L]
        magnitude = np.abs(actual)
        positive = np.clip(actual, 0, None)
        share = magnitude[mask].sum() / magnitude.sum()
        share_positive = positive[mask].sum() / max(positive.sum(), 1e-30)
        top = magnitude.reshape(-1) >= np.quantile(magnitude, 0.99)
        precision = mask.reshape(-1)[top].mean()
        print(f"{head} head (DeepLIFT/SHAP): {share:.1%} of |attribution| and {share_positive:.1%} of the positive "
              f"attribution on planted instances ({share / base_share:.1f}x their share of bases); "
              f"{precision:.1%} of the top 1% positions by |attribution| are in an instance")
        for m in motifs:
            s = magnitude[per_motif[m]].sum() / magnitude.sum()
            print(f"    {m}: {s:.1%} of |attribution| on {per_motif[m].mean():.1%} of the bases "
                  f"({s / max(per_motif[m].mean(), 1e-30):.1f}x)")


if __name__ == "__main__":
    main()
