#!/usr/bin/env bash
# Adapt a liveness model to your camera (README, "Adapt to your camera"): train FASNet on your
# two-class faces plus live faces from the camera it will serve, weighed equally, with three seeds;
# join the three into one ensemble; set its threshold from live faces of other people at that camera.
#
#   recipes/adapt_to_camera.sh TWO_CLASS_FACES CAMERA_LIVE_FACES HELD_OUT_LIVE OUT
#
# TWO_CLASS_FACES and CAMERA_LIVE_FACES: folders or manifests written by `liveness gather --margin 1.6`
# (real/ and fake/ subfolders; the camera set may hold live faces only). HELD_OUT_LIVE: videos or
# image folders of live people who are in neither set. About 13 minutes a seed on a 2-core CPU.
set -euo pipefail
if [ $# -ne 4 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
base=$1 live=$2 held=$3 out=$4
seeds=${SEEDS:-"1 2 3"}  # EPOCHS and SEEDS may be overridden (the tests run a quick version)
members=()
for seed in $seeds; do
    liveness train --dataset "$base" "$live" --balance-datasets --arch fasnet --input-size 80 \
        --augment strong --synthetic-attacks 0.3 --clean-share 0.3 --lr 5e-4 --epochs "${EPOCHS:-30}" \
        --patience 12 --seed "$seed" --model "$out/seed$seed/fasnet.keras" --plot "$out/seed$seed/plot.png"
    members+=("$out/seed$seed/fasnet.keras")
done
liveness ensemble --model "${members[@]}" --output "$out/ensemble"
liveness calibrate --model "$out/ensemble/ensemble.card.json" --live "$held" --bpcer 0.05 \
    --output "$out/calibrated"
echo "use it with: liveness demo --model $out/calibrated/ensemble.card.json"
