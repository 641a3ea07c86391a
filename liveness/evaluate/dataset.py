"""Evaluation sets: labelled images or videos (with attack species, subject, video) to score.

Accepted: a folder of class subfolders, a YOLO-format dataset (its frames
with one labelled box, judged on that box), or a manifest CSV with at least
`path,label` and optionally `attack` (or `attack_medium` + `attack_content`),
`subject`, `video_id`, `split`. Paths are relative to the manifest's folder.
A gather manifest also gives each crop's face box, so nothing is re-detected.
A video file is one sample until it is scored, then one per scored frame, all
with the video's id (its path unless the manifest gives one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from liveness.data.manifest import MANIFEST_NAME, face_box_in_file, read_rows
from liveness.data.yolo import is_yolo_dataset, single_box_frames
from liveness.errors import DatasetError
from liveness.io.media import VIDEO_SUFFIXES, list_images
from liveness.labels import REAL, canonical

NO_ATTACK = {"", "none", "real"}


@dataclass(frozen=True)
class EvalSample:
    path: Path
    is_real: bool
    attack: str = ""
    subject: str = ""
    video_id: str = ""
    box: tuple[int, int, int, int] | None = None
    frame: int | None = None  # the frame of a video file this sample stands for

    @property
    def label(self) -> str:
        return "real" if self.is_real else "spoof"

    @property
    def is_video(self) -> bool:
        """A whole video file, not yet split into frames."""
        return self.frame is None and self.path.suffix.lower() in VIDEO_SUFFIXES


def load_eval_set(dataset: str | Path, split: str | None = None) -> list[EvalSample]:
    """All samples of `dataset`; a clear `DatasetError` for anything unusable."""
    dataset = Path(dataset)
    if not dataset.exists():
        raise DatasetError(f"dataset not found: {dataset}")
    if dataset.is_dir() and (dataset / MANIFEST_NAME).is_file():
        dataset = dataset / MANIFEST_NAME
    if dataset.is_file():
        samples = _from_csv(dataset, split)
    elif is_yolo_dataset(dataset):
        samples = _from_yolo(dataset)
    else:
        samples = _from_folders(dataset)
    if not samples:
        raise DatasetError(f"{dataset} holds no samples" + (f" with split {split!r}" if split else ""))
    return samples


def _from_folders(root: Path) -> list[EvalSample]:
    samples = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        is_real = _parse_label(folder.name, f"folder {folder}")
        samples += [EvalSample(p, is_real, "" if is_real else "attack") for p in list_images(folder)]
        samples += [
            EvalSample(p, is_real, "" if is_real else "attack", video_id=str(p)) for p in _list_videos(folder)
        ]
    return samples


def _from_yolo(root: Path) -> list[EvalSample]:
    """Frames of a YOLO dataset with exactly one labelled box, judged on that box."""
    return [
        EvalSample(
            image.path, image.label == "real", "" if image.label == "real" else "attack", root.name, box=box
        )
        for image, box in single_box_frames(root)
    ]


def _list_videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


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
    path = root / row["path"]
    video = path.suffix.lower() in VIDEO_SUFFIXES
    return EvalSample(
        path=path,
        is_real=is_real,
        attack="" if is_real else attack_of(row),
        subject=row.get("subject", ""),
        video_id=row.get("video_id", "") or (row["path"] if video else ""),
        box=face_box_in_file(row),
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


def _label_or_none(label: str) -> bool | None:
    word = canonical(label)
    return None if word is None else word == REAL


def _parse_label(label: str, where: str) -> bool:
    value = _label_or_none(label)
    if value is None:
        raise DatasetError(f"{where}: unknown label {label!r}; use real or spoof/fake")
    return value


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
