#!/usr/bin/env bash
# The Snakemake workflow (workflow/Snakefile) on the example genome, locally with 2 cores: the model
# trained, the VCF scored in 4 shards and the tiles predicted in 4 shards, then merged; 4 tuning
# trials as separate jobs, then the choice; 3 chromosome folds as separate jobs, then their
# ensemble. Checks that the merged outputs equal the unsharded
# commands' byte for byte, that one trial was chosen, that the ensemble holds the 3 folds with cross-validated
# metrics (and predicts their mean probability), and that a second invocation finds nothing to
# do. Installs Snakemake with pip into target/workflow-venv (reused when present).
# Usage: bash scripts/check-workflow.sh [OMIX_BINARY]   (default target/release/omix)
set -euo pipefail
cd "$(dirname "$0")/.."
omix=$(realpath "${1:-target/release/omix}")
venv=target/workflow-venv
if [ ! -x "$venv/bin/snakemake" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet snakemake
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/omix-workflow.XXXXXX")
trap 'rm -rf "$out"' EXIT
run() {
    "$venv/bin/snakemake" -s workflow/Snakefile --configfile workflow/config.yaml \
        --config omix="$omix" outdir="$out/results" --cores 2 "$@"
}
started=$(date +%s)
run --quiet all
echo "workflow: trained, 4 VCF shards and 4 tile shards merged, 4 trials tuned, 3 folds ensembled in $(( $(date +%s) - started )) s"

"$omix" score-variants "$out/results/model" --vcf examples/genome/data/variants.vcf \
    --reference examples/genome/data/genome.fa --on-mismatch skip -o "$out/unsharded" --quiet 2>/dev/null
"$omix" predict "$out/results/model" --reference examples/genome/data/genome.fa --tile 20 \
    --bed examples/genome/data/sample.bed -o "$out/unsharded.bedgraph" 2>/dev/null
cmp "$out/unsharded.tsv" "$out/results/variants.tsv"
cmp "$out/unsharded.vcf" "$out/results/variants.vcf"
cmp "$out/unsharded.bedgraph" "$out/results/tiles.bedgraph"
echo "workflow: merged shards equal the unsharded outputs byte for byte ($(wc -l < "$out/results/variants.tsv") TSV lines, $(wc -l < "$out/results/tiles.bedgraph") bedGraph lines)"

chosen=$(awk -F'\t' 'NR > 1 && $NF == "*"' "$out/results/tune/trials.tsv" | wc -l)
if [ "$(wc -l < "$out/results/tune/trials.tsv")" -ne 5 ] || [ "$chosen" -ne 1 ]; then
    echo "workflow: tune/trials.tsv should list 4 trials with one chosen:" >&2
    cat "$out/results/tune/trials.tsv" >&2
    exit 1
fi
echo "workflow: 4 trials, one chosen on validation: $(awk -F'\t' 'NR > 1 && $NF == "*" {print $2}' "$out/results/tune/trials.tsv")"

# The ensemble: 3 folds with their test metrics, mean and sd, and the pooled out-of-fold metrics;
# it predicts the mean of its members' probabilities (each TSV rounds to 6 decimals).
python3 - "$out/results/ensemble/ensemble_metrics.json" <<'PY'
import json, sys
metrics = json.load(open(sys.argv[1]))
folds = sorted(member["fold"]["index"] for member in metrics["members"])
assert metrics["members_are"] == "folds" and folds == [1, 2, 3], metrics["members"]
auroc = metrics["member_mean"]["auroc"]
pooled = metrics["pooled_out_of_fold"]
print(f"workflow: 3 chromosome folds ensembled: test AUROC {auroc['mean']:.4f} ± {auroc['sd']:.4f} over folds, "
      f"pooled out-of-fold AUROC {pooled['auroc']:.4f} on {pooled['support']} windows")
PY
seqs="$out/windows.txt"
python3 - "$seqs" <<'PY'
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as out:
    for _ in range(50):
        out.write("".join(random.choice("ACGT") for _ in range(100)) + "\n")
PY
for run_dir in fold1 fold2 fold3; do
    "$omix" predict "$out/results/folds/$run_dir" --input "$seqs" -o "$out/$run_dir.tsv" 2>/dev/null
done
"$omix" predict "$out/results/ensemble" --input "$seqs" -o "$out/ensemble.tsv" 2>/dev/null
paste "$out/fold1.tsv" "$out/fold2.tsv" "$out/fold3.tsv" "$out/ensemble.tsv" | awk -F'\t' '
    NR > 1 { mean = ($2 + $5 + $8) / 3; d = mean - $11; if (d < 0) d = -d; if (d > 1.000001e-6) { bad++; print } }
    END { if (bad) { print bad " windows: the ensemble is not the mean of its folds" > "/dev/stderr"; exit 1 } }'
echo "workflow: the ensemble predicts the mean of its 3 folds' probabilities (50 windows)"

again=$(run --dry-run 2>&1)
if ! grep -q "Nothing to be done" <<<"$again"; then
    echo "workflow: a second invocation would run jobs again:" >&2
    echo "$again" >&2
    exit 1
fi
echo "workflow: a second invocation has nothing to do"
