#!/usr/bin/env bash
# The real-GPU check: our WGSL training step on every kind against PyTorch eager CUDA on
# the same GPU, in one run, as one table.
#
#   scripts/bench-gpu.sh                  from the repository root, after `cargo build --release`
#   LATENT_LAB_BIN=path/to/latent-lab     a binary built elsewhere (a machine without Rust)
#   KINDS="vae ae"                        a subset of the kinds (default: every kind `bench` trains)
#   PYTHON=python3                        the Python with a CUDA build of PyTorch
#
# Vulkan: wgpu reaches an NVIDIA GPU through the Vulkan loader (libvulkan.so.1) and the
# driver's ICD file. A container with the driver mounted may lack the loader: bring it with
# `apt-get download libvulkan1` on a machine that has the package lists, then
# `dpkg -x libvulkan1_*.deb / && ldconfig` here; if no driver is found, point the loader at
# the ICD: `export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json`
# (or wherever nvidia_icd.json is).
#
# Prints JSON lines as it goes (ours: `latent-lab bench`; theirs: scripts/torch_cuda_peer.py),
# the VAE's and the AE's kernel profiles (`bench --profile`: GPU timestamps per kernel), then
# the table.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${LATENT_LAB_BIN:-target/release/latent-lab}
PYTHON=${PYTHON:-python3}
KINDS=${KINDS:-"vae ae dae sparse contractive cvae conv_ae conv_vae"}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ ! -x "$BIN" ]; then
  echo "bench-gpu: no $BIN: run \`cargo build --release\` or set LATENT_LAB_BIN" >&2
  exit 1
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  echo "bench-gpu: no Vulkan loader (libvulkan.so.1): see the comment at the top of $0 for how to bring it" >&2
  exit 1
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# The adapter wgpu picks, and that it is hardware (a software one would make this a CPU run).
first=$("$BIN" bench --model vae --backend gpu --steps 5 2>&1 | tail -n 1)
echo "$first"
case "$first" in
  *'"backend":"gpu"'*) ;;
  *) echo "bench-gpu: the GPU backend did not start: $first" >&2; exit 1 ;;
esac
case "$first" in
  *lavapipe* | *llvmpipe* | *SwiftShader*) echo "bench-gpu: warning: the adapter is a software renderer, not a GPU (VK_DRIVER_FILES?)" >&2 ;;
esac

for k in $KINDS; do
  "$BIN" bench --model "$k" --backend gpu | sed 's/^{/{"who":"ours-gpu",/' | tee -a "$out"
done
for k in vae ae; do
  "$BIN" bench --model "$k" --backend cpu | sed 's/^{/{"who":"ours-cpu",/' | tee -a "$out"
done
for k in vae ae; do
  echo "# $k: GPU time per kernel (timestamp queries)"
  "$BIN" bench --model "$k" --backend gpu --steps 50 --profile | tail -n +2 ||
    echo "bench-gpu: no kernel profile for $k (above: why)" >&2
done
PYTHONUNBUFFERED=1 "$PYTHON" scripts/torch_cuda_peer.py | tee -a "$out" ||
  echo "bench-gpu: the PyTorch CUDA peer did not run (above: why)" >&2

"$PYTHON" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peer = {r["model"]: r for r in rows if r["who"] == "torch-cuda"}
cpu = {r["model"]: r for r in rows if r["who"] == "ours-cpu"}
print()
print(f"{'model':<12} {'batch':>5} {'ours gpu samples/s':>19} {'ms/step':>9} {'dispatches':>10} {'ours cpu':>10} {'torch cuda':>11} {'gpu/torch':>9}")
for r in rows:
    if r["who"] != "ours-gpu":
        continue
    m = r["model"]
    p, c = peer.get(m), cpu.get(m)
    ratio = f"{r['samples_per_s'] / p['samples_per_s']:.2f}x" if p else "-"
    print(f"{m:<12} {r['batch']:>5} {r['samples_per_s']:>19,.0f} {r['ms_per_step']:>9.3f} "
          f"{r.get('dispatches_per_step') or '-':>10} {c['samples_per_s'] if c else '-':>10} "
          f"{p['samples_per_s'] if p else '-':>11} {ratio:>9}")
PY
