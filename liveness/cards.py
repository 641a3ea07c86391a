"""Model cards: the JSON file that travels beside every model.

The card, not the weights, says how to feed the model (input size, colour
order, how much context around the face), which output is "real", and the
decision threshold with the way it was chosen. Loading checks the card, so
a model is never run with preprocessing it was not trained with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveness.errors import ModelLoadError
from liveness.labels import REAL_NAMES

CARD_VERSION = 1
LAYOUTS = ("NHWC", "NCHW")
OUTPUTS = ("probabilities", "logits")
# how the context square around a face is cut: the project's (shrunk and shifted to stay inside the frame),
# a square never shrunk whose outside is mirrored (CelebA-Spoof MiniFASNet), or Silent-Face's box of the
# face's own aspect ratio, shrunk and shifted like the project's (stretched to the square input)
CROP_RULES = ("square", "square-reflect", "silentface")
# how a crop is resized to the input: area when shrinking and bilinear when enlarging (the project's),
# bilinear always (Silent-Face), or area when shrinking and Lanczos when enlarging (CelebA-Spoof MiniFASNet)
RESIZES = ("area", "linear", "lanczos")


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to run and judge one liveness model."""

    name: str
    architecture: str
    input_size: int
    class_names: tuple[str, ...]
    real_class: str = "real"
    threshold: float = 0.5
    threshold_source: str = "default 0.5 (not tuned)"
    crop_scale: float = 1.0
    color_order: str = "RGB"
    input_range: str = "0-255 float32, scaled inside the model"
    detector: str = "res10"
    training_data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    terms: str = ""
    limitations: str = ""
    created: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    members: tuple[str, ...] = ()  # an ensemble's member models, stems beside the card
    member_crop_scales: tuple[float, ...] = ()  # one context per member, when members differ in it
    crop_rule: str = "square"
    resize: str = "area"
    layout: str = "NHWC"
    outputs: str = "probabilities"
    card_version: int = CARD_VERSION

    def __post_init__(self) -> None:
        if len(self.class_names) < 2:
            raise ModelLoadError(f"model card: expected at least 2 class names, got {self.class_names}")
        if self.real_class not in self.class_names:
            raise ModelLoadError(
                f"model card: real class {self.real_class!r} is not among {self.class_names}"
            )
        if not 8 <= self.input_size <= 1024:
            raise ModelLoadError(f"model card: expected input_size in [8, 1024], got {self.input_size}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ModelLoadError(f"model card: expected threshold in [0, 1], got {self.threshold}")
        if self.crop_scale < 1.0:
            raise ModelLoadError(f"model card: expected crop_scale >= 1, got {self.crop_scale}")
        if self.color_order not in ("RGB", "BGR"):
            raise ModelLoadError(f"model card: expected colour order RGB or BGR, got {self.color_order}")
        if not all(is_plain_name(m) for m in self.members):
            raise ModelLoadError(
                f"model card: members must be file names beside the card, got {self.members}"
            )
        self._check_conventions()

    def _check_conventions(self) -> None:
        """The input and output conventions an imported model declares, each from a known set."""
        for value, known, what in (
            (self.crop_rule, CROP_RULES, "crop rule"),
            (self.resize, RESIZES, "resize"),
            (self.layout, LAYOUTS, "layout"),
            (self.outputs, OUTPUTS, "outputs"),
        ):
            if value not in known:
                raise ModelLoadError(f"model card: unknown {what} {value!r}; known: {', '.join(known)}")
        if self.member_crop_scales and len(self.member_crop_scales) != len(self.members):
            raise ModelLoadError(
                f"model card: {len(self.member_crop_scales)} member crop scales "
                f"for {len(self.members)} members"
            )
        if any(scale < 1.0 for scale in self.member_crop_scales):
            raise ModelLoadError(f"model card: expected crop scales >= 1, got {self.member_crop_scales}")
        _ = self.pixel_scale  # refuses an input range it cannot apply

    @property
    def pixel_scale(self) -> float:
        """What 0-255 pixels are multiplied by before the model sees them (`input_range` 0-255 or 0-1)."""
        if self.input_range.startswith("0-255"):
            return 1.0
        if self.input_range.split()[0] == "0-1":
            return 1.0 / 255.0
        raise ModelLoadError(f"model card: input range {self.input_range!r} is neither 0-255 nor 0-1")

    def crop_scales(self) -> tuple[float, ...]:
        """The context of each member (or of the one model): its crop side over the face box side."""
        return self.member_crop_scales or (self.crop_scale,)

    @property
    def real_index(self) -> int:
        return self.class_names.index(self.real_class)

    def label_for(self, score: float) -> str:
        """'real' when the real-probability reaches the threshold, else 'spoof'."""
        return "real" if score >= self.threshold else "spoof"

    def replace(self, **changes: Any) -> ModelCard:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["class_names"] = list(self.class_names)
        data["members"] = list(self.members)
        data["member_crop_scales"] = list(self.member_crop_scales)
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        known = {f.name for f in dataclasses.fields(cls)}
        missing = [n for n in ("name", "architecture", "input_size", "class_names") if n not in data]
        if missing:
            raise ModelLoadError(f"model card: missing keys {missing}")
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["class_names"] = tuple(str(c) for c in data["class_names"])
        kwargs["members"] = tuple(str(m) for m in data.get("members", ()))
        try:
            kwargs["member_crop_scales"] = tuple(float(v) for v in data.get("member_crop_scales", ()))
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ModelLoadError(f"model card: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> ModelCard:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelLoadError(f"model card not found: {path}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"model card {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelLoadError(f"model card {path}: expected a JSON object")
        return cls.from_dict(data)


def is_plain_name(name: str) -> bool:
    """A file name in the card's own folder: no path, so a card cannot point elsewhere."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


CARD_SUFFIX = ".card.json"
MODEL_SUFFIXES = (CARD_SUFFIX, ".keras", ".tflite", ".onnx", ".npz")


def model_stem(path: Path) -> Path:
    """`m.keras`, `m.tflite` and `m.card.json` all name the model stem `m`."""
    path = Path(path)
    for suffix in MODEL_SUFFIXES:
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


def card_path_for(model_path: Path) -> Path:
    """The card of `m.keras` / `m.tflite` is `m.card.json` beside it."""
    stem = model_stem(model_path)
    return stem.with_name(stem.name + CARD_SUFFIX)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def real_class_of(class_names: tuple[str, ...] | list[str]) -> str:
    """Pick the class that means 'live face'; refuses label sets it cannot interpret."""
    lowered = [c.lower() for c in class_names]
    for name in REAL_NAMES:
        if name in lowered:
            return class_names[lowered.index(name)]
    raise ModelLoadError(
        f"none of the classes {list(class_names)} means 'real' (expected one of {REAL_NAMES})"
    )


def check_label_file_name(path: Path) -> None:
    """Refuse a pickle name for the `--le` file (checked before training, not after it)."""
    if Path(path).suffix.lower() in (".pickle", ".pkl", ".pck"):
        raise ModelLoadError(
            f"refusing to write {path}: label names are stored as JSON, never pickled; use e.g. --le le.json"
        )


def write_label_names(path: Path, class_names: list[str] | tuple[str, ...]) -> None:
    """The tutorial's `--le` file, as JSON instead of a pickled LabelEncoder."""
    path = Path(path)
    check_label_file_name(path)
    path.write_text(json.dumps({"classes": list(class_names)}, indent=2) + "\n", encoding="utf-8")


def read_label_names(path: Path) -> list[str]:
    """Read a `--le` JSON file; a pickle is refused because unpickling runs arbitrary code."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelLoadError(f"label file not found: {path}") from None
    if raw[:1] == b"\x80" or path.suffix.lower() in (".pickle", ".pkl", ".pck"):
        raise ModelLoadError(
            f"{path} looks like a pickle; pickles can run arbitrary code and are never loaded. "
            "Use the JSON label file written by `liveness train --le FILE.json`."
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelLoadError(f"label file {path} is not JSON") from None
    classes = data.get("classes") if isinstance(data, dict) else data
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ModelLoadError(f'label file {path}: expected {{"classes": [names...]}}')
    return classes
