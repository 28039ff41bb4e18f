#!/usr/bin/env bash
# Learning signal on real data: SimCLR + GeoPair on nordland64 (train split), from the ImageNet
# EfficientNet-Lite0, 64x128, CPU. Reports the wall time of training and test Recall@N of the
# off-the-shelf model and of the trained best.pt (selected on val). Figures go to BENCHMARKS.md.
# Usage: [LR=3e-4] [EPOCHS=2] [MINUTES=14] [INIT=CHECKPOINT.pt] benchmarks/train_simclr_nordland.sh [RUN_DIR]
#   RUN_DIR defaults to /tmp/simclr_nordland and must not hold a run; INIT continues from a checkpoint's weights.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data/nordland64
RUN=${1:-/tmp/simclr_nordland}
PY=${PY:-.venv/bin/python}
LR=${LR:-3e-4}
EPOCHS=${EPOCHS:-2}
MINUTES=${MINUTES:-14}
INIT_ARGS=(); if [ -n "${INIT:-}" ]; then INIT_ARGS=(--checkpoint "$INIT"); fi
start=$(date +%s)
"$PY" -m vgssl_train train --method simclr --dataset "$DATA" --out "$RUN" --resize 64 128 "${INIT_ARGS[@]}" \
  --batch-size 32 --lr "$LR" --epochs "$EPOCHS" --mining partial --mining-sample 500 --max-minutes "$MINUTES" \
  --checkpoint-every 20 --no-progress
echo "training wall time: $(( $(date +%s) - start )) s"
"$PY" -m vgssl_train eval --dataset "$DATA" --split test --resize 64 128 --weights imagenet --json "$RUN/test_off_the_shelf.json"
"$PY" -m vgssl_train eval --dataset "$DATA" --split test --checkpoint "$RUN/best.pt" --json "$RUN/test_trained.json"
