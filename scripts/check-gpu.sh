#!/usr/bin/env bash
# The GPU path without a GPU (issue 13): Mesa's lavapipe, a software Vulkan driver, stands in for
# the GPU, so `--device gpu` runs burn's wgpu backend (kernels compiled to SPIR-V, fusion) and
# omix's device plumbing exactly as on a GPU, only slower. Run by hand, never by CI: building the
# `gpu` feature takes about 25 minutes on 2 cores (CI's budget is 45 minutes for everything).
#
#   bash scripts/check-gpu.sh
#
# What it checks, on examples/primer.toml (the data `omix quickstart` simulates):
#  1. `--device gpu` with no Vulkan driver (and no OpenGL one) reachable: exit 2, one line on
#     stderr naming what was looked for, nothing written.
#  2. Inference: the run trained on the CPU, predicted on the GPU and on the CPU: every
#     probability within 1e-4 (the TSV's 6 decimals). Same weights, so only arithmetic differs.
#  3. Training: 2 epochs with `--device cpu` and with `--device gpu`, same seed: both learn
#     (test AUROC >= 0.8; chance is 0.5) and test AUROC within 0.05. The tolerance is not
#     arithmetic: the GPU draws its initial weights from its own generator (the CPU's fast path
#     draws them in its own order), and after 2 epochs the initial weights alone move test AUROC
#     by about 0.04 (measured: the CPU's fast path 0.907 vs the CPU's burn autodiff 0.870, seed
#     42). A second GPU run with the same seed shows what repeats on the GPU.
# Prints the metrics and the wall time of each run. Needs root for apt-get (or lavapipe already
# installed). The build goes to $CARGO_TARGET_DIR, by default ../target-gpu beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-../target-gpu}"
train_tolerance=0.05
learned=0.8
predict_tolerance=0.0001

echo "== Vulkan: Mesa's lavapipe (mesa-vulkan-drivers)"
if ! compgen -G "/usr/share/vulkan/icd.d/lvp_icd*.json" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -q mesa-vulkan-drivers libvulkan1 >/dev/null \
            || { apt-get update -q >/dev/null && apt-get install -y -q mesa-vulkan-drivers libvulkan1 >/dev/null; }
    else
        echo "error: lavapipe is not installed and this is not root with apt-get: apt-get install mesa-vulkan-drivers" >&2
        exit 1
    fi
fi
ls /usr/share/vulkan/icd.d/lvp_icd*.json

echo "== cargo build --release -p omix-cli --features gpu (target $target)"
started=$(date +%s)
CARGO_TARGET_DIR="$target" cargo build --release -p omix-cli --features gpu
echo "build: $(($(date +%s) - started)) s"
omix="$target/release/omix"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Mesa's Vulkan drivers complain on stderr when this is unset (harmless, but noise).
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="$work/xdg"
    mkdir -m 700 "$XDG_RUNTIME_DIR"
fi
timed() { # NAME COMMAND...: run, keep stderr in $work/NAME.err, print the wall time
    local name="$1"
    shift
    local t0 ms
    t0=$(date +%s%N)
    if ! "$@" >"$work/$name.out" 2>"$work/$name.err"; then
        echo "error: $name failed:" >&2
        tail -n 30 "$work/$name.err" >&2
        exit 1
    fi
    ms=$((($(date +%s%N) - t0) / 1000000))
    printf '%s: %d.%03d s\n' "$name" $((ms / 1000)) $((ms % 1000))
}

echo "== --device gpu with no Vulkan or OpenGL driver: one clear line"
set +e
VK_ICD_FILENAMES=/nonexistent VK_DRIVER_FILES=/nonexistent __EGL_VENDOR_LIBRARY_FILENAMES=/nonexistent \
    "$omix" --device gpu train examples/primer.toml --out "$work/none" >"$work/none.out" 2>"$work/none.err"
code=$?
set -e
cat "$work/none.err"
[ "$code" = 2 ] || { echo "error: exit $code, expected 2" >&2; exit 1; }
[ "$(wc -l <"$work/none.err")" = 1 ] || { echo "error: expected one line on stderr" >&2; exit 1; }
grep -q "no usable GPU adapter" "$work/none.err" || { echo "error: the line does not say what was looked for" >&2; exit 1; }
[ ! -e "$work/none" ] || { echo "error: a run folder was written" >&2; exit 1; }

echo "== which adapter --device gpu takes, and what --device auto does with it"
"$omix" --device gpu completions bash >/dev/null
"$omix" --device auto completions bash >/dev/null

echo "== training, 2 epochs, seed 42: --device cpu, --device gpu (twice)"
# The first two also explain (gradient x input, filters) and write the report, on their device.
train=(train examples/primer.toml --epochs 2 --no-baseline)
timed train_cpu "$omix" --device cpu "${train[@]}" --out "$work/cpu"
timed train_gpu "$omix" --device gpu "${train[@]}" --out "$work/gpu"
timed train_gpu_again "$omix" --device gpu "${train[@]}" --no-report --out "$work/gpu_again"
grep -h "training engine" "$work/train_cpu.err" "$work/train_gpu.err"

echo "== inference: the CPU-trained run predicted on the GPU and on the CPU"
predict=(predict "$work/cpu" --input examples/primer/sequences.txt)
timed predict_cpu "$omix" --device cpu "${predict[@]}" -o "$work/predict_cpu.tsv"
timed predict_gpu "$omix" --device gpu "${predict[@]}" -o "$work/predict_gpu.tsv"

python3 - "$work" "$train_tolerance" "$learned" "$predict_tolerance" <<'PY'
import json, sys
work, train_tolerance, learned, predict_tolerance = sys.argv[1], *map(float, sys.argv[2:])
failures = []

def read(run):
    return json.load(open(f"{work}/{run}/metrics.json"))

cpu, gpu, again = read("cpu"), read("gpu"), read("gpu_again")
print("| run | device in metrics.json | test AUROC | test AUPRC | test accuracy | validation AUROC |")
print("|---|---|---|---|---|---|")
for name, m in (("cpu", cpu), ("gpu", gpu), ("gpu again", again)):
    device = m.get("device", {}).get("name", "(absent: the CPU)")
    t, v = m["test"], m["validation"]
    print(f"| {name} | {device} | {t['auroc']:.4f} | {t['auprc']:.4f} | {t['accuracy']:.4f} | {v['auroc']:.4f} |")
delta = gpu["test"]["auroc"] - cpu["test"]["auroc"]
print(f"test AUROC, gpu - cpu: {delta:+.4f} (tolerance {train_tolerance})")
print(f"test AUROC, gpu again - gpu: {again['test']['auroc'] - gpu['test']['auroc']:+.6f}"
      f" ({'identical metrics.json' if again == gpu else 'metrics differ'})")
if abs(delta) > train_tolerance:
    failures.append(f"|test AUROC gpu - cpu| = {abs(delta):.4f} > {train_tolerance}")
for name, m in (("cpu", cpu), ("gpu", gpu)):
    if m["test"]["auroc"] < learned:
        failures.append(f"{name} did not learn: test AUROC {m['test']['auroc']:.4f} < {learned}")
if "device" in cpu or gpu.get("device", {}).get("kind") != "gpu":
    failures.append("metrics.json must name the GPU for the GPU run only")

def probabilities(path):
    rows = [line.split("\t") for line in open(path).read().splitlines()[1:]]
    return {row[0]: float(row[1]) for row in rows}

on_cpu, on_gpu = probabilities(f"{work}/predict_cpu.tsv"), probabilities(f"{work}/predict_gpu.tsv")
worst = max(abs(on_cpu[k] - on_gpu[k]) for k in on_cpu) if on_cpu.keys() == on_gpu.keys() else float("inf")
print(f"predictions of the CPU-trained run, {len(on_cpu)} sequences: max |p_gpu - p_cpu| = {worst:.2e}"
      f" (tolerance {predict_tolerance})")
if worst > predict_tolerance:
    failures.append(f"GPU predictions differ from the CPU's by {worst:.2e} > {predict_tolerance}")
if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("check-gpu: passed")
PY
