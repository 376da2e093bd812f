#!/usr/bin/env bash
# Basset and DanQ training and inference throughput on one GPU: omix `--device gpu` (burn's wgpu
# backend over Vulkan) against PyTorch on CUDA, same shapes, batch sizes, step counts and
# synthetic data (`omix bench --pytorch`, bench/pytorch_primer.py), then the loader's pace
# beside GPU training steps and the share of step time spent waiting for data.
#
#   bash bench/gpu/run.sh [OMIX] [PYTHON] [OUT]
#
# OMIX: an omix built with the `gpu` feature (default bench/gpu/omix, or bench/gpu/omix.xz
# unpacked first; bench/gpu/README.md says how to build and carry it); PYTHON: a Python with torch (CUDA) and numpy (default python3);
# OUT: where the JSON and text go (default $OUT, else /tmp/omix-gpu-bench). Needs no network.
# Every step has its own time limit, so the whole script ends within 10 minutes; a step that
# runs out says so and the others still run.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
omix="${1:-$here/omix}"
python="${2:-python3}"
out="${3:-${OUT:-/tmp/omix-gpu-bench}}"
mkdir -p "$out"
started=$(date +%s)
log() { echo "[$(( $(date +%s) - started ))s] $*" >&2; }

# The Vulkan loader: carried as Debian packages where the machine lacks it (.gl/, device README).
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    if compgen -G "$repo/.gl/*.deb" >/dev/null; then
        log "unpacking the Vulkan loader from .gl/"
        for f in "$repo"/.gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
    else
        log "no libvulkan.so.1 and no .gl/*.deb to unpack: omix --device gpu will find no adapter"
    fi
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then
    export VK_DRIVER_FILES="$nvidia_icd"
fi

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || log "nvidia-smi: not found"
if [ ! -x "$omix" ] && [ -f "$omix.xz" ]; then # carried compressed (bench/gpu/README.md)
    xz -dc "$omix.xz" >"$out/omix" && chmod +x "$out/omix" && omix="$out/omix"
fi
[ -x "$omix" ] || { echo "error: no omix binary at $omix (bench/gpu/README.md: build with --features gpu)" >&2; exit 2; }
"$omix" --version
# Which adapter omix takes (one line on stderr); a clear error and the end if none.
"$omix" --device gpu completions bash >/dev/null || exit 2
timeout 60 "$python" -c 'import torch; assert torch.cuda.is_available(), "no CUDA"; print("torch", torch.__version__, torch.cuda.get_device_name(0))' \
    || { echo "error: $python has no CUDA torch" >&2; exit 2; }

# Same settings on both sides; encoding is measured too but is not the point here (kept small).
common=(--pytorch "$python" --pytorch-script "$repo/bench/pytorch_primer.py" --batch-size 64
        --warmup-batches 10 --rounds 3 --encode-sequences 20000 --encode-reps 1)
run_model() { # MODEL TRAIN_BATCHES INFER_BATCHES LIMIT_SECONDS
    log "$1: omix --device gpu and PyTorch CUDA, ${2} training batches x 3 rounds (limit ${4}s)"
    if timeout "$4" "$omix" --device gpu bench --model "$1" --train-batches "$2" --infer-batches "$3" \
        "${common[@]}" --json "$out/$1.json" >"$out/$1.txt" 2>"$out/$1.err"; then
        cat "$out/$1.txt"
    else
        log "$1: failed or ran out of time (exit $?); its stderr:"
        tail -n 20 "$out/$1.err" >&2
    fi
}
run_model basset 200 100 200
run_model danq 40 20 240

log "the loader beside GPU training steps (examples/genome.toml's CNN)"
timeout 90 "$omix" --device gpu bench --loader "$repo/examples/genome.toml" --loader-steps 30 \
    --json "$out/loader.json" 2>"$out/loader.err" | tee "$out/loader.txt" || log "loader: failed or ran out of time"

log "summary"
"$python" - "$out" <<'PY' || true
import json, os, sys
out = sys.argv[1]
print("| model | what | omix --device gpu (seq/s) | PyTorch CUDA (seq/s) | omix / PyTorch |")
print("|---|---|---|---|---|")
for model in ("basset", "danq"):
    path = os.path.join(out, model + ".json")
    if not os.path.exists(path):
        print(f"| {model} | (no result) | | | |")
        continue
    rows = json.load(open(path))["rows"]
    for row in rows:
        if row["unit"] != "seq/s" or "encode" in row["metric"]:
            continue
        theirs = row["pytorch"]
        ratio = f'{row["ratio"]:.2f}x' if row["ratio"] else "-"
        print(f'| {model} | {row["metric"]} | {row["omix"]:.0f} | {theirs:.0f} | {ratio} |' if theirs else f'| {model} | {row["metric"]} | {row["omix"]:.0f} | - | - |')
loader = os.path.join(out, "loader.json")
if os.path.exists(loader):
    m = json.load(open(loader))
    print(f'loader: {m["loader_batches_per_second"]:.0f} batches/s alone; GPU training {m["train_steps_per_second"]:.1f} steps/s '
          f'({m["model"]}, batch {m["batch_size"]}); waiting for data {100 * m["data_wait_share"]:.1f}% of step time')
PY
log "done; files in $out"
