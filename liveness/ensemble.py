"""Ensembles: models of one recipe, trained with different seeds, run as one model.

Trained from scratch on one small dataset, the same recipe gives models whose
scores on a new camera swing with the seed (README: NUAA AUC 0.82-0.95 for
three seeds, 0.957 for their mean). An ensemble is a folder with one card
listing its members' weight files, so the engine, demo, web app, `evaluate`
and `calibrate` use it like any other model.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from liveness.cards import ModelCard, card_path_for, is_plain_name, model_stem, sha256_of
from liveness.engine import load_card
from liveness.errors import InputError, ModelLoadError

log = logging.getLogger(__name__)

# what every member must share: the engine crops, feeds and reads all of them as one
SHARED_FIELDS = ("input_size", "crop_scale", "color_order", "class_names", "real_class", "detector")


def make_ensemble(models: Sequence[str | Path], out_dir: Path, name: str = "ensemble") -> Path:
    """Copy the members' runtime files into `out_dir` beside one card; returns the card's path.

    The threshold is the mean of the members' thresholds, a starting point:
    set one for your camera with `liveness calibrate`.
    """
    if not is_plain_name(name):
        raise InputError(f"the ensemble's name must be a plain file name, got {name!r}")
    stems = [model_stem(Path(m)) for m in models]
    if len(stems) < 2:
        raise InputError(f"an ensemble needs at least two models, got {len(stems)}")
    cards = [load_card(stem) for stem in stems]
    _check_compatible(stems, cards)
    out_dir.mkdir(parents=True, exist_ok=True)
    members, files = [], {}
    for i, (stem, card) in enumerate(zip(stems, cards, strict=True)):
        member = f"{name}.member{i}"
        file_name = _runtime_file(stem, card)  # e.g. m.tflite -> ensemble.member0.tflite
        copy = member + file_name.removeprefix(stem.name)
        shutil.copy2(stem.parent / file_name, out_dir / copy)
        files[copy] = sha256_of(out_dir / copy)
        members.append(member)
    ensemble = _ensemble_card(cards, name, files, tuple(members))
    path = card_path_for(out_dir / name)
    ensemble.save(path)
    log.info("ensemble of %d models: %s", len(members), path)
    return path


def _ensemble_card(
    cards: list[ModelCard], name: str, files: dict[str, str], members: tuple[str, ...]
) -> ModelCard:
    """The first member's card (they agree on how to feed them) with the ensemble's own facts."""
    thresholds = [card.threshold for card in cards]
    sources = "; ".join(f"{t:.4f}: {c.threshold_source}" for t, c in zip(thresholds, cards, strict=True))
    return cards[0].replace(
        name=name,
        architecture=f"ensemble({', '.join(sorted({c.architecture for c in cards}))})x{len(cards)}",
        threshold=float(np.mean(thresholds)),
        threshold_source=f"mean of the members' thresholds ({sources}); "
        "set one for your camera with `liveness calibrate`",
        training_data={"members": [card.training_data for card in cards]},
        metrics={"members": [card.metrics for card in cards]},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        files=files,
        members=members,
    )


def _runtime_file(stem: Path, card: ModelCard) -> str:
    """The file the engine runs: the exported `.tflite`, else the `.keras` (3-4x larger)."""
    for suffix in (".tflite", ".keras"):
        if stem.name + suffix in card.files:
            return stem.name + suffix
    raise ModelLoadError(f"the card of {stem} lists no .tflite or .keras file")


def _check_compatible(stems: list[Path], cards: list[ModelCard]) -> None:
    first = cards[0]
    for stem, card in zip(stems, cards, strict=True):
        if card.members:
            raise ModelLoadError(f"{stem} is itself an ensemble; list its members instead")
        differ = [f for f in SHARED_FIELDS if getattr(card, f) != getattr(first, f)]
        if differ:
            raise ModelLoadError(
                f"{stem} cannot join an ensemble with {stems[0]}: they differ in {', '.join(differ)}"
            )
