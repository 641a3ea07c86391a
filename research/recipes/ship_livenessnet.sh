#!/usr/bin/env bash
# How the first default model (LivenessNet on Replay-Attack train alone; shipped until the two-domain ensemble replaced it,
# now replaced by recipes/ship_two_domain.sh) was made (2026-11-27, 2-core CPU, ~4 min).
# Needs the licence-restricted Replay-Attack frames in ../shared; writes only below $WORK.
set -euo pipefail
SHARED=${LIVENESS_SHARED_DIR:-../shared}
WORK=${WORK:-/tmp/liveness-ship}
liveness gather --input "$SHARED/data/replay-attack/index.csv" --split train --output "$WORK/ra_train"
liveness train --dataset "$WORK/ra_train" --model "$WORK/livenessnet.keras" --le "$WORK/le.json" \
    --plot "$WORK/plot.png" --arch livenessnet --input-size 32 --epochs 60 --patience 12 --seed 42
echo "model, .tflite and model card in $WORK"
