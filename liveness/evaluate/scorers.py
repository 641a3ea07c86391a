"""Scorers: anything that maps an image and its face boxes to real-probabilities.

The project's models (through the engine), the MiniFASNet reference and the
LBP + SVM baseline all implement this one interface, so they are measured by
the same harness on the same faces.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from liveness.engine import LivenessEngine
from liveness.errors import ModelLoadError
from liveness.evaluate.dataset import EvalSample
from liveness.io.media import read_image
from liveness.preprocess import reflect_square, silent_face_box
from liveness.types import Face


class Scorer(Protocol):
    name: str
    threshold: float

    def score(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Probability that each face is real, in the order given."""
        ...


class EngineScorer:
    """A project model run by the inference engine (its own crop, runtime and threshold)."""

    def __init__(self, engine: LivenessEngine, name: str | None = None) -> None:
        self.engine = engine
        self.name = name or engine.card.name
        self.threshold = engine.threshold

    def score(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        return np.array([v.score for v in self.engine.score_faces(image, list(faces))], dtype=np.float64)


class MiniFASNetScorer:
    """The reference pair MiniFASNetV2 (2.7x context) + V1SE (4.0x) through onnxruntime.

    Inputs are 80x80 BGR in 0-255, NCHW. The two softmax outputs are summed;
    the score is the summed 'real' probability / 2, as in the original code.
    """

    MODELS = (("MiniFASNetV2.onnx", 2.7), ("MiniFASNetV1SE.onnx", 4.0))
    name = "minifasnet"
    threshold = 0.5

    def __init__(self, folder: str | Path, threads: int = 2) -> None:
        folder = Path(folder)
        missing = [name for name, _ in self.MODELS if not (folder / name).is_file()]
        if missing:
            raise ModelLoadError(f"{folder} lacks {missing}")
        self.sessions = [(_onnx_session(folder / name, threads), scale) for name, scale in self.MODELS]

    def score(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        if not faces:
            return np.empty(0)
        height, width = image.shape[:2]
        total = np.zeros((len(faces), 3))
        for session, scale in self.sessions:
            crops = np.stack([self._crop(image, f, scale, width, height) for f in faces])
            name = session.get_inputs()[0].name
            # the exported models have a fixed batch of 1
            logits = np.concatenate([session.run(None, {name: crop[None]})[0] for crop in crops])
            total += _softmax(logits)
        return total[:, 1] / 2.0

    @staticmethod
    def _crop(image: np.ndarray, face: Face, scale: float, width: int, height: int) -> np.ndarray:
        x, y, w, h = silent_face_box(face.box, scale, width, height)
        patch = cv2.resize(image[y : y + h + 1, x : x + w + 1], (80, 80))
        return patch.transpose(2, 0, 1).astype(np.float32)


class CelebAMiniFASNetScorer:
    """The CelebA-Spoof MiniFASNet reference (`models/celeba-minifasnet`) through onnxruntime.

    Its own crop: a square 1.5x the face box's longer side, centred, never shrunk
    or shifted; what falls outside the frame is mirrored (reflect-101), then the
    square is resized to 128 px (Lanczos when enlarging, area otherwise). Input
    RGB in 0-1, NCHW; output logits with index 0 = real.
    """

    FILE = "best_model.onnx"
    SIZE = 128
    name = "celeba_minifasnet"
    threshold = 0.5

    def __init__(self, folder: str | Path, threads: int = 2) -> None:
        self.session = _onnx_session(Path(folder) / self.FILE, threads)

    def score(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        if not faces:
            return np.empty(0)
        batch = np.stack([celeba_crop(image, f.box, self.SIZE) for f in faces])
        name = self.session.get_inputs()[0].name
        logits = self.session.run(None, {name: batch})[0]
        return _softmax(logits)[:, 0]


def celeba_crop(image: np.ndarray, box: tuple[int, int, int, int], size: int = 128) -> np.ndarray:
    """The CelebA MiniFASNet input of one face: CHW float32 RGB in 0-1 (see the scorer)."""
    square = reflect_square(image, box, 1.5)
    side = square.shape[0]
    ratio = size / side
    new = int(side * ratio)
    interp = cv2.INTER_LANCZOS4 if ratio > 1 else cv2.INTER_AREA
    resized = cv2.resize(square, (new, new), interpolation=interp)
    if new < size:
        resized = cv2.copyMakeBorder(resized, 0, size - new, 0, size - new, cv2.BORDER_REFLECT_101)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
    return (rgb.transpose(2, 0, 1) / 255.0).astype(np.float32)


def _onnx_session(path: Path, threads: int = 2):  # -> onnxruntime.InferenceSession
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelLoadError("the ONNX references need onnxruntime: pip install onnxruntime") from None
    if not path.is_file():
        raise ModelLoadError(f"reference model not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


REFERENCES = {
    "silentface": (MiniFASNetScorer, "minifasnet"),
    "celeba": (CelebAMiniFASNetScorer, "celeba-minifasnet"),
}


def reference_scorer(name: str, models_dir: Path, threads: int = 2) -> Scorer:
    """A reference scorer by name ('silentface', 'celeba') from the shared models folder
    (`threads`: onnxruntime's, one per process when several processes score at once)."""
    if name not in REFERENCES:
        raise ModelLoadError(f"unknown reference {name!r}; known: {sorted(REFERENCES)}")
    cls, folder = REFERENCES[name]
    return cls(Path(models_dir) / folder, threads)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


LBP_SETTINGS = ((8, 1, 3), (8, 2, 1), (16, 2, 1))  # (points, radius, grid): Määttä et al. 2011


def lbp_features(face_bgr: np.ndarray, size: int = 64, colour: bool = False) -> np.ndarray:
    """Multi-scale uniform LBP histograms of the face: u2(8,1) on a 3x3 grid, u2(8,2), u2(16,2),
    of its grey levels, or with `colour` of each HSV and YCrCb channel (colour texture, after
    Boulkenafet, Komulainen and Hadid, IEEE TIFS 2016: recaptures lose chroma detail that grey
    levels do not show)."""
    face = cv2.resize(face_bgr, (size, size), interpolation=cv2.INTER_AREA)
    if not colour:
        return _lbp_histograms(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), size)
    spaces = (cv2.COLOR_BGR2HSV, cv2.COLOR_BGR2YCrCb)
    channels = [c for space in spaces for c in cv2.split(cv2.cvtColor(face, space))]
    return np.concatenate([_lbp_histograms(c, size) for c in channels])


def _lbp_histograms(channel: np.ndarray, size: int) -> np.ndarray:
    from skimage.feature import local_binary_pattern

    parts = []
    for points, radius, grid in LBP_SETTINGS:
        codes = local_binary_pattern(channel, points, radius, method="uniform")
        step = size // grid
        for i in range(grid):
            for j in range(grid):
                cell = codes[i * step : (i + 1) * step, j * step : (j + 1) * step]
                hist = np.bincount(cell.astype(np.int64).ravel(), minlength=points + 2).astype(np.float64)
                parts.append(hist / max(hist.sum(), 1.0))
    return np.concatenate(parts)


class LBPSVMScorer:
    """Classic baseline: multi-scale LBP histograms + an RBF SVM, fitted in memory (never pickled)."""

    def __init__(self, seed: int = 0, colour: bool = False) -> None:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        # Platt scaling fitted on 5-fold out-of-fold decisions, then one SVM on all the data: what
        # SVC(probability=True) did before scikit-learn 1.9 deprecated it
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        svm = SVC(C=10.0, gamma="scale", class_weight="balanced", random_state=seed)
        self.model = make_pipeline(
            StandardScaler(), CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
        )
        self.threshold = 0.5
        self.colour = colour
        self.name = "lbp_svm_colour" if colour else "lbp_svm"

    def fit(self, features: np.ndarray, is_real: np.ndarray) -> LBPSVMScorer:
        self.model.fit(features, np.asarray(is_real, dtype=int))
        return self

    def fit_faces(self, samples: Sequence[EvalSample], faces: Sequence[Face | None]) -> LBPSVMScorer:
        """Fit on the detected faces of labelled images (images without a face are left out)."""
        from tqdm import tqdm

        feats, labels = [], []
        for sample, face in tqdm(list(zip(samples, faces, strict=True)), desc="LBP features", leave=False):
            if face is not None:
                image = read_image(sample.path)
                feats.append(self._features(image, face))
                labels.append(sample.is_real)
        return self.fit(np.stack(feats), np.array(labels))

    def score(self, image: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        if not faces:
            return np.empty(0)
        feats = np.stack([self._features(image, f) for f in faces])
        return self.model.predict_proba(feats)[:, 1]

    def _features(self, image: np.ndarray, face: Face) -> np.ndarray:
        return lbp_features(image[face.y : face.y + face.h, face.x : face.x + face.w], colour=self.colour)
