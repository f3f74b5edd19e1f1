#!/usr/bin/env bash
# Trains every README quality model and evaluates it on its test split: the digit rows on the
# full MNIST (10,000 test digits), the others on the bundled sets of `make data`. One `eval`
# JSON line per model goes to stdout (and to $OUT/results.jsonl); the weights stay in $OUT.
# Usage:
#   scripts/quality.sh [MNIST_DIR] [OUT_DIR] [MODEL…]
# MODEL names a row below (vae ae beta0.5 beta1 beta4 ae32 dae32 sparse contractive cvae
# conv16 ae16 fashion-vae fashion-conv16 fashion-ae16 shuttle-ae bleeding-conv1d
# bleeding-ae ecg-conv1d); all by default. The series rows train 50 epochs of their few
# windows; every other row trains 10 epochs. Training runs on the CPU executor, the fastest
# path on a machine without a GPU (a convolutional epoch of 60k digits takes about 15 s).
set -euo pipefail

MNIST=${1:-../shared/data/mnist}
OUT=${2:-quality}
shift $(($# < 2 ? $# : 2))
mkdir -p "$OUT"
cargo build --release --quiet --bin latent-lab
BIN=${BIN:-target/release/latent-lab}

# name | train flags | extra eval flags | epochs (10 unless given) | data (MNIST unless given)
ROWS=(
  "vae|--model vae --hidden 400 --latent 20 --batch 128 --lr 0.001|"
  "ae|--model ae --hidden 512,256 --latent 2 --batch 256 --lr 0.001|"
  "beta0.5|--model vae --hidden 400 --latent 20 --batch 128 --beta 0.5|"
  "beta1|--model vae --hidden 400 --latent 20 --batch 128 --beta 1|"
  "beta4|--model vae --hidden 400 --latent 20 --batch 128 --beta 4|"
  "ae32|--model ae --hidden 400 --latent 32 --batch 128 --loss mse|--noise gaussian --noise-amount 0.5"
  "dae32|--model dae --hidden 400 --latent 32 --batch 128 --loss mse --noise gaussian --noise-amount 0.5|"
  "sparse|--model sparse --hidden 400 --latent 64 --batch 128 --sparsity kl --sparsity-target 0.05 --sparsity-weight 3|"
  "contractive|--model contractive --hidden 400 --latent 32 --batch 128 --loss mse --contraction 1|"
  "cvae|--model cvae --hidden 400 --latent 2 --batch 128|"
  "conv16|--model conv_ae --channels 16,32 --latent 16 --batch 128 --loss mse||10"
  "ae16|--model ae --hidden 43 --latent 16 --batch 128 --loss mse||10"
  "fashion-vae|--model vae --hidden 400 --latent 20 --batch 128||10|fashion"
  "fashion-conv16|--model conv_ae --channels 16,32 --latent 16 --batch 128 --loss mse||10|fashion"
  "fashion-ae16|--model ae --hidden 43 --latent 16 --batch 128 --loss mse||10|fashion"
  "shuttle-ae|--model ae --hidden 32 --latent 4 --batch 128|--pca --normal|10|shuttle"
  "bleeding-conv1d|--model conv1d_ae --window 64 --stride 1 --channels 16,32 --latent 2 --batch 64|--window 64 --stride 1 --pca --normal|50|bleeding"
  "bleeding-ae|--model ae --window 64 --stride 1 --hidden 32 --latent 2 --batch 64|--window 64 --stride 1 --pca --normal|50|bleeding"
  "ecg-conv1d|--model conv1d_ae --window 64 --stride 1 --channels 16,32 --latent 2 --batch 64|--window 64 --stride 1 --pca --normal|50|ecg"
)

want=" $* "
for row in "${ROWS[@]}"; do
  IFS='|' read -r name train eval epochs data <<<"$row"
  if [[ $# -gt 0 && $want != *" $name "* ]]; then continue; fi
  data=${data:-$MNIST}
  # shellcheck disable=SC2086  # the flag strings split on purpose
  "$BIN" train $train --epochs "${epochs:-10}" --seed 1 --backend cpu --data "$data" --json \
    --out "$OUT/$name.safetensors" >"$OUT/$name.train.jsonl"
  # shellcheck disable=SC2086
  line=$("$BIN" eval --weights "$OUT/$name.safetensors" --data "$data" --backend cpu $eval)
  echo "{\"row\":\"$name\",${line#\{}" | tee -a "$OUT/results.jsonl"
done
