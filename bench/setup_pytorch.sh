#!/usr/bin/env bash
# Creates bench/.venv with PyTorch + NumPy for `omix bench --pytorch`.
# Run by hand only, never by CI: PyPI's torch wheel (with its CUDA
# dependencies) is several GB.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

echo "free space where the venv goes:"
df -h "$here"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --upgrade pip
# Plain `pip install torch`: CPU-only wheels live on download.pytorch.org,
# which PyPI-only mirrors do not carry. Set TORCH_INDEX_URL to use one, e.g.
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash bench/setup_pytorch.sh
if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$venv/bin/python" -m pip install --index-url "$TORCH_INDEX_URL" torch
else
    "$venv/bin/python" -m pip install torch
fi
"$venv/bin/python" -m pip install numpy
"$venv/bin/python" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'
echo "ready: target/release/omix --threads 2 bench --pytorch $venv/bin/python"
