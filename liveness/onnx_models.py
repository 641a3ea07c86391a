"""Bring a published ONNX face-PAD model into the engine: copy it and write its card.

Face anti-spoofing models are published as ONNX with their own conventions: the
context around the face and how it is cut, the input size, colour order, pixel
range and layout, which output is "live", and whether the outputs are logits.
The card written here records all of them, plus the sha256 of every file and
where the threshold came from, so `check`, `demo`, `evaluate`, `serve`,
`calibrate` and the Python API run the model through the same engine as the
project's own (a model with several members, such as the Silent-Face pair, is
one card with a context per member).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveness.cards import ModelCard, sha256_of
from liveness.engine.backends import ONNXBackend, softmax
from liveness.errors import ConfigError, ModelLoadError

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD_SOURCE = (
    "default 0.5 (not tuned for this engine's faces: set one with `liveness calibrate`)"
)


@dataclass(frozen=True)
class OnnxConventions:
    """How the model's authors feed it: what `liveness import-onnx` asks for."""

    input_size: int
    crop_scales: tuple[float, ...]  # one for every member, or one for all
    crop_rule: str = "square"
    resize: str = "area"
    color_order: str = "RGB"
    input_range: str = "0-1"
    layout: str = "NCHW"
    real_index: int = 0
    outputs: str = "auto"  # "logits", "probabilities", or "auto": read from the model's answer
    threshold: float | None = None
    threshold_source: str | None = None
    terms: str = ""


def import_onnx(
    models: list[Path], output: Path, name: str, conventions: OnnxConventions, overwrite: bool = False
) -> Path:
    """Copy `models` (one model, or the members of one) beside a new card in `output`; returns the card.

    Each model is opened and run once on a grey batch before anything is written,
    so a wrong input size or layout is refused with the model's own shape.
    """
    models = [Path(m) for m in models]
    for model in models:
        if not model.is_file():
            raise ConfigError(f"ONNX model not found: {model}")
    scales = _scales_for(conventions.crop_scales, len(models))
    names = [f"{name}.onnx"] if len(models) == 1 else [f"{name}.member{i}.onnx" for i in range(len(models))]
    output = Path(output)
    targets = [output / n for n in [*names, f"{name}.card.json"]]
    taken = [t.name for t in targets if t.exists()]
    if taken and not overwrite:
        raise ConfigError(f"{output} already holds {taken}; pass --overwrite to replace them")
    outputs = {_outputs_of(model, conventions) for model in models}
    if len(outputs) != 1:
        raise ModelLoadError(f"the members disagree on their outputs: {sorted(outputs)}")
    kind, classes = outputs.pop()
    if not 0 <= conventions.real_index < classes:
        raise ConfigError(f"--real-index {conventions.real_index}, but the model has {classes} outputs")
    card = _card(name, names, models, scales, kind, classes, conventions)  # refuses bad conventions
    output.mkdir(parents=True, exist_ok=True)
    for model, target in zip(models, targets, strict=False):
        shutil.copyfile(model, target)
    card_path = output / f"{name}.card.json"
    card.save(card_path)
    log.info(
        "imported %d model file(s) as %s (%s outputs, %d classes)", len(models), card_path, kind, classes
    )
    return card_path


def _scales_for(scales: tuple[float, ...], members: int) -> tuple[float, ...]:
    if len(scales) == 1:
        return scales * members
    if len(scales) != members:
        raise ConfigError(f"{len(scales)} crop scales for {members} models: give one, or one per model")
    return scales


def _outputs_of(model: Path, conventions: OnnxConventions) -> tuple[str, int]:
    """The kind of the model's outputs (as given, or seen on a grey batch) and how many classes it has."""
    size = conventions.input_size
    shape = (3, size, size) if conventions.layout == "NCHW" else (size, size, 3)
    backend = ONNXBackend(model, shape, threads=1)
    grey = np.full((2, *shape), 0.5 if conventions.input_range == "0-1" else 128.0, dtype=np.float32)
    try:
        answer = backend.run(grey)
    except Exception as exc:  # onnxruntime's own error types: a shape or type the model does not take
        raise ModelLoadError(f"{model} does not run on a {shape} input: {exc}") from None
    if answer.ndim != 2 or answer.shape[1] < 2:
        raise ModelLoadError(f"{model} answers with shape {answer.shape}; expected (N, classes >= 2)")
    kind = conventions.outputs
    if kind == "auto":
        sums_to_one = np.allclose(answer.sum(axis=1), 1.0, atol=1e-3) and (answer >= 0).all()
        kind = "probabilities" if sums_to_one else "logits"
    elif kind == "probabilities" and not np.allclose(answer.sum(axis=1), 1.0, atol=1e-3):
        log.warning("%s: outputs do not sum to 1 (%s); are they logits?", model, softmax(answer)[0])
    return kind, int(answer.shape[1])


def _card(
    name: str,
    names: list[str],
    models: list[Path],
    scales: tuple[float, ...],
    kind: str,
    classes: int,
    conventions: OnnxConventions,
) -> ModelCard:
    import onnxruntime

    digests = [sha256_of(m) for m in models]
    class_names = tuple("real" if i == conventions.real_index else f"attack{i}" for i in range(classes))
    members = tuple(n[: -len(".onnx")] for n in names) if len(names) > 1 else ()
    threshold = 0.5 if conventions.threshold is None else conventions.threshold
    source = conventions.threshold_source or (
        DEFAULT_THRESHOLD_SOURCE if conventions.threshold is None else "given with --threshold"
    )
    return ModelCard(
        name=name,
        architecture=f"imported ONNX ({len(models)} model{'s' if len(models) > 1 else ''})",
        input_size=conventions.input_size,
        class_names=class_names,
        real_class="real",
        threshold=threshold,
        threshold_source=source,
        crop_scale=scales[0],
        member_crop_scales=scales if len(set(scales)) > 1 else (),
        crop_rule=conventions.crop_rule,
        resize=conventions.resize,
        color_order=conventions.color_order,
        input_range=conventions.input_range,
        layout=conventions.layout,
        outputs=kind,
        training_data={
            "source": "imported: trained elsewhere, on data this project has not seen",
            "original_files": {str(m.resolve()): d for m, d in zip(models, digests, strict=True)},
        },
        terms=conventions.terms or "unknown: the model's own licence and its training data's terms apply",
        limitations="measured by this project only where `liveness evaluate` says so",
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        versions={"onnxruntime": onnxruntime.__version__},
        files=dict(zip(names, digests, strict=True)),
        members=members,
    )
