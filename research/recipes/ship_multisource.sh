#!/usr/bin/env bash
# A default model trained on many cameras, people and attack instruments: FASNet (64 px, 1.5x the face
# box, our own network trained from scratch) on every corpus source (the shared Replay-Attack train and
# NUAA frames, and the approved catalogue's tutorial datasets), threshold at the EER of the training
# run's held-out groups (other people and repositories of those sources, not one dataset's devel split).
# Needs the fetched catalogue mirrors and ../shared; writes only below $WORK. About 60 minutes on 2 cores.
#
# Rule, written down before this recipe's first run. The candidate setting is FASNet 64 px (fasnet-bn9:
# BatchNorm momentum 0.9, amended before the first complete run, whose first fold never validated at
# 0.99 in six short epochs), crop 1.5, strong augmentation, batch 32, with the teachers' mean score
# as a soft target at weight W, W in {0, 0.5}
# chosen by the quick source-held-out yardstick's mean AUC (research/cross_source.py --mode quick;
# within 0.01 the simpler W=0). It replaces the shipped default only if all of these hold:
#   (a) on the quick yardstick, its mean AND its worst left-out-group AUC exceed the shipped default's
#       on the same faces by more than the seed noise: 0.05, the spread of mean AUC between seeds
#       measured for FASNet trainings before (docs/across_datasets.md), until a second-seed yardstick
#       run measures it (amended before the first run: the session had time for two runs, not three);
#       the shipped default trained on Replay-Attack and NUAA, so its numbers on those two groups are
#       in-sample: the comparison favours the default;
#   (b) Replay-Attack devel (never trained on) video-level ACER <= 3 % at the shipped threshold;
#   (c) <= 1 ms a face through the engine (benchmarks/speed.py) and < 5 MB on disk.
# If any fails, the default stays and the README says which and why.
# Amendment (written before any run of it): a further candidate is the same network distilled from
# teacher views (research/recipes/teacher_views.py: 8 augmented views per face, each scored by both teachers;
# --teacher-views BANK --teacher-weight 1 --augment none). It must pass (a)-(c) as above; it
# replaces the W candidate only if its quick mean AUC is higher by more than 0.01. VIEWS=1 selects it.
set -euo pipefail
SHARED=${LIVENESS_SHARED_DIR:-../shared}
MIRRORS=${MIRRORS:-/work/.mirror}
WORK=${WORK:-/tmp/liveness-ship-multisource}
W=${W:-0}
SEED=${SEED:-42}
NAME=fasnet_multisource

[ -f "$WORK/corpus/manifest.csv" ] || python recipes/build_corpus.py --mirrors "$MIRRORS" --output "$WORK/corpus"
[ -f "$WORK/corpus/teachers.csv" ] || python recipes/score_teachers.py --corpus "$WORK/corpus"
python recipes/multisource.py split --work "$WORK" --corpus "$WORK/corpus"
teacher_args=(--augment strong)
if [ "$W" != "0" ]; then teacher_args+=(--teacher-scores "$WORK/teacher.csv" --teacher-weight "$W"); fi
if [ "${VIEWS:-0}" = "1" ]; then
    BANK="$WORK/corpus/views-c1.5-s64-k${NVIEWS:-8}.npz"
    [ -f "$BANK" ] || python research/recipes/teacher_views.py --corpus "$WORK/corpus" --manifest "$WORK/train.csv" \
        --views "${NVIEWS:-8}"
    teacher_args=(--augment none --teacher-views "$BANK" --teacher-weight 1)
fi
liveness train --dataset "$WORK/train.csv" --arch fasnet-bn9 --input-size 64 --crop-scale 1.5 \
    --batch-size 32 --lr 2e-3 --epochs "${EPOCHS:-30}" --patience 6 --seed "$SEED" \
    "${teacher_args[@]}" --model "$WORK/model/$NAME.keras" --plot "$WORK/model/plot.png"
# the card names every source, its commit and its terms (no local paths)
python recipes/multisource.py card --work "$WORK" --shared "$SHARED" --card "$WORK/model/$NAME.card.json" \
    --limitations "Webcam frames and phone/monitor/TV replays of tutorial users, two labs' datasets; few \
print attacks, no masks. The threshold is the EER of held-out people and repositories of the \
training sources. A research model, not a production anti-spoofing system."
liveness evaluate --model "$WORK/model/$NAME.card.json" --dataset "$SHARED/data/replay-attack/index.csv" \
    --split devel --report-dir "$WORK/reports/replay-attack-devel"
echo "model in $WORK/model; Replay-Attack devel report in $WORK/reports/replay-attack-devel"
