#!/usr/bin/env bash
# A shipping candidate that failed the rule below on its first run (2026-11-27; README, "Across
# datasets"): three FASNets (80 px, face box x 1.6) trained on Replay-Attack train with strong
# augmentation, simulated attacks and fine-detail retargeting, seeds 7 1 42, joined into one
# ensemble; threshold fixed at the EER of Replay-Attack devel; NUAA (another lab's camera and
# people) scored at that threshold and recorded in the card.
# About 33 minutes on a 2-core CPU. Needs the licence-restricted data in ../shared; writes only
# below $WORK.
#
# The rule for replacing the first LivenessNet (written down before this recipe's first run):
# at the Replay-Attack devel EER threshold it must meet the intra-dataset targets (video-level ACER
# <= 3 %, no attack species above 5 % APCER) and rank NUAA better than the LivenessNet it replaces
# (frame AUC above 0.617). Among models that meet the in-dataset targets, the cross-dataset number
# decides.
set -euo pipefail
SHARED=${LIVENESS_SHARED_DIR:-../shared}
WORK=${WORK:-/tmp/liveness-ship-fasnet}
RA=$SHARED/data/replay-attack/index.csv
NUAA=$SHARED/data/nuaa/index.csv
SEEDS=${SEEDS:-"7 1 42"}
NAME=fasnet_x3

liveness gather --input "$RA" --split train --margin 1.6 --output "$WORK/ra_train"
members=()
for seed in $SEEDS; do
    liveness train --dataset "$WORK/ra_train" --arch fasnet --input-size 80 --augment strong \
        --synthetic-attacks 0.3 --clean-share 0.3 --retarget 0.7 --lr 5e-4 --batch-size 64 \
        --epochs "${EPOCHS:-30}" --patience 12 --seed "$seed" \
        --model "$WORK/seed$seed/fasnet.keras" --plot "$WORK/seed$seed/plot.png"
    members+=("$WORK/seed$seed/fasnet.keras")
done
liveness ensemble --model "${members[@]}" --output "$WORK/ensemble" --name "$NAME"
liveness evaluate --model "$WORK/ensemble/$NAME.card.json" --dataset "$RA" --split devel \
    --report-dir "$WORK/reports/replay-attack-devel"
liveness evaluate --model "$WORK/ensemble/$NAME.card.json" --dataset "$NUAA" \
    --threshold-from "$WORK/reports/replay-attack-devel/report.json" --report-dir "$WORK/reports/nuaa"
liveness calibrate --model "$WORK/ensemble/$NAME.card.json" \
    --threshold-from "$WORK/reports/replay-attack-devel/report.json" \
    --record "$WORK/reports/nuaa/report.json" --output "$WORK/shipped"
echo "candidate model with its numbers in $WORK/shipped"
