# %% [markdown]
# # GABPA binding sites from Python
#
# The README's GABPA example (DeepBind's ENCODE GABPA_GM12878 peaks, the DeepBind architecture)
# from Python: train, read the metrics, predict, explain, and draw the attribution logo of the
# strongest test peak. Run it as a script or cell by cell (`# %%` cells: VS Code, Jupytext).
#
#     pip install "./crates/omix-py[notebook]"       # omix, numpy, pandas, tqdm, matplotlib, logomaker
#     python3 scripts/fetch-data.py deepbind         # the peaks, into examples/data/deepbind
#     python3 examples/python/gabpa.py               # --epochs 2 for a quick look
#
# The data is read from examples/data/deepbind (what fetch-data.py writes); the figure is written
# into the run folder.

# %%
import argparse
import csv
import gzip
import sys
import tomllib
from pathlib import Path

import numpy as np

import omix

EXAMPLES = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", type=Path, default=Path("runs/gabpa-python"), help="run folder (replaced)")
parser.add_argument("--epochs", type=int, default=None, help="at most this many epochs (default: the config's 30)")
parser.add_argument("--threads", type=int, default=0, help="threads (default: all cores)")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
omix.set_threads(args.threads)

peaks = EXAMPLES / "data" / "deepbind"
if not (peaks / "GABPA_GM12878_AC.seq.gz").exists():
    sys.exit(f"no GABPA peaks in {peaks}: run `python3 scripts/fetch-data.py deepbind` first")

# %% [markdown]
# ## Train
# The example config, as a dict so that the number of epochs can be changed; its paths are
# relative to examples/, a dict's to the working directory, so they are made absolute.

# %%
config = tomllib.loads((EXAMPLES / "gabpa_deepbind.toml").read_text())
config["data"]["input"] = str(EXAMPLES / config["data"]["input"])
config["data"]["test"]["input"] = str(EXAMPLES / config["data"]["test"]["input"])
if args.epochs is not None:
    config["train"]["epochs"] = args.epochs
run = omix.train(config, out=args.out, force=True)
run  # in a notebook: the metrics table and a link to report.html

# %% [markdown]
# ## Metrics
# `run.metrics` is metrics.json: validation and test metrics, the baseline and the verdict.

# %%
print("\n".join(run.summary_lines()))
test = run.metrics["test"]
print(f"test AUROC {test['auroc']:.3f} (DeepBind published 0.970 for its top-500 model)")

# %% [markdown]
# ## Predict and explain the test peaks
# The held-out peaks (GABPA_GM12878_B: 500 peaks and 500 shuffles), one-hot `(N, 4, 101)`.

# %%
with gzip.open(peaks / "GABPA_GM12878_B.seq.gz", "rt") as handle:
    rows = list(csv.DictReader(handle, delimiter="\t"))
sequences = [row["seq"] for row in rows]
bound = np.array([row["Bound"] == "1" for row in rows])
X = omix.one_hot(sequences)
scores = run.predict(X)[:, 0]
print(f"{len(sequences)} test sequences; mean score {scores[bound].mean():.3f} on peaks, {scores[~bound].mean():.3f} on shuffles")

top = np.argsort(-scores)[:8]
attributions = run.explain(X[top], method="integrated_gradients", ig_baseline="shuffled")
ism = run.ism(X[top])
print("attributions", attributions.shape, "ISM", ism.shape)

# Where the strongest peak's attribution is highest, and the bases there (GABPA's core is GGAA).
importance = attributions[0].sum(axis=0)
peak = int(np.argmax(np.convolve(importance, np.ones(8), mode="same")))
window = sequences[top[0]][max(0, peak - 6) : peak + 6]
print(f"highest attribution around position {peak + 1}: {window}")

# %% [markdown]
# ## A logo of the attributions
# logomaker where installed, else matplotlib bars per base.

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

# Each position's total attribution drawn on its observed base (with a shuffled baseline the
# other channels carry scores too: the baseline's bases).
contribution = attributions[0].sum(axis=0, keepdims=True) * X[top[0]]  # (4, 101)
start, end = max(0, peak - 25), min(contribution.shape[1], peak + 25)
figure, axis = plt.subplots(figsize=(12, 2.5))
try:
    import logomaker
    import pandas

    frame = pandas.DataFrame(contribution[:, start:end].T, columns=list("ACGT"), index=range(start + 1, end + 1))
    logomaker.Logo(frame, ax=axis)
except ImportError:
    colours = {"A": "tab:green", "C": "tab:blue", "G": "orange", "T": "tab:red"}
    for channel, base in enumerate("ACGT"):
        axis.bar(np.arange(start + 1, end + 1), contribution[channel, start:end], color=colours[base], label=base)
    axis.legend(ncol=4, frameon=False)
axis.set_title(f"integrated gradients of test sequence {rows[top[0]]['EventID']} (score {scores[top[0]]:.3f})")
axis.set_xlabel("position (1-based)")
figure.tight_layout()
logo = run.path / "gabpa_attribution_logo.png"
figure.savefig(logo, dpi=120)
print(f"logo: {logo}")
