"""One label vocabulary for gather, train, evaluate and YOLO datasets."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from liveness.data.datasets import load_samples
from liveness.evaluate.dataset import load_eval_set
from liveness.labels import ATTACK, REAL, canonical


@pytest.mark.parametrize("word", ["real", "Live", " bonafide ", "bona fide", "genuine"])
def test_every_live_spelling_means_real(word):
    assert canonical(word) == REAL


@pytest.mark.parametrize("word", ["spoof", "FAKE", "attack", "print", "replay", "mask"])
def test_every_attack_spelling_means_attack(word):
    assert canonical(word) == ATTACK


def test_an_unknown_word_means_nothing():
    assert canonical("maybe") is None and canonical("") is None


def test_a_bonafide_manifest_trains_as_it_evaluates(tmp_path):
    rows = []
    for i, label in enumerate(["bonafide", "attack", "genuine", "print"] * 2):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), np.full((40, 40, 3), 40 * (i % 5), np.uint8))
        rows.append({"path": str(path), "label": label, "subject": f"s{i % 4}"})
    manifest = tmp_path / "faces.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "label", "subject"])
        writer.writeheader()
        writer.writerows(rows)
    training = {s.path.name: s.label for s in load_samples(manifest)}
    evaluation = {s.path.name: s.is_real for s in load_eval_set(manifest)}
    assert set(training.values()) == {REAL, ATTACK}
    assert {name: label == REAL for name, label in training.items()} == evaluation
