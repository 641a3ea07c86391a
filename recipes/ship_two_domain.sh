#!/usr/bin/env bash
# How the shipped default liveness/assets/livenessnet_x3.* is made (it passed the rule below on
# its first run, 2026-11-28): trained on both labelled datasets the project has, the tutorial's
# LivenessNet (32 px, face box) trained on Replay-Attack train + NUAA (two labs, two cameras),
# seeds 42 7 1, joined into one ensemble; threshold fixed at the EER of Replay-Attack devel (15
# subjects neither dataset's training part has). About 7 minutes on a 2-core CPU. Needs the
# licence-restricted data in ../shared; writes only below $WORK.
#
# Rule, written down before this recipe's first run: it replaces the default if, at
# that threshold, Replay-Attack devel video-level ACER <= 3 % with no attack species above 5 %
# APCER (the issue's in-dataset targets), and on the six shared videos (a third source, never
# trained on) all 3 real/spoof pairs are ranked right and at least 4 of 6 clips are decided right
# (the current default: 1/3 pairs, 4/6 clips). NUAA cannot judge it: it trained on NUAA. How the
# recipe transfers is measured leave-one-dataset-out (README, "Across datasets").
set -euo pipefail
SHARED=${LIVENESS_SHARED_DIR:-../shared}
WORK=${WORK:-/tmp/liveness-ship-two-domain}
RA=$SHARED/data/replay-attack/index.csv
NUAA=$SHARED/data/nuaa/index.csv
SEEDS=${SEEDS:-"42 7 1"}
NAME=livenessnet_x3

liveness gather --input "$RA" --split train --output "$WORK/ra_train"
liveness gather --input "$NUAA" --output "$WORK/nuaa"
members=()
for seed in $SEEDS; do
    liveness train --dataset "$WORK/ra_train" "$WORK/nuaa" --arch livenessnet --input-size 32 \
        --batch-size 64 --epochs "${EPOCHS:-60}" --patience 12 --seed "$seed" \
        --model "$WORK/seed$seed/livenessnet.keras" --plot "$WORK/seed$seed/plot.png"
    members+=("$WORK/seed$seed/livenessnet.keras")
done
liveness ensemble --model "${members[@]}" --output "$WORK/ensemble" --name "$NAME"
liveness evaluate --model "$WORK/ensemble/$NAME.card.json" --dataset "$RA" --split devel \
    --report-dir "$WORK/reports/replay-attack-devel"
liveness calibrate --model "$WORK/ensemble/$NAME.card.json" \
    --threshold-from "$WORK/reports/replay-attack-devel/report.json" --output "$WORK/shipped"
# what the card says in words (the numbers are already in it, from calibrate)
python - "$WORK/shipped/$NAME.card.json" "$WORK" <<'PY'
import json
import sys
from pathlib import Path

from liveness.cards import ModelCard

path, work = Path(sys.argv[1]), sys.argv[2]
card = ModelCard.load(path)
training_data = json.loads(json.dumps(card.training_data).replace(work, "$WORK"))  # no local paths
card.replace(
    training_data={
        "dataset": "Idiap Replay-Attack train split (15 subjects, 360 videos, 10 frames each) and "
        "the NUAA Photograph Imposter Database (8 subjects, 1,899 images) as shared in ../shared, "
        "faces gathered with res10 by `liveness gather`; see recipes/ship_two_domain.sh",
        "citation": "Chingovska, Anjos, Marcel, BIOSIG 2012 (Replay-Attack); Tan et al., ECCV 2010 (NUAA)",
        **training_data,
    },
    limitations="Two labs' data: one webcam each, print and phone/tablet replay attacks, no masks. "
    "The threshold was fixed on Replay-Attack devel; for another camera set it from that camera's "
    "live faces (`liveness calibrate`). Trained on one of the two datasets, this recipe ranks the "
    "other poorly (README, 'Across datasets'), so expect errors on cameras and attacks unlike "
    "these. A research model, not a production anti-spoofing system.",
).save(path)
PY
echo "shipped model in $WORK/shipped; copy $NAME.* to liveness/assets/"
