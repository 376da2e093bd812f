"""gkmsvm-lite (PyPI: an independent Python/numba gkm-SVM, lsgkm's kernels) on a DeepBind set, for
the test AUROC and seconds beside omix's gapped k-mer baseline.

    bench/.venv/bin/pip install gkmsvm-lite
    bench/.venv/bin/python bench/gkmsvm_lite_compare.py [TF_CELL] [--kernel direct|estimated] [--limit N]

Trains on the _AC peaks (positives) against one dinucleotide shuffle each (dinuc-shuf, seed 1;
not omix's shuffles, and no validation split: lsgkm's defaults C = 1, l = 11, k = 7, d = 3),
scores the _B test set, prints its AUROC (scikit-learn) and the seconds of training and scoring.
"""
import argparse
import gzip
import os
import time

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with gzip.open(path, "rt") as f:
        header = f.readline().rstrip("\n").split("\t")
        seq, bound = header.index("seq"), header.index("Bound")
        rows = [line.rstrip("\n").split("\t") for line in f]
    return [r[seq] for r in rows], [int(r[bound]) for r in rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("name", nargs="?", default="GABPA_GM12878")
    parser.add_argument("--kernel", default="direct")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    import gkmsvm
    from dinuc_shuf import shuffle

    data = os.path.join(ROOT, "examples", "data", "deepbind")
    positives, _ = read(os.path.join(data, f"{args.name}_AC.seq.gz"))
    if args.limit:
        positives = positives[: args.limit]
    rng = np.random.default_rng(1)
    one_hot = gkmsvm.one_hot_encode
    negatives = []
    for s in positives:
        # dinuc-shuf takes (n, length, 4); an N (all zeros) stays an N.
        shuffled = shuffle(one_hot(s).T[None], rng=rng, verify=False)[0]
        negatives.append(gkmsvm.one_hot_decode(np.ascontiguousarray(shuffled.T.astype(np.float32))))
    test, labels = read(os.path.join(data, f"{args.name}_B.seq.gz"))
    started = time.time()
    model = gkmsvm.train_gkmsvm(positives, negatives, kernel_type=args.kernel)
    trained = time.time() - started
    started = time.time()
    scores = model(np.stack([one_hot(s) for s in test]))
    scored = time.time() - started
    print(f"{args.name} kernel={args.kernel} train={len(positives) * 2} test AUROC {roc_auc_score(labels, scores):.4f} "
          f"train {trained:.1f}s score {scored:.1f}s")


if __name__ == "__main__":
    main()
