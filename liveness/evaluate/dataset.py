"""Evaluation sets: labelled images (with attack species, subject, video) to score.

Accepted: a folder of class subfolders, or a manifest CSV with at least
`path,label` and optionally `attack` (or `attack_medium` + `attack_content`),
`subject`, `video_id`, `split`. Paths are relative to the manifest's folder.
A gather manifest also gives each crop's face box, so nothing is re-detected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from liveness.data.manifest import MANIFEST_NAME, read_rows
from liveness.data.sources import list_images
from liveness.errors import DatasetError

REAL_LABELS = {"real", "live", "bonafide", "bona fide", "genuine"}
ATTACK_LABELS = {"spoof", "fake", "attack"}
NO_ATTACK = {"", "none", "real"}


@dataclass(frozen=True)
class EvalSample:
    path: Path
    is_real: bool
    attack: str = ""
    subject: str = ""
    video_id: str = ""
    box: tuple[int, int, int, int] | None = None

    @property
    def label(self) -> str:
        return "real" if self.is_real else "spoof"


def load_eval_set(dataset: str | Path, split: str | None = None) -> list[EvalSample]:
    """All samples of `dataset`; a clear `DatasetError` for anything unusable."""
    dataset = Path(dataset)
    if not dataset.exists():
        raise DatasetError(f"dataset not found: {dataset}")
    if dataset.is_dir() and (dataset / MANIFEST_NAME).is_file():
        dataset = dataset / MANIFEST_NAME
    samples = _from_csv(dataset, split) if dataset.is_file() else _from_folders(dataset)
    if not samples:
        raise DatasetError(f"{dataset} holds no samples" + (f" with split {split!r}" if split else ""))
    return samples


def _from_folders(root: Path) -> list[EvalSample]:
    samples = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        is_real = _parse_label(folder.name, f"folder {folder}")
        samples += [EvalSample(p, is_real, "" if is_real else "attack") for p in list_images(folder)]
    return samples


def _from_csv(manifest: Path, split: str | None) -> list[EvalSample]:
    rows = read_rows(manifest)
    columns = set(rows[0]) if rows else set()
    missing = {"path", "label"} - columns
    if missing:
        raise DatasetError(f"{manifest}: missing column(s) {sorted(missing)}; found {sorted(columns)}")
    if split is not None:
        if "split" not in columns:
            raise DatasetError(f"{manifest}: --split {split} given but there is no 'split' column")
        rows = [r for r in rows if r["split"] == split]
    bad = [i + 2 for i, r in enumerate(rows) if _label_or_none(r["label"]) is None]
    if bad:
        raise DatasetError(f"{manifest}: unknown labels on line(s) {_lines(bad)}; use real or spoof/fake")
    absent = [i + 2 for i, r in enumerate(rows) if not (manifest.parent / r["path"]).is_file()]
    if absent:
        raise DatasetError(f"{manifest}: {len(absent)} file(s) do not exist, line(s) {_lines(absent)}")
    return [sample_from_row(manifest.parent, r) for r in rows]


def sample_from_row(root: Path, row: dict[str, str]) -> EvalSample:
    """One manifest or index row as a sample; its path is relative to `root`."""
    is_real = bool(_label_or_none(row["label"]))
    return EvalSample(
        path=root / row["path"],
        is_real=is_real,
        attack="" if is_real else attack_of(row),
        subject=row.get("subject", ""),
        video_id=row.get("video_id", ""),
        box=_box_in_crop(row),
    )


def attack_of(row: dict[str, str]) -> str:
    """The PAI species: `attack`, else `attack_medium-attack_content`, else 'attack'."""
    attack = row.get("attack", "").strip().lower()
    if attack not in NO_ATTACK:
        return attack
    medium = row.get("attack_medium", "").strip().lower()
    content = row.get("attack_content", "").strip().lower()
    if medium not in NO_ATTACK:
        return f"{medium}-{content}" if content not in NO_ATTACK else medium
    return "attack"


def _box_in_crop(row: dict[str, str]) -> tuple[int, int, int, int] | None:
    """For a gather manifest, the face box inside the saved crop."""
    keys = ("x", "y", "w", "h", "crop_x", "crop_y")
    if not all(row.get(k, "").lstrip("-").isdigit() for k in keys):
        return None
    x, y, w, h, cx, cy = (int(row[k]) for k in keys)
    return max(0, x - cx), max(0, y - cy), w, h


def _label_or_none(label: str) -> bool | None:
    label = label.strip().lower()
    if label in REAL_LABELS:
        return True
    if label in ATTACK_LABELS:
        return False
    return None


def _parse_label(label: str, where: str) -> bool:
    value = _label_or_none(label)
    if value is None:
        raise DatasetError(f"{where}: unknown label {label!r}; use real or spoof/fake")
    return value


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
